"""The book's figures (paper Figs 1-3 and 6, the theory checks, the training demo; Figs 4-5 and the
Berry-Esseen check are in `sgnlib.moment_figures`, Figs 7-9 in `sgnlib.tail_figures`): each function
draws from tidy result tables, saves figures/<name>.svg (vector: sharp at any zoom, smaller than a
2x raster) and returns it (`Saved`), which the notebooks glue into a numbered MyST figure with
caption and alt text. Colours: Okabe-Ito (colour-blind safe) for up to eight categories, viridis for
ordered ones (batch sizes), small multiples beyond; ours solid, the paper's dashed.
"""
from __future__ import annotations

import hashlib
import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .paths import REPO_ROOT
from .reader import final_rows, layer_order, without_options
from .svg_compact import compact

FIG_DIR = REPO_ROOT / "figures"
RASTER_DPI = 200  # dense artists marked rasterized (histogram bars): sharp at 2x
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
MARKERS = "osD^vPX*"
PCT = "% Gaussian (point masses counted)"
OURS = (Line2D([], [], color="k", ls="-", marker="o", ms=3), "ours (band: ± 1 std over repeats)")
PAPER = (Line2D([], [], color="k", ls="--"), "paper (its tables)")
NULL = (Line2D([], [], color="grey", ls=":"), "95 % null ceiling")
RESNET_GROUPS = {"first and final": ("First Layer", "Final Layer"), "block 1": ("Block 1",),
                 "block 2": ("Block 2",), "block 3": ("Block 3",)}


def style():
    import seaborn as sns
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 100, "figure.figsize": (7.0, 3.2),
                         "axes.prop_cycle": plt.cycler(color=OKABE_ITO)})


def colours(n: int, ordered: bool = False) -> list:
    """n colours: viridis for an ordered variable, else Okabe-Ito (more than eight: use small
    multiples)."""
    if ordered:
        return list(plt.cm.viridis(np.linspace(0, 0.85, n)))
    if n > len(OKABE_ITO):
        raise ValueError(f"{n} categories in one plot: split it into small multiples")
    return OKABE_ITO[:n]


class Saved:
    """A saved figure: its SVG for glue and IPython under any backend; other attributes are the
    figure's."""

    def __init__(self, fig, path):
        self.figure, self.path, self.name, self._svg = fig, path, path.stem, path.read_text()

    _repr_svg_ = lambda self: self._svg  # noqa: E731
    __repr__ = lambda self: f"<figure {self.name}>"  # noqa: E731
    __getattr__ = lambda self, attr: getattr(self.figure, attr)  # noqa: E731


def save(fig, name: str) -> Saved:
    """Lay out, save to figures/<name>.svg (no date or version metadata, fixed ids: reproducible
    bytes; text kept as text; written compactly by `svg_compact`; artists marked rasterized drawn
    at 200 dpi), close, return."""
    FIG_DIR.mkdir(exist_ok=True)
    fig.get_layout_engine() or fig.tight_layout()
    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "sgn-book"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                    bbox_inches="tight", pad_inches=0.05, dpi=RASTER_DPI)
    plt.close(fig)
    prefix = "c" + hashlib.sha1(name.encode()).hexdigest()[:4]
    path = FIG_DIR / f"{name}.svg"
    path.write_text(compact(buf.getvalue(), prefix))
    return Saved(fig, path)


