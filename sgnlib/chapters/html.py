"""Every HTML table of the book in one place: wrapping cells that fit an 800 px column, the caption
on top, fixed ids (reproducible notebook outputs), Δ cells coloured by sign (Okabe-Ito: blue, ours
above the paper; vermilion, below); `show` displays one in a notebook."""
from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from ..claims.present import theme_table
from ..reader import layer_order
from .common import fmt

ABOVE, BELOW, ABOVE_TINT, BELOW_TINT = "#0072B2", "#D55E00", "#dbeaf5", "#f8e0d0"
CSS = ("<style>#T {border-collapse: collapse; font-size: 0.82em; max-width: 100%; margin: 0.5em 0 "
       "1em;} #T caption {caption-side: top; text-align: left; font-size: 0.95em; color: #333; "
       "padding-bottom: 0.4em; white-space: normal;} #T th, #T td {padding: 0.2em 0.45em; "
       "border-bottom: 1px solid #ddd; white-space: normal; overflow-wrap: break-word; "
       "vertical-align: top;} #T thead th {border-bottom: 2px solid #888; text-align: center;} "
       "#T td {text-align: right;} #T td.text {text-align: left;}</style>")


def _index_cells(keys: list[tuple], i: int) -> list[str]:
    """Row i's index cells, a level left blank where it repeats the row above (outer levels
    only)."""
    cells = []
    for lvl, k in enumerate(keys[i]):
        same = i and lvl < len(keys[i]) - 1 and keys[i - 1][:lvl + 1] == keys[i][:lvl + 1]
        text = "" if same else escape(str(k))
        cells.append(f'<th class="text" style="text-align:left">{text}</th>')
    return cells


def _cell(v, style: str, text: bool) -> str:
    txt = "–" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    cls = ' class="text"' if text else ""
    return f"<td{cls}" + (f' style="{style}"' if style else "") + f">{escape(txt)}</td>"


def html_table(df: pd.DataFrame, uid: str, caption: str = "", index: bool = False,
               cell_style=None, text_columns=()) -> str:
    """HTML table T_<uid>, wrapping cells, caption on top, index levels first;
    cell_style(i, column) -> CSS of a cell."""
    out = [CSS.replace("#T", f"#T_{uid}"), f'<table id="T_{uid}" class="sgn-table">']
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    names = [*(df.index.names if index else []), *df.columns]
    head = "".join(f"<th>{escape(str(h or ''))}</th>" for h in names)
    out.append(f"<thead><tr>{head}</tr></thead><tbody>")
    keys = [k if isinstance(k, tuple) else (k,) for k in df.index]
    for i in range(len(df)):
        cells = _index_cells(keys, i) if index else []
        cells += [_cell(df.iloc[i][c], cell_style(i, c) if cell_style else "", c in text_columns)
                  for c in df.columns]
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</tbody></table>"


