"""sgnlib.stats.shapiro_wilk against scipy.stats.shapiro, column by column."""
import numpy as np
import pytest
import torch
from scipy import stats

from sgnlib.stats import shapiro_wilk

NS = [3, 4, 5, 7, 11, 12, 20, 200, 600, 2000, 5000]
KINDS = ["normal", "student_t2", "exponential", "discrete", "huge_mean", "uniform"]


def draw(kind, n, d, rng):
    if kind == "normal":
        return rng.normal(size=(n, d))
    if kind == "student_t2":
        return rng.standard_t(2, size=(n, d))
    if kind == "exponential":
        return rng.exponential(size=(n, d))
    if kind == "discrete":
        return rng.integers(0, 4, size=(n, d)).astype(float)
    if kind == "huge_mean":
        return 1e9 + rng.normal(size=(n, d))
    return rng.uniform(size=(n, d))


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("kind", KINDS)
def test_matches_scipy(n, kind):
    rng = np.random.default_rng(n * 31 + len(kind))
    d = 40 if n <= 600 else 6
    x = draw(kind, n, d, rng)
    res = shapiro_wilk(torch.from_numpy(x))
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = [stats.shapiro(x[:, j]) for j in range(d)]
    w_ref = np.array([r[0] for r in ref])
    p_ref = np.array([r[1] for r in ref])
    assert np.abs(res.W.numpy() - w_ref).max() <= 1e-9
    assert np.abs(res.p.numpy() - p_ref).max() <= 1e-8


def test_float32_input_and_dim_argument():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 30)).astype(np.float32)
    res = shapiro_wilk(torch.from_numpy(x))
    ref = stats.shapiro(x.astype(np.float64), axis=0)
    np.testing.assert_allclose(res.W.numpy(), ref.statistic, atol=1e-9)
    res_t = shapiro_wilk(torch.from_numpy(x.T.copy()), dim=1)
    assert torch.equal(res.W, res_t.W) and torch.equal(res.p, res_t.p)


def test_chunking_does_not_change_results():
    x = torch.randn(64, 1000, generator=torch.Generator().manual_seed(3))
    a, b = shapiro_wilk(x), shapiro_wilk(x, chunk=77)
    # equal up to float64 summation order inside BLAS
    torch.testing.assert_close(a.W, b.W, rtol=0, atol=1e-13)
    torch.testing.assert_close(a.p, b.p, rtol=0, atol=1e-12)


def test_degenerate_columns_are_marked_not_nan():
    x = torch.randn(30, 4, dtype=torch.float64)
    x[:, 1] = 0.0      # dead ReLU unit: point mass at zero
    x[:, 3] = 2.5
    res = shapiro_wilk(x)
    assert res.degenerate.tolist() == [False, True, False, True]
    assert torch.isfinite(res.W).all() and torch.isfinite(res.p).all()
    assert res.W[1] == 1 and res.p[1] == 1  # as scipy: W = p = 1 for zero range
    W, p = res  # unpacks as a pair
    assert W.shape == p.shape == (4,)


@pytest.mark.parametrize("n", [2, 5001])
def test_sample_size_out_of_range(n):
    with pytest.raises(ValueError, match=r"3\.\.5000"):
        shapiro_wilk(torch.randn(n, 3))


def test_nan_and_inf_counted():
    x = torch.randn(20, 10)
    x[3, 2] = float("nan")
    x[5, 7] = float("inf")
    with pytest.raises(ValueError, match="2 of 10 columns"):
        shapiro_wilk(x)


def test_null_rejection_rate_is_alpha():
    x = torch.randn(200, 20000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rate = float((shapiro_wilk(x).p < 0.05).double().mean())
    assert abs(rate - 0.05) < 0.006  # 4.6 binomial standard errors
