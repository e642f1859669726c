"""One shared figure style and the plots of the book (paper Fig 1-9, the theory checks).

Each function takes tidy result tables, draws a new figure, saves it under figures/<name>.png
(git-ignored) and returns it (`Saved`: the PNG and the closed figure): the notebooks glue it into a
numbered MyST figure (`myst_nb.glue(key, fig, display=False)` and a `{glue:figure}` with caption and alt text).
Colours: the Okabe-Ito palette (colour-blind safe) for up to eight categories, viridis for ordered
ones (batch sizes), small multiples where a plot would need more; ours solid, the paper's dashed.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .paths import REPO_ROOT
from .report import final_epoch_grid, layer_order

FIG_DIR = REPO_ROOT / "figures"
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
MARKERS = "osD^vPX*"
PCT = "% Gaussian dimensions (paper rule)"
BATCH = "batch size (images per minibatch, log scale)"


def style():
    import seaborn as sns
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (7.0, 3.2),
                         "axes.prop_cycle": plt.cycler(color=OKABE_ITO)})


def colours(n: int) -> list:
    """n categorical colours (Okabe-Ito); more than eight is an error: use small multiples."""
    if n > len(OKABE_ITO):
        raise ValueError(f"{n} categories in one plot: split it into small multiples")
    return OKABE_ITO[:n]


def ordered(n: int) -> list:
    """n colours of an ordered variable (viridis, colour-blind safe)."""
    return list(plt.cm.viridis(np.linspace(0, 0.85, n)))


class Saved:
    """A figure saved as PNG: glue and IPython show the PNG under any matplotlib backend (the book
    builds with MPLBACKEND=Agg); attributes other than `path` and `name` are the figure's."""

    def __init__(self, fig, path):
        self.figure, self.path, self.name = fig, path, path.stem
        self._png = path.read_bytes()

    def _repr_png_(self):
        return self._png

    def __repr__(self):
        return f"<figure {self.name}>"

    def __getattr__(self, attr):
        return getattr(self.figure, attr)


def save(fig, name: str) -> Saved:
    """Lay out, save to figures/<name>.png (no version metadata, so the bytes are reproducible),
    close, and return it for glue."""
    FIG_DIR.mkdir(exist_ok=True)
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    path = FIG_DIR / f"{name}.png"
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return Saved(fig, path)


def _plain_log_ticks(ax, ticks=(1, 2, 3, 5, 10, 20, 30, 50, 100)):
    """Plain numbers (not powers of ten) as ticks of a log x axis."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _legend_below(fig, axes, extra=(), ncol=4):
    handles, labels = [], []
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    for h, lab in extra:
        handles.append(h)
        labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=7, frameon=False)


def _style_handles():
    from matplotlib.lines import Line2D
    return [(Line2D([], [], color="k", ls="-", marker="o", ms=3), "ours (band: ± 1 std over repeats)"),
            (Line2D([], [], color="k", ls="--"), "paper (its tables)"),
            (Line2D([], [], color="grey", ls=":"), "95 % null ceiling")]


def _panel_vs_batch(ax, grid, ref, layers, cols, nb):
    d = grid[grid.n_batches == nb]
    mean = d.groupby(["layer", "batch_size"]).gauss_pct_paper.mean()
    std = d.groupby(["layer", "batch_size"]).gauss_pct_paper.std()
    for i, (c, layer) in enumerate(zip(cols, layers)):
        if layer in mean.index.get_level_values(0):
            s, e = mean.loc[layer], std.loc[layer]
            ax.plot(s.index, s.values, "-", marker=MARKERS[i % len(MARKERS)], color=c, ms=3, label=layer)
            if e.notna().any():
                ax.fill_between(s.index, s - e.fillna(0), s + e.fillna(0), color=c, alpha=0.2, lw=0)
        r = ref[ref.layer == layer].sort_values("batch_size")
        if len(r):
            ax.plot(r.batch_size, r.gauss_pct_mean, "--", color=c, lw=0.9, label=f"_paper {layer}")
    ax.axhline(95, color="grey", lw=0.7, ls=":", label="_null")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(BATCH)


def gaussianity_vs_batch_size(g: pd.DataFrame, paper: pd.DataFrame, model: str, name: str, source: str = ""):
    """Fig 2: % Gaussian per layer vs batch size, one panel per number of minibatches; ours solid
    (mean over repeats, band ± 1 std), the paper's tables dashed, the 95 % null ceiling dotted."""
    style()
    grid = final_epoch_grid(g, model)
    nbs = sorted(grid.n_batches.unique())
    fig, axes = plt.subplots(1, len(nbs), squeeze=False, sharey=True, figsize=(7.0, 3.6))
    layers = layer_order(grid.layer)
    cols = colours(len(layers))
    for ax, nb in zip(axes[0], nbs):
        _panel_vs_batch(ax, grid, paper[(paper.model == model) & (paper.n_batches == nb)], layers, cols, nb)
        ax.set_title(f"{nb} minibatches per capture", fontsize=9)
    axes[0][0].set_ylabel(PCT)
    _legend_below(fig, axes, _style_handles(), ncol=5)
    fig.set_layout_engine("tight", rect=(0, 0.14, 1, 1))
    return save(fig, name)


