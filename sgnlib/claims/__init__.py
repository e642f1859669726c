"""Claims registry: every quantitative or directional statement of the paper, one verdict function
each.

`data/paper/claims.csv` lists the claims (id, section, group, theme, paraphrase, paper_value, kind,
params, tables, scales, source); `group` says what sort of statement it is (`GROUPS`), `theme`
what it is about (`THEMES`, the report's sections); `kind` names a verdict function registered in
`REGISTRY` and `params` (JSON) holds everything it needs, thresholds included: they are fixed in
the file, the same for every scale (git log on the file dates them).
`evaluate(scale)` runs all of them on one results folder (`sgnlib.reader.read_table`) and gives
one row per claim: verdict, "paper X, ours Y (Δ)" and one sentence of evidence.

The verdict functions, one module per job: `grid` (levels of the batch-size grid: cells, tables,
thresholds, run-to-run std), `trends` (with the batch size, 200 vs 600 minibatches),
`layer_order` (the most and least Gaussian layers), `epochs` (over training), `moments` (β/σ³),
`berry_esseen` (the bound of eq 13, Fig 5's spines), `tail_index` (Figs 7-9), `point_mass`,
`design` (set-up and the paper itself) and `theory` (lemmas and equations); `core` holds what
they share, `present` the report's tables of verdicts.

Groups (`GROUPS`): empirical (a measured property of the paper's networks: what our runs can
reproduce), theory (a lemma, theorem or derivation, checked by SymPy and numerics),
paper-internal (the paper set against itself: text vs tables, a plotted range vs its
definition), set-up (our run vs the recipe the paper states), ours (an explanation the book
proposed, not the paper's).

Vocabulary (`VOCABULARY`):
- REPRODUCED: our results meet the claim within the claim's own tolerances;
- PARTLY: part of it holds (direction but not size, some layers, the looser tolerance);
- NOT REPRODUCED: it fails on our results (or, for a theory check, the check fails);
- NO DATA: this scale lacks the rows; the evidence names the sweep command that writes them;
- NOT TESTABLE: no experiment can decide it; the evidence says why.

Default thresholds of the kinds (each claim may set its own in params):
- single cells (`cell_value`) and whole tables (`table_agreement`, mean |Δ|): REPRODUCED within
  5 pp, PARTLY within 15 pp; differences of cells (`cell_diff`): same sign and within 10 pp / same
  sign;
- trends over batch size (`batch_trend`): a (layer, n_batches) series rises when Spearman >= 0.8
  and last > first, or is saturated when every value >= 90 %; REPRODUCED when all series do,
  PARTLY >= half;
- rankings (`ranking`) and shares (`threshold_share`, `nbatches_lower`, `model_above_*`): the
  share of columns/cells that satisfy the claim, REPRODUCED at 1.0 (0.9 for 600 < 200 and
  model-vs-model series), PARTLY at 0.5 (0.6 for 600 < 200, 0.8 for the 85 % threshold);
- over training (`epochs_direction`, `training_length_gap`): a layer falls/rises when
  Spearman(epoch, %) is <= -0.5 / >= 0.5 and it changes by >= 2 pp; steady when |last - first|
  <= 5 pp and range <= 10 pp;
- run-to-run std (`small_std`): median cell std <= 1 pp REPRODUCED, <= 2 pp PARTLY;
- β/σ³ vs Gaussianity: Spearman <= -0.8 REPRODUCED, <= -0.4 PARTLY; Berry-Esseen: share of
  dimensions below the bound >= 0.95 / 0.8 in every cell above the sampling floor; tail indices:
  majorities (> 0.5).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..paths import DATA_DIR
from ..reader import final_grid, paper_tables, read_table, without_options
# importing the verdict modules registers their kinds
from . import (berry_esseen, design, epochs, grid, layer_order, moments,  # noqa: F401
               point_mass, tail_index, theory, trends)
from .core import (NO_DATA, NOT_REPRODUCED, NOT_TESTABLE, PARTLY, REGISTRY, REPRODUCED, VOCABULARY,
                   Verdict, parse_params)
from .epochs import training_direction

_KIND_MODULES = (berry_esseen, design, epochs, grid, layer_order, moments, point_mass, tail_index,
                 theory, trends)

CLAIMS_FILE = DATA_DIR / "paper" / "claims.csv"
COLUMNS = ["id", "section", "group", "theme", "paraphrase", "paper_value", "kind", "params",
           "tables", "scales", "source"]
GROUPS = ("empirical", "theory", "paper-internal", "set-up", "ours")
# the report's sections, in its order: what each claim is about
THEMES = ("AlexNet across batch sizes", "over training", "ResNet", "β/σ³ and Berry-Esseen",
          "tail index", "method, set-up and the paper itself", "theory")
RESULT_TABLES = ("gaussianity", "moments", "berry_esseen", "tail_index", "examples", "training",
                 "alpha_stable")

__all__ = ["CLAIMS_FILE", "REGISTRY", "VOCABULARY", "Verdict", "REPRODUCED", "PARTLY",
           "NOT_REPRODUCED", "NO_DATA", "NOT_TESTABLE", "load_claims", "load_tables", "evaluate",
           "evaluate_claim", "table_gaps", "epochs_direction_table", "training_direction", "counts",
           "counts_by_group", "GROUPS", "THEMES"]


def load_claims(path=None) -> pd.DataFrame:
    """The claims file, params parsed into dicts (column `params`)."""
    c = pd.read_csv(path or CLAIMS_FILE, dtype=str, keep_default_na=False)
    missing = set(COLUMNS) - set(c.columns)
    if missing:
        raise ValueError(f"{path or CLAIMS_FILE}: missing columns {sorted(missing)}")
    bad = sorted(set(c.group) - set(GROUPS))
    if bad:
        raise ValueError(f"{path or CLAIMS_FILE}: unknown group {bad}; "
                         f"use one of {', '.join(GROUPS)}")
    bad = sorted(set(c.theme) - set(THEMES))
    if bad:
        raise ValueError(f"{path or CLAIMS_FILE}: unknown theme {bad}; "
                         f"use one of {', '.join(THEMES)}")
    c["params"] = c.params.map(parse_params)
    return c


def load_tables(scale: str, results_dir=None) -> dict:
    """Every result table of `scale` (None where absent) plus "paper": the paper's Tables 1-4. The
    claims judge the scale's own protocol: rows with a capture or training option are left
    out."""
    out = {name: read_table(scale, name, results_dir) for name in RESULT_TABLES}
    out = {name: t if t is None else without_options(t) for name, t in out.items()}
    out["paper"] = paper_tables()
    return out


def evaluate_claim(row, tables: dict, scale: str) -> Verdict:
    """One claim's verdict: its kind's function on `tables`, with its params plus the scale."""
    fn = REGISTRY[row["kind"]]
    return fn(tables, {**row["params"], "scale": scale})


def evaluate(scale: str, tables: dict | None = None, claims: pd.DataFrame | None = None,
             results_dir=None) -> pd.DataFrame:
    """One row per claim: id, section, group, paraphrase, kind, scale, applies (scale listed in
    `scales`), verdict, paper, ours, delta, text ("paper X, ours Y (Δ)"), evidence, source."""
    tables = load_tables(scale, results_dir) if tables is None else tables
    claims = load_claims() if claims is None else claims
    rows = []
    for _, r in claims.iterrows():
        v = evaluate_claim(r, tables, scale)
        if v.verdict not in VOCABULARY:
            raise ValueError(f"{r['id']}: verdict {v.verdict!r} is not in the vocabulary")
        scales = {s.strip() for s in r["scales"].split(",")}
        rows.append({"id": r["id"], "section": r["section"], "group": r["group"],
                     "theme": r["theme"], "paraphrase": r["paraphrase"], "kind": r["kind"],
                     "scale": scale, "applies": "any" in scales or scale in scales,
                     "verdict": v.verdict, "paper": v.paper, "ours": v.ours, "delta": v.delta,
                     "text": v.text, "evidence": v.evidence, "source": r["source"]})
    return pd.DataFrame(rows)


def _repeats_range(m: pd.DataFrame) -> str:
    """Our number of repeats over the cells: "5", or "min-max" where cells differ ("0": none)."""
    if not len(m):
        return "0"
    lo, hi = int(m.repeats.min()), int(m.repeats.max())
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def _table_gap(p: pd.DataFrame, t, tables: dict, scale: str) -> dict:
    """The gap row of one paper table `p` (number `t`): see `table_gaps`."""
    model, nb = p.model.iloc[0], int(p.n_batches.iloc[0])
    g = final_grid(tables.get("gaussianity"), model)
    m = p.merge(g[g.n_batches == nb], on=["layer", "batch_size"], how="inner")
    d = (m.value - m.gauss_pct_mean).abs()
    i = d.idxmax() if len(m) else None
    return {"table": int(t), "model": model, "n_batches": nb, "scale": scale, "cells": len(m),
            "paper_cells": len(p), "mean_abs_dpp": d.mean() if len(m) else np.nan,
            "max_abs_dpp": d.max() if len(m) else np.nan,
            "max_cell": f"{m.layer[i]} @ {m.batch_size[i]}" if len(m) else "–",
            "mean_dpp": (m.value - m.gauss_pct_mean).mean() if len(m) else np.nan,
            "paper_mean_std": m.gauss_pct_std.mean() if len(m) else p.gauss_pct_std.mean(),
            "ours_mean_std": m["std"].mean() if len(m) else np.nan,
            "repeats": _repeats_range(m)}


def table_gaps(scale: str, tables: dict | None = None, results_dir=None) -> pd.DataFrame:
    """Per paper table (1-4): cells we have, mean and max |Δpp| (with the cell), the paper's mean
    std, our mean std over repeats, and our number of repeats (min-max over cells)."""
    tables = load_tables(scale, results_dir) if tables is None else tables
    rows = [_table_gap(p, t, tables, scale) for t, p in tables["paper"].groupby("table")]
    return pd.DataFrame(rows)


def epochs_direction_table(scale: str, tables: dict | None = None, model: str = "alexnet",
                           results_dir=None) -> pd.DataFrame:
    """Per layer: does more training move our Gaussianity (batch 128, 200 batches) toward Table
    1?"""
    tables = load_tables(scale, results_dir) if tables is None else tables
    return training_direction(tables.get("gaussianity"), tables.get("paper"), model)


def counts(results: pd.DataFrame) -> pd.Series:
    """Verdict counts in vocabulary order."""
    return results.verdict.value_counts().reindex(list(VOCABULARY), fill_value=0)


def counts_by_group(results: pd.DataFrame) -> pd.DataFrame:
    """Verdict counts of one scale per group: one row per group (`GROUPS` order), its number of
    claims, then one column per verdict, so empirical claims are never summed with the others."""
    t = pd.crosstab(results.group, results.verdict)
    t = t.reindex(index=list(GROUPS), columns=list(VOCABULARY), fill_value=0)
    t.insert(0, "claims", t.sum(axis=1))
    t.index.name, t.columns.name = "group", None
    return t
