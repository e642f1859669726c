"""Tail-index histograms of the noise columns (Figs 7 and 9), the capture stage's `tail_index`
table, computed from the same gradient matrices as its Gaussianity table. One row per layer and bin
of `ALPHA_BINS`, every bin kept:

- `count_all`, `count_nongaussian`: histogram of the UNCLIPPED per-column Mohammadi estimate
  (`sgnlib.stats.mohammadi_alpha`, K1 = largest divisor of K <= sqrt K as Simsekli et al.) over all
  columns and over the columns Shapiro-Wilk rejects (p < `SIGNIFICANCE_LEVEL`). Bins of 0.1 on
  [0, 3) plus an underflow (-inf, 0) and an overflow [3, inf) bin; estimates above 2 are estimator
  noise (clip them for display, and say so). Point-mass columns (constant; NaN estimate, or
  Shapiro-Wilk degenerate) are in no bin: `n_point_mass` counts them, so
  sum(count_all) + n_point_mass = d;
- per layer, repeated on its rows: `d`, `k1`; the medians of the binned estimates
  (`tail_index_median_all`, `tail_index_median_nongaussian`); the pooled estimate as Simsekli et
  al. report it, over the layer's whole noise (`tail_index_pooled`) and without point-mass columns
  (`tail_index_pooled_no_point_mass`); the null band at this n (`null_q05`, `null_q50`,
  `null_q95`: the estimator on Gaussian columns) and `null_median_sw_rejected`, the median alpha of
  Gaussian columns that Shapiro-Wilk rejects at this n (the matched null for the non-Gaussian
  histogram).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .hyperparameters import NULL_D, NULL_SEED, SIGNIFICANCE_LEVEL
from .stats import (default_block_size, matched_null_alpha, mohammadi_alpha, mohammadi_alpha_pooled,
                    null_alpha_band)

ALPHA_BINS = np.concatenate(([-np.inf], np.round(np.arange(0.0, 3.0001, 0.1), 2), [np.inf]))


@lru_cache(maxsize=8)
def null_band(n: int) -> tuple[float, float, float]:
    """5 %, 50 % and 95 % quantiles of the tail-index estimator on NULL_D Gaussian columns of n
    samples."""
    return tuple(float(q) for q in null_alpha_band(n, d=NULL_D, seed=NULL_SEED))


@lru_cache(maxsize=8)
def null_columns(n: int) -> dict:
    """The per-layer null columns at n samples (cached: the same for every layer of a run)."""
    q05, q50, q95 = null_band(n)
    return {"null_q05": q05, "null_q50": q50, "null_q95": q95,
            "null_median_sw_rejected": float(np.median(matched_null_alpha(n, seed=NULL_SEED)))}


def _median(a: np.ndarray) -> float:
    return float(np.median(a)) if a.size else float("nan")


def tail_index_histogram(layer: str, matrix, shapiro_result) -> pd.DataFrame:
    """The tail-index rows of one layer's [n_batches, d] gradient matrix (module docstring)."""
    noise = matrix - matrix.mean(0)
    alpha = mohammadi_alpha(noise).cpu().numpy()
    point_mass = np.isnan(alpha) | shapiro_result.degenerate.cpu().numpy()
    nongauss = (shapiro_result.p < SIGNIFICANCE_LEVEL).cpu().numpy() & ~point_mass
    c_all, _ = np.histogram(alpha[~point_mass], bins=ALPHA_BINS)
    c_ng, _ = np.histogram(alpha[nongauss], bins=ALPHA_BINS)
    K, d = matrix.shape
    return pd.DataFrame({
        "layer": layer, "bin_lo": ALPHA_BINS[:-1], "bin_hi": ALPHA_BINS[1:],
        "count_all": c_all, "count_nongaussian": c_ng, "n_point_mass": int(point_mass.sum()),
        "d": d,
        "k1": default_block_size(K), "tail_index_median_all": _median(alpha[~point_mass]),
        "tail_index_median_nongaussian": _median(alpha[nongauss]),
        "tail_index_pooled": mohammadi_alpha_pooled(noise),
        "tail_index_pooled_no_point_mass": mohammadi_alpha_pooled(noise, drop_point_mass=True),
        **null_columns(K)})
