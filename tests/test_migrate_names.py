"""scripts/migrate_names.py on hand-made results folders: headers renamed, values byte-identical, ledger
digests recomputed so `verify` passes, manifest names updated, idempotent, paper -> gpu-short."""
import gzip
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from sgnlib.store import ResultStore

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("migrate_names", ROOT / "scripts" / "migrate_names.py")
mn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mn)

OLD_G = ["config_id", "layer", "d", "gauss_pct_paper", "gauss_pct_strict", "degenerate_pct", "alpha", "stage"]
NEW_G = ["config_id", "layer", "d", "gauss_pct_incl_degenerate", "gauss_pct_excl_degenerate", "degenerate_pct",
         "significance_level", "stage"]


def make_folder(folder: Path, manifest: bool = False) -> None:
    """Two configurations committed through the store with the old names, plus a derived alpha_stable.csv."""
    s = ResultStore(folder)
    for i, cid in enumerate(("capture-a", "capture-b")):
        g = pd.DataFrame({"config_id": cid, "layer": ["Layer 1", "Layer 4"], "d": [10, 20],
                          "gauss_pct_paper": [90.0 + i, "0.30000000000000004"], "gauss_pct_strict": [80.5, ""],
                          "degenerate_pct": [1.0, 2.0], "alpha": 0.05, "stage": "capture"})
        ti = pd.DataFrame({"config_id": cid, "layer": "Layer 1", "bin_lo": [0.0, 0.1], "count_all": [3, 4],
                           "alpha_pooled": [1.5, 1.5], "alpha_median_all": [1.9, ""]})
        ex = pd.DataFrame({"config_id": cid, "layer": "Layer 1", "dim": 3, "sample": [0, 1],
                           "alpha_mohammadi": [1.7, 1.7], "noise": ["1e-08", "-2.5E+03"]})
        s.commit({"stage": "capture", "i": i}, {"gaussianity": g, "tail_index": ti, "examples": ex}, cid)
    (folder / "alpha_stable.csv").write_text("config_id,p,alpha_mohammadi,mle_alpha,mle_beta,mle_error\n"
                                             'capture-a,0.01,1.70,1.65,0.0,"a, b"\ncapture-b,,nan,,,\n')
    if manifest:
        (folder / "manifest.json").write_text(json.dumps({"args": {"scale": "paper", "preset": "paper",
                                                                   "budget": 1.5}}, indent=1))


def body(path: Path) -> bytes:
    raw = path.read_bytes()
    raw = gzip.decompress(raw) if path.suffix == ".gz" else raw
    return raw[raw.index(b"\n"):]


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_columns_renamed_values_kept_and_verify_passes(tmp_path):
    f = tmp_path / "cpu"
    make_folder(f)
    before = {p.name: body(p) for p in f.glob("*.csv*")}
    old_ledger = [json.loads(x) for x in (f / "ledger.jsonl").read_text().splitlines()]
    out = mn.migrate(f)[str(f)]
    assert set(out) == {"gaussianity.csv.gz", "tail_index.csv.gz", "examples.csv.gz", "alpha_stable.csv",
                        "ledger.jsonl"}
    assert {p.name: body(p) for p in f.glob("*.csv*")} == before  # every value byte-identical
    assert list(pd.read_csv(f / "gaussianity.csv.gz").columns) == NEW_G
    assert list(pd.read_csv(f / "alpha_stable.csv").columns) == ["config_id", "p", "tail_index_mohammadi",
                                                                 "mle_tail_index", "mle_skewness", "mle_error"]
    ti = pd.read_csv(f / "tail_index.csv.gz")
    assert {"tail_index_pooled", "tail_index_median_all"} <= set(ti.columns) and "alpha_pooled" not in ti
    assert "tail_index_mohammadi" in pd.read_csv(f / "examples.csv.gz").columns
    assert ResultStore(f).verify() == 2
    g = ResultStore(f).read("gaussianity", text=True)
    assert g.gauss_pct_incl_degenerate.tolist()[1] == "0.30000000000000004" and g.significance_level.iloc[0] == "0.05"
    new_ledger = [json.loads(x) for x in (f / "ledger.jsonl").read_text().splitlines()]
    for a, b in zip(old_ledger, new_ledger):  # only the digests moved
        assert {k: v for k, v in a.items() if k != "tables"} == {k: v for k, v in b.items() if k != "tables"}
        assert {t: r["rows"] for t, r in a["tables"].items()} == {t: r["rows"] for t, r in b["tables"].items()}
        assert all(a["tables"][t]["sha256"] != b["tables"][t]["sha256"] for t in a["tables"])


def test_idempotent_and_dry_run(tmp_path):
    f = tmp_path / "cpu"
    make_folder(f)
    snap = snapshot(f)
    assert mn.migrate(f, dry_run=True)[str(f)]  # says what would change ...
    assert snapshot(f) == snap                  # ... and writes nothing
    mn.migrate(f)
    once = snapshot(f)
    assert mn.migrate(f) == {str(f): {}} and snapshot(f) == once


def test_results_root_renames_paper_and_skips_excluded(tmp_path):
    root = tmp_path / "results"
    make_folder(root / "paper", manifest=True)
    make_folder(root / "protocol")
    untouched = snapshot(root / "protocol")
    out = mn.migrate(root, exclude=("protocol",))
    assert not (root / "paper").exists() and (root / "gpu-short" / "ledger.jsonl").exists()
    assert out[str(root / "paper")] == ["folder renamed paper -> gpu-short"]
    m = json.loads((root / "gpu-short" / "manifest.json").read_text())
    assert m == {"args": {"scale": "gpu-short", "preset": "paper-recipe", "budget": 1.5}}
    assert snapshot(root / "protocol") == untouched
    ResultStore(root / "gpu-short").verify()
    assert mn.migrate(root, exclude=("protocol",)) == {str(root / "gpu-short"): {}}
    # the excluded folder migrates later on its own
    mn.migrate(root / "protocol")
    assert "gauss_pct_incl_degenerate" in pd.read_csv(root / "protocol" / "gaussianity.csv.gz").columns


def test_a_folder_that_fails_verify_is_left_alone(tmp_path):
    f = tmp_path / "cpu"
    make_folder(f)
    p = f / "gaussianity.csv.gz"
    p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes()).replace(b"80.5", b"80.6")))
    snap = snapshot(f)
    with pytest.raises(Exception, match="differ from the ledger"):
        mn.migrate(f)
    assert snapshot(f) == snap


def test_cli_on_a_copy(tmp_path, capsys):
    f = tmp_path / "cpu"
    make_folder(f)
    assert mn.main([str(f)]) == 0
    assert "gauss_pct_paper -> gauss_pct_incl_degenerate" in capsys.readouterr().out
    mn.main([str(f)])
    assert "nothing to change" in capsys.readouterr().out


def test_alpha_stable_per_backend_layout(tmp_path):
    """scripts/fit_alpha_stable.py's layout (one row per column and backend): the law's alpha and beta."""
    f = tmp_path / "cpu"
    f.mkdir()
    (f / "alpha_stable.csv").write_text("config_id,dim,backend,alpha,beta,loc\nc,1,pylevy,1.5,0.0,0.1\n")
    mn.migrate(f)
    assert (f / "alpha_stable.csv").read_text() == ("config_id,dim,backend,tail_index,skewness,loc\n"
                                                   "c,1,pylevy,1.5,0.0,0.1\n")
