"""Command line of the experiment engine: every value is checked before anything runs or is written.

    python -m sgnlib.sweep --preset cpu --dry-run                 # grid, what is done, time estimate
    python -m sgnlib.sweep --preset cpu                           # run (resumes; safe to run twice at once)
    python -m sgnlib.sweep --preset paper-recipe --shard 0/4      # every 4th configuration (SLURM array)
    python -m sgnlib.sweep --preset paper-recipe --executor slurm --slurm-partition gpu   # submit SLURM jobs (submitit)
    python -m sgnlib.sweep merge OTHER/results/gpu-short data/results/gpu-short   # combine two results folders
    python -m sgnlib.sweep verify data/results/cpu                # check tables, ledger, journal, orphans
    python -m sgnlib.sweep forget data/results/cpu ID [ID ...]    # drop configurations
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from . import executors, presets
from .config import ConfigError
from .data import SOURCES, identify
from .engine import USER_ERRORS, Sweep, check_runner, estimate_seconds, validate
from .paths import REPO_ROOT, RESULTS_DIR, RUNS_DIR
from .stage_context import Context
from .folder_identity import data_refusal
from .store import ResultStore, StoreError, merge

COMMANDS = ("run", "merge", "verify", "forget")
NOTEBOOKS = REPO_ROOT / "book" / "experiments"  # the stage notebooks the papermill runner executes


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v}")
    return v


def non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {v}")
    return v


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
        raise ConfigError(f"--device {text}: CUDA is not available on this machine; use --device cpu or auto")
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


def select(cfgs, stages=None, models=None, final_only=False, by_repeat=False):
    """Filter a preset's configurations; a filter value that matches nothing is an error listing what exists."""
    for flag, values, field in (("--stages", stages, "stage"), ("--models", models, "model")):
        if values:
            wanted = [v.strip() for v in values.split(",") if v.strip()]
            have = sorted({getattr(c, field) for c in cfgs})
            unknown = [v for v in wanted if v not in have]
            if unknown or not wanted:
                raise ConfigError(f"{flag} {','.join(unknown) or values!r} matches nothing; this preset has "
                                  f"{', '.join(have)}")
            cfgs = [c for c in cfgs if getattr(c, field) in wanted]
    if final_only:
        cfgs = [c for c in cfgs if c.checkpoint_epoch in (None, c.epochs)]
    if by_repeat:
        cfgs = sorted(cfgs, key=lambda c: c.repeat or 0)  # stable: keeps the order inside a repeat
    if not cfgs:
        raise ConfigError("the filters leave no configuration to run")
    return cfgs


def _parser():
    ap = argparse.ArgumentParser(prog="python -m sgnlib.sweep", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="command")
    r = sub.add_parser("run", help="run a preset (the default command)")
    r.add_argument("--preset", default="cpu", help=f"one of {', '.join(presets.names())} or a .yaml file")
    r.add_argument("--scale", help="results folder name under --results-dir (default: the preset's name)")
    r.add_argument("--epochs", type=positive_int, help="training epochs (overrides the preset)")
    r.add_argument("--repeats", type=positive_int, help="repeats of each grid cell (overrides the preset)")
    r.add_argument("--shard", help="i/k: run configurations i, i+k, i+2k, ... (all shards may share one folder)")
    r.add_argument("--runner", default="papermill", choices=["papermill", "inprocess"])
    r.add_argument("--notebooks", default=str(NOTEBOOKS),
                   help="folder of the stage notebooks (--runner papermill; default: book/experiments)")
    r.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    r.add_argument("--data-source", default="auto", choices=list(SOURCES))
    r.add_argument("--checkpoints", help="checkpoint folder (default: checkpoints/)")
    r.add_argument("--results-dir", help="results root (default: data/results)")
    r.add_argument("--stages", help="comma list of stages to keep")
    r.add_argument("--models", help="comma list of models to keep")
    r.add_argument("--by-repeat", action="store_true", help="run whole repeats first (useful with --deadline)")
    r.add_argument("--final-only", action="store_true", help="keep only configurations at the final checkpoint")
    r.add_argument("--deadline", type=float, help="stop starting new configurations after this many seconds")
    r.add_argument("--wait", type=float, default=6 * 3600, help="seconds to wait for another process's work")
    r.add_argument("--dry-run", action="store_true", help="check everything, list done/todo, estimate time")
    x = r.add_argument_group("executors", "run as jobs instead of in this process (needs submitit; see "
                             "sgnlib/executors.py): one job per train configuration, the rest after it")
    x.add_argument("--executor", default="inline", choices=list(executors.EXECUTORS),
                   help="inline: here (default); local: submitit jobs on this machine; slurm: SLURM jobs")
    x.add_argument("--jobs", type=positive_int, help="jobs for the configurations that read checkpoints "
                   "(default: one per training run)")
    x.add_argument("--slurm-partition", help="SLURM partition")
    x.add_argument("--slurm-gpus-per-node", type=non_negative_int, help="GPUs per job (default 1)")
    x.add_argument("--slurm-cpus-per-task", type=positive_int, help="CPUs per job (default 8)")
    x.add_argument("--slurm-time", type=executors.slurm_minutes,
                   help="time limit per job: minutes or [D-]HH:MM:SS (default 1440 = 24 h)")
    x.add_argument("--slurm-mem-gb", type=positive_int, help="memory per job in GB (default: the partition's)")
    x.add_argument("--slurm-array-parallelism", type=positive_int, help="at most this many jobs of one array at once")
    x.add_argument("--log-dir", help="submitit's folder: job logs and pickles (default: runs/slurm or runs/local)")
    m = sub.add_parser("merge", help="commit into DEST every configuration of SRC it lacks (idempotent)")
    m.add_argument("src")
    m.add_argument("dest")
    v = sub.add_parser("verify", help="check a results folder's tables against its ledger")
    v.add_argument("folder")
    f = sub.add_parser("forget", help="remove configurations from a results folder")
    f.add_argument("folder")
    f.add_argument("ids", nargs="+")
    return ap


