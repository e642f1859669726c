"""The tails chapter (book/results/tails.ipynb): Fig 7 (tail index of the non-Gaussian dimensions
over the null band), Figs 8-9 (example noise) and the alpha-stable fits, per scale."""
from __future__ import annotations

import pandas as pd

from .. import tail_figures
from .common import SCALES, fmt, gap, results, run_caption  # noqa: F401 (gap: the chapter's notes)
from .html import html_table, show

MODEL = "alexnet"


def tables() -> dict:
    """{scale: {tail_index, examples, alpha_stable}} with each scale's own protocol."""
    return results(tables=("tail_index", "examples", "alpha_stable"))


def null_band_text(ti: pd.DataFrame, n: int = 200) -> str:
    """The tail-index estimator's 5-95 % band on Gaussian columns of n samples, and its median."""
    q05, q50, q95 = tail_figures.null_band_of(ti, n)
    return f"{q05:.2f} to {q95:.2f} (median {q50:.2f})"


def figure_7(ti: pd.DataFrame, scale: str) -> dict:
    """Fig 7 at one scale for glue: the run's caption and the figure (Layers 1 and 4)."""
    rows = ti[(ti.model == MODEL) & (ti.checkpoint_epoch == ti.epochs) & (ti.n_batches == 200)]
    return {f"run-fig-7-{scale}": run_caption(rows, scale),
            f"fig-7-{scale}": tail_figures.tail_index_histograms(
                ti, MODEL, ["Layer 1", "Layer 4"], f"fig7_tail_index_{scale}")}


def figure_8(ex: pd.DataFrame) -> dict:
    """Fig 8 (cpu scale) for glue: the run's caption and the example noise of Layer 1, batch 128."""
    return {"run-examples": run_caption(ex, "cpu"),
            "fig-8-cpu": tail_figures.noise_examples(ex, "Layer 1", 128, "fig8_cpu")}


def figure_9(ex: pd.DataFrame):
    """Fig 9 (cpu scale): Layer 4's non-Gaussian example dimensions across batch sizes."""
    return tail_figures.noise_across_batch_sizes(ex, "Layer 4", "fig9_cpu")


def alpha_stable_summary(fits: pd.DataFrame) -> pd.DataFrame:
    """Per layer and batch size: dimensions fitted, failed fits, median α by maximum likelihood
    and by Mohammadi's estimator."""
    g, t, m = fits.groupby(["layer", "batch_size"]), "mle_tail_index", "tail_index_mohammadi"
    s = g.agg(n=("dim", "size"), failed=(t, lambda v: v.isna().sum()), mle=(t, "median"),
              moh=(m, "median"))
    return pd.DataFrame({"dims": s.n, "MLE failed": s.failed,
                         "median α, MLE": s.mle.map(lambda v: fmt(v, 2)),
                         "median α, Mohammadi": s.moh.map(lambda v: fmt(v, 2))}
                        ).rename_axis(["layer", "batch"])


def show_alpha_stable(fits: pd.DataFrame) -> None:
    show(html_table(alpha_stable_summary(fits), "alpha_stable_cpu",
                    f"cpu scale, backend {fits.mle_backend.iloc[0]}: per layer and batch size, the "
                    f"non-Gaussian example dimensions fitted, failed fits, and the median alpha by "
                    f"maximum likelihood and by Mohammadi's estimator.", index=True))
