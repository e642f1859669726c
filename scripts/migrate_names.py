"""Rename columns, the scale and the preset to one meaning per name (issue 12, item 5) in results folders.

    python scripts/migrate_names.py data/results/cpu            # one results folder
    python scripts/migrate_names.py data/results --exclude protocol   # every folder; paper -> gpu-short
    python scripts/migrate_names.py FOLDER --dry-run            # say what would change, write nothing

Columns: the counting rules gauss_pct_paper -> gauss_pct_incl_degenerate (point masses count as
Gaussian, the paper's rule) and gauss_pct_strict -> gauss_pct_excl_degenerate; the significance level
alpha -> significance_level (gaussianity); tail indices alpha_mohammadi -> tail_index_mohammadi,
mle_alpha -> mle_tail_index, mle_beta -> mle_skewness, alpha -> tail_index, beta -> skewness
(alpha_stable.csv) and the tail_index table's
alpha_* -> tail_index_*. Names: the scale `paper` (our shortened GPU run) -> `gpu-short`, the preset
`paper` (the paper's recipe) -> `paper-recipe`, where manifest.json records them.

Only the header line of each CSV / CSV.gz changes: every value keeps its bytes. The ledger's per-table
sha256 covers column names (`sgnlib.store.rows_digest`), so each committed configuration's digest is
recomputed from its renamed rows (row counts are unchanged); a folder that fails `verify` before is
left alone. Run under the folder's lock. Idempotent: a second run changes nothing.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sgnlib.store import LEDGER, TABLES, ResultStore, rows_digest  # noqa: E402

TAIL = {"alpha_mohammadi": "tail_index_mohammadi", "mle_alpha": "mle_tail_index", "mle_beta": "mle_skewness",
        **{f"alpha_{s}": f"tail_index_{s}" for s in ("median_all", "median_nongaussian", "pooled",
                                                      "pooled_no_point_mass")}}
GAUSS = {"gauss_pct_paper": "gauss_pct_incl_degenerate", "gauss_pct_strict": "gauss_pct_excl_degenerate"}
# the bare `alpha` is the significance level in the gaussianity table
# and in alpha_stable.csv's one-row-per-(column, backend) layout the stable law's alpha and beta
COLUMNS = {"gaussianity": {**GAUSS, "alpha": "significance_level"},
           "alpha_stable": {**TAIL, "alpha": "tail_index", "beta": "skewness"}}
DEFAULT = {**GAUSS, **TAIL}
SCALES = {"paper": "gpu-short"}
PRESETS = {"paper": "paper-recipe"}


def renames(table: str) -> dict:
    return COLUMNS.get(table, DEFAULT)


def _split(path: Path) -> tuple[str, bytes, str]:
    """(table name, file bytes uncompressed, suffix)."""
    raw = path.read_bytes()
    if path.name.endswith(".csv.gz"):
        return path.name[:-7], gzip.decompress(raw), ".csv.gz"
    return path.name[:-4], raw, ".csv"


def new_header(header: bytes, mapping: dict) -> bytes:
    cols = next(csv.reader([header.decode()]))
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([mapping.get(c, c) for c in cols])
    return out.getvalue().encode()


def rename_table(path: Path, dry_run: bool = False) -> list[str]:
    """Rewrite the header line of one CSV / CSV.gz; return the columns renamed ('old -> new')."""
    table, body, suffix = _split(path)
    end = body.find(b"\n")
    header, rest = (body, b"") if end < 0 else (body[:end], body[end:])
    cr = header.endswith(b"\r")
    header = header[:-1] if cr else header
    mapping = renames(table)
    old = next(csv.reader([header.decode()]))
    done = [f"{c} -> {mapping[c]}" for c in old if c in mapping]
    clash = set(mapping[c] for c in old if c in mapping) & set(old)
    if clash:
        raise SystemExit(f"{path}: both old and new names present ({sorted(clash)}); fix by hand")
    if not done or dry_run:
        return done
    data = new_header(header, mapping) + (b"\r" if cr else b"") + rest
    if suffix == ".csv.gz":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
            f.write(data)
        data = buf.getvalue()
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return done


def update_ledger(folder: Path, dry_run: bool = False) -> int:
    """Recompute each committed configuration's per-table sha256 from the current tables; return lines changed."""
    p = folder / LEDGER
    if not p.exists():
        return 0
    store = ResultStore(folder)
    texts = {t: store._text(t) for t in TABLES}
    groups = {t: dict(tuple(df.groupby("config_id", sort=False))) if df is not None and len(df) else {}
              for t, df in texts.items()}
    lines, changed = p.read_text().split("\n"), 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        entry = json.loads(line)
        new = json.loads(line)
        for t, rec in new["tables"].items():
            rows = groups.get(t, {}).get(entry["config_id"])
            if rows is not None and len(rows) == rec["rows"]:
                rec["sha256"] = rows_digest(rows)
        if new != entry:
            lines[i], changed = json.dumps(new, sort_keys=True), changed + 1
    if changed and not dry_run:
        tmp = p.with_name(f".{p.name}.tmp{os.getpid()}")
        tmp.write_text("\n".join(lines))
        os.replace(tmp, p)
    return changed


