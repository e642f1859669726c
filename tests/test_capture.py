"""Capture on synthetic data and small models: protocol, autograd match, module modes and BN
statistics untouched, layer groups, supported/unsupported layers, NaN checks, syncs, moments."""
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from sgnlib import capture, models
from sgnlib.data import load_cifar10


@pytest.fixture(scope="module")
def synth():
    return load_cifar10("train", source="synthetic")


def test_protocol_without_replacement_within_a_pass():
    gen = torch.Generator().manual_seed(0)
    idx = capture.minibatch_indices(100, 30, 7, gen)
    assert idx.shape == (7, 30)
    for p in range(0, 6, 3):  # 3 batches per pass, no repeats inside a pass
        assert idx[p:p + 3].flatten().unique().numel() == 90


def test_capture_matches_autograd_and_keeps_bn(synth):
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet_bn")
    before = {k: v.clone() for k, v in m.state_dict().items()}
    mats = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 5, layers=["Layer 6"], seed=3))
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k]), k
    idx = capture.minibatch_indices(x.shape[0], 16, 5, torch.Generator().manual_seed(3))
    m.train()
    g = torch.autograd.grad(F.cross_entropy(m(x[idx[2]]), y[idx[2]]), m.classifier.weight)[0]
    m.load_state_dict(before)
    assert torch.allclose(mats["Layer 6"][2], g.flatten(), atol=1e-6)


def test_layer_groups_bound_memory_same_result(synth):
    x, y, _ = synth
    m = models.build("alexnet")
    t1, _ = capture.gaussianity_of_noise(m, F.cross_entropy, x, y, 8, 10, max_bytes=4e9)
    t2, _ = capture.gaussianity_of_noise(m, F.cross_entropy, x, y, 8, 10, max_bytes=1e6)
    assert t1.gauss_pct_incl_degenerate.tolist() == t2.gauss_pct_incl_degenerate.tolist()


def test_probe_on_any_model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    xx, yy = torch.randn(300, 5), torch.randint(0, 3, (300,))
    t = capture.probe(net, F.cross_entropy, xx, yy, batch_size=20, n_batches=30)
    assert list(t.layer) == ["Layer 1", "Layer 2"] and list(t.d) == [20, 12]
    with pytest.raises(ValueError, match="n_batches"):
        capture.probe(net, F.cross_entropy, xx, yy, batch_size=20, n_batches=2)
    with pytest.raises(ValueError, match="exceeds"):
        capture.probe(net, F.cross_entropy, xx, yy, batch_size=1000, n_batches=5)


def test_nan_gradient_names_layer_and_batch(synth):
    x, y, _ = synth
    m = models.build("alexnet")
    with torch.no_grad():
        m.classifier.weight[0, 0] = float("nan")
    with pytest.raises(capture.NonFiniteGradientError, match="Layer 1.* minibatch 0 "):
        next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 5))


@pytest.mark.parametrize("check_every", [1, 4, 64])
def test_nan_in_one_minibatch_is_found_however_late_the_check(synth, check_every):
    x, y, _ = synth
    x = x.clone()
    idx = capture.minibatch_indices(x.shape[0], 8, 10, torch.Generator().manual_seed(0))
    x[idx[6, 3]] = float("nan")  # only minibatch 6 sees this image
    m = models.build("alexnet")
    with pytest.raises(capture.NonFiniteGradientError, match="'Layer 1' at minibatch 6 "):
        next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 10, check_every=check_every))
    with pytest.raises(ValueError, match="check_every"):
        next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 10, check_every=0))


