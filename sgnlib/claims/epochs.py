"""Claims on Gaussianity over training (Fig 1, Fig 6) and the book's "shorter training" explanation.

The series of a model is every checkpoint at one batch size and number of batches (128 x 200 by
default): the rows before the final epoch plus the final checkpoint (mean over its repeats).
A layer's direction over training: "falls" when Spearman(epoch, %) <= -rho_min [0.5] and last -
first <= -min_change_pp [2]; "rises" symmetrically; otherwise "flat" (steady or non-monotone).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reader import paper_grid
from .core import (NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, cell, fill_command, grade, kind,
                   no_data, share, spearman)


def series(g: pd.DataFrame | None, model: str, batch_size: int = 128, n_batches: int = 200,
           rule: str = "gauss_pct_incl_degenerate") -> pd.DataFrame:
    """Epoch x layer table of % Gaussian (mean over repeats at each checkpoint)."""
    if g is None or not len(g):
        return pd.DataFrame()
    x = g[(g.model == model) & (g.batch_size == batch_size) & (g.n_batches == n_batches)]
    if "stage" in x:
        x = x[x.stage == "capture"]
    if not len(x):
        return pd.DataFrame()
    table = x.pivot_table(index="checkpoint_epoch", columns="layer", values=rule, aggfunc="mean")
    return table.sort_index()


def direction(s: pd.Series, rho_min: float = 0.5,
              min_change: float = 2.0) -> tuple[str, float, float]:
    """('rises' | 'falls' | 'flat', Spearman rho, last - first) of one layer's series."""
    s = s.dropna()
    rho, change = spearman(s.index, s.values), float(s.iloc[-1] - s.iloc[0])
    if rho >= rho_min and change >= min_change:
        return "rises", rho, change
    if rho <= -rho_min and change <= -min_change:
        return "falls", rho, change
    return "flat", rho, change


def _no_series(tables, params, paper_s, model):
    """NO DATA for a model's series, with the sweep command that trains and captures it."""
    scale = params.get("scale", "?")
    batch_size = params.get("batch_size", 128)
    what = f"{model} Gaussianity series (>= 3 checkpoints at batch {batch_size})"
    return no_data(paper_s, what, scale, fill_command(scale, "train,capture", model, tables))


@kind("epochs_direction")
def epochs_direction(tables: dict, params: dict) -> Verdict:
    """Each listed layer moves in `direction` over training. params: model, layers, direction
    (decrease | no_decrease | steady), rho_min [0.5], min_change_pp [2], steady_tol_pp [5],
    min_level_pct (no_decrease only: every checkpoint at or above it). "steady": |last - first| <=
    steady_tol and max - min <= 2 steady_tol. REPRODUCED: all layers; PARTLY: >= half; NOT
    REPRODUCED otherwise."""
    want = params["direction"]
    level = f", >= {params['min_level_pct']} %" if params.get("min_level_pct") else ""
    paper_s = {"decrease": "decreasing with training", "steady": "steady over training",
               "no_decrease": "not decreasing" + level}[want] + f" ({', '.join(params['layers'])})"
    s = series(tables.get("gaussianity"), params["model"], params.get("batch_size", 128),
               params.get("n_batches", 200))
    layers = [l for l in params["layers"] if l in s]
    if len(s) < 3 or not layers:
        return _no_series(tables, params, paper_s, params["model"])
    res = []
    for l in layers:
        d, rho, ch = direction(s[l], params.get("rho_min", 0.5), params.get("min_change_pp", 2))
        x = s[l].dropna()
        if want == "decrease":
            ok = d == "falls"
        elif want == "steady":
            tol = params.get("steady_tol_pp", 5)
            ok = abs(ch) <= tol and x.max() - x.min() <= 2 * tol
        else:
            ok = d != "falls" and x.min() >= params.get("min_level_pct", -np.inf)
        res.append((l, ok, f"{l}: {x.iloc[0]:.1f} → {x.iloc[-1]:.1f} (ρ {rho:+.2f}, "
                           f"range {x.min():.1f}-{x.max():.1f})"))
    k = sum(r[1] for r in res)
    v = grade(k / len(res), 1.0, 0.5)
    mean_ch = np.mean([s[l].dropna().iloc[-1] - s[l].dropna().iloc[0] for l in layers])
    epochs = f"epochs {s.index.min()}-{s.index.max()}"
    return Verdict(v, paper_s, f"{share(k, len(res))} layers as claimed ({epochs})",
                   f"mean change {mean_ch:+.1f} pp", "; ".join(r[2] for r in res))


