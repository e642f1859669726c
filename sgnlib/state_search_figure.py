"""The figure of the state search (`sgnlib.state_search`): how far each training state's Table 1
cells sit from the paper's — over each run's checkpoints on the batch-128 column, and over the whole
grid (batch 64-512) for every state that has it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from . import figures


def distance_figure(series: pd.DataFrame, candidates: pd.DataFrame, name: str) -> figures.Saved:
    """(a) distance on Table 1's batch-128 column against the epoch, one line per run (`series`:
    scale, epochs, epoch, distance); (b) distance over the complete grid per candidate state, best
    first, beside twice the paper's mean standard deviation (the "within the paper's spread"
    line)."""
    figures.style()
    n = len(candidates)
    fig, (a, b) = plt.subplots(1, 2, figsize=(7.6, max(3.4, 0.2 * n + 1.2)),
                               gridspec_kw={"width_ratios": [1, 1.15]}, layout="constrained")
    runs = list(series.groupby("scale", sort=False))
    for (scale, s), colour, marker in zip(runs, figures.colours(len(runs)), figures.MARKERS):
        s = s.sort_values("epoch")
        a.plot(s.epoch, s.distance, color=colour, marker=marker, ms=3, lw=1.2,
               label=f"{scale} ({int(s.epochs.iloc[0])} epochs)")
    a.set_xscale("log")
    a.set_xlabel("training epoch (log scale)")
    a.set_ylabel("mean |ours − paper|, pp")
    a.set_title("(a) batch-128 column over training", fontsize=9)
    a.set_ylim(bottom=0)
    a.legend(fontsize=7, loc="lower right")
    c = candidates.sort_values("distance", ascending=False)
    y = range(len(c))
    a_colour, b_colour = figures.OKABE_ITO[0], figures.OKABE_ITO[1]
    b.barh(list(y), c.distance, color=[b_colour if w else a_colour for w in c.within_paper_spread],
           height=0.7)
    b.set_yticks(
        list(y),
        [t if s == "protocol" or t.startswith(s) else f"{s}: {t}"
         for s, t in zip(c.scale, c.candidate)],
        fontsize=6.5,
    )
    if len(c):
        b.axvline(2 * c.paper_spread.max(), color="grey", ls=":", lw=1)
        b.text(2 * c.paper_spread.max(), len(c) - 0.4, " 2 × paper std", fontsize=6.5, color="grey",
               va="bottom")
    b.set_xlabel("mean |ours − paper| over Table 1, pp")
    b.set_title("(b) whole grid (batch 64-512) per state", fontsize=9)
    b.set_ylim(-0.6, len(c) - 0.4 + 0.8)
    return figures.save(fig, name)
