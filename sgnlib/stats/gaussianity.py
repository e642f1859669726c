"""Percentage of Gaussian weight dimensions per layer (paper, Tables 1-4 and Figures 1-3, 6).

Three counting rules side by side, each a column of the gaussianity table:
- ``gauss_pct_incl_degenerate``: p >= level counts as Gaussian, and point-mass (degenerate) columns
  count as Gaussian too -- the paper's rule ("the Shapiro-Wilk test also recognizes point mass data
  as Gaussian");
- ``gauss_pct_excl_degenerate``: p >= level and not a point mass (point masses count as not
  Gaussian);
- ``gauss_pct_fdr``: Gaussian unless rejected by Benjamini-Hochberg at `level` over the layer.
`level` is the significance level (column ``significance_level``; default `SIGNIFICANCE_LEVEL`).
Exactly Gaussian noise gives about 100 (1 - level) % under the per-column rules: the null ceiling.

`degenerate_steps` checks a grid of such rows for a share of point masses that rises with the batch
size: more images can only make a column less constant, so a rise beyond noise means the gradients
were computed differently at different batch sizes (e.g. a kernel that leaves rounding residue on
exact zeros at some shapes, or one that flushes small values at others).
"""
from __future__ import annotations

import pandas as pd
import torch

from ..hyperparameters import SIGNIFICANCE_LEVEL


def benjamini_hochberg(p: torch.Tensor, level: float = SIGNIFICANCE_LEVEL) -> torch.Tensor:
    """Boolean mask of hypotheses rejected by the Benjamini-Hochberg step-up procedure."""
    p = torch.as_tensor(p, dtype=torch.float64).flatten()
    m = p.numel()
    order = torch.argsort(p)
    thresholds = level * torch.arange(1, m + 1, dtype=torch.float64, device=p.device) / m
    below = p[order] <= thresholds
    k = int(torch.nonzero(below).max()) + 1 if bool(below.any()) else 0
    reject = torch.zeros(m, dtype=torch.bool, device=p.device)
    reject[order[:k]] = True
    return reject


def layer_gaussianity(p: torch.Tensor, degenerate: torch.Tensor,
                      level: float = SIGNIFICANCE_LEVEL) -> dict:
    """The three percentages (and % degenerate) for one layer's per-dimension p-values."""
    p = torch.as_tensor(p).flatten()
    degenerate = torch.as_tensor(degenerate, dtype=torch.bool).flatten()
    d = p.numel()
    passed = p >= level
    n_deg = int(degenerate.sum())
    return {
        "d": d,
        "gauss_pct_incl_degenerate": 100.0 * int((passed | degenerate).sum()) / d,
        "gauss_pct_excl_degenerate": 100.0 * int((passed & ~degenerate).sum()) / d,
        "degenerate_pct": 100.0 * n_deg / d,
        "gauss_pct_fdr": 100.0 * (d - int(benjamini_hochberg(p, level).sum())) / d,
        "null_ceiling_pct": 100.0 * (1 - level),
        "significance_level": level,
    }


def gaussianity(per_layer: dict, level: float = SIGNIFICANCE_LEVEL) -> pd.DataFrame:
    """Tidy table, one row per layer, from {layer name: ShapiroResult or (p, degenerate)}."""
    rows = []
    for layer, res in per_layer.items():
        p, deg = (res.p, res.degenerate) if hasattr(res, "degenerate") else res
        rows.append({"layer": layer, **layer_gaussianity(p, deg, level)})
    return pd.DataFrame(rows)


def degenerate_steps(table: pd.DataFrame, tol_pp: float = 0.5) -> pd.DataFrame:
    """Rows of a gaussianity grid whose % degenerate exceeds that of a smaller batch size by more
    than `tol_pp` percentage points, with the same layer and every other column in `table` among
    model, checkpoint_epoch, n_batches, bn_mode (repeats averaged). Columns: those keys, batch_size,
    degenerate_pct, floor_pct (the lowest share at a smaller batch size), rise_pp. Empty: no
    step."""
    keys = ["layer"] + [k for k in ("model", "checkpoint_epoch", "n_batches", "bn_mode")
                        if k in table]
    mean = table.groupby(keys + ["batch_size"], dropna=False).degenerate_pct.mean().reset_index()
    mean = mean.sort_values(keys + ["batch_size"])
    floor = mean.groupby(keys, dropna=False).degenerate_pct.transform(lambda s: s.cummin().shift())
    out = mean.assign(floor_pct=floor, rise_pp=mean.degenerate_pct - floor)
    return out[out.rise_pp > tol_pp].reset_index(drop=True)
