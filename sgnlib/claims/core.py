"""The pieces every verdict function shares: the `Verdict` record, the vocabulary, the registry and
small helpers (formatting, grading a share, the NO DATA message with the command that fills it).

A verdict function takes ``(tables, params)``: `tables` maps a result-table name (gaussianity,
moments, berry_esseen, tail_index, examples, training, alpha_stable) and "paper" (the paper's
Tables 1-4) to a DataFrame or None; `params` is the claim's JSON params plus "scale". It returns a
`Verdict`.
"""
from __future__ import annotations

import json
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from ..reader import final_grid

REPRODUCED, PARTLY, NOT_REPRODUCED = "REPRODUCED", "PARTLY", "NOT REPRODUCED"
NO_DATA, NOT_TESTABLE = "NO DATA", "NOT TESTABLE"
VOCABULARY = (REPRODUCED, PARTLY, NOT_REPRODUCED, NO_DATA, NOT_TESTABLE)

# the parts of each scale's design (data/results/<scale>/README.md); a gap outside them is filled
# with the paper-recipe preset
CPU_DESIGN = {"models": {"alexnet", "alexnet_bn"}, "max_batch": 512, "n_batches": {200}}


class Verdict(NamedTuple):
    verdict: str
    paper: str
    ours: str
    delta: str
    evidence: str

    @property
    def text(self) -> str:
        return f"paper {self.paper}, ours {self.ours} ({self.delta})"


REGISTRY: dict[str, Callable[[dict, dict], Verdict]] = {}


def kind(name: str):
    """Register a verdict function under `name` (the claims file's `kind` column)."""
    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"verdict kind {name!r} registered twice")
        REGISTRY[name] = fn
        return fn
    return deco


# ---------------------------------------------------------------- formatting


def pct(v, digits: int = 2) -> str:
    return "–" if v is None or pd.isna(v) else f"{v:.{digits}f} %"


def dpp(ours, paper, digits: int = 2) -> str:
    """'Δ +1.23 pp' (ours - paper)."""
    if ours is None or paper is None or pd.isna(ours) or pd.isna(paper):
        return "Δ –"
    return f"Δ {ours - paper:+.{digits}f} pp"


def share(k: int, n: int) -> str:
    return f"{k}/{n}"


def grade(frac: float, reproduced: float, partly: float) -> str:
    """REPRODUCED if frac >= reproduced, PARTLY if >= partly, else NOT REPRODUCED (both thresholds
    fixed)."""
    if frac >= reproduced - 1e-12:
        return REPRODUCED
    if frac >= partly - 1e-12:
        return PARTLY
    return NOT_REPRODUCED


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks); NaN if either side is constant or n < 3."""
    x, y = pd.Series(np.asarray(x, float)), pd.Series(np.asarray(y, float))
    if len(x) < 3 or x.nunique() < 2 or y.nunique() < 2:
        return float("nan")
    return round(float(np.corrcoef(x.rank(), y.rank())[0, 1]), 12)  # exact ties like 0.8 stay exact


# ---------------------------------------------------------------- missing data


def epochs_of(tables: dict, model: str) -> int | None:
    """Training length of `model` at this scale (training table, else gaussianity), for fill
    commands."""
    for name in ("training", "gaussianity"):
        t = tables.get(name)
        if t is not None and len(t) and "model" in t and (t.model == model).any():
            return int(t[t.model == model].epochs.max())
    return None


def fill_command(scale: str, stage: str, models, tables: dict | None = None, *, batch_sizes=(),
                 n_batches=(), extra: str = "") -> str:
    """The sweep command that would write the missing rows: the scale's own preset when its design
    covers them (cpu: AlexNets, batch <= 512, 200 batches), else the paper-recipe preset (for
    gpu-short: into that folder, at the epochs it trained)."""
    models = [models] if isinstance(models, str) else list(models)
    in_cpu = (set(models) <= CPU_DESIGN["models"]
              and all(b <= CPU_DESIGN["max_batch"] for b in batch_sizes)
              and set(n_batches) <= CPU_DESIGN["n_batches"])
    preset = "cpu" if scale == "cpu" and in_cpu else "paper-recipe"
    ep = epochs_of(tables or {}, models[0]) if scale in (preset, "gpu-short") else None
    # gpu-short is the recipe, shorter: its own folder only when its epochs are known
    own = preset == scale or (scale == "gpu-short" and preset == "paper-recipe" and ep is not None)
    cmd = f"python -m sgnlib.sweep --preset {preset}"
    if own and scale == "gpu-short":
        cmd += f" --scale gpu-short --epochs {ep}"
    # the stage's rows need the checkpoint, which is not kept: train it again first
    stages = stage if stage.startswith("train") else f"train,{stage}"
    cmd += f" --stages {stages} --models {','.join(models)}{extra}"
    note = "" if own else f" (outside the {scale} design; this fills the paper-recipe scale)"
    return f"`{cmd}`{note}"


def no_data(paper: str, what: str, scale: str, command: str) -> Verdict:
    evidence = f"no {what} in data/results/{scale}; fill with {command}"
    return Verdict(NO_DATA, paper, "–", "Δ –", evidence)


def missing_rows(tables: dict, params: dict, paper_s: str, stage: str, what: str,
                 model: str | None = None, **kw) -> Verdict:
    """NO DATA for rows of `stage`, with the sweep command that writes them for `model` (default:
    the claim's model, else alexnet)."""
    scale = params.get("scale", "?")
    model = model or params.get("model", "alexnet")
    return no_data(paper_s, what, scale, fill_command(scale, stage, model, tables, **kw))


def not_testable(paper: str, reason: str, ours: str = "–") -> Verdict:
    return Verdict(NOT_TESTABLE, paper, ours, "Δ –", reason)


# ---------------------------------------------------------------- the Gaussianity grid


def cell(grid: pd.DataFrame, layer: str, batch_size: int, n_batches: int):
    """The grid's value at (layer, batch size, n_batches), None where it has no such cell."""
    at = (grid.layer == layer) & (grid.batch_size == batch_size) & (grid.n_batches == n_batches)
    m = grid[at]
    return float(m.value.iloc[0]) if len(m) else None


def grid_of(tables: dict, params: dict, model: str | None = None) -> pd.DataFrame:
    """The final-checkpoint Gaussianity grid of `model` (default: the claim's model)."""
    return final_grid(tables.get("gaussianity"), model or params["model"])


def missing_cells(tables: dict, params: dict, paper_s: str, what: str, models=None,
                  batch_sizes=(), n_batches=()) -> Verdict:
    """NO DATA for grid cells, with the final-only capture that writes them."""
    scale = params.get("scale", "?")
    command = fill_command(scale, "capture", models or params["model"], tables,
                           batch_sizes=batch_sizes, n_batches=n_batches, extra=" --final-only")
    return no_data(paper_s, what, scale, command)


def parse_params(s) -> dict:
    return json.loads(s) if isinstance(s, str) and s.strip() else {}
