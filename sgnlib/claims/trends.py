"""Claims on how the Gaussianity grid moves at the final checkpoint (Figs 2-3, Tables 1-4): it
rises with the batch size, and it is lower at 600 minibatches than at 200.

All percentages count point masses as Gaussian (the paper's rule), averaged over repeats; the
paper's own tables are judged by the same rule beside ours. Every threshold comes from the
claim's params (data/paper/claims.csv); defaults in brackets.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reader import paper_grid
from .core import Verdict, grade, grid_of, kind, missing_cells, share, spearman


def _series_ok(values: pd.Series, min_rho: float, ceiling: float) -> tuple[bool, str]:
    """A series over increasing batch sizes counts as rising (Spearman >= min_rho and last >
    first) or saturated (every value >= ceiling)."""
    if values.min() >= ceiling:
        return True, "saturated"
    rho = spearman(values.index, values.values)
    return bool(rho >= min_rho and values.iloc[-1] > values.iloc[0]), f"ρ = {rho:.2f}"


def _trend_share(g, params):
    """(n_batches, layer, rising or saturated, why) per series of >= 3 batch sizes."""
    layers = params.get("layers") or sorted(g.layer.unique())
    chosen = g[g.layer.isin(layers) & g.n_batches.isin(params.get("n_batches", [200, 600]))]
    res = []
    for (nb, layer), s in chosen.groupby(["n_batches", "layer"]):
        s = s.set_index("batch_size").value.sort_index()
        if len(s) >= 3:
            ok, why = _series_ok(s, params.get("min_rho", 0.8), params.get("ceiling_pct", 90))
            res.append((nb, layer, ok, why))
    return res


@kind("batch_trend")
def batch_trend(tables: dict, params: dict) -> Verdict:
    """Gaussianity rises with batch size. Per (n_batches, layer) series of >= 3 batch sizes: rising
    (Spearman >= min_rho [0.8] and last > first) or saturated (all >= ceiling_pct [90]).
    REPRODUCED: share of such series >= reproduced_share [1.0]; PARTLY: >= partly_share [0.5]. The
    paper's own share by the same rule is reported beside ours."""
    g = grid_of(tables, params)
    pres = _trend_share(paper_grid(tables.get("paper"), params["model"]), params)
    paper_k = sum(r[2] for r in pres)
    paper_s = f"rising/saturated in {share(paper_k, len(pres))} of its tabled series"
    res = _trend_share(g, params)
    if not res:
        larger = [1024, 2048] if params["model"].startswith("alexnet") else [512]
        return missing_cells(tables, params, paper_s,
                             f"{params['model']} grid with >= 3 batch sizes", batch_sizes=larger)
    k = sum(r[2] for r in res)
    v = grade(k / len(res), params.get("reproduced_share", 1.0), params.get("partly_share", 0.5))
    bad = [f"{l} ({nb}: {why})" for nb, l, ok, why in res if not ok]
    paper_share = paper_k / len(pres) if pres else np.nan
    ev = ("not rising: " + ", ".join(bad[:8]) + (" …" if len(bad) > 8 else "")) if bad else \
        "every series rises or is saturated"
    return Verdict(v, paper_s, f"{share(k, len(res))} series",
                   f"{k / len(res) - paper_share:+.2f} share", ev)


@kind("nbatches_lower")
def nbatches_lower(tables: dict, params: dict) -> Verdict:
    """Cells at `high` batches [600] below the same cells at `low` [200]. REPRODUCED: share >=
    reproduced_share [0.9]; PARTLY: >= partly_share [0.6]."""
    lo, hi = params.get("low", 200), params.get("high", 600)

    def shares(g):
        p = g.pivot_table(index=["layer", "batch_size"], columns="n_batches", values="value")
        if lo not in p or hi not in p:
            return None
        p = p[[lo, hi]].dropna()
        return int((p[hi] < p[lo]).sum()), len(p)

    ps = shares(paper_grid(tables.get("paper"), params["model"])) or (0, 0)
    paper_s = f"lower in {share(*ps)} cells"
    ours = shares(grid_of(tables, params))
    if not ours or not ours[1]:
        return missing_cells(tables, params, paper_s,
                             f"{params['model']} cells at both {lo} and {hi} batches",
                             n_batches=[lo, hi])
    v = grade(ours[0] / ours[1], params.get("reproduced_share", 0.9),
              params.get("partly_share", 0.6))
    paper_share = ps[0] / ps[1] if ps[1] else np.nan
    return Verdict(v, paper_s, f"lower in {share(*ours)} cells",
                   f"{ours[0] / ours[1] - paper_share:+.2f} share",
                   "note: more samples give Shapiro-Wilk more power, so more columns are rejected "
                   "at 600")
