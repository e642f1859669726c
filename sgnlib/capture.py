"""Capturing stochastic gradient noise at a fixed theta (paper eq 2-3, 15-18).

Which images form the minibatches: `sgnlib.sampling` (re-exported here); by default consecutive
blocks of seeded shuffled passes over the training set.

Each minibatch gradient is the one the optimizer would see (eq 2), computed under
`sgnlib.kernels.exact_kernels` (no cuDNN on CUDA: exact zeros stay exact, so point masses count
alike at every batch size). Modes: every submodule's `training` flag is saved and restored one by
one. If the model's root is in train mode the modes are used as the user set them (a frozen
BatchNorm in eval mode uses its running statistics, a Dropout left in eval mode stays off); if the
root is in eval mode (e.g. after evaluation) the whole model is switched to train mode for the
capture (BatchNorm uses batch statistics). The BatchNorm running statistics and
num_batches_tracked are restored afterwards, so capturing never changes the model. Weight layers:
`sgnlib.probe.capture_layers` (`models.weight_layers`: Conv1d/2d/3d, ConvTranspose, Linear weights;
tied weights once, frozen weights skipped).

Per weight layer the gradients form an [n_batches, d] matrix; the noise eq 3 is that matrix minus
its column mean, and the Shapiro-Wilk test is shift invariant, so the matrix is tested directly.
Memory: layers are split into groups whose matrices fit `max_bytes` (4 GB on the CPU, 40 % of free
GPU memory), and each group gets its own pass over the same minibatches (recomputed, not stored).
Each stored gradient row is summed on the device (NaN/inf propagate) and the sums are read back
once per `check_every` minibatches, so the loop does not wait for the GPU after every step.

Per-sample gradients (for beta / sigma^3, eq 17-21): `sgnlib.per_sample` (re-exported here).
"""
from __future__ import annotations

import time

import pandas as pd
import torch

from .augmentation import augment as augment_images
from .hyperparameters import (AUGMENT_SEED_OFFSET, CAPTURE_PROTOCOL, PROBE_BATCH_SIZE,
                              PROBE_N_BATCHES, PROTOCOL_CHOICES, SIGNIFICANCE_LEVEL)
from .kernels import exact_kernels
from .per_sample import per_sample_moments  # noqa: F401  (the moments stages' per-sample gradients)
from .probe import (CaptureArgumentError, capture_layers, check_capture_args,  # noqa: F401
                    check_data, check_loss, restore_modes, save_modes)
from .sampling import SAMPLINGS, minibatch_indices, sampled_indices  # noqa: F401
from .stats import gaussianity, shapiro_wilk


class NonFiniteGradientError(RuntimeError):
    """A minibatch gradient with NaN or inf, naming the layer and the minibatch."""


BN_MODES = PROTOCOL_CHOICES["bn"]


def _group_layers(named, n_batches, max_bytes):
    groups, cur, size = [], [], 0
    for name, p in named:
        b = n_batches * p.numel() * 4
        if cur and size + b > max_bytes:
            groups.append(cur)
            cur, size = [], 0
        cur.append((name, p))
        size += b
    return groups + ([cur] if cur else [])


