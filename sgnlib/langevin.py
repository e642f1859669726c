"""Langevin view of momentum SGD (paper eq 22-33 and supplementary eq 45-70).

Symbolic pieces return SymPy expressions that the tests and the theory chapter assert on;
numeric pieces (`sgnlib.langevin_numeric`, re-exported here) compare the stationary covariance of
momentum SGD with Proposition 2.
"""
from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from .langevin_numeric import (continuous_stationary_cov, langevin_from_momentum,  # noqa: F401
                               momentum_from_langevin, momentum_sgd_stationary_cov, prop2_error,
                               prop2_family, prop2_prediction, random_spd, simulate_momentum_sgd)

# ------------------------------------------------ eq 24-28: discretization


def derive_eq26():
    """Solve eq 25 for v_n; return (solution, rho, lr) with rho and lr read off it (eq 48-49)."""
    m, gamma, dt = sp.symbols("m gamma Delta_t", positive=True)
    v_n, v_prev, g = sp.symbols("v_n v_{n-1} g")
    eq25 = sp.Eq(m * (v_n - v_prev) / dt ** 2 + gamma * v_n / dt, -g)
    sol = sp.solve(eq25, v_n)[0]
    rho = sp.simplify(sp.diff(sol, v_prev))
    lr = sp.simplify(-sp.diff(sol, g))
    return sol, rho, lr, (m, gamma, dt, v_prev, g)


def check_eq26() -> dict:
    """Assert eq 48 == eq 49 == the solution of eq 25, the high-friction limit (eq 28), the inverse
    map."""
    sol, rho, lr, (m, gamma, dt, v_prev, g) = derive_eq26()
    eq48 = m / (gamma * dt + m) * v_prev - dt ** 2 / (gamma * dt + m) * g
    rho49, lr49 = momentum_from_langevin(gamma, m, dt)
    eq49 = rho49 * v_prev - lr49 * g
    assert sp.simplify(sol - eq48) == 0, "eq 48 does not solve eq 25"
    assert sp.simplify(eq48 - eq49) == 0, "eq 48 != eq 49"
    assert sp.limit(rho, gamma, sp.oo) == 0, "rho does not vanish at high friction"
    assert sp.limit(lr / (dt / gamma), gamma, sp.oo) == 1, "lr !~ dt/gamma at high friction"
    r, a = sp.symbols("rho lr", positive=True)
    g_inv, m_inv = dt * (1 - r) / a, r * dt ** 2 / a
    back = momentum_from_langevin(g_inv, m_inv, dt)
    assert sp.simplify(back[0] - r) == 0 and sp.simplify(back[1] - a) == 0, "inverse map is wrong"
    return {"rho": rho, "lr": lr, "eq48": eq48}


# ------------------------------------------------ Proposition 1: potential condition


def potential_condition_asymmetry(H, D):
    """Eq 62: grad_theta psi = 2 gamma D^-1 grad phi = 2 gamma D^-1 H theta for quadratic phi.

    A potential psi exists only if the Jacobian D^-1 H is symmetric (eq 58); return D^-1 H - (D^-1
    H)^T.
    """
    H, D = sp.Matrix(H), sp.Matrix(D)
    J = D.inv() * H
    return sp.simplify(J - J.T)


# ------------------------------------------------ Proposition 2: Gaussian steady state


def kramers_lyapunov_residual(H, gamma, D, sigma_theta, sigma_v):
    """A Sigma + Sigma A^T + B B^T of the Kramers equation linearised at a minimum (m = 1): drift A
    = [[0, I], [-H, -gamma I]], velocity diffusion D, Gaussian covariance diag(sigma_theta,
    sigma_v). Zero exactly when that Gaussian is stationary."""
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


# ------------------------------------------------ Prop 1 and 2 over families


