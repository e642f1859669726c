"""Ours beside the paper's Tables 1-4 (AlexNet and ResNet chapters): per layer and batch size at the
final checkpoint, the difference Δ in percentage points and whether it exceeds both standard
deviations; the table shown with its caption, or the note on the missing result."""
from __future__ import annotations

import pandas as pd

from .. import reader
from ..hyperparameters import SIGNIFICANCE_LEVEL
from .common import MODEL_NAMES, fmt, gap, run_caption
from .html import comparison_html, show

COLUMNS = ["layer", "batch_size", "ours_mean", "ours_std", "paper_mean", "paper_std", "delta_pp",
           "exceeds", "excl_degenerate", "degenerate_pct", "repeats"]
DELTA_LEGEND = ("Δ pp = ours − paper in percentage points: blue, ours higher; vermilion, ours "
                "lower; saturated and bold where |Δ| exceeds both standard deviations (the paper's "
                "over its 5 repeats and ours over our repeats, where we have more than one), pale "
                "where it does not.")


def _in_layer_order(t: pd.DataFrame, model: str, layers) -> pd.DataFrame:
    """Rows of the chosen layers ('all', 'paper': the paper's, or a list), in network order."""
    if layers != "all":
        p = reader.paper_tables()
        keep = reader.layer_order(p[p.model == model].layer) if layers == "paper" else layers
        t = t[t.layer.isin(keep)]
    order = {n: i for i, n in enumerate(reader.layer_order(t.layer))}
    return t.assign(_o=t.layer.map(order)).sort_values(["_o", "batch_size"])


def comparison(g: pd.DataFrame | None, model: str, n_batches: int,
               layers="all") -> pd.DataFrame | None:
    """Ours beside the paper's per (layer, batch size) at the final checkpoint, or None:
    ours_mean/std (ddof 1), paper_mean/std, delta_pp, exceeds (|delta| above both stds),
    excl_degenerate, degenerate_pct, repeats."""
    if g is None or not len(reader.final_rows(g, model).query("n_batches == @n_batches")):
        return None
    t = reader.ours_vs_paper(g, model, n_batches)
    excl = reader.ours_vs_paper(g, model, n_batches, rule="gauss_pct_excl_degenerate")
    excl = excl[["layer", "batch_size", "ours_mean"]].rename(
        columns={"ours_mean": "excl_degenerate"})
    t = t.merge(excl, on=["layer", "batch_size"])
    t["delta_pp"] = t.ours_mean - t.paper_mean
    d = t.delta_pp.abs()
    beyond_ours = t.ours_std.isna() | (d > t.ours_std)
    t["exceeds"] = (d > t.paper_std) & beyond_ours & t.paper_mean.notna()
    return _in_layer_order(t, model, layers)[COLUMNS].reset_index(drop=True)


def agreement(t: pd.DataFrame) -> dict:
    """Cells of a `comparison` with a paper value: below / above it beyond both stds, within,
    median Δ."""
    c = t[t.paper_mean.notna()]
    return {"cells": len(c), "below": int((c.exceeds & (c.delta_pp < 0)).sum()),
            "median_delta": fmt(c.delta_pp.median(), 1, sign=True),
            "above": int((c.exceeds & (c.delta_pp > 0)).sum()), "within": int((~c.exceeds).sum())}


def comparison_caption(table_no: int, model: str, n_batches: int, scale: str, g,
                       shown: str = "") -> str:
    """The caption of Table `table_no` at one scale: the run, the rule, the columns, the colours."""
    grid = reader.final_rows(g, model)
    return (f"Table {table_no} ({MODEL_NAMES.get(model, model)}, {n_batches} minibatches), ours at "
            f"{run_caption(grid[grid.n_batches == n_batches], scale)}{shown}. % Gaussian weight "
            f"dimensions (Shapiro-Wilk at significance level {SIGNIFICANCE_LEVEL:g}; point masses "
            f"counted as Gaussian, the paper's rule; the null ceiling is 95 %). σ: standard "
            f"deviation over repeats; n: our repeats; excl.: point masses not counted as "
            f"Gaussian; degen.: % point-mass dimensions. " + DELTA_LEGEND)


def show_comparison(g, table_no: int, model: str, n_batches: int, scale: str,
                    gap_key: str | None = None, layers="all"):
    """Display Table `table_no` at one scale, or the note GAPS[gap_key] without rows; return the
    comparison."""
    t, key = comparison(g, model, n_batches, layers), layers if isinstance(layers, str) else "sel"
    if t is None:
        if gap_key:
            return gap(gap_key)
        return show(f"<p>{scale} scale: no results for Table {table_no}.</p>")
    shown = {"all": "", "paper": "; the layers the paper lists"}.get(key, "; selected layers")
    cap = comparison_caption(table_no, model, n_batches, scale, g, shown)
    show(comparison_html(t, f"table{table_no}_{scale}_{key}", cap))
    return t
