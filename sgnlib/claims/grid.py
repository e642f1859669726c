"""Claims on the batch-size grid at the final checkpoint (Tables 1-4, Figs 2-3): single cells, table
agreement, trends with batch size, rankings of layers, thresholds, 200 vs 600 batches, run-to-run std.

All percentages count point masses as Gaussian (the paper's rule, `gauss_pct_incl_degenerate`), averaged over
repeats. Every threshold comes from the claim's params (data/paper/claims.csv); defaults in brackets.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reader import final_grid, paper_grid
from .core import (NO_DATA, NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, cell, dpp, fill_command, grade,
                   kind, no_data, pct, share, spearman)


def _grid(tables, params, model=None):
    return final_grid(tables.get("gaussianity"), model or params["model"])


def _missing(tables, params, paper_s, what, models=None, batch_sizes=(), n_batches=()):
    scale = params.get("scale", "?")
    return no_data(paper_s, what, scale, fill_command(scale, "capture", models or params["model"], tables,
                                                      batch_sizes=batch_sizes, n_batches=n_batches,
                                                      extra=" --final-only"))


@kind("cell_value")
def cell_value(tables: dict, params: dict) -> Verdict:
    """Cells vs the paper's numbers. params: model, cells [{layer, batch_size, n_batches, paper}],
    tol_reproduced_pp [5], tol_partly_pp [15]. REPRODUCED: every present cell within tol_reproduced;
    PARTLY: every present cell within tol_partly; NOT REPRODUCED otherwise; NO DATA: no cell present."""
    g = _grid(tables, params)
    cells = params["cells"]
    paper_s = ", ".join(f"{c['layer']} @ {c['batch_size']}/{c['n_batches']}: {c['paper']:.2f}" for c in cells)
    got = [(c, cell(g, c["layer"], c["batch_size"], c["n_batches"])) for c in cells]
    got = [(c, v) for c, v in got if v is not None]
    if not got:
        return _missing(tables, params, paper_s, f"{params['model']} cells " + paper_s,
                        batch_sizes=[c["batch_size"] for c in cells], n_batches=[c["n_batches"] for c in cells])
    worst = max(abs(v - c["paper"]) for c, v in got)
    v = REPRODUCED if worst <= params.get("tol_reproduced_pp", 5) else \
        PARTLY if worst <= params.get("tol_partly_pp", 15) else NOT_REPRODUCED
    ours_s = ", ".join(f"{v:.2f}" for _, v in got)
    delta = ", ".join(dpp(v, c["paper"]) for c, v in got)
    note = f"{len(got)}/{len(cells)} cells present; max |Δ| {worst:.2f} pp (tolerances " \
           f"{params.get('tol_reproduced_pp', 5)}/{params.get('tol_partly_pp', 15)} pp)"
    return Verdict(v, paper_s, ours_s, delta, note + (f"; {params['note']}" if params.get("note") else ""))


@kind("cell_diff")
def cell_diff(tables: dict, params: dict) -> Verdict:
    """Differences between two cells (a rise or a drop). params: model, diffs [{n_batches, a: [layer, bs],
    b: [layer, bs], paper}] (value b - value a), tol_reproduced_pp [10]. REPRODUCED: same sign as the paper
    and within tol for every present diff; PARTLY: same sign for all; NOT REPRODUCED otherwise."""
    g = _grid(tables, params)
    res = []
    for d in params["diffs"]:
        a, b = cell(g, d["a"][0], d["a"][1], d["n_batches"]), cell(g, d["b"][0], d["b"][1], d["n_batches"])
        if a is not None and b is not None:
            res.append((d, b - a))
    paper_s = ", ".join(f"{d['paper']:+.2f} pp ({d['n_batches']} batches)" for d in params["diffs"])
    if not res:
        bss = [x[1] for d in params["diffs"] for x in (d["a"], d["b"])]
        return _missing(tables, params, paper_s, "cells for " + paper_s, batch_sizes=bss,
                        n_batches=[d["n_batches"] for d in params["diffs"]])
    same = all(np.sign(x) == np.sign(d["paper"]) for d, x in res)
    close = all(abs(x - d["paper"]) <= params.get("tol_reproduced_pp", 10) for d, x in res)
    v = REPRODUCED if same and close else PARTLY if same else NOT_REPRODUCED
    return Verdict(v, paper_s, ", ".join(f"{x:+.2f} pp" for _, x in res),
                   ", ".join(dpp(x, d["paper"]) for d, x in res),
                   f"{'same' if same else 'opposite'} direction in {len(res)}/{len(params['diffs'])} present diffs")


@kind("table_agreement")
def table_agreement(tables: dict, params: dict) -> Verdict:
    """Mean |Δpp| over the paper table's cells we have. params: table, tol_reproduced_pp [5],
    tol_partly_pp [15]. REPRODUCED / PARTLY / NOT REPRODUCED by the mean; NO DATA: no cell."""
    paper = tables.get("paper")
    if paper is None:
        return Verdict(NO_DATA, "–", "–", "Δ –", "the paper's tables are missing")
    p = paper[paper.table == params["table"]]
    model, nb = p.model.iloc[0], int(p.n_batches.iloc[0])
    g = _grid(tables, params, model)
    m = p.merge(g[g.n_batches == nb], on=["layer", "batch_size"], how="inner")
    paper_s = f"Table {params['table']}: {len(p)} cells, mean {p.gauss_pct_mean.mean():.2f} %"
    if not len(m):
        return _missing(tables, params, paper_s, f"{model} cells at {nb} batches", models=model,
                        batch_sizes=sorted(p.batch_size.unique()), n_batches=[nb])
    d = m.value - m.gauss_pct_mean
    i = d.abs().idxmax()
    v = REPRODUCED if d.abs().mean() <= params.get("tol_reproduced_pp", 5) else \
        PARTLY if d.abs().mean() <= params.get("tol_partly_pp", 15) else NOT_REPRODUCED
    return Verdict(v, f"Table {params['table']}: mean {m.gauss_pct_mean.mean():.2f} % over these cells",
                   f"mean {m.value.mean():.2f} % over {len(m)}/{len(p)} cells",
                   f"mean |Δ| {d.abs().mean():.2f} pp, mean Δ {d.mean():+.2f} pp",
                   f"max |Δ| {abs(d[i]):.2f} pp at {m.layer[i]} @ {m.batch_size[i]}")


def _series_ok(values: pd.Series, min_rho: float, ceiling: float) -> tuple[bool, str]:
    """A series over increasing batch sizes counts as rising (Spearman >= min_rho and last > first) or
    saturated (every value >= ceiling)."""
    if values.min() >= ceiling:
        return True, "saturated"
    rho = spearman(values.index, values.values)
    return bool(rho >= min_rho and values.iloc[-1] > values.iloc[0]), f"ρ = {rho:.2f}"


def _trend_share(g, params):
    layers = params.get("layers") or sorted(g.layer.unique())
    res = []
    for (nb, layer), s in g[g.layer.isin(layers) & g.n_batches.isin(params.get("n_batches", [200, 600]))] \
            .groupby(["n_batches", "layer"]):
        s = s.set_index("batch_size").value.sort_index()
        if len(s) >= 3:
            ok, why = _series_ok(s, params.get("min_rho", 0.8), params.get("ceiling_pct", 90))
            res.append((nb, layer, ok, why))
    return res


@kind("batch_trend")
def batch_trend(tables: dict, params: dict) -> Verdict:
    """Gaussianity rises with batch size. Per (n_batches, layer) series of >= 3 batch sizes: rising
    (Spearman >= min_rho [0.8] and last > first) or saturated (all >= ceiling_pct [90]). REPRODUCED: share of
    such series >= reproduced_share [1.0]; PARTLY: >= partly_share [0.5]. The paper's own share by the same rule
    is reported beside ours."""
    g = _grid(tables, params)
    pres = _trend_share(paper_grid(tables.get("paper"), params["model"]), params)
    paper_s = f"rising/saturated in {share(sum(r[2] for r in pres), len(pres))} of its tabled series"
    res = _trend_share(g, params)
    if not res:
        return _missing(tables, params, paper_s, f"{params['model']} grid with >= 3 batch sizes",
                        batch_sizes=[1024, 2048] if params["model"].startswith("alexnet") else [512])
    k = sum(r[2] for r in res)
    v = grade(k / len(res), params.get("reproduced_share", 1.0), params.get("partly_share", 0.5))
    bad = [f"{l} ({nb}: {why})" for nb, l, ok, why in res if not ok]
    paper_share = sum(r[2] for r in pres) / len(pres) if pres else np.nan
    ev = ("not rising: " + ", ".join(bad[:8]) + (" …" if len(bad) > 8 else "")) if bad else \
        "every series rises or is saturated"
    return Verdict(v, paper_s, f"{share(k, len(res))} series", f"{k / len(res) - paper_share:+.2f} share", ev)


def _ranking_hits(g, params):
    layers, target = params["layers"], set(params["target"])
    hits = []
    for (nb, bs), c in g[g.layer.isin(layers)].groupby(["n_batches", "batch_size"]):
        if set(layers) - set(c.layer):
            continue
        c = c.sort_values("value", ascending=params.get("position") == "bottom")
        got = set(c.layer.iloc[:len(target)])
        hits.append((nb, bs, got == target, ", ".join(sorted(got))))
    return hits


@kind("ranking")
def ranking(tables: dict, params: dict) -> Verdict:
    """The `target` layers are the top (or bottom) len(target) of `layers` in each (n_batches, batch size)
    column. params: model, layers, target, position top|bottom, reproduced_share [1.0], partly_share [0.5]."""
    g = _grid(tables, params)
    ph = _ranking_hits(paper_grid(tables.get("paper"), params["model"]), params)
    word = "lowest" if params.get("position") == "bottom" else "highest"
    paper_s = f"{' & '.join(params['target'])} {word} in {share(sum(h[2] for h in ph), len(ph))} columns"
    hits = _ranking_hits(g, params)
    if not hits:
        return _missing(tables, params, paper_s, f"{params['model']} grid with all of {params['layers']}")
    k = sum(h[2] for h in hits)
    v = grade(k / len(hits), params.get("reproduced_share", 1.0), params.get("partly_share", 0.5))
    bad = [f"{bs}/{nb}: {got}" for nb, bs, ok, got in hits if not ok]
    ev = (f"{word} instead: " + "; ".join(bad)) if bad else f"{' & '.join(params['target'])} {word} in every column"
    return Verdict(v, paper_s, f"{share(k, len(hits))} columns",
                   f"{k}/{len(hits)} vs {sum(h[2] for h in ph)}/{len(ph)}", ev)


@kind("nbatches_lower")
def nbatches_lower(tables: dict, params: dict) -> Verdict:
    """Cells at `high` batches [600] below the same cells at `low` [200]. REPRODUCED: share >=
    reproduced_share [0.9]; PARTLY: >= partly_share [0.6]."""
    lo, hi = params.get("low", 200), params.get("high", 600)

    def shares(g):
        p = g.pivot_table(index=["layer", "batch_size"], columns="n_batches", values="value")
        if lo not in p or hi not in p:
            return None
        p = p[[lo, hi]].dropna()
        return int((p[hi] < p[lo]).sum()), len(p)

    ps = shares(paper_grid(tables.get("paper"), params["model"])) or (0, 0)
    paper_s = f"lower in {share(*ps)} cells"
    ours = shares(_grid(tables, params))
    if not ours or not ours[1]:
        return _missing(tables, params, paper_s, f"{params['model']} cells at both {lo} and {hi} batches",
                        n_batches=[lo, hi])
    v = grade(ours[0] / ours[1], params.get("reproduced_share", 0.9), params.get("partly_share", 0.6))
    return Verdict(v, paper_s, f"lower in {share(*ours)} cells",
                   f"{ours[0] / ours[1] - (ps[0] / ps[1] if ps[1] else np.nan):+.2f} share",
                   "note: more samples give Shapiro-Wilk more power, so more columns are rejected at 600")


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
    """Whole network (d-weighted over layers) above a threshold per n_batches. params: model, batch_size,
    thresholds {n_batches: pct}. REPRODUCED: all present thresholds met; PARTLY: some; NOT REPRODUCED: none."""
    g, pg = _grid(tables, params), paper_grid(tables.get("paper"), params["model"])
    bs, th = params["batch_size"], {int(k): v for k, v in params["thresholds"].items()}
    paper_s = ", ".join(f"> {t} % at {nb} (tables: {pct(whole_network(pg, bs, nb))})" for nb, t in th.items())
    got = {nb: whole_network(g, bs, nb) for nb in th}
    got = {nb: x for nb, x in got.items() if x is not None}
    if not got:
        return _missing(tables, params, paper_s, f"{params['model']} cells at batch {bs}", batch_sizes=[bs],
                        n_batches=list(th))
    met = [x > th[nb] for nb, x in got.items()]
    v = REPRODUCED if all(met) else PARTLY if any(met) else NOT_REPRODUCED
    return Verdict(v, paper_s, ", ".join(f"{pct(x)} at {nb}" for nb, x in got.items()),
                   ", ".join(dpp(x, th[nb]) + " vs threshold" for nb, x in got.items()),
                   f"{sum(met)}/{len(met)} thresholds met (d-weighted mean over all weight layers)")


@kind("threshold_share")
def threshold_share(tables: dict, params: dict) -> Verdict:
    """Share of (layer, batch size, n_batches) cells above `threshold`. params: model, exclude_layers,
    batch_sizes (all if absent), n_batches, threshold, reproduced_share [1.0], partly_share [0.8]."""
    def cells(g):
        c = g[~g.layer.isin(params.get("exclude_layers", [])) & g.n_batches.isin(params["n_batches"])]
        if params.get("batch_sizes"):
            c = c[c.batch_size.isin(params["batch_sizes"])]
        return c

    th = params["threshold"]
    pc = cells(paper_grid(tables.get("paper"), params["model"]))
    paper_s = f"> {th} % (its tables: {share(int((pc.value > th).sum()), len(pc))} listed cells)"
    c = cells(_grid(tables, params))
    if not len(c):
        return _missing(tables, params, paper_s, f"{params['model']} cells", batch_sizes=params.get("batch_sizes", []),
                        n_batches=params["n_batches"])
    k = int((c.value > th).sum())
    v = grade(k / len(c), params.get("reproduced_share", 1.0), params.get("partly_share", 0.8))
    lo = c.loc[c.value.idxmin()]
    return Verdict(v, paper_s, f"{share(k, len(c))} cells above, min {pct(lo.value)} ({lo.layer} @ {lo.batch_size})",
                   dpp(lo.value, th) + " at the minimum",
                   f"cells at n_batches {sorted(int(x) for x in c.n_batches.unique())}, batch sizes "
                   f"{sorted(int(x) for x in c.batch_size.unique())}")


@kind("model_above_grid")
def model_above_grid(tables: dict, params: dict) -> Verdict:
    """Whole network of model_hi above model_lo at each common (batch size, n_batches). REPRODUCED: all
    common cells; PARTLY: >= half; NOT REPRODUCED otherwise."""
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
    c = compare(_grid(tables, params, hi), _grid(tables, params, lo))
    if not c:
        return _missing(tables, params, paper_s, f"{hi} and {lo} grids at common batch sizes", models=[hi, lo])
    k = sum(a > b for *_, a, b in c)
    v = grade(k / len(c), 1.0, 0.5)
    return Verdict(v, paper_s, f"above in {share(k, len(c))} cells",
                   "mean gap " + dpp(np.mean([a for *_, a, b in c]), np.mean([b for *_, a, b in c])),
                   "; ".join(f"{bs}/{nb}: {a:.1f} vs {b:.1f}" for bs, nb, a, b in c))


@kind("small_std")
def small_std(tables: dict, params: dict) -> Verdict:
    """Run-to-run std over repeats is small. params: model, max_median_std_pp [1.0], partly_median_std_pp
    [2.0], min_repeats [2]. REPRODUCED / PARTLY by the median cell std; NO DATA with fewer repeats."""
    pg = paper_grid(tables.get("paper"), params["model"])
    paper_s = f"median std {pg['std'].median():.2f} pp (max {pg['std'].max():.2f}) over 5 repeats"
    g = _grid(tables, params)
    g = g[g.repeats >= params.get("min_repeats", 2)]
    if not len(g):
        scale = params.get("scale", "?")
        return no_data(paper_s, f"{params['model']} grid with >= {params.get('min_repeats', 2)} repeats", scale,
                       fill_command(scale, "capture", params["model"], tables, extra=" --final-only --repeats 5"))
    med = float(g["std"].median())
    v = REPRODUCED if med <= params.get("max_median_std_pp", 1.0) else \
        PARTLY if med <= params.get("partly_median_std_pp", 2.0) else NOT_REPRODUCED
    reps = f"{int(g.repeats.min())}" if g.repeats.min() == g.repeats.max() else \
        f"{int(g.repeats.min())}-{int(g.repeats.max())}"
    return Verdict(v, paper_s, f"median std {med:.2f} pp (max {g['std'].max():.2f}) over {reps} repeats",
                   f"Δ {med - pg['std'].median():+.2f} pp",
                   f"{len(g)} cells with >= {params.get('min_repeats', 2)} repeats")
