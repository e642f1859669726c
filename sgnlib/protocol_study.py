"""The protocol study: how much each capture or training choice moves Table 1's cells.

Input: the `gaussianity` table of the `protocol` preset (sgnlib/presets/protocol.yaml). Every
capture configuration there differs from the baseline (the cpu preset's protocol) in exactly one
factor: a capture-protocol option (`protocol` column), a training-recipe option (`recipe`), the
training seed, the checkpoint epoch (0: the initialization) or the architecture (`VARIANTS`: the
text's AlexNet). `factor_of` names it; `effects` gives, per factor, layer and batch size,
Δpp = factor mean - baseline mean with a 95 % interval from the repeats' spread (the baseline's
pooled within-cell variance stands in for a factor measured once); `distances` gives each protocol's
mean |ours - paper| over Table 1's cells (layers x batch sizes 64-512, 200 batches, point masses
counted Gaussian as the paper does). The distance and a first set of factors were written into the
preset before any protocol result; a second set (initialization, trajectory, the text's
architecture, raw pixels, the ResNets) was added when the baseline's rows, and with them its
distance to Table 1, were known; the networks that fit text and tables and seeds 3-4 were added
before any of their results. `resnet_states` answers the ResNet questions: at which training
state and protocol do "≥ 85 % at batch 64" (Table 3) and "steady over epochs" (Fig 6) hold.
`sgnlib.protocol_findings` writes the results folder's README table; `sgnlib.chapters.protocol`
quotes the numbers and shows the tables in the book.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .reader import paper_tables

RULE = "gauss_pct_incl_degenerate"  # point masses counted Gaussian (the paper's rule)
CELL = ["layer", "batch_size"]
# architectures studied as a factor of a baseline model (compared on the layers they share)
VARIANTS = {"alexnet": ("alexnet_text", "alexnet_text_tables", "alexnet_text_tables_p5")}


def _options(text) -> dict:
    if isinstance(text, dict):
        return text
    if text is None or (isinstance(text, float) and np.isnan(text)) or text == "":
        return {}
    return json.loads(text)


def factor_of(row, model: str | None = None) -> str:
    """The one thing a configuration changes relative to the baseline ('baseline' if nothing);
    `model`: the baseline's model, when the row may be one of its `VARIANTS`."""
    parts = (
        [f"architecture={row['model']}"] if model is not None and row.get("model") != model else []
    )
    parts += [f"capture {k}={v}" for k, v in sorted(_options(row.get("protocol")).items())]
    parts += [f"training {k}={v}" for k, v in sorted(_options(row.get("recipe")).items())]
    if row.get("seed", 0) != 0:
        parts.append(f"training seed={int(row['seed'])}")
    if row.get("checkpoint_epoch") == 0:
        parts.append("checkpoint epoch=0 (initialization)")
    elif row.get("checkpoint_epoch") != row.get("epochs"):
        parts.append(f"checkpoint epoch={int(row['checkpoint_epoch'])}")
    return "; ".join(parts) or "baseline"


def with_factors(g: pd.DataFrame, model: str = "alexnet", n_batches: int = 200) -> pd.DataFrame:
    """Rows of `model` and its variants at `n_batches`, with their factor; variants keep the shared
    layers."""
    keep = (g.model == model) | (
        g.model.isin(VARIANTS.get(model, ())) & g.layer.isin(g[g.model == model].layer)
    )
    g = g[keep & (g.n_batches == n_batches) & (g.stage == "capture")].copy()
    g["factor"] = [factor_of(r, model) for r in g.to_dict("records")]
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
    return out[
        [
            "factor",
            "layer",
            "batch_size",
            "count",
            "mean",
            "mean_base",
            "count_base",
            "delta_pp",
            "half_width_95",
            "beyond_spread",
        ]
    ].reset_index(drop=True)


def factor_summary(eff: pd.DataFrame) -> pd.DataFrame:
    """Per factor: mean Δpp over cells, mean |Δpp|, and how many cells move beyond the spread."""
    return (
        eff.groupby("factor")
        .agg(
            cells=("delta_pp", "size"),
            mean_delta_pp=("delta_pp", "mean"),
            mean_abs_delta_pp=("delta_pp", lambda s: s.abs().mean()),
            beyond_spread=("beyond_spread", "sum"),
        )
        .sort_values("mean_abs_delta_pp", ascending=False)
        .reset_index()
    )


