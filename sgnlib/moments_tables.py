"""The moments chapter's tables (Figs 4-5 and the Berry-Esseen check): β/σ³ quantiles per layer,
Fig 5's spines (the β/σ³ quantile at each batch size's Gaussian fraction) and the Berry-Esseen table."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import reader
from .report import fmt as _f


def moment_quantiles(m: pd.DataFrame, model: str) -> pd.DataFrame:
    """Quantiles of beta/sigma^3 over a layer's weight dimensions, in forward layer order."""
    q = m[m.model == model].groupby("layer", sort=False)[["q05", "q25", "q50", "q75", "q95"]].first()
    return q.loc[reader.layer_order(q.index)].map(lambda v: _f(v, 2))


def fig5_spines(m: pd.DataFrame, g: pd.DataFrame, model: str, layer: str, n_batches: int = 200) -> pd.DataFrame:
    """Fig 5's spines: per batch size the beta/sigma^3 quantile at the Gaussian fraction, ours and the paper's."""
    h = m[(m.model == model) & (m.layer == layer)].sort_values("bin_lo")
    cdf, edges = (h["count"].cumsum() / h["count"].sum()).to_numpy(), h.bin_hi.to_numpy()
    at = lambda f: np.nan if pd.isna(f) else float(edges[min(np.searchsorted(cdf, f), len(edges) - 1)])  # noqa: E731
    t = reader.ours_vs_paper(g, model, n_batches)
    t = t[t.layer == layer].sort_values("batch_size")
    return pd.DataFrame({"batch_size": t.batch_size.to_numpy(), "gauss_frac": t.ours_mean.to_numpy() / 100,
                         "ratio": [at(f) for f in t.ours_mean / 100], "paper_frac": t.paper_mean.to_numpy() / 100,
                         "paper_ratio": [at(f) for f in t.paper_mean / 100]})


def berry_esseen_table(be: pd.DataFrame) -> pd.DataFrame:
    """(layer, quantity) x batch size: median Kolmogorov distance to Phi and median eq-13 bound."""
    rows = []
    for layer in reader.layer_order(be.layer):
        d = be[be.layer == layer].set_index("batch_size").sort_index()
        for name, col in (("distance", "ks_q50"), ("bound", "bound_q50")):
            rows.append({"layer": layer, "median": name, **{f"batch {b}": _f(v, 3) for b, v in d[col].items()}})
    return pd.DataFrame(rows).set_index(["layer", "median"])
