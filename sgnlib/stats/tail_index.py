"""Tail index alpha of gradient noise (paper, supplementary Figures 7-9).

The heavy-tail view (Simsekli, Sagun & Gurbuzbalaban 2019) models noise as symmetric alpha-stable
with alpha in (0, 2]; alpha = 2 is Gaussian. Estimators:
- `mohammadi_alpha`: the block-sum estimator of Mohammadi, Mohammadpour & Ogata (2015, Cor. 2.4),
  per column, with Simsekli et al.'s block size; `mohammadi_alpha_pooled`: the same estimator on a
  whole layer's noise pooled into one vector, the quantity Simsekli et al. report;
- `mcculloch_alpha`: McCulloch's (1986) quantile estimator for the symmetric case, per column;
- `fit_alpha_stable`: maximum likelihood on one column with pylevy (PyPI `levy-stable`, the paper's
  footnote-2 tool) or `scipy.stats.levy_stable`.
Null references at our sample size: `null_alpha_band` (the estimator on Gaussian columns) and
`matched_null_alpha` (Gaussian columns that Shapiro-Wilk rejects); `composition_control` follows the
same columns across batch sizes (Fig 9's "alpha rises with batch size").
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
import torch

from ..hyperparameters import NULL_D, NULL_SEED, SIGNIFICANCE_LEVEL

SIMSEKLI_EPS = float(np.spacing(1))  # 2**-52, added to |x| before the log (Simsekli's utils.py)


def default_block_size(K: int) -> int:
    """K1 of Simsekli et al.'s code (sgd_tail_index, main.py): the largest divisor of K not above
    sqrt(K), so the K2 = K / K1 blocks use every sample (K = 200 -> 10, 600 -> 24, 5000 -> 50).
    A prime K (divisor 1, where their code divides by log 1 = 0) falls back to floor(sqrt(K))."""
    r = math.isqrt(K)
    k1 = max(i for i in range(1, r + 1) if K % i == 0) if r >= 1 else 0
    return k1 if k1 >= 2 else r


def _point_mass(x: torch.Tensor) -> torch.Tensor:
    """Columns whose K values are all equal (exactly: a constant stays constant when centred)."""
    return x.amax(0) == x.amin(0)


def mohammadi_alpha(x: torch.Tensor, k1: int | None = None, clip: bool = False,
                    chunk: int | None = None) -> torch.Tensor:
    """alpha per column of centred samples x [K, d]: 1/alpha = (mean log|Y| - mean log|X|) / log K1,
    Y the K2 = K // K1 sums of K1 consecutive samples (Mohammadi et al. 2015, Cor. 2.4).

    K1 defaults to `default_block_size(K)` (Simsekli et al.'s choice); a K1 that does not divide K
    drops the last K mod K1 rows. The estimate is unclipped: values above 2 (and, for tiny K,
    negative or infinite ones where mean log|Y| <= mean log|X|) are estimator noise, not tails
    lighter than Gaussian. ``clip=True`` returns 1 / max(1/alpha, 1/2), which maps all of those to
    2: for display only, labelled as such. Point-mass columns (all K values equal, including
    all-zero and constant float32 columns) give NaN. An exact zero in another column counts as
    log(float64 tiny); Simsekli et al. add 2**-52 instead, which `mohammadi_alpha_pooled` follows.
    """
    x = torch.as_tensor(x)
    if x.dim() == 1:
        x = x[:, None]
    K, d = x.shape
    k1 = k1 or default_block_size(K)
    if k1 < 2 or K // k1 < 1:
        raise ValueError(f"need at least 4 samples per column for the Mohammadi estimator, got {K}")
    k2 = K // k1
    chunk = chunk or max(1, (1 << 24) // K)
    tiny = torch.finfo(torch.float64).tiny
    out = torch.empty(d, dtype=torch.float64, device=x.device)
    for lo in range(0, d, chunk):
        block = x[:, lo:lo + chunk]
        pm = _point_mass(block)
        b = block[: k1 * k2].to(torch.float64)
        y = b.reshape(k2, k1, -1).sum(dim=1)
        inv = ((torch.log(y.abs().clamp_min(tiny)).mean(0)
                - torch.log(b.abs().clamp_min(tiny)).mean(0)) / math.log(k1))
        a = 1.0 / inv.clamp_min(0.5) if clip else 1.0 / inv
        out[lo:lo + chunk] = torch.where(pm, torch.full_like(a, float("nan")), a)
    return out


def mohammadi_alpha_pooled(noise: torch.Tensor, drop_point_mass: bool = False,
                           chunk: int = 1 << 24) -> float:
    """One alpha for a whole layer, as Simsekli et al. (2019) compute it (sgd_tail_index, main.py):
    the centred noise [K, d] flattened batch-major into N = K d values (their ``(grads -
    mean_grad).view(-1, 1)``), K1 = `default_block_size(N)`, log(|.| + 2**-52), unclipped.

    They pool every parameter of the network; we pool one layer's weights, beside the per-column
    distribution. Blocks run over consecutive parameters of one minibatch, so this measures the
    spread of scales across parameters as much as any tail: Gaussian columns with unequal scales
    give alpha < 2. Exact zeros (dead units) enter as log(2**-52) and pull alpha down;
    ``drop_point_mass`` removes constant columns first. NaN when nothing (or nothing but zeros) is
    left.
    """
    x = torch.as_tensor(noise)
    if x.dim() == 1:
        x = x[:, None]
    if drop_point_mass:
        x = x[:, ~_point_mass(x)]
    flat = x.reshape(-1)
    N = flat.numel()
    if N < 4 or not bool((flat != 0).any()):
        return float("nan")
    m = default_block_size(N)
    n = N // m
    step = max(1, chunk // m) * m
    sx = sy = 0.0
    for lo in range(0, n * m, step):
        b = flat[lo:min(lo + step, n * m)].to(torch.float64)
        sx += float(torch.log(b.abs() + SIMSEKLI_EPS).sum())
        sy += float(torch.log(b.reshape(-1, m).sum(1).abs() + SIMSEKLI_EPS).sum())
    return 1.0 / ((sy / n - sx / (n * m)) / math.log(m))


@lru_cache(maxsize=16)
def _null_alphas(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d))
    return mohammadi_alpha(torch.from_numpy(x - x.mean(0))).numpy()


def null_alpha_band(n: int, d: int = NULL_D, seed: int = NULL_SEED,
                    q=(0.05, 0.5, 0.95)) -> np.ndarray:
    """Quantiles q of the unclipped per-column estimate on d Gaussian columns of n samples (centred
    like the noise; numpy seed `seed`): where estimates of exactly Gaussian noise fall at this n
    (5/50/95 %: 1.51/2.01/3.30 at n = 200, 1.66/2.00/2.66 at 600, 1.84/2.00/2.22 at 5000). The
    estimator's error is roughly symmetric in 1/alpha (sd 0.11 at n = 200), hence the long right
    tail in alpha: summarize by the median or 1/mean(1/alpha), not the mean."""
    return np.quantile(_null_alphas(n, d, seed), q)


def matched_null_alpha(n: int, d: int = 20000, seed: int = 0,
                       level: float = SIGNIFICANCE_LEVEL) -> np.ndarray:
    """Unclipped alpha of the Gaussian columns (d of them, n samples, numpy seed `seed`) that
    Shapiro-Wilk rejects at p < level: what 'non-Gaussian' columns show when they are false
    positives (about level * d of them). At n = 200 their median is 1.99 and clipped mean 1.87,
    the same as for all Gaussian columns: at our n, rejection by Shapiro-Wilk barely moves alpha."""
    from .shapiro import shapiro_wilk
    x = np.random.default_rng(seed).standard_normal((n, d))
    x -= x.mean(0)
    rejected = (shapiro_wilk(torch.from_numpy(x)).p < level).numpy()
    return mohammadi_alpha(torch.from_numpy(x[:, rejected])).numpy()


def composition_control(p, alpha, batch_sizes, level: float = SIGNIFICANCE_LEVEL) -> pd.DataFrame:
    """Alpha of 'non-Gaussian' columns per batch size, with and without composition effects (Fig 9).

    p, alpha: [B, d] p-values and unclipped alpha of the SAME d columns at B batch sizes. Columns
    with a NaN p or alpha (point masses) at any batch size are left out. `*_nongaussian` summarize
    the columns rejected (p < level) at that batch size: as batches grow, heavy columns turn
    Gaussian and Shapiro-Wilk's false positives (alpha around 2, see `matched_null_alpha`) make up
    more of the set, so its alpha can rise by composition alone. `*_always` summarize the fixed set
    rejected at every batch size: a rise there is not composition. One row per batch size; mean and
    median of alpha.
    """
    p, alpha = np.asarray(p, dtype=float), np.asarray(alpha, dtype=float)
    if p.shape != alpha.shape or p.ndim != 2 or p.shape[0] != len(batch_sizes):
        raise ValueError(f"p and alpha must both be [len(batch_sizes), d], got {p.shape} and "
                         f"{alpha.shape}")
    valid = ~(np.isnan(p) | np.isnan(alpha)).any(0)
    ng = (p < level) & valid
    always = ng.all(0)
    rows = []
    for i, bs in enumerate(batch_sizes):
        row = {"batch_size": bs, "n_columns": int(valid.sum())}
        for name, mask in (("nongaussian", ng[i]), ("always", always)):
            a = alpha[i, mask]
            row |= {f"n_{name}": int(mask.sum()),
                    f"mean_alpha_{name}": a.mean() if a.size else np.nan,
                    f"median_alpha_{name}": np.median(a) if a.size else np.nan}
        rows.append(row)
    return pd.DataFrame(rows)


ALPHA_GRID = np.round(np.arange(0.6, 2.0001, 0.05), 4)


@lru_cache(maxsize=1)
def mcculloch_table() -> tuple[np.ndarray, np.ndarray]:
    """nu(alpha) = (q95 - q05) / (q75 - q25) of the symmetric alpha-stable law, from scipy's ppf."""
    from scipy.stats import levy_stable
    nu = []
    for a in ALPHA_GRID:
        q05, q25, q75, q95 = levy_stable.ppf([0.05, 0.25, 0.75, 0.95], a, 0.0)
        nu.append((q95 - q05) / (q75 - q25))
    return ALPHA_GRID.copy(), np.asarray(nu)


def mcculloch_alpha(x: torch.Tensor) -> torch.Tensor:
    """Quantile estimate of alpha per column (symmetric case), interpolated on `mcculloch_table`.

    nu below the Gaussian value (2.439) maps to alpha = 2 (clipped by construction); above the
    table's top to its lowest alpha, 0.6. Columns with a zero interquartile range give NaN.
    """
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.dim() == 1:
        x = x[:, None]
    probs = torch.tensor([0.05, 0.25, 0.75, 0.95], dtype=torch.float64, device=x.device)
    q = torch.quantile(x, probs, dim=0)
    iqr = q[2] - q[1]
    nu = ((q[3] - q[0]) / torch.where(iqr > 0, iqr, torch.ones_like(iqr))).cpu().numpy()
    alphas, nus = mcculloch_table()
    est = np.interp(nu, nus[::-1], alphas[::-1])  # nu decreases as alpha grows
    est[(iqr <= 0).cpu().numpy()] = np.nan
    return torch.as_tensor(est)


def levy_backend() -> str:
    try:
        import levy  # noqa: F401  (pylevy, PyPI levy-stable)
        return "pylevy"
    except ImportError:
        return "scipy"


def fit_alpha_stable(x, backend: str | None = None, symmetric: bool = False) -> dict:
    """Maximum-likelihood alpha-stable fit of one column (1-D samples).
 backend 'pylevy' runs ``levy.fit`` (levy-stable 2.x: interpolated density tables, about a second
    per column; alpha bounded to [0.5, 2]); 'scipy' runs ``scipy.stats.levy_stable.fit`` (numerical
    density, tens of seconds per column at n = 200, a minute at 600). ``symmetric`` pins beta = 0.
    The data are standardized (median, sd) first and loc/scale mapped back; loc is in Nolan's S0
    parametrization for pylevy, in scipy's `levy_stable.parameterization` (S1 by default) for scipy
    (the two agree when beta = 0). A fit scipy cannot complete returns NaN and the error's first
    line. Returns tail_index (the law's alpha), skewness (its beta), loc, scale, backend,
    parametrization, error.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size < 10:
        raise ValueError(f"need at least 10 samples for an alpha-stable fit, got {x.size}")
    backend = backend or levy_backend()
    mu, sd = float(np.median(x)), float(np.std(x))
    if sd == 0:
        raise ValueError("constant column: no alpha-stable fit (point mass)")
    z = (x - mu) / sd
    fixed = {"beta": 0.0} if symmetric else {}
    if backend == "pylevy":
        import levy
        alpha, beta, loc, scale = levy.fit(z, **fixed).params.as_tuple()
        par = "S0"
    elif backend == "scipy":
        from scipy.stats import FitError, levy_stable
        par = levy_stable.parameterization
        try:
            alpha, beta, loc, scale = levy_stable.fit(z, **({"fbeta": 0.0} if symmetric else {}))
        except FitError as e:  # the optimizer left the parameter domain: report, do not guess
            return {"tail_index": float("nan"), "skewness": float("nan"), "loc": float("nan"),
                    "scale": float("nan"),
                    "backend": backend, "parametrization": par, "error": str(e).splitlines()[0]}
    else:
        raise ValueError(f"unknown backend {backend!r}; use 'pylevy' or 'scipy'")
    return {"tail_index": float(alpha), "skewness": float(beta), "loc": mu + sd * float(loc),
            "scale": sd * float(scale),
            "backend": backend, "parametrization": par, "error": ""}