def test_capture_loop_syncs_once_per_check_interval(synth):
    """No host-device sync per layer per minibatch, which would stall a GPU (counted on the CPU)."""
    from sgnlib.profiling import host_syncs
    x, y, _ = synth
    m = models.build("alexnet")  # 6 weight layers: the old loop synced 6 times per minibatch
    for n_batches, check_every, groups in ((130, 64, 1), (20, 64, 1), (20, 5, 1)):
        with host_syncs() as counts:
            for _ in capture.minibatch_gradients(m, F.cross_entropy, x, y, 4, n_batches, check_every=check_every):
                pass
        assert sum(counts.values()) == groups * -(-n_batches // check_every), counts
    # two layer groups: one sync per interval in each group's pass
    with host_syncs() as counts:
        mats = list(capture.minibatch_gradients(m, F.cross_entropy, x, y, 4, 20, max_bytes=20 * 4 * 300_000))
    assert len(mats) > 1 and sum(counts.values()) == len(mats)


def test_auto_memory_budget_cpu():
    assert capture.auto_max_bytes("cpu") == 4e9


def test_per_sample_moments_match_loop(synth):
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet").eval()
    res = capture.per_sample_moments(m, x, y, n_samples=12, chunk=5, layers=["Layer 6"], seed=0)
    pick = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))[:12]
    gs = torch.stack([torch.autograd.grad(F.cross_entropy(m(x[i:i + 1]), y[i:i + 1]), m.classifier.weight)[0].flatten()
                      for i in pick.tolist()]).double()
    dg = gs - gs.mean(0)
    var = (dg ** 2).mean(0)
    torch.testing.assert_close(res["Layer 6"]["sigma2"], var, rtol=1e-4, atol=1e-12)


def test_finite_check_confirms_on_the_stored_row():
    big = torch.full((2, 4), 3e38)  # finite entries whose float32 sum overflows to inf
    mats = {"Layer 1": torch.zeros(2, 3), "Layer 2": big}
    sums = torch.stack([mats["Layer 1"].sum(1), big.sum(1)], 1)
    assert not torch.isfinite(sums).all() and torch.isfinite(big).all()
    capture._check_finite(sums, mats, ["Layer 1", "Layer 2"], 0, 2, 8)  # no false alarm
    mats["Layer 2"][1, 2] = float("inf")
    with pytest.raises(capture.NonFiniteGradientError, match="'Layer 2' at minibatch 1 "):
        capture._check_finite(sums, mats, ["Layer 1", "Layer 2"], 0, 2, 8)


# --- module modes (every flag saved and restored), frozen BatchNorm, supported layer types ---

def _modes(m):
    return [(n, mod.training) for n, mod in m.named_modules()]


def _small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                         nn.Sequential(nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4)), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 10))


def _mix_all_train(m):
    m.train()


def _mix_all_eval(m):
    m.eval()


def _mix_frozen_bn(m):
    m.train()
    m[1].eval()


def _mix_dropout_in_eval_root(m):
    m.eval()
    m[3].train()


def _mix_nested(m):
    m.train()
    m[4].eval()
    m[4][0].train()
    m[3].eval()


@pytest.mark.parametrize("mix", [_mix_all_train, _mix_all_eval, _mix_frozen_bn, _mix_dropout_in_eval_root, _mix_nested])
def test_every_module_flag_restored_and_used_as_the_rule_says(mix):
    net = _small_net()
    mix(net)
    before = _modes(net)
    stats = {k: v.clone() for k, v in net.state_dict().items()}
    seen = {}
    hooks = [mod.register_forward_pre_hook(lambda mod, _, n=n: seen.__setitem__(n, mod.training))
             for n, mod in net.named_modules()]
    x, y = torch.randn(64, 3, 8, 8), torch.randint(0, 10, (64,))
    list(capture.minibatch_gradients(net, F.cross_entropy, x, y, 8, 5))
    # root in train mode: the user's modes; root in eval mode: train mode throughout
    assert sorted(seen.items()) == sorted((n, t or not net.training) for n, t in before)
    assert _modes(net) == before
    for k, v in net.state_dict().items():  # running stats and num_batches_tracked untouched
        assert torch.equal(v, stats[k]), k
    seen.clear()
    capture.per_sample_moments(net, x, y, n_samples=6, chunk=4)
    for h in hooks:
        h.remove()
    assert set(seen.values()) <= {False} and _modes(net) == before


