"""The job plan of a scaled-out sweep (`--executor local|slurm`): which configurations run in which
job, after which training jobs, with which SLURM parameters; and `run_job`, what a job runs.
How they are submitted and watched: `sgnlib.executors` (whose docstring explains the design)."""
from __future__ import annotations

import re
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, ConfigError
from .engine import Sweep, estimate_seconds, producer
from .paths import RUNS_DIR

EXECUTORS = ("inline", "local", "slurm")
SLURM_OPTIONS = ("slurm_partition", "slurm_gpus_per_node", "slurm_cpus_per_task", "slurm_time",
                 "slurm_mem_gb", "slurm_array_parallelism")
SLURM_DEFAULTS = {"slurm_gpus_per_node": 1, "slurm_cpus_per_task": 8, "slurm_time": 24 * 60}
SLURM_POLL_S = 30.0  # how often the driver looks at SLURM jobs (submitit's sacct watcher throttles)
# the local executor's default is 2 minutes; a local job is never cut short
LOCAL_TIMEOUT_MIN = 30 * 24 * 60
NO_SUBMITIT = ("--executor {kind} needs submitit: pip install submitit (or pip install -e "
               "'.[slurm]'); without it, run one shard per SLURM array task: sbatch "
               "scripts/slurm_sweep.sh")


@dataclass
class Job:
    """One job of the plan: configurations run in this order by one `Sweep`, after the jobs in
    `needs`."""
    name: str
    configs: list = field(default_factory=list)
    needs: tuple = ()

    def estimate(self, device_kind: str) -> float:
        return estimate_seconds(self.configs, device_kind)


# ---------------------------------------------------------------- options


def slurm_minutes(text: str) -> int:
    """--slurm-time: minutes (1440) or SLURM's [D-]HH:MM[:SS] (1-00:00:00), as a positive number
    of minutes."""
    import argparse
    t = str(text).strip()
    m = re.fullmatch(r"(?:(\d+)-)?(\d+):(\d\d)(?::(\d\d))?", t)
    if re.fullmatch(r"\d+", t):
        minutes = int(t)
    elif m and int(m.group(3)) < 60 and int(m.group(4) or 0) < 60:
        d, h, mi, s = (int(g or 0) for g in m.groups())
        minutes = d * 1440 + h * 60 + mi + (1 if s else 0)
    else:
        raise argparse.ArgumentTypeError(f"must be minutes (e.g. 1440) or [D-]HH:MM[:SS] (e.g. "
                                         f"1-00:00:00), "
                                         f"got {text!r}")
    if minutes <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive time, got {text!r}")
    return minutes


def check_options(opts) -> None:
    """Executor options of `opts` (`RunOptions`) that do not fit together, before anything is loaded
    or written (one-line errors)."""
    kind = opts.executor
    if kind == "inline":
        given = [o for o in SLURM_OPTIONS + ("jobs", "log_dir") if getattr(opts, o) is not None]
        if given:
            flag = given[0].replace("_", "-")
            raise ConfigError(f"--{flag} needs --executor local or slurm (the default, inline, "
                              f"runs here in this process)")
        return
    if opts.shard:
        raise ConfigError(f"--shard and --executor {kind} are alternatives: the executor plans the "
                          f"jobs itself (use --jobs K); --shard is for scripts/slurm_sweep.sh")
    if kind == "local":
        given = [o for o in SLURM_OPTIONS if getattr(opts, o) is not None]
        if given:
            raise ConfigError(f"--{given[0].replace('_', '-')} applies to --executor slurm only")
    part = opts.slurm_partition
    if part is not None and not re.fullmatch(r"[\w.-]+(,[\w.-]+)*", part):
        raise ConfigError(f"--slurm-partition must be a partition name (or a comma list), got "
                          f"{part!r}")
    require_submitit(kind)
    missing = [t for t in ("sbatch", "srun") if shutil.which(t) is None] if kind == "slurm" else []
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ConfigError(f"--executor slurm: {' and '.join(missing)} {verb} not on PATH (not a "
                          f"SLURM login node?); submit from one, or use --executor local on this "
                          f"machine")


def require_submitit(kind: str):
    try:
        import submitit
    except ImportError:
        raise ConfigError(NO_SUBMITIT.format(kind=kind)) from None
    return submitit


def parameters(opts, name: str) -> dict:
    """submitit `update_parameters` keywords for a run with options `opts` (`RunOptions`; generic
    names, slurm_ prefix for SLURM-only ones)."""
    if opts.executor == "local":
        import torch
        # the local executor hides GPUs not asked for
        gpus = torch.cuda.device_count() if opts.device != "cpu" else 0
        return {"name": name, "timeout_min": LOCAL_TIMEOUT_MIN, "gpus_per_node": gpus}
    opt = {o: getattr(opts, o, None) for o in SLURM_OPTIONS}
    opt.update({k: v for k, v in SLURM_DEFAULTS.items() if opt[k] is None})
    p = {"name": name, "timeout_min": opt["slurm_time"],
         "cpus_per_task": opt["slurm_cpus_per_task"], "nodes": 1, "tasks_per_node": 1}
    if opt["slurm_gpus_per_node"]:  # 0: no GPU line (some SLURM versions refuse --gpus-per-node=0)
        p["gpus_per_node"] = opt["slurm_gpus_per_node"]
    if opt["slurm_mem_gb"] is not None:
        p["mem_gb"] = opt["slurm_mem_gb"]
    if opt["slurm_partition"] is not None:
        p["slurm_partition"] = opt["slurm_partition"]
    if opt["slurm_array_parallelism"] is not None:
        p["slurm_array_parallelism"] = opt["slurm_array_parallelism"]
    return p