def update_manifest(folder: Path, dry_run: bool = False) -> list[str]:
    """The scale and preset names manifest.json records (args.scale, args.preset)."""
    p = folder / "manifest.json"
    if not p.exists():
        return []
    m = json.loads(p.read_text())
    args, done = m.get("args", {}), []
    for key, mapping in (("scale", SCALES), ("preset", PRESETS)):
        if args.get(key) in mapping:
            done.append(f"args.{key}: {args[key]} -> {mapping[args[key]]}")
            args[key] = mapping[args[key]]
    if done and not dry_run:
        text = p.read_text()
        p.write_text(json.dumps(m, indent=1) + ("\n" if text.endswith("\n") else ""))
    return done


def migrate_folder(folder, dry_run: bool = False) -> dict:
    """Migrate one results folder in place; return {file: [changes]}."""
    folder = Path(folder)
    store = ResultStore(folder)
    has_ledger = (folder / LEDGER).exists()
    with store.lock():
        if has_ledger:
            store.verify()  # a folder that disagrees with its ledger is named, not migrated
        out = {}
        tables = sorted([*folder.glob("*.csv"), *folder.glob("*.csv.gz")])
        for path in tables:  # every clash is found before any file is written
            rename_table(path, dry_run=True)
        for path in tables:
            done = rename_table(path, dry_run)
            if done:
                out[path.name] = done
        n = update_ledger(folder, dry_run) if out else 0
        if n:
            out[LEDGER] = [f"sha256 of {n} configuration(s) recomputed"]
        manifest = update_manifest(folder, dry_run)
        if manifest:
            out["manifest.json"] = manifest
        if has_ledger and not dry_run:
            store.verify()
    return out


def is_results_folder(folder: Path) -> bool:
    return (folder / LEDGER).exists() or any(folder.glob("*.csv")) or any(folder.glob("*.csv.gz")) \
        or (folder / "manifest.json").exists()


def migrate(root, dry_run: bool = False, exclude=()) -> dict:
    """A results folder, or a folder of them (data/results): each migrated, `paper` renamed `gpu-short`."""
    root = Path(root)
    if is_results_folder(root):
        return {str(root): migrate_folder(root, dry_run)}
    out = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in exclude):
        target = root / SCALES[sub.name] if sub.name in SCALES else sub
        if target != sub:
            if target.exists():
                raise SystemExit(f"{target} exists beside {sub}; merge them by hand (python -m sgnlib.sweep merge)")
            out[str(sub)] = [f"folder renamed {sub.name} -> {target.name}"]
            if dry_run:
                out[str(target)] = migrate_folder(sub, True)
                continue
            sub.rename(target)
        out[str(target)] = migrate_folder(target, dry_run)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="a results folder, or data/results for all of them")
    ap.add_argument("--exclude", action="append", default=[], help="a subfolder to leave alone (repeatable)")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    res = migrate(a.folder, a.dry_run, tuple(a.exclude))
    for folder, changes in res.items():
        items = changes.items() if isinstance(changes, dict) else [("", changes)]
        print(f"{folder}: {'nothing to change' if not changes else ''}")
        for name, what in items:
            for w in what:
                print(f"  {name + ': ' if name else ''}{w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
