"""Scale-out: run a checked sweep as jobs of submitit's local executor or of SLURM (`--executor local|slurm`).

    python -m sgnlib.sweep --preset paper --runner inprocess --executor slurm --slurm-partition gpu \
        --slurm-time 2-00:00:00 --jobs 8            # 4 training jobs, then 8 jobs reading their checkpoints
    python -m sgnlib.sweep --preset paper --executor slurm --jobs 8 --dry-run    # the job plan, nothing submitted
    python -m sgnlib.sweep --preset smoke --data-source synthetic --executor local  # the same jobs on this machine

Job plan. Checkpoints are the only dependencies between configurations, so the plan follows them:
every train configuration still to run is a job of its own, and the configurations that read its
checkpoints are spread over the remaining jobs (`--jobs K`, default one per training run), each job
needing (SLURM `--dependency=afterok:...`) only the train job(s) that write the checkpoints its
configurations read. Configurations whose checkpoints are already on disk need nothing. Jobs are
balanced by the engine's time estimate (largest first into the least loaded job, run in sweep order).

Why dependencies and not k shards started at once: the engine makes shards safe together (a shard
that needs a checkpoint waits for whoever trains it), but on a cluster that wait is a GPU allocation
held idle for the whole training (hours on the paper preset) and bounded by `--wait`. With afterok
dependencies a capture job is not even scheduled until its checkpoint exists; a failed training job
cancels its dependents (`kill_on_invalid_dep=yes`, and the driver scancels them) instead of leaving them
pending forever. The
local executor has no scheduler, so here the driver itself starts a job once the jobs it needs have
succeeded. Either way each job is an ordinary `Sweep` over its configurations into the shared results
folder, so the engine's claims and checkpoint waits still hold: nothing is computed twice or lost if a
dependency is ignored, the same command is run twice, or `--shard` runs are mixed in, and rerunning
the command resumes (committed configurations are skipped, only the rest is planned).

The driver waits for the jobs and reports, per job, the configurations committed, and for a failure the
job's error line and log path (exit status 1). SLURM jobs keep running if the driver is stopped.
`--deadline` applies to each job. Local jobs run at once with torch's default thread count, as an inline
run does, so their rows are the inline rows exactly (another thread count changes float reductions and
so a few histogram counts); set OMP_NUM_THREADS to share a small machine between jobs.
A job is `run_job(spec)`: a top-level function of plain data (configuration dicts, paths, the device
string, resolved on the worker: `auto` is the node's GPU), so it pickles to any node that sees the
repository, the results folder and the checkpoints (a shared filesystem, as for scripts/slurm_sweep.sh,
which stays the way to use SLURM without submitit).
"""
from __future__ import annotations

import re
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, ConfigError
from .engine import EngineError, Sweep, estimate_seconds, producer
from .paths import RUNS_DIR

EXECUTORS = ("inline", "local", "slurm")
SLURM_OPTIONS = ("slurm_partition", "slurm_gpus_per_node", "slurm_cpus_per_task", "slurm_time", "slurm_mem_gb",
                 "slurm_array_parallelism")
SLURM_DEFAULTS = {"slurm_gpus_per_node": 1, "slurm_cpus_per_task": 8, "slurm_time": 24 * 60}
SLURM_POLL_S = 30.0  # how often the driver looks at SLURM jobs (submitit's sacct watcher throttles further)
LOCAL_TIMEOUT_MIN = 30 * 24 * 60  # the local executor's default is 2 minutes; a local job is never cut short
NO_SUBMITIT = ("--executor {kind} needs submitit: pip install submitit (or pip install -e '.[slurm]'); "
               "without it, run one shard per SLURM array task: sbatch scripts/slurm_sweep.sh")


@dataclass
class Job:
    """One job of the plan: configurations run in this order by one `Sweep`, after the jobs in `needs`."""
    name: str
    configs: list = field(default_factory=list)
    needs: tuple = ()

    def estimate(self, device_kind: str) -> float:
        return estimate_seconds(self.configs, device_kind)


