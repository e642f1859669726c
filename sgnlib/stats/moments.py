"""Per-dimension moments of per-sample gradient noise and the Berry-Esseen bound (paper eq 13-21).

For per-sample gradients g_s of one weight, Delta g = g - E g (eq 16-17):
    sigma^2 = E[Delta g^2] (eq 18), beta = E|Delta g|^3 (eq 17),
    kurtosis E z^4 with z = Delta g / sigma, and Moors' identity E z^4 = var z^2 + 1 (eq 20),
    the Cauchy-Schwarz bound beta / sigma^3 <= sqrt(var z^2 + 1) (eq 19, 21),
    the Berry-Esseen bound sup |F_n - Phi| <= A0 beta / (sigma^3 sqrt(n)) (eq 13).
A0 = 0.4748 is Shevtsova's (2011) constant for i.i.d. summands.

Note: beta / sigma^3 >= 1 for every distribution (Lyapunov's inequality, E|X|^3 >= (E X^2)^{3/2}),
so a plotted range such as "0.01 to 0.02" (paper, Fig 4 discussion) cannot be of beta / sigma^3.

Moments are population moments over the k samples seen (divide by k). Accumulation is exact for
any chunking: the centre (the mean gradient) is supplied up front, e.g. from one ordinary
backward pass over the same samples, or found by `mean_of_chunks` in a first pass.
"""
from __future__ import annotations

import math

import torch

A0_SHEVTSOVA = 0.4748


def mean_of_chunks(chunks) -> torch.Tensor:
    """First pass: the per-dimension mean over an iterable of [k_i, d] chunks (float64)."""
    total, count = None, 0
    for c in chunks:
        s = c.to(torch.float64).sum(dim=0)
        total = s if total is None else total + s
        count += c.shape[0]
    if count == 0:
        raise ValueError("no samples were given")
    return total / count


class StreamingMoments:
    """Accumulate sum |dg|^2, |dg|^3, dg^4 per dimension over chunks of [k, d] samples."""

    def __init__(self, center: torch.Tensor):
        self.center = torch.as_tensor(center, dtype=torch.float64).flatten()
        z = torch.zeros_like(self.center)
        self.s2, self.s3, self.s4, self.k = z.clone(), z.clone(), z.clone(), 0

    def update(self, chunk: torch.Tensor) -> None:
        dg = chunk.reshape(chunk.shape[0], -1).to(torch.float64) - self.center.to(chunk.device)
        if not torch.isfinite(dg).all():
            raise ValueError("per-sample gradients contain NaN or inf")
        sq = dg * dg
        self.s2 += sq.sum(0)
        self.s3 += (sq * dg.abs()).sum(0)
        self.s4 += (sq * sq).sum(0)
        self.k += chunk.shape[0]

    def result(self, batch_size: int | None = None) -> dict:
        """Per-dimension tensors: sigma2, beta, beta_over_sigma3, kurtosis, eq21_bound,
        (be_bound)."""
        if self.k < 2:
            raise ValueError(f"need at least 2 samples for moments, got {self.k}")
        var = self.s2 / self.k
        beta = self.s3 / self.k
        m4 = self.s4 / self.k
        safe = torch.where(var > 0, var, torch.ones_like(var))
        ratio = torch.where(var > 0, beta / safe ** 1.5, torch.full_like(var, float("nan")))
        kurt = torch.where(var > 0, m4 / safe ** 2, torch.full_like(var, float("nan")))
        out = {"mean": self.center, "sigma2": var, "beta": beta, "beta_over_sigma3": ratio,
               "kurtosis": kurt, "var_z2": kurt - 1, "eq21_bound": torch.sqrt(kurt)}
        if batch_size is not None:
            out["berry_esseen_bound"] = berry_esseen_bound(ratio, batch_size)
        return out


def berry_esseen_bound(beta_over_sigma3, batch_size: int, a0: float = A0_SHEVTSOVA):
    """Eq 13: A0 * beta / sigma^3 / sqrt(n) for a batch of n i.i.d. samples."""
    if batch_size <= 0:
        raise ValueError(f"batch size must be positive, got {batch_size}")
    return a0 * beta_over_sigma3 / math.sqrt(batch_size)


def moments(samples: torch.Tensor, chunk: int | None = None, batch_size: int | None = None) -> dict:
    """One-call version over a [k, d] tensor: two passes (mean, then centred powers)."""
    chunk = chunk or samples.shape[0]
    parts = lambda: (samples[i:i + chunk] for i in range(0, samples.shape[0], chunk))  # noqa: E731
    acc = StreamingMoments(mean_of_chunks(parts()))
    for c in parts():
        acc.update(c)
    return acc.result(batch_size)
