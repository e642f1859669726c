"""Theory checks of the paper (eq 19-21, 26-28, 48-49, 62, Prop 1, Prop 2, Lemma 2)."""
import math

import numpy as np
import pytest
import sympy as sp
import torch

from sgnlib import langevin as L
from sgnlib.stats import A0_SHEVTSOVA


def test_eq26_eq48_eq49_limit_and_inverse():
    out = L.check_eq26()
    assert out["rho"] is not None


def test_numeric_inverse_map_roundtrip():
    rho, alpha = L.momentum_from_langevin(3.0, 0.5, 0.1)
    g, m = L.langevin_from_momentum(rho, alpha, 0.1)
    assert g == pytest.approx(3.0) and m == pytest.approx(0.5)
    with pytest.raises(ValueError):
        L.langevin_from_momentum(1.0, 0.1, 0.1)


def test_prop1_potential_condition():
    H = [[2, 1], [1, 3]]
    assert L.potential_condition_asymmetry(H, [[1, 0], [0, 4]]) != sp.zeros(2)   # anisotropic, not aligned
    assert L.potential_condition_asymmetry(H, [[2, 0], [0, 2]]) == sp.zeros(2)   # D = d I


def test_prop2_lyapunov_symbolic():
    assert L.lyapunov_residual_prop2() == sp.zeros(4)


def test_prop2_momentum_sgd_converges_to_prediction_as_dt_shrinks():
    H = np.array([[2.0, 0.6], [0.6, 1.0]])
    errs = []
    for dt in (0.1, 0.03, 0.01):
        S = L.momentum_sgd_stationary_cov(H, H, gamma=2.0, dt=dt)
        P = L.prop2_prediction(H, 2.0, dt)
        errs.append(np.abs(S - P).max() / np.abs(P).max())
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.05
    # D not proportional to H: theta covariance is no longer isotropic
    S = L.momentum_sgd_stationary_cov(H, np.eye(2), gamma=2.0, dt=0.01)
    th = S[:2, :2]
    assert abs(th[0, 0] - th[1, 1]) / th.max() > 0.3


def test_prop2_monte_carlo_matches_exact():
    H = np.array([[2.0, 0.6], [0.6, 1.0]])
    emp = L.simulate_momentum_sgd(H, H, 2.0, 0.05, 200000, seed=1)
    exact = L.momentum_sgd_stationary_cov(H, H, 2.0, 0.05)
    assert np.abs(emp - exact).max() / np.abs(exact).max() < 0.1


def test_lemma2_symbolic_and_numeric():
    L.check_lemma2(3)
    logits = torch.randn(1000, 10, requires_grad=True, generator=torch.Generator().manual_seed(0)) * 20
    logits.retain_grad()
    y = torch.randint(0, 10, (1000,))
    torch.nn.functional.cross_entropy(logits, y, reduction="sum").backward()
    assert logits.grad.abs().max() <= 1.0


def test_lemma1_lipschitz_variance_bound():
    x = torch.randn(100000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3 + 1
    for f, c in ((torch.relu, 1.0), (torch.tanh, 1.0), (torch.nn.functional.softplus, 1.0)):
        assert f(x).var() <= c ** 2 * x.var()


def test_moors_identity_sympy():
    L.check_moors()


@pytest.mark.parametrize("law", ["bernoulli", "exponential", "uniform"])
def test_berry_esseen_bound_holds(law):
    r = L.standardized_third_moment(law)
    for n in (1, 4, 16, 30):
        dist = L.kolmogorov_distance_of_sum(law, n)
        assert dist <= A0_SHEVTSOVA * r / math.sqrt(n) + 1e-9
    assert L.kolmogorov_distance_of_sum(law, 30) < L.kolmogorov_distance_of_sum(law, 2)
