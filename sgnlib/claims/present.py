"""The claims as the report chapter and the landing page show them: one table per theme (scales
side by side), the counts of empirical claims per scale, and the landing page's headline questions
with their combined verdicts (a MyST table). The HTML of the theme and gap tables is built in
`sgnlib.chapters.html` (`theme_html`, `gaps_html`)."""
from __future__ import annotations

import pandas as pd

from .core import VOCABULARY

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


def empirical_counts(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scale: how many of the paper's empirical claims each verdict has (rows: scales)."""
    rows = {s: r[r.group == "empirical"].verdict.value_counts() for s, r in results.items()}
    t = pd.DataFrame(rows).T.reindex(columns=list(VOCABULARY), fill_value=0).fillna(0).astype(int)
    t.columns = [SHORT[c] for c in t.columns]
    t.index.name = "scale"
    return t


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
    """One verdict for several claims: all reproduced -> REPRODUCED; none reproduced or partly and
    one not -> NOT REPRODUCED; no data where nothing else exists -> NO DATA; anything else ->
    PARTLY. Claims without data do not count when others have it."""
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
    """`headlines` as a MyST table: the question links to its chapter, each scale's verdict in
    words."""
    t = headlines(results)
    scales = list(results)
    lines = ["| the paper says | " + " | ".join(scales) + " |", "|---" * (len(scales) + 1) + "|"]
    for _, r in t.iterrows():
        verdicts = " | ".join(SHORT[r[s]] for s in scales)
        lines.append(f"| {{doc}}`{r.question} <{r.chapter}>` ({r.claims}) | {verdicts} |")
    return "\n".join(lines)