# ---------------------------------------------------------------- options


def slurm_minutes(text: str) -> int:
    """--slurm-time: minutes (1440) or SLURM's [D-]HH:MM[:SS] (1-00:00:00), as a positive number of minutes."""
    import argparse
    t = str(text).strip()
    m = re.fullmatch(r"(?:(\d+)-)?(\d+):(\d\d)(?::(\d\d))?", t)
    if re.fullmatch(r"\d+", t):
        minutes = int(t)
    elif m and int(m.group(3)) < 60 and int(m.group(4) or 0) < 60:
        d, h, mi, s = (int(g or 0) for g in m.groups())
        minutes = d * 1440 + h * 60 + mi + (1 if s else 0)
    else:
        raise argparse.ArgumentTypeError(f"must be minutes (e.g. 1440) or [D-]HH:MM[:SS] (e.g. 1-00:00:00), "
                                         f"got {text!r}")
    if minutes <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive time, got {text!r}")
    return minutes


def check_options(a) -> None:
    """Executor options that do not fit together, before anything is loaded or written (one-line errors)."""
    kind = a.executor
    if kind == "inline":
        given = [o for o in SLURM_OPTIONS + ("jobs", "log_dir") if getattr(a, o, None) is not None]
        if given:
            raise ConfigError(f"--{given[0].replace('_', '-')} needs --executor local or slurm (the default, inline, "
                              f"runs here in this process)")
        return
    if a.shard:
        raise ConfigError(f"--shard and --executor {kind} are alternatives: the executor plans the jobs itself "
                          f"(use --jobs K); --shard is for scripts/slurm_sweep.sh")
    if kind == "local":
        given = [o for o in SLURM_OPTIONS if getattr(a, o, None) is not None]
        if given:
            raise ConfigError(f"--{given[0].replace('_', '-')} applies to --executor slurm only")
    if a.slurm_partition is not None and not re.fullmatch(r"[\w.-]+(,[\w.-]+)*", a.slurm_partition):
        raise ConfigError(f"--slurm-partition must be a partition name (or a comma list), got {a.slurm_partition!r}")
    require_submitit(kind)
    missing = [t for t in ("sbatch", "srun") if shutil.which(t) is None] if kind == "slurm" else []
    if missing:
        raise ConfigError(f"--executor slurm: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not on "
                          f"PATH (not a SLURM login node?); submit from one, or use --executor local on this machine")


def require_submitit(kind: str):
    try:
        import submitit
    except ImportError:
        raise ConfigError(NO_SUBMITIT.format(kind=kind)) from None
    return submitit


def parameters(a, name: str) -> dict:
    """submitit `update_parameters` keywords for this run (generic names, slurm_ prefix for SLURM-only ones)."""
    if a.executor == "local":
        import torch
        gpus = torch.cuda.device_count() if a.device != "cpu" else 0  # the local executor hides GPUs not asked for
        return {"name": name, "timeout_min": LOCAL_TIMEOUT_MIN, "gpus_per_node": gpus}
    opt = {o: getattr(a, o, None) for o in SLURM_OPTIONS}
    opt.update({k: v for k, v in SLURM_DEFAULTS.items() if opt[k] is None})
    p = {"name": name, "timeout_min": opt["slurm_time"], "cpus_per_task": opt["slurm_cpus_per_task"], "nodes": 1,
         "tasks_per_node": 1}
    if opt["slurm_gpus_per_node"]:  # 0: no GPU line at all (some SLURM versions refuse --gpus-per-node=0)
        p["gpus_per_node"] = opt["slurm_gpus_per_node"]
    if opt["slurm_mem_gb"] is not None:
        p["mem_gb"] = opt["slurm_mem_gb"]
    if opt["slurm_partition"] is not None:
        p["slurm_partition"] = opt["slurm_partition"]
    if opt["slurm_array_parallelism"] is not None:
        p["slurm_array_parallelism"] = opt["slurm_array_parallelism"]
    return p


