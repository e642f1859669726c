"""The stages of an experiment, one module each; every stage is a function (Config, Context) -> tables.

    train         sgnlib.stages.train          training        (recipe, checkpoints)
    capture       sgnlib.stages.capture        gaussianity, tail_index   (Tables 1-4, Figs 1, 2, 6, 7, 9)
    moments       sgnlib.stages.moments        moments         (beta/sigma^3, Figs 3-4)
    berry_esseen  sgnlib.stages.berry_esseen   berry_esseen    (eq 13, Fig 5)
    examples      sgnlib.stages.examples       examples        (Figs 8-9)
"""
from __future__ import annotations

from ..config import STAGE_FIELDS, Config
from . import berry_esseen, capture, moments, train
from . import examples as _examples
from .context import Context

STAGES = {"train": train.run, "capture": capture.run, "moments": moments.run,
          "berry_esseen": berry_esseen.run, "examples": _examples.run}
assert set(STAGES) == set(STAGE_FIELDS), "every stage in sgnlib.config.STAGE_FIELDS needs a module here"


def run_stage(cfg: Config, ctx: Context) -> dict:
    """Run one configuration's stage; returns {table name: DataFrame}."""
    return STAGES[cfg.stage](cfg, ctx)


def write_tables(tables: dict, folder) -> None:
    """Hand a stage's tables back to the engine (papermill runner): one CSV per table in `folder`."""
    from pathlib import Path
    for name, df in tables.items():
        df.to_csv(Path(folder) / f"{name}.csv", index=False)
