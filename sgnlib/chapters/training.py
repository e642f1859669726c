"""The training chapter (book/results/training.ipynb): each run's final epoch, Fig 1 (% Gaussian of
the AlexNets' layers over training, per scale), Fig 6 (ResNet-20 over training) and the numbers
the text quotes."""
from __future__ import annotations

import pandas as pd

from .. import figures, reader
from .common import MODEL_NAMES, SCALES, fmt, over_epochs, results, run_caption
from .common import gap  # noqa: F401 (the chapter's note on a missing result)
from .html import html_table, show

ALEXNETS = ["alexnet", "alexnet_bn"]
DROPS = (150, 225)  # the paper's learning-rate drops (drawn on the cpu-300 panels only)


def gaussianity() -> dict[str, pd.DataFrame | None]:
    """{scale: gaussianity rows with the scale's own protocol}."""
    return {s: r["gaussianity"] for s, r in results(tables=("gaussianity",)).items()}


def _final_epoch(scale: str, model: str, d: pd.DataFrame) -> dict:
    last = d.sort_values("epoch").iloc[-1]
    return {"scale": scale, "model": MODEL_NAMES.get(model, model), "epochs": int(last.epoch),
            "final lr": f"{last.lr:g}", "train loss": fmt(last.train_loss, 3),
            "test acc.": fmt(last.test_acc, 3), "img/s": f"{d.img_per_s.median():,.0f}",
            "device": str(last.device)}


def training_summary(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """Final epoch of each training run: lr, losses, test accuracy, median throughput, device."""
    rows = []
    for s in scales:
        t = reader.read_table(s, "training", results_dir)
        rows += [_final_epoch(s, m, d) for m, d in ([] if t is None else t.groupby("model"))]
    return pd.DataFrame(rows)


def show_runs() -> None:
    show(html_table(training_summary(), "training_runs",
                    "Final epoch of each training run (from the results' training tables): "
                    "learning rate, training loss, test accuracy on all 10,000 test images, "
                    "median throughput. The schedules are in Methods.",
                    text_columns=("scale", "model", "device")))


def figure_1(gs: pd.DataFrame, scale: str) -> dict:
    """Fig 1 at one scale for glue: the run's caption and the figure (the AlexNets at batch 128,
    200 minibatches; the learning-rate drops marked on the 300-epoch run)."""
    rows = gs[gs.model.isin(ALEXNETS) & (gs.batch_size == 128) & (gs.n_batches == 200)]
    nets = [m for m in ALEXNETS if m in set(rows.model)]
    fig = figures.gaussianity_over_epochs(gs, nets, f"fig1_{scale}",
                                          marks=DROPS if scale == "cpu-300" else ())
    return {f"run-fig-1-{scale}": run_caption(rows, scale), f"fig-1-{scale}": fig}


def layer_facts(by_scale: dict) -> dict[str, str]:
    """Layers 3-4 of the AlexNets over training per scale (first, last, max, last epoch) and
    ResNet-20's spread over training at gpu-short scale (median and largest, and its layer)."""
    out = {}
    for scale, g in by_scale.items():
        for m in ALEXNETS:
            for layer in ("Layer 3", "Layer 4"):
                s, key = over_epochs(g, m, layer), f"{scale}-{m}-{layer[-1]}"
                if len(s):  # a run still training has no series yet
                    out.update({f"{key}-first": fmt(s.iloc[0]), f"{key}-last": fmt(s.iloc[-1]),
                                f"{key}-max": fmt(s.max()), f"{key}-last-epoch": str(s.index[-1])})
    g = by_scale["gpu-short"]
    span = g[(g.model == "resnet20") & (g.batch_size == 128)].groupby("layer")
    span = span.gauss_pct_incl_degenerate.max() - span.gauss_pct_incl_degenerate.min()
    return {**out, "fig6-span-median": fmt(span.median()), "fig6-span-max": fmt(span.max()),
            "fig6-span-max-layer": str(span.idxmax())}


def long_run_facts(g300: pd.DataFrame) -> dict[str, str]:
    """Layers 1 and 6 of the 300-epoch AlexNet at the learning-rate drops (epochs 150, 225), their
    peak between them and the end."""
    out = {}
    for layer in ("Layer 1", "Layer 6"):
        s, key = over_epochs(g300, "alexnet", layer), f"t300-l{layer[-1]}"
        out.update({f"{key}-150": f"{s[s.index <= DROPS[0]].iloc[-1]:.0f}",
                    f"{key}-225": f"{s[s.index <= DROPS[1]].iloc[-1]:.0f}",
                    f"{key}-peak": f"{s[(s.index > DROPS[0]) & (s.index <= DROPS[1])].max():.0f}",
                    f"{key}-end": f"{s.iloc[-1]:.0f}"})
    return out


def batchnorm_facts(g300: pd.DataFrame) -> dict[str, str]:
    """Layers 3 and 4 of both AlexNets at the last checkpoint before the first learning-rate drop
    and at the last checkpoint of the 300-epoch run (keys t300-<model>-l<k>-before / -end); empty
    while a net has no checkpoint past the drop."""
    out = {}
    for m in ALEXNETS:
        for layer in ("Layer 3", "Layer 4"):
            s, key = over_epochs(g300, m, layer), f"t300-{m}-l{layer[-1]}"
            if len(s) and s.index[-1] > DROPS[0]:
                out.update({f"{key}-before": fmt(s[s.index < DROPS[0]].iloc[-1]),
                            f"{key}-end": fmt(s.iloc[-1])})
    return out


def figure_6(g: pd.DataFrame) -> dict:
    """Fig 6 for glue: ResNet-20 over training at gpu-short scale, the run's caption and figure."""
    rows = g[(g.model == "resnet20") & (g.batch_size == 128)]
    return {"run-fig-6": run_caption(rows, "gpu-short"),
            "fig-6-gpu-short": figures.resnet_over_epochs(g, "fig6_resnet20")}
