"""The AlexNet chapter (book/results/alexnet.ipynb): Tables 1-2 beside the paper's at each scale,
Fig 2 (% Gaussian against batch size) and the numbers the text quotes (agreement with the
tables, Layer 4 over training, the protocol study's ranges, the 300-epoch run's augmentation and
Layer 1)."""
from __future__ import annotations

import pandas as pd

from .. import figures, protocol_study as ps, reader, state_search
from . import protocol
from .common import fmt, over_epochs, results, run_caption
from .comparison import agreement, show_comparison

MODEL = "alexnet"
N_BATCHES = {1: 200, 2: 600}  # minibatches per capture of Tables 1 and 2


def gaussianity() -> dict[str, pd.DataFrame | None]:
    """{scale: gaussianity rows with the scale's own protocol}."""
    return {s: r["gaussianity"] for s, r in results(tables=("gaussianity",)).items()}


def show_table(g: dict, table_no: int, scale: str, gap_key: str | None = None):
    """Display Table 1 or 2 at one scale (or its note when missing); return the comparison."""
    return show_comparison(g[scale], table_no, MODEL, N_BATCHES[table_no], scale, gap_key)


def figure_2(g: dict, scale: str) -> dict:
    """Fig 2 at one scale, for glue: the run's caption and the figure."""
    rows = reader.final_rows(g[scale], MODEL)
    return {f"run-fig-2-{scale}": run_caption(rows, scale),
            f"fig-2-{scale}": figures.gaussianity_vs_batch_size(
                g[scale], reader.paper_tables(), MODEL, f"fig2_{MODEL}_{scale}")}


def _cell(t: pd.DataFrame, bs: int, col: str = "ours_mean", digits: int = 1,
          layer: str = "Layer 4") -> str:
    return fmt(t.set_index(["layer", "batch_size"]).loc[(layer, bs), col], digits)


def _has(t: pd.DataFrame, layer: str, bs: int) -> bool:
    return bool(((t.layer == layer) & (t.batch_size == bs)).any())


def table_facts(g, t1, t2, t1c, t1x=None) -> dict[str, str]:
    """The numbers quoted from Tables 1-2 (gpu-short scale t1, t2; cpu t1c; the 300-epoch run t1x,
    when it has rows) and from Layer 4 over training (gpu-short rows g)."""
    named = (("t1", t1), ("t2", t2), ("t1c", t1c)) + ((("t1x", t1x),) if t1x is not None else ())
    out = {f"{n}-{k}": str(v) for n, t in named for k, v in agreement(t).items()}
    if t1x is not None:
        out.update({f"t1x-l{i}-{bs}": _cell(t1x, bs, layer=f"Layer {i}") for i in (1, 4)
                    for bs in (64, 128, 2048) if _has(t1x, f"Layer {i}", bs)})
    for bs in (64, 2048):
        for n, t in (("t1", t1), ("t2", t2)):
            out.update({f"{n}-l4-{bs}": _cell(t, bs),
                        f"{n}-l4-{bs}-paper": _cell(t, bs, "paper_mean", 2)})
    m = t2.merge(t1, on=["layer", "batch_size"], suffixes=("_600", "_200"))
    s = over_epochs(g, MODEL, "Layer 4")
    return {**out, "lower-600": str(int((m.ours_mean_600 < m.ours_mean_200).sum())),
            "lower-600-n": str(len(m)), "l4-first-epoch": str(s.index[0]),
            "l4-first": fmt(s.iloc[0]), "l4-last-epoch": str(s.index[-1]),
            "l4-last": fmt(s.iloc[-1]), "l4-128-paper": _cell(t1, 128, "paper_mean", 2),
            "degen-max": fmt(t1.degenerate_pct.max()),
            "l1-maxabs": fmt(t1[t1.layer == "Layer 1"].delta_pp.abs().max())}


def protocol_facts() -> dict[str, str]:
    """The protocol study's ranges the chapter quotes (capture choices, seeds, training side)."""
    gp = protocol.rows()
    pf = protocol.facts(ps.effects(gp), ps.distances(gp))
    return {f"protocol-{k}": pf[k]
            for k in ("capture-range", "seed-range", "training-large", "training-small")}


def augment_facts() -> dict[str, str]:
    """The 300-epoch run captured with augmentation against without: cells that rise beyond the
    spread, Layer 1's largest rise and the middle layers' largest change."""
    aug = state_search.option_effect(reader.read_table("cpu-300", "gaussianity"),
                                     '"augment": true', 300)
    up = aug[(aug.delta > 0) & aug.beyond]
    mid = aug[aug.layer.isin(["Layer 3", "Layer 4", "Layer 5"])]
    return {"aug-up": str(len(up)), "aug-n": str(len(aug)),
            "aug-l1-max": f"{aug[aug.layer == 'Layer 1'].delta.max():.1f}",
            "aug-mid-max": f"{mid.delta.abs().max():.1f}"}


def long_run_facts(g300: pd.DataFrame) -> dict[str, str]:
    """The 300-epoch AlexNet: final training loss, Layer 1's lowest value up to epoch 225 and its
    last."""
    tr = reader.read_table("cpu-300", "training")
    tr = tr[tr.model == MODEL]
    l1 = over_epochs(g300, MODEL, "Layer 1")
    return {"t300-loss": f"{tr.train_loss.iloc[-1]:.2f}",
            "t300-l1-225": f"{l1[l1.index <= 225].min():.0f}", "t300-l1-end": f"{l1.iloc[-1]:.0f}"}


def facts(g: dict, t: dict) -> dict[str, str]:
    """Every number the chapter's text quotes; `t`: the tables shown ('t1', 't2', 't1c',
    't1x')."""
    return {**table_facts(g["gpu-short"], t["t1"], t["t2"], t["t1c"], t.get("t1x")),
            **protocol_facts(), **augment_facts(), **long_run_facts(g["cpu-300"])}