def log_dir(opts) -> Path:
    return Path(opts.log_dir or RUNS_DIR / ("slurm" if opts.executor == "slurm" else "local"))


# ---------------------------------------------------------------- the plan


def _lpt(items, weights, bins: int) -> list[list]:
    """Largest first into the least loaded bin; each bin keeps the items' original order."""
    load, out = [0.0] * bins, [[] for _ in range(bins)]
    for i in sorted(range(len(items)), key=lambda i: -weights[i]):
        b = min(range(bins), key=lambda b: (load[b], b))
        load[b] += weights[i]
        out[b].append(i)
    return [[items[i] for i in sorted(b)] for b in out if b]


def _groups(todo: list[Config], universe: list[Config], job_of: dict) -> list[tuple]:
    """The configurations of `todo` that read checkpoints, grouped by the training run that writes
    them: [(index of the train job they need or None, configurations)], in first-seen order."""
    groups: dict = {}
    for c in todo:
        if c.stage == "train":
            continue
        p = producer(c, universe)
        need = job_of.get(p.config_id) if p is not None else None
        key = p.config_id if p is not None else c.checkpoint_key()
        groups.setdefault(key, (need, []))[1].append(c)
    return list(groups.values())


def _pack(groups: list[tuple], todo: list[Config], k: int, cost) -> list[tuple]:
    """The jobs' (needs, configurations): whole training runs packed into k jobs, or, with more jobs
    than runs, jobs shared out in proportion to each run's work and its configurations balanced
    over them."""
    if k <= len(groups):
        packed = _lpt(groups, [cost(cs) for _, cs in groups], k)
        order = {c.config_id: i for i, c in enumerate(todo)}
        return [([n for n, _ in b if n is not None],
                 sorted((c for _, cs in b for c in cs), key=lambda c: order[c.config_id]))
                for b in packed]
    share = [1] * len(groups)
    for _ in range(k - len(groups)):
        open_ = [g for g in range(len(groups)) if share[g] < len(groups[g][1])]
        if not open_:
            break
        g = max(open_, key=lambda g: (cost(groups[g][1]) / share[g], -g))
        share[g] += 1
    batches = []
    for (need, cs), n in zip(groups, share):
        for part in _lpt(cs, [cost([c]) for c in cs], n):
            batches.append(([need] if need is not None else [], part))
    return batches


def plan_jobs(todo: list[Config], universe: list[Config], n_jobs: int | None = None,
              device_kind: str = "cpu") -> list[Job]:
    """Jobs for the configurations `todo` (not yet committed) of the sweep `universe` (module
    docstring of `sgnlib.executors`)."""
    trains = [c for c in todo if c.stage == "train"]
    jobs = [Job(f"train {c.model} seed {c.seed}", [c]) for c in trains]
    groups = _groups(todo, universe, {c.config_id: i for i, c in enumerate(trains)})
    if not groups:
        return jobs
    cost = lambda cs: estimate_seconds(cs, device_kind)  # noqa: E731
    for needs, cs in _pack(groups, todo, n_jobs or len(groups), cost):
        needs = tuple(sorted(set(needs)))
        name = "after job " + ", ".join(map(str, needs)) if needs else "checkpoints on disk"
        jobs.append(Job(name, cs, needs))
    return jobs


def describe(jobs: list[Job], device_kind: str) -> list[str]:
    out = []
    for i, j in enumerate(jobs):
        minutes = j.estimate(device_kind) / 60
        out.append(f"job {i} ({j.name}): {len(j.configs)} configuration(s), ~{minutes:.1f} min")
        out += [f"    {c.config_id} {c.stage} {c.model}" for c in j.configs]
    return out


# ---------------------------------------------------------------- the worker


def run_job(spec: dict) -> dict:
    """One job, on the worker: a `Sweep` over spec["configs"] (dicts) into spec["results"].
    Plain data in and out, so submitit pickles it to any node."""
    from .stage_context import Context
    from .store import ResultStore
    t0 = time.perf_counter()
    cfgs = [Config.from_dict(d) for d in spec["configs"]]
    trains = [Config.from_dict(d) for d in spec["trains"]]
    ctx = Context(spec["device"], spec["checkpoints"])
    print(f"{spec['name']} on {socket.gethostname()} ({ctx.device}): {len(cfgs)} configuration(s)",
          flush=True)
    ran = Sweep(cfgs, ResultStore(spec["results"]), ctx, spec["runner"], spec["runs_dir"],
                spec["wait_s"], universe=cfgs + trains,
                notebooks=spec["notebooks"]).run(spec.get("deadline_s"))
    return {"ran": ran, "host": socket.gethostname(), "device": str(ctx.device),
            "wall_s": round(time.perf_counter() - t0, 1)}


def error_line(exc: BaseException) -> str:
    """The line that says why a job failed: the worker's exception (from submitit's trace) or the
    job state."""
    text = str(exc)
    rule = "-" * 22 + "\n"
    if text.count(rule) >= 2:  # FailedJobError: the worker's traceback between two rules
        lines = [ln for ln in text.split(rule)[1].splitlines() if ln.strip()]
        if lines:
            return re.sub(r"^(?:\w+\.)+(?=\w+: )", "", lines[-1].strip())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:2]) or type(exc).__name__


# ---------------------------------------------------------------- submit and wait