def commutator_form() -> sp.Matrix:
    """Eq 58 for general symmetric 2x2 H, D (SymPy): D^-1 H - (D^-1 H)^T - D^-1 (H D - D H) D^-1,
    zero; so the potential condition holds iff D commutes with H, isotropic or not."""
    h11, h12, h22, d11, d12, d22 = sp.symbols("h11 h12 h22 d11 d12 d22", real=True)
    H, D = sp.Matrix([[h11, h12], [h12, h22]]), sp.Matrix([[d11, d12], [d12, d22]])
    J = D.inv() * H
    return sp.simplify(J - J.T - D.inv() * (H * D - D * H) * D.inv())


def asymmetry(H, D) -> float:
    """Numeric eq 58: ||D^-1 H - (D^-1 H)^T|| / ||D^-1 H|| (Frobenius)."""
    J = np.linalg.solve(D, H)
    return float(np.linalg.norm(J - J.T) / np.linalg.norm(J))


@functools.lru_cache(maxsize=None)
def prop1_family(n: int = 200, seed: int = 0) -> dict:
    """Eq 58 over n random SPD H (d = 2..6): smallest asymmetry for a generic SPD D (Prop 1: > 0),
    largest for an anisotropic D commuting with H (a random positive polynomial of H) and for D = c
    I (both 0)."""
    rng = np.random.default_rng(seed)
    gen, com, iso = [], [], []
    for _ in range(n):
        d = int(rng.integers(2, 7))
        H = random_spd(rng, d)
        a = rng.uniform(0.1, 2, 3)
        gen.append(asymmetry(H, random_spd(rng, d)))
        com.append(asymmetry(H, a[0] * np.eye(d) + a[1] * H + a[2] * H @ H))
        iso.append(asymmetry(H, a[0] * np.eye(d)))
    return {"n": n, "generic_min": min(gen), "generic_broken": sum(g > 1e-9 for g in gen),
            "commuting_max": max(com), "commuting_min": min(com), "isotropic_max": max(iso)}


def kramers_stationary_residual(pi, phi, D, gamma, th, v) -> sp.Expr:
    """Right side of eq 54 (m = 1) at pi, divided by pi: -div_theta(v pi) + div_v((gamma v + grad
    phi) pi) + 1/2 sum_ij d_vi d_vj (D_ij pi). Zero exactly when pi is stationary."""
    r = -sum(sp.diff(vi * pi, ti) for vi, ti in zip(v, th))
    r += sum(sp.diff((gamma * vi + sp.diff(phi, ti)) * pi, vi) for vi, ti in zip(v, th))
    r += sum(sp.diff(D[i, j] * pi, v[i], v[j]) for i in range(len(v)) for j in range(len(v))) / 2
    return sp.simplify(r / pi)


def gibbs_isotropic_residual(d: int = 2) -> sp.Expr:
    """Constant isotropic D = c I and ANY potential phi (SymPy Function, d dimensions): the residual
    of the Gibbs law exp(-2 gamma/c (phi + |v|^2/2)), zero although its current J_theta = -v pi is
    not."""
    gamma, c = sp.symbols("gamma c", positive=True)
    th, v = sp.symbols(f"theta0:{d}", real=True), sp.symbols(f"v0:{d}", real=True)
    phi = sp.Function("phi")(*th)
    pi = sp.exp(-2 * gamma / c * (phi + sum(x ** 2 for x in v) / 2))
    return kramers_stationary_residual(pi, phi, c * sp.eye(d), gamma, th, v)


def eq60_state_dependent_residual() -> dict:
    """1-D, D = c(theta) isotropic but state-dependent (SymPy): eq 60's ansatz psi = gamma v^2/c +
    h(theta) leaves the residual -gamma c'/c^2 v^3 + (h' - 2 gamma phi'/c) v; {power of v:
    coefficient}."""
    gamma = sp.symbols("gamma", positive=True)
    t, v = sp.symbols("theta v", real=True)
    c, h, phi = (sp.Function(n)(t) for n in ("c", "h", "phi"))
    pi = sp.exp(-(gamma * v ** 2 / c + h))
    r = sp.expand(kramers_stationary_residual(pi, phi, sp.Matrix([[c]]), gamma, [t], [v]))
    return {k[0]: sp.simplify(x) for k, x in sp.Poly(r, v).as_dict().items()}