RESNET_GROUPS = {"first and final": ("First Layer", "Final Layer"), "block 1": ("Block 1",),
                 "block 2": ("Block 2",), "block 3": ("Block 3",)}


def resnet_vs_batch_size(g: pd.DataFrame, paper: pd.DataFrame, name: str, n_batches: int = 200,
                         model: str = "resnet56"):
    """Fig 3: ResNet-56's paper layers (first, final, layers 1, 9, 18 of each block) vs batch size,
    small multiples by block; ours solid, the paper's Table 3/4 dashed."""
    style()
    grid = final_epoch_grid(g, model)
    ref = paper[(paper.model == model) & (paper.n_batches == n_batches)]
    shown = layer_order(ref.layer)
    fig, axes = plt.subplots(1, 4, sharey=True, figsize=(7.0, 3.4))
    for ax, (title, prefixes) in zip(axes, RESNET_GROUPS.items()):
        layers = [l for l in shown if l.startswith(prefixes)]
        _panel_vs_batch(ax, grid, ref, layers, colours(len(layers)), n_batches)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("batch size (log)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="lower right")
    axes[0].set_ylabel(PCT)
    _legend_below(fig, [], _style_handles(), ncol=3)
    fig.set_layout_engine("tight", rect=(0, 0.08, 1, 1))
    return save(fig, name)


def gaussianity_over_epochs(g: pd.DataFrame, models_: list[str], name: str, source: str = "",
                            batch_size: int = 128, n_batches: int = 200):
    """Fig 1: % Gaussian per layer at each checkpoint (batch 128, 200 minibatches; mean over repeats
    where a checkpoint has several), one panel per model."""
    style()
    s = g[(g.batch_size == batch_size) & (g.n_batches == n_batches) & g.model.isin(models_)]
    fig, axes = plt.subplots(1, len(models_), squeeze=False, sharey=True, figsize=(7.0, 3.6))
    for ax, m in zip(axes[0], models_):
        d = s[s.model == m].groupby(["layer", "checkpoint_epoch"]).gauss_pct_paper.mean()
        layers = layer_order(d.index.get_level_values(0))
        for i, (c, layer) in enumerate(zip(colours(len(layers)), layers)):
            ax.plot(d.loc[layer].index, d.loc[layer].values, "-", marker=MARKERS[i], ms=3, color=c, label=layer)
        ax.axhline(95, color="grey", lw=0.7, ls=":", label="_null")
        ax.set_title({"alexnet": "AlexNet", "alexnet_bn": "AlexNet-BN"}.get(m, m), fontsize=9)
        ax.set_xlabel("training epoch of the checkpoint")
    axes[0][0].set_ylabel(PCT)
    _legend_below(fig, axes, _style_handles()[2:], ncol=7)
    fig.set_layout_engine("tight", rect=(0, 0.08, 1, 1))
    return save(fig, name)


def resnet_over_epochs(g: pd.DataFrame, name: str, model: str = "resnet20", batch_size: int = 128,
                       n_batches: int = 200, block_layers=(1, 6)):
    """Fig 6: ResNet-20 over training, small multiples: first and final layer, and the first and
    sixth convolution of each block (the layers the paper plots)."""
    style()
    s = g[(g.batch_size == batch_size) & (g.n_batches == n_batches) & (g.model == model)]
    d = s.groupby(["layer", "checkpoint_epoch"]).gauss_pct_paper.mean()
    have = set(d.index.get_level_values(0))
    fig, axes = plt.subplots(1, 4, sharey=True, figsize=(7.0, 3.2))
    for ax, (title, prefixes) in zip(axes, RESNET_GROUPS.items()):
        if prefixes[0].startswith("Block"):
            layers = [f"{prefixes[0]} Layer {k}" for k in block_layers]
        else:
            layers = list(prefixes)
        layers = [l for l in layers if l in have]
        for i, (c, layer) in enumerate(zip(colours(len(layers)), layers)):
            ax.plot(d.loc[layer].index, d.loc[layer].values, "-", marker=MARKERS[i], ms=3, color=c, label=layer)
        ax.axhline(95, color="grey", lw=0.7, ls=":")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="lower right")
    axes[0].set_ylabel(PCT)
    return save(fig, name)


