"""The protocol study's findings table for its results folder's README.

`findings_table` gives, per factor (AlexNet, then AlexNet-BN against its own baseline), the mean and
mean absolute change of the cells, the cells beyond the repeats' spread and, for AlexNet, the
distance to Table 1 beside the baseline's on the same cells (`sgnlib.protocol_study` computes them);
`findings_markdown` writes it as markdown and `with_findings` puts it between the README's markers
(`scripts/protocol_report.py --readme`; a test keeps the committed README equal to the rows).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .protocol_study import distances, effects, factor_summary


def findings_table(g: pd.DataFrame) -> pd.DataFrame:
    """Per factor (AlexNet, then AlexNet-BN against its own baseline): mean Δ, mean |Δ|, cells
    beyond the spread, and for AlexNet the distance on its cells beside the baseline's on the same
    cells."""
    parts = []
    for model in ("alexnet", "alexnet_bn"):
        if not (g.model == model).any():
            continue
        eff = effects(g, model)
        summ = factor_summary(eff).assign(model=model)
        summ["cells_with_interval"] = summ.factor.map(eff.groupby("factor").half_width_95.count())
        if model == "alexnet":
            summ = summ.merge(
                distances(g, model)[["factor", "mean_abs_gap_pp", "baseline_same_cells_pp"]],
                on="factor",
                how="left",
            )
        parts.append(summ)
    return pd.concat(parts, ignore_index=True)


README_BEGIN = "<!-- findings: begin (written by scripts/protocol_report.py --readme) -->"
README_END = "<!-- findings: end -->"


def with_findings(readme: str, g: pd.DataFrame) -> str:
    """`readme` with the text between its findings markers replaced by `findings_markdown(g)`."""
    head, sep, rest = readme.partition(README_BEGIN)
    _, sep2, tail = rest.partition(README_END)
    if not (sep and sep2):
        raise ValueError(
            f"the README lacks the markers {README_BEGIN!r} ... {README_END!r}; add them where the "
            f"findings table goes"
        )
    return f"{head}{README_BEGIN}\n{findings_markdown(g)}{README_END}{tail}"


def findings_markdown(g: pd.DataFrame) -> str:
    """`findings_table` as the markdown table of the results folder's README
    (scripts/protocol_report.py --readme writes it there; a test keeps the README equal to the
    committed rows)."""
    num = lambda v, f: "–" if v != v else format(v, f)  # noqa: E731  (NaN -> dash)
    beyond = (
        lambda r: f"{int(r['beyond_spread'])}/{int(r['cells_with_interval'])}"
        + (  # noqa: E731
            f" ({int(r['cells'] - r['cells_with_interval'])} cells without an interval)"
            if r["cells_with_interval"] < r["cells"]
            else ""
        )
    )
    base = distances(g).set_index("factor").loc["baseline"]
    lines = [
        f"Baseline distance to Table 1: {base.mean_abs_gap_pp:.1f} pp over {int(base.cells)} "
        f"cells (mean gap {base.mean_gap_pp:+.1f} pp). Per factor: mean change of the cells (pp), "
        f"cells beyond the 95 % interval of the minibatch repeats, distance on the factor's cells.",
        "",
        "| model | factor | mean Δ | mean \\|Δ\\| | beyond | distance (its cells) "
        "| baseline, same cells |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in findings_table(g).to_dict("records"):
        lines.append(
            f"| {r['model']} | {r['factor']} | {r['mean_delta_pp']:+.1f} | "
            f"{r['mean_abs_delta_pp']:.1f} | "
            f"{beyond(r)} | {num(r.get('mean_abs_gap_pp', np.nan), '.1f')} | "
            f"{num(r.get('baseline_same_cells_pp', np.nan), '.1f')} |"
        )
    return "\n".join(lines) + "\n"
