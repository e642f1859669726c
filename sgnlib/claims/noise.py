"""Claims on the shape of the noise: β/σ³ (Fig 4), the Berry-Esseen bound (eq 13, Fig 5), tail indices
(Figs 7-9), the example columns (Fig 8) and point masses (Shapiro-Wilk on constant columns).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reader import final_grid
from .core import (NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, fill_command, grade, kind, no_data,
                   not_testable, pct, share, spearman)


def _moments(tables, model):
    m = tables.get("moments")
    if m is None or not len(m):
        return None
    m = m[m.model == model]
    if "checkpoint_epoch" in m and len(m):
        m = m[m.checkpoint_epoch == m.checkpoint_epoch.max()]
    return m if len(m) else None


def _need(tables, params, paper_s, stage, what, model=None, **kw):
    scale = params.get("scale", "?")
    model = model or params.get("model", "alexnet")
    return no_data(paper_s, what, scale, fill_command(scale, stage, model, tables, **kw))


@kind("moments_rank")
def moments_rank(tables: dict, params: dict) -> Verdict:
    """The `target` layers have the largest β/σ³ (by `stat` [q50]). REPRODUCED: they are the top
    len(target); PARTLY: they overlap it; NOT REPRODUCED: no overlap."""
    stat, target = params.get("stat", "q50"), set(params["target"])
    paper_s = f"{' & '.join(sorted(target))} largest β/σ³"
    m = _moments(tables, params["model"])
    if m is None:
        return _need(tables, params, paper_s, "moments", f"{params['model']} moments")
    by = m.groupby("layer")[stat].first().sort_values(ascending=False)
    top = set(by.index[:len(target)])
    v = REPRODUCED if top == target else PARTLY if top & target else NOT_REPRODUCED
    return Verdict(v, paper_s, f"largest {stat}: {', '.join(by.index[:len(target)])}",
                   f"{len(top & target)}/{len(target)} match",
                   f"{stat} of β/σ³ per layer: " + ", ".join(f"{l} {x:.1f}" for l, x in by.items()))


@kind("moments_vs_gaussianity")
def moments_vs_gaussianity(tables: dict, params: dict) -> Verdict:
    """Across layers, higher Gaussianity (mean over the final grid at n_batches [200]) goes with smaller
    β/σ³ (`stat` [q50]). REPRODUCED: Spearman <= rho_reproduced [-0.8]; PARTLY: <= rho_partly [-0.4]."""
    paper_s = "higher Gaussianity ↔ smaller β/σ³ (negative rank correlation)"
    m = _moments(tables, params["model"])
    g = final_grid(tables.get("gaussianity"), params["model"])
    g = g[g.n_batches == params.get("n_batches", 200)]
    if m is None:
        return _need(tables, params, paper_s, "moments", f"{params['model']} moments")
    if not len(g):
        return _need(tables, params, paper_s, "capture", f"{params['model']} Gaussianity grid", extra=" --final-only")
    b = m.groupby("layer")[params.get("stat", "q50")].first()
    gs = g.groupby("layer").value.mean()
    common = b.index.intersection(gs.index)
    rho = spearman(b[common], gs[common])
    if len(common) < 3 or np.isnan(rho):
        return _need(tables, params, paper_s, "moments", ">= 3 layers with both moments and Gaussianity")
    v = REPRODUCED if rho <= params.get("rho_reproduced", -0.8) else \
        PARTLY if rho <= params.get("rho_partly", -0.4) else NOT_REPRODUCED
    return Verdict(v, paper_s, f"Spearman ρ = {rho:+.2f} over {len(common)} layers", f"ρ {rho:+.2f} vs < 0",
                   ", ".join(f"{l}: β/σ³ {b[l]:.1f}, {gs[l]:.1f} %" for l in common))


@kind("moments_range")
def moments_range(tables: dict, params: dict) -> Verdict:
    """A stated range of β/σ³ below 1 cannot be β/σ³ (Lyapunov: E|X|³ >= (E X²)^{3/2}): NOT TESTABLE,
    with our smallest measured β/σ³ as evidence when moments exist."""
    m = tables.get("moments")
    ours = "–"
    if m is not None and len(m):
        nz = m[m["count"] > 0]
        ours = f"smallest β/σ³ bin starts at {nz.bin_lo.min():.2f}; smallest q05 {m.q05.min():.2f}"
    return not_testable(params["paper"], params["reason"], ours)


@kind("moments_models")
def moments_models(tables: dict, params: dict) -> Verdict:
    """model_a's β/σ³ are smaller (median of the per-layer q50) and narrower (median per-layer q75 - q25)
    than model_b's. REPRODUCED: both; PARTLY: one; NOT REPRODUCED: neither."""
    a, b = _moments(tables, params["model_a"]), _moments(tables, params["model_b"])
    paper_s = f"{params['model_a']} β/σ³ narrower and smaller than {params['model_b']}'s"
    if a is None or b is None:
        miss = params["model_a"] if a is None else params["model_b"]
        return _need(tables, params, paper_s, "train,moments", f"{miss} moments", model=miss)

    def summary(m):
        f = m.groupby("layer")[["q25", "q50", "q75"]].first()
        return float(f.q50.median()), float((f.q75 - f.q25).median())

    (ma, wa), (mb, wb) = summary(a), summary(b)
    k = int(ma < mb) + int(wa < wb)
    v = REPRODUCED if k == 2 else PARTLY if k == 1 else NOT_REPRODUCED
    return Verdict(v, paper_s, f"median {ma:.2f} vs {mb:.2f}, IQR {wa:.2f} vs {wb:.2f}", f"{k}/2 hold",
                   "medians over layers of each layer's q50 and q75 - q25")


