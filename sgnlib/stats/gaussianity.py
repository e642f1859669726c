"""Percentage of Gaussian weight dimensions per layer (paper, Tables 1-4 and Figures 1-3, 6).

Three counting rules side by side, each a column of the gaussianity table:
- ``gauss_pct_incl_degenerate``: p >= level counts as Gaussian, and point-mass (degenerate) columns
  count as Gaussian too -- the paper's rule ("the Shapiro-Wilk test also recognizes point mass data
  as Gaussian");
- ``gauss_pct_excl_degenerate``: p >= level and not a point mass (point masses count as not Gaussian);
- ``gauss_pct_fdr``: Gaussian unless rejected by Benjamini-Hochberg at `level` over the layer.
`level` is the significance level (column ``significance_level``). Exactly Gaussian noise gives about
100 (1 - level) % under the per-column rules: the null ceiling.
"""
from __future__ import annotations

import pandas as pd
import torch


def benjamini_hochberg(p: torch.Tensor, level: float = 0.05) -> torch.Tensor:
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


def layer_gaussianity(p: torch.Tensor, degenerate: torch.Tensor, level: float = 0.05) -> dict:
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


def gaussianity(per_layer: dict, level: float = 0.05) -> pd.DataFrame:
    """Tidy table, one row per layer, from {layer name: ShapiroResult or (p, degenerate)}."""
    rows = []
    for layer, res in per_layer.items():
        p, deg = (res.p, res.degenerate) if hasattr(res, "degenerate") else res
        rows.append({"layer": layer, **layer_gaussianity(p, deg, level)})
    return pd.DataFrame(rows)
