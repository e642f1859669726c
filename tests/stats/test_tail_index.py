"""Tail-index estimators against independent references: Simsekli et al.'s block-size rule and
estimator re-implemented in NumPy, scipy's alpha-stable draws of known alpha, Gaussian nulls,
scipy's Shapiro-Wilk and scipy's MLE.

Tolerances: with K = 10,000 samples the Mohammadi estimator uses K1 = K2 = 100 and its 1/alpha has a
standard error of about 0.03 per column; the median over 40 columns is within ~0.01 of the truth in
1/alpha, i.e. 0.05 in alpha up to alpha = 2. McCulloch's estimator has a similar spread. We allow 0.1.
Measured on 4000 Gaussian columns (numpy seed 0): at n = 200 (K1 = 10) the unclipped estimate has
median 2.01, 1/mean(1/alpha) = 2.04, mean 2.14 with sd 3.5 (1/alpha has sd 0.11, so alpha has a long
right tail); clipped at 2, half the columns are exactly 2 and the mean is 1.87 (bias -0.13). At
n = 5000 (K1 = 50) the unclipped mean is 2.012 (sd 0.12).
"""
import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.stats import levy_stable

from sgnlib.stats import (composition_control, default_block_size, fit_alpha_stable, levy_backend,
                          matched_null_alpha, mcculloch_alpha, mohammadi_alpha, mohammadi_alpha_pooled,
                          null_alpha_band)


@pytest.fixture(scope="module")
def draws():
    out = {}
    for alpha in (1.2, 1.5, 1.8, 2.0):
        out[alpha] = levy_stable.rvs(alpha, 0.0, size=(10000, 40), random_state=int(alpha * 10))
    return out


def numpy_mohammadi(x, m):
    """Mohammadi et al. (2015) Cor. 2.4 per column, written from the formula: blocks of m rows."""
    n = x.shape[0] // m
    x = x[: n * m]
    y = x.reshape(n, m, -1).sum(axis=1)
    return 1.0 / ((np.log(np.abs(y)).mean(0) - np.log(np.abs(x)).mean(0)) / math.log(m))


def simsekli_pooled(noise):
    """Simsekli et al.'s main.py + utils.alpha_estimator, in NumPy: flatten [P, M] row-major, take the
    largest divisor m <= sqrt(N), log(|.| + eps) of the values and of the block sums."""
    X = noise.reshape(-1, 1)
    N = len(X)
    for i in range(1, 1 + int(math.sqrt(N))):
        if N % i == 0:
            m = i
    Y = X.reshape(N // m, m, -1).sum(1)
    eps = np.spacing(1)
    diff = (np.log(np.linalg.norm(Y, axis=1) + eps).mean() - np.log(np.linalg.norm(X, axis=1) + eps).mean())
    return 1 / (diff / math.log(m))


def test_block_size_is_simsekli_largest_divisor():
    assert default_block_size(200) == 10  # floor(sqrt(200)) = 14 does not divide 200
    assert default_block_size(600) == 24
    assert default_block_size(5000) == 50 and default_block_size(10000) == 100
    assert default_block_size(199) == 14  # prime: no divisor >= 2, falls back to floor(sqrt)
    for K in range(4, 1500):
        k1 = default_block_size(K)
        divisors = [i for i in range(2, K) if K % i == 0 and i * i <= K]
        assert k1 == (max(divisors) if divisors else math.isqrt(K)), K


@pytest.mark.parametrize("K,k1", [(200, None), (600, None), (203, 14)])
def test_mohammadi_equals_numpy_formula(K, k1):
    x = levy_stable.rvs(1.5, 0.0, size=(K, 30), random_state=K)
    got = mohammadi_alpha(torch.from_numpy(x), k1=k1).numpy()
    want = numpy_mohammadi(x, k1 or default_block_size(K))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # chunking over columns changes nothing
    np.testing.assert_allclose(mohammadi_alpha(torch.from_numpy(x), k1=k1, chunk=7).numpy(), got, rtol=1e-14)


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8, 2.0])
def test_mohammadi_recovers_alpha(draws, alpha):
    est = mohammadi_alpha(torch.from_numpy(draws[alpha]))
    assert est.shape == (40,)
    assert float(est.median()) == pytest.approx(alpha, abs=0.1)
    clipped = mohammadi_alpha(torch.from_numpy(draws[alpha]), clip=True)
    assert (clipped <= 2).all() and torch.equal(clipped, est.clamp(max=2.0))


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8, 2.0])
def test_mcculloch_recovers_alpha(draws, alpha):
    est = mcculloch_alpha(torch.from_numpy(draws[alpha]))
    assert float(est.median()) == pytest.approx(alpha, abs=0.1)


