"""Scale-out: run a checked sweep as jobs of submitit's local executor or of SLURM
(`--executor local|slurm`).

    python -m sgnlib.sweep --preset paper-recipe --executor slurm --slurm-partition gpu \
        --slurm-time 2-00:00:00 --jobs 8     # 4 training jobs, then 8 jobs reading checkpoints
    python -m sgnlib.sweep --preset paper-recipe --executor slurm --jobs 8 --dry-run  # the plan
    python -m sgnlib.sweep --preset smoke --data-source synthetic --executor local  # here

Job plan. Checkpoints are the only dependencies between configurations, so the plan follows them:
every train configuration still to run is a job of its own, and the configurations that read its
checkpoints are spread over the remaining jobs (`--jobs K`, default one per training run), each job
needing (SLURM `--dependency=afterok:...`) only the train job(s) that write the checkpoints its
configurations read. Configurations whose checkpoints are already on disk need nothing. Jobs are
balanced by the engine's time estimate (largest first into the least loaded job, run in sweep
order).

Why dependencies and not k shards started at once: the engine makes shards safe together (a shard
that needs a checkpoint waits for whoever trains it), but on a cluster that wait is a GPU allocation
held idle for the whole training (hours on the paper-recipe preset) and bounded by `--wait`. With
afterok dependencies a capture job is not even scheduled until its checkpoint exists; a failed
training job cancels its dependents (`kill_on_invalid_dep=yes`, and the driver scancels them)
instead of leaving them pending forever. The local executor has no scheduler, so here the driver
itself starts a job once the jobs it needs have succeeded. Either way each job is an ordinary
`Sweep` over its configurations into the shared results folder, so the engine's claims and
checkpoint waits still hold: nothing is computed twice or lost if a dependency is ignored, the same
command is run twice, or `--shard` runs are mixed in, and rerunning the command resumes (committed
configurations are skipped, only the rest is planned).

The driver waits for the jobs and reports, per job, the configurations committed, and for a failure
the job's error line and log path (exit status 1). SLURM jobs keep running if the driver is
stopped. `--deadline` applies to each job. Local jobs run at once with torch's default thread
count, as an inline run does, so their rows are the inline rows exactly (another thread count
changes float reductions and so a few histogram counts); set OMP_NUM_THREADS to share a small
machine between jobs. A job is `run_job(spec)`: a top-level function of plain data (configuration
dicts, paths, the device string, resolved on the worker: `auto` is the node's GPU), so it pickles
to any node that sees the repository, the results folder and the checkpoints (a shared filesystem,
as for scripts/slurm_sweep.sh, which stays the way to use SLURM without submitit).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .engine import EngineError

from .jobs import (  # noqa: F401  (the plan lives there; re-exported for callers)
    EXECUTORS, LOCAL_TIMEOUT_MIN, NO_SUBMITIT, SLURM_DEFAULTS, SLURM_OPTIONS, SLURM_POLL_S, Job,
    check_options, describe, error_line, log_dir, parameters, plan_jobs, require_submitit, run_job,
    slurm_minutes)


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


class _Driver:
    """Submits the jobs of one run and watches them until each has an outcome (`execute`)."""

    def __init__(self, jobs: list[Job], specs: list[dict], executor, kind: str, store, log):
        self.jobs, self.specs, self.executor, self.kind = jobs, specs, executor, kind
        self.store, self.log = store, log
        self.handles: dict[int, object] = {}
        self.outcome: dict[int, dict] = {}

    def finish(self, i: int, state: str, error: str = "", logp: str = "") -> None:
        """Record job i's outcome (ok | failed | not run) with its committed configurations."""
        done = self.store.done()
        n = sum(c.config_id in done for c in self.jobs[i].configs)
        self.outcome[i] = {"state": state, "committed": n, "error": error, "log": logp}
        line = f"job {i} ({self.jobs[i].name}): {n}/{len(self.jobs[i].configs)} committed"
        if state == "ok":
            self.log(f"{line}, ok (log: {logp})")
        elif state == "failed":
            self.log(f"{line}, FAILED: {error} (log: {logp})")
        else:
            self.log(f"{line}, not run: {error}")

    def submit(self, idx: list[int]) -> None:
        """Submit jobs idx as one array (SLURM: after the jobs they need, afterok)."""
        if not idx:
            return
        if self.kind == "slurm":
            needs = sorted({n for i in idx for n in self.jobs[i].needs})
            if needs:
                after = ":".join(self.handles[n].job_id for n in needs)
                self.executor.update_parameters(
                    slurm_dependency="afterok:" + after,
                    slurm_additional_parameters={"kill_on_invalid_dep": "yes"})
        try:
            submitted = self.executor.map_array(run_job, [self.specs[i] for i in idx])
        except Exception as e:  # noqa: BLE001 - sbatch's refusal (bad partition, limits): one line
            running = " ".join(h.job_id for h in self.handles.values())
            still = f"; jobs already submitted keep running (ids {running})" if running else ""
            raise EngineError(f"submitting job(s) {', '.join(map(str, idx))} failed: "
                              f"{error_line(e)}{still}") from None
        for i, h in zip(idx, submitted):
            self.handles[i] = h
            self.log(f"submitted job {i} ({self.jobs[i].name}) as {self.kind} job {h.job_id}")

    def submit_all(self) -> None:
        """SLURM: every job at once in topological order; jobs needing the same jobs in one
        array."""
        self.submit([i for i, j in enumerate(self.jobs) if not j.needs])
        by_needs: dict = {}
        for i, j in enumerate(self.jobs):
            if j.needs:
                by_needs.setdefault(j.needs, []).append(i)
        for idx in by_needs.values():
            self.submit(idx)
        self.log(f"{len(self.jobs)} SLURM job(s) submitted; waiting for them (they keep running if "
                 f"this command stops: rerun it to resume, or add --dry-run to see what is done)")

    def _failed_needs(self, i: int) -> list[int]:
        return [n for n in self.jobs[i].needs
                if n in self.outcome and self.outcome[n]["state"] != "ok"]

    def _start_ready(self) -> bool:
        """Give up on jobs whose needs failed; submit the local jobs whose needs succeeded."""
        ready = []
        for i in range(len(self.jobs)):
            if i in self.outcome:
                continue
            failed = self._failed_needs(i)
            if failed:  # never started (local) or held by SLURM: cancel, do not wait on SLURM
                if i in self.handles and not self.handles[i].done():
                    self.handles[i].cancel(check=False)
                self.finish(i, "not run", f"needs job {', '.join(map(str, failed))}, which did "
                                          f"not succeed")
            elif i not in self.handles and all(n in self.outcome for n in self.jobs[i].needs):
                ready.append(i)
        self.submit(ready)  # local only: SLURM jobs were all submitted before
        return bool(ready)

    def _collect(self) -> bool:
        """Record the jobs that ended since the last look."""
        progressed = False
        for i, h in list(self.handles.items()):
            if i in self.outcome or not h.done():
                continue
            progressed = True
            exc = h.exception()
            if exc is None:
                self.finish(i, "ok", logp=_log_path(h, False))
            else:
                self.finish(i, "failed", error_line(exc), _log_path(h, True))
        return progressed

    def step(self) -> bool:
        """One look at the jobs; whether anything changed."""
        started = self._start_ready()
        return self._collect() or started

    def interrupted(self) -> None:
        running = [h for i, h in self.handles.items() if i not in self.outcome]
        if self.kind == "local":
            for h in running:
                h.cancel(check=False)
            self.log("interrupted: local jobs cancelled; rerun the command to resume")
        else:
            self.log(f"interrupted: the SLURM jobs keep running (scancel "
                     f"{' '.join(h.job_id for h in running)} to stop them); rerun the command to "
                     f"see or resume the sweep")


def execute(jobs: list[Job], specs: list[dict], executor, kind: str, store, log=print,
            poll_s: float | None = None) -> list[dict]:
    """Submit `jobs` (SLURM: all at once with afterok dependencies; local: each once its needs
    succeeded), wait for all, and return one outcome per job: {"state": ok|failed|not run,
    "committed", "error", "log"}."""
    poll_s = poll_s if poll_s is not None else (1.0 if kind == "local" else SLURM_POLL_S)
    driver = _Driver(jobs, specs, executor, kind, store, log)
    try:
        if kind == "slurm":
            driver.submit_all()
        while len(driver.outcome) < len(jobs):
            if not driver.step() and len(driver.outcome) < len(jobs):
                time.sleep(poll_s)
    except KeyboardInterrupt:
        driver.interrupted()
        raise
    return [driver.outcome[i] for i in range(len(jobs))]


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
