"""What a sweep run is asked to do, as one value: `RunOptions`, built by the command line
(`sgnlib.sweep`) or by a script, and handed to the planner, the executors and the jobs instead of
argparse's Namespace. Field names are the command line's option names (`--dry-run` -> dry_run).

The values are checked where they are used (`sgnlib.planner.plan`, `sgnlib.jobs.check_options`),
before anything is computed or written; the command line's argument types below refuse a malformed
number while parsing.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

DEFAULT_WAIT_S = 6 * 3600


@dataclass(frozen=True)
class RunOptions:
    preset: str = "cpu"                   # a preset name (sgnlib/presets) or a .yaml path
    scale: str | None = None              # results folder name (default: the preset's name)
    epochs: int | None = None             # overrides the preset's
    repeats: int | None = None            # overrides the preset's
    shard: str | None = None              # "i/k": configurations i, i+k, ...
    runner: str = "inprocess"             # inprocess | papermill
    notebooks: str | None = None          # folder of the stage notebooks (papermill)
    device: str = "auto"                  # auto | cpu | cuda | cuda:N
    data_source: str = "auto"
    checkpoints: str | None = None        # checkpoint folder (default: checkpoints/)
    results_dir: str | None = None        # results root (default: data/results)
    stages: str | None = None             # comma list of stages to keep
    models: str | None = None             # comma list of models to keep
    by_repeat: bool = False               # whole repeats first
    final_only: bool = False              # only configurations at the final checkpoint
    deadline: float | None = None         # seconds after which no configuration is started
    wait: float = DEFAULT_WAIT_S          # seconds to wait for another process's work
    dry_run: bool = False
    executor: str = "inline"              # inline | local | slurm (sgnlib.executors)
    jobs: int | None = None
    slurm_partition: str | None = None
    slurm_gpus_per_node: int | None = None
    slurm_cpus_per_task: int | None = None
    slurm_time: int | None = None         # minutes
    slurm_mem_gb: int | None = None
    slurm_array_parallelism: int | None = None
    log_dir: str | None = None

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> "RunOptions":
        """The options of a parsed `run` command line."""
        return cls(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(cls)})

    def replace(self, **changes) -> "RunOptions":
        return dataclasses.replace(self, **changes)


def _integer(text: str, lo: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a {what} integer, got {text!r}") from None
    if v < lo:
        raise argparse.ArgumentTypeError(f"must be a {what} integer, got {v}")
    return v


def positive_int(text: str) -> int:
    return _integer(text, 1, "positive")


def non_negative_int(text: str) -> int:
    return _integer(text, 0, "non-negative")
