"""Scale-out: run a checked sweep as jobs of submitit's local executor or of SLURM (`--executor local|slurm`).

    python -m sgnlib.sweep --preset paper-recipe --runner inprocess --executor slurm --slurm-partition gpu \
        --slurm-time 2-00:00:00 --jobs 8            # 4 training jobs, then 8 jobs reading their checkpoints
    python -m sgnlib.sweep --preset paper-recipe --executor slurm --jobs 8 --dry-run  # the job plan, nothing submitted
    python -m sgnlib.sweep --preset smoke --data-source synthetic --executor local  # the same jobs on this machine

Job plan. Checkpoints are the only dependencies between configurations, so the plan follows them:
every train configuration still to run is a job of its own, and the configurations that read its
checkpoints are spread over the remaining jobs (`--jobs K`, default one per training run), each job
needing (SLURM `--dependency=afterok:...`) only the train job(s) that write the checkpoints its
configurations read. Configurations whose checkpoints are already on disk need nothing. Jobs are
balanced by the engine's time estimate (largest first into the least loaded job, run in sweep order).

Why dependencies and not k shards started at once: the engine makes shards safe together (a shard
that needs a checkpoint waits for whoever trains it), but on a cluster that wait is a GPU allocation
held idle for the whole training (hours on the paper-recipe preset) and bounded by `--wait`. With afterok
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

import sys
import time
from pathlib import Path

from .engine import EngineError

from .jobs import (  # noqa: F401  (the plan lives there; re-exported for callers)
    EXECUTORS, LOCAL_TIMEOUT_MIN, NO_SUBMITIT, SLURM_DEFAULTS, SLURM_OPTIONS, SLURM_POLL_S, Job, check_options,
    describe, error_line, log_dir, parameters, plan_jobs, require_submitit, run_job, slurm_minutes)


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


def job_specs(opts, p, jobs: list[Job], runs_dir: Path) -> list[dict]:
    """What each job runs, as plain data (`jobs.run_job`): its configurations and the run's folders,
    device and runner."""
    trains = [c.to_dict() for c in p.universe if c.stage == "train"]
    base = {"trains": trains, "results": str(Path(p.store.folder).resolve()),
            "checkpoints": str(Path(p.ctx.checkpoint_dir).resolve()), "device": opts.device,
            "runner": opts.runner, "notebooks": opts.notebooks,
            "runs_dir": str(Path(runs_dir).resolve()), "wait_s": opts.wait,
            "deadline_s": opts.deadline}
    return [{**base, "name": f"job {i} ({j.name})", "configs": [c.to_dict() for c in j.configs]}
            for i, j in enumerate(jobs)]


def _dry_run(opts, p, jobs: list[Job], device_kind: str, params: dict, folder: Path, log) -> int:
    for line in describe(jobs, device_kind):
        log(line)
    log(f"{len(p.configs)} configurations, {len(p.configs) - len(p.todo())} already done; "
        f"{len(jobs)} {opts.executor} job(s) ({sum(bool(j.needs) for j in jobs)} after training "
        f"jobs); results: {p.store.folder}; checkpoints: {p.ctx.checkpoint_dir}; logs: {folder}")
    log(f"submitit parameters: {params}")
    log("dry run: nothing submitted")
    return 0


def _report(outcomes: list[dict], p, jobs: list[Job], kind: str, t0: float, log) -> int:
    bad = [i for i, o in enumerate(outcomes) if o["state"] != "ok"]
    now = p.store.done()
    log(f"{p.store.folder}: {sum(c.config_id in now for c in p.configs)} of {len(p.configs)} "
        f"configurations committed ({len(jobs)} {kind} job(s), {time.perf_counter() - t0:.0f} s)")
    if bad:
        print(f"error: {len(bad)} of {len(jobs)} job(s) did not succeed (jobs "
              f"{', '.join(map(str, bad))}); fix the cause and rerun the same command: committed "
              f"configurations are skipped", file=sys.stderr)
        return 1
    return 0


def run(opts, p, runs_dir: Path, log=print) -> int:
    """The CLI's `--executor local|slurm` for the checked plan `p` (`sgnlib.planner.Plan`) of the
    run options `opts` (`RunOptions`): plan the jobs, print them (dry run) or submit, wait and
    report."""
    kind = opts.executor
    gpus = kind == "slurm" and parameters(opts, "").get("gpus_per_node")
    device_kind = "cuda" if gpus or p.ctx.device.type == "cuda" else "cpu"
    jobs = plan_jobs(p.todo(), p.universe, opts.jobs, device_kind)
    params = parameters(opts, f"sgn-{p.store.folder.name}")
    folder = log_dir(opts)
    if opts.dry_run:
        return _dry_run(opts, p, jobs, device_kind, params, folder, log)
    if not jobs:
        log(f"{p.store.folder}: all {len(p.configs)} configurations are committed; nothing to "
            f"submit")
        return 0
    specs = job_specs(opts, p, jobs, runs_dir)
    executor = make_executor(kind, folder, params)
    t0 = time.perf_counter()
    try:
        outcomes = execute(jobs, specs, executor, kind, p.store, log)
    except KeyboardInterrupt:
        return 130
    return _report(outcomes, p, jobs, kind, t0, log)
