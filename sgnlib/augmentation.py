"""The paper's training augmentation on the tensor's own device, reproducible from a
`torch.Generator`: random crop of the image padded by `AUGMENT_PAD` black pixels, and horizontal
flip. `apply_augment` is the one implementation of the crop and flip; `augment` draws its offsets
and flips, the compiled training step (`sgnlib.fast_step`) draws the same numbers into static
buffers. `sgnlib.data` re-exports both."""
from __future__ import annotations

import torch

from .hyperparameters import AUGMENT_PAD, MEAN, STD


def augment(images: torch.Tensor, generator: torch.Generator | None = None,
            pad: int = AUGMENT_PAD) -> torch.Tensor:
    """Random crop with `pad`-pixel black padding and horizontal flip, on the images' own device:
    the offsets dy, dx and the flips drawn from `generator` (which must live on the images' device),
    in this order, then `apply_augment`."""
    n, dev = images.shape[0], images.device
    dy = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    flip = torch.rand(n, device=dev, generator=generator) < 0.5
    return apply_augment(images, dy, dx, flip, pad)


def apply_augment(images: torch.Tensor, dy, dx, flip, pad: int = AUGMENT_PAD) -> torch.Tensor:
    """The crop at offsets (dy, dx) of the images padded by `pad` black pixels, flipped where
    `flip`.

    Padding uses the normalized value of a black pixel, as torchvision's RandomCrop(32, padding=4)
    on unnormalized images would. Plain tensor ops (gathers), so it also runs compiled
    (`sgnlib.fast_step`)."""
    n, c, h, w = images.shape
    dev = images.device
    black = -torch.tensor(MEAN, device=dev) / torch.tensor(STD, device=dev)
    fill = black.view(1, c, 1, 1).to(images.dtype)
    padded = fill.expand(n, c, h + 2 * pad, w + 2 * pad).clone()
    padded[:, :, pad:pad + h, pad:pad + w] = images
    rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None]
    out = padded.gather(2, rows.expand(n, c, h, w + 2 * pad))
    cols = dx[:, None] + torch.arange(w, device=dev)
    cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, None, :].expand(n, c, h, w)
    return out.gather(3, cols)