def log_dir(a) -> Path:
    return Path(getattr(a, "log_dir", None) or RUNS_DIR / ("slurm" if a.executor == "slurm" else "local"))


# ---------------------------------------------------------------- the plan


def _lpt(items, weights, bins: int) -> list[list]:
    """Largest first into the least loaded bin; each bin keeps the items' original order."""
    load, out = [0.0] * bins, [[] for _ in range(bins)]
    for i in sorted(range(len(items)), key=lambda i: -weights[i]):
        b = min(range(bins), key=lambda b: (load[b], b))
        load[b] += weights[i]
        out[b].append(i)
    return [[items[i] for i in sorted(b)] for b in out if b]


def plan_jobs(todo: list[Config], universe: list[Config], n_jobs: int | None = None,
              device_kind: str = "cpu") -> list[Job]:
    """Jobs for the configurations `todo` (not yet committed) of the sweep `universe` (see the module doc)."""
    trains = [c for c in todo if c.stage == "train"]
    jobs = [Job(f"train {c.model} seed {c.seed}", [c]) for c in trains]
    job_of = {c.config_id: i for i, c in enumerate(trains)}
    groups: dict = {}  # training run -> (the train job it needs or None, its configurations)
    for c in todo:
        if c.stage == "train":
            continue
        p = producer(c, universe)
        need = job_of.get(p.config_id) if p is not None else None
        groups.setdefault(p.config_id if p is not None else c.checkpoint_key(), (need, []))[1].append(c)
    if not groups:
        return jobs
    groups = list(groups.values())
    cost = lambda cs: estimate_seconds(cs, device_kind)  # noqa: E731
    k = n_jobs or len(groups)
    if k <= len(groups):  # whole training runs packed into k jobs
        packed = _lpt(groups, [cost(cs) for _, cs in groups], k)
        order = {c.config_id: i for i, c in enumerate(todo)}
        batches = [([n for n, _ in b if n is not None],
                    sorted((c for _, cs in b for c in cs), key=lambda c: order[c.config_id])) for b in packed]
    else:  # each training run gets jobs in proportion to its work, then its configurations are balanced
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
    for needs, cs in batches:
        needs = tuple(sorted(set(needs)))
        jobs.append(Job("after job " + ", ".join(map(str, needs)) if needs else "checkpoints on disk", cs, needs))
    return jobs


def describe(jobs: list[Job], device_kind: str) -> list[str]:
    out = []
    for i, j in enumerate(jobs):
        out.append(f"job {i} ({j.name}): {len(j.configs)} configuration(s), ~{j.estimate(device_kind) / 60:.1f} min")
        out += [f"    {c.config_id} {c.stage} {c.model}" for c in j.configs]
    return out


# ---------------------------------------------------------------- the worker


def run_job(spec: dict) -> dict:
    """One job, on the worker: a `Sweep` over spec["configs"] (dicts) into spec["results"].
    Plain data in and out, so submitit pickles it to any node."""
    from .stages import Context
    from .store import ResultStore
    t0 = time.perf_counter()
    cfgs = [Config.from_dict(d) for d in spec["configs"]]
    trains = [Config.from_dict(d) for d in spec["trains"]]
    ctx = Context(spec["device"], spec["checkpoints"])
    print(f"{spec['name']} on {socket.gethostname()} ({ctx.device}): {len(cfgs)} configuration(s)", flush=True)
    ran = Sweep(cfgs, ResultStore(spec["results"]), ctx, spec["runner"], spec["runs_dir"], spec["wait_s"],
                universe=cfgs + trains).run(spec.get("deadline_s"))
    return {"ran": ran, "host": socket.gethostname(), "device": str(ctx.device),
            "wall_s": round(time.perf_counter() - t0, 1)}


