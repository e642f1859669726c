"""Several trainings on one device at once, one spawned process each (`train_many`).

Small networks are launch-bound: one eager AlexNet leaves most of an H100 idle. Running several
`sgnlib.train.train` calls side by side lets them share the card. Each job is a process
(torch.multiprocessing, spawn) with its own CUDA context; the processes time-slice the GPU, and
kernels of different processes overlap only under NVIDIA MPS (`nvidia-cuda-mps-control -d` before
the run), so measure (benchmarks/bench_train.py) before relying on the gain. Jobs load their data,
wait for each other, then train, so their training loops overlap.
"""
from __future__ import annotations

import io
import itertools
import os
import queue as _queue
import statistics
import threading
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp

from .data import load_cifar10
from .train import train


def job_data(spec: dict | None, device):
    """(images, labels, info) for a job's `data` spec: keyword arguments of `load_cifar10`
    (default {"source": "auto"}), or {"random": n} for n random-normal images (benchmarks only)."""
    spec = dict(spec or {"source": "auto"})
    if "random" in spec:
        g = torch.Generator().manual_seed(int(spec.get("seed", 0)))
        n = int(spec["random"])
        x = torch.randn(n, 3, 32, 32, generator=g).to(device)
        return (
            x,
            torch.randint(0, 10, (n,), generator=g).to(device),
            {"source": f"random normal ({n} images)"},
        )
    return load_cifar10(device=device, **spec)


def _steady_img_per_s(history) -> float:
    """Median img/s over the epochs after the first (the first alone if there is only one)."""
    rates = [r["img_per_s"] for r in history]
    return statistics.median(rates[1:] if len(rates) > 1 else rates) if rates else float("nan")


def _worker(i, job, device, threads, barrier, results):
    started = []

    def ready():  # every job's step is prepared (compiled, captured): start the loops together
        started.append(time.time())
        try:
            barrier.wait(timeout=1800)
        except threading.BrokenBarrierError:
            pass  # another job failed: train anyway
        started[0] = time.time()

    try:
        if threads:
            torch.set_num_threads(threads)
        job = dict(job)
        name = job.pop("name", None) or f"{job['model_name']}#{i}"
        return_model = job.pop("return_model", False)
        x, y, info = job_data(job.pop("data", None), device)
        test = job.pop("test_data", None)
        test = job_data(test, device)[:2] if test else None
        t0 = time.time()
        out = train(train_data=(x, y), test_data=test, device=device, data_info=info,
                    progress=job.pop("progress", False), ready=ready, **job)
        t1 = time.time()
        if not started:  # finished from its checkpoint without training: release the others
            ready()
        resumed = out.get(
            "resumed_from"
        )  # rows of epochs trained before this call are not timed here
        done = int(Path(resumed).stem.rsplit("epoch", 1)[1]) if resumed else 0
        h = [r for r in out["history"] if r["epoch"] > done]
        start = started[0]
        ends = [
            start + e for e in itertools.accumulate(r["epoch_s"] for r in h)
        ]  # epoch ends (approx.)
        row = {
            "name": name,
            "model": job["model_name"],
            "seed": job.get("seed", 0),
            "step": out.get("step"),
            "n_images": int(x.shape[0]),
            "epochs": len(h),
            "img_per_s": _steady_img_per_s(h),
            "setup_s": out.get("setup_s", 0.0),
            "train_s": t1 - t0,
            "start": start,
            "end": t1,
            "epoch_ends": ends,
            "history": h,
            "final_train_loss": h[-1]["train_loss"] if h else None,
            "checkpoints": out["checkpoints"],
        }
        if (
            return_model
        ):  # as bytes: shared-memory tensors would need this process alive when received
            buf = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in out["model"].state_dict().items()}, buf)
            row["state_dict"] = buf.getvalue()
        results.put((i, row))
    except BaseException as e:  # noqa: BLE001 -- reported to the parent, which raises
        barrier.abort()
        results.put((i, {"error": f"{type(e).__name__}: {e}"}))


def _overlap_rate(row, until: float) -> float:
    """img/s over the epochs after the first that ended by `until` (all jobs still training), or
    nan."""
    k = [j for j, e in enumerate(row["epoch_ends"]) if j > 0 and e <= until]
    return (
        len(k) * row["n_images"] / sum(row["history"][j]["epoch_s"] for j in k)
        if k
        else float("nan")
    )


def train_many(
    jobs: list[dict], device="cuda", *, threads: int | None = None, timeout: float | None = None
) -> dict:
    """Run several `train` calls at once, one process each, on one device; return their throughput.

    jobs: dicts of `train` keyword arguments (model_name, recipe, seed, fast, amp, checkpoint_dir,
    ...) plus optional "name", "data" (see `job_data`; default CIFAR-10 "auto"), "test_data" (same
    form) and "return_model" (True: the result carries the final state_dict, `torch.save` bytes:
    read it with `torch.load(io.BytesIO(b), weights_only=True)`). threads: torch threads per process
    (default on CPU: the cores divided among the jobs). timeout: seconds before stragglers are
    killed. The jobs prepare their steps (compile, capture) in parallel, then start their epoch
    loops together (`train`'s `ready` hook). Returns {"device", "jobs": [{name, model, step,
    img_per_s (median over epochs after the first), img_per_s_overlap (epochs after the first that
    ended while every job was still training; nan if none), setup_s, train_s, history, ...}],
    "total_img_per_s" (sum of img_per_s), "total_img_per_s_overlap", "wall_s", "overlap_s" (how long
    all loops ran at once)}. Size the jobs to take similar time for a fair "together" number. A
    failed job raises RuntimeError naming it.
    """
    if not jobs:
        raise ValueError("train_many needs at least one job")
    device = str(torch.device(device))
    if threads is None and torch.device(device).type == "cpu":
        threads = max(1, (os.cpu_count() or 1) // len(jobs))
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    t0 = time.time()
    procs = [
        ctx.Process(target=_worker, args=(i, job, device, threads, barrier, results))
        for i, job in enumerate(jobs)
    ]
    for p in procs:
        p.start()
    got = {}
    try:
        while len(got) < len(jobs):
            left = None if timeout is None else max(0.0, t0 + timeout - time.time())
            try:
                i, row = results.get(timeout=5 if left is None else min(5.0, left))
                got[i] = row
            except _queue.Empty:
                if (left is not None and left <= 0) or not any(p.is_alive() for p in procs):
                    break
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()
    wall = time.time() - t0
    failed = {
        i: got.get(i, {"error": f"no result (exit code {procs[i].exitcode})"})
        for i in range(len(jobs))
        if "error" in got.get(i, {"error": ""})
    }
    if failed:
        raise RuntimeError(
            "train_many: "
            + "; ".join(
                f"job {i} ({jobs[i].get('model_name')}): {r['error']}" for i, r in failed.items()
            )
        )
    rows = [got[i] for i in range(len(jobs))]
    first_end = min(r["end"] for r in rows)
    for r in rows:
        r["img_per_s_overlap"] = _overlap_rate(r, first_end)
    return {"device": device, "jobs": rows, "total_img_per_s": sum(r["img_per_s"] for r in rows),
            "total_img_per_s_overlap": sum(r["img_per_s_overlap"] for r in rows),
            "wall_s": wall, "overlap_s": first_end - max(r["start"] for r in rows)}
