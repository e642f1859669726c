"""The paper's Assumption 1 as it is used in eq 31 and Proposition 2: near a minimum the covariance
of the gradient noise C equals the Hessian H of the loss. This module measures both on a trained
network without ever forming a P x P matrix.

On a fixed sample of N images (the caller's: no training augmentation; the whole model in eval
mode, so BatchNorm uses its running statistics and dropout is off, every module's flag restored
afterwards) and the mean loss phi = (1/N) sum_i l_i over it:

    H v  Hessian-vector product of phi (double backward), summed over chunks;
    C v  = (1/N) sum_i g_i (g_i . v) - gbar (gbar . v) = (1/N) sum_i g_i (s_i - mean(s)),
         s_i = g_i . v for all i from one forward-mode JVP of the per-sample losses, then one
         VJP with the weights (s_i - mean(s)) / N; C is the per-sample covariance (eq 31 writes
         C = cov[grad] = nabla^2 phi - nabla phi nabla phi^T without a batch-size factor; a
         minibatch of B images has covariance C / B).

`measure` returns the top-k eigenpairs of H and C (Lanczos: scipy's eigsh on a LinearOperator,
float64 on the scipy side), tr(H) by Hutchinson (Rademacher probes, mean and standard error; per
block from the same probes, since E[z_b . (H z)_b] = tr(H_bb)), the exact tr(C) from per-sample
gradient norms (overall and per block), u_i^T C u_i for H's eigenvectors u_i, and the principal
cosines between the two top-k subspaces. Parameters: every one requiring grad, or `names`.
Bad input is one `Assumption1Error` line raised before any gradient is computed.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from .config_checks import ConfigError
from .probe import restore_modes, save_modes


class Assumption1Error(ConfigError):
    """An Assumption 1 measurement that cannot run; the message says what to change."""


def check_inputs(params: dict, n: int, k: int, n_probes: int) -> int:
    """The number of parameters P, after checking N >= 2, 1 <= k < P and n_probes >= 2."""
    if not params:
        raise Assumption1Error("the model has no parameter requiring grad (or `names` selects "
                               "none); unfreeze the weights to measure H and C")
    p = sum(t.numel() for t in params.values())
    if n < 2:
        raise Assumption1Error(f"the noise covariance needs at least 2 images, got {n}; "
                               f"give a larger sample")
    if not 1 <= k < p:
        raise Assumption1Error(f"k must be in 1..{p - 1} (fewer than the {p} parameters) for "
                               f"Lanczos, got {k}; lower k")
    if n_probes < 2:
        raise Assumption1Error(f"the Hutchinson standard error needs at least 2 probes, got "
                               f"{n_probes}; raise n_probes")
    return p


class Operators:
    """H v, C v and per-sample gradient norms of `model` on (images, labels), in chunks."""

    def __init__(self, model, images, labels, names=None, chunk: int = 256,
                 loss_fn=F.cross_entropy):
        all_params = {k: v.detach() for k, v in model.named_parameters()}
        keep = names if names is not None else [k for k, v in model.named_parameters()
                                                if v.requires_grad]
        self.params = {k: all_params[k] for k in keep if k in all_params}
        self.fixed = {k: v for k, v in all_params.items() if k not in self.params}
        self.buffers = {k: v.detach() for k, v in model.named_buffers()}
        self.model, self.x, self.y = model, images, labels
        self.chunk, self.loss_fn = chunk, loss_fn
        self.shapes = [(k, v.shape, v.numel()) for k, v in self.params.items()]
        self.dtype = next(iter(self.params.values())).dtype if self.params else torch.float32
        self.n = int(images.shape[0])
        self.matvecs = {"H": 0, "C": 0}

    # ---------------------------------------------------------------- flat <-> dict
    def unflat(self, v: torch.Tensor) -> dict:
        out, i = {}, 0
        for k, shape, m in self.shapes:
            out[k] = v[i:i + m].view(shape)
            i += m
        return out

    @staticmethod
    def flat(d: dict) -> torch.Tensor:
        return torch.cat([t.reshape(-1) for t in d.values()])

    def slices(self) -> dict:
        """{parameter name: slice of the flat vector}."""
        out, i = {}, 0
        for k, _, m in self.shapes:
            out[k] = slice(i, i + m)
            i += m
        return out

    # ---------------------------------------------------------------- losses
    def _losses(self, p: dict, x, y) -> torch.Tensor:
        from torch.func import functional_call
        out = functional_call(self.model, ({**self.fixed, **p}, self.buffers), (x,))
        return self.loss_fn(out, y, reduction="none")

    def _chunks(self):
        for i in range(0, self.n, self.chunk):
            yield slice(i, min(i + self.chunk, self.n))

    # ---------------------------------------------------------------- products
    def hvp(self, v: torch.Tensor) -> torch.Tensor:
        """H v of the mean loss over the N images (double backward, chunk by chunk)."""
        self.matvecs["H"] += 1
        tangent, out = list(self.unflat(v).values()), torch.zeros_like(v)
        for s in self._chunks():
            p = {k: t.clone().requires_grad_(True) for k, t in self.params.items()}
            g = torch.autograd.grad(self._losses(p, self.x[s], self.y[s]).sum(),
                                    list(p.values()), create_graph=True)
            dot = sum((gi * ti).sum() for gi, ti in zip(g, tangent))
            out += torch.cat([h.reshape(-1) for h in torch.autograd.grad(dot, list(p.values()))])
        return out / self.n

    def directional(self, v: torch.Tensor) -> torch.Tensor:
        """(g_i . v) for every image i: the JVP of the per-sample losses."""
        from torch.func import jvp
        tangent = self.unflat(v)
        return torch.cat([jvp(lambda p: self._losses(p, self.x[s], self.y[s]),  # noqa: B023
                              (self.params,), (tangent,))[1] for s in self._chunks()])

    def weighted_grad(self, a: torch.Tensor) -> torch.Tensor:
        """sum_i a_i g_i: one VJP of the per-sample losses with weights a."""
        from torch.func import vjp
        out = None
        for s in self._chunks():
            _, pull = vjp(lambda p: self._losses(p, self.x[s], self.y[s]),  # noqa: B023
                          self.params)
            g = self.flat(pull(a[s])[0])
            out = g if out is None else out + g
        return out

    def cvp(self, v: torch.Tensor) -> torch.Tensor:
        """C v = (1/N) sum_i g_i (s_i - mean s), s_i = g_i . v."""
        self.matvecs["C"] += 1
        s = self.directional(v)
        return self.weighted_grad((s - s.mean()) / self.n)

    def gradient_moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean_i ||g_i||^2 per parameter tensor, gbar) in float64, from per-sample gradients
        (one backward pass per image: cheaper than vmap for convolutions on a CPU)."""
        sq = torch.zeros(len(self.shapes), dtype=torch.float64, device=self.x.device)
        total = 0
        for i in range(self.n):
            p = {k: t.clone().requires_grad_(True) for k, t in self.params.items()}
            gs = torch.autograd.grad(self._losses(p, self.x[i:i + 1], self.y[i:i + 1])[0],
                                     list(p.values()))
            gs = [g.reshape(-1).to(torch.float64) for g in gs]
            total = total + torch.cat(gs)
            sq += torch.stack([(g ** 2).sum() for g in gs])
        return sq / self.n, total / self.n


