"""Claims on β/σ³, the ratio of the noise's third absolute moment to its std cubed (Fig 4): which
layers have the largest, how it goes with the Gaussianity across layers, the range the paper
states for it, and one model's against another's. Every threshold comes from the claim's params
(data/paper/claims.csv); defaults in brackets.
"""
from __future__ import annotations

import numpy as np

from ..reader import final_grid
from .core import (NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, kind, missing_rows, not_testable,
                   spearman)


def final_moments(tables, model):
    """The moments rows of `model` at its last checkpoint, None where there are none."""
    m = tables.get("moments")
    if m is None or not len(m):
        return None
    m = m[m.model == model]
    if "checkpoint_epoch" in m and len(m):
        m = m[m.checkpoint_epoch == m.checkpoint_epoch.max()]
    return m if len(m) else None


@kind("moments_rank")
def moments_rank(tables: dict, params: dict) -> Verdict:
    """The `target` layers have the largest β/σ³ (by `stat` [q50]). REPRODUCED: they are the top
    len(target); PARTLY: they overlap it; NOT REPRODUCED: no overlap."""
    stat, target = params.get("stat", "q50"), set(params["target"])
    paper_s = f"{' & '.join(sorted(target))} largest β/σ³"
    m = final_moments(tables, params["model"])
    if m is None:
        return missing_rows(tables, params, paper_s, "moments", f"{params['model']} moments")
    by = m.groupby("layer")[stat].first().sort_values(ascending=False)
    top = set(by.index[:len(target)])
    v = REPRODUCED if top == target else PARTLY if top & target else NOT_REPRODUCED
    per_layer = ", ".join(f"{l} {x:.1f}" for l, x in by.items())
    return Verdict(v, paper_s, f"largest {stat}: {', '.join(by.index[:len(target)])}",
                   f"{len(top & target)}/{len(target)} match",
                   f"{stat} of β/σ³ per layer: " + per_layer)


@kind("moments_vs_gaussianity")
def moments_vs_gaussianity(tables: dict, params: dict) -> Verdict:
    """Across layers, higher Gaussianity (mean over the final grid at n_batches [200]) goes with
    smaller β/σ³ (`stat` [q50]). REPRODUCED: Spearman <= rho_reproduced [-0.8]; PARTLY: <=
    rho_partly [-0.4]."""
    paper_s = "higher Gaussianity ↔ smaller β/σ³ (negative rank correlation)"
    m = final_moments(tables, params["model"])
    g = final_grid(tables.get("gaussianity"), params["model"])
    g = g[g.n_batches == params.get("n_batches", 200)]
    if m is None:
        return missing_rows(tables, params, paper_s, "moments", f"{params['model']} moments")
    if not len(g):
        return missing_rows(tables, params, paper_s, "capture",
                            f"{params['model']} Gaussianity grid", extra=" --final-only")
    b = m.groupby("layer")[params.get("stat", "q50")].first()
    gs = g.groupby("layer").value.mean()
    common = b.index.intersection(gs.index)
    rho = spearman(b[common], gs[common])
    if len(common) < 3 or np.isnan(rho):
        return missing_rows(tables, params, paper_s, "moments",
                            ">= 3 layers with both moments and Gaussianity")
    v = REPRODUCED if rho <= params.get("rho_reproduced", -0.8) else \
        PARTLY if rho <= params.get("rho_partly", -0.4) else NOT_REPRODUCED
    return Verdict(v, paper_s, f"Spearman ρ = {rho:+.2f} over {len(common)} layers",
                   f"ρ {rho:+.2f} vs < 0",
                   ", ".join(f"{l}: β/σ³ {b[l]:.1f}, {gs[l]:.1f} %" for l in common))


@kind("moments_range")
def moments_range(tables: dict, params: dict) -> Verdict:
    """A stated range of β/σ³ below 1 cannot be β/σ³ (Lyapunov: E|X|³ >= (E X²)^{3/2}): NOT
    TESTABLE, with our smallest measured β/σ³ as evidence when moments exist."""
    m = tables.get("moments")
    ours = "–"
    if m is not None and len(m):
        nz = m[m["count"] > 0]
        ours = (f"smallest β/σ³ bin starts at {nz.bin_lo.min():.2f}; "
                f"smallest q05 {m.q05.min():.2f}")
    return not_testable(params["paper"], params["reason"], ours)


@kind("moments_models")
def moments_models(tables: dict, params: dict) -> Verdict:
    """model_a's β/σ³ are smaller (median of the per-layer q50) and narrower (median per-layer q75
    - q25) than model_b's. REPRODUCED: both; PARTLY: one; NOT REPRODUCED: neither."""
    a = final_moments(tables, params["model_a"])
    b = final_moments(tables, params["model_b"])
    paper_s = f"{params['model_a']} β/σ³ narrower and smaller than {params['model_b']}'s"
    if a is None or b is None:
        miss = params["model_a"] if a is None else params["model_b"]
        return missing_rows(tables, params, paper_s, "train,moments", f"{miss} moments",
                            model=miss)

    def summary(m):
        f = m.groupby("layer")[["q25", "q50", "q75"]].first()
        return float(f.q50.median()), float((f.q75 - f.q25).median())

    (ma, wa), (mb, wb) = summary(a), summary(b)
    k = int(ma < mb) + int(wa < wb)
    v = REPRODUCED if k == 2 else PARTLY if k == 1 else NOT_REPRODUCED
    return Verdict(v, paper_s, f"median {ma:.2f} vs {mb:.2f}, IQR {wa:.2f} vs {wb:.2f}",
                   f"{k}/2 hold", "medians over layers of each layer's q50 and q75 - q25")
