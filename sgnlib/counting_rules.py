"""Counting and precision: how Table 1's cells change when the same gradients are counted under
other rules (stage `recount`: almost-constant columns as point masses, float16 / bfloat16
rounding, non-finite p-values accepted) or captured from other inputs (the test images, the
commonly used CIFAR std). The judgement was fixed before any recount result existed (preset
`cpu-300`, 2026-12-02 13:21 UTC):

- change of a cell: its % Gaussian (the paper's rule) under a rule and inputs, minus the same cell
  under the paper's rule on the training images (`BASELINE`);
- "explains the gap": the mean change over the cells closes at least `EXPLAINS_SHARE` of the mean
  gap between Table 1 and the baseline on the same cells;
- "a factor": some layer's mean change over the batch sizes exceeds `FACTOR_PP` in magnitude (twice
  the paper's mean standard deviation, the yardstick of `sgnlib.state_search`);
- otherwise "no effect".
"""
from __future__ import annotations

import json

import pandas as pd

from .reader import RULE, paper_grid, paper_tables

BASELINE = ("train", "as_captured")
EXPLAINS_SHARE = 0.5
FACTOR_PP = 2.0
KEYS = ["inputs", "variant"]


def _inputs(protocol) -> str:
    """The capture's `inputs` option from a row's protocol cell (empty: the training images)."""
    if not isinstance(protocol, str) or not protocol.strip():
        return "train"
    return json.loads(protocol).get("inputs", "train")


def cell_changes(recount: pd.DataFrame, model: str = "alexnet", n_batches: int = 200,
                 paper: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (inputs, variant, layer, batch_size) at the final checkpoint: value, baseline,
    change (pp), paper (Table 1's mean) and gap (paper - baseline); repeats averaged."""
    r = recount[(recount.model == model) & (recount.n_batches == n_batches)
                & (recount.checkpoint_epoch == recount.epochs)]
    r = r.assign(inputs=[_inputs(p) for p in r.get("protocol", pd.Series(index=r.index))])
    cells = ["layer", "batch_size"]
    mean = r.groupby(KEYS + cells, as_index=False)[RULE].mean().rename(columns={RULE: "value"})
    base = mean[(mean.inputs == BASELINE[0]) & (mean.variant == BASELINE[1])]
    out = mean.merge(base[cells + ["value"]].rename(columns={"value": "baseline"}), on=cells)
    p = paper_grid(paper_tables() if paper is None else paper, model)
    p = p[p.n_batches == n_batches][cells + ["value"]].rename(columns={"value": "paper"})
    out = out.merge(p, on=cells, how="left")
    return out.assign(change=out.value - out.baseline, gap=out.paper - out.baseline)


def judge(mean_change: float, mean_gap: float, max_layer_change: float) -> str:
    """The fixed judgement (module docstring) of one rule and inputs."""
    if mean_gap > 0 and mean_change >= EXPLAINS_SHARE * mean_gap:
        return "explains the gap"
    if abs(max_layer_change) > FACTOR_PP:
        return "a factor"
    return "no effect"


def effects(changes: pd.DataFrame) -> pd.DataFrame:
    """One row per (inputs, variant) other than the baseline: cells, mean_change, mean_gap,
    share_closed, max_layer_change (the layer mean of largest magnitude), layer, judgement."""
    rows = []
    for (inputs, variant), c in changes.groupby(KEYS, sort=False):
        if (inputs, variant) == BASELINE:
            continue
        by_layer = c.groupby("layer").change.mean()
        worst = by_layer.abs().idxmax()
        mean_change, mean_gap = c.change.mean(), c.gap.mean()
        rows.append({"inputs": inputs, "variant": variant, "cells": len(c),
                     "mean_change": mean_change, "mean_gap": mean_gap,
                     "share_closed": mean_change / mean_gap if mean_gap else float("nan"),
                     "max_layer_change": by_layer[worst], "layer": worst,
                     "judgement": judge(mean_change, mean_gap, by_layer[worst])})
    return pd.DataFrame(rows)