def prop2_forced_diffusion() -> list:
    """Necessity (SymPy, general symmetric 2x2 H and D): the covariance of eq 33 is stationary only
    for D = dt H, i.e. C = D / dt = H exactly. The solutions for D."""
    gamma, dt = sp.symbols("gamma Delta_t", positive=True)
    h11, h12, h22, d11, d12, d22 = sp.symbols("h11 h12 h22 d11 d12 d22", real=True)
    H, D = sp.Matrix([[h11, h12], [h12, h22]]), sp.Matrix([[d11, d12], [d12, d22]])
    s = dt / (2 * gamma)
    residual = kramers_lyapunov_residual(H, gamma, D, s * sp.eye(2), s * H)
    return sp.solve(list(residual), [d11, d12, d22], dict=True)


# ------------------------------------------------ the statements read critically


def fmt_small(x: float) -> str:
    """A rounding-level number as '< 1e-10' (stable across machines), anything larger in %.0e."""
    return "< 1e-10" if x < 1e-10 else f"{x:.0e}"


@functools.lru_cache(maxsize=None)
def _findings() -> tuple:
    p1, p2 = prop1_family(), prop2_family()
    c3, t = eq60_state_dependent_residual()[3], sp.Symbol("theta", real=True)
    c = sp.Function("c")(t)
    gamma = sp.Symbol("gamma", positive=True)
    c3 = "-γc′(θ)/c(θ)²" if sp.simplify(c3 + gamma * c.diff(t) / c ** 2) == 0 else c3
    iso0 = "zero" if gibbs_isotropic_residual() == 0 else "NOT zero"
    return (
        {"where": "proof of Prop 1 (after eq 62)",
         "finding": f"'eq 62 holds only when D ≡ D·I' is too strong: any constant D commuting with "
                    f"H keeps eq 58 (D⁻¹H - (D⁻¹H)ᵀ = D⁻¹[H, D]D⁻¹, SymPy; {p1['n']} random H with "
                    f"anisotropic D = poly(H): max asymmetry {fmt_small(p1['commuting_max'])}), "
                    f"e.g. Prop 2's own D = Δt H; and not enough: an isotropic but θ-dependent D = "
                    f"c(θ)·I leaves eq 60's residual {c3}·v³"},
        {"where": "proof of Prop 1 (J_θ ≠ 0)",
         "finding": f"a non-zero current J_θ = -vπ does not exclude a Gibbs steady state: for "
                    f"constant D = c·I exp(-2γ/c (φ + |v|²/2)) is stationary for every potential φ "
                    f"(SymPy, residual {iso0}); Prop 1 holds for generic anisotropic D "
                    f"({p1['generic_broken']}/{p1['n']} random D, min asymmetry "
                    f"{p1['generic_min']:.0e})"},
        {"where": "Prop 2 (eq 31, 33)",
         "finding": f"eq 33 is stationary only for C = H exactly (SymPy: D = Δt H is the unique "
                    f"solution); C = κH gives Σθ = κΔt/(2γ) I, and eq 31's C is the covariance of "
                    f"a minibatch mean, so a per-sample covariance H gives κ = 1/B; isotropic C = "
                    f"I gives Σθ ∝ H⁻¹ (error >= {p2['iso_min']:.2f}), random C ≠ H error >= "
                    f"{p2['rand_min']:.2f} over {p2['n']} H; with C = H momentum SGD reaches eq 33 "
                    f"only as Δt -> 0 (worst error {p2['H_worst'][0]:.3f} at Δt = {p2['dts'][0]}, "
                    f"{p2['H_worst'][-1]:.3f} at {p2['dts'][-1]})"},
    )


def findings() -> list[dict]:
    """Where the dynamics chapter's statements are stronger or weaker than what holds (rows: where,
    finding)."""
    return [dict(r) for r in _findings()]