def test_frozen_bn_stays_eval_and_uses_running_stats(synth):
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet_bn").train()
    bn = m.features[1]
    with torch.no_grad():  # running stats far from the batch statistics
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    bn.eval()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    mats = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 5, layers=["Layer 6"], seed=3))
    assert not bn.training and m.training and m.features[4].training
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k]), k
    idx = capture.minibatch_indices(x.shape[0], 16, 5, torch.Generator().manual_seed(3))

    def grad_row():
        g = torch.autograd.grad(F.cross_entropy(m(x[idx[2]]), y[idx[2]]), m.classifier.weight)[0].flatten()
        m.load_state_dict(before)
        return g
    frozen = grad_row()  # that BN in eval mode, the rest in train mode
    bn.train()
    batch_stats = grad_row()
    bn.eval()
    assert torch.allclose(mats["Layer 6"][2], frozen, atol=1e-6)
    assert not torch.allclose(batch_stats, frozen, atol=1e-4)  # the test can tell the two apart


def test_dropout_left_in_train_mode_comes_back_on():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.3), nn.Linear(8, 3)).eval()
    net[1].train()
    xx, yy = torch.randn(300, 5), torch.randint(0, 3, (300,))
    capture.probe(net, F.cross_entropy, xx, yy, batch_size=20, n_batches=10)
    assert not net.training and net[1].training and not net[0].training


def test_model_without_weight_layers_is_a_clear_error():
    net = nn.Sequential(nn.Flatten(), nn.LogSoftmax(1))
    xx, yy = torch.randn(50, 2, 3), torch.randint(0, 6, (50,))
    with pytest.raises(ValueError, match=r"Sequential has no weight layer to capture: supported are .*Conv1d.*Linear"):
        capture.probe(net, F.cross_entropy, xx, yy, batch_size=10, n_batches=5)
    with pytest.raises(ValueError, match="no weight layer"):
        capture.per_sample_moments(net, xx, yy, n_samples=5)


def test_conv1d_model_probed_with_both_layers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv1d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6, 4))
    xx, yy = torch.randn(300, 2, 8), torch.randint(0, 4, (300,))
    t = capture.probe(net, F.cross_entropy, xx, yy, batch_size=20, n_batches=30)
    assert list(t.layer) == ["Layer 1", "Layer 2"] and list(t.d) == [18, 72]


class _TokenNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 4)
        self.fc = nn.Linear(4 * 5, 3)

    def forward(self, t):
        return self.fc(self.emb(t).flatten(1))


def test_unsupported_module_raises_when_requested_and_is_warned_about_otherwise():
    torch.manual_seed(0)
    net = _TokenNet()
    tt, yy = torch.randint(0, 20, (300, 5)), torch.randint(0, 3, (300,))
    with pytest.raises(ValueError, match=r"unsupported layers 'emb' \(Embedding\)"):
        capture.probe(net, F.cross_entropy, tt, yy, batch_size=20, n_batches=10, layers=["emb"])
    with pytest.warns(UserWarning, match=r"_TokenNet: skipping .*'emb' \(Embedding\)"):
        t = capture.probe(net, F.cross_entropy, tt, yy, batch_size=20, n_batches=10)
    assert list(t.layer) == ["Layer 1"] and list(t.d) == [60]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asking for the supported layer only: no warning
        capture.probe(net, F.cross_entropy, tt, yy, batch_size=20, n_batches=10, layers=["Layer 1"])


# ---------------------------------------------------------------- protocol options (protocol study)


def test_sampling_protocols():
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert torch.equal(capture.sampled_indices(100, 10, 25, gen()), capture.minibatch_indices(100, 10, 25, gen()))
    rep = capture.sampled_indices(100, 10, 200, gen(), sampling="with_replacement")
    assert rep.shape == (200, 10) and rep.min() >= 0 and rep.max() < 100
    assert any(row.unique().numel() < 10 for row in rep)  # repeats inside a batch do occur
    ind = capture.sampled_indices(100, 10, 50, gen(), sampling="independent")
    assert all(row.unique().numel() == 10 for row in ind)  # never inside a batch
    assert ind[:10].flatten().unique().numel() < 100  # but batches overlap (not a partition of a pass)
    with pytest.raises(ValueError, match="unknown sampling"):
        capture.sampled_indices(100, 10, 5, gen(), sampling="bootstrap")


