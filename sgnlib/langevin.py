"""Langevin view of momentum SGD (paper eq 22-33 and supplementary eq 45-70).

Symbolic pieces return SymPy expressions that the tests and the theory chapter assert on;
numeric pieces compare the stationary covariance of momentum SGD with Proposition 2.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

# ---------------------------------------------------------------- eq 24-28: discretization


def momentum_from_langevin(gamma, m, dt):
    """Eq 26: rho = 1 / (1 + gamma dt / m), alpha = dt / (gamma + m / dt)."""
    return 1 / (1 + gamma * dt / m), dt / (gamma + m / dt)


def langevin_from_momentum(rho, alpha, dt):
    """Inverse of eq 26: friction gamma = dt (1 - rho) / alpha and mass m = rho dt^2 / alpha."""
    if not 0 < rho < 1 or alpha <= 0 or dt <= 0:
        raise ValueError(f"need 0 < rho < 1, alpha > 0, dt > 0; got rho={rho}, alpha={alpha}, dt={dt}")
    return dt * (1 - rho) / alpha, rho * dt ** 2 / alpha


def derive_eq26():
    """Solve eq 25 for v_n; return (solution, rho, alpha) with rho and alpha read off it (eq 48-49)."""
    m, gamma, dt = sp.symbols("m gamma Delta_t", positive=True)
    v_n, v_prev, g = sp.symbols("v_n v_{n-1} g")
    eq25 = sp.Eq(m * (v_n - v_prev) / dt ** 2 + gamma * v_n / dt, -g)
    sol = sp.solve(eq25, v_n)[0]
    rho = sp.simplify(sp.diff(sol, v_prev))
    alpha = sp.simplify(-sp.diff(sol, g))
    return sol, rho, alpha, (m, gamma, dt, v_prev, g)


def check_eq26() -> dict:
    """Assert eq 48 == eq 49 == the solution of eq 25, the high-friction limit (eq 28), the inverse map."""
    sol, rho, alpha, (m, gamma, dt, v_prev, g) = derive_eq26()
    eq48 = m / (gamma * dt + m) * v_prev - dt ** 2 / (gamma * dt + m) * g
    rho49, alpha49 = momentum_from_langevin(gamma, m, dt)
    eq49 = rho49 * v_prev - alpha49 * g
    assert sp.simplify(sol - eq48) == 0, "eq 48 does not solve eq 25"
    assert sp.simplify(eq48 - eq49) == 0, "eq 48 != eq 49"
    assert sp.limit(rho, gamma, sp.oo) == 0, "rho does not vanish at high friction"
    assert sp.limit(alpha / (dt / gamma), gamma, sp.oo) == 1, "alpha !~ dt/gamma at high friction"
    r, a = sp.symbols("rho alpha", positive=True)
    g_inv, m_inv = dt * (1 - r) / a, r * dt ** 2 / a
    back = momentum_from_langevin(g_inv, m_inv, dt)
    assert sp.simplify(back[0] - r) == 0 and sp.simplify(back[1] - a) == 0, "inverse map is wrong"
    return {"rho": rho, "alpha": alpha, "eq48": eq48}


# ---------------------------------------------------------------- Proposition 1: potential condition


def potential_condition_asymmetry(H, D):
    """Eq 62: grad_theta psi = 2 gamma D^-1 grad phi = 2 gamma D^-1 H theta for quadratic phi.

    A potential psi exists only if the Jacobian D^-1 H is symmetric (eq 58); return D^-1 H - (D^-1 H)^T.
    """
    H, D = sp.Matrix(H), sp.Matrix(D)
    J = D.inv() * H
    return sp.simplify(J - J.T)


# ---------------------------------------------------------------- Proposition 2: Gaussian steady state


def kramers_lyapunov_residual(H, gamma, D, sigma_theta, sigma_v):
    """A Sigma + Sigma A^T + B B^T of the Kramers equation linearised at a minimum (m = 1): drift
    A = [[0, I], [-H, -gamma I]], velocity diffusion D, Gaussian covariance diag(sigma_theta, sigma_v).
    Zero exactly when that Gaussian is stationary."""
    n = H.shape[0]
    I, Z = sp.eye(n), sp.zeros(n)
    A = sp.BlockMatrix([[Z, I], [-H, -gamma * I]]).as_explicit()
    BBt = sp.BlockMatrix([[Z, Z], [Z, D]]).as_explicit()
    Sigma = sp.BlockMatrix([[sigma_theta, Z], [Z, sigma_v]]).as_explicit()
    return sp.simplify(A * Sigma + Sigma * A.T + BBt)


def lyapunov_residual_prop2():
    """The residual for general symmetric 2x2 H, D = dt H, Sigma from eq 33."""
    gamma, dt = sp.symbols("gamma Delta_t", positive=True)
    h11, h12, h22 = sp.symbols("h11 h12 h22", real=True)
    H = sp.Matrix([[h11, h12], [h12, h22]])
    s = dt / (2 * gamma)
    return kramers_lyapunov_residual(H, gamma, dt * H, s * sp.eye(2), s * H)


def momentum_sgd_stationary_cov(H, C, gamma: float, dt: float, m: float = 1.0) -> np.ndarray:
    """Exact stationary covariance of (theta, v/dt) under momentum SGD with Gaussian noise of covariance C.

    v_n = rho v_{n-1} - alpha (H theta_{n-1} + eps), theta_n = theta_{n-1} + v_n, (rho, alpha) from eq 26,
    solved as a discrete Lyapunov equation. v_n / dt is the velocity of eq 22.
    """
    from scipy.linalg import solve_discrete_lyapunov
    H, C = np.asarray(H, float), np.asarray(C, float)
    d = H.shape[0]
    rho, alpha = momentum_from_langevin(gamma, m, dt)
    I = np.eye(d)
    M = np.block([[I - alpha * H, rho * I], [-alpha * H, rho * I]])
    N = np.vstack([-alpha * I, -alpha * I])
    S = solve_discrete_lyapunov(M, N @ C @ N.T)
    T = np.diag([1.0] * d + [1.0 / dt] * d)
    return T @ S @ T


def prop2_prediction(H, gamma: float, dt: float) -> np.ndarray:
    """Eq 33 / 70: Sigma_theta = dt/(2 gamma) I, Sigma_v = dt/(2 gamma) H."""
    H = np.asarray(H, float)
    d = H.shape[0]
    s = dt / (2 * gamma)
    return np.block([[s * np.eye(d), np.zeros((d, d))], [np.zeros((d, d)), s * H]])


def simulate_momentum_sgd(H, C, gamma: float, dt: float, n_steps: int, seed: int = 0, burn: int | None = None):
    """Monte Carlo of momentum SGD on a quadratic with N(0, C) gradient noise; empirical cov of (theta, v/dt)."""
    H, C = np.asarray(H, float), np.asarray(C, float)
    d = H.shape[0]
    rho, alpha = momentum_from_langevin(gamma, 1.0, dt)
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(C)
    theta, v = np.zeros(d), np.zeros(d)
    burn = burn if burn is not None else n_steps // 10
    out = np.empty((n_steps, 2 * d))
    eps = rng.standard_normal((n_steps + burn, d)) @ L.T
    for t in range(n_steps + burn):
        v = rho * v - alpha * (H @ theta + eps[t])
        theta = theta + v
        if t >= burn:
            out[t - burn, :d], out[t - burn, d:] = theta, v / dt
    return np.cov(out.T)


# ---------------------------------------------------------------- Lemma 2 and eq 19-21


def lemma2_gradient(M: int = 3):
    """d L_CE / d a_i for softmax cross-entropy with M classes, label k = 0 (one-hot), simplified."""
    a = sp.symbols(f"a0:{M}", real=True)
    Z = sum(sp.exp(x) for x in a)
    loss = -sp.log(sp.exp(a[0]) / Z)
    grads = [sp.simplify(sp.diff(loss, x)) for x in a]
    softmax = [sp.exp(x) / Z for x in a]
    return a, grads, softmax


def check_lemma2(M: int = 3) -> None:
    """Assert d L/d a_i = softmax_i - y_i symbolically, hence |d L/d a_i| <= 1 (eq 40)."""
    a, grads, softmax = lemma2_gradient(M)
    for i, (gi, si) in enumerate(zip(grads, softmax)):
        assert sp.simplify(gi - (si - (1 if i == 0 else 0))) == 0, f"Lemma 2 fails for a_{i}"


def check_moors() -> None:
    """Eq 20: E z^4 = var z^2 + 1 for a standardized z, and eq 19: beta/sigma^3 <= sqrt(E z^4), on an
    exponential law (SymPy, exact)."""
    from sympy.stats import E, Exponential, variance
    X = Exponential("X", 1)
    mu, var = E(X), variance(X)
    z = (X - mu) / sp.sqrt(var)
    ez4 = sp.simplify(E(z ** 4))
    assert sp.simplify(ez4 - (variance(z ** 2) + 1)) == 0
    beta = sp.simplify(E(sp.Abs(X - mu) ** 3))
    assert float(beta / var ** sp.Rational(3, 2)) <= math.sqrt(float(ez4))


def kolmogorov_distance_of_sum(law: str, n: int, p: float = 0.3) -> float:
    """sup_x |F_n(x) - Phi(x)| for the standardized sum of n i.i.d. draws (exact where scipy allows)."""
    from scipy import stats
    if law == "bernoulli":
        mu, sd = n * p, math.sqrt(n * p * (1 - p))
        k = np.arange(n + 1)
        x = (k - mu) / sd
        F = stats.binom.cdf(k, n, p)
        F_left = np.concatenate([[0.0], F[:-1]])
        phi = stats.norm.cdf(x)
        return float(max(np.abs(F - phi).max(), np.abs(F_left - phi).max()))
    if law == "exponential":
        x = np.linspace(-6, 6, 20001)
        F = stats.gamma.cdf(n + x * math.sqrt(n), n)
        return float(np.abs(F - stats.norm.cdf(x)).max())
    if law == "uniform":
        if n > 30:
            raise ValueError("the exact Irwin-Hall CDF loses precision beyond n = 30 summands; use n <= 30")
        x = np.linspace(-6, 6, 20001)
        s = n / 2 + x * math.sqrt(n / 12)
        F = _irwin_hall_cdf(s, n)
        return float(np.abs(F - stats.norm.cdf(x)).max())
    raise ValueError(f"unknown law {law!r}; use bernoulli, exponential or uniform")


def _irwin_hall_cdf(s, n: int):
    from math import comb, factorial
    s = np.clip(np.asarray(s, float), 0, n)
    out = np.zeros_like(s)
    for k in range(n + 1):
        out += (-1) ** k * comb(n, k) * np.clip(s - k, 0, None) ** n
    return np.clip(out / factorial(n), 0, 1)


def standardized_third_moment(law: str, p: float = 0.3) -> float:
    """beta / sigma^3 of one summand, exact."""
    if law == "bernoulli":
        return (p * (1 - p) ** 3 + (1 - p) * p ** 3) / (p * (1 - p)) ** 1.5
    if law == "exponential":
        return 12 / math.e - 2
    if law == "uniform":
        return (1 / 32) / (1 / 12) ** 1.5
    raise ValueError(f"unknown law {law!r}")
