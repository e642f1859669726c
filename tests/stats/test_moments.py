import math

import numpy as np
import pytest
import torch
from scipy import stats

from sgnlib.stats import A0_SHEVTSOVA, StreamingMoments, berry_esseen_bound, mean_of_chunks, moments


def numpy_reference(x):
    dg = x - x.mean(0)
    var = (dg ** 2).mean(0)
    beta = (np.abs(dg) ** 3).mean(0)
    kurt = (dg ** 4).mean(0) / var ** 2
    return var, beta, beta / var ** 1.5, kurt


def test_chunked_equals_one_shot_equals_numpy():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(301, 5)), rng.exponential(size=(301, 5))], axis=1)
    t = torch.from_numpy(x)
    one = moments(t)
    chunked = moments(t, chunk=17)
    var, beta, ratio, kurt = numpy_reference(x)
    for key, ref in [("sigma2", var), ("beta", beta), ("beta_over_sigma3", ratio), ("kurtosis", kurt)]:
        np.testing.assert_allclose(one[key].numpy(), ref, rtol=1e-12)
        np.testing.assert_allclose(chunked[key].numpy(), one[key].numpy(), rtol=1e-12)
    np.testing.assert_allclose(one["kurtosis"].numpy(), stats.kurtosis(x, fisher=False), rtol=1e-10)


def test_moors_identity_and_eq21_bound_and_lyapunov():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(np.stack([rng.normal(size=5000), rng.exponential(size=5000), rng.uniform(size=5000),
                                   rng.binomial(1, 0.1, size=5000).astype(float)], axis=1))
    m = moments(x)
    z = (x - x.mean(0)) / m["sigma2"].sqrt()
    np.testing.assert_allclose(m["var_z2"].numpy(), (z ** 2).var(0, unbiased=False).numpy(), rtol=1e-10)  # eq 20
    assert (m["beta_over_sigma3"] <= m["eq21_bound"] + 1e-12).all()  # eq 19/21
    assert (m["beta_over_sigma3"] >= 1 - 1e-12).all()  # Lyapunov


def test_known_values_for_gaussian_and_exponential():
    gen = torch.Generator().manual_seed(0)
    x = torch.stack([torch.randn(400000, generator=gen, dtype=torch.float64),
                     torch.empty(400000, dtype=torch.float64).exponential_(generator=gen)], 1)
    m = moments(x, chunk=100000)
    # E|Z|^3 = 2 sqrt(2/pi) for a standard normal; E|X-1|^3 = 12/e - 2 for Exp(1)
    assert m["beta_over_sigma3"][0] == pytest.approx(2 * math.sqrt(2 / math.pi), rel=5e-3)
    assert m["beta_over_sigma3"][1] == pytest.approx(12 / math.e - 2, rel=1e-2)
    assert m["kurtosis"][0] == pytest.approx(3, rel=1e-2)


def test_berry_esseen_bound_and_errors():
    assert berry_esseen_bound(2.0, 100) == pytest.approx(A0_SHEVTSOVA * 2 / 10)
    with pytest.raises(ValueError, match="positive"):
        berry_esseen_bound(1.0, 0)
    acc = StreamingMoments(torch.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        acc.update(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match="no samples"):
        mean_of_chunks([])


def test_point_mass_dimension_is_nan_not_crash():
    x = torch.zeros(10, 2, dtype=torch.float64)
    x[:, 1] = torch.arange(10.0)
    m = moments(x, batch_size=4)
    assert math.isnan(m["beta_over_sigma3"][0]) and math.isfinite(m["berry_esseen_bound"][1])
