"""Command line of the experiment engine: every value is checked before anything runs or is written.

    python -m sgnlib.sweep --preset cpu --dry-run                 # grid, done, time estimate
    python -m sgnlib.sweep --preset cpu                           # run (resumes; safe twice)
    python -m sgnlib.sweep --preset cpu --runner papermill        # one executed notebook per config
    python -m sgnlib.sweep --preset paper-recipe --shard 0/4      # every 4th configuration (SLURM)
    python -m sgnlib.sweep --preset paper-recipe --executor slurm --slurm-partition gpu  # submitit
    python -m sgnlib.sweep merge OTHER/results/gpu-short data/results/gpu-short   # combine folders
    python -m sgnlib.sweep verify data/results/cpu                # tables, ledger, journal, orphans
    python -m sgnlib.sweep forget data/results/cpu ID [ID ...]    # drop configurations

The parsed options become a `RunOptions` (sgnlib.run_options), planned by `sgnlib.planner`. The
project's own errors (`sgnlib.engine.USER_ERRORS`) are one line on stderr with exit status 2; any
other exception is a bug and shows its traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import executors, presets
from .data import SOURCES
from .engine import RUNNERS, USER_ERRORS, Sweep, check_runner, estimate_seconds
from .paths import REPO_ROOT, RUNS_DIR
from .planner import Plan, check_folder, check_writable_dir, parse_shard, plan  # noqa: F401
from .run_options import DEFAULT_WAIT_S, RunOptions, non_negative_int, positive_int
from .store import ResultStore, merge

COMMANDS = ("run", "merge", "verify", "forget")
NOTEBOOKS = REPO_ROOT / "book" / "experiments"  # the stage notebooks the papermill runner executes


def _run_arguments(r) -> None:
    r.add_argument("--preset", default="cpu",
                   help=f"one of {', '.join(presets.names())} or a .yaml file")
    r.add_argument("--scale", help="results folder name under --results-dir (default: the "
                   "preset's)")
    r.add_argument("--epochs", type=positive_int, help="training epochs (overrides the preset)")
    r.add_argument("--repeats", type=positive_int, help="repeats of each grid cell (overrides it)")
    r.add_argument("--shard", help="i/k: run configurations i, i+k, i+2k, ... (shards may share "
                   "one folder)")
    r.add_argument("--runner", default="inprocess", choices=list(RUNNERS),
                   help="inprocess: the stage functions here (default); papermill: one executed "
                   "notebook per configuration (runs/)")
    r.add_argument("--notebooks", default=str(NOTEBOOKS),
                   help="folder of the stage notebooks (--runner papermill; default: "
                   "book/experiments)")
    r.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    r.add_argument("--data-source", default="auto", choices=list(SOURCES))
    r.add_argument("--checkpoints", help="checkpoint folder (default: checkpoints/)")
    r.add_argument("--results-dir", help="results root (default: data/results)")
    r.add_argument("--stages", help="comma list of stages to keep")
    r.add_argument("--models", help="comma list of models to keep")
    r.add_argument("--by-repeat", action="store_true",
                   help="run whole repeats first (useful with --deadline)")
    r.add_argument("--final-only", action="store_true",
                   help="keep only configurations at the final checkpoint")
    r.add_argument("--deadline", type=float,
                   help="stop starting new configurations after this many seconds")
    r.add_argument("--wait", type=float, default=DEFAULT_WAIT_S,
                   help="seconds to wait for another process's work")
    r.add_argument("--dry-run", action="store_true",
                   help="check everything, list done/todo, estimate time")


def _executor_arguments(r) -> None:
    x = r.add_argument_group("executors", "run as jobs instead of in this process (needs "
                             "submitit; see sgnlib/executors.py): one job per train "
                             "configuration, the rest after it")
    x.add_argument("--executor", default="inline", choices=list(executors.EXECUTORS),
                   help="inline: here (default); local: submitit jobs on this machine; slurm: "
                   "SLURM jobs")
    x.add_argument("--jobs", type=positive_int, help="jobs for the configurations that read "
                   "checkpoints (default: one per training run)")
    x.add_argument("--slurm-partition", help="SLURM partition")
    x.add_argument("--slurm-gpus-per-node", type=non_negative_int, help="GPUs per job (default 1)")
    x.add_argument("--slurm-cpus-per-task", type=positive_int, help="CPUs per job (default 8)")
    x.add_argument("--slurm-time", type=executors.slurm_minutes,
                   help="time limit per job: minutes or [D-]HH:MM:SS (default 1440 = 24 h)")
    x.add_argument("--slurm-mem-gb", type=positive_int,
                   help="memory per job in GB (default: the partition's)")
    x.add_argument("--slurm-array-parallelism", type=positive_int,
                   help="at most this many jobs of one array at once")
    x.add_argument("--log-dir", help="submitit's folder: job logs and pickles (default: "
                   "runs/slurm or runs/local)")


def _parser():
    ap = argparse.ArgumentParser(prog="python -m sgnlib.sweep", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    sub = ap.add_subparsers(dest="command")
    r = sub.add_parser("run", help="run a preset (the default command)")
    _run_arguments(r)
    _executor_arguments(r)
    m = sub.add_parser("merge", help="commit into DEST every configuration of SRC it lacks "
                       "(idempotent)")
    m.add_argument("src")
    m.add_argument("dest")
    v = sub.add_parser("verify", help="check a results folder's tables against its ledger")
    v.add_argument("folder")
    f = sub.add_parser("forget", help="remove configurations from a results folder")
    f.add_argument("folder")
    f.add_argument("ids", nargs="+")
    return ap


def dry_run(p: Plan) -> int:
    """Print what is done and what is to run, where, and the time estimate."""
    for c in p.configs:
        print(("done " if c.config_id in p.done else "todo ") + c.config_id)
    todo, kind = p.todo(), p.ctx.device.type
    print(f"data: {p.data['source']} sha256 {p.data['sha256'][:12]}…; results: {p.store.folder}; "
          f"checkpoints: {p.ctx.checkpoint_dir}")
    print(f"{len(p.configs)} configurations ({len(todo)} to run); estimated "
          f"{estimate_seconds(todo, kind) / 60:.1f} min on {kind}")
    return 0


def run(opts: RunOptions) -> int:
    """The `run` command: check, plan, then run here, print the dry run, or hand over to jobs."""
    executors.check_options(opts)
    check_runner(opts.runner, opts.notebooks)
    if opts.log_dir is not None:
        check_writable_dir(Path(opts.log_dir), "--log-dir")
    p = plan(opts)
    if not opts.dry_run:
        check_folder(p.store, p.configs)
    runs_dir = RUNS_DIR / p.store.folder.name
    if opts.executor != "inline":
        return executors.run(opts, p, runs_dir)
    if opts.dry_run:
        return dry_run(p)
    Sweep(p.configs, p.store, p.ctx, opts.runner, runs_dir, opts.wait, universe=p.universe,
          notebooks=opts.notebooks).run(opts.deadline, progress=True)
    return 0


def command(a: argparse.Namespace) -> int:
    if a.command == "merge":
        print(f"{merge(a.src, a.dest)} configuration(s) merged into {a.dest}")
    elif a.command == "verify":
        ResultStore(a.folder).verify(say=print)
    elif a.command == "forget":
        print(f"{ResultStore(a.folder).forget(a.ids)} configuration(s) removed from {a.folder}")
    else:
        return run(RunOptions.from_namespace(a))
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help"):
        argv = ["run"] + argv
    a = _parser().parse_args(argv)
    try:
        return command(a)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
