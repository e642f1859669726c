"""The three figures of a `sgn-probe` report, drawn from its tables as PNG bytes at twice the
displayed resolution (the page embeds them inline; nothing is fetched):

- % Gaussian dimensions per layer against batch size, point masses counted and not counted, with
  the 95 % null ceiling (what exactly Gaussian noise gives);
- beta/sigma^3 per layer: the 5-25-50-75-95 % quantiles over its weight dimensions, beside the
  Gaussian value 2 sqrt(2/pi) (paper eq 13: the Berry-Esseen distance is at most
  0.4748 beta/sigma^3 / sqrt(batch size));
- the tail index alpha per layer (median of the per-column estimates) at each batch size, against
  the band where the estimate falls for exactly Gaussian columns of the same length (null band).

Drawn with matplotlib's object interface (no pyplot state, no global style change). Colours:
Okabe-Ito up to eight layers or batch sizes, viridis (ordered) beyond.
"""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .figures import OKABE_ITO

DPI = 200          # 2x a 100 px-per-inch display: sharp on high-density screens
WIDTH_IN = 7.0     # 700 px displayed
GAUSSIAN_RATIO = 2 * math.sqrt(2 / math.pi)  # beta/sigma^3 of a Gaussian: E|Z|^3
RC = {"font.size": 9, "axes.grid": True, "grid.alpha": 0.3}


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (no version metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _colours(n: int) -> list:
    if n <= len(OKABE_ITO):
        return OKABE_ITO[:n]
    from matplotlib import colormaps
    return list(colormaps["viridis"](np.linspace(0, 0.9, n)))


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


def gaussian_vs_batch(g: pd.DataFrame) -> bytes:
    """% Gaussian per layer against batch size (log2), two panels: point masses counted / not."""
    layers = list(dict.fromkeys(g.layer))
    fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    cols = _colours(len(layers))
    ceiling = float(g.null_ceiling_pct.iloc[0])
    for ax, col, title in zip(axes, ("gauss_pct_incl_degenerate", "gauss_pct_excl_degenerate"),
                              ("point masses counted Gaussian", "point masses not counted")):
        for layer, c in zip(layers, cols):
            d = g[g.layer == layer].sort_values("batch_size")
            ax.plot(d.batch_size, d[col], marker="o", ms=3, color=c, label=_short(layer))
        ax.axhline(ceiling, color="grey", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        sizes = sorted(g.batch_size.unique())
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.minorticks_off()
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("batch size")
    axes[0].set_ylabel("% Gaussian dimensions")
    axes[0].set_ylim(min(0, float(g.gauss_pct_excl_degenerate.min()) - 2), 101)
    extra = [(Line2D([], [], color="grey", ls=":"), f"null ceiling {ceiling:g} %")]
    handles = [(Line2D([], [], color=c, marker="o", ms=3), _short(l)) for l, c in zip(layers, cols)]
    shown = handles if len(layers) <= 12 else [handles[0], handles[-1]]
    fig.legend(*zip(*(shown + extra)), loc="outside lower center", ncol=min(4, len(shown) + 1),
               fontsize=8, frameon=False, title=None if len(layers) <= 12 else
               f"first and last of {len(layers)} layers (viridis: forward order)")
    return png(fig)


def _layer_axes(n: int):
    fig = Figure(figsize=(WIDTH_IN, max(2.6, 1.5 + 0.26 * n)), layout="constrained")
    ax = fig.subplots()
    ax.set_ylim(n - 0.5, -0.5)  # first layer on top
    return fig, ax


def beta_sigma3_per_layer(m: pd.DataFrame) -> bytes:
    """Quantile boxes of beta/sigma^3 per layer (log scale), the Gaussian value dotted."""
    per = m.groupby("layer", sort=False).first().reset_index()
    fig, ax = _layer_axes(len(per))
    for i, r in per.iterrows():
        if not r.n_finite:
            ax.text(1.05, i, "all point masses", va="center", fontsize=8, color="grey")
            continue
        ax.plot([r.q05, r.q95], [i, i], color=OKABE_ITO[0], lw=1)
        ax.add_patch(_box(r.q25, r.q75, i))
        ax.plot([r.q50, r.q50], [i - 0.3, i + 0.3], color="k", lw=1.5)
    ax.axvline(GAUSSIAN_RATIO, color="grey", ls=":", lw=1)
    ax.set_xscale("log")
    hi = max(2.0, float(np.nanmax(per.q95.to_numpy(dtype=float), initial=2.0)) * 1.1)
    ax.set_xlim(0.95, hi)
    ticks = [t for t in (1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(range(len(per)), [_short(n) for n in per.layer])
    ax.set_xlabel("β/σ³ per weight dimension (box 25-75 %, line 5-95 %, bar median)")
    fig.legend([Line2D([], [], color="grey", ls=":")],
               [f"Gaussian: 2√(2/π) = {GAUSSIAN_RATIO:.3f}"], fontsize=8, frameon=False,
               loc="outside lower center")
    return png(fig)


def _box(lo, hi, y):
    from matplotlib.patches import Rectangle
    return Rectangle((lo, y - 0.3), hi - lo, 0.6, facecolor=OKABE_ITO[5], edgecolor=OKABE_ITO[0])


def tail_index_per_layer(t: pd.DataFrame) -> bytes:
    """Median per-column alpha per layer and batch size, against the null band (5-95 %)."""
    per = t.groupby(["layer", "batch_size"], sort=False).first().reset_index()
    layers = list(dict.fromkeys(per.layer))
    sizes = sorted(per.batch_size.unique())
    fig, ax = _layer_axes(len(layers))
    q05, q50, q95 = (float(per[c].iloc[0]) for c in ("null_q05", "null_q50", "null_q95"))
    ax.axvspan(q05, q95, color="0.85", lw=0)
    ax.axvline(q50, color="grey", ls="--", lw=1)
    pos = {layer: i for i, layer in enumerate(layers)}
    offsets = np.linspace(-0.25, 0.25, len(sizes)) if len(sizes) > 1 else [0.0]
    for bs, c, dy in zip(sizes, _colours(len(sizes)), offsets):
        d = per[per.batch_size == bs]
        ax.plot(d.tail_index_median_all, [pos[l] + dy for l in d.layer], "o", ms=4, color=c,
                label=f"batch size {bs}")
    ax.set_yticks(range(len(layers)), [_short(n) for n in layers])
    ax.set_xlabel("tail index α (median over the layer's columns; 2 = Gaussian)")
    band = Line2D([], [], color="0.85", lw=6)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles + [band], labels + [f"null band 5-95 % ({q05:.2f}-{q95:.2f})"],
               fontsize=8, frameon=False, loc="outside lower center",
               ncol=min(4, len(sizes) + 1))
    return png(fig)


def figures(result) -> dict[str, tuple[bytes, str, str]]:
    """{name: (png, alt text, caption)} for a `sgnlib.probe_report.ProbeResult`."""
    g, t, m = result.gaussianity, result.tail_index, result.beta_sigma3
    n = result.settings["n_batches"]
    out = {"gaussian": (gaussian_vs_batch(g),
                        "Line plots of the percentage of Gaussian weight dimensions of each layer "
                        "against batch size, with and without point masses",
                        "% Gaussian dimensions per layer against batch size (Shapiro-Wilk, "
                        f"{n} minibatches per batch size); dotted: the null ceiling, the share "
                        "exactly Gaussian noise would reach.")}
    if m is not None:
        out["beta_sigma3"] = (beta_sigma3_per_layer(m),
                              "Box plots of beta over sigma cubed per layer on a log scale",
                              f"β/σ³ per layer, from per-sample gradients of "
                              f"{result.settings['n_samples']} examples (model in eval mode); "
                              "the Berry-Esseen distance to the Gaussian is at most "
                              "0.4748 β/σ³ / √(batch size).")
    out["tail"] = (tail_index_per_layer(t),
                   "Dot plot of the median tail index per layer at each batch size, over a grey "
                   "band of the values Gaussian noise gives",
                   f"Tail index α per layer (Mohammadi estimator, median over columns) at each "
                   f"batch size; grey: 5-95 % of the estimate on Gaussian columns of {n} samples, "
                   "dashed: its median. Inside the band is what Gaussian noise gives.")
    return out
