"""degenerate_steps: a share of point masses that rises with the batch size is caught, whether a
kernel flushes small values at large batches or leaves rounding residue on exact zeros at small
ones; the exact (CPU) capture of a small network with dead units shows no step."""
import pandas as pd
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from sgnlib.capture import gaussianity_of_noise
from sgnlib.stats.gaussianity import degenerate_steps


def _grid(pcts, layer="Layer 4", n_batches=200, repeats=1):
    return pd.DataFrame([{"layer": layer, "model": "alexnet", "n_batches": n_batches,
                          "batch_size": b, "repeat": r, "degenerate_pct": p}
                         for b, p in pcts.items() for r in range(repeats)])


def test_step_found_by_hand():
    # the committed gpu-short Layer 4 shape: 0.61 / 0.36 / 0.22, then 3.42 from batch 512 on
    g = _grid({64: 0.61, 128: 0.36, 256: 0.22, 512: 3.42, 1024: 3.42, 2048: 3.42}, repeats=2)
    out = degenerate_steps(g)
    assert list(out.batch_size) == [512, 1024, 2048]
    assert out.floor_pct.tolist() == pytest.approx([0.22] * 3)
    assert out.rise_pp.tolist() == pytest.approx([3.2] * 3)


def test_no_step_when_the_share_falls_or_wobbles_within_tolerance():
    assert degenerate_steps(_grid({64: 5.0, 128: 4.0, 256: 4.3, 512: 3.9})).empty  # +0.3 pp < 0.5
    assert len(degenerate_steps(_grid({64: 5.0, 128: 4.0, 256: 4.3}), tol_pp=0.2)) == 1


def test_groups_are_kept_apart():
    g = pd.concat([_grid({64: 1.0, 128: 0.5}, n_batches=200),
                   _grid({64: 0.2, 128: 0.9}, n_batches=600),
                   _grid({64: 0.1, 128: 0.1}, layer="Layer 5")])
    out = degenerate_steps(g)
    assert out[["layer", "n_batches", "batch_size"]].values.tolist() == [["Layer 4", 600, 128]]


class _KernelConv(torch.autograd.Function):
    """Conv2d (3x3, padding 1) whose weight gradient passes through kernel(grad, batch size)."""

    @staticmethod
    def forward(ctx, x, w, b, kernel):
        ctx.save_for_backward(x, w)
        ctx.kernel = kernel
        return F.conv2d(x, w, b, padding=1)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        gx = torch.nn.grad.conv2d_input(x.shape, w, gy, padding=1)
        gw = torch.nn.grad.conv2d_weight(x, w.shape, gy, padding=1)
        return gx, ctx.kernel(gw, x.shape[0]), gy.sum((0, 2, 3)), None


class _Conv(nn.Conv2d):
    def __init__(self, cin, cout, kernel):
        super().__init__(cin, cout, 3, padding=1)
        self.kernel = kernel

    def forward(self, x):
        return _KernelConv.apply(x, self.weight, self.bias, self.kernel)


def _exact(gw, n):
    return gw


def _flush_at_large_batch(gw, n):  # small values flushed to zero from batch 64 on
    small = gw.abs() < 0.05 * gw.abs().max()
    return torch.where(small, torch.zeros_like(gw), gw) if n >= 64 else gw


def _residue_at_small_batch(gw, n):  # exact zeros get rounding residue below batch 64
    return gw + (gw == 0) * 1e-9 * torch.randn_like(gw) if n < 64 else gw


def _net(kernel):
    """2x2 maps as AlexNet's conv 3-5; 6 of conv 1's 16 channels dead (a very negative bias)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(4, 16, 3, padding=1), nn.ReLU(), _Conv(16, 16, kernel), nn.ReLU(),
                        nn.Flatten(), nn.Linear(64, 3))
    with torch.no_grad():
        net[0].bias[:6] = -100.0
    return net


def _capture(kernel):
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(2048, 4, 2, 2, generator=g), torch.randint(0, 3, (2048,), generator=g)
    net, rows = _net(kernel), []
    for bs in (16, 32, 64, 128):
        t, _ = gaussianity_of_noise(net, F.cross_entropy, x, y, bs, 20, seed=2)
        rows.append(t.assign(batch_size=bs, n_batches=20))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def exact():
    return _capture(_exact)


def test_exact_capture_has_no_step_and_counts_the_dead_units(exact):
    t = exact
    layer2 = t[t.layer == "Layer 2"].degenerate_pct
    assert (layer2 >= 100 * 6 / 16 - 1e-9).all()  # the dead input channels, at every batch size
    assert degenerate_steps(t, tol_pp=1.0).empty


@pytest.mark.parametrize("kernel", [_flush_at_large_batch, _residue_at_small_batch])
def test_kernel_that_changes_with_the_batch_size_is_caught(exact, kernel):
    t = _capture(kernel)
    out = degenerate_steps(t, tol_pp=1.0)
    assert set(out.layer) == {"Layer 2"} and out.batch_size.min() == 64 and out.rise_pp.min() > 2
    assert degenerate_steps(exact, tol_pp=1.0).empty  # same network and minibatches, exact kernel