def error_line(exc: BaseException) -> str:
    """The line that says why a job failed: the worker's exception (from submitit's trace) or the job state."""
    text = str(exc)
    rule = "-" * 22 + "\n"
    if text.count(rule) >= 2:  # FailedJobError: the worker's traceback between two rules
        lines = [ln for ln in text.split(rule)[1].splitlines() if ln.strip()]
        if lines:
            return re.sub(r"^(?:\w+\.)+(?=\w+: )", "", lines[-1].strip())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:2]) or type(exc).__name__


# ---------------------------------------------------------------- submit and wait


def make_executor(kind: str, folder: Path, params: dict):
    submitit = require_submitit(kind)
    ex = submitit.AutoExecutor(folder=str(folder), cluster=kind)
    ex.update_parameters(**params)
    return ex


def _log_path(job, failed: bool) -> str:
    """The job's stdout (its sweep's progress), or its stderr (the traceback) when it failed."""
    try:
        return str(job.paths.stderr if failed else job.paths.stdout)
    except Exception:  # noqa: BLE001 - a job that never started may have no paths
        return "?"


def execute(jobs: list[Job], specs: list[dict], executor, kind: str, store, log=print,
            poll_s: float | None = None) -> list[dict]:
    """Submit `jobs` (SLURM: all at once with afterok dependencies; local: each once its needs succeeded),
    wait for all, and return one outcome per job: {"state": ok|failed|not run, "committed", "error", "log"}."""
    poll_s = poll_s if poll_s is not None else (1.0 if kind == "local" else SLURM_POLL_S)
    handles: dict[int, object] = {}
    outcome: dict[int, dict] = {}

    def finish(i, state, error="", logp=""):
        done = store.done()
        n = sum(c.config_id in done for c in jobs[i].configs)
        outcome[i] = {"state": state, "committed": n, "error": error, "log": logp}
        line = f"job {i} ({jobs[i].name}): {n}/{len(jobs[i].configs)} committed"
        if state == "ok":
            log(f"{line}, ok (log: {logp})")
        elif state == "failed":
            log(f"{line}, FAILED: {error} (log: {logp})")
        else:
            log(f"{line}, not run: {error}")

    def submit(idx: list[int]):
        if not idx:
            return
        if kind == "slurm":
            needs = sorted({n for i in idx for n in jobs[i].needs})
            if needs:
                executor.update_parameters(slurm_dependency="afterok:" + ":".join(handles[n].job_id for n in needs),
                                           slurm_additional_parameters={"kill_on_invalid_dep": "yes"})
        try:
            submitted = executor.map_array(run_job, [specs[i] for i in idx])
        except Exception as e:  # noqa: BLE001 - sbatch's refusal (bad partition, limits) as one line
            running = " ".join(h.job_id for h in handles.values())
            raise EngineError(f"submitting job(s) {', '.join(map(str, idx))} failed: {error_line(e)}"
                              + (f"; jobs already submitted keep running (ids {running})" if running else "")) from None
        for i, h in zip(idx, submitted):
            handles[i] = h
            log(f"submitted job {i} ({jobs[i].name}) as {kind} job {h.job_id}")

    def failed_needs(i):
        return [n for n in jobs[i].needs if n in outcome and outcome[n]["state"] != "ok"]

    try:
        if kind == "slurm":  # topological order; jobs needing the same jobs go in one array
            submit([i for i, j in enumerate(jobs) if not j.needs])
            by_needs: dict = {}
            for i, j in enumerate(jobs):
                if j.needs:
                    by_needs.setdefault(j.needs, []).append(i)
            for idx in by_needs.values():
                submit(idx)
            log(f"{len(jobs)} SLURM job(s) submitted; waiting for them (they keep running if this command stops: "
                f"rerun it to resume, or add --dry-run to see what is done)")
        while len(outcome) < len(jobs):
            ready = []
            for i in range(len(jobs)):
                if i in outcome:
                    continue
                failed = failed_needs(i)
                if failed:  # never started (local) or held by SLURM: cancel rather than wait on kill_on_invalid_dep
                    if i in handles and not handles[i].done():
                        handles[i].cancel(check=False)
                    finish(i, "not run", f"needs job {', '.join(map(str, failed))}, which did not succeed")
                elif i not in handles and all(n in outcome for n in jobs[i].needs):
                    ready.append(i)
            submit(ready)  # local only: SLURM jobs were all submitted above
            progressed = bool(ready)
            for i, h in list(handles.items()):
                if i in outcome or not h.done():
                    continue
                progressed = True
                exc = h.exception()
                if exc is None:
                    finish(i, "ok", logp=_log_path(h, False))
                else:
                    finish(i, "failed", error_line(exc), _log_path(h, True))
            if not progressed and len(outcome) < len(jobs):
                time.sleep(poll_s)
    except KeyboardInterrupt:
        running = [h for i, h in handles.items() if i not in outcome]
        if kind == "local":
            for h in running:
                h.cancel(check=False)
            log("interrupted: local jobs cancelled; rerun the command to resume")
        else:
            log(f"interrupted: the SLURM jobs keep running (scancel {' '.join(h.job_id for h in running)} "
                f"to stop them); rerun the command to see or resume the sweep")
        raise
    return [outcome[i] for i in range(len(jobs))]


