"""Verdict logic of sgnlib.report on small hand-made result tables (true and false cases)."""
import pandas as pd
import pytest

from sgnlib import report
from sgnlib.store import IntegrityError, ResultStore


def commit(folder, table, df):
    """Commit a hand-made table through the results store, one configuration per config_id."""
    store = ResultStore(folder)
    for cid, part in df.groupby("config_id", sort=False):
        store.commit({"config_id": cid}, {table: part}, cid)


def grid(values, n_batches=(200, 600)):
    """values[(layer, bs, nb)] -> % Gaussian; AlexNet at its final checkpoint."""
    rows = []
    for (layer, bs, nb), v in values.items():
        rows.append({"model": "alexnet", "stage": "capture", "epochs": 10, "checkpoint_epoch": 10, "layer": layer,
                     "batch_size": bs, "n_batches": nb, "repeat": 0, "gauss_pct_incl_degenerate": v,
                     "gauss_pct_excl_degenerate": v,
                     "degenerate_pct": 0.0, "config_id": f"{bs}-{nb}"})
    return pd.DataFrame(rows)


def write(tmp_path, g):
    commit(tmp_path / "s", "gaussianity", g)


def test_trends_reproduced(tmp_path):
    vals = {}
    for layer, base in (("Layer 1", 90), ("Layer 4", 10), ("Layer 2", 50)):
        for bs, inc in ((64, 0), (512, 20)):
            vals[(layer, bs, 200)] = base + inc
            vals[(layer, bs, 600)] = base + inc - 5
    write(tmp_path, grid(vals))
    v = report.verdicts("s", tmp_path).set_index("claim").verdict
    assert v.filter(like="rises with batch size").iloc[0] == "reproduced"
    assert v.filter(like="layer 4 least").iloc[0] == "reproduced"
    assert v.filter(like="600 batches").iloc[0] == "reproduced"
    assert v.filter(like="ResNet-56").iloc[0] == "no data"


def test_trends_not_reproduced(tmp_path):
    vals = {}
    for layer, base in (("Layer 1", 10), ("Layer 4", 90)):
        for bs, inc in ((64, 20), (512, 0)):
            vals[(layer, bs, 200)] = base + inc
            vals[(layer, bs, 600)] = base + inc + 5
    write(tmp_path, grid(vals))
    v = report.verdicts("s", tmp_path).set_index("claim").verdict
    assert v.filter(like="rises with batch size").iloc[0] == "not reproduced"
    assert v.filter(like="layer 4 least").iloc[0] == "not reproduced"
    assert v.filter(like="600 batches").iloc[0] == "not reproduced"


def test_missing_scale_says_no_data(tmp_path):
    v = report.verdicts("nothing", tmp_path)
    assert set(v.verdict) == {"no data"} and len(v) == 8


def test_ours_vs_paper_joins_paper_table():
    vals = {("Layer 1", 128, 200): 93.0}
    t = report.ours_vs_paper(grid(vals), "alexnet", 200)
    assert t.paper_mean.iloc[0] == pytest.approx(94.79) and t.ours_mean.iloc[0] == 93.0


def test_theory_and_discrepancies():
    assert set(report.theory_verdicts().verdict) == {"reproduced"}
    d = report.paper_discrepancies()
    assert d.finding.str.contains("94.79").any() and d.finding.str.contains("4,800").any()


def test_discrepancies_include_the_theorems_read_critically():
    from sgnlib import clt, langevin
    d = report.paper_discrepancies()
    assert list(d.columns) == ["where", "finding"] and d["where"].is_unique
    theorems = d[d["where"].isin([r["where"] for r in clt.findings() + langevin.findings()])]
    assert len(theorems) == 7 and len(d) == 9
    w = d.set_index("where").finding
    assert "min 1.000" in w["Fig 4 discussion"]                      # beta/sigma^3 >= 1, attained at 1
    assert "-> -2" in w["Lemma 2 (eq 40)"] and "D = Δt H" in w["Prop 2 (eq 31, 33)"]