@kind("model_above_series")
def model_above_series(tables: dict, params: dict) -> Verdict:
    """model_hi above model_lo, layer by layer, at shared checkpoints. params: model_hi, model_lo,
    layers, reproduced_share [0.9], partly_share [0.5] of (layer, checkpoint) pairs."""
    g = tables.get("gaussianity")
    a, b = series(g, params["model_hi"]), series(g, params["model_lo"])
    paper_s = f"{params['model_hi']} above {params['model_lo']} ({', '.join(params['layers'])})"
    if a.empty or b.empty:
        missing = params["model_hi"] if a.empty else params["model_lo"]
        return _no_series(tables, params, paper_s, missing)
    ep = a.index.intersection(b.index)
    layers = [l for l in params["layers"] if l in a and l in b]
    diff = (a.loc[ep, layers] - b.loc[ep, layers]).stack()
    k, n = int((diff > 0).sum()), len(diff)
    v = grade(k / n, params.get("reproduced_share", 0.9), params.get("partly_share", 0.5))
    per = (a.loc[ep, layers] > b.loc[ep, layers]).mean()
    return Verdict(v, paper_s, f"above in {share(k, n)} (layer, checkpoint) pairs",
                   f"mean gap {diff.mean():+.1f} pp",
                   "share above per layer: " + ", ".join(f"{l} {per[l]:.0%}" for l in layers))


def training_direction(g: pd.DataFrame | None, paper: pd.DataFrame | None, model: str = "alexnet",
                       batch_size: int = 128, n_batches: int = 200, rho_min: float = 0.5,
                       min_change: float = 2.0, gap_tol: float = 5.0) -> pd.DataFrame:
    """Per layer: does more training move our Gaussianity toward the paper's Table value at the
    same batch size and number of batches? Columns: layer, epochs, first, last, min, max, rho,
    change, late_slope (pp per epoch over the last half of the checkpoints, for reference), paper,
    gap (last - paper), direction, toward ('toward' | 'away' | 'flat' | 'no gap'), reaches (any
    checkpoint within gap_tol of the paper)."""
    s = series(g, model, batch_size, n_batches)
    pg = paper_grid(paper, model)
    rows = []
    for l in s.columns:
        x = s[l].dropna()
        if len(x) < 3:
            continue
        p = cell(pg, l, batch_size, n_batches)
        d, rho, ch = direction(x, rho_min, min_change)
        half = x.iloc[len(x) // 2:]
        late = (float(np.polyfit(half.index.astype(float), half.values, 1)[0])
                if len(half) >= 2 else np.nan)
        gap = float(x.iloc[-1] - p) if p is not None else np.nan
        if p is None or abs(gap) <= gap_tol:
            tw = "no gap"
        elif d == "flat":
            tw = "flat"
        else:
            tw = "toward" if (d == "rises") == (gap < 0) else "away"
        epochs = f"{x.index.min()}-{x.index.max()} ({len(x)} pts)"
        rows.append({"layer": l, "epochs": epochs, "first": x.iloc[0], "last": x.iloc[-1],
                     "min": x.min(), "max": x.max(), "rho": rho, "change": ch,
                     "late_slope": late, "paper": p, "gap": gap, "direction": d, "toward": tw,
                     "reaches": bool(p is not None and (x - p).abs().min() <= gap_tol)})
    return pd.DataFrame(rows)


@kind("training_length_gap")
def training_length_gap(tables: dict, params: dict) -> Verdict:
    """The book's explanation "our Gaussianity is lower because we trained 30 epochs, not 300"
    holds for a layer only if more training moves it toward the paper's value
    (`training_direction`). Layers within gap_tol_pp [5] of the paper are left out. REPRODUCED
    (supported): every gap layer moves toward the paper; NOT REPRODUCED (contradicted): none does;
    PARTLY: some do."""
    model, bs = params.get("model", "alexnet"), params.get("batch_size", 128)
    nb, tol = params.get("n_batches", 200), params.get("gap_tol_pp", 5)
    t = training_direction(tables.get("gaussianity"), tables.get("paper"), model, bs, nb,
                           params.get("rho_min", 0.5), params.get("min_change_pp", 2), tol)
    paper_s = "more training → closer to Table 1 (batch 128, 200 batches)"
    if t.empty:
        return _no_series(tables, params, paper_s, model)
    gap = t[t.toward != "no gap"]
    if not len(gap):
        ours = f"no layer differs from the paper by more than {tol} pp"
        return Verdict(REPRODUCED, paper_s, ours, "no gap", "nothing to explain")
    k = int((gap.toward == "toward").sum())
    v = REPRODUCED if k == len(gap) else NOT_REPRODUCED if k == 0 else PARTLY
    ours = ", ".join(f"{r.layer} {r.direction} ({r.first:.1f}→{r.last:.1f}, "
                     f"late {r.late_slope:+.2f} pp/epoch; paper {r.paper:.1f}: {r.toward})"
                     for r in gap.itertuples())
    never = [r.layer for r in gap.itertuples() if not r.reaches]
    ev = (f"{k}/{len(gap)} layers with a gap > {tol} pp move toward the paper with training; "
          f"no checkpoint of {', '.join(never) or '–'} comes within {tol} pp of the paper. "
          "The paper's own Fig 1 has layers 3-4 losing Gaussianity with training, so a shorter run "
          "should sit above it")
    return Verdict(v, paper_s, ours, f"mean gap {gap.gap.mean():+.1f} pp at the last checkpoint",
                   ev)
