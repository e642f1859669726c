"""The numeric side of the Langevin view of momentum SGD (paper eq 26, 31-33, supp. eq 70): the
eq-26 map between (friction, mass, dt) and (momentum, learning rate), the exact stationary
covariance of momentum SGD with Gaussian noise, the one of the Kramers SDE linearised at a minimum,
a Monte Carlo check, and Proposition 2 over random families. `sgnlib.langevin` re-exports these
names beside the symbolic checks."""
from __future__ import annotations

import functools

import numpy as np


def momentum_from_langevin(gamma, m, dt):
    """Eq 26: rho = 1 / (1 + gamma dt / m), lr = dt / (gamma + m / dt) (the paper's learning rate
    α)."""
    return 1 / (1 + gamma * dt / m), dt / (gamma + m / dt)


def langevin_from_momentum(rho, lr, dt):
    """Inverse of eq 26: friction gamma = dt (1 - rho) / lr and mass m = rho dt^2 / lr (lr: the
    paper's α)."""
    if not 0 < rho < 1 or lr <= 0 or dt <= 0:
        raise ValueError(f"need 0 < rho < 1, lr > 0, dt > 0; got rho={rho}, lr={lr}, dt={dt}")
    return dt * (1 - rho) / lr, rho * dt ** 2 / lr


def momentum_sgd_stationary_cov(H, C, gamma: float, dt: float, m: float = 1.0) -> np.ndarray:
    """Exact stationary covariance of (theta, v/dt) under momentum SGD with Gaussian noise of
    covariance C.

    v_n = rho v_{n-1} - lr (H theta_{n-1} + eps), theta_n = theta_{n-1} + v_n, (rho, lr) from eq 26,
    solved as a discrete Lyapunov equation. v_n / dt is the velocity of eq 22.
    """
    from scipy.linalg import solve_discrete_lyapunov
    H, C = np.asarray(H, float), np.asarray(C, float)
    d = H.shape[0]
    rho, lr = momentum_from_langevin(gamma, m, dt)
    I = np.eye(d)
    M = np.block([[I - lr * H, rho * I], [-lr * H, rho * I]])
    N = np.vstack([-lr * I, -lr * I])
    S = solve_discrete_lyapunov(M, N @ C @ N.T)
    T = np.diag([1.0] * d + [1.0 / dt] * d)
    return T @ S @ T


def prop2_prediction(H, gamma: float, dt: float) -> np.ndarray:
    """Eq 33 / 70: Sigma_theta = dt/(2 gamma) I, Sigma_v = dt/(2 gamma) H."""
    H = np.asarray(H, float)
    d = H.shape[0]
    s = dt / (2 * gamma)
    return np.block([[s * np.eye(d), np.zeros((d, d))], [np.zeros((d, d)), s * H]])


def simulate_momentum_sgd(H, C, gamma: float, dt: float, n_steps: int, seed: int = 0,
                          burn: int | None = None):
    """Monte Carlo of momentum SGD on a quadratic with N(0, C) gradient noise; empirical cov of
    (theta, v/dt)."""
    H, C = np.asarray(H, float), np.asarray(C, float)
    d = H.shape[0]
    rho, lr = momentum_from_langevin(gamma, 1.0, dt)
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(C)
    theta, v = np.zeros(d), np.zeros(d)
    burn = burn if burn is not None else n_steps // 10
    out = np.empty((n_steps, 2 * d))
    eps = rng.standard_normal((n_steps + burn, d)) @ L.T
    for t in range(n_steps + burn):
        v = rho * v - lr * (H @ theta + eps[t])
        theta = theta + v
        if t >= burn:
            out[t - burn, :d], out[t - burn, d:] = theta, v / dt
    return np.cov(out.T)


def random_spd(rng, d: int, lo: float = 0.2, hi: float = 5.0) -> np.ndarray:
    """A random d x d SPD matrix: random rotation, eigenvalues log-uniform in [lo, hi]."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (Q * np.exp(rng.uniform(np.log(lo), np.log(hi), d))) @ Q.T


def continuous_stationary_cov(H, D, gamma: float) -> np.ndarray:
    """Stationary covariance of the Kramers SDE linearised at a minimum (m = 1): A S + S A^T +
    diag(0, D) = 0."""
    from scipy.linalg import solve_continuous_lyapunov
    H, D = np.asarray(H, float), np.asarray(D, float)
    d = H.shape[0]
    A = np.block([[np.zeros((d, d)), np.eye(d)], [-H, -gamma * np.eye(d)]])
    return solve_continuous_lyapunov(A, -np.block([[np.zeros((d, d))] * 2, [np.zeros((d, d)), D]]))


def prop2_error(H, C, gamma: float, dt: float) -> float:
    """Relative error of eq 33 for momentum SGD with noise covariance C: max|S - eq 33| / max|eq
    33|, S the exact stationary covariance (`momentum_sgd_stationary_cov`)."""
    P = prop2_prediction(H, gamma, dt)
    return float(np.abs(momentum_sgd_stationary_cov(H, C, gamma, dt) - P).max() / np.abs(P).max())


@functools.lru_cache(maxsize=None)
def prop2_family(n: int = 200, seed: int = 0, gamma: float = 2.0, dts=(0.02, 0.01, 0.005)) -> dict:
    """Prop 2 over n random SPD H (d = 2..5); errors max|S - eq 33| / max|eq 33|. C = H, exact
    momentum SGD: the worst error at each dt and the smallest error ratio per halving of dt (O(dt)
    gives 2); continuous time, C = kappa H: worst |S_theta - kappa dt/(2 gamma) I|; C = I and C
    random SPD: the smallest error (> 0 for every dt); discrete vs continuous with random C at the
    smallest dt: the worst error."""
    rng = np.random.default_rng(seed)
    err = lambda S, P: float(np.abs(S - P).max() / np.abs(P).max())  # noqa: E731
    out = {"n": n, "dts": dts, "H": [], "halving": [], "kappa": [], "iso": [], "rand": [],
           "disc": []}
    for _ in range(n):
        d = int(rng.integers(2, 6))
        H, C, kappa = random_spd(rng, d), random_spd(rng, d), float(rng.uniform(0.01, 3))
        P = prop2_prediction(H, gamma, 1.0)
        e = [prop2_error(H, H, gamma, dt) for dt in dts]
        out["H"].append(e)
        out["halving"].append(min(a / b for a, b in zip(e, e[1:])))
        S = continuous_stationary_cov(H, kappa * H, gamma)
        out["kappa"].append(err(S[:d, :d], kappa * P[:d, :d]))
        out["iso"].append(err(continuous_stationary_cov(H, np.eye(d), gamma), P))
        out["rand"].append(err(continuous_stationary_cov(H, C, gamma), P))
        out["disc"].append(err(momentum_sgd_stationary_cov(H, C, gamma, dts[-1]),
                               continuous_stationary_cov(H, dts[-1] * C, gamma)))
    return {"n": n, "dts": dts, "H_worst": np.max(out["H"], 0).tolist(),
            "halving_min": min(out["halving"]), "kappa_worst": max(out["kappa"]),
            "iso_min": min(out["iso"]), "rand_min": min(out["rand"]),
            "disc_worst": max(out["disc"])}
