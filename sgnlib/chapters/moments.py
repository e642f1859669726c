"""The moments chapter (book/results/moments.ipynb): Fig 4 (β/σ³ over each AlexNet layer's weight
dimensions) with its quantiles, Fig 5 (the spines: the β/σ³ quantile at each batch size's Gaussian
fraction) and the Berry-Esseen check (measured distance to Φ against the eq-13 bound), per scale.

β/σ³ of n per-sample gradients cannot exceed the value of a sample with a single non-zero entry,
((n-1)² + 1) / (n √(n-1)) ≈ √n (`one_spike_ratio`): 70.69 for n = 5,000 and 22.56 for n = 512.
Dimensions whose gradient is non-zero on one image of the n pile up there, the spike at the right
edge of Figs 4-5: it measures the gradients' sparsity and the sample size, not a heavier tail."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import moment_figures, reader
from .common import SCALES, fmt, gap, results, run_caption  # noqa: F401 (gap: the chapter's note)
from .html import html_table, show

MODEL = "alexnet"
SPINE_LAYERS = ("Layer 3", "Layer 4", "Layer 5")


def tables() -> dict:
    """{scale: {gaussianity, moments, berry_esseen}} with each scale's own protocol."""
    return results(tables=("gaussianity", "moments", "berry_esseen"))


def one_spike_ratio(n: int) -> float:
    """β/σ³ of n values of which one is non-zero: the largest β/σ³ any sample of n can have."""
    return ((n - 1) ** 2 + 1) / (n * np.sqrt(n - 1))


def moment_quantiles(m: pd.DataFrame, model: str = MODEL) -> pd.DataFrame:
    """Quantiles of β/σ³ over a layer's weight dimensions, in forward layer order."""
    cols = ["q05", "q25", "q50", "q75", "q95"]
    q = m[m.model == model].groupby("layer", sort=False)[cols].first()
    return q.loc[reader.layer_order(q.index)].map(lambda v: fmt(v, 2))


def ceiling_share(m: pd.DataFrame, layer: str, model: str = MODEL) -> float:
    """% of a layer's dimensions in the histogram bin that holds the one-spike ceiling."""
    h = m[(m.model == model) & (m.layer == layer)]
    top = one_spike_ratio(int(h.n_samples.iloc[0]))
    return 100 * h[(h.bin_lo <= top) & (top <= h.bin_hi)]["count"].sum() / h["count"].sum()


def figure_4(m: pd.DataFrame, scale: str) -> dict:
    """Fig 4 at one scale for glue: run caption, figure, sample size, the one-spike ceiling and the
    share of Layer 4 at it, Layers 1 and 4's median β/σ³."""
    n = int(m.n_samples.iloc[0])
    q = moment_quantiles(m)
    return {f"run-fig-4-{scale}": run_caption(m, scale),
            f"fig-4-{scale}": moment_figures.ratio_histograms(m, MODEL, f"fig4_{MODEL}_{scale}",
                                                       ceiling=one_spike_ratio(n)),
            f"n-samples-{scale}": f"{n:,}", f"q50-l4-{scale}": q.loc["Layer 4", "q50"],
            f"q50-l1-{scale}": q.loc["Layer 1", "q50"],
            f"ceiling-{scale}": f"{one_spike_ratio(n):.2f}",
            f"ceiling-share-l4-{scale}": f"{ceiling_share(m, 'Layer 4'):.0f}"}


def show_quantiles(m: pd.DataFrame, scale: str) -> None:
    show(html_table(moment_quantiles(m), f"quantiles_{scale}",
                    f"Quantiles of beta/sigma^3 over each AlexNet layer's weight dimensions, "
                    f"{run_caption(m, scale)}.", index=True))


def fig5_spines(m: pd.DataFrame, g: pd.DataFrame, model: str, layer: str,
                n_batches: int = 200) -> pd.DataFrame:
    """Fig 5's spines: per batch size the β/σ³ quantile at the Gaussian fraction, ours and the
    paper's (both read on our distribution)."""
    h = m[(m.model == model) & (m.layer == layer)].sort_values("bin_lo")
    cdf, edges = (h["count"].cumsum() / h["count"].sum()).to_numpy(), h.bin_hi.to_numpy()

    def at(f):
        return np.nan if pd.isna(f) else float(edges[min(np.searchsorted(cdf, f), len(edges) - 1)])
    t = reader.ours_vs_paper(g, model, n_batches)
    t = t[t.layer == layer].sort_values("batch_size")
    return pd.DataFrame({"batch_size": t.batch_size.to_numpy(),
                         "gauss_frac": t.ours_mean.to_numpy() / 100,
                         "ratio": [at(f) for f in t.ours_mean / 100],
                         "paper_frac": t.paper_mean.to_numpy() / 100,
                         "paper_ratio": [at(f) for f in t.paper_mean / 100]})


def figure_5(m: pd.DataFrame, g: pd.DataFrame, scale: str) -> dict:
    """Fig 5 at one scale for glue: the figure and Layer 4's spine at the smallest and largest
    batch size."""
    spines = {layer: fig5_spines(m, g, MODEL, layer) for layer in SPINE_LAYERS}
    s4 = spines["Layer 4"]
    return {f"fig-5-{scale}": moment_figures.fig5_spines(m, spines, MODEL, f"fig5_spines_{scale}"),
            f"spine-l4-lo-{scale}": f"{s4.ratio.iloc[0]:.1f}",
            f"spine-l4-hi-{scale}": f"{s4.ratio.iloc[-1]:.1f}",
            f"spine-bs-hi-{scale}": str(int(s4.batch_size.iloc[-1]))}


def berry_esseen_table(be: pd.DataFrame) -> pd.DataFrame:
    """(layer, quantity) x batch size: median Kolmogorov distance to Φ and median eq-13 bound."""
    rows = []
    for layer in reader.layer_order(be.layer):
        d = be[be.layer == layer].set_index("batch_size").sort_index()
        for name, col in (("distance", "ks_q50"), ("bound", "bound_q50")):
            rows.append({"layer": layer, "median": name,
                         **{f"batch {b}": fmt(v, 3) for b, v in d[col].items()}})
    return pd.DataFrame(rows).set_index(["layer", "median"])


def berry_esseen(be: pd.DataFrame, scale: str) -> dict:
    """The Berry-Esseen check at one scale for glue: run caption, sampling floor, figure, and the
    smallest share (%) of a cell's dimensions below their own bound."""
    return {f"run-be-{scale}": run_caption(be, scale),
            f"floor-{scale}": f"{be.null_ks_q50.iloc[0]:.3f}",
            f"fig-be-{scale}": moment_figures.berry_esseen_layers(be, f"berry_esseen_{scale}"),
            f"be-below-{scale}": f"{100 * be.frac_ks_below_bound.min():.0f}"}


def show_berry_esseen(be: pd.DataFrame, scale: str) -> None:
    show(html_table(berry_esseen_table(be), f"be_{scale}",
                    f"Median Kolmogorov distance to Phi and median eq-13 bound per AlexNet layer "
                    f"and batch size, {run_caption(be, scale)}; sampling floor "
                    f"{be.null_ks_q50.iloc[0]:.3f}.", index=True))
