"""The ResNet chapter (book/results/resnet.ipynb): Tables 3-4 beside the paper's (ResNet-56, the
layers the paper lists and every layer), Fig 3 and the numbers the text quotes."""
from __future__ import annotations

import pandas as pd

from .. import figures, reader
from .common import fmt, gap, results, run_caption
from .comparison import agreement, comparison, show_comparison
from .html import grid_html, show

MODEL = "resnet56"
SCALE = "gpu-short"  # the only scale with ResNet-56 rows


def gaussianity() -> pd.DataFrame | None:
    """The gpu-short scale's gaussianity rows with its own protocol."""
    return results(scales=(SCALE,), tables=("gaussianity",))[SCALE]["gaussianity"]


def show_table(g, table_no: int, n_batches: int, gap_key: str | None = None, layers="all"):
    """Display Table 3 or 4 (or its note when missing); return the comparison."""
    return show_comparison(g, table_no, MODEL, n_batches, SCALE, gap_key, layers=layers)


def show_every_layer(g) -> None:
    """Table 3 for every layer of ResNet-56 (the paper lists some), the paper's value in
    brackets."""
    caption = ("Table 3, every layer: " + run_caption(reader.final_rows(g, MODEL), SCALE)
               + ". % Gaussian weight dimensions, point masses counted Gaussian.")
    show(grid_html(comparison(g, MODEL, 200), "table3_full", caption))


def figure_3(g) -> dict:
    """Fig 3 for glue: the run's caption and the figure."""
    return {"run-fig-3": run_caption(reader.final_rows(g, MODEL), SCALE),
            "fig-3-gpu-short": figures.resnet_vs_batch_size(g, reader.paper_tables(),
                                                            "fig3_resnet56")}


def show_fig3b_gap(g) -> None:
    """The note on Fig 3(b) while no 600-minibatch capture exists."""
    if comparison(g, MODEL, 600) is None:
        gap("fig3b")


def facts(t3: pd.DataFrame) -> dict[str, str]:
    """The numbers the chapter quotes, from Table 3 (the paper's layers): agreement, the
    convolutions' range at batch 64 (ours, the paper's minimum), the layers that rise with batch
    size."""
    conv = t3[(t3.layer != "Final Layer") & (t3.batch_size == 64)]
    ends = t3.sort_values("batch_size").groupby("layer").ours_mean.agg(["first", "last"])
    return {**{f"t3-{k}": str(v) for k, v in agreement(t3).items()},
            "t3-conv-64-min": fmt(conv.ours_mean.min()),
            "t3-conv-64-max": fmt(conv.ours_mean.max()),
            "t3-conv-64-paper-min": fmt(conv.paper_mean.min(), 2),
            "t3-rises": str(int((ends["last"] > ends["first"]).sum())), "t3-layers": str(len(ends))}
