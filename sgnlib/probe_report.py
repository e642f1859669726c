"""`report()`: the gradient noise of any PyTorch model, as one HTML page and CSV tables.

`compute()` checks every input first (one `CaptureArgumentError` line, before any gradient), then
for each batch size runs the capture of `sgnlib.capture.probe` -- the same minibatches for the same
seed, hence the same numbers -- keeping each layer's tail-index histogram
(`sgnlib.tail_histogram`, the book's Figs 7 and 9), and finally beta/sigma^3 from per-sample
gradients of the model's own loss (`sgnlib.capture.per_sample_moments`, histogram as
`sgnlib.stages.moments`).

Layer names: one of the book's networks keeps the paper's names ("Layer 1", "Block 1 Layer 2");
any other model's weight layers are named by their module names ("features.0", "fc") here, and
`layers=` takes those names. `report()` writes the page (`sgnlib.probe_html`) and the tables into a
temporary folder beside `out` and renames it into place when everything is written: a run that
fails or is interrupted leaves no `out` folder behind.
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
import torch.nn as nn

from .capture import gaussianity_of_noise, per_sample_moments
from .models import SUPPORTED
from .probe import capture_layers, check_capture_args, check_data, check_loss
from .probe_inputs import ProbeInputError
from .provenance import provenance
from .stages.moments import ratio_histogram
from .tail_histogram import tail_index_histogram

BATCH_SIZES = (32, 128, 512)
N_SAMPLES = 1000
G_COLUMNS = ["layer", "batch_size", "n_batches", "d", "gauss_pct_incl_degenerate",
             "gauss_pct_excl_degenerate", "gauss_pct_fdr", "degenerate_pct", "null_ceiling_pct",
             "significance_level", "seed", "grad_s", "shapiro_s"]


@dataclass
class ProbeResult:
    """The tables of one probe, its settings and timings (seconds), and where it was written."""
    gaussianity: pd.DataFrame
    tail_index: pd.DataFrame
    beta_sigma3: pd.DataFrame | None
    settings: dict
    timings: dict
    provenance: dict = field(default_factory=dict)
    path: Path | None = None


@contextlib.contextmanager
def module_names(model: nn.Module):
    """While open, `sgnlib.models.weight_layers` names a model's weight layers by their module
    names (one of the book's networks, which has `paper_layers`, keeps the paper's names)."""
    inner = getattr(model, "_orig_mod", model)
    if hasattr(inner, "paper_layers"):
        yield
        return
    mods = [(name or "<root>", m) for name, m in inner.named_modules()
            if isinstance(m, SUPPORTED) and isinstance(m.weight, nn.Parameter)]
    inner.paper_layers = lambda: [(name, m.weight) for name, m in mods]
    try:
        yield
    finally:
        del inner.paper_layers


def _batch_sizes(batch_sizes) -> list[int]:
    sizes = [batch_sizes] if isinstance(batch_sizes, int) else list(batch_sizes)
    if not sizes:
        raise ProbeInputError("no batch size given; give at least one, e.g. 32 128 512")
    return sorted(set(sizes), key=sizes.index)


def _check_per_sample(model, loss_fn, images, labels, names) -> None:
    """Per-sample gradients (torch.func) on 2 examples, so a model or loss vmap cannot run is
    refused before the capture rather than after it."""
    try:
        per_sample_moments(model, images[:2], labels[:2], n_samples=2, chunk=2, layers=names,
                           loss_fn=loss_fn)
    except Exception as e:  # noqa: BLE001 -- any failure: one line, with the way around it
        raise ProbeInputError(f"per-sample gradients (torch.func.vmap, for beta/sigma^3) fail: "
                              f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}; "
                              f"use n_samples=0 (--n-samples 0) to skip them") from None


def check_inputs(model, loss_fn, images, labels, batch_sizes, n_batches, layers, level,
                 n_samples) -> tuple[list[int], list[str], int]:
    """Every check of `probe()` for every batch size, plus the tail index's (n_batches >= 4) and
    beta/sigma^3's (2 <= n_samples <= the number of examples, or 0 to skip). Returns the batch
    sizes (duplicates dropped), the captured layer names and n_samples."""
    check_data(images, labels, level)
    sizes = _batch_sizes(batch_sizes)
    for bs in sizes:
        check_capture_args(bs, n_batches, len(images))
    if n_batches < 4:
        raise ProbeInputError(f"n_batches must be at least 4 for the tail index, got {n_batches}")
    if isinstance(layers, str):
        layers = [layers]
    named = capture_layers(model, layers)
    check_loss(model, loss_fn, images, labels, named)
    names = [name for name, _ in named]
    n_samples = min(N_SAMPLES, len(images)) if n_samples is None else n_samples
    if not isinstance(n_samples, int) or n_samples == 1 or not 0 <= n_samples <= len(images):
        raise ProbeInputError(f"n_samples must be 0 (skip beta/sigma^3) or 2..{len(images)} "
                              f"(the number of examples), got {n_samples!r}")
    if n_samples:
        _check_per_sample(model, loss_fn, images, labels, names)
    return sizes, names, n_samples


def _capture(model, loss_fn, images, labels, bs, n_batches, names, seed, level, progress):
    t0 = time.perf_counter()
    table, extras = gaussianity_of_noise(model, loss_fn, images, labels, bs, n_batches, names,
                                         seed, level, keep=tail_index_histogram, progress=progress)
    table = table.assign(batch_size=bs, n_batches=n_batches, seed=seed, grad_s=extras["grad_s"],
                         shapiro_s=extras["shapiro_s"])[G_COLUMNS]
    tail = pd.concat(extras["kept"].values(), ignore_index=True)
    tail.insert(1, "batch_size", bs)
    tail.insert(2, "n_batches", n_batches)
    return table, tail, time.perf_counter() - t0


def _moments(model, loss_fn, images, labels, n_samples, names, seed):
    chunk = 256 if images.device.type == "cuda" else 64
    res = per_sample_moments(model, images, labels, n_samples, chunk, names, seed, loss_fn=loss_fn)
    table = pd.DataFrame([r for layer, m in res.items() for r in ratio_histogram(layer, m)])
    table.insert(1, "n_samples", n_samples)
    return table


def _peak_memory(device) -> dict:
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.device(device).type == "cuda":
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
    return out


def compute(model, loss_fn, images, labels, batch_sizes=BATCH_SIZES, n_batches: int = 200,
            layers=None, level: float = 0.05, seed: int = 0, n_samples: int | None = None,
            progress: bool = False) -> ProbeResult:
    """The tables of the module docstring (no files). n_samples: examples for beta/sigma^3
    (None: min(1000, examples), 0: skip). progress: tqdm bars with time estimates."""
    from tqdm.auto import tqdm
    t_start = time.perf_counter()
    with module_names(model):
        sizes, names, n_samples = check_inputs(model, loss_fn, images, labels, batch_sizes,
                                               n_batches, layers, level, n_samples)
        steps = [f"batch size {bs}" for bs in sizes] + (["beta/sigma^3"] if n_samples else [])
        g, t, m, timings = [], [], None, {}
        for step in tqdm(steps, desc="sgn-probe", unit="step", disable=not progress):
            if step.startswith("batch"):
                bs = int(step.split()[-1])
                table, tail, timings[step] = _capture(model, loss_fn, images, labels, bs,
                                                      n_batches, names, seed, level, progress)
                g.append(table)
                t.append(tail)
            else:
                t0 = time.perf_counter()
                m = _moments(model, loss_fn, images, labels, n_samples, names, seed)
                timings[step] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    settings = {"batch_sizes": sizes, "n_batches": n_batches, "layers": names, "level": level,
                "seed": seed, "n_samples": n_samples, "n_examples": len(images),
                "loss": getattr(loss_fn, "__name__", type(loss_fn).__name__),
                "model": type(getattr(model, "_orig_mod", model)).__name__,
                "dtype": str(images.dtype).replace("torch.", ""),
                "device": str(images.device), **_peak_memory(images.device)}
    return ProbeResult(pd.concat(g, ignore_index=True), pd.concat(t, ignore_index=True), m,
                       settings, timings)


def _folder(out, force: bool) -> Path:
    """A new temporary folder beside `out` (checked writable before any compute)."""
    out = Path(out)
    if out.exists() and not (force and out.is_dir()):
        raise ProbeInputError(f"{out} exists; choose another output folder or use --force "
                              f"(force=True) to replace it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as e:
        raise ProbeInputError(f"cannot write beside {out}: {e.strerror}; choose another "
                              f"output folder") from None


def _write(result: ProbeResult, folder: Path) -> None:
    from .probe_figures import figures
    from .probe_html import page
    t0 = time.perf_counter()
    figs = figures(result)
    result.timings["figures"] = time.perf_counter() - t0
    cols = {k: result.provenance.get(k) for k in ("git_commit", "date", "device", "torch_version")}
    tables = {"gaussianity": result.gaussianity, "tail_index": result.tail_index,
              "beta_sigma3": result.beta_sigma3}
    for name, table in tables.items():
        if table is not None:
            table.assign(**cols).to_csv(folder / f"{name}.csv", index=False)
    (folder / "provenance.json").write_text(json.dumps(
        {**result.provenance, "settings": result.settings, "timings_s": result.timings}, indent=1))
    (folder / "report.html").write_text(page(result, figs), encoding="utf-8")


def _move_into_place(tmp: Path, out: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp made it private; the report is a normal folder
    old = None
    if out.exists():  # force: the old folder goes only once the new one is complete
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
    os.rename(tmp, out)
    if old is not None:
        shutil.rmtree(old)


def report(model, loss_fn, images, labels, out="sgn-probe-report", batch_sizes=BATCH_SIZES,
           n_batches: int = 200, layers=None, level: float = 0.05, seed: int = 0,
           n_samples: int | None = None, force: bool = False, progress: bool = False,
           source: str | None = None, data: str | None = None, data_info: dict | None = None,
           command: str | None = None) -> ProbeResult:
    """`compute()`, then the folder `out`: report.html (tables, figures, methods, provenance),
    gaussianity.csv, tail_index.csv, beta_sigma3.csv and provenance.json, written atomically.
    source / data: how the model and the data were obtained (shown in the report); command: the
    command line that ran it (default: this Python call)."""
    out = Path(out)
    tmp = _folder(out, force)
    try:
        result = compute(model, loss_fn, images, labels, batch_sizes, n_batches, layers, level,
                         seed, n_samples, progress)
        result.provenance = {**provenance(images.device, data_info),
                             "command": command or "sgnlib.probe_report.report(...) in Python",
                             "source": source or f"a {result.settings['model']} in Python",
                             "data": data or f"{len(images)} examples given as tensors"}
        _write(result, tmp)
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.path = out
    return result