def ratio_histograms(m: pd.DataFrame, model: str, name: str, source: str = "", layers=None):
    """Fig 4: distribution of beta/sigma^3 over each layer's weight dimensions (log bins of the
    moments table, each layer normalised to 1)."""
    style()
    d = m[m.model == model]
    layers = layers or layer_order(d.layer)
    fig, ax = plt.subplots()
    for c, layer in zip(colours(len(layers)), layers):
        h = d[d.layer == layer].sort_values("bin_lo")
        total = h["count"].sum()
        if total:
            ax.step(np.sqrt(h.bin_lo * h.bin_hi), h["count"] / total, where="mid", color=c, label=layer)
    ax.set_xscale("log")
    _plain_log_ticks(ax)
    ax.set_xlabel(r"$\beta/\sigma^3$ of a weight dimension (dimensionless, $\geq 1$; log scale)")
    ax.set_ylabel("fraction of the layer's dimensions")
    ax.legend(fontsize=7, ncol=2)
    return save(fig, name)


def fig5_spines(m: pd.DataFrame, spines: dict, model: str, name: str):
    """Fig 5: per layer, the beta/sigma^3 distribution (grey) and one vertical spine per batch size
    at the quantile equal to the layer's Gaussian fraction: ours solid, at the paper's fraction dashed.
    spines: {layer: sgnlib.tables.fig5_spines(...)}."""
    style()
    layers = list(spines)
    fig, axes = plt.subplots(1, len(layers), squeeze=False, sharey=True, figsize=(7.0, 3.8))
    for ax, layer in zip(axes[0], layers):
        h = m[(m.model == model) & (m.layer == layer)].sort_values("bin_lo")
        ax.step(np.sqrt(h.bin_lo * h.bin_hi), h["count"] / h["count"].sum(), where="mid", color="grey",
                label="_hist")
        sp = spines[layer]
        for c, (_, r) in zip(ordered(len(sp)), sp.iterrows()):
            ax.axvline(r.ratio, color=c, lw=1.2, label=f"batch {int(r.batch_size)}")
            if pd.notna(r.paper_ratio):
                ax.axvline(r.paper_ratio, color=c, lw=0.9, ls="--", label=f"_paper {int(r.batch_size)}")
        ax.set_xscale("log")
        _plain_log_ticks(ax, (1, 3, 10, 30, 100))
        ax.set_title(layer, fontsize=9)
        ax.set_xlabel(r"$\beta/\sigma^3$ (log scale)")
    axes[0][0].set_ylabel("fraction of dimensions")
    from matplotlib.lines import Line2D
    _legend_below(fig, axes, [(Line2D([], [], color="k"), "ours"),
                              (Line2D([], [], color="k", ls="--"), "at the paper's fraction")], ncol=4)
    fig.set_layout_engine("tight", rect=(0, 0.16, 1, 1))
    return save(fig, name)


