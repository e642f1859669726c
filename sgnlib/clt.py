"""Why the noise should be Gaussian: finite variance and the CLT rate (eq 5-21, supp. eq 34-44).

Lemma 1 (eq 34-35), Lemma 2 (eq 36-40), Moors' identity and the kurtosis bound (eq 19-21, 44) and
the Berry-Esseen theorem (eq 13), each checked symbolically (SymPy, general symbols), over random
families of laws and functions, and read critically: `findings` lists where a statement is stronger
or weaker than what holds, each with its counterexample.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from .clt_berry_esseen import (_irwin_hall_cdf, berry_esseen_worst,  # noqa: F401  (Theorem 1)
                               kolmogorov_distance_of_sum, law_bound, standardized_third_moment)

# ------------------------------------------------ laws: scipy frozen or (atoms, probabilities)


def _expect(law):
    """E[g(X)] for a scipy frozen law (quadrature) or a discrete law given as (atoms,
    probabilities)."""
    if isinstance(law, tuple):
        x, p = np.asarray(law[0], float), np.asarray(law[1], float)
        return lambda g: float(np.sum(p * g(x)))
    return law.expect


def random_discrete_law(rng, k: int | None = None):
    """A k-atom law (k in 2..12): heavy-ish atoms (Student t, random df) with Dirichlet weights."""
    k = k or int(rng.integers(2, 13))
    x = rng.standard_t(rng.uniform(0.7, 6), size=k) * 10 ** rng.uniform(-2, 2)
    return x, rng.dirichlet(np.full(k, rng.uniform(0.2, 3)))


def law_moments(law) -> dict:
    """Centred moments of one summand chi = X - E X: sigma^2 (eq 18), beta = E|chi|^3 (eq 17),
    beta/sigma^3, E z^4 and var z^2 with z = chi / sigma (eq 19-20), E chi^4 (eq 44)."""
    E = _expect(law)
    mu = E(lambda x: x)
    s2, b, m4 = (E(lambda x, k=k: np.abs(x - mu) ** k) for k in (2, 3, 4))
    return {"sigma2": s2, "beta": b, "m4": m4, "beta_s3": b / s2 ** 1.5, "ez4": m4 / s2 ** 2,
            "var_z2": E(lambda x: ((x - mu) ** 2 / s2 - 1) ** 2)}


# ------------------------------------------------ Lemma 1 (eq 34-35)

ACTIVATIONS = {"relu": (lambda x: np.maximum(x, 0), 1.0), "tanh": (np.tanh, 1.0),
               "sigmoid": (lambda x: 0.5 * (1 + np.tanh(x / 2)), 0.25),
               "softplus": (lambda x: np.logaddexp(0, x), 1.0),
               "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), 1.0)}


def lipschitz_variance_ratio(f, c: float, law) -> float:
    """Lemma 1, eq 35: var f(X) / (c^2 var X), at most 1 when f is c-Lipschitz."""
    E = _expect(law)
    m, mx = E(f), E(lambda x: x)
    return E(lambda x: (f(x) - m) ** 2) / (c * c * E(lambda x: (x - mx) ** 2))


def lemma1_pair_identity(k: int = 3) -> sp.Expr:
    """Eq 35 for every k-atom law: var Y - 1/2 sum_ij p_i p_j (y_i - y_j)^2, zero (SymPy). With
    |f(x_i) - f(x_j)| <= c |x_i - x_j| it gives var f(X) <= c^2 var X term by term."""
    p = sp.symbols(f"p0:{k - 1}", positive=True)
    P = (*p, 1 - sum(p))
    y = sp.symbols(f"y0:{k}", real=True)
    mean = sum(pi * yi for pi, yi in zip(P, y))
    var = sum(pi * (yi - mean) ** 2 for pi, yi in zip(P, y))
    pairs = sum(P[i] * P[j] * (y[i] - y[j]) ** 2 for i in range(k) for j in range(k))
    return sp.expand(var - pairs / 2)


def random_lipschitz(rng, lo: float, hi: float):
    """A piecewise-linear f with random knots in [lo, hi] and slopes in [-3, 3]; c = max |slope|
    exactly."""
    knots = np.sort(rng.uniform(lo, hi, int(rng.integers(2, 9))))
    slopes = rng.uniform(-3, 3, len(knots) - 1)
    vals = rng.normal() + np.concatenate([[0.0], np.cumsum(slopes * np.diff(knots))])
    return (lambda x: np.interp(x, knots, vals)), float(np.abs(slopes).max())


@functools.lru_cache(maxsize=None)
def lemma1_family(n: int = 200, seed: int = 0) -> dict:
    """Eq 35 over n random (discrete law, piecewise-linear f) pairs, c x + b (tightness), and the
    activations on five continuous laws by quadrature. Max ratios; Lemma 1 needs all <= 1."""
    from scipy import stats
    rng = np.random.default_rng(seed)
    worst, affine = 0.0, []
    for _ in range(n):
        law = random_discrete_law(rng)
        f, c = random_lipschitz(rng, law[0].min(), law[0].max())
        worst = max(worst, lipschitz_variance_ratio(f, c, law))
        c = rng.uniform(0.1, 5)
        affine.append(lipschitz_variance_ratio(lambda x, c=c: c * x + 1, c, law))
    laws = (stats.norm(0.3, 2), stats.laplace(0.5, 1), stats.t(5), stats.uniform(0, 255),
            stats.expon())
    acts = max(lipschitz_variance_ratio(f, c, law) for f, c in ACTIVATIONS.values() for law in laws)
    return {"n": n, "worst": worst, "affine_min": min(affine), "affine_max": max(affine),
            "activations": acts}


def lemma1_not_necessary() -> dict:
    """Lipschitz is not necessary: f(x) = x^2 has var f(X) = 2 for X ~ N(0, 1) (SymPy), yet it
    cannot be dropped: X ~ t_3 has var X = 3 and var X^2 = oo."""
    from sympy.stats import Normal, variance
    x = sp.symbols("x", real=True)
    t3 = 6 * sp.sqrt(3) / (sp.pi * (3 + x ** 2) ** 2)  # Student t pdf, 3 degrees of freedom
    mom = [sp.integrate(x ** k * t3, (x, -sp.oo, sp.oo)) for k in (2, 4)]
    return {"var_x2_normal": variance(Normal("X", 0, 1) ** 2), "var_t3": mom[0],
            "var_x2_t3": mom[1] - mom[0] ** 2}


# ------------------------------------------------ Lemma 2 (eq 36-40)


def lemma2_gradient(M: int = 3):
    """d L_CE / d a_i for softmax cross-entropy with M classes, label k = 0 (one-hot),
    simplified."""
    a = sp.symbols(f"a0:{M}", real=True)
    Z = sum(sp.exp(x) for x in a)
    loss = -sp.log(sp.exp(a[0]) / Z)
    return a, [sp.simplify(sp.diff(loss, x)) for x in a], [sp.exp(x) / Z for x in a]


def check_lemma2(M: int = 3) -> None:
    """Assert d L/d a_i = softmax_i - y_i symbolically, hence |d L/d a_i| <= 1 (eq 40)."""
    a, grads, softmax = lemma2_gradient(M)
    for i, (gi, si) in enumerate(zip(grads, softmax)):
        assert sp.simplify(gi - (si - (1 if i == 0 else 0))) == 0, f"Lemma 2 fails for a_{i}"


def lemma2_general_labels(M: int) -> bool:
    """Eq 36-39 for any label vector y (SymPy): d L/d a_i = softmax_i * sum_j y_j - y_i; for a
    probability vector y this lies in (-1, 1) (eq 40)."""
    a, y = sp.symbols(f"a0:{M}", real=True), sp.symbols(f"y0:{M}", nonnegative=True)
    Z = sum(sp.exp(v) for v in a)
    loss = -sum(yj * sp.log(sp.exp(aj) / Z) for yj, aj in zip(y, a))
    return all(sp.simplify(sp.diff(loss, a[i]) - (sp.exp(a[i]) / Z * sum(y) - y[i])) == 0
               for i in range(M))


def ce_logit_gradient(logits, labels) -> np.ndarray:
    """Eq 39 numerically: softmax(a) * sum(y) - y, stable in float64."""
    a = np.asarray(logits, float)
    p = np.exp(a - a.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return p * np.asarray(labels).sum(-1, keepdims=True) - labels


def lemma2_family(n: int = 200, seed: int = 0) -> float:
    """Eq 40 over n random instances: M in 2..1000 classes, logit scale 0.1..1000, one-hot or
    Dirichlet soft labels; the largest |d L/d a_i|."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for i in range(n):
        M = int(rng.integers(2, 1001))
        a = rng.normal(size=(16, M)) * 10 ** rng.uniform(-1, 3)
        y = np.eye(M)[rng.integers(0, M, 16)] if i % 2 else rng.dirichlet(np.full(M, 0.5), 16)
        worst = max(worst, float(np.abs(ce_logit_gradient(a, y)).max()))
    return worst


