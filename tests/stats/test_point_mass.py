"""`mode_share_at_least` against numpy's value counts, column by column."""
import numpy as np
import pytest
import torch

from sgnlib.stats import mode_share_at_least


@pytest.mark.parametrize("share", [0.5, 0.9, 0.95, 1.0])
def test_mode_share_against_value_counts(share):
    rng = np.random.default_rng(0)
    n, d = 40, 500
    x = rng.integers(0, 3, size=(n, d)).astype(np.float32)
    x[:, : d // 2] = np.where(rng.random((n, d // 2)) < 0.93, 0.0, x[:, : d // 2])
    ref = np.array([np.unique(c, return_counts=True)[1].max() >= np.ceil(share * n - 1e-9)
                    for c in x.T])
    got = mode_share_at_least(torch.from_numpy(x), share, chunk=77).numpy()
    assert (got == ref).all() and 0 < ref.sum() < d


def test_bad_share_or_shape_raises():
    with pytest.raises(ValueError, match="share"):
        mode_share_at_least(torch.zeros(5, 2), 0.0)
    with pytest.raises(ValueError, match="matrix"):
        mode_share_at_least(torch.zeros(5), 0.5)