def lanczos_top(matvec, p: int, k: int, dtype, device, seed: int = 0, tol: float = 1e-4):
    """Top-k (largest algebraic) eigenpairs of the symmetric operator `matvec` by scipy's eigsh,
    float64 on the scipy side; (eigenvalues descending, P x k eigenvector array)."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    def mv(x):
        t = torch.as_tensor(np.asarray(x).reshape(-1), dtype=dtype, device=device)
        return matvec(t).to(torch.float64).cpu().numpy()
    op = LinearOperator((p, p), matvec=mv, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(p)
    vals, vecs = eigsh(op, k=k, which="LA", v0=v0, tol=tol, ncv=min(p, max(2 * k + 1, 20)))
    order = np.argsort(vals)[::-1]
    return vals[order], vecs[:, order]


def hutchinson(matvec, p: int, blocks: dict, n_probes: int, dtype, device, seed: int = 0):
    """tr of the operator and of its diagonal blocks from `n_probes` Rademacher probes:
    {block: (mean, standard error)}, block 'all' for the whole."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    est = {b: [] for b in ("all", *blocks)}
    for _ in range(n_probes):
        z = (torch.randint(0, 2, (p,), generator=gen) * 2 - 1).to(dtype=dtype, device=device)
        zhz = (z * matvec(z)).to(torch.float64)
        est["all"].append(float(zhz.sum()))
        for b, idx in blocks.items():
            est[b].append(float(zhz[idx].sum()))
    return {b: (float(np.mean(v)), float(np.std(v, ddof=1) / math.sqrt(len(v))))
            for b, v in est.items()}


