"""The stages of an experiment, one module each, and their registry `STAGES`.

    stage         tables                    what for
    train         training                  the recipe, checkpoints
    capture       gaussianity, tail_index   Tables 1-4, Figs 1, 2, 6, 7, 9
    moments       moments                   beta/sigma^3, Figs 3-4
    berry_esseen  berry_esseen              eq 13, Fig 5
    examples      examples                  Figs 8-9
    recount       recount                   Table 1's cells under other counting rules
    assumption1   assumption1               eq 31 (C = H), Proposition 2

Each stage module declares everything the rest of the code knows about it:

    NAME              the stage's name in configurations, presets and ledgers
    FIELDS            the configuration fields it reads beyond the common ones (`sgnlib.config`)
    VERSION           bumped whenever its numbers change meaning (it enters every configuration id,
                      so old results are never mistaken for new ones)
    TABLES            the result tables it writes
    NOTEBOOK          the notebook that runs it under papermill, a file name in the notebook folder
                      the caller names (`sgnlib.engine`)
    READS_TEST_SPLIT  whether its numbers depend on the test split (then the split enters its id)
    cost(cfg, images_per_s, device_kind)   rough seconds, for dry runs and job plans
    run(cfg, ctx)     computes one configuration: {table name: DataFrame}

`sgnlib.config` and `sgnlib.engine` read these declarations from `STAGES`; stage modules do not
import `sgnlib.config` (configurations reach them as arguments).
"""
from __future__ import annotations

from pathlib import Path

from ..stage_context import Context  # noqa: F401  (what stages and notebooks run with)
from . import assumption1, berry_esseen, capture, examples, moments, recount, train

STAGES = {m.NAME: m for m in (train, capture, moments, berry_esseen, examples,
                                    recount, assumption1)}


def run_stage(cfg, ctx: Context) -> dict:
    """Run one configuration's stage; returns {table name: DataFrame}."""
    return STAGES[cfg.stage].run(cfg, ctx)


def write_tables(tables: dict, folder) -> None:
    """Hand a stage's tables back to the engine (papermill runner): one CSV per table in
    `folder`."""
    for name, df in tables.items():
        df.to_csv(Path(folder) / f"{name}.csv", index=False)
