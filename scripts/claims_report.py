"""Print the claims table (data/paper/claims.csv) evaluated on every scale, the per-table gaps and the
Gaussianity-over-training diagnostic.

    python scripts/claims_report.py [--scales cpu-300,gpu-short,cpu] [--wide]

--wide prints the full evidence sentence of every claim; by default it is cut to 160 characters.
"""
import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sgnlib import claims  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="cpu-300,gpu-short,cpu")
    ap.add_argument("--wide", action="store_true")
    a = ap.parse_args(argv)
    scales = [s for s in a.scales.split(",") if s]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", None if a.wide else 160)
    pd.set_option("display.max_rows", None)
    results, gaps, directions = [], [], []
    for s in scales:
        tables = claims.load_tables(s)
        results.append(claims.evaluate(s, tables))
        gaps.append(claims.table_gaps(s, tables))
        directions.append(claims.epochs_direction_table(s, tables).assign(scale=s))
    r = pd.concat(results, ignore_index=True)

    print("== Verdicts per scale")
    print(pd.DataFrame({s: claims.counts(r[r.scale == s]) for s in scales}).to_string())
    cut = (lambda t: t) if a.wide else (lambda t: t if len(t) <= 160 else t[:157] + "…")
    for s in scales:
        print(f"\n== Claims, scale {s}")
        for x in r[r.scale == s].itertuples():
            flag = "" if x.applies else "  [outside this scale's design]"
            print(f"{x.id} {x.verdict:<14} {x.paraphrase}{flag}\n     {cut(x.text)}\n     {cut(x.evidence)}")

    print("\n== Per paper table: |Δ| = |ours - paper| in percentage points over the cells we have")
    g = pd.concat(gaps, ignore_index=True)
    print(g[["scale", "table", "model", "n_batches", "cells", "paper_cells", "mean_abs_dpp", "max_abs_dpp", "max_cell",
             "mean_dpp", "paper_mean_std", "ours_mean_std", "repeats"]].round(2).to_string(index=False))

    print("\n== Does more training move our AlexNet Gaussianity (batch 128, 200 batches) toward Table 1?")
    d = pd.concat(directions, ignore_index=True)
    if len(d):
        print(d[["scale", "layer", "epochs", "first", "last", "min", "max", "rho", "change", "late_slope", "paper",
                 "gap", "direction", "toward"]].round(2).to_string(index=False))
    for x in r[r.kind == "training_length_gap"].itertuples():
        print(f"{x.scale}: {x.verdict} — {x.evidence}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
