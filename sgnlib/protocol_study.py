"""The protocol study (issue 11): how much each capture or training choice moves Table 1's cells.

Input: the `gaussianity` table of the `protocol` preset (sgnlib/presets/protocol.yaml). Every capture
configuration there differs from the baseline (the cpu preset's protocol) in exactly one factor:
a capture-protocol option (`protocol` column), a training-recipe option (`recipe`), the training seed,
or the checkpoint epoch. `factor_of` names it; `effects` gives, per factor, layer and batch size,
Δpp = factor mean - baseline mean with a 95 % interval from the repeats' spread (the baseline's pooled
within-cell variance stands in for a factor measured once); `distances` gives each protocol's mean
|ours - paper| over Table 1's cells (layers x batch sizes 64-512, 200 batches, paper rule), the
distance fixed before any result was seen.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .report import paper_tables

RULE = "gauss_pct_paper"
CELL = ["layer", "batch_size"]


def _options(text) -> dict:
    if isinstance(text, dict):
        return text
    if text is None or (isinstance(text, float) and np.isnan(text)) or text == "":
        return {}
    return json.loads(text)


def factor_of(row) -> str:
    """The one thing a configuration changes relative to the baseline ('baseline' if nothing)."""
    parts = [f"capture {k}={v}" for k, v in sorted(_options(row.get("protocol")).items())]
    parts += [f"training {k}={v}" for k, v in sorted(_options(row.get("recipe")).items())]
    if row.get("seed", 0) != 0:
        parts.append(f"training seed={int(row['seed'])}")
    if row.get("checkpoint_epoch") != row.get("epochs"):
        parts.append(f"checkpoint epoch={int(row['checkpoint_epoch'])}")
    return "; ".join(parts) or "baseline"


def with_factors(g: pd.DataFrame, model: str = "alexnet", n_batches: int = 200) -> pd.DataFrame:
    g = g[(g.model == model) & (g.n_batches == n_batches)].copy()
    g["factor"] = [factor_of(r) for r in g.to_dict("records")]
    return g


def effects(g: pd.DataFrame, model: str = "alexnet", n_batches: int = 200) -> pd.DataFrame:
    """Per factor, layer and batch size: n, mean, Δpp vs the baseline and its 95 % half-width."""
    g = with_factors(g, model, n_batches)
    cells = g.groupby(["factor"] + CELL)[RULE].agg(["mean", "var", "count"]).reset_index()
    base = cells[cells.factor == "baseline"].set_index(CELL)
    if base.empty:
        raise ValueError(f"no baseline rows for {model} at {n_batches} batches")
    pooled = float(np.nanmean(base["var"])) if (base["count"] > 1).any() else np.nan
    base = base.drop(columns="factor").add_suffix("_base").reset_index()
    out = cells[cells.factor != "baseline"].merge(base, on=CELL, how="left")
    var_f = out["var"].where(out["count"] > 1, pooled)
    var_b = out["var_base"].where(out["count_base"] > 1, pooled)
    out["delta_pp"] = out["mean"] - out["mean_base"]
    out["half_width_95"] = 1.96 * np.sqrt(var_f / out["count"] + var_b / out["count_base"])
    out["beyond_spread"] = out["delta_pp"].abs() > out["half_width_95"]
    return out[["factor", "layer", "batch_size", "count", "mean", "mean_base", "count_base", "delta_pp",
                "half_width_95", "beyond_spread"]].reset_index(drop=True)


def factor_summary(eff: pd.DataFrame) -> pd.DataFrame:
    """Per factor: mean Δpp over cells, mean |Δpp|, and how many cells move beyond the spread."""
    return (eff.groupby("factor")
            .agg(cells=("delta_pp", "size"), mean_delta_pp=("delta_pp", "mean"),
                 mean_abs_delta_pp=("delta_pp", lambda s: s.abs().mean()), beyond_spread=("beyond_spread", "sum"))
            .sort_values("mean_abs_delta_pp", ascending=False).reset_index())


def distances(g: pd.DataFrame, model: str = "alexnet", n_batches: int = 200,
              batch_sizes=(64, 128, 256, 512)) -> pd.DataFrame:
    """Per protocol (factor): mean |ours - paper| over Table 1's cells it covers, the cells covered, and the
    baseline's mean |ours - paper| over those same cells (the fair comparison)."""
    g = with_factors(g, model, n_batches)
    g = g[g.batch_size.isin(batch_sizes)]
    ours = g.groupby(["factor"] + CELL)[RULE].mean().reset_index()
    paper = paper_tables()
    paper = paper[(paper.model == model) & (paper.n_batches == n_batches)][CELL + ["gauss_pct_mean"]]
    m = ours.merge(paper, on=CELL)
    m["abs_gap"] = (m[RULE] - m.gauss_pct_mean).abs()
    m["gap"] = m[RULE] - m.gauss_pct_mean
    out = (m.groupby("factor").agg(cells=("abs_gap", "size"), mean_abs_gap_pp=("abs_gap", "mean"),
                                   mean_gap_pp=("gap", "mean")).reset_index())
    # a protocol measured on fewer cells is compared with the baseline on those same cells
    base = m[m.factor == "baseline"].set_index(CELL)["abs_gap"]
    out["baseline_same_cells_pp"] = [base.reindex(m[m.factor == f].set_index(CELL).index).mean()
                                     for f in out.factor]
    return out.sort_values("mean_abs_gap_pp").reset_index(drop=True)