def run(a, cfgs: list[Config], universe: list[Config], store, ctx, done: set, runs_dir: Path, log=print) -> int:
    """The CLI's `--executor local|slurm`: plan, print the plan (dry run) or submit, wait and report."""
    kind = a.executor
    device_kind = "cuda" if (kind == "slurm" and parameters(a, "").get("gpus_per_node")) \
        or ctx.device.type == "cuda" else "cpu"
    todo = [c for c in cfgs if c.config_id not in done]
    jobs = plan_jobs(todo, universe, a.jobs, device_kind)
    name = f"sgn-{store.folder.name}"
    params = parameters(a, name)
    folder = log_dir(a)
    if a.dry_run:
        for line in describe(jobs, device_kind):
            log(line)
        log(f"{len(cfgs)} configurations, {len(cfgs) - len(todo)} already done; {len(jobs)} {kind} job(s) "
            f"({sum(bool(j.needs) for j in jobs)} after training jobs); results: {store.folder}; "
            f"checkpoints: {ctx.checkpoint_dir}; logs: {folder}")
        log(f"submitit parameters: {params}")
        log("dry run: nothing submitted")
        return 0
    if not jobs:
        log(f"{store.folder}: all {len(cfgs)} configurations are committed; nothing to submit")
        return 0
    trains = [c.to_dict() for c in universe if c.stage == "train"]
    base = {"trains": trains, "results": str(Path(store.folder).resolve()),
            "checkpoints": str(Path(ctx.checkpoint_dir).resolve()), "device": a.device, "runner": a.runner,
            "runs_dir": str(Path(runs_dir).resolve()), "wait_s": a.wait, "deadline_s": a.deadline}
    specs = [{**base, "name": f"job {i} ({j.name})", "configs": [c.to_dict() for c in j.configs]}
             for i, j in enumerate(jobs)]
    executor = make_executor(kind, folder, params)
    t0 = time.perf_counter()
    try:
        outcomes = execute(jobs, specs, executor, kind, store, log)
    except KeyboardInterrupt:
        return 130
    bad = [i for i, o in enumerate(outcomes) if o["state"] != "ok"]
    now = store.done()
    log(f"{store.folder}: {sum(c.config_id in now for c in cfgs)} of {len(cfgs)} configurations committed "
        f"({len(jobs)} {kind} job(s), {time.perf_counter() - t0:.0f} s)")
    if bad:
        print(f"error: {len(bad)} of {len(jobs)} job(s) did not succeed (jobs {', '.join(map(str, bad))}); fix the "
              f"cause and rerun the same command: committed configurations are skipped", file=sys.stderr)
        return 1
    return 0
