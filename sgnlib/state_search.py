"""Which training state do Table 1's cells describe? A search over every AlexNet state we have.

Declared on 2026-12-02 (09:44 UTC), before any Table 1 cell of the 300-epoch run (`cpu-300`) or of
the networks that fit the paper's text and tables existed; the measures are those of
`sgnlib.architecture_measures` (written before, unchanged).

Candidates (`grid_candidates`): every state with a complete Table 1 grid, i.e. every corresponding
layer at batch sizes 64, 128, 256 and 512 with 200 minibatches:
- the final checkpoint of each results scale's AlexNet (`cpu` 15 epochs, `gpu-short`, `cpu-300`);
- every configuration of the protocol study (`protocol`), one state per factor
  (`protocol_study.factor_of`: learning rate, initialization, epochs, seed, architecture, capture
  options, ...).
For each: `distance` (mean |ours - paper| in pp) and `slope_error` (mean |slope ours - slope
paper|, pp per doubling of the batch). The best state is the one with the smallest distance; the
one with the smallest slope error is named too when it differs.

Captured otherwise (`option_candidates`, added on 2026-12-02 at 14:50 UTC, after the epoch-300
recount on the test images had come closest, the measures unchanged): the final checkpoint of a
scale captured with a capture option (the training augmentation, the test images, the commonly used
std), from the capture rows or the recount's `as_captured` rows, one state per option.

Over training (`series_distance`): the Fig 1 series (batch 128, 200 minibatches) give, at every
checkpoint of a run, the distance on the batch-128 column of Table 1 (`distance` restricted to batch
128); the book's figure draws it against the epoch for each run.

Within the paper's own spread (`within_paper_spread`): a state comes within the paper's run-to-run
spread when its distance is at most twice the mean of the paper's standard deviations (Table 1's
"±" over its five runs) over the same cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import architecture_measures as am
from . import protocol_study
from .reader import paper_tables, without_options

MODEL = "alexnet"
SERIES_BATCH = 128


OPTION_NAMES = {'{"augment": true}': "augmented capture", '{"inputs": "test"}': "test images",
                '{"inputs": "train_common_std"}': "common std"}


def option_name(protocol: str) -> str:
    """A capture option in words ('{"inputs": "test"}' -> 'test images')."""
    return OPTION_NAMES.get(protocol, protocol)


def _with_option(g: pd.DataFrame, protocol: str) -> pd.DataFrame:
    """AlexNet rows of seed 0, no recipe change, captured with exactly the option `protocol`."""
    g = g[(g.model == MODEL) & g.stage.isin(["capture", "recount"])]
    if "variant" in g:
        g = g[g.variant.isna() | (g.variant == "as_captured")]
    if "seed" in g:
        g = g[g.seed == 0]
    g = without_options(g, ("recipe",))
    return g[g.protocol.astype(str) == protocol] if "protocol" in g else g.iloc[:0]


def _baseline_rows(g: pd.DataFrame) -> pd.DataFrame:
    """AlexNet capture rows of seed 0 with no recipe or capture option (a scale's own protocol)."""
    g = g[(g.model == MODEL) & (g.stage == "capture")]
    if "seed" in g:
        g = g[g.seed == 0]
    return without_options(g)


def complete(c: pd.DataFrame) -> bool:
    """Every corresponding layer of `am.cells` has all four batch sizes 64-512."""
    return len(c) > 0 and bool((c.groupby("layer").batch_size.nunique() == len(am.BATCHES)).all())


def paper_spread(c: pd.DataFrame, n_batches: int = 200) -> float:
    """Mean of the paper's standard deviations over the cells of `c`."""
    p = paper_tables()
    p = p[(p.table == 1) & (p.model == MODEL) & (p.n_batches == n_batches)]
    m = c.merge(p[["layer", "batch_size", "gauss_pct_std"]], on=["layer", "batch_size"])
    return float(m.gauss_pct_std.mean()) if len(m) else float("nan")


def _row(label: str, scale: str, model: str, epoch, c: pd.DataFrame) -> dict:
    spread = paper_spread(c)
    d = am.distance(c)
    return {"candidate": label, "scale": scale, "model": model, "epoch": epoch, "cells": len(c),
            "distance": d, "slope_error": am.slope_error(c), "paper_spread": spread,
            "within_paper_spread": bool(d <= 2 * spread)}


def grid_candidates(by_scale: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per complete candidate state: candidate, scale, model, epoch, cells, distance,
    slope_error, paper_spread (mean paper std over the cells), within_paper_spread; sorted by
    distance."""
    rows = []
    for scale, g in by_scale.items():
        if g is None or not len(g):
            continue
        if scale == "protocol":
            f = protocol_study.with_factors(g, MODEL)
            for factor, part in f.groupby("factor"):
                model = part.model.iloc[0]
                c = am.cells(part, model)
                if complete(c):
                    rows.append(_row(factor, scale, model, int(part.checkpoint_epoch.iloc[0]), c))
            continue
        base = _baseline_rows(g)
        final = base[base.checkpoint_epoch == base.epochs]
        c = am.cells(final, MODEL)
        if complete(c):
            rows.append(_row(f"{scale} final", scale, MODEL, int(final.epochs.iloc[0]), c))
    cols = [
        "candidate",
        "scale",
        "model",
        "epoch",
        "cells",
        "distance",
        "slope_error",
        "paper_spread",
        "within_paper_spread",
    ]
    return pd.DataFrame(rows, columns=cols).sort_values("distance", ignore_index=True)


def option_candidates(g: pd.DataFrame | None, scale: str) -> pd.DataFrame:
    """Rows like `grid_candidates`' for each capture option of a scale's final checkpoint with a
    complete grid (`g`: capture and recount rows of the scale together)."""
    rows = []
    if g is not None and len(g) and "protocol" in g:
        final = g[g.checkpoint_epoch == g.epochs]
        for protocol in sorted(final.protocol.dropna().astype(str).unique()):
            part = _with_option(final, protocol)
            c = am.cells(part, MODEL)
            if complete(c):
                rows.append(_row(f"{scale} final, {option_name(protocol)}", scale, MODEL,
                                 int(part.epochs.iloc[0]), c))
    return pd.DataFrame(rows)


def series_distance(g: pd.DataFrame, scale: str, protocol: str | None = None) -> pd.DataFrame:
    """Per checkpoint of a scale's AlexNet run: the distance on Table 1's batch-128 column
    (scale, epochs, epoch, layers, distance); with `protocol`, of the captures with that option
    (scale then reads e.g. 'cpu-300, test images')."""
    base = _baseline_rows(g) if protocol is None else _with_option(g, protocol)
    if protocol is not None:
        scale = f"{scale}, {option_name(protocol)}"
    base = base[(base.batch_size == SERIES_BATCH) & (base.n_batches == 200)]
    rows = []
    for epoch, part in base.groupby("checkpoint_epoch"):
        c = am.cells(part, MODEL)
        c = c[c.batch_size == SERIES_BATCH]
        if len(c):
            rows.append({"scale": scale, "epochs": int(part.epochs.iloc[0]), "epoch": int(epoch),
                         "layers": len(c), "distance": am.distance(c)})
    return pd.DataFrame(rows, columns=["scale", "epochs", "epoch", "layers", "distance"])


def answer(cands: pd.DataFrame) -> dict:
    """The search's answer: the best state by distance (and by slope error), and whether any state
    comes within the paper's spread."""
    if cands.empty:
        return {"best": None, "best_slope": None, "any_within": False, "n": 0}
    best = cands.loc[cands.distance.idxmin()]
    best_slope = cands.loc[cands.slope_error.idxmin()]
    return {
        "best": best.candidate,
        "best_distance": float(best.distance),
        "best_slope_error": float(best.slope_error),
        "best_paper_spread": float(best.paper_spread),
        "best_slope": best_slope.candidate,
        "best_slope_value": float(best_slope.slope_error),
        "any_within": bool(cands.within_paper_spread.any()),
        "n": len(cands),
        "median_distance": float(np.median(cands.distance)),
    }


def option_effect(g: pd.DataFrame, option: str, checkpoint_epoch: int) -> pd.DataFrame:
    """Per cell (layer, batch size) at one checkpoint: the mean with a capture option (`option`, a
    substring of the `protocol` column, e.g. '"augment": true') minus the mean of the scale's own
    protocol, beside the standard deviation of the latter over its repeats; `beyond` when the
    difference exceeds it (layer, batch_size, with_option, plain, spread, delta, beyond)."""
    g = g[(g.model == MODEL) & (g.checkpoint_epoch == checkpoint_epoch) & (g.n_batches == 200)]
    opt = (
        g[g.protocol.astype(str).str.contains(option, regex=False)]
        if "protocol" in g
        else g.iloc[:0]
    )
    plain = without_options(g).groupby(["layer", "batch_size"])[am.RULE].agg(["mean", "std"])
    out = opt.groupby(["layer", "batch_size"])[am.RULE].mean().rename("with_option").to_frame()
    out = out.join(
        plain.rename(columns={"mean": "plain", "std": "spread"}), how="inner"
    ).reset_index()
    out["delta"] = out.with_option - out.plain
    out["beyond"] = out.delta.abs() > out.spread
    return out


def all_candidates(by_scale: dict, recount_by_scale: dict) -> pd.DataFrame:
    """`grid_candidates` and every scale's `option_candidates` (capture and recount rows),
    sorted by distance."""
    parts = [grid_candidates(by_scale)]
    for scale, g in by_scale.items():
        if scale != "protocol":
            rows = [t for t in (g, recount_by_scale.get(scale)) if t is not None and len(t)]
            parts.append(option_candidates(pd.concat(rows, ignore_index=True) if rows else None,
                                           scale))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True).sort_values("distance", ignore_index=True)


def all_series(by_scale: dict, scales, options=('{"inputs": "test"}',)) -> pd.DataFrame:
    """`series_distance` of each scale, and of each capture option that has a series."""
    parts = [series_distance(by_scale[s], s) for s in scales if by_scale.get(s) is not None]
    parts += [series_distance(by_scale[s], s, o) for s in scales for o in options
              if by_scale.get(s) is not None]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def paired_series(series: pd.DataFrame, scale: str, option: str) -> pd.DataFrame:
    """The distance per checkpoint of a scale's run beside the same checkpoints captured with a
    capture option (`all_series` rows; option in words, e.g. 'test images'): epoch, plain,
    with_option; only checkpoints that have both."""
    s = series.set_index(["scale", "epoch"]).distance
    if scale not in s.index.get_level_values(0) or f"{scale}, {option}" not in s.index:
        return pd.DataFrame(columns=["epoch", "plain", "with_option"])
    out = pd.DataFrame({"plain": s.loc[scale], "with_option": s.loc[f"{scale}, {option}"]})
    return out.dropna().rename_axis("epoch").reset_index()
