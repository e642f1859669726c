"""The moments chapter's figures (paper Figs 4-5 and the Berry-Esseen check): beta/sigma^3 over a
layer's weight dimensions, the spines at each batch size's Gaussian fraction, and the measured
distance to Phi beside the eq-13 bound. Drawn, saved and returned as `sgnlib.figures` does."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import figures
from .reader import layer_order


def ratio_histograms(m: pd.DataFrame, model: str, name: str, source: str = "", layers=None,
                     ceiling: float | None = None):
    """Fig 4: distribution of beta/sigma^3 over each layer's dimensions (log bins, normalised per
    layer); `ceiling`: the largest value a sample of this size allows, drawn dotted."""
    figures.style()
    d = m[m.model == model]
    fig, ax = plt.subplots()
    layers = layers or layer_order(d.layer)
    for c, layer in zip(figures.colours(len(layers)), layers):
        h = d[d.layer == layer].sort_values("bin_lo")
        if h["count"].sum():
            ax.step(
                np.sqrt(h.bin_lo * h.bin_hi),
                h["count"] / h["count"].sum(),
                where="mid",
                color=c,
                label=layer,
            )
    if ceiling is not None:
        ax.axvline(ceiling, color="grey", ls=":", lw=0.9, label=f"one-spike ceiling {ceiling:.1f}")
    figures.plain_log_ticks(ax)
    ax.set(xlabel=r"$\beta/\sigma^3$ of a weight dimension (dimensionless, $\geq 1$; log scale)",
           ylabel="fraction of the layer's dimensions")
    ax.legend(fontsize=7, ncol=2)
    return figures.save(fig, name)


def fig5_spines(m: pd.DataFrame, spines: dict, model: str, name: str):
    """Fig 5: beta/sigma^3 histogram per layer, spines at its Gaussian fraction (ours solid, paper
    dashed)."""
    figures.style()
    fig, axes = plt.subplots(1, len(spines), squeeze=False, sharey=True, figsize=(7.0, 3.8))
    for ax, (layer, sp) in zip(axes[0], spines.items()):
        h = m[(m.model == model) & (m.layer == layer)].sort_values("bin_lo")
        ax.step(
            np.sqrt(h.bin_lo * h.bin_hi),
            h["count"] / h["count"].sum(),
            where="mid",
            color="grey",
            label="_h",
        )
        for c, (_, r) in zip(figures.colours(len(sp), ordered=True), sp.iterrows()):
            ax.axvline(r.ratio, color=c, lw=1.2, label=f"batch {int(r.batch_size)}")
            if pd.notna(r.paper_ratio):
                ax.axvline(
                    r.paper_ratio, color=c, lw=0.9, ls="--", label=f"_paper {int(r.batch_size)}"
                )
        figures.plain_log_ticks(ax, (1, 3, 10, 30, 100))
        ax.set_title(layer, fontsize=9)
        ax.set_xlabel(r"$\beta/\sigma^3$ (log scale)")
    axes[0][0].set_ylabel("fraction of dimensions")
    figures.legend_below(
        fig,
        axes,
        [
            (Line2D([], [], color="k"), "ours"),
            (Line2D([], [], color="k", ls="--"), "at the paper's fraction"),
        ],
        ncol=4,
        bottom=0.16,
    )
    return figures.save(fig, name)


def berry_esseen_layers(be: pd.DataFrame, name: str, source: str = ""):
    """Berry-Esseen per layer: median distance to Phi (solid), eq-13 bound (dashed), 200-sample
    floor (dotted)."""
    figures.style()
    layers = layer_order(be.layer)
    nrow = -(-len(layers) // 3)
    fig, axes = plt.subplots(
        nrow, 3, squeeze=False, sharex=True, sharey=True, figsize=(7.0, 2.2 * nrow + 0.6)
    )
    for ax, layer in zip(axes.ravel(), layers):
        d = be[be.layer == layer].sort_values("batch_size")
        ax.plot(
            d.batch_size,
            d.ks_q50,
            "-o",
            ms=3,
            color=figures.OKABE_ITO[0],
            label="distance to Φ (median)",
        )
        ax.plot(
            d.batch_size,
            d.bound_q50,
            "--",
            color=figures.OKABE_ITO[1],
            label="eq-13 bound (median)",
        )
        ax.axhline(be.null_ks_q50.iloc[0], color="grey", ls=":", lw=0.8, label="200-sample floor")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(layer, fontsize=9)
    for ax in axes.ravel()[len(layers):]:
        ax.axis("off")
    plt.setp(axes[-1], xlabel="batch size (log)")
    plt.setp(axes[:, 0], ylabel=r"$\sup_x|F - \Phi|$")
    figures.legend_below(fig, axes, ncol=3, bottom=0.07)
    return figures.save(fig, name)
