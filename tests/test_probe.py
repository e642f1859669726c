"""probe(): every bad argument, model or loss is one CaptureArgumentError line raised before any
minibatch gradient; tied weights are captured once, frozen weights skipped or refused."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from sgnlib import capture
from sgnlib.capture import CaptureArgumentError, probe


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 3))


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(300, 5, generator=g), torch.randint(0, 3, (300,), generator=g)


def _largest_forward(net):
    """Hook recording the largest batch the model saw: 0 = no forward, 2 = only the loss check."""
    seen = [0]
    net.register_forward_pre_hook(lambda _m, args: seen.__setitem__(0, max(seen[0], len(args[0]))))
    return seen


def _refused(net, x, y, match, loss_fn=F.cross_entropy, **kw):
    seen = _largest_forward(net)
    with pytest.raises(CaptureArgumentError, match=match) as e:
        probe(net, loss_fn, x, y, **{"batch_size": 20, "n_batches": 10, **kw})
    assert "\n" not in str(e.value)
    assert seen[0] <= 2  # nothing beyond the 2-image loss check ran
    return str(e.value)


@pytest.mark.parametrize("kw, match", [
    ({"batch_size": 8.5}, r"batch_size must be a positive integer, got 8\.5"),
    ({"batch_size": True}, r"batch_size must be a positive integer, got True"),
    ({"batch_size": "16"}, r"batch_size must be a positive integer, got '16'"),
    ({"n_batches": "20"}, r"n_batches must be an integer in 3\.\.5000 .*got '20'"),
    ({"n_batches": 20.0}, r"n_batches must be an integer in 3\.\.5000 .*got 20\.0"),
    ({"batch_size": 1000}, r"batch_size 1000 exceeds the 300 training images; "
                           r"use batch_size <= 300"),
    ({"level": 5}, r"level must be a significance level in \(0, 1\), got 5"),
    ({"layers": ["Layer 9"]}, r"unknown layers \['Layer 9'\]; "
                              r"this model has \['Layer 1', 'Layer 2', 'Layer 3'\]"),
])
def test_bad_arguments_are_one_line_before_any_forward(data, kw, match):
    net = _net()
    seen = _largest_forward(net)
    with pytest.raises(CaptureArgumentError, match=match) as e:
        probe(net, F.cross_entropy, *data, **{"batch_size": 20, "n_batches": 10, **kw})
    assert "\n" not in str(e.value) and seen[0] == 0


def test_labels_must_match_images(data):
    x, y = data
    with pytest.raises(CaptureArgumentError, match="300 images but 200 labels"):
        probe(_net(), F.cross_entropy, x, y[:200], batch_size=20, n_batches=10)


def test_loss_that_is_not_a_scalar_is_refused_after_two_images(data):
    calls = []

    def per_sample(out, target):
        calls.append(len(target))
        return F.cross_entropy(out, target, reduction="none")
    msg = _refused(_net(), *data, r"loss_fn must return a scalar .*got \(2,\); "
                   r"use reduction='mean'", loss_fn=per_sample)
    assert calls == [2] and "scalar" in msg
    _refused(_net(), *data, "must return a scalar .*got float", loss_fn=lambda o, t: 0.5)
    _refused(_net(), *data, "does not depend on the model's weights",
             loss_fn=lambda o, t: torch.tensor(1.0))


def test_model_that_fails_on_the_data_is_one_line(data):
    x, y = data
    _refused(_net(), x[:, :3], y, r"model or loss_fn failed on 2 images: RuntimeError: .*shapes")


def test_loss_check_leaves_modes_and_statistics_alone(data):
    x, y = data
    net = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Dropout(0.2), nn.Linear(4, 3))
    net.train()
    net[2].eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    named = capture.capture_layers(net)
    from sgnlib.probe import check_loss
    check_loss(net, F.cross_entropy, x, y, named)
    assert net.training and net[1].training and not net[2].training
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


class _Spare(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.spare = _net(), nn.Linear(3, 3)  # spare: registered, never called

    def forward(self, x):
        return self.body(x)


def test_unused_weight_layer_is_refused(data):
    _refused(_Spare(), *data, r"layers \['Layer 4'\] do not affect the loss")


def test_all_weights_frozen_is_no_trainable_layer(data):
    net = _net()
    for p in net.parameters():
        p.requires_grad_(False)
    _refused(net, *data, r"Sequential has no trainable weight layer: "
             r"\['Layer 1', 'Layer 2', 'Layer 3'\] are frozen")


def test_frozen_weight_is_skipped_with_a_warning_or_refused_by_name(data):
    x, y = data
    net = _net()
    net[2].weight.requires_grad_(False)
    with pytest.warns(UserWarning, match=r"Sequential: skipping frozen weights \['Layer 2'\]"):
        t = probe(net, F.cross_entropy, x, y, batch_size=20, n_batches=10)
    assert list(t.layer) == ["Layer 1", "Layer 3"] and list(t.d) == [20, 12]
    ref = probe(net, F.cross_entropy, x, y, batch_size=20, n_batches=10,
                layers=["Layer 1", "Layer 3"])
    assert t.equals(ref)  # the same numbers as asking for the trainable layers only
    _refused(net, x, y, r"layers \['Layer 2'\] are frozen \(requires_grad=False\)",
             layers=["Layer 2"])


def test_tied_weight_is_captured_once_under_its_first_name(data):
    x, y = data
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(),
                        nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 3))
    net[4].weight = net[2].weight  # the same Parameter in two modules
    t = probe(net, F.cross_entropy, x, y, batch_size=20, n_batches=10)
    assert list(t.layer) == ["Layer 1", "Layer 2", "Layer 4"] and list(t.d) == [20, 16, 12]
    mats = next(capture.minibatch_gradients(net, F.cross_entropy, x, y, 20, 3, seed=1))
    idx = capture.minibatch_indices(300, 20, 3, torch.Generator().manual_seed(1))
    loss = F.cross_entropy(net(x[idx[1]]), y[idx[1]])
    g = torch.autograd.grad(loss, net[2].weight)[0]  # both uses of the tied weight
    assert torch.allclose(mats["Layer 2"][1], g.flatten(), atol=1e-7)
    _refused(net, x, y, r"layer 'Layer 3' is the same \(tied\) weight as 'Layer 2'; "
             r"ask for 'Layer 2'", layers=["Layer 3"])


def test_module_called_twice_is_one_layer(data):
    x, y = data
    lin = nn.Linear(5, 5)
    net = nn.Sequential(lin, nn.Tanh(), lin, nn.Tanh(), nn.Linear(5, 3))
    t = probe(net, F.cross_entropy, x, y, batch_size=20, n_batches=10)
    assert list(t.layer) == ["Layer 1", "Layer 2"] and list(t.d) == [25, 15]


def test_probe_is_importable_from_capture():
    from sgnlib.capture import probe as probe_fn
    assert capture.probe is probe_fn and issubclass(CaptureArgumentError, ValueError)
