"""Two measures of how close an architecture's Table 1 cells come to the paper's, fixed on
2026-12-02 before any result of the networks that fit text and tables (`alexnet_text_tables`,
`alexnet_text_tables_p5`) existed, and applied alike to every AlexNet architecture.

Corresponding layers: a layer of ours corresponds to the paper's layer of the same name when its
weight tensor has the size Table 1 gives for it (so the text's AlexNet, whose first convolution has
4,800 weights and whose classifier 1,920, is compared on Layers 2-5 only; fully connected hidden
layers, which Table 1 does not show, never count). Cells: those layers x batch sizes 64-512 at 200
minibatches, each our mean over repeats, point masses counted Gaussian (the paper's rule).

- `distance`: mean |ours - paper| in percentage points over the cells.
- `slope_error`: per layer, the least-squares slope of % Gaussian against log2(batch size) over
  64-512 (percentage points per doubling), ours and the paper's over the same four batch sizes; the
  measure is the mean |ours - paper| over the corresponding layers.

Judgement, fixed with them: an architecture is clearly closer to the paper than the baseline
(`alexnet`) when both measures are lower and its distance is lower by more than twice the standard
deviation of the baseline's distance across training seeds (`seed_spread`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .reader import paper_tables

RULE = "gauss_pct_incl_degenerate"
BATCHES = (64, 128, 256, 512)


def paper_cells(n_batches: int = 200) -> pd.DataFrame:
    """Table 1's AlexNet cells at `n_batches`: layer, batch_size, weight_size, paper (%
    Gaussian)."""
    p = paper_tables()
    p = p[
        (p.table == 1)
        & (p.model == "alexnet")
        & (p.n_batches == n_batches)
        & p.batch_size.isin(BATCHES)
    ]
    return p.rename(columns={"gauss_pct_mean": "paper"})[
        ["layer", "batch_size", "weight_size", "paper"]
    ]


def cells(g: pd.DataFrame, model: str, n_batches: int = 200) -> pd.DataFrame:
    """Our mean per corresponding cell of `model` (rows of one architecture, any factor already
    chosen) beside the paper's: layer, batch_size, ours, paper."""
    g = g[(g.model == model) & (g.n_batches == n_batches) & g.batch_size.isin(BATCHES)]
    ours = (
        g.groupby(["layer", "batch_size"]).agg(ours=(RULE, "mean"), d=("d", "first")).reset_index()
    )
    out = ours.merge(paper_cells(n_batches), on=["layer", "batch_size"])
    return out[out.d == out.weight_size][["layer", "batch_size", "ours", "paper"]].reset_index(
        drop=True
    )


def distance(c: pd.DataFrame) -> float:
    """Mean |ours - paper| (pp) over the cells of `cells`."""
    return float((c.ours - c.paper).abs().mean()) if len(c) else float("nan")


def slopes(c: pd.DataFrame) -> pd.DataFrame:
    """Per layer: slope of ours and of the paper's % Gaussian against log2(batch) (pp per
    doubling)."""
    rows = []
    for layer, part in c.groupby("layer", sort=False):
        if part.batch_size.nunique() < 2:
            continue
        x = np.log2(part.batch_size.to_numpy(float))
        rows.append({"layer": layer, "ours": float(np.polyfit(x, part.ours, 1)[0]),
                     "paper": float(np.polyfit(x, part.paper, 1)[0])})
    return pd.DataFrame(rows, columns=["layer", "ours", "paper"])


def slope_error(c: pd.DataFrame) -> float:
    """Mean |slope ours - slope paper| (pp per doubling) over the layers of `cells`."""
    s = slopes(c)
    return float((s.ours - s.paper).abs().mean()) if len(s) else float("nan")


def seed_spread(g: pd.DataFrame, model: str = "alexnet", n_batches: int = 200) -> tuple[float, int]:
    """(standard deviation of `distance` across training seeds, number of seeds) for `model` at its
    baseline protocol (no recipe or capture option, final checkpoint)."""
    base = g[(g.model == model) & (g.stage == "capture") & (g.checkpoint_epoch == g.epochs)]
    for col in ("protocol", "recipe"):
        if col in base:
            base = base[base[col].isna() | (base[col].astype(str).isin(["", "{}", "nan"]))]
    d = [distance(cells(part, model, n_batches)) for _, part in base.groupby("seed")]
    return (float(np.std(d, ddof=1)) if len(d) > 1 else float("nan")), len(d)


def judge(c_variant: pd.DataFrame, c_base: pd.DataFrame, spread: float) -> str:
    """The fixed judgement: 'clearly closer', 'not clearly closer' or 'farther'."""
    dv, db = distance(c_variant), distance(c_base)
    sv, sb = slope_error(c_variant), slope_error(c_base)
    if dv < db - 2 * spread and sv < sb:
        return "clearly closer"
    return "farther" if dv > db and sv > sb else "not clearly closer"


def architectures(g: pd.DataFrame, baseline: str = "alexnet", variants=None,
                  n_batches: int = 200) -> pd.DataFrame:
    """Both measures for the baseline and each variant present in the protocol rows `g` (seed 0, no
    recipe or capture option, final checkpoint), each on its own corresponding layers, with the
    judgement against the baseline as declared above: architecture, layers, cells, distance,
    slope_error, judgement; the seed spread and its number of seeds in `attrs`."""
    from .protocol_study import VARIANTS, with_factors
    variants = VARIANTS.get(baseline, ()) if variants is None else variants
    f = with_factors(g, baseline, n_batches)
    spread, seeds = seed_spread(g, baseline, n_batches)
    base = cells(f[f.factor == "baseline"], baseline, n_batches)
    rows = []
    for arch in (baseline, *variants):
        factor = "baseline" if arch == baseline else f"architecture={arch}"
        c = cells(f[f.factor == factor], arch, n_batches)
        if not len(c):
            continue
        verdict = (
            "baseline"
            if arch == baseline
            else judge(c, base, spread) if len(base) else "no baseline"
        )
        rows.append({"architecture": arch, "layers": c.layer.nunique(), "cells": len(c),
                     "distance": distance(c), "slope_error": slope_error(c), "judgement": verdict})
    out = pd.DataFrame(rows, columns=["architecture", "layers", "cells", "distance", "slope_error",
                                      "judgement"])
    out.attrs.update(seed_spread=spread, seeds=seeds)
    return out