def plain_log_ticks(ax, ticks=(1, 2, 3, 5, 10, 20, 30, 50, 100)):
    """A log x axis with plain numbers (not powers of ten) as ticks."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def legend_below(fig, axes, extra=(), ncol=4, bottom=0.1):
    """One legend under the panels: every labelled artist once, then `extra` (handle, label)
    pairs."""
    seen = {}
    for ax in np.ravel(axes):
        seen.update({lab: h for h, lab in zip(*ax.get_legend_handles_labels()) if lab not in seen})
    seen.update({lab: h for h, lab in extra})
    fig.legend(
        list(seen.values()), list(seen), loc="lower center", ncol=ncol, fontsize=7, frameon=False
    )
    fig.set_layout_engine("tight", rect=(0, bottom, 1, 1))


def _panel_vs_batch(ax, grid, ref, layers, cols, nb):
    d = grid[grid.n_batches == nb].groupby(["layer", "batch_size"]).gauss_pct_incl_degenerate
    mean, std = d.mean(), d.std()
    for i, (c, layer) in enumerate(zip(cols, layers)):
        if layer in mean.index.get_level_values(0):
            s, e = mean.loc[layer], std.loc[layer]
            ax.plot(
                s.index, s.values, "-", marker=MARKERS[i % len(MARKERS)], color=c, ms=3, label=layer
            )
            if e.notna().any():
                ax.fill_between(s.index, s - e.fillna(0), s + e.fillna(0), color=c, alpha=0.2, lw=0)
        r = ref[ref.layer == layer].sort_values("batch_size")
        if len(r):
            ax.plot(r.batch_size, r.gauss_pct_mean, "--", color=c, lw=0.9, label=f"_paper {layer}")
    ax.axhline(95, color="grey", lw=0.7, ls=":", label="_null")
    ax.set_xscale("log", base=2)


def gaussianity_vs_batch_size(
    g: pd.DataFrame, paper: pd.DataFrame, model: str, name: str, source: str = ""
):
    """Fig 2: % Gaussian per layer vs batch size, a panel per n_batches; ours solid (± 1 std), paper
    dashed."""
    style()
    grid = final_rows(g, model)
    nbs, layers = sorted(grid.n_batches.unique()), layer_order(grid.layer)
    fig, axes = plt.subplots(1, len(nbs), squeeze=False, sharey=True, figsize=(7.0, 3.6))
    for ax, nb in zip(axes[0], nbs):
        _panel_vs_batch(ax, grid, paper[(paper.model == model) & (paper.n_batches == nb)], layers,
                        colours(len(layers)), nb)
        ax.set_title(f"{nb} minibatches per capture", fontsize=9)
        ax.set_xlabel("batch size (images per minibatch, log scale)")
    axes[0][0].set_ylabel(PCT)
    legend_below(fig, axes, (OURS, PAPER, NULL), ncol=5, bottom=0.14)
    return save(fig, name)


def resnet_vs_batch_size(g: pd.DataFrame, paper: pd.DataFrame, name: str, n_batches: int = 200,
                         model: str = "resnet56"):
    """Fig 3: ResNet-56's paper layers vs batch size, small multiples by block; ours solid, paper
    dashed."""
    style()
    grid, ref = final_rows(g, model), paper[(paper.model == model) & (paper.n_batches == n_batches)]
    fig, axes = plt.subplots(1, 4, sharey=True, figsize=(7.0, 3.4))
    for ax, (title, prefixes) in zip(axes, RESNET_GROUPS.items()):
        layers = [l for l in layer_order(ref.layer) if l.startswith(prefixes)]
        _panel_vs_batch(ax, grid, ref, layers, colours(len(layers)), n_batches)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("batch size (log)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="best")
    axes[0].set_ylabel(PCT)
    legend_below(fig, [], (OURS, PAPER, NULL), ncol=3, bottom=0.08)
    return save(fig, name)


def _series(ax, d, layers, title, palette=None):
    """One line per layer of d[(layer, checkpoint_epoch)], the null ceiling dotted; `palette`:
    {layer: (colour, marker)} (default: in the order of `layers`)."""
    palette = palette or {layer: (c, MARKERS[i])
                          for i, (c, layer) in enumerate(zip(colours(len(layers)), layers))}
    for layer in layers:
        colour, marker = palette[layer]
        ax.plot(d.loc[layer].index, d.loc[layer].values, "-", marker=marker, ms=3, color=colour,
                label=layer)
    ax.axhline(95, color="grey", lw=0.7, ls=":", label="_null")
    ax.set_title(title, fontsize=9)


def _by_epoch(g, models_, batch_size, n_batches):
    s = without_options(g)
    s = s[(s.batch_size == batch_size) & (s.n_batches == n_batches) & s.model.isin(models_)]
    return s.groupby(["model", "layer", "checkpoint_epoch"]).gauss_pct_incl_degenerate.mean()


# the AlexNets' five convolutions (the paper's "Conv-layers"); the other layers are fully connected
CONV_LAYERS = ("Layer 1", "Layer 2", "Layer 3", "Layer 4", "Layer 5")
NET_NAMES = {"alexnet": "AlexNet", "alexnet_bn": "AlexNet-BN"}


def gaussianity_over_epochs(g: pd.DataFrame, models_: list[str], name: str, source: str = "",
                            batch_size: int = 128, n_batches: int = 200, marks=()):
    """Fig 1: % Gaussian per layer at each checkpoint (batch 128, 200 minibatches), as the paper:
    per model a panel of the convolutional layers over one of the fully connected ones, lettered
    down each column ((a) conv, (b) FC of the first model, ...); `marks`: epochs drawn as thin
    vertical lines (the learning-rate drops)."""
    style()
    d = _by_epoch(g, models_, batch_size, n_batches)
    fig, axes = plt.subplots(2, len(models_), squeeze=False, sharey=True, sharex="col",
                             figsize=(7.0, 5.6))
    letters = iter("abcdefgh")
    for j, m in enumerate(models_):
        layers = layer_order(d.loc[m].index.get_level_values(0))
        palette = {layer: (c, MARKERS[i])
                   for i, (c, layer) in enumerate(zip(colours(len(layers)), layers))}
        conv = [x for x in layers if x in CONV_LAYERS]
        parts = (conv, [x for x in layers if x not in conv])
        for ax, part, kind in zip(axes[:, j], parts, ("convolutional", "fully connected")):
            _series(ax, d.loc[m], part, f"({next(letters)}) {NET_NAMES.get(m, m)}: {kind}",
                    palette)
            for e in marks:
                ax.axvline(e, color="grey", lw=0.8, ls="-", alpha=0.5)
        axes[1][j].set_xlabel("training epoch of the checkpoint")
    legend_below(fig, axes, (NULL,), ncol=7, bottom=0.06)
    fig.supylabel(PCT, fontsize=9)
    return save(fig, name)


def resnet_over_epochs(g: pd.DataFrame, name: str, model: str = "resnet20", batch_size: int = 128,
                       n_batches: int = 200, block_layers=(1, 6)):
    """Fig 6: ResNet-20 over training by block: first/final layer, first and sixth convolution per
    block."""
    style()
    d = _by_epoch(g, [model], batch_size, n_batches).loc[model]
    fig, axes = plt.subplots(1, 4, sharey=True, figsize=(7.0, 3.2))
    for ax, (title, prefixes) in zip(axes, RESNET_GROUPS.items()):
        want = (
            [f"{prefixes[0]} Layer {k}" for k in block_layers]
            if prefixes[0].startswith("Block")
            else prefixes
        )
        _series(ax, d, [l for l in want if l in d.index.get_level_values(0)], title)
        ax.set_xlabel("epoch")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="best")
    axes[0].set_ylabel(PCT)
    return save(fig, name)


def berry_esseen_plot(laws, ns, distance_fn, bound_fn, name: str):
    """Theory: sup|F_n - Phi| of a standardized sum (solid) and the Berry-Esseen bound (dashed), per
    law."""
    style()
    fig, ax = plt.subplots()
    for c, law in zip(colours(len(laws)), laws):
        ax.plot(
            ns, [distance_fn(law, n) for n in ns], "-o", ms=3, color=c, label=f"{law}: distance"
        )
        ax.plot(ns, [bound_fn(law, n) for n in ns], "--", color=c, label=f"{law}: bound")
    ax.set(xscale="log", yscale="log", xlabel="n, summands (the batch size; log scale)",
           ylabel=r"$\sup_x|F_n(x) - \Phi(x)|$ (log scale)")
    ax.legend(fontsize=7, ncol=3)
    return save(fig, name)


def prop2_errors(dts, err_h, err_i, name: str):
    """Theory: max relative error of momentum SGD's stationary covariance against eq 33, over the
    step."""
    style()
    fig, ax = plt.subplots()
    ax.loglog(
        dts, err_h, "-o", color=OKABE_ITO[0], label="noise covariance H (D = Δt H): Prop 2 applies"
    )
    ax.loglog(
        dts, err_i, "-s", color=OKABE_ITO[1], label="noise covariance I (D not proportional to H)"
    )
    ax.set(
        xlabel=r"time step $\Delta t$ (log scale)",
        ylabel=r"max rel. error of $\Sigma_\theta$ vs eq 33",
    )
    ax.legend(fontsize=7)
    return save(fig, name)


def training_curve(hist: pd.DataFrame, name: str):
    """Training loss and test accuracy per epoch (the training notebook), chance level dotted."""
    style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(7.0, 2.8))
    a.plot(hist.epoch, hist.train_loss, "-o", ms=3, color=OKABE_ITO[0])
    b.plot(hist.epoch, 100 * hist.test_acc, "-o", ms=3, color=OKABE_ITO[1])
    b.axhline(10, color="grey", ls=":", lw=0.8)
    a.set(xlabel="epoch", ylabel="training loss (cross-entropy, nats)")
    b.set(xlabel="epoch", ylabel="test accuracy (%, chance 10 %)")
    [ax.xaxis.get_major_locator().set_params(integer=True) for ax in (a, b)]
    return save(fig, name)
