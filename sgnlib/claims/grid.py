"""Claims on the level of the batch-size grid at the final checkpoint (Tables 1-4): single cells,
differences of cells, a whole table's agreement, thresholds (per cell, whole network, one model
above another) and the run-to-run std. Trends with the batch size are in `trends`, the order of
the layers in `layer_order`.

All percentages count point masses as Gaussian (the paper's rule, `gauss_pct_incl_degenerate`),
averaged over repeats. Every threshold comes from the claim's params (data/paper/claims.csv);
defaults in brackets.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reader import paper_grid
from .core import (NO_DATA, NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, cell, dpp, fill_command,
                   grade, grid_of, kind, missing_cells, no_data, pct, share)


def _within(worst: float, params: dict, reproduced: float, partly: float) -> str:
    """REPRODUCED when `worst` is within tol_reproduced_pp, PARTLY within tol_partly_pp."""
    if worst <= params.get("tol_reproduced_pp", reproduced):
        return REPRODUCED
    return PARTLY if worst <= params.get("tol_partly_pp", partly) else NOT_REPRODUCED


@kind("cell_value")
def cell_value(tables: dict, params: dict) -> Verdict:
    """Cells vs the paper's numbers. params: model, cells [{layer, batch_size, n_batches, paper}],
    tol_reproduced_pp [5], tol_partly_pp [15]. REPRODUCED: every present cell within
    tol_reproduced; PARTLY: every present cell within tol_partly; NOT REPRODUCED otherwise; NO DATA:
    no cell present."""
    g = grid_of(tables, params)
    cells = params["cells"]
    paper_s = ", ".join(f"{c['layer']} @ {c['batch_size']}/{c['n_batches']}: {c['paper']:.2f}"
                        for c in cells)
    got = [(c, cell(g, c["layer"], c["batch_size"], c["n_batches"])) for c in cells]
    got = [(c, v) for c, v in got if v is not None]
    if not got:
        return missing_cells(tables, params, paper_s, f"{params['model']} cells " + paper_s,
                             batch_sizes=[c["batch_size"] for c in cells],
                             n_batches=[c["n_batches"] for c in cells])
    worst = max(abs(v - c["paper"]) for c, v in got)
    v = _within(worst, params, 5, 15)
    ours_s = ", ".join(f"{v:.2f}" for _, v in got)
    delta = ", ".join(dpp(v, c["paper"]) for c, v in got)
    tolerances = f"{params.get('tol_reproduced_pp', 5)}/{params.get('tol_partly_pp', 15)} pp"
    note = (f"{len(got)}/{len(cells)} cells present; max |Δ| {worst:.2f} pp "
            f"(tolerances {tolerances})")
    return Verdict(v, paper_s, ours_s, delta,
                   note + (f"; {params['note']}" if params.get("note") else ""))


@kind("cell_diff")
def cell_diff(tables: dict, params: dict) -> Verdict:
    """Differences between two cells (a rise or a drop). params: model, diffs [{n_batches,
    a: [layer, bs], b: [layer, bs], paper}] (value b - value a), tol_reproduced_pp [10].
    REPRODUCED: same sign as the paper and within tol for every present diff; PARTLY: same sign for
    all; NOT REPRODUCED otherwise."""
    g = grid_of(tables, params)
    diffs = params["diffs"]
    res = []
    for d in diffs:
        a = cell(g, d["a"][0], d["a"][1], d["n_batches"])
        b = cell(g, d["b"][0], d["b"][1], d["n_batches"])
        if a is not None and b is not None:
            res.append((d, b - a))
    paper_s = ", ".join(f"{d['paper']:+.2f} pp ({d['n_batches']} batches)" for d in diffs)
    if not res:
        bss = [x[1] for d in diffs for x in (d["a"], d["b"])]
        return missing_cells(tables, params, paper_s, "cells for " + paper_s, batch_sizes=bss,
                             n_batches=[d["n_batches"] for d in diffs])
    same = all(np.sign(x) == np.sign(d["paper"]) for d, x in res)
    close = all(abs(x - d["paper"]) <= params.get("tol_reproduced_pp", 10) for d, x in res)
    v = REPRODUCED if same and close else PARTLY if same else NOT_REPRODUCED
    direction = "same" if same else "opposite"
    return Verdict(v, paper_s, ", ".join(f"{x:+.2f} pp" for _, x in res),
                   ", ".join(dpp(x, d["paper"]) for d, x in res),
                   f"{direction} direction in {len(res)}/{len(diffs)} present diffs")


@kind("table_agreement")
def table_agreement(tables: dict, params: dict) -> Verdict:
    """Mean |Δpp| over the paper table's cells we have. params: table, tol_reproduced_pp [5],
    tol_partly_pp [15]. REPRODUCED / PARTLY / NOT REPRODUCED by the mean; NO DATA: no cell."""
    paper = tables.get("paper")
    if paper is None:
        return Verdict(NO_DATA, "–", "–", "Δ –", "the paper's tables are missing")
    p = paper[paper.table == params["table"]]
    model, nb = p.model.iloc[0], int(p.n_batches.iloc[0])
    g = grid_of(tables, params, model)
    m = p.merge(g[g.n_batches == nb], on=["layer", "batch_size"], how="inner")
    paper_s = f"Table {params['table']}: {len(p)} cells, mean {p.gauss_pct_mean.mean():.2f} %"
    if not len(m):
        return missing_cells(tables, params, paper_s, f"{model} cells at {nb} batches",
                             models=model, batch_sizes=sorted(p.batch_size.unique()),
                             n_batches=[nb])
    d = m.value - m.gauss_pct_mean
    i = d.abs().idxmax()
    v = _within(d.abs().mean(), params, 5, 15)
    paper_here = f"Table {params['table']}: mean {m.gauss_pct_mean.mean():.2f} % over these cells"
    return Verdict(v, paper_here,
                   f"mean {m.value.mean():.2f} % over {len(m)}/{len(p)} cells",
                   f"mean |Δ| {d.abs().mean():.2f} pp, mean Δ {d.mean():+.2f} pp",
                   f"max |Δ| {abs(d[i]):.2f} pp at {m.layer[i]} @ {m.batch_size[i]}")


def whole_network(g: pd.DataFrame, batch_size: int, n_batches: int, layers=None):
    """All weight dimensions pooled: the d-weighted mean over layers (None if a layer lacks d)."""
    c = g[(g.batch_size == batch_size) & (g.n_batches == n_batches)]
    if layers:
        c = c[c.layer.isin(layers)]
    if not len(c) or c.d.isna().any():
        return None
    return float(np.average(c.value, weights=c.d))


@kind("whole_network")
def whole_network_threshold(tables: dict, params: dict) -> Verdict:
    """Whole network (d-weighted over layers) above a threshold per n_batches. params: model,
    batch_size, thresholds {n_batches: pct}. REPRODUCED: all present thresholds met; PARTLY: some;
    NOT REPRODUCED: none."""
    g, pg = grid_of(tables, params), paper_grid(tables.get("paper"), params["model"])
    bs, th = params["batch_size"], {int(k): v for k, v in params["thresholds"].items()}
    paper_s = ", ".join(f"> {t} % at {nb} (tables: {pct(whole_network(pg, bs, nb))})"
                        for nb, t in th.items())
    got = {nb: whole_network(g, bs, nb) for nb in th}
    got = {nb: x for nb, x in got.items() if x is not None}
    if not got:
        return missing_cells(tables, params, paper_s, f"{params['model']} cells at batch {bs}",
                             batch_sizes=[bs], n_batches=list(th))
    met = [x > th[nb] for nb, x in got.items()]
    v = REPRODUCED if all(met) else PARTLY if any(met) else NOT_REPRODUCED
    return Verdict(v, paper_s, ", ".join(f"{pct(x)} at {nb}" for nb, x in got.items()),
                   ", ".join(dpp(x, th[nb]) + " vs threshold" for nb, x in got.items()),
                   f"{sum(met)}/{len(met)} thresholds met "
                   "(d-weighted mean over all weight layers)")


@kind("threshold_share")
def threshold_share(tables: dict, params: dict) -> Verdict:
    """Share of (layer, batch size, n_batches) cells above `threshold`. params: model,
    exclude_layers, batch_sizes (all if absent), n_batches, threshold, reproduced_share [1.0],
    partly_share [0.8]."""
    def cells(g):
        layers_kept = ~g.layer.isin(params.get("exclude_layers", []))
        c = g[layers_kept & g.n_batches.isin(params["n_batches"])]
        if params.get("batch_sizes"):
            c = c[c.batch_size.isin(params["batch_sizes"])]
        return c

    th = params["threshold"]
    pc = cells(paper_grid(tables.get("paper"), params["model"]))
    paper_s = f"> {th} % (its tables: {share(int((pc.value > th).sum()), len(pc))} listed cells)"
    c = cells(grid_of(tables, params))
    if not len(c):
        return missing_cells(tables, params, paper_s, f"{params['model']} cells",
                             batch_sizes=params.get("batch_sizes", []),
                             n_batches=params["n_batches"])
    k = int((c.value > th).sum())
    v = grade(k / len(c), params.get("reproduced_share", 1.0), params.get("partly_share", 0.8))
    lo = c.loc[c.value.idxmin()]
    ours = f"{share(k, len(c))} cells above, min {pct(lo.value)} ({lo.layer} @ {lo.batch_size})"
    n_batches = sorted(int(x) for x in c.n_batches.unique())
    batch_sizes = sorted(int(x) for x in c.batch_size.unique())
    return Verdict(v, paper_s, ours, dpp(lo.value, th) + " at the minimum",
                   f"cells at n_batches {n_batches}, batch sizes {batch_sizes}")


@kind("model_above_grid")
def model_above_grid(tables: dict, params: dict) -> Verdict:
    """Whole network of model_hi above model_lo at each common (batch size, n_batches).
    REPRODUCED: all common cells; PARTLY: >= half; NOT REPRODUCED otherwise."""
    hi, lo = params["model_hi"], params["model_lo"]

    def compare(ghi, glo):
        out = []
        for (bs, nb), _ in ghi.groupby(["batch_size", "n_batches"]):
            a, b = whole_network(ghi, bs, nb), whole_network(glo, bs, nb)
            if a is not None and b is not None:
                out.append((bs, nb, a, b))
        return out

    pc = compare(paper_grid(tables.get("paper"), hi), paper_grid(tables.get("paper"), lo))
    paper_s = f"{hi} above {lo} in {share(sum(a > b for *_, a, b in pc), len(pc))} tabled cells"
    c = compare(grid_of(tables, params, hi), grid_of(tables, params, lo))
    if not c:
        return missing_cells(tables, params, paper_s,
                             f"{hi} and {lo} grids at common batch sizes", models=[hi, lo])
    k = sum(a > b for *_, a, b in c)
    v = grade(k / len(c), 1.0, 0.5)
    mean_gap = dpp(np.mean([a for *_, a, b in c]), np.mean([b for *_, a, b in c]))
    return Verdict(v, paper_s, f"above in {share(k, len(c))} cells", "mean gap " + mean_gap,
                   "; ".join(f"{bs}/{nb}: {a:.1f} vs {b:.1f}" for bs, nb, a, b in c))


@kind("small_std")
def small_std(tables: dict, params: dict) -> Verdict:
    """Run-to-run std over repeats is small. params: model, max_median_std_pp [1.0],
    partly_median_std_pp [2.0], min_repeats [2]. REPRODUCED / PARTLY by the median cell std; NO
    DATA with fewer repeats."""
    pg = paper_grid(tables.get("paper"), params["model"])
    paper_s = f"median std {pg['std'].median():.2f} pp (max {pg['std'].max():.2f}) over 5 repeats"
    min_repeats = params.get("min_repeats", 2)
    g = grid_of(tables, params)
    g = g[g.repeats >= min_repeats]
    if not len(g):
        scale = params.get("scale", "?")
        command = fill_command(scale, "capture", params["model"], tables,
                               extra=" --final-only --repeats 5")
        return no_data(paper_s, f"{params['model']} grid with >= {min_repeats} repeats", scale,
                       command)
    med = float(g["std"].median())
    v = REPRODUCED if med <= params.get("max_median_std_pp", 1.0) else \
        PARTLY if med <= params.get("partly_median_std_pp", 2.0) else NOT_REPRODUCED
    reps = f"{int(g.repeats.min())}" if g.repeats.min() == g.repeats.max() else \
        f"{int(g.repeats.min())}-{int(g.repeats.max())}"
    ours = f"median std {med:.2f} pp (max {g['std'].max():.2f}) over {reps} repeats"
    return Verdict(v, paper_s, ours, f"Δ {med - pg['std'].median():+.2f} pp",
                   f"{len(g)} cells with >= {min_repeats} repeats")
