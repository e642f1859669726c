"""The claims as the report chapter shows them: HTML tables of verdicts (scales side by side, one
table per theme), the counts of empirical claims per scale, and the gap per paper table, built with
`sgnlib.chapters.html.html_table`."""
from __future__ import annotations

import pandas as pd

from ..chapters.html import ABOVE_TINT, BELOW_TINT, html_table
from .core import VOCABULARY

COLOURS = {"REPRODUCED": ABOVE_TINT, "NOT REPRODUCED": BELOW_TINT, "PARTLY": "#f3e6c4", "NO DATA": "#eeeeee",
           "NOT TESTABLE": "#eeeeee"}


SHORT = {"REPRODUCED": "reproduced", "PARTLY": "partly", "NOT REPRODUCED": "not reproduced",
         "NO DATA": "no data", "NOT TESTABLE": "not testable"}


def theme_table(results: dict[str, pd.DataFrame], theme: str) -> pd.DataFrame:
    """The claims of one theme: id, claim ("paraphrase — paper: value"), then per scale its verdict
    and our value with the difference, in one cell ("verdict: ours (Δ)")."""
    first = next(iter(results.values()))
    rows = first[first.theme == theme]
    out = pd.DataFrame({"id": rows.id, "claim": rows.paraphrase + " — paper: " + rows.paper})
    for scale, r in results.items():
        r = r.set_index("id").loc[rows.id]
        ours = [f"{SHORT[v]}: {o} ({d})" if o not in ("–", "") else SHORT[v]
                for v, o, d in zip(r.verdict, r.ours.astype(str), r.delta.astype(str))]
        out[scale] = ours
    return out.reset_index(drop=True)


def theme_html(results: dict[str, pd.DataFrame], theme: str, uid: str) -> str:
    """`theme_table` as HTML, each scale's cell coloured by its verdict; fits an 800 px column."""
    t = theme_table(results, theme)
    verdict = {s: r.set_index("id").verdict for s, r in results.items()}
    cap = (f"Claims about {theme}: the paper's statement and value, then at each scale our verdict "
           f"and value (difference to the paper). Blue: reproduced, sand: partly, vermilion: not "
           f"reproduced, grey: no data or not testable.")

    def style(i, c):
        if c == "id":
            return "white-space:nowrap;"
        if c in verdict:
            return f"background:{COLOURS[verdict[c][t.id.iloc[i]]]};word-break:break-word;font-size:0.92em;"
        return "word-break:break-word;"
    return html_table(t, uid, cap, text_columns=tuple(t.columns), cell_style=style)


def empirical_counts(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scale: how many of the paper's empirical claims each verdict has (rows: scales)."""
    rows = {s: r[r.group == "empirical"].verdict.value_counts() for s, r in results.items()}
    t = pd.DataFrame(rows).T.reindex(columns=list(VOCABULARY), fill_value=0).fillna(0).astype(int)
    t.columns = [SHORT[c] for c in t.columns]
    t.index.name = "scale"
    return t


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


# the landing page's questions: (question, the claims that answer it, the chapter with the evidence)
HEADLINES = (
    ("Gaussianity rises with the batch size (AlexNet)", ("C18", "C21"), "results/alexnet"),
    ("Layer 1 is the most Gaussian, layers 4-5 the least", ("C22", "C23"), "results/alexnet"),
    ("Our cells match Tables 1-2 (AlexNet)", ("C30", "C31"), "results/alexnet"),
    ("600 minibatches give lower percentages than 200", ("C29",), "results/alexnet"),
    ("Conv layers 3-4 lose Gaussianity over training; BatchNorm keeps it", ("C15", "C16", "C17"),
     "results/training"),
    ("ResNet-56 stays above 85 % (Tables 3-4)", ("C34", "C32"), "results/resnet"),
    ("Larger β/σ³ means less Gaussian (the Berry-Esseen reading)", ("C41", "C46", "C47"),
     "results/moments"),
    ("Tail indices rise to 2 with the batch size", ("C48", "C50"), "results/tails"),
)


def combine(verdicts) -> str:
    """One verdict for several claims: all reproduced -> REPRODUCED; none reproduced or partly and one
    not -> NOT REPRODUCED; no data where nothing else exists -> NO DATA; anything else -> PARTLY.
    Claims without data do not count when others have it."""
    have = [v for v in verdicts if v not in ("NO DATA", "NOT TESTABLE")]
    if not have:
        return "NO DATA" if "NO DATA" in verdicts else "NOT TESTABLE"
    if all(v == "REPRODUCED" for v in have):
        return "REPRODUCED"
    if all(v == "NOT REPRODUCED" for v in have):
        return "NOT REPRODUCED"
    return "PARTLY"


def headlines(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The landing page's table: question, claims, chapter, then per scale the combined verdict."""
    rows = []
    for question, ids, chapter in HEADLINES:
        row = {"question": question, "claims": ", ".join(ids), "chapter": chapter}
        for scale, r in results.items():
            v = r.set_index("id").verdict
            row[scale] = combine([v[i] for i in ids])
        rows.append(row)
    return pd.DataFrame(rows)


def headlines_markdown(results: dict[str, pd.DataFrame]) -> str:
    """`headlines` as a MyST table: the question links to its chapter, each scale's verdict in words."""
    t = headlines(results)
    scales = list(results)
    lines = ["| the paper says | " + " | ".join(scales) + " |", "|---" * (len(scales) + 1) + "|"]
    for _, r in t.iterrows():
        verdicts = " | ".join(SHORT[r[s]] for s in scales)
        lines.append(f"| {{doc}}`{r.question} <{r.chapter}>` ({r.claims}) | {verdicts} |")
    return "\n".join(lines)
