"""sgnlib.langevin: eq 22-33, 48-49, 54-62, Prop 1 and Prop 2, each against a reference (SymPy, scipy,
exact formulas) and each condition tested both ways over random families."""

import numpy as np
import pytest
import sympy as sp

from sgnlib import langevin as L


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


# ---------------------------------------------------------------- Prop 1 over families


def test_random_spd_against_numpy():
    rng = np.random.default_rng(0)
    for d in (2, 5):
        H = L.random_spd(rng, d, 0.5, 2.0)
        ev = np.linalg.eigvalsh(H)
        assert np.allclose(H, H.T) and ev.min() >= 0.5 - 1e-12 and ev.max() <= 2.0 + 1e-12


def test_commutator_form_symbolic():
    assert L.commutator_form().is_zero_matrix   # eq 58 holds iff [H, D] = 0


def test_numeric_asymmetry_matches_sympy():
    H, D = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])
    ref = np.array(L.potential_condition_asymmetry([[2, 1], [1, 3]], [[1, 0], [0, 4]]), float)
    J = np.linalg.solve(D, H)
    assert L.asymmetry(H, D) == pytest.approx(np.linalg.norm(ref) / np.linalg.norm(J))


def test_prop1_family_generic_breaks_commuting_keeps():
    p = L.prop1_family()
    assert p["generic_broken"] == p["n"] == 200 and p["generic_min"] > 1e-9
    assert p["commuting_max"] < 1e-10 and p["isotropic_max"] < 1e-12   # anisotropic D = poly(H) is enough


@pytest.mark.parametrize("d", [1, 2])
def test_isotropic_constant_d_gives_gibbs_for_any_potential(d):
    assert L.gibbs_isotropic_residual(d) == 0


def test_kramers_residual_detects_a_wrong_temperature():
    gamma, c, t, v = sp.symbols("gamma c theta v", positive=True)
    phi = t ** 2 / 2
    pi = sp.exp(-gamma / c * (phi + v ** 2 / 2))        # half the right inverse temperature 2 gamma / c
    assert L.kramers_stationary_residual(pi, phi, sp.Matrix([[c]]), gamma, [t], [v]) != 0


def test_state_dependent_isotropic_d_breaks_eq60():
    gamma, t = sp.Symbol("gamma", positive=True), sp.Symbol("theta", real=True)
    c, h, phi = (sp.Function(n)(t) for n in ("c", "h", "phi"))
    r = L.eq60_state_dependent_residual()
    assert sp.simplify(r[3] + gamma * c.diff(t) / c ** 2) == 0
    assert sp.simplify(r[1] - (h.diff(t) - 2 * gamma * phi.diff(t) / c)) == 0 and set(r) == {1, 3}


# ---------------------------------------------------------------- Prop 2 over families


def test_continuous_stationary_cov_solves_lyapunov_and_gives_eq33():
    H = np.array([[2.0, 0.6], [0.6, 1.0]])
    S = L.continuous_stationary_cov(H, 0.01 * H, 2.0)
    res = L.kramers_lyapunov_residual(sp.Matrix(H), 2.0, sp.Matrix(0.01 * H), sp.Matrix(S[:2, :2]),
                                      sp.Matrix(S[2:, 2:]))
    assert np.abs(np.array(res, float)).max() < 1e-12 and np.abs(S[:2, 2:]).max() < 1e-12
    np.testing.assert_allclose(S, L.prop2_prediction(H, 2.0, 0.01), atol=1e-14)


def test_prop2_needs_c_equal_h_symbolically():
    dt = sp.Symbol("Delta_t", positive=True)
    h11, h12, h22, d11, d12, d22 = sp.symbols("h11 h12 h22 d11 d12 d22", real=True)
    assert L.prop2_forced_diffusion() == [{d11: dt * h11, d12: dt * h12, d22: dt * h22}]


def test_prop2_over_families():
    p = L.prop2_family()
    e = p["H_worst"]
    assert e[0] > e[1] > e[2] and e[2] < 0.01 and p["halving_min"] > 1.8     # sufficient as dt -> 0, O(dt)
    assert p["kappa_worst"] < 1e-10                                          # C = kappa H: kappa dt/(2 gamma) I
    assert p["iso_min"] > 0.1 and p["rand_min"] > 0.01                       # C != H: eq 33 fails
    assert p["disc_worst"] < 0.02                                            # discrete -> continuous for any C


def test_findings_carry_their_counterexamples():
    f = {r["where"]: r["finding"] for r in L.findings()}
    assert "-γc′(θ)/c(θ)²·v³" in f["proof of Prop 1 (after eq 62)"]
    assert "residual zero" in f["proof of Prop 1 (J_θ ≠ 0)"] and "200/200" in f["proof of Prop 1 (J_θ ≠ 0)"]
    assert "unique solution" in f["Prop 2 (eq 31, 33)"]
