"""Claims on the Berry-Esseen bound (eq 13, Fig 5): each dimension's distance to Φ lies below its
bound, the distance falls with the batch size, and the 'spines' of Fig 5 (the β/σ³ quantile at a
layer's Gaussian share) move right as the batch grows. Every threshold comes from the claim's
params (data/paper/claims.csv); defaults in brackets.
"""
from __future__ import annotations

import numpy as np

from ..reader import final_grid
from .core import Verdict, grade, kind, missing_rows, not_testable, share, spearman
from .moments import final_moments


def _be(tables, params):
    be = tables.get("berry_esseen")
    if be is None or not len(be):
        return None
    be = be[be.model == params.get("model", "alexnet")]
    return be if len(be) else None


@kind("be_below_bound")
def be_below_bound(tables: dict, params: dict) -> Verdict:
    """The Kolmogorov distance of each dimension's minibatch noise to Φ lies below its eq-13 bound.
    Only (layer, batch) cells whose median bound exceeds the 200-sample floor (null_ks_q90) can
    show it. REPRODUCED: the smallest share below the bound over those cells >= reproduced [0.95];
    PARTLY: >= partly [0.8]; NOT TESTABLE: no cell above the floor."""
    paper_s = "sup|F - Φ| <= A0 β/(σ³ √n) for every dimension"
    be = _be(tables, params)
    if be is None:
        return missing_rows(tables, params, paper_s, "berry_esseen", "Berry-Esseen rows",
                            model="alexnet")
    ok = be[be.bound_q50 > be.null_ks_q90]
    if not len(ok):
        return not_testable(paper_s, "every cell's median bound lies below the sampling floor of "
                                     "the distance")
    lo = ok.loc[ok.frac_ks_below_bound.idxmin()]
    v = grade(lo.frac_ks_below_bound, params.get("reproduced", 0.95), params.get("partly", 0.8))
    floor = be.null_ks_q90.iloc[0]
    ours = (f"min share below the bound {lo.frac_ks_below_bound:.3f} "
            f"({lo.layer} @ {int(lo.batch_size)})")
    return Verdict(v, paper_s, ours, f"{1 - lo.frac_ks_below_bound:.3f} above",
                   f"{len(ok)}/{len(be)} cells resolvable (median bound > floor {floor:.3f})")


@kind("be_ks_falls")
def be_ks_falls(tables: dict, params: dict) -> Verdict:
    """The median distance to Φ falls with batch size (eq 13: bound ∝ 1/√n), per layer: Spearman
    <= -min_rho [0.8], or already at the floor (max median <= null_ks_q90). REPRODUCED: all
    layers; PARTLY: >= half."""
    paper_s = "distance to Φ falls as 1/√n"
    be = _be(tables, params)
    if be is None or be.batch_size.nunique() < 3:
        return missing_rows(tables, params, paper_s, "berry_esseen",
                            ">= 3 batch sizes of Berry-Esseen rows", model="alexnet")
    res = []
    for l, d in be.groupby("layer"):
        d = d.sort_values("batch_size")
        rho = spearman(d.batch_size, d.ks_q50)
        ok = rho <= -params.get("min_rho", 0.8) or d.ks_q50.max() <= d.null_ks_q90.iloc[0]
        res.append((l, ok, f"{l} {d.ks_q50.iloc[0]:.3f}→{d.ks_q50.iloc[-1]:.3f}"))
    k = sum(r[1] for r in res)
    return Verdict(grade(k / len(res), 1.0, 0.5), paper_s, f"falls in {share(k, len(res))} layers",
                   f"{k}/{len(res)}",
                   "median distance, smallest → largest batch: " + ", ".join(r[2] for r in res))


def hist_quantile(lo, hi, counts, q: float) -> float:
    """Quantile q of a histogram (bins [lo, hi) with counts), log-linear inside a bin."""
    order = np.argsort(lo)
    lo, hi = np.asarray(lo, float)[order], np.asarray(hi, float)[order]
    c = np.asarray(counts, float)[order]
    cum = np.cumsum(c) / c.sum()
    i = int(np.searchsorted(cum, q))
    i = min(i, len(c) - 1)
    prev = cum[i - 1] if i else 0.0
    f = (q - prev) / (cum[i] - prev) if cum[i] > prev else 0.0
    return float(np.exp(np.log(lo[i]) + f * (np.log(hi[i]) - np.log(lo[i]))))


@kind("be_spines")
def be_spines(tables: dict, params: dict) -> Verdict:
    """Fig 5: the β/σ³ quantile at the layer's Gaussian share (the 'spine') moves right as the
    batch grows. Per layer: non-decreasing over batch sizes and last > first. REPRODUCED: all
    `layers`; PARTLY: >= half."""
    paper_s = f"spines shift right with batch size ({', '.join(params['layers'])})"
    m = final_moments(tables, params["model"])
    g = final_grid(tables.get("gaussianity"), params["model"])
    g = g[g.n_batches == params.get("n_batches", 200)]
    if m is None:
        return missing_rows(tables, params, paper_s, "moments", f"{params['model']} moments")
    if g.batch_size.nunique() < 2:
        return missing_rows(tables, params, paper_s, "capture", f"{params['model']} grid",
                            extra=" --final-only")
    res = []
    for l in params["layers"]:
        h, s = m[m.layer == l], g[g.layer == l].sort_values("batch_size")
        if not len(h) or len(s) < 2:
            continue
        sp = [hist_quantile(h.bin_lo, h.bin_hi, h["count"], min(max(v / 100, 0), 1))
              for v in s.value]
        ok = all(b >= a for a, b in zip(sp, sp[1:])) and sp[-1] > sp[0]
        res.append((l, ok, f"{l}: " + " → ".join(f"{x:.1f}" for x in sp)))
    if not res:
        return missing_rows(tables, params, paper_s, "moments", f"moments of {params['layers']}")
    k = sum(r[1] for r in res)
    return Verdict(grade(k / len(res), 1.0, 0.5), paper_s,
                   f"right-shifting in {share(k, len(res))} layers", f"{k}/{len(res)}",
                   "spines (β/σ³ quantile at the Gaussian %), by batch size: " +
                   "; ".join(r[2] for r in res))