def _be(tables, params):
    be = tables.get("berry_esseen")
    if be is None or not len(be):
        return None
    be = be[be.model == params.get("model", "alexnet")]
    return be if len(be) else None


@kind("be_below_bound")
def be_below_bound(tables: dict, params: dict) -> Verdict:
    """The Kolmogorov distance of each dimension's minibatch noise to Φ lies below its eq-13 bound.
    Only (layer, batch) cells whose median bound exceeds the 200-sample floor (null_ks_q90) can show it.
    REPRODUCED: the smallest share below the bound over those cells >= reproduced [0.95]; PARTLY: >=
    partly [0.8]; NOT TESTABLE: no cell above the floor."""
    paper_s = "sup|F - Φ| <= A0 β/(σ³ √n) for every dimension"
    be = _be(tables, params)
    if be is None:
        return _need(tables, params, paper_s, "berry_esseen", "Berry-Esseen rows", model="alexnet")
    ok = be[be.bound_q50 > be.null_ks_q90]
    if not len(ok):
        return not_testable(paper_s, "every cell's median bound lies below the sampling floor of the distance")
    lo = ok.loc[ok.frac_ks_below_bound.idxmin()]
    v = grade(lo.frac_ks_below_bound, params.get("reproduced", 0.95), params.get("partly", 0.8))
    return Verdict(v, paper_s, f"min share below the bound {lo.frac_ks_below_bound:.3f} "
                   f"({lo.layer} @ {int(lo.batch_size)})", f"{1 - lo.frac_ks_below_bound:.3f} above",
                   f"{len(ok)}/{len(be)} cells resolvable (median bound > floor {be.null_ks_q90.iloc[0]:.3f})")


@kind("be_ks_falls")
def be_ks_falls(tables: dict, params: dict) -> Verdict:
    """The median distance to Φ falls with batch size (eq 13: bound ∝ 1/√n), per layer: Spearman <=
    -min_rho [0.8], or already at the floor (max median <= null_ks_q90). REPRODUCED: all layers; PARTLY: >= half."""
    paper_s = "distance to Φ falls as 1/√n"
    be = _be(tables, params)
    if be is None or be.batch_size.nunique() < 3:
        return _need(tables, params, paper_s, "berry_esseen", ">= 3 batch sizes of Berry-Esseen rows", model="alexnet")
    res = []
    for l, d in be.groupby("layer"):
        d = d.sort_values("batch_size")
        rho = spearman(d.batch_size, d.ks_q50)
        ok = rho <= -params.get("min_rho", 0.8) or d.ks_q50.max() <= d.null_ks_q90.iloc[0]
        res.append((l, ok, f"{l} {d.ks_q50.iloc[0]:.3f}→{d.ks_q50.iloc[-1]:.3f}"))
    k = sum(r[1] for r in res)
    return Verdict(grade(k / len(res), 1.0, 0.5), paper_s, f"falls in {share(k, len(res))} layers",
                   f"{k}/{len(res)}", "median distance, smallest → largest batch: " + ", ".join(r[2] for r in res))


def hist_quantile(lo, hi, counts, q: float) -> float:
    """Quantile q of a histogram (bins [lo, hi) with counts), log-linear inside a bin."""
    order = np.argsort(lo)
    lo, hi, c = np.asarray(lo, float)[order], np.asarray(hi, float)[order], np.asarray(counts, float)[order]
    cum = np.cumsum(c) / c.sum()
    i = int(np.searchsorted(cum, q))
    i = min(i, len(c) - 1)
    prev = cum[i - 1] if i else 0.0
    f = (q - prev) / (cum[i] - prev) if cum[i] > prev else 0.0
    return float(np.exp(np.log(lo[i]) + f * (np.log(hi[i]) - np.log(lo[i]))))


