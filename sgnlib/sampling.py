"""Which images form the minibatches of a capture (`sgnlib.capture`).

The default protocol (the paper does not state one; this is ours): minibatches are consecutive
blocks of a shuffled pass over the training set, drawn without replacement within a pass; when
fewer than `batch_size` images remain, a fresh shuffled pass starts (the remainder is skipped, so a
batch never mixes two passes). The shuffles come from a seeded torch.Generator, so a (seed, batch
size, number of batches) triple always gives the same minibatches. The protocol study's other
choices are in `sampled_indices`.
"""
from __future__ import annotations

import torch

from .hyperparameters import CAPTURE_PROTOCOL, PROTOCOL_CHOICES
from .probe import CaptureArgumentError, check_capture_args

SAMPLINGS = PROTOCOL_CHOICES["sampling"]


def minibatch_indices(n_data: int, batch_size: int, n_batches: int, generator: torch.Generator,
                      device="cpu") -> torch.Tensor:
    """[n_batches, batch_size] indices following the protocol in the module docstring."""
    check_capture_args(batch_size, n_batches, n_data)
    per_pass = n_data // batch_size
    passes = -(-n_batches // per_pass)
    blocks = []
    for _ in range(passes):
        perm = torch.randperm(n_data, generator=generator, device=generator.device).to(device)
        blocks.append(perm[: per_pass * batch_size].view(per_pass, batch_size))
    return torch.cat(blocks)[:n_batches]


def sampled_indices(n_data: int, batch_size: int, n_batches: int, generator: torch.Generator,
                    device="cpu", sampling: str = CAPTURE_PROTOCOL["sampling"]) -> torch.Tensor:
    """[n_batches, batch_size] indices under one of three protocols (a factor of the protocol
    study): without_replacement: consecutive blocks of shuffled passes (`minibatch_indices`, the
    default); with_replacement: every index drawn uniformly, independently (repeats possible inside
    a batch); independent: each minibatch an independent uniform subset (no repeats inside a batch,
    minibatches may overlap)."""
    check_capture_args(batch_size, n_batches, n_data)
    if sampling == "without_replacement":
        return minibatch_indices(n_data, batch_size, n_batches, generator, device)
    if sampling == "with_replacement":
        return torch.randint(0, n_data, (n_batches, batch_size), generator=generator,
                             device=generator.device).to(device)
    if sampling == "independent":
        gen_device = generator.device
        return torch.stack([torch.randperm(n_data, generator=generator,
                                           device=gen_device)[:batch_size]
                            for _ in range(n_batches)]).to(device)
    raise CaptureArgumentError(f"unknown sampling {sampling!r}; choose one of {SAMPLINGS}")
