"""What the book's prose quotes: the paper's internal inconsistencies, the numbers each chapter cites
(`*_facts`, read through `sgnlib.reader`), and the notes on the paper's elements without results
(`GAPS`). Verdicts are made in one place only: `sgnlib.claims`.
"""
from __future__ import annotations

import pandas as pd
import yaml

from .paths import DATA_DIR
from .reader import paper_tables, read_table, without_options  # noqa: F401 (read_table: the training demo's import)


def paper_discrepancies() -> pd.DataFrame:
    """Inconsistencies inside the paper, each computed from its own numbers, and its theorems read critically:
    statements stronger or weaker than what holds, with counterexamples (sgnlib.clt / sgnlib.langevin.findings)."""
    from . import clt, langevin
    t = paper_tables()
    l1 = t[(t.table == 1) & (t.layer == "Layer 1") & (t.batch_size == 128)].gauss_pct_mean.iloc[0]
    return pd.DataFrame([
        {"where": "AlexNet architecture (text vs Tables 1-2)",
         "finding": f"text: first conv 5x5, stride 2 gives {64 * 3 * 5 * 5:,} weights with 64 filters; "
                    f"Table 1 lists 23,232 = 64x3x11x11; the text's three linear layers fit the tables, which show "
                    f"only the final classifier (2,560 = 256x10)"},
        {"where": "Layer 1, batch 128, 200 batches", "finding": f"text says 94.12 %, Table 1 says {l1:.2f} %"},
        *clt.findings(), *langevin.findings()])


# ---------------------------------------------------------------- the book's text: quoted numbers, missing results

MODEL_NAMES = {"alexnet": "AlexNet", "alexnet_bn": "AlexNet-BN", "resnet20": "ResNet-20", "resnet56": "ResNet-56"}
PAPER_EPOCHS = 300


def fmt(v, digits: int = 1, sign: bool = False) -> str:
    """A number for the book: '–' when undefined, a true minus sign."""
    return "–" if v is None or pd.isna(v) else (f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}").replace("-", "−")


def join(values) -> str:
    return ", ".join(str(v) for v in values)


def agreement(t: pd.DataFrame) -> dict:
    """Cells of a tables.comparison with a paper value: below / above it beyond both stds, within, median Δ."""
    c = t[t.paper_mean.notna()]
    return {"cells": len(c), "below": int((c.exceeds & (c.delta_pp < 0)).sum()), "median_delta":
            fmt(c.delta_pp.median(), 1, sign=True), "above": int((c.exceeds & (c.delta_pp > 0)).sum()),
            "within": int((~c.exceeds).sum())}


def over_epochs(g: pd.DataFrame, model: str, layer: str, batch_size: int = 128, n_batches: int = 200) -> pd.Series:
    """% Gaussian (point masses counted, the paper's rule; mean over repeats) of one layer at each checkpoint."""
    s = without_options(g)
    s = s[(s.model == model) & (s.layer == layer) & (s.batch_size == batch_size) & (s.n_batches == n_batches)]
    return s.groupby("checkpoint_epoch").gauss_pct_incl_degenerate.mean()


def _l4(t, bs, col="ours_mean", digits=1, layer="Layer 4"):
    return fmt(t.set_index(["layer", "batch_size"]).loc[(layer, bs), col], digits)