@kind("be_spines")
def be_spines(tables: dict, params: dict) -> Verdict:
    """Fig 5: the β/σ³ quantile at the layer's Gaussian share (the 'spine') moves right as the batch
    grows. Per layer: non-decreasing over batch sizes and last > first. REPRODUCED: all `layers`; PARTLY: >= half."""
    paper_s = f"spines shift right with batch size ({', '.join(params['layers'])})"
    m = _moments(tables, params["model"])
    g = final_grid(tables.get("gaussianity"), params["model"])
    g = g[g.n_batches == params.get("n_batches", 200)]
    if m is None:
        return _need(tables, params, paper_s, "moments", f"{params['model']} moments")
    if g.batch_size.nunique() < 2:
        return _need(tables, params, paper_s, "capture", f"{params['model']} grid", extra=" --final-only")
    res = []
    for l in params["layers"]:
        h, s = m[m.layer == l], g[g.layer == l].sort_values("batch_size")
        if not len(h) or len(s) < 2:
            continue
        sp = [hist_quantile(h.bin_lo, h.bin_hi, h["count"], min(max(v / 100, 0), 1)) for v in s.value]
        ok = all(b >= a for a, b in zip(sp, sp[1:])) and sp[-1] > sp[0]
        res.append((l, ok, f"{l}: " + " → ".join(f"{x:.1f}" for x in sp)))
    if not res:
        return _need(tables, params, paper_s, "moments", f"moments of {params['layers']}")
    k = sum(r[1] for r in res)
    return Verdict(grade(k / len(res), 1.0, 0.5), paper_s, f"right-shifting in {share(k, len(res))} layers",
                   f"{k}/{len(res)}", "spines (β/σ³ quantile at the Gaussian %), by batch size: " +
                   "; ".join(r[2] for r in res))


def _tail(tables, params):
    t = tables.get("tail_index")
    if t is None or not len(t):
        return None
    t = t[(t.model == params.get("model", "alexnet")) & (t.layer == params["layer"]) & (t.checkpoint_epoch == t.epochs)
          & (t.n_batches == params.get("n_batches", 200))]
    return t if len(t) else None


@kind("tail_near_two")
def tail_near_two(tables: dict, params: dict) -> Verdict:
    """Fig 7: most tail indices of the layer's non-Gaussian dims are 2 (α >= is_two [1.9]) and most of the
    rest are close to 2 (α >= near [1.7]). REPRODUCED: both majorities; PARTLY: one; NOT REPRODUCED: neither."""
    paper_s = "most α = 2, most of the rest close to 2"
    t = _tail(tables, params)
    t = t[t.batch_size == params.get("batch_size", 128)] if t is not None else None
    if t is None or not len(t) or t.count_nongaussian.sum() == 0:
        return _need(tables, params, paper_s, "capture", f"tail indices of {params['layer']}", extra=" --final-only")
    h = t.groupby("bin_lo").count_nongaussian.sum()
    n = h.sum()
    two = h[h.index >= params.get("is_two", 1.9) - 1e-9].sum()
    near = h[(h.index >= params.get("near", 1.7) - 1e-9) & (h.index < params.get("is_two", 1.9) - 1e-9)].sum()
    a, b = two / n > 0.5, (near / (n - two) > 0.5) if n > two else True
    v = REPRODUCED if a and b else PARTLY if a or b else NOT_REPRODUCED
    return Verdict(v, paper_s, f"{two / n:.0%} at α >= {params.get('is_two', 1.9)}, "
                   f"{near / max(n - two, 1):.0%} of the rest >= {params.get('near', 1.7)}",
                   f"{int(n)} non-Gaussian dims",
                   "Mohammadi estimator on 200 samples; Gaussian columns that Shapiro-Wilk rejects scatter too")


