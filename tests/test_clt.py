"""sgnlib.clt: Lemma 1 (eq 34-35), Lemma 2 (eq 36-40), eq 19-21 and 44, Berry-Esseen (eq 13); every result
against a reference (SymPy, scipy, exact formulas, torch autograd), each statement tested both ways."""
import math

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import stats

from sgnlib import clt
from sgnlib.stats import berry_esseen_bound

# ---------------------------------------------------------------- Lemma 1


@pytest.mark.parametrize("k", [2, 3, 4])
def test_lemma1_pair_identity_is_zero_for_every_k_atom_law(k):
    assert clt.lemma1_pair_identity(k) == 0


def test_lipschitz_variance_ratio_against_references():
    x, p = np.array([-1.0, 0.5, 4.0]), np.array([0.2, 0.5, 0.3])
    f = np.tanh
    ref = (np.sum(p * f(x) ** 2) - np.sum(p * f(x)) ** 2) / (np.sum(p * x ** 2) - np.sum(p * x) ** 2)
    assert clt.lipschitz_variance_ratio(f, 1.0, (x, p)) == pytest.approx(ref, rel=1e-12)
    relu = clt.ACTIVATIONS["relu"][0]  # var relu(X), X ~ N(0, 1): 1/2 - 1/(2 pi) exactly
    assert clt.lipschitz_variance_ratio(relu, 1.0, stats.norm()) == pytest.approx(0.5 - 1 / (2 * math.pi), rel=1e-7)


def test_random_lipschitz_constant_is_the_largest_slope():
    rng = np.random.default_rng(3)
    for _ in range(20):
        f, c = clt.random_lipschitz(rng, -2.0, 2.0)
        grid = np.linspace(-3, 3, 200001)
        assert np.abs(np.diff(f(grid)) / np.diff(grid)).max() == pytest.approx(c, rel=1e-6)


def test_lemma1_sufficient_and_tight_over_families():
    fam = clt.lemma1_family()
    assert fam["n"] == 200 and fam["worst"] <= 1 and fam["activations"] <= 1 + 1e-9
    assert fam["affine_min"] == pytest.approx(1, abs=1e-9) and fam["affine_max"] == pytest.approx(1, abs=1e-9)


def test_lemma1_lipschitz_is_not_necessary_but_not_removable():
    out = clt.lemma1_not_necessary()
    assert out["var_x2_normal"] == 2 == stats.norm().moment(4) - 1   # x^2 is not Lipschitz, var finite
    assert out["var_t3"] == 3 == stats.t(3).var() and out["var_x2_t3"] == sp.oo   # finite var X, var X^2 = oo


# ---------------------------------------------------------------- Lemma 2


def test_lemma2_one_hot_symbolic():
    clt.check_lemma2(3)
    a, grads, softmax = clt.lemma2_gradient(3)
    assert sp.simplify(grads[1] - softmax[1]) == 0


@pytest.mark.parametrize("M", [2, 3, 5])
def test_lemma2_any_label_vector_symbolic(M):
    assert clt.lemma2_general_labels(M)


def test_ce_logit_gradient_matches_autograd_for_soft_labels():
    rng = np.random.default_rng(0)
    a, y = rng.normal(size=(50, 7)) * 30, rng.dirichlet(np.ones(7), 50)
    logits = torch.tensor(a, requires_grad=True)
    torch.nn.functional.cross_entropy(logits, torch.tensor(y), reduction="sum").backward()
    np.testing.assert_allclose(clt.ce_logit_gradient(a, y), logits.grad.numpy(), atol=1e-12)


def test_lemma2_bound_over_families_and_its_conditions():
    assert clt.lemma2_family() <= 1
    assert clt.lemma2_limits() == {"y0=1": -1, "y0=2": -2}   # sup 1 not attained; Σy = 2 breaks eq 40
    g = clt.ce_logit_gradient(np.array([[-40.0, 0.0]]), np.array([[2.0, 0.0]]))
    assert g[0, 0] == pytest.approx(-2) and g[0, 1] == pytest.approx(2)


# ---------------------------------------------------------------- eq 19-21, 44


def test_moors_symbolic():
    clt.check_moors()
    assert clt.moors_identity(3) == 0