def lemma2_limits() -> dict:
    """M = 2, a_0 -> -oo (SymPy): with y = (1, 0) d L/d a_0 -> -1 (a supremum, never attained at
    finite logits); with y = (2, 0), not a probability vector, it -> -2, so eq 40 needs
    sum_j y_j = 1."""
    a0, a1 = sp.symbols("a0 a1", real=True)
    p0 = sp.exp(a0) / (sp.exp(a0) + sp.exp(a1))
    return {f"y0={y0}": sp.limit(p0 * y0 - y0, a0, -sp.oo) for y0 in (1, 2)}


# ------------------------------------------------ eq 19-21, 44: Moors, Cauchy-Schwarz, Lyapunov


def check_moors() -> None:
    """Eq 20: E z^4 = var z^2 + 1 for a standardized z, and eq 19: beta/sigma^3 <= sqrt(E z^4), on
    an exponential law (SymPy, exact)."""
    from sympy.stats import E, Exponential, variance
    X = Exponential("X", 1)
    mu, var = E(X), variance(X)
    z = (X - mu) / sp.sqrt(var)
    ez4 = sp.simplify(E(z ** 4))
    assert sp.simplify(ez4 - (variance(z ** 2) + 1)) == 0
    beta = sp.simplify(E(sp.Abs(X - mu) ** 3))
    assert float(beta / var ** sp.Rational(3, 2)) <= math.sqrt(float(ez4))


