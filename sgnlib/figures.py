"""One shared figure style and the plots of the figure chapters (paper Fig 1-9).

Each function takes tidy result tables, draws on a new figure, saves it under figures/<name>.png
(git-ignored), shows it when run in a notebook and returns the file's path.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .paths import REPO_ROOT
from .report import final_epoch_grid, layer_order

FIG_DIR = REPO_ROOT / "figures"


def style():
    import seaborn as sns
    sns.set_theme(context="paper", style="whitegrid", palette="viridis", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "figure.figsize": (7.0, 3.2)})


def save(fig, name: str) -> Path:
    """Save to figures/<name>.png, close, and show the saved file when running under IPython."""
    FIG_DIR.mkdir(exist_ok=True)
    fig.tight_layout()
    path = FIG_DIR / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
        if get_ipython() is not None:
            display(Image(filename=str(path)))
    except ImportError:
        pass
    return path


def gaussianity_vs_batch_size(g: pd.DataFrame, paper: pd.DataFrame, model: str, name: str, source: str):
    """Fig 2 / Fig 3: % Gaussian per layer vs batch size, ours (solid) and the paper's (dashed)."""
    style()
    grid = final_epoch_grid(g, model)
    nbs = sorted(grid.n_batches.unique())
    fig, axes = plt.subplots(1, len(nbs), squeeze=False, sharey=True)
    layers = layer_order(grid.layer)
    if len(layers) > 8:
        layers = [l for l in layers if l in set(paper[paper.model == model].layer)]
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(layers)))
    for ax, nb in zip(axes[0], nbs):
        ours = grid[grid.n_batches == nb].groupby(["layer", "batch_size"]).gauss_pct_paper.mean()
        ref = paper[(paper.model == model) & (paper.n_batches == nb)]
        for c, layer in zip(colors, layers):
            if layer in ours.index.get_level_values(0):
                s = ours.loc[layer]
                ax.plot(s.index, s.values, "-o", color=c, ms=3, label=layer)
            r = ref[ref.layer == layer]
            if len(r):
                ax.plot(r.batch_size, r.gauss_pct_mean, "--", color=c, lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_title(f"{model}, {nb} batches")
        ax.set_xlabel("batch size")
        ax.axhline(95, color="grey", lw=0.6, ls=":")
    axes[0][0].set_ylabel("% Gaussian (paper rule)")
    axes[0][-1].legend(fontsize=6, loc="lower right", ncol=2)
    fig.suptitle(f"solid: ours ({source}); dashed: paper; dotted: 95 % null ceiling", fontsize=8)
    return save(fig, name)


def gaussianity_over_epochs(g: pd.DataFrame, models_: list[str], name: str, source: str):
    """Fig 1 / Fig 6: % Gaussian per layer at each checkpoint (batch 128, 200 batches)."""
    style()
    s = g[(g.batch_size == 128) & (g.n_batches == 200) & g.model.isin(models_)]
    fig, axes = plt.subplots(1, len(models_), squeeze=False, sharey=True)
    for ax, m in zip(axes[0], models_):
        d = s[s.model == m].groupby(["layer", "checkpoint_epoch"]).gauss_pct_paper.mean()
        layers = layer_order(d.index.get_level_values(0))
        if len(layers) > 8:
            layers = [l for l in layers if l.endswith(("Layer 1", "Layer 6")) or l in ("First Layer", "Final Layer")]
        for c, layer in zip(plt.cm.viridis(np.linspace(0, 0.9, len(layers))), layers):
            ax.plot(d.loc[layer].index, d.loc[layer].values, "-o", ms=2, color=c, label=layer)
        ax.set_title(m)
        ax.set_xlabel("epoch")
    axes[0][0].set_ylabel("% Gaussian (paper rule)")
    axes[0][-1].legend(fontsize=6, ncol=2)
    fig.suptitle(f"batch 128, 200 batches ({source})", fontsize=8)
    return save(fig, name)


def ratio_histograms(m: pd.DataFrame, model: str, name: str, source: str, layers=None):
    """Fig 4: distribution of beta/sigma^3 per layer (log bins from the moments table)."""
    style()
    d = m[m.model == model]
    layers = layers or layer_order(d.layer)
    fig, ax = plt.subplots()
    for c, layer in zip(plt.cm.viridis(np.linspace(0, 0.9, len(layers))), layers):
        h = d[d.layer == layer]
        total = h["count"].sum()
        if total:
            ax.step(np.sqrt(h.bin_lo * h.bin_hi), h["count"] / total, where="mid", color=c, label=layer)
    ax.set_xscale("log")
    ax.set_xlabel(r"$\beta/\sigma^3$ per weight dimension (always $\geq 1$)")
    ax.set_ylabel("fraction of dimensions")
    ax.legend(fontsize=6, ncol=2)
    ax.set_title(f"{model}, per-sample gradients, eval-mode BN ({source})", fontsize=8)
    return save(fig, name)


def tail_index_histograms(ti: pd.DataFrame, model: str, layer: str, name: str, source: str):
    """Fig 7 / Fig 9: tail-index histograms of the non-Gaussian dimensions, one curve per batch size."""
    style()
    d = ti[(ti.model == model) & (ti.layer == layer) & (ti.checkpoint_epoch == ti.epochs) & (ti.n_batches == 200)]
    fig, ax = plt.subplots()
    bss = sorted(d.batch_size.unique())
    for c, bs in zip(plt.cm.viridis(np.linspace(0, 0.9, len(bss))), bss):
        h = d[d.batch_size == bs].groupby(["bin_lo", "bin_hi"]).count_nongaussian.sum().reset_index()
        if h.count_nongaussian.sum():
            ax.step((h.bin_lo + h.bin_hi) / 2, h.count_nongaussian / h.count_nongaussian.sum(), where="mid",
                    color=c, label=f"batch {bs}")
    ax.set_xlabel(r"tail index $\alpha$ (Mohammadi et al. 2015; 2 = Gaussian)")
    ax.set_ylabel("fraction of non-Gaussian dims")
    ax.legend(fontsize=6)
    ax.set_title(f"{model} {layer}, 200 batches ({source})", fontsize=8)
    return save(fig, name)


def berry_esseen_layers(be: pd.DataFrame, name: str, source: str):
    """Fig 5 check: median Kolmogorov distance of the minibatch noise to Phi (solid) vs the median
    Berry-Esseen bound (dashed) per layer over batch size; dotted: the 200-sample floor."""
    style()
    fig, ax = plt.subplots()
    layers = layer_order(be.layer)
    for c, layer in zip(plt.cm.viridis(np.linspace(0, 0.9, len(layers))), layers):
        d = be[be.layer == layer].sort_values("batch_size")
        ax.plot(d.batch_size, d.ks_q50, "-o", ms=3, color=c, label=layer)
        ax.plot(d.batch_size, d.bound_q50, "--", color=c, lw=0.8)
    ax.axhline(be.null_ks_q50.iloc[0], color="grey", ls=":", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel(r"$\sup|F - \Phi|$ (median over dims)")
    ax.legend(fontsize=6, ncol=2)
    ax.set_title(f"solid: minibatch noise; dashed: Berry-Esseen bound; dotted: sampling floor ({source})", fontsize=8)
    return save(fig, name)


def noise_examples(ex: pd.DataFrame, layer: str, batch_size: int, name: str, source: str):
    """Fig 8: histograms of the minibatch noise of a few Gaussian (top) and non-Gaussian (bottom) dims."""
    style()
    d = ex[(ex.layer == layer) & (ex.batch_size == batch_size)]
    kinds = ["gaussian", "non-gaussian"]
    dims = {k: sorted(d[d.kind == k].dim.unique()) for k in kinds}
    ncol = max(1, max(len(v) for v in dims.values()))
    fig, axes = plt.subplots(2, ncol, squeeze=False, figsize=(1.6 * ncol, 3.4))
    for r, k in enumerate(kinds):
        for c in range(ncol):
            ax = axes[r][c]
            if c >= len(dims[k]):
                ax.axis("off")
                continue
            col = d[(d.kind == k) & (d.dim == dims[k][c])]
            ax.hist(col.noise, bins=25, color="C0" if r == 0 else "C3")
            ax.set_title(f"p={col.p.iloc[0]:.2g}, a={col.alpha_mohammadi.iloc[0]:.2f}", fontsize=6)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{layer}, batch {batch_size}: top Gaussian by SW, bottom not ({source})", fontsize=8)
    return save(fig, name)


def noise_across_batch_sizes(ex: pd.DataFrame, layer: str, name: str, source: str):
    """Fig 9: the standardized noise of the non-Gaussian example dims, pooled, per batch size."""
    style()
    d = ex[(ex.layer == layer) & (ex.kind == "non-gaussian")]
    bss = sorted(d.batch_size.unique())
    fig, axes = plt.subplots(1, len(bss), squeeze=False, sharey=True, figsize=(1.8 * len(bss), 2.6))
    for ax, bs in zip(axes[0], bss):
        g = d[d.batch_size == bs]
        z = g.groupby("dim").noise.transform(lambda v: v / v.std())
        ax.hist(z, bins=40, range=(-6, 6), density=True, color="C3")
        xs = np.linspace(-6, 6, 200)
        ax.plot(xs, np.exp(-xs ** 2 / 2) / np.sqrt(2 * np.pi), "k--", lw=0.8)
        ax.set_title(f"batch {bs}, mean a={g.groupby('dim').alpha_mohammadi.first().mean():.2f}", fontsize=7)
        ax.set_yscale("log")
    fig.suptitle(f"{layer}: non-Gaussian example dims, standardized, vs N(0,1) ({source})", fontsize=8)
    return save(fig, name)


def berry_esseen_plot(laws, ns, distance_fn, bound_fn, name: str):
    """Theory chapter: sup|F_n - Phi| against the Berry-Esseen bound, per law, over n."""
    style()
    fig, ax = plt.subplots()
    for c, law in zip(plt.cm.viridis(np.linspace(0, 0.9, len(laws))), laws):
        ax.plot(ns, [distance_fn(law, n) for n in ns], "-o", ms=3, color=c, label=f"{law}: sup|F_n - Phi|")
        ax.plot(ns, [bound_fn(law, n) for n in ns], "--", color=c, label=f"{law}: bound")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (summands, i.e. batch size)")
    ax.legend(fontsize=6)
    return save(fig, name)