def test_two_point_lyapunov_symbolic():
    out = clt.two_point_lyapunov()
    q = sp.symbols("q", positive=True)
    assert out["ratio2"] == 0 and out["ez4"] == 0 and out["at_half"] == (1, 1)
    assert sp.expand(out["factor"] - (q - 1) * (4 * q - 1)) == 0


def test_law_moments_against_exact_values():
    m = clt.law_moments(stats.expon())
    assert m["beta_s3"] == pytest.approx(12 / math.e - 2, rel=1e-7) and m["ez4"] == pytest.approx(9, rel=1e-7)
    m = clt.law_moments(stats.norm())
    assert m["beta_s3"] == pytest.approx(2 * math.sqrt(2 / math.pi), rel=1e-7) and m["ez4"] == pytest.approx(3)
    p = 0.3
    m = clt.law_moments((np.array([0.0, 1.0]), np.array([1 - p, p])))
    q = p * (1 - p)
    assert m["beta_s3"] == pytest.approx((1 - 2 * q) / math.sqrt(q)) == clt.standardized_third_moment("bernoulli", p)
    assert m["ez4"] == pytest.approx(stats.bernoulli(p).stats(moments="k") + 3)


def test_eq19_21_44_over_families():
    m = clt.moments_family()
    assert m["n"] == 305 and m["moors_err"] < 1e-6
    assert m["min_ratio"] >= 1 - 1e-9 and m["min_ratio"] == pytest.approx(1)   # Lyapunov, attained
    assert m["max_cs"] <= 1 + 1e-9 and m["eq44"] <= 1 + 1e-9


@pytest.mark.parametrize("nu", [5.0, 7.5])
def test_student_t_abs_moment_against_quadrature(nu):
    for k in (2, 3, 4):
        ref = stats.t(nu).expect(lambda x: abs(x) ** k)
        assert clt.student_t_abs_moment(nu, k) == pytest.approx(ref, rel=1e-6)
    assert clt.student_t_abs_moment(nu, 2) == pytest.approx(nu / (nu - 2))


def test_fourth_moment_is_more_than_berry_esseen_needs():
    b, z = clt.student_t_ratios(3.5)
    assert math.isfinite(b) and z == math.inf
    loose = [z / b for b, z in map(clt.student_t_ratios, (30, 6, 4.5, 4.1, 4.01))]
    assert all(x < y for x, y in zip(loose, loose[1:])) and loose[-1] > 5   # eq 19 arbitrarily loose


# ---------------------------------------------------------------- Berry-Esseen (eq 13)


def test_irwin_hall_and_third_moments_against_scipy():
    s = np.linspace(-0.5, 2.5, 31)
    np.testing.assert_allclose(clt._irwin_hall_cdf(s, 2), stats.triang(0.5, 0, 2).cdf(s), atol=1e-12)
    for law, ref in (("exponential", stats.expon()), ("uniform", stats.uniform())):
        assert clt.standardized_third_moment(law) == pytest.approx(clt.law_moments(ref)["beta_s3"], rel=1e-7)
    assert clt.law_bound("uniform", 9) == berry_esseen_bound(clt.standardized_third_moment("uniform"), 9)


@pytest.mark.parametrize("law", ["bernoulli", "exponential", "uniform"])
def test_berry_esseen_bound_holds(law):
    for n in (1, 4, 16, 30):
        assert clt.kolmogorov_distance_of_sum(law, n) <= clt.law_bound(law, n) + 1e-9
    assert clt.kolmogorov_distance_of_sum(law, 30) < clt.kolmogorov_distance_of_sum(law, 2)


def test_berry_esseen_worst_and_bad_inputs():
    worst, where = clt.berry_esseen_worst()
    assert worst <= 1 and "n =" in where
    with pytest.raises(ValueError):
        clt.kolmogorov_distance_of_sum("cauchy", 3)
    with pytest.raises(ValueError):
        clt.kolmogorov_distance_of_sum("uniform", 31)


def test_findings_carry_their_counterexamples():
    f = {r["where"]: r["finding"] for r in clt.findings()}
    assert "var X² = oo" in f["Lemma 1 (statement vs eq 35)"] and "-> -2" in f["Lemma 2 (eq 40)"]
    assert "min 1.000" in f["Fig 4 discussion"] and "E z⁴ = ∞" in f["eq 19-21, 44 (finite fourth moment)"]