def alexnet_facts(g, t1, t2, t1c, t1x=None) -> dict[str, str]:
    """The numbers the AlexNet chapter quotes: Tables 1-2 (gpu-short scale t1, t2; cpu t1c; the
    300-epoch run t1x, when it has rows), Layer 4 over training."""
    named = (("t1", t1), ("t2", t2), ("t1c", t1c)) + ((("t1x", t1x),) if t1x is not None else ())
    out = {f"{n}-{k}": str(v) for n, t in named for k, v in agreement(t).items()}
    if t1x is not None:
        out.update({f"t1x-l{i}-{bs}": _l4(t1x, bs, layer=f"Layer {i}") for i in (1, 4) for bs in (64, 128, 2048)
                    if ((t1x.layer == f"Layer {i}") & (t1x.batch_size == bs)).any()})
    for bs in (64, 2048):
        for n, t in (("t1", t1), ("t2", t2)):
            out.update({f"{n}-l4-{bs}": _l4(t, bs), f"{n}-l4-{bs}-paper": _l4(t, bs, "paper_mean", 2)})
    m = t2.merge(t1, on=["layer", "batch_size"], suffixes=("_600", "_200"))
    s = over_epochs(g, "alexnet", "Layer 4")
    return {**out, "lower-600": str(int((m.ours_mean_600 < m.ours_mean_200).sum())), "lower-600-n": str(len(m)),
            "l4-first-epoch": str(s.index[0]), "l4-first": fmt(s.iloc[0]), "l4-last-epoch": str(s.index[-1]),
            "l4-last": fmt(s.iloc[-1]), "l4-128-paper": _l4(t1, 128, "paper_mean", 2),
            "degen-max": fmt(t1.degenerate_pct.max()), "l1-maxabs": fmt(t1[t1.layer == "Layer 1"].delta_pp.abs().max())}


def resnet_facts(t3: pd.DataFrame) -> dict[str, str]:
    """The numbers the ResNet chapter quotes, from Table 3 (the paper's layers)."""
    conv = t3[(t3.layer != "Final Layer") & (t3.batch_size == 64)]
    ends = t3.sort_values("batch_size").groupby("layer").ours_mean.agg(["first", "last"])
    return {**{f"t3-{k}": str(v) for k, v in agreement(t3).items()}, "t3-conv-64-min": fmt(conv.ours_mean.min()),
            "t3-conv-64-max": fmt(conv.ours_mean.max()), "t3-conv-64-paper-min": fmt(conv.paper_mean.min(), 2),
            "t3-rises": str(int((ends["last"] > ends["first"]).sum())), "t3-layers": str(len(ends))}


def training_facts(by_scale: dict) -> dict[str, str]:
    """The numbers the training chapter quotes: layers 3-4 of the AlexNets over training, ResNet-20's spread."""
    out = {}
    for scale, g in by_scale.items():
        for m in ("alexnet", "alexnet_bn"):
            for layer in ("Layer 3", "Layer 4"):
                s, key = over_epochs(g, m, layer), f"{scale}-{m}-{layer[-1]}"
                if len(s):  # a run still training has no series yet
                    out.update({f"{key}-first": fmt(s.iloc[0]), f"{key}-last": fmt(s.iloc[-1]),
                                f"{key}-max": fmt(s.max()), f"{key}-last-epoch": str(s.index[-1])})
    g = by_scale["gpu-short"]
    span = g[(g.model == "resnet20") & (g.batch_size == 128)].groupby("layer").gauss_pct_incl_degenerate
    span = span.max() - span.min()
    return {**out, "fig6-span-median": fmt(span.median()), "fig6-span-max": fmt(span.max()),
            "fig6-span-max-layer": str(span.idxmax())}


class Gap:
    """A numbered element of the paper not computed yet: what, why, and the command that fills it."""

    def __init__(self, what: str, why: str, command: str):
        self.what, self.why, self.command = what, why, command

    def command_lines(self, width: int = 64) -> list[str]:
        """The command broken at spaces into shell lines of at most `width` characters."""
        lines, cur = [], ""
        for word in self.command.split():
            if cur and len(cur) + 1 + len(word) > width:
                lines, cur = lines + [cur], "    " + word
            else:
                cur = f"{cur} {word}" if cur else word
        return lines + [cur]

    def markdown(self) -> str:
        cmd = " \\\n    ".join(self.command_lines())
        return (f"```{{admonition}} Missing: {self.what}\n:class: warning\n{self.why}\n\n"
                f"Fill it with:\n\n    {cmd}\n```\n")


# data/gaps.yaml: the paper's elements without results, why, and the command that fills each
GAPS = {k: Gap(**v) for k, v in yaml.safe_load((DATA_DIR / "gaps.yaml").read_text()).items()}


def gap(key: str) -> None:
    """Display the note GAPS[key] as MyST markdown (rendered by myst-nb) in a notebook."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
        if get_ipython() is not None:
            display(Markdown(GAPS[key].markdown()))
    except ImportError:
        pass
