"""sgnlib.assumption1 against dense computation on a 43-parameter MLP (float64): the Hessian from
torch.autograd.functional.hessian, the noise covariance from per-sample gradients taken one image
at a time; products, eigenpairs, traces and subspace alignment must agree to tight tolerances."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from sgnlib.assumption1 import (Assumption1Error, Operators, hutchinson, measure,
                                subspace_alignment)

N, K = 12, 5


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Dropout(0.5), nn.Linear(5, 3)).double()


@pytest.fixture(scope="module")
def problem():
    model = tiny()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(N, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (N,), generator=g)
    return model, x, y


@pytest.fixture(scope="module")
def dense(problem):
    """(H, C, per-parameter-name flat slices) computed densely, model in eval mode."""
    model, x, y = problem
    model.eval()
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    theta = torch.cat([p.detach().reshape(-1) for _, p in model.named_parameters()])

    def unflat(t):
        out, i = {}, 0
        for n, s in zip(names, shapes):
            out[n] = t[i:i + s.numel()].view(s)
            i += s.numel()
        return out

    def loss(t, xs=x, ys=y):
        return F.cross_entropy(functional_call(model, unflat(t), (xs,)), ys)
    h = torch.autograd.functional.hessian(loss, theta)
    gs = []
    for i in range(N):
        t = theta.clone().requires_grad_(True)
        gs.append(torch.autograd.grad(loss(t, x[i:i + 1], y[i:i + 1]), t)[0])
    g = torch.stack(gs)
    gc = g - g.mean(0)
    c = gc.T @ gc / N
    sl, i = {}, 0
    for n, s in zip(names, shapes):
        sl[n] = slice(i, i + s.numel())
        i += s.numel()
    model.train()
    return h.numpy(), c.numpy(), sl


def test_products_match_dense(problem, dense):
    model, x, y = problem
    h, c, _ = dense
    op = Operators(model.eval(), x, y, chunk=5)      # chunks of 5, 5, 2 images
    v = torch.randn(h.shape[0], generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    np.testing.assert_allclose(op.hvp(v).numpy(), h @ v.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(op.cvp(v).numpy(), c @ v.numpy(), rtol=1e-10, atol=1e-12)
    model.train()


@pytest.fixture(scope="module")
def measured(problem, dense):
    model, x, y = problem
    blocks = {"Layer 1": ["0.weight"], "Layer 2": ["3.weight", "3.bias"]}
    out = measure(model, x, y, k=K, n_probes=300, blocks=blocks, chunk=5, tol=1e-12)
    return out, blocks


@pytest.fixture(scope="module")
def probed(problem):
    """tr(C) by Hutchinson (exact_trace_c False), per block from the same probes."""
    model, x, y = problem
    return measure(model, x, y, k=1, n_probes=300, blocks={"Layer 1": ["0.weight"]}, chunk=7,
                   tol=1e-6, exact_trace_c=False)


def test_eigenpairs_and_alignment_match_dense(measured, dense):
    out, _ = measured
    h, c, _ = dense
    wh, vh = np.linalg.eigh(h)
    wc, vc = np.linalg.eigh(c)
    top_h, top_c = vh[:, ::-1][:, :K], vc[:, ::-1][:, :K]
    np.testing.assert_allclose(out["eig_h"], wh[::-1][:K], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out["eig_c"], wc[::-1][:K], rtol=1e-9, atol=1e-12)
    overlap, cosines = subspace_alignment(top_h, top_c)
    assert out["overlap"] == pytest.approx(overlap, abs=1e-8)
    np.testing.assert_allclose(out["cosines"], cosines, atol=1e-8)
    assert 0.0 < overlap < 1.0  # a generic point: neither identical nor orthogonal subspaces
    c_on_h = np.einsum("pi,pq,qi->i", top_h, c, top_h)
    np.testing.assert_allclose(out["c_on_h"], c_on_h, rtol=1e-8, atol=1e-12)


def test_traces_match_dense(measured, dense):
    out, blocks = measured
    h, c, sl = dense
    idx = {b: np.concatenate([np.arange(sl[n].start, sl[n].stop) for n in ns])
           for b, ns in blocks.items()}
    assert out["trace_c"]["all"][0] == pytest.approx(np.trace(c), rel=1e-10)
    for b, i in idx.items():
        assert out["trace_c"][b][0] == pytest.approx(np.trace(c[np.ix_(i, i)]), rel=1e-10)
        assert out["d"][b] == len(i)
        m, se = out["trace_h"][b]
        assert abs(m - np.trace(h[np.ix_(i, i)])) < 4 * se
    m, se = out["trace_h"]["all"]
    assert abs(m - np.trace(h)) < 4 * se and se < 0.2 * abs(np.trace(h))
    assert out["p"] == h.shape[0] == 43 and out["n"] == N


def test_probed_trace_of_c_and_mean_gradient(probed, measured, dense):
    h, c, sl = dense
    i = np.arange(sl["0.weight"].start, sl["0.weight"].stop)
    for b, ref in (("all", np.trace(c)), ("Layer 1", np.trace(c[np.ix_(i, i)]))):
        m, se = probed["trace_c"][b]
        assert abs(m - ref) < 4 * se and 0 < se < 0.2 * ref
    assert probed["grad_mean_sq"] == pytest.approx(measured[0]["grad_mean_sq"], rel=1e-10)
    assert probed["eig_h"][0] == pytest.approx(np.linalg.eigvalsh(h)[-1], rel=1e-5)


def test_hutchinson_is_the_dense_probe_mean(dense):
    """The same Rademacher probes through a dense matrix: mean and standard error by hand."""
    h, _, _ = dense
    p, n = h.shape[0], 7
    got = hutchinson(lambda z: torch.from_numpy(h) @ z, p, {"b": torch.arange(3)}, n,
                     torch.float64, "cpu", seed=3)
    gen = torch.Generator().manual_seed(3)
    zs = [(torch.randint(0, 2, (p,), generator=gen) * 2 - 1).double().numpy() for _ in range(n)]
    est = np.array([z @ h @ z for z in zs])
    blk = np.array([z[:3] @ (h @ z)[:3] for z in zs])
    assert got["all"][0] == pytest.approx(est.mean(), rel=1e-12)
    assert got["all"][1] == pytest.approx(est.std(ddof=1) / np.sqrt(n), rel=1e-10)
    assert got["b"][0] == pytest.approx(blk.mean(), rel=1e-12)


def test_modes_restored(measured, problem):
    model, _, _ = problem
    assert all(m.training for m in model.modules())  # measured in eval mode, train mode restored


class Boom(nn.Module):
    """A model whose forward fails: a check that passes it would compute and raise RuntimeError."""

    def __init__(self, frozen=False):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(3), requires_grad=not frozen)

    def forward(self, x):
        raise RuntimeError("computed")


@pytest.mark.parametrize("model, n, k, probes, says", [
    (Boom(), 10, 3, 5, "k must be in 1..2"),
    (Boom(), 1, 1, 5, "at least 2 images"),
    (Boom(frozen=True), 10, 1, 5, "no parameter requiring grad"),
    (Boom(), 10, 1, 1, "at least 2 probes")])
def test_bad_input_is_one_line_before_compute(model, n, k, probes, says):
    x, y = torch.zeros(n, 2), torch.zeros(n, dtype=torch.long)
    with pytest.raises(Assumption1Error) as e:
        measure(model, x, y, k=k, n_probes=probes)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_blocks_must_name_measured_parameters(problem):
    model, x, y = problem
    with pytest.raises(Assumption1Error, match="not measured"):
        measure(model, x, y, k=2, blocks={"L": ["nope.weight"]})
