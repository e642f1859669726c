"""Almost-constant columns: a sample whose values are one identical number in at least a given
share of its entries. The Shapiro-Wilk test (`sgnlib.stats.shapiro`) calls a column a point mass
only when it is exactly constant (range below `RANGE_EPS`); a column of 200 minibatch gradients of
which 195 are exactly zero (a unit that fired in five minibatches) is tested, and rejected, as a
sample. Counting such columns as point masses is one of the counting rules the paper leaves open.
"""
from __future__ import annotations

import math

import torch


def mode_share_at_least(x: torch.Tensor, share: float, chunk: int = 65536) -> torch.Tensor:
    """Boolean mask over the columns of `x` ([n, d]): some value occurs in at least
    ceil(share * n) rows of the column (exact equality, as stored).

    Sorted, a column holds k = ceil(share * n) equal values exactly when s[i] == s[i + k - 1] for
    some i. Columns are processed `chunk` at a time (the sort copies them)."""
    if x.dim() != 2 or x.shape[0] < 1:
        raise ValueError(f"x must be a non-empty [n, d] matrix, got shape {tuple(x.shape)}")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    n, d = x.shape
    k = math.ceil(share * n - 1e-9)
    out = torch.empty(d, dtype=torch.bool, device=x.device)
    for lo in range(0, d, chunk):
        s = torch.sort(x[:, lo:lo + chunk], dim=0).values
        out[lo:lo + chunk] = (s[k - 1:] == s[:n - k + 1]).any(dim=0)
    return out