def test_berry_esseen_verdict_ignores_unresolvable_cells(tmp_path):
    rows = []
    for layer in ("Layer 1", "Layer 4"):
        for bs, ks, bound, frac in ((64, 0.3, 1.0, 1.0), (2048, 0.05, 0.04, 0.4)):
            rows.append({"layer": layer, "batch_size": bs, "ks_q50": ks if layer == "Layer 4" else ks / 2,
                         "bound_q50": bound, "frac_ks_below_bound": frac, "null_ks_q90": 0.058,
                         "config_id": f"{bs}"})
    commit(tmp_path / "s", "berry_esseen", pd.DataFrame(rows))
    v = report.verdicts("s", tmp_path).set_index("claim")
    row = v.loc[[c for c in v.index if "Berry-Esseen" in c][0]]
    assert row.verdict == "reproduced" and "2/4" in row.evidence
    rows[0]["frac_ks_below_bound"] = 0.5  # a resolvable cell where the bound fails
    ResultStore(tmp_path / "s").forget({"64"})
    commit(tmp_path / "s", "berry_esseen", pd.DataFrame([r for r in rows if r["config_id"] == "64"]))
    v = report.verdicts("s", tmp_path).set_index("claim")
    assert v.loc[[c for c in v.index if "Berry-Esseen" in c][0]].verdict == "not reproduced"


def test_read_table_shows_committed_rows_and_refuses_edited_tables(tmp_path):
    ex = pd.DataFrame({"config_id": ["a"] * 4, "layer": ["L"] * 4, "dim": [1, 1, 2, 2], "sample": [0, 1, 0, 1],
                       "noise": [0.1, 0.2, 0.3, 0.4]})
    commit(tmp_path / "s", "examples", ex)
    path = ResultStore(tmp_path / "s").path("examples")
    leftover = pd.concat([pd.read_csv(path), ex.assign(config_id="killed")])  # rows of a commit that never finished
    leftover.to_csv(path, index=False)
    assert report.read_table("s", "examples", tmp_path).noise.tolist() == [0.1, 0.2, 0.3, 0.4]
    leftover.assign(noise=leftover.noise * 2).to_csv(path, index=False)  # edited by hand
    with pytest.raises(IntegrityError, match="examples.csv.gz: 1 configuration"):
        report.read_table("s", "examples", tmp_path)


def test_tail_index_verdict_reads_unclipped_bins_as_clipped_at_two(tmp_path):
    """Version-2 tail-index rows keep under/overflow bins out to +-inf: the mean is over estimates clipped to
    [0, 2], so it stays finite and equals what version-1 rows (clipped when computed) give."""
    import numpy as np
    rows = []
    for bs, counts in ((64, [0, 2, 2, 0]), (512, [0, 0, 2, 2])):   # bins [-inf,0) [1.0,1.1) [1.9,2.0) [3,inf)
        for lo, hi, c in zip([-np.inf, 1.0, 1.9, 3.0], [0.0, 1.1, 2.0, np.inf], counts):
            rows.append({"model": "alexnet", "layer": "Layer 1", "epochs": 10, "checkpoint_epoch": 10,
                         "n_batches": 200, "batch_size": bs, "repeat": 0, "bin_lo": lo, "bin_hi": hi,
                         "count_all": c, "count_nongaussian": c, "config_id": f"t{bs}"})
    commit(tmp_path / "s", "tail_index", pd.DataFrame(rows))
    v = report.verdicts("s", tmp_path).set_index("claim")
    row = v.loc[v.index.str.startswith("Tail indices of non-Gaussian dimensions rise")].iloc[0]
    assert row.verdict == "reproduced"
    assert "64: 1.50, 512: 1.98" in row.evidence   # (1.05 + 1.95) / 2 and (1.95 + 2.0) / 2
