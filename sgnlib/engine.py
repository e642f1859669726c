"""Running a list of configurations: each one claimed, computed (in-process or as a papermill
notebook) and committed to a `ResultStore` on its own, so a killed sweep loses at most the
configuration it was computing and a rerun gives exactly the rows of an uninterrupted run.

Checkpoints are dependencies: a configuration that reads a checkpoint nobody has written yet waits
for the process training it (the train configuration's claim) or, if none is, trains it itself
(training is deterministic per seed). So k shards started at once in one folder, or the same sweep
run twice, share the work without losing or duplicating a row.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from .capture import NonFiniteGradientError
from .config import Config, ConfigError
from .data import DataNotFoundError
from .data_files import DataError
from .probe import CaptureArgumentError
from .paths import RUNS_DIR
from .stage_context import Context, DataChangedError
from .stages import STAGES, run_stage
from .text_data import check_available
from .models_beyond import THROUGHPUT as BEYOND_THROUGHPUT
from .store import ResultStore, StoreError
from .train import CheckpointError, NonFiniteLossError, load_checkpoint


class EngineError(RuntimeError):
    """A sweep that cannot go on; the message is one line that says why and what to do."""


# the project's errors a user can act on: the command line prints their one-line message (exit
# status 2); any other exception is a bug and keeps its traceback
USER_ERRORS = (ConfigError, EngineError, StoreError, CheckpointError, DataChangedError,
               DataNotFoundError, DataError, CaptureArgumentError, NonFiniteGradientError,
               NonFiniteLossError)


def producer(cfg: Config, cfgs: list[Config]) -> Config | None:
    """The train configuration in `cfgs` that writes the checkpoint `cfg` reads."""
    for c in cfgs:
        if (c.stage == "train" and c.checkpoint_key() == cfg.checkpoint_key()
                and cfg.checkpoint_epoch in c.checkpoint_epochs):
            return c
    return None


def validate(cfgs: list[Config], ctx: Context) -> None:
    """Before any compute: every checkpoint a configuration reads is made by this sweep or exists
    and belongs to the configuration's training run (model, seed, epoch, data sha256, recipe), and
    every text corpus a configuration reads is installed as pinned (`text_data.check_available`)."""
    check_available(c.data_source for c in cfgs)
    checked = set()
    for c in cfgs:
        if not c.needs_training():  # train configurations, and the initialization (epoch 0)
            continue
        path = ctx.checkpoint_file(c)
        if path.exists() and path not in checked:
            load_checkpoint(path, "cpu", c.checkpoint_expect())
            checked.add(path)
        elif not path.exists() and producer(c, cfgs) is None:
            raise EngineError(f"{c.config_id} reads checkpoint {path}, which does not exist and no "
                              f"train configuration in this sweep writes it; add the train stage "
                              f"or point --checkpoints at it")


def _run_papermill(cfg: Config, ctx: Context, runs_dir: Path,
                   notebooks: Path) -> dict[str, pd.DataFrame]:
    """Execute the stage's notebook (`notebooks` / its NOTEBOOK) into runs_dir/<config id>.ipynb
    and read back the tables it hands over."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    out = Path(runs_dir) / f"{cfg.config_id}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    notebook = Path(notebooks) / STAGES[cfg.stage].NOTEBOOK
    with tempfile.TemporaryDirectory(prefix="sgn-stage-") as staged:
        params = {"config": json.dumps(cfg.to_dict()), "device": str(ctx.device),
                  "checkpoint_dir": str(ctx.checkpoint_dir), "output_dir": staged}
        try:
            pm.execute_notebook(str(notebook), str(out), parameters=params, progress_bar=False,
                                cwd=str(notebook.parent))
        except PapermillExecutionError as e:
            raise EngineError(f"{e.ename}: {e.evalue} (executed notebook: {out})") from None
        return {p.name.split(".")[0]: pd.read_csv(p, dtype=str, keep_default_na=False)
                for p in sorted(Path(staged).glob("*.csv*"))}


RUNNERS = ("inprocess", "papermill")


def check_runner(runner: str, notebooks=None) -> None:
    """A known runner; papermill with a folder that holds every stage's notebook."""
    if runner not in RUNNERS:
        raise ConfigError(f"unknown runner {runner!r}; use inprocess or papermill")
    if runner != "papermill":
        return
    if notebooks is None:
        raise ConfigError("the papermill runner needs the folder of the stage notebooks "
                          "(notebooks=...; the command line passes book/experiments)")
    missing = sorted({s.NOTEBOOK for s in STAGES.values()
                      if not (Path(notebooks) / s.NOTEBOOK).is_file()})
    if missing:
        raise ConfigError(f"notebook folder {notebooks} lacks {', '.join(missing)}; "
                          f"point --notebooks at the folder holding the stage notebooks")


def execute(cfg: Config, ctx: Context, runner: str = "inprocess", runs_dir=None,
            notebooks=None) -> dict[str, pd.DataFrame]:
    """One configuration's tables, computed here (inprocess) or by its stage's notebook."""
    check_runner(runner, notebooks)
    if runner == "inprocess":
        return run_stage(cfg, ctx)
    return _run_papermill(cfg, ctx, Path(runs_dir or RUNS_DIR), Path(notebooks))


