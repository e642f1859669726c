"""Tail-index estimators recover alpha on scipy's alpha-stable draws.

Tolerances: with K = 10,000 samples per dimension the Mohammadi estimator uses K1 = K2 = 100 and
its 1/alpha has a standard error of about 0.03 per dimension; the median over 40 dimensions is then
within ~0.01 of the truth in 1/alpha, i.e. within 0.05 in alpha up to alpha = 2. McCulloch's quantile
estimator has a similar spread at this K. We allow 0.1 for both (over 3 standard errors).
"""
import numpy as np
import pytest
import torch
from scipy.stats import levy_stable

from sgnlib.stats import fit_alpha_stable, levy_backend, mcculloch_alpha, mohammadi_alpha


@pytest.fixture(scope="module")
def draws():
    out = {}
    for alpha in (1.2, 1.5, 1.8, 2.0):
        out[alpha] = levy_stable.rvs(alpha, 0.0, size=(10000, 40), random_state=int(alpha * 10))
    return out


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8, 2.0])
def test_mohammadi_recovers_alpha(draws, alpha):
    est = mohammadi_alpha(torch.from_numpy(draws[alpha]))
    assert est.shape == (40,) and (est <= 2).all()
    assert float(est.median()) == pytest.approx(alpha, abs=0.1)


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8, 2.0])
def test_mcculloch_recovers_alpha(draws, alpha):
    est = mcculloch_alpha(torch.from_numpy(draws[alpha]))
    assert float(est.median()) == pytest.approx(alpha, abs=0.1)


def test_gaussian_gives_two():
    x = torch.randn(10000, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert float(mohammadi_alpha(x).median()) == pytest.approx(2.0, abs=0.05)


def test_mle_fit_one_column_names_backend():
    x = levy_stable.rvs(1.5, 0.0, loc=3.0, scale=0.01, size=400, random_state=5)
    fit = fit_alpha_stable(x)
    assert fit["backend"] == levy_backend()
    assert fit["alpha"] == pytest.approx(1.5, abs=0.25)  # one column, n = 400: MLE sd ~ 0.08
    assert fit["scale"] == pytest.approx(0.01, rel=0.3)


def test_errors():
    with pytest.raises(ValueError, match="at least 4"):
        mohammadi_alpha(torch.randn(3, 2))
    with pytest.raises(ValueError, match="point mass"):
        fit_alpha_stable(np.ones(50))


def test_fit_error_is_reported_not_raised(monkeypatch):
    from scipy.stats import FitError, levy_stable

    def boom(*a, **k):
        raise FitError("Optimization converged to parameters that are outside the range")
    monkeypatch.setattr(levy_stable, "fit", boom)
    fit = fit_alpha_stable(np.random.default_rng(0).normal(size=50), backend="scipy")
    assert np.isnan(fit["alpha"]) and "outside the range" in fit["error"]