def test_gaussian_columns_unclipped_and_clipped():
    g = np.random.default_rng(0)
    x = g.standard_normal((200, 4000))
    a = mohammadi_alpha(torch.from_numpy(x - x.mean(0))).numpy()
    assert np.median(a) == pytest.approx(2.0, abs=0.03)
    assert 1 / np.mean(1 / a) == pytest.approx(2.0, abs=0.06)  # the estimator targets 1/alpha
    assert 0.45 < (a > 2).mean() < 0.55  # half of all Gaussian columns come out above 2
    c = mohammadi_alpha(torch.from_numpy(x - x.mean(0)), clip=True).numpy()
    assert 0.45 < (c == 2.0).mean() < 0.55 and c.mean() - 2 == pytest.approx(-0.13, abs=0.02)
    x = g.standard_normal((5000, 1000))
    a = mohammadi_alpha(torch.from_numpy(x - x.mean(0))).numpy()
    assert a.mean() == pytest.approx(2.0, abs=0.03)  # sd 0.12 per column: standard error 0.004


def test_point_masses_are_nan():
    x = torch.randn(200, 6, generator=torch.Generator().manual_seed(0))
    x[:, 1] = 0.0
    x[:, 2] = 3.1  # float32 constant: centring leaves a constant residue, which gave alpha = 1.0
    x[:, 3] = -1e-30
    noise = x - x.mean(0)
    assert float(noise[0, 2]) == float(noise[-1, 2])
    a = mohammadi_alpha(noise)
    assert torch.isnan(a[1:4]).all() and torch.isfinite(a[[0, 4, 5]]).all()
    assert torch.isnan(mohammadi_alpha(x)[1:4]).all()  # uncentred too
    # a spike among zeros is not a point mass
    y = torch.zeros(200, 1)
    y[7] = 1.0
    assert torch.isfinite(mohammadi_alpha(y - y.mean(0))).all()


def test_pooled_equals_simsekli_numpy_and_measures_scale_spread():
    g = np.random.default_rng(1)
    x = g.standard_normal((200, 500))
    x[:, :50] = 0.0  # dead units: exact zeros enter as log(eps)
    x -= x.mean(0)
    want = simsekli_pooled(x)
    assert mohammadi_alpha_pooled(torch.from_numpy(x)) == pytest.approx(want, rel=1e-10)
    assert mohammadi_alpha_pooled(torch.from_numpy(x), chunk=1000) == pytest.approx(want, rel=1e-10)
    assert want < 1.0  # 10 % zeros drag the pooled estimate far below 2 ...
    assert mohammadi_alpha_pooled(torch.from_numpy(x), drop_point_mass=True) == pytest.approx(
        simsekli_pooled(x[:, 50:]), rel=1e-10)
    assert simsekli_pooled(x[:, 50:]) == pytest.approx(2.0, abs=0.05)  # ... which iid Gaussians give
    # Gaussian columns with log-normal scales: the pooled estimate sees heavy tails, the columns do not
    x = g.standard_normal((200, 5000)) * np.exp(g.standard_normal(5000))
    x -= x.mean(0)
    assert mohammadi_alpha_pooled(torch.from_numpy(x)) < 1.7
    assert float(np.median(mohammadi_alpha(torch.from_numpy(x)).numpy())) == pytest.approx(2.0, abs=0.05)
    assert math.isnan(mohammadi_alpha_pooled(torch.zeros(10, 3), drop_point_mass=True))
    assert math.isnan(mohammadi_alpha_pooled(torch.zeros(10, 3)))  # only zeros: 1/alpha = 0/0


def test_null_band_is_seeded_and_matches_gaussian_columns():
    band = null_alpha_band(200)
    assert np.array_equal(band, null_alpha_band(200, seed=0)) and not np.array_equal(band, null_alpha_band(200, seed=1))
    np.testing.assert_allclose(band, [1.51, 2.01, 3.30], atol=0.03)  # measured, numpy seed 0
    x = np.random.default_rng(0).standard_normal((200, 4000))
    np.testing.assert_allclose(band, np.quantile(mohammadi_alpha(torch.from_numpy(x - x.mean(0))).numpy(),
                                                 [0.05, 0.5, 0.95]), rtol=1e-12)
    b5000 = null_alpha_band(5000, d=1000)
    assert b5000[0] > band[0] and b5000[2] < band[2] and b5000[1] == pytest.approx(2.0, abs=0.02)


def test_matched_null_selects_shapiro_rejections():
    n, d = 200, 2000
    a = matched_null_alpha(n, d=d, seed=3)
    x = np.random.default_rng(3).standard_normal((n, d))
    x -= x.mean(0)
    p = stats.shapiro(x, axis=0).pvalue  # scipy's Shapiro-Wilk as the reference
    assert abs(a.size - int((p < 0.05).sum())) <= 1
    assert 60 < a.size < 140  # ~5 % of 2000 (binomial sd 10)
    assert np.isfinite(a).all() and np.median(a) == pytest.approx(2.0, abs=0.15)