class Sweep:
    """One sweep over `cfgs` into `store`: `run()` returns the ids this process computed and
    committed."""

    def __init__(self, cfgs: list[Config], store: ResultStore, ctx: Context,
                 runner: str = "inprocess", runs_dir=None, wait_s: float = 6 * 3600, log=print,
                 universe: list[Config] | None = None, notebooks=None):
        """universe: the whole sweep when `cfgs` is one shard of it (train configurations are found
        there). runner papermill: `notebooks` is the folder of the stage notebooks."""
        check_runner(runner, notebooks)
        self.cfgs, self.store, self.ctx, self.runner = cfgs, store, ctx, runner
        self.universe = universe or cfgs
        self.runs_dir, self.wait_s, self.log, self.notebooks = runs_dir, wait_s, log, notebooks

    def _execute(self, cfg: Config) -> dict[str, pd.DataFrame]:
        return execute(cfg, self.ctx, self.runner, self.runs_dir, self.notebooks)

    def _commit_run(self, cfg: Config) -> bool:
        """With cfg's claim held: compute and commit unless someone committed it meanwhile."""
        if cfg.config_id in self.store.done():
            return False
        if cfg.needs_training():
            self._ensure_checkpoint(cfg)
        tables = self._execute(cfg)
        return self.store.commit(cfg.to_dict(), tables, cfg.config_id)

    def _ensure_checkpoint(self, cfg: Config) -> None:
        path = self.ctx.checkpoint_file(cfg)
        if path.exists():
            return
        train = producer(cfg, self.universe)
        if train is None:
            raise EngineError(f"checkpoint {path} is missing and no train configuration writes it")
        self.log(f"{cfg.config_id} needs {path.name}: training {train.config_id} (or waiting for "
                 f"whoever is)")
        lk = self.store.claim(train.config_id, timeout=self.wait_s)
        if lk is None:
            raise EngineError(f"waited {self.wait_s:.0f} s for another process training "
                              f"{train.config_id} (lock {self.store.folder / '.claims'}); rerun "
                              f"later or raise --wait")
        try:
            if not path.exists():
                tables = self._execute(train)
                self.store.commit(train.to_dict(), tables, train.config_id)
        finally:
            lk.release()
        if not path.exists():
            raise EngineError(f"training {train.config_id} did not write {path}")

    def run(self, deadline_s: float | None = None, progress: bool = False) -> list[str]:
        done = self.store.done()
        todo = [c for c in self.cfgs if c.config_id not in done]
        self.log(f"{self.store.folder}: {len(self.cfgs)} configurations, "
                 f"{len(self.cfgs) - len(todo)} already done, {len(todo)} to run")
        ran, deferred, start = [], [], time.perf_counter()
        it = todo
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(todo, desc="sweep")
        for cfg in it:
            if deadline_s is not None and time.perf_counter() - start > deadline_s:
                self.log(f"deadline reached after {len(ran)} configurations; rerun to continue")
                return ran
            outcome = self._claimed_run(cfg, timeout=0)
            if outcome is None:  # another process computes it now; come back at the end
                deferred.append(cfg)
            elif outcome:
                ran.append(cfg.config_id)
        for cfg in deferred:  # wait for the other process; if it died without committing, run here
            outcome = self._claimed_run(cfg, timeout=self.wait_s)
            if outcome is None:
                raise EngineError(f"waited {self.wait_s:.0f} s for another process computing "
                                  f"{cfg.config_id}; rerun later or raise --wait")
            if outcome:
                ran.append(cfg.config_id)
        return ran

    def _claimed_run(self, cfg: Config, timeout: float) -> bool | None:
        """Claim cfg (waiting up to `timeout`), compute and commit it: None if the claim was not
        had, else whether this process committed it."""
        lk = self.store.claim(cfg.config_id, timeout=timeout)
        if lk is None:
            return None
        try:
            return self._commit_run(cfg)
        finally:
            lk.release()


# training images per second (forward and backward) by device kind and model; the CPU figures are
# measured on 2 cores
THROUGHPUT = {
    "cpu": {"alexnet": 3000, "alexnet_bn": 2500, "resnet20": 400, "resnet56": 140,
            "alexnet_text": 800, "alexnet_text_tables": 1200, "alexnet_text_tables_p5": 800},
    "cuda": {"alexnet": 40000, "alexnet_bn": 35000, "resnet20": 15000, "resnet56": 6000,
             "alexnet_text": 20000, "alexnet_text_tables": 20000, "alexnet_text_tables_p5": 20000}}
for _kind, _rates in BEYOND_THROUGHPUT.items():  # the networks of sgnlib.models_beyond
    THROUGHPUT[_kind].update(_rates)


def estimate_seconds(cfgs: list[Config], device_kind: str = "cpu") -> float:
    """Rough time: the sum of each configuration's stage cost (`sgnlib.stages`) at `THROUGHPUT`."""
    ips = THROUGHPUT[device_kind]
    total = 0.0
    for c in cfgs:
        total += STAGES[c.stage].cost(c, ips[c.model], device_kind)
    return total
