"""The pieces `sgnlib.fast_step.TrainStep` is built from: the augmentation draws into static
buffers, the compiled loss (gather + crop/flip + forward + cross-entropy), the SGD update in foreach
ops, the CUDA speed flags, the per-batch-size static buffers, and the C++ compiler inductor needs on
the CPU. `sgnlib.fast_step` re-exports the public ones."""
from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from .augmentation import apply_augment
from .hyperparameters import AUGMENT_PAD


def cpu_compiler() -> str | None:
    """The C++ compiler inductor would use on CPU ($CXX, else c++/g++/clang++ on PATH), or
    None."""
    import os
    import shutil
    names = (os.environ.get("CXX"), "c++", "g++", "clang++")
    return next((shutil.which(c) for c in names if c and shutil.which(c)), None)


def draw_augment(n: int, generator: torch.Generator, pad: int = AUGMENT_PAD, out=None):
    """(dy, dx, u) for `n` images, drawn with exactly `sgnlib.augmentation.augment`'s generator
    calls (flip = u < 0.5); `out`: tensors to draw into (static buffers of a CUDA graph)."""
    dev = generator.device
    if out is None:
        out = (torch.empty(n, dtype=torch.long, device=dev),
               torch.empty(n, dtype=torch.long, device=dev),
               torch.empty(n, device=dev))
    dy, dx, u = out
    torch.randint(0, 2 * pad + 1, (n,), generator=generator, out=dy)
    torch.randint(0, 2 * pad + 1, (n,), generator=generator, out=dx)
    torch.rand(n, generator=generator, out=u)
    return dy, dx, u


class CompiledLoss(nn.Module):
    """Minibatch gather + augmentation + forward + cross-entropy: the part compiled with its
    backward."""

    def __init__(self, model, augment, pad, channels_last, amp):
        super().__init__()
        self.model, self.augment, self.pad = model, augment, pad
        self.channels_last, self.amp = channels_last, amp

    def forward(self, images, labels, idx, dy, dx, u):
        x = images[idx]
        if self.augment:
            x = apply_augment(x, dy, dx, u < 0.5, self.pad)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.amp,
                            cache_enabled=False):
            out = self.model(x)
        return F.cross_entropy(out.float(), labels[idx])


def sgd_update(params, grads, bufs, lr, momentum: float, weight_decay: float):
    """torch.optim.SGD's update (dampening 0, no Nesterov) in foreach ops; `lr` a 0-dim tensor.
    Momentum buffers start at zero, which gives SGD's first step (buffer = gradient) exactly."""
    with torch.no_grad():
        g = torch._foreach_add(grads, params, alpha=weight_decay)
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_add_(bufs, g)
        torch._foreach_sub_(params, torch._foreach_mul(bufs, lr))


@contextlib.contextmanager
def cuda_speed_flags(enabled: bool = True):
    """TF32 convolutions and cudnn.benchmark on (matmuls, i.e. the final Linear, stay fp32),
    restored afterwards. (TF32 convolutions are PyTorch's default already; this makes it
    explicit.)"""
    if not enabled:
        yield
        return
    # conv and rnn set alike: legacy `allow_tf32` reads raise if they differ
    cudnn = torch.backends.cudnn
    old = (cudnn.benchmark, cudnn.conv.fp32_precision, cudnn.rnn.fp32_precision)
    cudnn.benchmark, cudnn.conv.fp32_precision, cudnn.rnn.fp32_precision = True, "tf32", "tf32"
    try:
        yield
    finally:
        cudnn.benchmark, cudnn.conv.fp32_precision, cudnn.rnn.fp32_precision = old


class ShapeBuffers:
    """Static input buffers (and, in graph mode, the graph and its loss output) for one batch
    size."""

    def __init__(self, n, device):
        self.n, self.graph, self.loss = n, None, None
        self.idx = torch.zeros(n, dtype=torch.long, device=device)
        self.dy = torch.zeros(n, dtype=torch.long, device=device)
        self.dx = torch.zeros(n, dtype=torch.long, device=device)
        self.u = torch.ones(n, device=device)
