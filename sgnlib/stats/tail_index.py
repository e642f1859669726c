"""Tail index alpha of gradient noise (paper, supplementary Figures 7-9).

The heavy-tail view (Simsekli, Sagun & Gurbuzbalaban 2019) models noise as symmetric alpha-stable
with alpha in (0, 2]; alpha = 2 is Gaussian. Three estimators, vectorized where possible:
- `mohammadi_alpha`: the block-sum estimator of Mohammadi, Mohammadpour & Ogata (2015), the one
  Simsekli et al. use, over every column at once;
- `mcculloch_alpha`: McCulloch's (1986) quantile estimator for the symmetric case, over every column;
- `fit_alpha_stable`: maximum likelihood on a few columns, with pylevy (the paper's tool) when it is
  installed, else `scipy.stats.levy_stable`; the returned dict names the backend that ran.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch


def mohammadi_alpha(x: torch.Tensor, k1: int | None = None) -> torch.Tensor:
    """alpha per column of centred samples x [K, d]: 1/alpha = (mean log|Y| - mean log|X|) / log K1.

    Y_i are sums of K1 consecutive samples (K1 = floor(sqrt(K)) by default, as Simsekli et al.);
    the estimate is clipped to (0, 2].
    """
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.dim() == 1:
        x = x[:, None]
    K = x.shape[0]
    k1 = k1 or int(math.isqrt(K))
    k2 = K // k1
    if k1 < 2 or k2 < 1:
        raise ValueError(f"need at least 4 samples per column for the Mohammadi estimator, got {K}")
    x = x[: k1 * k2]
    y = x.reshape(k2, k1, -1).sum(dim=1)
    tiny = torch.finfo(torch.float64).tiny
    inv = (torch.log(y.abs().clamp_min(tiny)).mean(0) - torch.log(x.abs().clamp_min(tiny)).mean(0)) / math.log(k1)
    return (1.0 / inv.clamp_min(0.5)).clamp(max=2.0)


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

    nu below the Gaussian value (2.439) maps to alpha = 2; above the table's top to its lowest alpha.
    """
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.dim() == 1:
        x = x[:, None]
    q = torch.quantile(x, torch.tensor([0.05, 0.25, 0.75, 0.95], dtype=torch.float64, device=x.device), dim=0)
    iqr = q[2] - q[1]
    nu = ((q[3] - q[0]) / torch.where(iqr > 0, iqr, torch.ones_like(iqr))).cpu().numpy()
    alphas, nus = mcculloch_table()
    est = np.interp(nu, nus[::-1], alphas[::-1])  # nu decreases as alpha grows
    est[(iqr <= 0).cpu().numpy()] = np.nan
    return torch.as_tensor(est)


def levy_backend() -> str:
    try:
        import levy  # noqa: F401  (pylevy)
        return "pylevy"
    except ImportError:
        return "scipy"


def fit_alpha_stable(x, backend: str | None = None) -> dict:
    """Maximum-likelihood alpha-stable fit of one column (1-D samples).

    The data are standardized first (pylevy starts its search at scale 1) and the fitted scale and
    location mapped back afterwards. scipy's fit takes tens of seconds per column: use it on a few.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size < 10:
        raise ValueError(f"need at least 10 samples for an alpha-stable fit, got {x.size}")
    backend = backend or levy_backend()
    mu, sd = float(np.median(x)), float(np.std(x))
    if sd == 0:
        raise ValueError("constant column: no alpha-stable fit (point mass)")
    z = (x - mu) / sd
    if backend == "pylevy":
        import levy
        params, _ = levy.fit_levy(z)
        alpha, beta, loc, scale = params.get("0")
    elif backend == "scipy":
        from scipy.stats import FitError, levy_stable
        try:
            alpha, beta, loc, scale = levy_stable.fit(z)
        except FitError as e:  # the optimizer left the parameter domain: report, do not guess
            return {"alpha": float("nan"), "beta": float("nan"), "loc": float("nan"), "scale": float("nan"),
                    "backend": backend, "error": str(e).splitlines()[0]}
    else:
        raise ValueError(f"unknown backend {backend!r}; use 'pylevy' or 'scipy'")
    return {"alpha": float(alpha), "beta": float(beta), "loc": mu + sd * float(loc),
            "scale": sd * float(scale), "backend": backend, "error": ""}
