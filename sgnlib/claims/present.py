"""The claims as the report chapter shows them: HTML tables of verdicts (both scales side by side) and of
the gap per paper table, built with `sgnlib.tables.html_table`."""
from __future__ import annotations

import pandas as pd

from ..tables import ABOVE_TINT, BELOW_TINT, html_table

COLOURS = {"REPRODUCED": ABOVE_TINT, "NOT REPRODUCED": BELOW_TINT, "PARTLY": "#f3e6c4", "NO DATA": "#eeeeee",
           "NOT TESTABLE": "#eeeeee"}


def wide(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per claim: id, claim, the paper's value, then per scale its verdict and 'paper X, ours Y (Δ)'."""
    first = next(iter(results.values()))
    out = first[["id", "paraphrase", "paper"]].rename(columns={"paraphrase": "claim", "paper": "paper says"})
    for scale, r in results.items():
        r = r.set_index("id")
        out[f"{scale}: verdict"] = out.id.map(r.verdict)
        out[f"{scale}: ours (Δ)"] = out.id.map(r.ours.astype(str) + " (" + r.delta.astype(str) + ")")
    return out


def claims_html(results: dict[str, pd.DataFrame], uid: str = "claims") -> str:
    w = wide(results)
    cols = list(w.columns)
    cap = ("Every claim of the paper (data/paper/claims.csv) with its verdict at each scale, computed by "
           "sgnlib.claims.evaluate; thresholds are fixed in the CSV. Blue: reproduced, vermilion: not "
           "reproduced, sand: partly, grey: no data / not testable.")
    def style(i, c):  # long unbroken tokens (formulas, commands) must wrap inside an 800 px column
        if c == "id":
            return "white-space:nowrap;"
        if c.endswith(": verdict"):
            return f"background:{COLOURS.get(w.iloc[i][c], '')};"
        return "word-break:break-word;"
    return html_table(w, uid, cap, text_columns=tuple(cols), cell_style=style)


def gaps_html(gaps: pd.DataFrame, uid: str = "gaps") -> str:
    g = pd.DataFrame({
        "scale": gaps.scale, "table": gaps.table.astype(str),
        "cells": gaps.cells.astype(str) + "/" + gaps.paper_cells.astype(str),
        "mean |Δ| pp": gaps.mean_abs_dpp.round(1), "max |Δ| pp": gaps.max_abs_dpp.round(1),
        "at": gaps.max_cell, "mean Δ pp": gaps.mean_dpp.round(1),
        "σ paper": gaps.paper_mean_std.round(2), "σ ours": gaps.ours_mean_std.round(2), "n": gaps.repeats})
    cap = ("Gap per paper table: mean and max |ours - paper| in percentage points over the cells both have "
           "(cells: ours/paper's), the mean signed gap, beside the paper's mean std over its 5 repeats and ours "
           "over our n repeats.")
    return html_table(g, uid, cap, text_columns=("at",), cell_style=lambda i, c: "word-break:break-word;")