def moors_identity(k: int = 3) -> sp.Expr:
    """Eq 20 on every k-atom law (general atoms and weights, SymPy): E z^4 - var z^2 - 1, zero."""
    p = sp.symbols(f"p0:{k - 1}", positive=True)
    P, x = (*p, 1 - sum(p)), sp.symbols(f"x0:{k}", real=True)
    mu = sum(pi * xi for pi, xi in zip(P, x))
    s2 = sum(pi * (xi - mu) ** 2 for pi, xi in zip(P, x))
    ez2 = sum(pi * (xi - mu) ** 2 / s2 for pi, xi in zip(P, x))
    ez4 = sum(pi * (xi - mu) ** 4 / s2 ** 2 for pi, xi in zip(P, x))
    var_z2 = sum(pi * ((xi - mu) ** 2 / s2 - ez2) ** 2 for pi, xi in zip(P, x))
    return sp.cancel(sp.together(ez4 - var_z2 - 1))


def two_point_lyapunov() -> dict:
    """Every two-point law standardizes to a Bernoulli(p); with q = p(1-p) (SymPy): (beta/sigma^3)^2
    = (1 - 2q)^2 / q, E z^4 = (1 - 3q)/q, and (1 - 2q)^2 - q = (q - 1)(4q - 1) >= 0 on (0, 1/4], so
    beta/sigma^3 >= 1 (Lyapunov), with 1 = beta/sigma^3 = sqrt(E z^4) at p = 1/2: both ends of
    1 <= beta/sigma^3 <= sqrt(E z^4) (eq 19) are attained."""
    p, q = sp.symbols("p q", positive=True)
    pq = p * (1 - p)
    ratio2 = (pq * ((1 - p) ** 2 + p ** 2)) ** 2 / pq ** 3
    ez4 = (p * (1 - p) ** 4 + (1 - p) * p ** 4) / pq ** 2
    half = sp.Rational(1, 2)
    return {"ratio2": sp.cancel(ratio2 - ((1 - 2 * q) ** 2 / q).subs(q, pq)),
            "ez4": sp.cancel(ez4 - ((1 - 3 * q) / q).subs(q, pq)),
            "factor": sp.factor((1 - 2 * q) ** 2 - q),
            "at_half": (sp.sqrt(ratio2.subs(p, half)), sp.sqrt(ez4.subs(p, half)))}