def test_augmented_capture_equals_autograd_on_augmented_images(synth):
    from sgnlib.data import augment
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet")
    mats = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 4, layers=["Layer 6"], seed=5,
                                            augment=True))
    plain = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 4, layers=["Layer 6"], seed=5))
    idx = capture.minibatch_indices(x.shape[0], 8, 4, torch.Generator().manual_seed(5))
    aug = torch.Generator().manual_seed(5 + 7919)
    for b in range(4):
        xb = augment(x[idx[b]], aug)
        g = torch.autograd.grad(F.cross_entropy(m(xb), y[idx[b]]), m.classifier.weight)[0]
        assert torch.allclose(mats["Layer 6"][b], g.flatten(), atol=1e-6)
    assert not torch.allclose(mats["Layer 6"], plain["Layer 6"])


def test_running_statistics_protocol_uses_eval_batchnorm(synth):
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet_bn")
    with torch.no_grad():  # non-trivial running statistics
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
    mats = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 3, layers=["Layer 6"], seed=1,
                                            bn="running"))
    idx = capture.minibatch_indices(x.shape[0], 8, 3, torch.Generator().manual_seed(1))
    m.eval()
    g = torch.autograd.grad(F.cross_entropy(m(x[idx[1]]), y[idx[1]]), m.classifier.weight)[0]
    assert torch.allclose(mats["Layer 6"][1], g.flatten(), atol=1e-6)
    assert all(mod.training is False for mod in m.modules())  # modes as before the call (eval here)
    with pytest.raises(ValueError, match="unknown bn mode"):
        next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 3, bn="frozen"))


def test_float64_capture_keeps_the_dtype(synth):
    x, y, _ = synth
    m = models.build("alexnet").double()
    mats = next(capture.minibatch_gradients(m, F.cross_entropy, x.double(), y, 8, 3, layers=["Layer 6"]))
    assert mats["Layer 6"].dtype == torch.float64


def test_trajectory_rows_are_consecutive_sgd_steps(synth):
    """protocol trajectory: row b is the minibatch gradient at theta_b, theta_{b+1} one SGD step later
    (reference: a hand-written loop); the model comes back unchanged, and layer groups replay the
    same steps (one group or one per layer give the same rows)."""
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet")
    before = {k: v.clone() for k, v in m.state_dict().items()}
    sgd = lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=5e-4)  # noqa: E731
    one = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 4, seed=2, trajectory=sgd))
    per_layer = {}
    for mats in capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 4, seed=2, trajectory=sgd,
                                            max_bytes=1):
        per_layer.update(mats)
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert all(p.grad is None for p in m.parameters())  # the caller's .grad (none here) comes back
    m.classifier.weight.grad = torch.ones_like(m.classifier.weight)
    next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 3, seed=2, trajectory=sgd))
    assert torch.equal(m.classifier.weight.grad, torch.ones_like(m.classifier.weight))
    m.classifier.weight.grad = None
    idx = capture.minibatch_indices(x.shape[0], 16, 4, torch.Generator().manual_seed(2))
    ref = models.build("alexnet")
    ref.load_state_dict(before)
    ref.train()
    opt = sgd(ref.parameters())
    for b in range(4):
        opt.zero_grad()
        F.cross_entropy(ref(x[idx[b]]), y[idx[b]]).backward()
        for name, p in models.weight_layers(ref):
            assert torch.allclose(one[name][b], p.grad.flatten(), atol=1e-6), (name, b)
            assert torch.equal(one[name][b], per_layer[name][b]), (name, b)
        opt.step()
    fixed = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 4, seed=2))
    assert torch.equal(fixed["Layer 1"][0], one["Layer 1"][0])  # same theta at the first step
    assert not torch.equal(fixed["Layer 1"][3], one["Layer 1"][3])  # then theta moves