def show(html_text: str) -> None:
    """Display HTML in a notebook (returns nothing, so a cell ending in it shows no repr)."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
        if get_ipython() is not None:
            display(HTML(html_text))
    except ImportError:
        pass


def delta_style(delta, exceeds) -> str:
    """CSS of a Δ cell: blue (ours above) or vermilion (below), saturated when |Δ| exceeds both
    stds."""
    if delta is None or pd.isna(delta):
        return ""
    if exceeds:
        return f"background:{ABOVE if delta > 0 else BELOW};color:white;font-weight:bold"
    return f"background:{ABOVE_TINT if delta > 0 else BELOW_TINT}"


def comparison_html(t: pd.DataFrame, uid: str, caption: str) -> str:
    """A `comparison` (ours beside the paper's table) with its Δ column coloured."""
    f2 = lambda col: [fmt(v, 2) for v in t[col]]  # noqa: E731
    frame = pd.DataFrame({
        "layer": t.layer, "batch": t.batch_size, "ours": f2("ours_mean"), "σ ours": f2("ours_std"),
        "paper": f2("paper_mean"), "σ paper": f2("paper_std"),
        "Δ pp": [fmt(v, 1, sign=True) for v in t.delta_pp], "n": t.repeats.astype(int).astype(str),
        "excl.": [fmt(v, 1) for v in t.excl_degenerate],
        "degen.": [fmt(v, 1) for v in t.degenerate_pct]}).set_index(["layer", "batch"])
    deltas, exceeds = t.delta_pp.tolist(), t.exceeds.tolist()
    style = lambda i, c: delta_style(deltas[i], exceeds[i]) if c == "Δ pp" else ""  # noqa: E731
    return html_table(frame, uid, caption, index=True, cell_style=style)


def grid_html(t: pd.DataFrame, uid: str, caption: str) -> str:
    """Every layer x batch size of a `comparison`, ours (the paper's value in brackets where it
    gives one), and the layer's mean % point-mass dimensions."""
    t = t.assign(cell=[fmt(o) + ("" if pd.isna(p) else f" ({fmt(p)})")
                       for o, p in zip(t.ours_mean, t.paper_mean)])
    w = t.pivot(index="layer", columns="batch_size", values="cell")
    w = w.loc[layer_order(w.index)]
    deg = t.groupby("layer").degenerate_pct.mean()
    w.columns = [f"batch {c}" for c in w.columns]
    w["degen."] = [fmt(deg[layer], 1) for layer in w.index]
    return html_table(w.rename_axis("layer"), uid, caption, index=True)


def provenance_html(p: pd.DataFrame, uid: str = "provenance") -> str:
    """The provenance table of the Methods page (what ran where)."""
    cap = ("What ran where, generated from the provenance columns every result row carries "
           "(sgnlib.chapters.methods.provenance). tables: the results tables the configurations "
           "wrote; epochs: training length of the checkpoint (the paper: 300); repeats: distinct "
           "repeat indices; configs: committed configurations; commit: git commits the rows were "
           "computed from (+dirty: an edited working tree).")
    return html_table(p.set_index(["scale", "tables"]), uid, cap, index=True,
                      text_columns=("model", "device", "commit", "date"))


# a claim's verdict as the background of its cell: blue reproduced, sand partly, vermilion not
VERDICT_COLOURS = {"REPRODUCED": ABOVE_TINT, "NOT REPRODUCED": BELOW_TINT, "PARTLY": "#f3e6c4",
                   "NO DATA": "#eeeeee", "NOT TESTABLE": "#eeeeee"}


def theme_html(results: dict[str, pd.DataFrame], theme: str, uid: str) -> str:
    """The claims of one theme (`sgnlib.claims.present.theme_table`: results maps each scale to its
    `claims.evaluate`), each scale's cell coloured by its verdict; fits an 800 px column."""
    t = theme_table(results, theme)
    verdict = {s: r.set_index("id").verdict for s, r in results.items()}
    cap = (f"Claims about {theme}: the paper's statement and value, then at each scale our verdict "
           f"and value (difference to the paper). Blue: reproduced, sand: partly, vermilion: not "
           f"reproduced, grey: no data or not testable.")

    def style(i, c):
        if c == "id":
            return "white-space:nowrap;"
        if c in verdict:
            colour = VERDICT_COLOURS[verdict[c][t.id.iloc[i]]]
            return f"background:{colour};word-break:break-word;font-size:0.92em;"
        return "word-break:break-word;"
    return html_table(t, uid, cap, text_columns=tuple(t.columns), cell_style=style)


def gaps_html(gaps: pd.DataFrame, uid: str = "gaps") -> str:
    """The gap per paper table (`sgnlib.claims.table_gaps` of the scales, concatenated)."""
    g = pd.DataFrame({
        "scale": gaps.scale, "table": gaps.table.astype(str),
        "cells": gaps.cells.astype(str) + "/" + gaps.paper_cells.astype(str),
        "mean |Δ| pp": gaps.mean_abs_dpp.round(1), "max |Δ| pp": gaps.max_abs_dpp.round(1),
        "at": gaps.max_cell, "mean Δ pp": gaps.mean_dpp.round(1),
        "σ paper": gaps.paper_mean_std.round(2), "σ ours": gaps.ours_mean_std.round(2),
        "n": gaps.repeats})
    cap = ("Gap per paper table: mean and max |ours - paper| in percentage points over the cells "
           "both have (cells: ours/paper's), the mean signed gap, beside the paper's mean std over "
           "its 5 repeats and ours over our n repeats.")
    return html_table(g, uid, cap, text_columns=("at",),
                      cell_style=lambda i, c: "word-break:break-word;")


def readme_html(markdown: str, uid: str) -> str:
    """A results folder's README (markdown) as HTML, headings demoted, long lines wrapped."""
    import re

    from markdown_it import MarkdownIt
    body = MarkdownIt("commonmark").enable("table").render(markdown)
    body = re.sub(r"<(/?)h([1-4])>", lambda m: f"<{m[1]}h{min(int(m[2]) + 3, 6)}>", body)
    r = f"#R_{uid}"
    return (f"<style>{r} pre, {r} code {{white-space: pre-wrap; overflow-wrap: anywhere;}} {r} "
            f"table {{font-size: 0.8em; border-collapse: collapse;}} {r} td, {r} th {{padding: "
            f"0.15em 0.35em; border-bottom: 1px solid #ddd;}} {r} {{border-left: 3px solid #ccc; "
            f"padding-left: 0.8em; font-size: 0.92em;}}</style>"
            f'<div id="R_{uid}" class="sgn-readme">{body}</div>')


def discrepancies_html(d: pd.DataFrame, uid: str = "discrepancies") -> str:
    """The paper's inconsistencies (report.paper_discrepancies), every column text."""
    cap = ("Inconsistencies in the paper, and statements stronger or weaker than what holds "
           "(report.paper_discrepancies).")
    return html_table(d, uid, cap, text_columns=tuple(d.columns))


def parameters_html(params: pd.DataFrame, notebook: str, uid: str) -> str:
    """A notebook's papermill parameters (name, default, type, meaning) as a table."""
    cap = (f"Parameters of {notebook} (papermill: -p NAME VALUE), read from its parameters "
           f"cell.")
    return html_table(params, uid, cap, text_columns=("parameter", "default", "type", "meaning"))


def effect_grid_html(grid: pd.DataFrame, beyond: pd.DataFrame, delta: pd.DataFrame, uid: str,
                     caption: str) -> str:
    """The protocol study's effect grid ('Δ ± half-width' per factor, layer and batch size), Δ
    cells coloured by sign, saturated where |Δ| is beyond the 95 % half-width."""
    label = {f"batch {c}": c for c in grid.columns}
    frame = grid.fillna("–").rename(columns={c: l for l, c in label.items()})
    style = lambda i, col: delta_style(  # noqa: E731
        delta.iloc[i][label[col]], bool(beyond.iloc[i][label[col]])) if col in label else ""
    return html_table(frame, uid, caption, index=True, cell_style=style)


HEADERS = {
    "mean_delta_pp": "mean Δ (pp)", "mean_abs_delta_pp": "mean |Δ| (pp)",
    "beyond_spread": "cells beyond spread", "mean_abs_gap_pp": "distance (pp)",
    "mean_gap_pp": "mean gap (pp)", "baseline_same_cells_pp": "baseline, same cells (pp)",
    "batch_size": "batch", "trained_epochs": "epochs trained", "run_epochs": "run length (epochs)",
    "mean_all_pct": "% Gaussian, all layers",
    "mean_paper_layers_pct": "% Gaussian, Table 3 layers",
    "paper_layers_at_threshold": "Table 3 layers ≥ 85 %",
    "paper_table3_mean_pct": "paper's Table 3 mean"}


def headed_table_html(df: pd.DataFrame, uid: str, caption: str) -> str:
    """A protocol-study table: numbers rounded to 2 places, readable headers (`HEADERS`)."""
    out = df.round(2).rename(columns=HEADERS)
    return html_table(out, uid, caption,
                      text_columns=[c for c in out.columns if out[c].dtype == object])


def quote_html(text: str) -> str:
    """Plain text (a docstring) as a blockquote that keeps its line breaks."""
    body = text.strip().replace("&", "&amp;").replace("<", "&lt;")
    return f"<blockquote style='white-space: pre-wrap; font-size: 0.85em'>{body}</blockquote>"


def paragraph_html(text: str) -> str:
    """A sentence as an HTML paragraph."""
    return f"<p>{escape(text, quote=False)}</p>"
