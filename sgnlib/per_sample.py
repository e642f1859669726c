"""Per-sample gradients and the moments of each weight dimension over them: beta / sigma^3 and the
rest of eq 17-21, for the moments and Berry-Esseen stages (`sgnlib.capture` re-exports
`per_sample_moments`).

The gradients use torch.func (vmap of grad) in chunks and stream into `StreamingMoments`; the whole
model is in eval mode there (a per-sample gradient with batch statistics is not defined), which we
state wherever those numbers appear; every module's flag is restored afterwards.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .probe import capture_layers, restore_modes, save_modes
from .stats import StreamingMoments


def per_sample_moments(model, images, labels, n_samples: int = 1000, chunk: int = 64, layers=None,
                       seed: int = 0, batch_size: int | None = None,
                       loss_fn=F.cross_entropy) -> dict:
    """beta/sigma^3 etc. per weight dimension from per-sample gradients of `n_samples` images,
    each the gradient of `loss_fn` on a batch of one (cross-entropy unless a loss is given).

    Whole model in eval mode (BatchNorm running statistics), each module's flag restored after.
    Two passes over the same per-sample gradients: their exact mean, then the centred powers.
    Dimensions whose per-sample gradients are all equal (dead units) have sigma = 0 and come back
    as NaN ratios (point masses). Returns {layer: StreamingMoments.result()}.
    """
    from torch.func import functional_call, grad, vmap
    named = capture_layers(model, layers)
    dev = images.device
    gen = torch.Generator(device=dev).manual_seed(seed)
    pick = torch.randperm(images.shape[0], generator=gen, device=dev)[:n_samples]
    x_all, y_all = images[pick], labels[pick]
    modes = save_modes(model)
    model.eval()
    try:
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}
        key_of = {id(p): k for k, p in model.named_parameters()}
        keys = [key_of[id(p)] for _, p in named]

        def loss_one(p_sel, x, y):
            out = functional_call(model, ({**params, **p_sel}, buffers), (x[None],))
            return loss_fn(out, y[None])

        per_sample = vmap(grad(loss_one), in_dims=(None, 0, 0))
        sel = {k: params[k] for k in keys}

        def chunks():
            for i in range(0, n_samples, chunk):
                gs = per_sample(sel, x_all[i:i + chunk], y_all[i:i + chunk])
                yield {k: gs[k].reshape(gs[k].shape[0], -1) for k in keys}
        # pass 1: the exact mean of these per-sample gradients (a separately computed batch
        # gradient differs by rounding, which would turn constant dimensions into a spurious
        # beta/sigma^3 = 1)
        sums = {k: torch.zeros(params[k].numel(), dtype=torch.float64, device=dev) for k in keys}
        for gs in chunks():
            for k in keys:
                sums[k] += gs[k].to(torch.float64).sum(0)
        accs = {k: StreamingMoments(sums[k] / n_samples) for k in keys}
        for gs in chunks():  # pass 2: centred powers
            for k in keys:
                accs[k].update(gs[k])
    finally:
        restore_modes(modes)
    return {name: accs[k].result(batch_size) for (name, _), k in zip(named, keys)}