def distances(g: pd.DataFrame, model: str = "alexnet", n_batches: int = 200,
              batch_sizes=(64, 128, 256, 512)) -> pd.DataFrame:
    """Per protocol (factor): mean |ours - paper| over Table 1's cells it covers, the cells covered,
    and the baseline's mean |ours - paper| over those same cells (the fair comparison)."""
    g = with_factors(g, model, n_batches)
    g = g[g.batch_size.isin(batch_sizes)]
    ours = g.groupby(["factor"] + CELL)[RULE].mean().reset_index()
    paper = paper_tables()
    paper = paper[(paper.model == model) & (paper.n_batches == n_batches)][
        CELL + ["gauss_pct_mean"]
    ]
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


def effect_grid(eff: pd.DataFrame):
    """The effect table for the book: one row per factor and layer, one column per batch size, each
    cell 'Δ ± half-width' (pp); `beyond` and `delta` (same shape) hold whether |Δ| exceeds the 95 %
    half-width and Δ itself."""
    eff = eff.assign(cell=[f"{d:+.1f} ± {h:.1f}" for d, h in zip(eff.delta_pp, eff.half_width_95)])
    order = factor_summary(eff).factor.tolist()
    grid, beyond, delta = (
        eff.pivot_table(index=["factor", "layer"], columns="batch_size", values=v, aggfunc="first")
        for v in ("cell", "beyond_spread", "delta_pp")
    )
    idx = sorted(grid.index, key=lambda k: (order.index(k[0]), k[1]))
    return grid.loc[idx], beyond.loc[idx], delta.loc[idx]


def resnet_states(g: pd.DataFrame, batch_sizes=(64, 128), threshold: float = 85.0) -> pd.DataFrame:
    """Per ResNet, batch size, checkpoint epoch and capture protocol (200 batches): % Gaussian
    (point masses counted Gaussian) averaged over all layers; for ResNet-56 also over the paper's
    Table 3 layers, how many of them reach `threshold` (the text's "≥ 85 % at batch 64") and Table
    3's mean at that batch size (ResNet-20 has no table: its rows answer Fig 6's "steady over
    epochs")."""
    paper = paper_tables()
    r = g[g.model.str.startswith("resnet") & (g.stage == "capture") & g.batch_size.isin(batch_sizes)
          & (g.n_batches == 200)].copy()
    r["protocol"] = [
        ",".join(f"{k}={v}" for k, v in _options(x).items()) or "default"
        for x in r.get("protocol", pd.Series([None] * len(r), index=r.index))
    ]
    out = []
    for (model, bs, epochs, epoch, proto), d in r.groupby(
        ["model", "batch_size", "epochs", "checkpoint_epoch", "protocol"]
    ):
        t3 = (
            paper[(paper.table == 3) & (paper.batch_size == bs)]
            if model == "resnet56"
            else paper.iloc[:0]
        )
        listed = d[d.layer.isin(t3.layer)]
        row = {
            "model": model,
            "batch_size": int(bs),
            "trained_epochs": int(epoch),
            "run_epochs": int(epochs),
            "protocol": proto,
            "layers": len(d),
            "mean_all_pct": d[RULE].mean(),
            "mean_paper_layers_pct": np.nan,
            "paper_layers_at_threshold": "–",
            "paper_table3_mean_pct": np.nan,
        }
        if len(t3):
            row.update(
                mean_paper_layers_pct=listed[RULE].mean(),
                paper_table3_mean_pct=t3.gauss_pct_mean.mean(),
                paper_layers_at_threshold=f"{int((listed[RULE] >= threshold).sum())}/{len(listed)}",
            )
        out.append(row)
    return pd.DataFrame(out)


def coverage(cfgs, done_ids) -> pd.DataFrame:
    """Per factor of the preset's capture configurations (`cfgs`, e.g. presets.expand): planned and
    committed counts, so a partial run shows what is missing."""
    rows = []
    for c in cfgs:
        if c.stage != "capture":
            continue
        d = c.to_dict()
        base = next((m for m, vs in VARIANTS.items() if c.model in vs), c.model)
        rows.append({"model": base, "factor": factor_of(d, base), "done": c.config_id in done_ids})
    t = pd.DataFrame(rows)
    return (
        t.groupby(["model", "factor"], sort=False)
        .agg(planned=("done", "size"), committed=("done", "sum"))
        .reset_index()
    )
