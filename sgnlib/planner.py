"""The plan of a sweep run: its options (`RunOptions`) turned into checked configurations, results
folder and context, without computing or writing anything. Every bad value is one `ConfigError` (or
`StoreError`) line raised here, before any compute: the device, the shard, the preset and its
filters, the folders, the checkpoints the configurations read (`sgnlib.engine.validate`).

    plan = planner.plan(RunOptions(preset="smoke", data_source="synthetic"))
    Sweep(plan.configs, plan.store, plan.ctx, universe=plan.universe).run()
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import presets
from .config import Config, ConfigError
from .data import identify
from .engine import validate
from .folder_identity import data_refusal
from .paths import REPO_ROOT, RESULTS_DIR
from .run_options import RunOptions
from .stage_context import Context
from .store import ResultStore, StoreError


@dataclass
class Plan:
    """A checked run: this shard's configurations, the whole sweep's, where results go, the context
    (device, checkpoints), the ids already committed and the data's identity (`data.identify`)."""
    configs: list
    universe: list
    store: ResultStore
    ctx: Context
    done: set
    data: dict

    def todo(self) -> list:
        return [c for c in self.configs if c.config_id not in self.done]


def parse_shard(text: str | None):
    if not text:
        return None
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m:
        raise ConfigError(f"--shard must look like i/k (e.g. 0/4), got {text!r}")
    i, k = int(m.group(1)), int(m.group(2))
    if not (k >= 1 and 0 <= i < k):
        raise ConfigError(f"--shard i/k needs 0 <= i < k, got {text!r}")
    return i, k


def check_device(text: str, here: bool = True) -> str:
    """here=False: the device is a SLURM node's, so only the spelling is checked on this machine."""
    import torch
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", text):
        raise ConfigError(f"unknown device {text!r}: use cuda, cuda:N, cpu or auto")
    if here and text.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {text}: CUDA is not available on this machine; use --device "
                          f"cpu or auto")
    return text


def check_writable_dir(path: Path, what: str) -> Path:
    """A folder we may create and write in: not a file, nearest existing parent writable."""
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise ConfigError(f"{what} {path}: {p} is a file, not a folder")
            if not os.access(p, os.W_OK | os.X_OK):
                raise ConfigError(f"{what} {path}: {p} is not writable")
            return path
    return path


def _keep(cfgs: list, flag: str, values: str, field: str) -> list:
    """The configurations whose `field` is one of the comma list `values` (each must match)."""
    wanted = [v.strip() for v in values.split(",") if v.strip()]
    have = sorted({getattr(c, field) for c in cfgs})
    unknown = [v for v in wanted if v not in have]
    if unknown or not wanted:
        raise ConfigError(f"{flag} {','.join(unknown) or values!r} matches nothing; this preset "
                          f"has {', '.join(have)}")
    return [c for c in cfgs if getattr(c, field) in wanted]


def select(cfgs, stages=None, models=None, final_only=False, by_repeat=False):
    """Filter a preset's configurations; a filter value that matches nothing is an error listing
    what exists."""
    for flag, values, field in (("--stages", stages, "stage"), ("--models", models, "model")):
        if values:
            cfgs = _keep(cfgs, flag, values, field)
    if final_only:
        cfgs = [c for c in cfgs if c.checkpoint_epoch in (None, c.epochs)]
    if by_repeat:
        cfgs = sorted(cfgs, key=lambda c: c.repeat or 0)  # stable: keeps the order inside a repeat
    if not cfgs:
        raise ConfigError("the filters leave no configuration to run")
    return cfgs


def plan(opts: RunOptions) -> Plan:
    """Everything a run needs, checked, without writing anything (module docstring)."""
    check_device(opts.device, here=opts.executor != "slurm")
    shard = parse_shard(opts.shard)
    spec = presets.load(opts.preset)
    data = identify("train", opts.data_source)
    cfgs = presets.expand(spec, data, opts.epochs, opts.repeats)
    cfgs = select(cfgs, opts.stages, opts.models, opts.final_only, opts.by_repeat)
    root = check_writable_dir(Path(opts.results_dir or RESULTS_DIR), "--results-dir")
    folder = root / (opts.scale or Path(opts.preset).stem)
    store = ResultStore(check_writable_dir(folder, "results folder"))
    checkpoints = Path(opts.checkpoints or REPO_ROOT / "checkpoints")
    ctx = Context(opts.device, check_writable_dir(checkpoints, "--checkpoints"))
    validate(cfgs, ctx)
    mine = [c for i, c in enumerate(cfgs) if shard is None or i % shard[1] == shard[0]]
    return Plan(mine, cfgs, store, ctx, store.done(), data)


def check_folder(store: ResultStore, cfgs: list[Config]) -> None:
    """Before any compute: the results folder verifies (a damaged ledger or table, or orphan rows,
    would refuse the commit of a computed configuration) and holds no results on other data."""
    store.verify()
    why = data_refusal(store.folder, store.ledger(), [c.to_dict() for c in cfgs])
    if why:
        raise StoreError(why)