@kind("tail_rises")
def tail_rises(tables: dict, params: dict) -> Verdict:
    """Fig 9: the layer's median tail index (all non-point-mass dims) rises toward 2 with batch size.
    REPRODUCED: Spearman >= min_rho [0.8] and last > first; PARTLY: last > first; NOT REPRODUCED otherwise."""
    paper_s = f"α of {params['layer']} rises to 2 with batch size"
    t = _tail(tables, params)
    if t is None or t.batch_size.nunique() < 3:
        return _need(tables, params, paper_s, "capture", f"tail indices of {params['layer']} at >= 3 batch sizes",
                     extra=" --final-only")
    col = params.get("population", "count_all")
    med = {}
    for bs, d in t.groupby("batch_size"):
        h = d.groupby(["bin_lo", "bin_hi"])[col].sum().reset_index()
        h = h[np.isfinite(h.bin_lo) & np.isfinite(h.bin_hi) & (h[col] > 0)]
        c = np.cumsum(h[col].values) / h[col].sum()
        i = int(np.searchsorted(c, 0.5))
        med[bs] = float((h.bin_lo.iloc[i] + h.bin_hi.iloc[i]) / 2)
    s = pd.Series(med).sort_index()
    rho = spearman(s.index, s.values)
    v = REPRODUCED if rho >= params.get("min_rho", 0.8) and s.iloc[-1] > s.iloc[0] else \
        PARTLY if s.iloc[-1] > s.iloc[0] else NOT_REPRODUCED
    return Verdict(v, paper_s, "median α " + ", ".join(f"{b}: {x:.2f}" for b, x in s.items()), f"ρ {rho:+.2f}",
                   f"bin midpoints (0.1 wide) of the median, over {col}")


@kind("examples_alpha")
def examples_alpha(tables: dict, params: dict) -> Verdict:
    """Fig 8: example columns Shapiro-Wilk accepts have α = 2 (>= 1.99), those it rejects α < 2.
    REPRODUCED: both shares >= share [0.8]; PARTLY: one; NOT REPRODUCED: neither."""
    paper_s = "Gaussian examples: α = 2 (5/5); non-Gaussian: α < 2"
    e = tables.get("examples")
    if e is not None and len(e):
        e = e[(e.layer == params["layer"]) & (e.batch_size == params.get("batch_size", 128))]
    if e is None or not len(e):
        return _need(tables, params, paper_s, "examples", f"example columns of {params['layer']}", model="alexnet")
    u = e.drop_duplicates(["dim", "kind"])
    gs, ng = u[u.kind == "gaussian"].tail_index_mohammadi, u[u.kind == "non-gaussian"].tail_index_mohammadi
    a, b = (gs >= 1.99).mean() if len(gs) else np.nan, (ng < 1.99).mean() if len(ng) else np.nan
    th = params.get("share", 0.8)
    k = int(a >= th) + int(b >= th)
    v = REPRODUCED if k == 2 else PARTLY if k == 1 else NOT_REPRODUCED
    return Verdict(v, paper_s, f"Gaussian: {int((gs >= 1.99).sum())}/{len(gs)} at 2; non-Gaussian: "
                   f"{int((ng < 1.99).sum())}/{len(ng)} below 2", f"{k}/2 hold",
                   "Mohammadi α of each example column (clipped at 2), " + params["layer"])


@kind("point_mass")
def point_mass(tables: dict, params: dict) -> Verdict:
    """Point masses occur (ReLU) in a few extreme cases and Shapiro-Wilk takes them as Gaussian.
    Checks that a constant column gets p = 1 (scipy.stats.shapiro and sgnlib's AS R94), and the share of
    point-mass columns in `model`'s final grid. REPRODUCED: p = 1 and 0 < max share <= rare_pct [5];
    PARTLY: p = 1 but the share is not rare (or zero); NOT REPRODUCED: p < 1."""
    import warnings

    import torch
    from scipy import stats

    from ..stats import shapiro_wilk
    paper_s = "a few extreme point-mass cases; Shapiro-Wilk calls them Gaussian"
    g = tables.get("gaussianity")
    g = g[(g.model == params["model"]) & (g.checkpoint_epoch == g.epochs)] if g is not None else None
    if g is None or not len(g):
        scale = params.get("scale", "?")
        return no_data(paper_s, f"{params['model']} Gaussianity rows", scale,
                       fill_command(scale, "capture", params["model"], tables, extra=" --final-only"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_scipy = float(stats.shapiro(np.full(200, 0.25)).pvalue)
    p_ours = float(shapiro_wilk(torch.full((200, 1), 0.25, dtype=torch.float64)).p[0])
    by = g.groupby("layer").degenerate_pct.mean()
    mx = float(by.max())
    sw = p_scipy == 1 and p_ours == 1
    rare = 0 < mx <= params.get("rare_pct", 5)
    v = NOT_REPRODUCED if not sw else REPRODUCED if rare else PARTLY
    return Verdict(v, paper_s, f"p = {p_scipy:g} (scipy), {p_ours:g} (ours) on a constant column; point masses "
                   f"up to {pct(mx, 1)} of a layer ({by.idxmax()})", f"max share {pct(mx, 1)} vs rare <= "
                   f"{params.get('rare_pct', 5)} %", "point masses add their share to the paper-rule %: " +
                   ", ".join(f"{l} {x:.1f}" for l, x in by.items()))