def berry_esseen_layers(be: pd.DataFrame, name: str, source: str = ""):
    """The Berry-Esseen check per layer (small multiples): median Kolmogorov distance of the
    minibatch noise to Phi (solid), median eq-13 bound (dashed), 200-sample floor (dotted)."""
    style()
    layers = layer_order(be.layer)
    ncol = 3
    nrow = -(-len(layers) // ncol)
    fig, axes = plt.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=True, figsize=(7.0, 2.2 * nrow + 0.6))
    for ax, layer in zip(axes.ravel(), layers):
        d = be[be.layer == layer].sort_values("batch_size")
        ax.plot(d.batch_size, d.ks_q50, "-o", ms=3, color=OKABE_ITO[0], label="distance to Φ (median)")
        ax.plot(d.batch_size, d.bound_q50, "--", color=OKABE_ITO[1], label="eq-13 bound (median)")
        ax.axhline(be.null_ks_q50.iloc[0], color="grey", ls=":", lw=0.8, label="200-sample floor")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(layer, fontsize=9)
    for ax in axes.ravel()[len(layers):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("batch size (log)")
    for ax in axes[:, 0]:
        ax.set_ylabel(r"$\sup_x|F - \Phi|$")
    _legend_below(fig, axes, ncol=3)
    fig.set_layout_engine("tight", rect=(0, 0.07, 1, 1))
    return save(fig, name)


def tail_index_histograms(ti: pd.DataFrame, model: str, layers, name: str, source: str = "", n_batches: int = 200):
    """Fig 7 and Fig 9's tail indices: histograms of the Mohammadi et al. (2015) tail index of the
    non-Gaussian dimensions at the final checkpoint, one panel per layer, one curve per batch size."""
    style()
    layers = [layers] if isinstance(layers, str) else list(layers)
    d = ti[(ti.model == model) & (ti.checkpoint_epoch == ti.epochs) & (ti.n_batches == n_batches)]
    fig, axes = plt.subplots(1, len(layers), squeeze=False, sharey=True, figsize=(7.0, 3.2))
    for ax, layer in zip(axes[0], layers):
        dl = d[d.layer == layer]
        bss = sorted(dl.batch_size.unique())
        for c, bs in zip(ordered(len(bss)), bss):
            h = dl[dl.batch_size == bs].groupby(["bin_lo", "bin_hi"]).count_nongaussian.sum().reset_index()
            if h.count_nongaussian.sum():
                ax.step((h.bin_lo + h.bin_hi) / 2, h.count_nongaussian / h.count_nongaussian.sum(), where="mid",
                        color=c, label=f"batch {bs}")
        ax.set_title(layer, fontsize=9)
        ax.set_xlabel(r"tail index $\alpha$ (2 = Gaussian)")
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("fraction of non-Gaussian dims")
    return save(fig, name)


def noise_examples(ex: pd.DataFrame, layer: str, batch_size: int, name: str, source: str = ""):
    """Fig 8: histograms of the minibatch noise of a few dimensions Shapiro-Wilk calls Gaussian (top)
    and of a few it rejects (bottom); each panel gives the p-value and the tail index."""
    style()
    d = ex[(ex.layer == layer) & (ex.batch_size == batch_size)]
    kinds = ["gaussian", "non-gaussian"]
    dims = {k: sorted(d[d.kind == k].dim.unique()) for k in kinds}
    ncol = max(1, max(len(v) for v in dims.values()))
    fig, axes = plt.subplots(2, ncol, squeeze=False, figsize=(7.0, 3.6))
    for r, k in enumerate(kinds):
        for c in range(ncol):
            ax = axes[r][c]
            if c >= len(dims[k]):
                ax.axis("off")
                continue
            col = d[(d.kind == k) & (d.dim == dims[k][c])]
            ax.hist(col.noise, bins=25, color=OKABE_ITO[0] if r == 0 else OKABE_ITO[1])
            ax.set_title(f"p={col.p.iloc[0]:.2g}, α={col.alpha_mohammadi.iloc[0]:.2f}", fontsize=7)
            ax.tick_params(labelsize=5)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
            ax.xaxis.get_offset_text().set_fontsize(5)
    axes[0][0].set_ylabel("count (SW: Gaussian)", fontsize=7)
    axes[1][0].set_ylabel("count (SW: rejected)", fontsize=7)
    fig.supxlabel("minibatch gradient noise of one weight dimension (loss units per weight unit)", fontsize=8)
    return save(fig, name)


def noise_across_batch_sizes(ex: pd.DataFrame, layer: str, name: str, source: str = ""):
    """Fig 9: the non-Gaussian example dimensions of a layer, each standardized, pooled per batch size,
    against the N(0, 1) density (dashed)."""
    style()
    d = ex[(ex.layer == layer) & (ex.kind == "non-gaussian")]
    bss = sorted(d.batch_size.unique())
    fig, axes = plt.subplots(1, len(bss), squeeze=False, sharey=True, figsize=(7.0, 2.8))
    xs = np.linspace(-6, 6, 200)
    for ax, bs in zip(axes[0], bss):
        g = d[d.batch_size == bs]
        z = g.groupby("dim").noise.transform(lambda v: (v - v.mean()) / v.std())
        ax.hist(z, bins=40, range=(-6, 6), density=True, color=OKABE_ITO[1])
        ax.plot(xs, np.exp(-xs ** 2 / 2) / np.sqrt(2 * np.pi), "k--", lw=0.8, label="N(0, 1)")
        ax.set_title(f"batch {bs}, mean α={g.groupby('dim').alpha_mohammadi.first().mean():.2f}", fontsize=7)
        ax.set_yscale("log")
        ax.set_xlabel("noise / its std")
    axes[0][0].set_ylabel("density (log scale)")
    axes[0][0].legend(fontsize=6)
    return save(fig, name)


def berry_esseen_plot(laws, ns, distance_fn, bound_fn, name: str):
    """Theory: sup|F_n - Phi| of the standardized sum of n variables (solid) against the Berry-Esseen
    bound (dashed), per law, over n."""
    style()
    fig, ax = plt.subplots()
    for c, law in zip(colours(len(laws)), laws):
        ax.plot(ns, [distance_fn(law, n) for n in ns], "-o", ms=3, color=c, label=f"{law}: distance")
        ax.plot(ns, [bound_fn(law, n) for n in ns], "--", color=c, label=f"{law}: bound")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n, summands (the batch size; log scale)")
    ax.set_ylabel(r"$\sup_x|F_n(x) - \Phi(x)|$ (log scale)")
    ax.legend(fontsize=7, ncol=3)
    return save(fig, name)


def prop2_errors(dts, err_h, err_i, name: str):
    """Theory: max relative error of momentum SGD's stationary covariance against eq 33, over the step."""
    style()
    fig, ax = plt.subplots()
    ax.loglog(dts, err_h, "-o", color=OKABE_ITO[0], label="noise covariance H (D = Δt H): Prop 2 applies")
    ax.loglog(dts, err_i, "-s", color=OKABE_ITO[1], label="noise covariance I (D not proportional to H)")
    ax.set_xlabel(r"time step $\Delta t$ (log scale)")
    ax.set_ylabel(r"max rel. error of $\Sigma_\theta$ vs eq 33")
    ax.legend(fontsize=7)
    return save(fig, name)


def training_curve(hist: pd.DataFrame, name: str):
    """Training loss and test accuracy per epoch (the training notebook), chance level dotted."""
    style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(7.0, 2.8))
    a.plot(hist.epoch, hist.train_loss, "-o", ms=3, color=OKABE_ITO[0])
    a.set_xlabel("epoch")
    a.set_ylabel("training loss (cross-entropy, nats)")
    b.plot(hist.epoch, 100 * hist.test_acc, "-o", ms=3, color=OKABE_ITO[1])
    b.axhline(10, color="grey", ls=":", lw=0.8)
    b.set_xlabel("epoch")
    b.set_ylabel("test accuracy (%, chance 10 %)")
    for ax in (a, b):
        ax.xaxis.get_major_locator().set_params(integer=True)
    return save(fig, name)
