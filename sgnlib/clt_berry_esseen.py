"""Theorem 1 of the paper, the Berry-Esseen bound (eq 13), checked on laws whose sum has an exact
distribution: Bernoulli (binomial), exponential (gamma) and uniform (Irwin-Hall). Part of the CLT
chapter's checks (`sgnlib.clt` re-exports these names)."""
from __future__ import annotations

import math

import numpy as np

from .stats.moments import berry_esseen_bound


def kolmogorov_distance_of_sum(law: str, n: int, p: float = 0.3) -> float:
    """sup_x |F_n(x) - Phi(x)| for the standardized sum of n i.i.d. draws (exact where scipy
    allows)."""
    from scipy import stats
    if law == "bernoulli":
        mu, sd = n * p, math.sqrt(n * p * (1 - p))
        k = np.arange(n + 1)
        x = (k - mu) / sd
        F = stats.binom.cdf(k, n, p)
        F_left = np.concatenate([[0.0], F[:-1]])
        phi = stats.norm.cdf(x)
        return float(max(np.abs(F - phi).max(), np.abs(F_left - phi).max()))
    if law == "exponential":
        x = np.linspace(-6, 6, 20001)
        F = stats.gamma.cdf(n + x * math.sqrt(n), n)
        return float(np.abs(F - stats.norm.cdf(x)).max())
    if law == "uniform":
        if n > 30:
            raise ValueError("the exact Irwin-Hall CDF loses precision beyond n = 30 summands; "
                             "use n <= 30")
        x = np.linspace(-6, 6, 20001)
        F = _irwin_hall_cdf(n / 2 + x * math.sqrt(n / 12), n)
        return float(np.abs(F - stats.norm.cdf(x)).max())
    raise ValueError(f"unknown law {law!r}; use bernoulli, exponential or uniform")


def _irwin_hall_cdf(s, n: int):
    """CDF of the sum of n U(0, 1) draws (Irwin-Hall), exact for small n."""
    from math import comb, factorial
    s = np.clip(np.asarray(s, float), 0, n)
    out = np.zeros_like(s)
    for k in range(n + 1):
        out += (-1) ** k * comb(n, k) * np.clip(s - k, 0, None) ** n
    return np.clip(out / factorial(n), 0, 1)


def standardized_third_moment(law: str, p: float = 0.3) -> float:
    """beta / sigma^3 (eq 17-18) of one summand, exact."""
    if law == "bernoulli":
        return (p * (1 - p) ** 3 + (1 - p) * p ** 3) / (p * (1 - p)) ** 1.5
    if law == "exponential":
        return 12 / math.e - 2
    if law == "uniform":
        return (1 / 32) / (1 / 12) ** 1.5
    raise ValueError(f"unknown law {law!r}")


def law_bound(law: str, n: int) -> float:
    """Eq 13's right-hand side for one of the exact laws above."""
    return berry_esseen_bound(standardized_third_moment(law), n)


def berry_esseen_worst(laws=("bernoulli", "exponential", "uniform"), ns=(1, 2, 5, 10, 30)):
    """Eq 13 on exact laws: the largest sup|F_n - Phi| / bound and where (law, n); <= 1 if it
    holds."""
    return max((kolmogorov_distance_of_sum(law, n) / law_bound(law, n), f"{law}, n = {n}")
               for law in laws for n in ns)
