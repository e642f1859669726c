"""exact_kernels: cuDNN off and IEEE float32 matmuls while a minibatch gradient is computed, flags
restored after; on the CPU the capture is bitwise the plain autograd gradient, and the CPU
convolution keeps structural zeros exactly zero at every batch size (an FFT-style kernel does
not)."""
import pytest
import torch
import torch.nn.functional as F

from sgnlib import capture, models
from sgnlib.data import load_cifar10
from sgnlib.kernels import exact_kernels
from sgnlib.stats import shapiro_wilk


def _flags():
    return torch.backends.cudnn.enabled, torch.backends.cuda.matmul.fp32_precision


def test_exact_kernels_sets_and_restores_the_flags():
    before = _flags()
    with exact_kernels():
        assert _flags() == (False, "ieee")
    assert _flags() == before
    with pytest.raises(KeyError), exact_kernels():
        raise KeyError("inside")
    assert _flags() == before


def test_every_minibatch_gradient_is_computed_under_exact_kernels():
    x, y = torch.randn(64, 5), torch.randint(0, 3, (64,))
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    seen = []

    def loss_fn(out, target):
        seen.append(_flags())
        return F.cross_entropy(out, target)
    before = _flags()
    groups = capture.minibatch_gradients(net, loss_fn, x, y, 8, 6, max_bytes=1)  # a group per layer
    for _ in groups:
        assert _flags() == before  # the consumer (Shapiro-Wilk, ...) runs with the caller's flags
    assert seen == [(False, "ieee")] * 12 and _flags() == before


def test_cpu_capture_is_bitwise_the_plain_autograd_gradient():
    x, y, _ = load_cifar10("train", source="synthetic")
    torch.manual_seed(0)
    m = models.build("alexnet")
    mats = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 3,
                                            layers=["Layer 4", "Layer 5"], seed=3))
    idx = capture.minibatch_indices(x.shape[0], 16, 3, torch.Generator().manual_seed(3))
    m.train()
    weights = dict(models.weight_layers(m))
    for b in range(3):
        g4, g5 = torch.autograd.grad(F.cross_entropy(m(x[idx[b]]), y[idx[b]]),
                                     [weights["Layer 4"], weights["Layer 5"]])
        assert torch.equal(mats["Layer 4"][b], g4.flatten())
        assert torch.equal(mats["Layer 5"][b], g5.flatten())


def _structural(n, seed=0):
    """AlexNet Layer 4 shape on 2x2 maps: input channel 0 active only at (1, 1), output row/column 1
    never back-propagating at (1, 1); 6 of that channel's 9 taps are exactly 0 in exact
    arithmetic."""
    g = torch.Generator().manual_seed(seed)
    x = torch.relu(torch.randn(n, 384, 2, 2, generator=g))
    x[:, 0] = 0
    x[:, 0, 1, 1] = torch.rand(n, generator=g) + 0.5
    gy = torch.randn(n, 256, 2, 2, generator=g)
    gy[:, :, 1, 1] = 0
    return x, gy


ZERO_TAPS = [[True, True, True], [True, True, False], [True, False, False]]


@pytest.mark.parametrize("n", [64, 512, 2048])
def test_cpu_convolution_keeps_structural_zeros_and_denormals_at_every_batch_size(n):
    """The CPU path of the committed captures (oneDNN direct convolution, PyTorch's default)."""
    w = torch.randn(256, 384, 3, 3, requires_grad=True)
    x, gy = _structural(n)
    gw, = torch.autograd.grad(F.conv2d(x, w, padding=1), w, gy)
    assert (gw[:, 0] == 0).all(0).tolist() == ZERO_TAPS
    xd = torch.zeros(n, 384, 2, 2)
    xd[0, 5, 0, 0] = 1e-40  # a float32 denormal: not flushed to zero on this path
    gd, = torch.autograd.grad(F.conv2d(xd, w, padding=1), w, torch.ones(n, 256, 2, 2))
    assert gd[:, 5].abs().max() > 0


def _fft_weight_grad(x, gy):
    """The same weight gradient by FFT correlation in float32 (as transform algorithms do)."""
    xp = F.pad(x, (1, 1, 1, 1))
    X, G = torch.fft.rfft2(xp, s=(4, 4)), torch.fft.rfft2(gy, s=(4, 4))
    return torch.fft.irfft2(torch.einsum("nohw,nihw->oihw", G.conj(), X), s=(4, 4))[:, :, :3, :3]


def test_transform_kernel_leaves_residue_where_point_masses_were():
    w_shape = (256, 384, 3, 3)
    rows_direct, rows_fft = [], []
    for seed in range(3):  # 3 minibatches of 64: one column per weight, 3 samples
        x, gy = _structural(64, seed)
        rows_direct.append(torch.nn.grad.conv2d_weight(x, w_shape, gy, padding=1)[:, 0].flatten())
        rows_fft.append(_fft_weight_grad(x, gy)[:, 0].flatten())
    direct, fft = torch.stack(rows_direct), torch.stack(rows_fft)
    torch.testing.assert_close(fft, direct, atol=1e-3, rtol=1e-3)  # equal up to rounding
    d_direct, d_fft = shapiro_wilk(direct).degenerate, shapiro_wilk(fft).degenerate
    assert int(d_direct.sum()) == 6 * 256  # the structural zeros are point masses
    assert int(d_fft.sum()) < 6 * 256 // 2  # most of them are not, after the transform


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_capture_kernels_keep_structural_zeros_at_every_batch_size():
    w = torch.randn(256, 384, 3, 3, device="cuda", requires_grad=True)
    for n in (64, 128, 256, 512, 1024, 2048):
        x, gy = (t.cuda() for t in _structural(n))
        with exact_kernels():
            gw, = torch.autograd.grad(F.conv2d(x, w, padding=1), w, gy)
        assert (gw[:, 0] == 0).all(0).cpu().tolist() == ZERO_TAPS, n
