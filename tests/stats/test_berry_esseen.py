import numpy as np
import torch
from scipy import stats

from sgnlib.stats.berry_esseen import ks_distance_to_normal, null_ks_quantiles


def test_matches_scipy_kstest_on_standardized_columns():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(200, 5)), rng.exponential(size=(200, 5))], 1)
    got = ks_distance_to_normal(torch.from_numpy(x)).numpy()
    for j in range(x.shape[1]):
        z = (x[:, j] - x[:, j].mean()) / x[:, j].std(ddof=1)
        assert abs(got[j] - stats.kstest(z, "norm").statistic) < 1e-12


def test_constant_column_is_nan_and_null_floor():
    x = torch.randn(50, 3, dtype=torch.float64)
    x[:, 1] = 2.0
    assert torch.isnan(ks_distance_to_normal(x)[1])
    med, q90 = null_ks_quantiles(200)
    assert 0.03 < med < 0.08 and med < q90
