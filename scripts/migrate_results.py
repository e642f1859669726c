"""Move a results folder written before the transactional store (no ledger.jsonl) into it.

    python scripts/migrate_results.py data/results/cpu [--dry-run]

Each row's configuration is rebuilt from its own columns (stage, model, epochs, seed, subset, data
source and sha256, the stage's fields; the recipe was always the default one then) into a
`sgnlib.config.Config`, whose id replaces the old `config_id` (kept as `legacy_config_id`). Rows a
configuration wrote twice (a sweep that listed it twice) are kept once. Every value is copied as the
text it was, and each configuration is committed with its ledger line, so `verify` passes after.
The old tables are replaced only when the whole folder has migrated.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sgnlib.config import STAGE_FIELDS, Config  # noqa: E402
from sgnlib.store import LEDGER, TABLES, ResultStore  # noqa: E402

# what identifies one row inside a configuration's rows (duplicates of it are dropped)
ROW_KEY = {"gaussianity": ("layer",), "berry_esseen": ("layer",), "tail_index": ("layer", "bin_lo"),
           "moments": ("layer", "bin_lo"), "training": ("epoch",), "examples": ("layer", "dim", "sample")}


def _value(field: str, text: str):
    if text == "":
        return None
    if field in ("checkpoint_epochs", "layers"):
        return tuple(json.loads(text))
    if field in ("stage", "model", "data_source", "data_sha256"):
        return text
    return int(float(text))


def config_of(row: pd.Series) -> Config:
    """The Config of an old row (text values)."""
    fields = ("stage", "model", "epochs", "seed", "subset", "data_source", "data_sha256")
    d = {f: _value(f, row.get(f, "")) for f in fields}
    for f in STAGE_FIELDS[d["stage"]]:
        d[f] = _value(f, row.get(f, ""))
    return Config.from_dict({k: v for k, v in d.items() if v is not None})


def migrate(folder: Path, dry_run: bool = False) -> dict:
    """Migrate `folder` in place; returns {table: rows} of the migrated tables."""
    folder = Path(folder)
    if (folder / LEDGER).exists():
        raise SystemExit(f"{folder} already has a {LEDGER}; nothing to migrate")
    texts = {}
    for t in TABLES:
        p = ResultStore(folder).existing(t)
        if p.exists():
            texts[t] = pd.read_csv(p, dtype=str, keep_default_na=False)
    configs, rows = {}, {}
    for t, df in texts.items():
        for old_id, part in df.groupby("config_id", sort=False):
            cfg = config_of(part.iloc[0])
            part = part.drop_duplicates(subset=list(ROW_KEY[t]), keep="first")
            part = part.assign(legacy_config_id=old_id, config_id=cfg.config_id)
            part = part[["config_id"] + [c for c in part.columns if c != "config_id"]]
            configs[cfg.config_id] = cfg
            rows.setdefault(cfg.config_id, {})[t] = part.reset_index(drop=True)
    if dry_run:
        return {t: sum(len(r[t]) for r in rows.values() if t in r) for t in texts}
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        store = ResultStore(tmp)
        for cid, by_table in rows.items():
            store.commit(configs[cid].to_dict(), by_table, cid)
        store.verify()
        for t in texts:
            shutil.copyfile(store.path(t), ResultStore(folder).path(t))
            if (legacy := ResultStore(folder).legacy_path(t)) is not None:
                legacy.unlink(missing_ok=True)  # a plain table written before it was compressed
        shutil.copyfile(Path(tmp) / LEDGER, folder / LEDGER)
    ResultStore(folder).verify()
    new_id = {r["legacy_config_id"].iloc[0]: cid for cid, by in rows.items() for r in by.values()}
    for other in sorted(folder.glob("*.csv")):  # derived tables outside the store (alpha_stable.csv)
        if other.stem in TABLES:
            continue
        df = pd.read_csv(other, dtype=str, keep_default_na=False)
        if "config_id" in df.columns and "legacy_config_id" not in df.columns:
            df.insert(df.columns.get_loc("config_id") + 1, "legacy_config_id", df.config_id)
            df["config_id"] = df.config_id.map(lambda v: new_id.get(v, v))
            df.to_csv(other, index=False)
    return {t: len(ResultStore(folder).read(t, text=True)) for t in texts}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    for t, n in migrate(Path(a.folder), a.dry_run).items():
        print(f"{t}: {n} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
