"""Scale-free claims: the paper's lemmas, propositions and equations, checked symbolically or on exact laws.

Each theory check returns (ok, ours, evidence) and is cached: it runs once per process however many
scales are evaluated. A check that holds gives REPRODUCED, one that fails NOT REPRODUCED.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .core import NOT_REPRODUCED, REPRODUCED, Verdict, kind

# ---------------------------------------------------------------- the checks


@functools.lru_cache(maxsize=None)
def check_zero_mean():
    """Eq 7: the mean of the minibatch gradient over all minibatches equals the full gradient."""
    import itertools
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(7, 3)), rng.normal(size=7), rng.normal(size=3)
    per_sample = (X @ w - y)[:, None] * X  # gradient of (x w - y)^2 / 2 per sample
    full = per_sample.mean(0)
    worst = 0.0
    for b in (1, 3, 5):
        mini = np.array([per_sample[list(s)].mean(0) for s in itertools.combinations(range(7), b)])
        worst = max(worst, float(np.abs(mini.mean(0) - full).max()))
    return worst < 1e-12, f"max |E[minibatch grad] - full grad| = {worst:.1e}", \
        "all minibatches of size 1, 3, 5 of a 7-sample least-squares problem, enumerated exactly"


@functools.lru_cache(maxsize=None)
def check_lemma1():
    """Lemma 1 / eq 35: var f(X) <= c^2 var X for Lipschitz f (c = Lipschitz constant)."""
    from scipy import special, stats
    acts = {"relu": (lambda x: np.maximum(x, 0), 1.0), "tanh": (np.tanh, 1.0),
            "sigmoid": (special.expit, 0.25), "softplus": (lambda x: np.logaddexp(0, x), 1.0),
            "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), 1.0)}
    laws = {"N(0.3, 2^2)": stats.norm(0.3, 2), "Laplace": stats.laplace(0.5, 1), "t_5": stats.t(5),
            "U(0, 255)": stats.uniform(0, 255), "Exp(1)": stats.expon()}
    worst = 0.0
    for f, c in acts.values():
        for law in laws.values():
            m = law.expect(f)
            v = law.expect(lambda x: (f(x) - m) ** 2)
            worst = max(worst, v / (c * c * law.var()))
    return worst <= 1 + 1e-9, f"max var f(X) / (c² var X) = {worst:.3f}", \
        f"{len(acts)} Lipschitz activations x {len(laws)} finite-variance laws, by quadrature"


@functools.lru_cache(maxsize=None)
def check_lemma2():
    """Lemma 2 / eq 40: |d L_CE / d a_i| <= 1 (SymPy: the gradient is softmax - one-hot)."""
    from .. import langevin as L
    try:
        L.check_lemma2(4)
    except AssertionError as e:
        return False, str(e), "sgnlib.langevin.check_lemma2"
    rng = np.random.default_rng(0)
    a = rng.normal(scale=30, size=(10000, 10))
    p = np.exp(a - a.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = np.eye(10)[rng.integers(0, 10, 10000)]
    worst = float(np.abs(p - y).max())
    return worst <= 1, f"max |∂L/∂a_i| = {worst:.4f} over 10⁴ random logits", \
        "SymPy: ∂L/∂a_i = softmax_i - y_i for M = 4, so each entry lies in (-1, 1)"


@functools.lru_cache(maxsize=None)
def check_berry_esseen():
    """Theorem 1 / eq 13 with A0 = 0.4748 on exact laws (Bernoulli, exponential, uniform sums)."""
    from .. import langevin as L
    from ..stats.moments import A0_SHEVTSOVA
    worst, where = 0.0, ""
    for law in ("bernoulli", "exponential", "uniform"):
        for n in (1, 2, 5, 10, 30):
            ks = L.kolmogorov_distance_of_sum(law, n)
            bound = A0_SHEVTSOVA * L.standardized_third_moment(law) / math.sqrt(n)
            if ks / bound > worst:
                worst, where = ks / bound, f"{law}, n = {n}"
    return worst <= 1, f"max sup|F_n - Φ| / bound = {worst:.3f} ({where})", \
        "exact CDFs of standardized sums of n = 1..30 Bernoulli(0.3), Exp(1), U(0,1) draws"


@functools.lru_cache(maxsize=None)
def check_moors():
    """Eq 19-21 and 44: E z^4 = var z^2 + 1, 1 <= beta/sigma^3 <= sqrt(E z^4), (E|X|^3)^(4/3) <= E X^4."""
    from scipy import stats
    laws = {"Exp(1)": stats.expon(), "Laplace": stats.laplace(), "t_7": stats.t(7), "U(0,1)": stats.uniform(),
            "Gamma(0.5)": stats.gamma(0.5), "Bernoulli(0.1)": None}
    worst_moors, ratios = 0.0, []
    for name, law in laws.items():
        if law is None:
            p = 0.1
            vals, probs = np.array([-p, 1 - p]), np.array([1 - p, p])
            E = lambda f: float((f(vals) * probs).sum())  # noqa: E731
        else:
            mu = law.mean()
            E = lambda f, law=law, mu=mu: law.expect(lambda x: f(x - mu))  # noqa: E731
        s2 = E(lambda d: d ** 2)
        beta = E(lambda d: np.abs(d) ** 3)
        ez4 = E(lambda d: d ** 4) / s2 ** 2
        var_z2 = E(lambda d: (d ** 2 / s2 - 1) ** 2)
        worst_moors = max(worst_moors, abs(ez4 - (var_z2 + 1)))
        r = beta / s2 ** 1.5
        ratios.append((r, math.sqrt(ez4), beta ** (4 / 3), E(lambda d: d ** 4)))
    ok = worst_moors < 1e-6 and all(1 - 1e-9 <= r <= b + 1e-9 and j <= k + 1e-9 for r, b, j, k in ratios)
    lo = min(r for r, *_ in ratios)
    return ok, f"|E z⁴ - var z² - 1| <= {worst_moors:.0e}; β/σ³ in [{lo:.3f}, …] <= √E z⁴ on all laws", \
        f"{len(laws)} laws by quadrature (symbolic version: sgnlib.langevin.check_moors); β/σ³ >= 1 always"


@functools.lru_cache(maxsize=None)
def check_eq26():
    from .. import langevin as L
    try:
        L.check_eq26()
    except AssertionError as e:
        return False, str(e), "sgnlib.langevin.check_eq26"
    return True, "ρ = 1/(1+γΔt/m), α = Δt/(γ+m/Δt); ρ → 0, α → Δt/γ as γ → ∞", \
        "SymPy: eq 25 solved for v_n equals eq 48 and eq 49; limits give eq 28; the inverse map round-trips"


_H = [[2, 1], [1, 3]]


@functools.lru_cache(maxsize=None)
def check_prop1():
    """Prop 1: for a generic (non-commuting) constant D and quadratic potential no potential psi exists."""
    from .. import langevin as L
    asym = L.potential_condition_asymmetry(_H, [[1, 0], [0, 2]])
    ok = any(x != 0 for x in asym)
    return ok, f"D⁻¹H - (D⁻¹H)ᵀ = {list(asym)} for H = {_H}, D = diag(1, 2)", \
        "SymPy: eq 62's Jacobian 2γD⁻¹H is not symmetric, so eq 58 fails and no Gibbs form exp(-ψ) exists"


@functools.lru_cache(maxsize=None)
def check_prop1_isotropic_only():
    """Proof of Prop 1: 'eq 62 holds only when D = D I'. Holds iff D^-1 H is symmetric for every
    non-isotropic D; D = H (the setting of Prop 2) is a counterexample."""
    from .. import langevin as L
    asym = L.potential_condition_asymmetry(_H, _H)
    holds = any(x != 0 for x in asym)
    return holds, f"D = H = {_H} (not isotropic): D⁻¹H - (D⁻¹H)ᵀ = {list(asym)}", \
        "SymPy: eq 62 is integrable whenever D commutes with H, e.g. D ∝ H as Prop 2 itself assumes"


@functools.lru_cache(maxsize=None)
def check_prop1_current():
    """Proof of Prop 1: 'J_theta = -v pi != 0 in a stationary state, so the Kramers equation is not compatible
    with detailed balance'. With constant isotropic D = c I the Gibbs law exp(-2 gamma/c (phi + v^2/2)) is
    stationary although its current J_theta = -v pi is not zero; the statement holds iff that law is not
    stationary."""
    import sympy as sp

    from .. import langevin as L
    gamma, c = sp.symbols("gamma c", positive=True)
    h11, h12, h22 = sp.symbols("h11 h12 h22", real=True)
    H = sp.Matrix([[h11, h12], [h12, h22]])
    s = c / (2 * gamma)
    stationary = L.kramers_lyapunov_residual(H, gamma, c * sp.eye(2), s * H.inv(), s * sp.eye(2)) == sp.zeros(4)
    return not stationary, f"D = c I: Gibbs covariance (c/2γ)·diag(H⁻¹, I) stationary: {stationary}", \
        "SymPy Lyapunov residual, general symmetric 2x2 H: a stationary Gibbs state with J_θ = -vπ ≠ 0"


@functools.lru_cache(maxsize=None)
def check_prop2():
    import sympy as sp

    from .. import langevin as L
    ok_sym = L.lyapunov_residual_prop2() == sp.zeros(4)
    H = np.array([[2.0, 0.6], [0.6, 1.0]])
    S = L.momentum_sgd_stationary_cov(H, H, 2.0, 0.01)
    err = float(np.abs(S - L.prop2_prediction(H, 2.0, 0.01)).max() / np.abs(S).max())
    return ok_sym and err < 0.05, \
        f"Lyapunov residual zero: {ok_sym}; momentum SGD at Δt = 0.01: max rel. error {err:.3f}", \
        "SymPy (general symmetric 2x2 H, D = Δt H) and the exact stationary covariance of momentum SGD"


CHECKS = {"zero_mean": check_zero_mean, "lemma1": check_lemma1, "lemma2": check_lemma2,
          "berry_esseen": check_berry_esseen, "moors": check_moors, "eq26": check_eq26, "prop1": check_prop1,
          "prop1_isotropic_only": check_prop1_isotropic_only, "prop1_current": check_prop1_current,
          "prop2": check_prop2}


def _theory_kind(name):
    def fn(tables: dict, params: dict) -> Verdict:
        ok, ours, evidence = CHECKS[name]()
        return Verdict(REPRODUCED if ok else NOT_REPRODUCED, params.get("paper", "holds"),
                       ours, "holds" if ok else "fails", evidence)
    fn.__name__ = f"theory_{name}"
    fn.__doc__ = f"REPRODUCED when the check `{name}` holds, NOT REPRODUCED when it fails."
    return kind(f"theory_{name}")(fn)


for _name in CHECKS:
    _theory_kind(_name)