def auto_max_bytes(device) -> float:
    """Memory budget for the gradient matrices: 4 GB on the CPU (a 24 GB box also runs the tests
    next to them), 40 % of the free memory on a GPU (the rest is for Shapiro-Wilk's sort
    buffers)."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(0.4 * free, 1e9)
    return 4e9


def _check_finite(sums, mats, names, start, stop, batch_size):
    """Raise for the first minibatch in [start, stop) with a NaN/inf gradient, naming its first
    layer.

    `sums[b, j]` is the sum of layer j's gradient at minibatch b: NaN/inf propagate into it, so one
    read-back covers the whole block. A non-finite sum is confirmed on the stored row before raising
    (a sum of finite values could in principle overflow)."""
    if bool(torch.isfinite(sums[start:stop]).all()):
        return
    bad = torch.nonzero(~torch.isfinite(sums[start:stop].cpu())).tolist()
    for row, col in bad:  # minibatch order
        if not bool(torch.isfinite(mats[names[col]][start + row]).all()):
            raise NonFiniteGradientError(f"NaN/inf gradient in layer {names[col]!r} at minibatch "
                                         f"{start + row} (batch_size={batch_size}); check the "
                                         f"checkpoint and the data")


def _minibatch_gradient(model, loss_fn, x, y, params, opt=None):
    """One minibatch gradient of `params` (eq 2) under `exact_kernels`; with an optimizer it goes
    through backward() into .grad, for the step that follows."""
    with exact_kernels():
        loss = loss_fn(model(x), y)
        if opt is None:
            return torch.autograd.grad(loss, params)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        return [p.grad for p in params]


def _check_options(batch_size, n_batches, n_data, check_every, bn, sampling) -> None:
    check_capture_args(batch_size, n_batches, n_data)
    if check_every < 1:
        raise CaptureArgumentError(f"check_every must be >= 1, got {check_every}")
    if bn not in BN_MODES:
        raise CaptureArgumentError(f"unknown bn mode {bn!r}; choose one of {BN_MODES}")
    if sampling not in SAMPLINGS:
        raise CaptureArgumentError(f"unknown sampling {sampling!r}; choose one of {SAMPLINGS}")


def _set_capture_modes(model, bn: str) -> None:
    """Train mode unless the user set modes on a train-mode model; bn="running": every BatchNorm
    in eval mode."""
    if not model.training:  # e.g. after evaluation: train mode throughout; else the user's modes
        model.train()
    if bn == "running":
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


def _group_matrices(model, loss_fn, images, labels, group, idx, aug_gen, opt, out_device,
                    check_every: int, progress: bool) -> dict:
    """One layer group's {layer: [n_batches, d]} gradient matrices over the minibatches `idx`
    (finite checks once per `check_every` minibatches; with `opt`, a step after each)."""
    n_batches, batch_size = idx.shape
    mats = {name: torch.empty(n_batches, p.numel(), device=out_device, dtype=p.dtype)
            for name, p in group}
    names = [name for name, _ in group]
    params = [p for _, p in group]
    sums = torch.empty(n_batches, len(group), device=out_device, dtype=params[0].dtype)
    start = 0
    it = range(n_batches)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc=f"capture bs={batch_size}", leave=False)
    for b in it:
        x = images[idx[b]] if aug_gen is None else augment_images(images[idx[b]], aug_gen)
        grads = _minibatch_gradient(model, loss_fn, x, labels[idx[b]], params, opt)
        for j, (name, g) in enumerate(zip(names, grads)):
            row = mats[name][b]
            row.copy_(g.reshape(-1))
            torch.sum(row, dim=0, out=sums[b, j])  # stays on the device, no sync
        if opt is not None:
            opt.step()
        if b + 1 - start == check_every or b + 1 == n_batches:
            _check_finite(sums, mats, names, start, b + 1, batch_size)  # one sync per block
            start = b + 1
    return mats


def minibatch_gradients(model, loss_fn, images, labels, batch_size: int, n_batches: int,
                        layers=None, seed: int = 0, max_bytes: float | None = None,
                        out_device=None, progress: bool = False, check_every: int = 64,
                        sampling: str = CAPTURE_PROTOCOL["sampling"],
                        augment: bool = CAPTURE_PROTOCOL["augment"],
                        bn: str = CAPTURE_PROTOCOL["bn"], trajectory=None):
    """Yield ({layer: [n_batches, d] gradient matrix}) per layer group; see the module docstring.

    Protocol options (defaults: `CAPTURE_PROTOCOL`): `sampling` (see `sampled_indices`); `augment`
    applies the training crop + flip (`sgnlib.augmentation.augment`, seeded from `seed`) to each
    minibatch; bn="running" puts every BatchNorm in eval mode (running statistics) instead of
    batch statistics. The matrices have the parameters' dtype (float64 capture: a float64 model
    and images). trajectory: None (theta fixed, eq 3) or a callable(parameters) -> optimizer; each
    minibatch gradient is then followed by one step of it, so the rows are consecutive SGD steps
    along the training trajectory (each layer group replays the same steps, bitwise on the CPU; on
    CUDA non-deterministic kernels can make groups drift apart by rounding; theta and every .grad
    are restored afterwards).

    max_bytes: budget for one group's matrices (None: `auto_max_bytes`). Every gradient is checked
    for NaN/inf through its sum, kept on the device and read back once per block of `check_every`
    minibatches, not per layer per minibatch: a host-device sync in the loop stalls the GPU.
    A NaN is reported at most `check_every` minibatches after it occurs, naming layer and minibatch.
    """
    _check_options(batch_size, n_batches, images.shape[0], check_every, bn, sampling)
    named = capture_layers(model, layers)
    dev = images.device
    out_device = out_device or dev
    max_bytes = auto_max_bytes(out_device) if max_bytes is None else max_bytes
    buffers = {k: v.clone() for k, v in model.state_dict().items()
               if trajectory is not None or "running" in k or "num_batches" in k}
    grads_before = [(p, p.grad) for p in model.parameters()] if trajectory is not None else []
    modes = save_modes(model)
    _set_capture_modes(model, bn)
    try:
        for group in _group_layers(named, n_batches, max_bytes):
            gen = torch.Generator(device=dev).manual_seed(seed)
            idx = sampled_indices(images.shape[0], batch_size, n_batches, gen, dev, sampling)
            aug_gen = None
            if augment:
                aug_gen = torch.Generator(device=dev).manual_seed(seed + AUGMENT_SEED_OFFSET)
            opt = None
            if trajectory is not None:  # every group starts from the same theta and optimizer state
                model.load_state_dict({**model.state_dict(), **buffers})
                opt = trajectory(model.parameters())
            yield _group_matrices(model, loss_fn, images, labels, group, idx, aug_gen, opt,
                                  out_device, check_every, progress)
    finally:
        model.load_state_dict({**model.state_dict(), **buffers})
        for p, g in grads_before:
            p.grad = g
        restore_modes(modes)


def gaussianity_of_noise(model, loss_fn, images, labels, batch_size: int, n_batches: int,
                         layers=None, seed: int = 0, level: float = SIGNIFICANCE_LEVEL,
                         max_bytes: float | None = None, keep=None, progress: bool = False,
                         **protocol) -> tuple[pd.DataFrame, dict]:
    """Per-layer Gaussianity table of the minibatch gradient noise, plus timings and kept samples.

    keep: optional callable(layer, matrix, shapiro_result) -> anything, to keep e.g. a few columns
    for histograms or tail indices; its outputs are returned under extras["kept"]. protocol:
    sampling / augment / bn / trajectory, passed to `minibatch_gradients`.
    """
    t_grad = t_sw = 0.0
    tables, kept = [], {}
    t0 = time.perf_counter()
    for mats in minibatch_gradients(model, loss_fn, images, labels, batch_size, n_batches, layers,
                                    seed, max_bytes, progress=progress, **protocol):
        sync(images.device)
        t_grad += time.perf_counter() - t0
        for name, m in mats.items():
            t1 = time.perf_counter()
            res = shapiro_wilk(m)
            sync(images.device)
            t_sw += time.perf_counter() - t1
            tables.append(gaussianity({name: res}, level))
            if keep is not None:
                kept[name] = keep(name, m, res)
        del mats
        t0 = time.perf_counter()
    table = pd.concat(tables, ignore_index=True)
    return table, {"grad_s": t_grad, "shapiro_s": t_sw, "kept": kept}


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def probe(model, loss_fn, images, labels, batch_size: int = PROBE_BATCH_SIZE,
          n_batches: int = PROBE_N_BATCHES, layers=None, level: float = SIGNIFICANCE_LEVEL,
          seed: int = 0) -> pd.DataFrame:
    """Run the paper's Gaussianity test on ANY model, loss and data tensors.

    Returns one row per captured weight layer (Conv1d/2d/3d, ConvTranspose and Linear weights in
    forward order unless `layers` names them; other weight matrices are warned about, or refused if
    named; tied weights once, frozen weights skipped: module docstring): % Gaussian with point
    masses counted Gaussian (the paper's rule) and not counted, after BH-FDR at the significance
    level `level`, % degenerate (eq 15-16). Every argument is checked first (module docstring).
    Modes: a train-mode model is used as set (frozen BatchNorm keeps its running statistics); an
    eval-mode model is switched to train mode for the capture. Every module's flag and the
    BatchNorm running statistics are restored afterwards.
    """
    check_data(images, labels, level)
    check_capture_args(batch_size, n_batches, len(images))
    named = capture_layers(model, layers)
    check_loss(model, loss_fn, images, labels, named)
    table, _ = gaussianity_of_noise(model, loss_fn, images, labels, batch_size, n_batches,
                                    [name for name, _ in named], seed, level)
    return table