@functools.lru_cache(maxsize=None)
def moments_family(n: int = 200, seed: int = 0) -> dict:
    """Eq 19-21 and 44 over n random discrete laws, Bernoulli(p) on a grid and six continuous laws:
    min beta/sigma^3 (>= 1), max (beta/sigma^3) / sqrt(E z^4) (<= 1), max |E z^4 - var z^2 - 1|,
    max (E|chi|^3)^(4/3) / E chi^4 (<= 1)."""
    from scipy import stats
    rng = np.random.default_rng(seed)
    laws = [random_discrete_law(rng) for _ in range(n)]
    laws += [(np.array([0.0, 1.0]), np.array([1 - p, p])) for p in np.linspace(0.01, 0.99, 99)]
    laws += [stats.expon(), stats.laplace(), stats.t(7), stats.uniform(), stats.gamma(0.5),
             stats.norm()]
    m = [law_moments(law) for law in laws]
    return {"n": len(laws), "min_ratio": min(r["beta_s3"] for r in m),
            "max_cs": max(r["beta_s3"] / math.sqrt(r["ez4"]) for r in m),
            "moors_err": max(abs(r["ez4"] - r["var_z2"] - 1) for r in m),
            "eq44": max(r["beta"] ** (4 / 3) / r["m4"] for r in m)}


def student_t_abs_moment(nu: float, k: float) -> float:
    """E|T|^k of Student t with nu degrees of freedom:
    nu^(k/2) G((k+1)/2) G((nu-k)/2) / (sqrt(pi) G(nu/2))."""
    if k >= nu:
        return math.inf
    lg = math.lgamma
    log_moment = k / 2 * math.log(nu) + lg((k + 1) / 2) + lg((nu - k) / 2) - lg(nu / 2)
    return math.exp(log_moment) / math.sqrt(math.pi)


def student_t_ratios(nu: float) -> tuple[float, float]:
    """(beta/sigma^3, sqrt(E z^4)) of Student t_nu (nu > 3); the second is oo for nu <= 4."""
    s2 = student_t_abs_moment(nu, 2)
    return student_t_abs_moment(nu, 3) / s2 ** 1.5, math.sqrt(student_t_abs_moment(nu, 4) / s2 ** 2)


# ------------------------------------------------ the statements read critically


@functools.lru_cache(maxsize=None)
def _findings() -> tuple:
    l1, nn = lemma1_family(), lemma1_not_necessary()
    lim, mom, lo = lemma2_limits(), moments_family(), two_point_lyapunov()
    (b35, _), (b41, z41) = student_t_ratios(3.5), student_t_ratios(4.1)
    return (
        {"where": "Lemma 1 (statement vs eq 35)",
         "finding": f"states only 'finite variance'; eq 35 proves var f(X) <= c² var X, which "
                    f"holds on {l1['n']} random laws x Lipschitz f (max ratio {l1['worst']:.3f}) "
                    f"and is tight (f = cx: ratio {l1['affine_max']:.3f}). Lipschitz is "
                    f"sufficient, not necessary: f(x) = x² gives var f(X) = {nn['var_x2_normal']} "
                    f"for X ~ N(0,1); but not removable: X ~ t₃ has var X = {nn['var_t3']}, var X² "
                    f"= {nn['var_x2_t3']}"},
        {"where": "Lemma 2 (eq 40)",
         "finding": f"|∂L/∂a_i| <= 1 needs a probability-vector label (Σ y_j = 1, y >= 0), which "
                    f"the statement leaves implicit: y = (2, 0) gives ∂L/∂a_0 -> {lim['y0=2']}; "
                    f"the bound 1 is a supremum (y = (1, 0): limit {lim['y0=1']}), never attained "
                    f"at finite logits"},
        {"where": "Fig 4 discussion", "finding":
            f"beta/sigma^3 described as ranging 0.01-0.02 (ResNet) or up to 0.2, but beta/sigma^3 "
            f">= 1 for every distribution (Lyapunov): min {mom['min_ratio']:.3f} over {mom['n']} "
            f"laws, exactly 1 at Bernoulli(1/2) ((1-2q)² - q = {lo['factor']})"},
        {"where": "eq 19-21, 44 (finite fourth moment)",
         "finding": f"eq 44's finite E χ⁴ is more than Berry-Esseen needs (E|χ|³ < ∞): Student "
                    f"t₃.₅ has β/σ³ = {b35:.2f} while E z⁴ = ∞, so eq 21's bound is infinite; and "
                    f"eq 19 is not tight for heavy tails: t₄.₁ has β/σ³ = {b41:.2f} but √E z⁴ = "
                    f"{z41:.1f}"},
    )


def findings() -> list[dict]:
    """Where the CLT chapter's statements are stronger or weaker than what holds (rows: where,
    finding)."""
    return [dict(r) for r in _findings()]