def test_composition_control_by_hand():
    p = np.array([[0.01, 0.01, 0.01, 0.9, 0.01, 0.01],
                  [0.01, 0.20, 0.01, 0.9, 0.01, 0.01],
                  [0.01, 0.30, 0.40, 0.9, 0.01, np.nan]])
    a = np.array([[1.0, 1.2, 1.4, 2.0, 1.9, 1.0],
                  [1.1, 1.9, 1.5, 2.0, 2.0, 1.0],
                  [1.2, 2.0, 2.0, 2.0, 2.1, 1.0]])
    t = composition_control(p, a, [64, 256, 1024])
    assert list(t.batch_size) == [64, 256, 1024] and (t.n_columns == 5).all()  # column 5 has a NaN p
    assert list(t.n_nongaussian) == [4, 3, 2] and (t.n_always == 2).all()  # columns 0 and 4
    np.testing.assert_allclose(t.mean_alpha_nongaussian, [(1.0 + 1.2 + 1.4 + 1.9) / 4, (1.1 + 1.5 + 2.0) / 3,
                                                          (1.2 + 2.1) / 2])
    np.testing.assert_allclose(t.mean_alpha_always, [1.45, 1.55, 1.65])
    np.testing.assert_allclose(t.median_alpha_always, [1.45, 1.55, 1.65])
    with pytest.raises(ValueError, match="batch_sizes"):
        composition_control(p, a[:2], [64, 256, 1024])


def test_mle_fit_one_column_names_backend():
    x = levy_stable.rvs(1.5, 0.0, loc=3.0, scale=0.01, size=400, random_state=5)
    fit = fit_alpha_stable(x)
    assert fit["backend"] == levy_backend() == "pylevy"
    assert fit["tail_index"] == pytest.approx(1.5, abs=0.25)  # one column, n = 400: MLE sd ~ 0.08
    assert fit["scale"] == pytest.approx(0.01, rel=0.3) and fit["loc"] == pytest.approx(3.0, abs=0.005)


def test_pylevy_maximizes_scipys_likelihood():
    """pylevy's symmetric fit, checked on scipy's own density: no alpha 0.05 away does better."""
    x = levy_stable.rvs(1.5, 0.0, size=300, random_state=11)
    f = fit_alpha_stable(x, backend="pylevy", symmetric=True)
    assert f["skewness"] == 0.0 and f["parametrization"] == "S0"

    def loglik(alpha):
        return levy_stable.logpdf(x, alpha, 0.0, loc=f["loc"], scale=f["scale"]).sum()
    best = loglik(f["tail_index"])
    assert best >= loglik(f["tail_index"] - 0.05) and best >= loglik(min(2.0, f["tail_index"] + 0.05))


@pytest.mark.slow
def test_pylevy_agrees_with_scipy_mle():
    """Same symmetric MLE, two implementations (scipy ~15 s at n = 100; measured difference 3e-4)."""
    x = levy_stable.rvs(1.5, 0.0, loc=3.0, scale=0.01, size=100, random_state=5)
    py, sc = fit_alpha_stable(x, "pylevy", symmetric=True), fit_alpha_stable(x, "scipy", symmetric=True)
    assert sc["backend"] == "scipy" and not sc["error"]
    assert py["tail_index"] == pytest.approx(sc["tail_index"], abs=0.02)
    assert py["scale"] == pytest.approx(sc["scale"], rel=0.02) and py["loc"] == pytest.approx(sc["loc"], abs=1e-4)


def test_errors():
    with pytest.raises(ValueError, match="at least 4"):
        mohammadi_alpha(torch.randn(3, 2))
    with pytest.raises(ValueError, match="point mass"):
        fit_alpha_stable(np.ones(50))
    with pytest.raises(ValueError, match="unknown backend"):
        fit_alpha_stable(np.arange(50.0), backend="R")


def test_fit_error_is_reported_not_raised(monkeypatch):
    from scipy.stats import FitError, levy_stable

    def boom(*a, **k):
        raise FitError("Optimization converged to parameters that are outside the range")
    monkeypatch.setattr(levy_stable, "fit", boom)
    fit = fit_alpha_stable(np.random.default_rng(0).normal(size=50), backend="scipy")
    assert np.isnan(fit["tail_index"]) and "outside the range" in fit["error"]


@pytest.mark.slow
def test_fit_script_quick_run(tmp_path):
    """scripts/fit_alpha_stable.py --limit 1 on the committed examples: one row per backend, resumable."""
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    from sgnlib.reader import read_table
    ex = read_table("cpu", "examples")
    if ex is None or not len(ex):
        pytest.skip("no committed cpu examples table")
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "fits.csv"
    cmd = [sys.executable, str(root / "scripts" / "fit_alpha_stable.py"), "--limit", "1", "--backends",
           "pylevy,mohammadi", "--out", str(out)]
    subprocess.run(cmd, check=True, cwd=root, capture_output=True)
    d = pd.read_csv(out)
    assert list(d.backend) == ["pylevy", "mohammadi"] and d[["config_id", "layer", "dim"]].nunique().max() == 1
    assert d.tail_index.between(0.5, 3).all() and (d.n == d.n_batches).all() and d.git_commit.notna().all()
    first = ex[ex.kind == "non-gaussian"].groupby(["config_id", "layer", "dim"], sort=False)
    col = next(iter(first))[1].sort_values("sample").noise.values
    assert d.tail_index.iloc[1] == pytest.approx(float(mohammadi_alpha(torch.from_numpy(col - col.mean()))[0]))
    subprocess.run(cmd, check=True, cwd=root, capture_output=True)  # resumed: nothing new
    assert len(pd.read_csv(out)) == 2
