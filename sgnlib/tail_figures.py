"""The tails chapter's figures (paper Figs 7-9): tail-index histograms over the null band, and
example noise. Drawn, saved and returned as `sgnlib.figures` does (same style and colours)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from . import figures


def null_band_of(rows: pd.DataFrame, n: int) -> tuple[float, float, float]:
    """The null band (`tail_histogram.null_band`) of tail-index rows of n samples: the one stored
    with capture-version-2 rows, else computed by the stage's function (version-1 rows carry
    none)."""
    if "null_q05" in rows and rows.null_q05.notna().any():
        r = rows[rows.null_q05.notna()].iloc[0]
        return float(r.null_q05), float(r.null_q50), float(r.null_q95)
    from .tail_histogram import null_band  # the statistics (and torch) only for version-1 rows
    return null_band(n)


def _folded(h: pd.DataFrame, x_max: float) -> pd.DataFrame:
    """Histogram rows with the underflow bin folded into [0, 0.1) and everything beyond x_max into
    the last bin below it (display only: the stored estimates stay unclipped)."""
    h = h.assign(
        bin_lo=h.bin_lo.clip(0.0, x_max - 0.1).round(2), bin_hi=h.bin_hi.clip(0.1, x_max).round(2)
    )
    return h.groupby(["bin_lo", "bin_hi"]).count_nongaussian.sum().reset_index()


def tail_index_histograms(ti: pd.DataFrame, model: str, layers, name: str, n_batches: int = 200,
                          x_max: float = 3.0):
    """Figs 7, 9: Mohammadi tail index of the non-Gaussian dims, a panel per layer, a curve per
    batch size, over the null band (grey: the estimator on Gaussian columns at this n, 5-95 %;
    dashed: its median). Estimates beyond x_max are drawn in the last bin (version-1 rows were
    clipped to [0, 2] when computed); where the rows hold it, the pooled per-layer estimate of
    Simsekli et al. is a triangle on top."""
    figures.style()
    layers = [layers] if isinstance(layers, str) else list(layers)
    d = ti[(ti.model == model) & (ti.checkpoint_epoch == ti.epochs) & (ti.n_batches == n_batches)]
    q05, q50, q95 = null_band_of(d, n_batches)
    unclipped = bool(
        (d.bin_hi > 2.0 + 1e-9).any()
    )  # version-1 rows were clipped to [0, 2] when computed
    clip_note = (f"unclipped estimates; those beyond {x_max:g} drawn at {x_max:g}" if unclipped
                 else "estimates clipped to [0, 2] when computed (capture stage version 1)")
    fig, axes = plt.subplots(
        1, len(layers), squeeze=False, sharey=True, figsize=(7.0, 3.6), layout="constrained"
    )
    for ax, layer in zip(axes[0], layers):
        ax.axvspan(q05, min(q95, x_max), color="0.88", zorder=0, label="_null")
        ax.axvline(q50, color="0.45", ls="--", lw=0.8)
        dl = d[d.layer == layer]
        for c, bs in zip(
            figures.colours(dl.batch_size.nunique(), True), sorted(dl.batch_size.unique())
        ):
            h = _folded(
                dl[dl.batch_size == bs]
                .groupby(["bin_lo", "bin_hi"])
                .count_nongaussian.sum()
                .reset_index(),
                x_max,
            )
            if h.count_nongaussian.sum():
                ax.step(
                    (h.bin_lo + h.bin_hi) / 2,
                    h.count_nongaussian / h.count_nongaussian.sum(),
                    where="mid",
                    color=c,
                    label=f"batch {bs}",
                )
            if (
                "tail_index_pooled" in dl
                and dl[dl.batch_size == bs].tail_index_pooled.notna().any()
            ):
                pooled = dl[dl.batch_size == bs].groupby("repeat").tail_index_pooled.first().mean()
                ax.plot(
                    [min(pooled, x_max)],
                    [0.97],
                    marker="v",
                    ms=6,
                    color=c,
                    clip_on=False,
                    ls="none",
                    transform=ax.get_xaxis_transform(),
                    label="_pooled",
                )
        ax.set_xlim(0, x_max)
        ax.set_title(layer, fontsize=9)
    handles = axes[0][0].get_legend_handles_labels()[0]
    handles.append(Patch(color="0.88", label=f"null 5-95 % at n={n_batches} (median dashed)"))
    if "tail_index_pooled" in d and d.tail_index_pooled.notna().any():
        handles.append(
            plt.Line2D([], [], marker="v", ls="none", color="0.3", label="pooled estimate")
        )
    for ax in axes[0]:
        ax.set_xlabel(r"tail index $\alpha$ (2 = Gaussian)")
    fig.legend(
        handles=handles,
        fontsize=7,
        loc="outside lower center",
        ncol=4,
        title=clip_note,
        title_fontsize=7,
    )
    axes[0][0].set_ylabel("fraction of non-Gaussian dims")
    return figures.save(fig, name)


def noise_examples(ex: pd.DataFrame, layer: str, batch_size: int, name: str, source: str = ""):
    """Fig 8: noise histograms of dims Shapiro-Wilk calls Gaussian (top) and rejects (bottom), p and
    alpha."""
    figures.style()
    d = ex[(ex.layer == layer) & (ex.batch_size == batch_size)]
    dims = {k: sorted(d[d.kind == k].dim.unique()) for k in ("gaussian", "non-gaussian")}
    ncol = max(1, max(len(v) for v in dims.values()))
    fig, axes = plt.subplots(2, ncol, squeeze=False, figsize=(7.0, 3.6))
    for r, (k, ds) in enumerate(dims.items()):
        for c, ax in enumerate(axes[r]):
            if c >= len(ds):
                ax.axis("off")
                continue
            col = d[(d.kind == k) & (d.dim == ds[c])]
            ax.hist(col.noise, bins=25, color=figures.OKABE_ITO[r], rasterized=True)
            ax.set_title(
                f"p={col.p.iloc[0]:.2g}, α={col.tail_index_mohammadi.iloc[0]:.2f}", fontsize=7
            )
            ax.tick_params(labelsize=5)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
            ax.xaxis.get_offset_text().set_fontsize(5)
    [
        ax.set_ylabel(f"count (SW: {w})", fontsize=7)
        for ax, w in zip(axes[:, 0], ("Gaussian", "rejected"))
    ]
    fig.supxlabel(
        "minibatch gradient noise of one weight dimension (loss units per weight unit)", fontsize=8
    )
    return figures.save(fig, name)


def noise_across_batch_sizes(ex: pd.DataFrame, layer: str, name: str, source: str = ""):
    """Fig 9: a layer's non-Gaussian example dims, standardized, pooled per batch size, against N(0,
    1)."""
    figures.style()
    d = ex[(ex.layer == layer) & (ex.kind == "non-gaussian")]
    bss, xs = sorted(d.batch_size.unique()), np.linspace(-6, 6, 200)
    fig, axes = plt.subplots(1, len(bss), squeeze=False, sharey=True, figsize=(7.0, 2.8))
    for ax, bs in zip(axes[0], bss):
        g = d[d.batch_size == bs]
        standardized = g.groupby("dim").noise.transform(lambda v: (v - v.mean()) / v.std())
        ax.hist(standardized, bins=40, range=(-6, 6), density=True, color=figures.OKABE_ITO[1],
                rasterized=True)
        ax.plot(xs, np.exp(-xs ** 2 / 2) / np.sqrt(2 * np.pi), "k--", lw=0.8, label="N(0, 1)")
        ax.set_title(
            f"batch {bs}, mean α={g.groupby('dim').tail_index_mohammadi.first().mean():.2f}",
            fontsize=7,
        )
        ax.set(yscale="log", xlabel="noise / its std")
    axes[0][0].set_ylabel("density (log scale)")
    axes[0][0].legend(fontsize=6)
    return figures.save(fig, name)