def subspace_alignment(u_h: np.ndarray, u_c: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean squared cosine ||U_H^T U_C||_F^2 / k, principal cosines descending) of two
    orthonormal P x k bases."""
    m = u_h.T @ u_c
    cosines = np.clip(np.linalg.svd(m, compute_uv=False), 0.0, 1.0)
    return float((m ** 2).sum() / u_h.shape[1]), cosines


def _index(op: Operators, blocks: dict | None) -> dict:
    """{block: flat indices} of the named blocks ({block: [parameter names]})."""
    sl = op.slices()
    return {b: torch.cat([torch.arange(sl[k].start, sl[k].stop) for k in names])
            for b, names in (blocks or {}).items()}


def measure(model, images, labels, k: int = 10, n_probes: int = 20, names=None,
            blocks: dict | None = None, chunk: int = 256, seed: int = 0, tol: float = 1e-4,
            exact_trace_c: bool = True, loss_fn=F.cross_entropy) -> dict:
    """H against C on (images, labels): see the module docstring. blocks: {name: [parameter
    names]} for per-block traces; exact_trace_c False: tr(C) by Hutchinson too (the same probes),
    for networks whose N per-image backward passes cost more than the probes. Returns a dict of
    numpy arrays and floats."""
    requires = [n for n, v in model.named_parameters() if v.requires_grad]
    selected = {n: v for n, v in model.named_parameters()
                if (n in names if names is not None else n in requires)}
    p = check_inputs(selected, int(images.shape[0]), k, n_probes)
    unknown = sorted({n for ns in (blocks or {}).values() for n in ns} - set(selected))
    if unknown:
        raise Assumption1Error(f"blocks name parameters not measured: {unknown}; name "
                               f"parameters of the model that require grad")
    modes = save_modes(model)
    model.eval()
    try:
        op = Operators(model, images, labels, list(selected), chunk, loss_fn)
        dev, idx, t = images.device, _index(op, blocks), [time.perf_counter()]
        eig_h, u_h = lanczos_top(op.hvp, p, k, op.dtype, dev, seed, tol)
        t.append(time.perf_counter())
        eig_c, u_c = lanczos_top(op.cvp, p, k, op.dtype, dev, seed, tol)
        t.append(time.perf_counter())
        c_on_h = np.array([float(u_h[:, i] @ op.cvp(torch.as_tensor(
            u_h[:, i], dtype=op.dtype, device=dev)).double().cpu().numpy()) for i in range(k)])
        t.append(time.perf_counter())
        tr_h = hutchinson(op.hvp, p, idx, n_probes, op.dtype, dev, seed)
        t.append(time.perf_counter())
        if exact_trace_c:
            sq, gbar = op.gradient_moments()
            tr_c = _exact_traces(op, sq, gbar, list(selected), blocks)
        else:
            tr_c = hutchinson(op.cvp, p, idx, n_probes, op.dtype, dev, seed)
            gbar = op.weighted_grad(torch.full((op.n,), 1.0 / op.n, dtype=op.dtype,
                                               device=dev)).to(torch.float64)
        t.append(time.perf_counter())
    finally:
        restore_modes(modes)
    overlap, cosines = subspace_alignment(u_h, u_c)
    d = {"all": p, **{b: int(i.numel()) for b, i in idx.items()}}
    steps = ("lanczos_h", "lanczos_c", "c_on_h", "hutchinson_h", "trace_c")
    return {"n": op.n, "p": p, "k": k, "n_probes": n_probes, "eig_h": eig_h, "eig_c": eig_c,
            "c_on_h": c_on_h, "overlap": overlap, "cosines": cosines, "trace_h": tr_h,
            "trace_c": tr_c, "trace_c_exact": exact_trace_c, "d": d,
            "grad_mean_sq": float((gbar ** 2).sum()), "matvecs": dict(op.matvecs),
            "seconds": {s: b - a for s, a, b in zip(steps, t, t[1:])}}


def _exact_traces(op: Operators, sq, gbar, names: list, blocks: dict | None) -> dict:
    """{block: (tr C, 0.0)} from per-sample gradient norms: mean ||g_i||^2 - ||gbar||^2."""
    of, sl = {k: i for i, (k, _, _) in enumerate(op.shapes)}, op.slices()

    def tr(pnames):
        return float(sum(sq[of[n]] - (gbar[sl[n]] ** 2).sum() for n in pnames)), 0.0
    return {"all": tr(names), **{b: tr(ns) for b, ns in (blocks or {}).items()}}
