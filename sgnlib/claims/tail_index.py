"""Claims on the tail index α of the noise (Figs 7-9): most non-Gaussian dimensions have α = 2 or
close to it, a layer's median α rises toward 2 with the batch size, and the example columns of
Fig 8 have α = 2 exactly when Shapiro-Wilk accepts them. Every threshold comes from the claim's
params (data/paper/claims.csv); defaults in brackets.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .core import NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, kind, missing_rows, spearman


def _tail(tables, params):
    """The layer's tail-index histogram rows at the final checkpoint, None where there are none."""
    t = tables.get("tail_index")
    if t is None or not len(t):
        return None
    t = t[(t.model == params.get("model", "alexnet")) & (t.layer == params["layer"])
          & (t.checkpoint_epoch == t.epochs) & (t.n_batches == params.get("n_batches", 200))]
    return t if len(t) else None


@kind("tail_near_two")
def tail_near_two(tables: dict, params: dict) -> Verdict:
    """Fig 7: most tail indices of the layer's non-Gaussian dims are 2 (α >= is_two [1.9]) and most
    of the rest are close to 2 (α >= near [1.7]). REPRODUCED: both majorities; PARTLY: one; NOT
    REPRODUCED: neither."""
    paper_s = "most α = 2, most of the rest close to 2"
    t = _tail(tables, params)
    t = t[t.batch_size == params.get("batch_size", 128)] if t is not None else None
    if t is None or not len(t) or t.count_nongaussian.sum() == 0:
        return missing_rows(tables, params, paper_s, "capture",
                            f"tail indices of {params['layer']}", extra=" --final-only")
    h = t.groupby("bin_lo").count_nongaussian.sum()
    n = h.sum()
    is_two, near_two = params.get("is_two", 1.9) - 1e-9, params.get("near", 1.7) - 1e-9
    two = h[h.index >= is_two].sum()
    near = h[(h.index >= near_two) & (h.index < is_two)].sum()
    a, b = two / n > 0.5, (near / (n - two) > 0.5) if n > two else True
    v = REPRODUCED if a and b else PARTLY if a or b else NOT_REPRODUCED
    return Verdict(v, paper_s, f"{two / n:.0%} at α >= {params.get('is_two', 1.9)}, "
                   f"{near / max(n - two, 1):.0%} of the rest >= {params.get('near', 1.7)}",
                   f"{int(n)} non-Gaussian dims",
                   "Mohammadi estimator on 200 samples; Gaussian columns that Shapiro-Wilk rejects "
                   "scatter too")


def _median_bin(d: pd.DataFrame, col: str) -> float:
    """The midpoint of the histogram bin holding the median of `col` (finite, non-empty bins)."""
    h = d.groupby(["bin_lo", "bin_hi"])[col].sum().reset_index()
    h = h[np.isfinite(h.bin_lo) & np.isfinite(h.bin_hi) & (h[col] > 0)]
    c = np.cumsum(h[col].values) / h[col].sum()
    i = int(np.searchsorted(c, 0.5))
    return float((h.bin_lo.iloc[i] + h.bin_hi.iloc[i]) / 2)


@kind("tail_rises")
def tail_rises(tables: dict, params: dict) -> Verdict:
    """Fig 9: the layer's median tail index (all non-point-mass dims) rises toward 2 with batch
    size. REPRODUCED: Spearman >= min_rho [0.8] and last > first; PARTLY: last > first; NOT
    REPRODUCED otherwise."""
    paper_s = f"α of {params['layer']} rises to 2 with batch size"
    t = _tail(tables, params)
    if t is None or t.batch_size.nunique() < 3:
        return missing_rows(tables, params, paper_s, "capture",
                            f"tail indices of {params['layer']} at >= 3 batch sizes",
                            extra=" --final-only")
    col = params.get("population", "count_all")
    med = {bs: _median_bin(d, col) for bs, d in t.groupby("batch_size")}
    s = pd.Series(med).sort_index()
    rho = spearman(s.index, s.values)
    v = REPRODUCED if rho >= params.get("min_rho", 0.8) and s.iloc[-1] > s.iloc[0] else \
        PARTLY if s.iloc[-1] > s.iloc[0] else NOT_REPRODUCED
    return Verdict(v, paper_s, "median α " + ", ".join(f"{b}: {x:.2f}" for b, x in s.items()),
                   f"ρ {rho:+.2f}", f"bin midpoints (0.1 wide) of the median, over {col}")


@kind("examples_alpha")
def examples_alpha(tables: dict, params: dict) -> Verdict:
    """Fig 8: example columns Shapiro-Wilk accepts have α = 2 (>= 1.99), those it rejects α < 2.
    REPRODUCED: both shares >= share [0.8]; PARTLY: one; NOT REPRODUCED: neither."""
    paper_s = "Gaussian examples: α = 2 (5/5); non-Gaussian: α < 2"
    e = tables.get("examples")
    if e is not None and len(e):
        e = e[(e.layer == params["layer"]) & (e.batch_size == params.get("batch_size", 128))]
    if e is None or not len(e):
        return missing_rows(tables, params, paper_s, "examples",
                            f"example columns of {params['layer']}", model="alexnet")
    u = e.drop_duplicates(["dim", "kind"])
    gs = u[u.kind == "gaussian"].tail_index_mohammadi
    ng = u[u.kind == "non-gaussian"].tail_index_mohammadi
    a = (gs >= 1.99).mean() if len(gs) else np.nan
    b = (ng < 1.99).mean() if len(ng) else np.nan
    th = params.get("share", 0.8)
    k = int(a >= th) + int(b >= th)
    v = REPRODUCED if k == 2 else PARTLY if k == 1 else NOT_REPRODUCED
    return Verdict(v, paper_s, f"Gaussian: {int((gs >= 1.99).sum())}/{len(gs)} at 2; non-Gaussian: "
                   f"{int((ng < 1.99).sum())}/{len(ng)} below 2", f"{k}/2 hold",
                   "Mohammadi α of each example column (clipped at 2), " + params["layer"])