def plan(a):
    """Everything a run needs, checked, without writing anything:
    (this shard's configurations, all of them, store, context, ids done, data identity)."""
    check_device(a.device, here=getattr(a, "executor", "inline") != "slurm")
    shard = parse_shard(a.shard)
    spec = presets.load(a.preset)
    data = identify("train", a.data_source)
    cfgs = presets.expand(spec, data, a.epochs, a.repeats)
    cfgs = select(cfgs, a.stages, a.models, a.final_only, a.by_repeat)
    root = check_writable_dir(Path(a.results_dir or RESULTS_DIR), "--results-dir")
    store = ResultStore(check_writable_dir(root / (a.scale or Path(a.preset).stem), "results folder"))
    ctx = Context(a.device, check_writable_dir(Path(a.checkpoints or REPO_ROOT / "checkpoints"), "--checkpoints"))
    validate(cfgs, ctx)
    done = store.done()
    mine = [c for i, c in enumerate(cfgs) if shard is None or i % shard[1] == shard[0]]
    return mine, cfgs, store, ctx, done, data


def check_folder(store: ResultStore, cfgs) -> None:
    """Before any compute: the results folder verifies (a damaged ledger or table, or orphan rows,
    would refuse the commit of a computed configuration) and holds no results on other data."""
    store.verify()
    why = data_refusal(store.folder, store.ledger(), [c.to_dict() for c in cfgs])
    if why:
        raise StoreError(why)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help"):
        argv = ["run"] + argv
    a = _parser().parse_args(argv)
    try:
        if a.command == "merge":
            print(f"{merge(a.src, a.dest)} configuration(s) merged into {a.dest}")
        elif a.command == "verify":
            ResultStore(a.folder).verify(say=print)
        elif a.command == "forget":
            print(f"{ResultStore(a.folder).forget(a.ids)} configuration(s) removed from {a.folder}")
        else:
            executors.check_options(a)
            check_runner(a.runner, a.notebooks)
            if a.log_dir is not None:
                check_writable_dir(Path(a.log_dir), "--log-dir")
            cfgs, universe, store, ctx, done, data = plan(a)
            if not a.dry_run:
                check_folder(store, cfgs)
            if a.executor != "inline":
                return executors.run(a, cfgs, universe, store, ctx, done, RUNS_DIR / store.folder.name)
            if a.dry_run:
                for c in cfgs:
                    print(("done " if c.config_id in done else "todo ") + c.config_id)
                todo = [c for c in cfgs if c.config_id not in done]
                print(f"data: {data['source']} sha256 {data['sha256'][:12]}…; results: {store.folder}; "
                      f"checkpoints: {ctx.checkpoint_dir}")
                print(f"{len(cfgs)} configurations ({len(todo)} to run); estimated "
                      f"{estimate_seconds(todo, ctx.device.type) / 60:.1f} min on {ctx.device.type}")
                return 0
            Sweep(cfgs, store, ctx, a.runner, RUNS_DIR / store.folder.name, a.wait, universe=universe,
                  notebooks=a.notebooks).run(a.deadline, progress=True)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
