"""The empirical side of the Berry-Esseen bound (paper eq 13, Fig 5).

For each weight dimension, the Kolmogorov distance between the standardized minibatch noise (the
n_batches minibatch gradients, centred and scaled by their own mean and standard deviation) and
Phi, beside the bound A0 beta / (sigma^3 sqrt(batch size)) from per-sample moments. With only
n_batches samples the empirical distance has a sampling floor of its own (about 0.06 at 200 for
exactly Gaussian data), which `null_ks_quantiles` measures.
"""
from __future__ import annotations

import math

import torch

_SQRT2 = math.sqrt(2.0)


def ks_distance_to_normal(x: torch.Tensor) -> torch.Tensor:
    """sup_t |F_n(t) - Phi(t)| per column of x [n, d], each column standardized (mean, sd with ddof
    1).

    Equals scipy.stats.kstest(z, "norm").statistic on the standardized column z. Constant columns
    give NaN.
    """
    x = torch.as_tensor(x, dtype=torch.float64)
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"need at least 3 samples per column, got {n}")
    sd = x.std(dim=0)
    z = (x - x.mean(dim=0)) / torch.where(sd > 0, sd, torch.ones_like(sd))
    z = torch.sort(z, dim=0).values
    cdf = 0.5 * torch.erfc(-z / _SQRT2)
    i = torch.arange(1, n + 1, dtype=torch.float64, device=x.device)[:, None]
    d = torch.maximum((i / n - cdf).max(dim=0).values, (cdf - (i - 1) / n).max(dim=0).values)
    return torch.where(sd > 0, d, torch.full_like(d, float("nan")))


def null_ks_quantiles(n: int, quantiles=(0.5, 0.9), d: int = 4000, seed: int = 0) -> list[float]:
    """Quantiles of the same distance for exactly Gaussian columns of n samples (the floor)."""
    g = torch.Generator().manual_seed(seed)
    ks = ks_distance_to_normal(torch.randn(n, d, generator=g, dtype=torch.float64))
    return torch.quantile(ks, torch.tensor(quantiles, dtype=torch.float64)).tolist()
