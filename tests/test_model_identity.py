"""Each network's definition is pinned, since it changes numbers without being spelled out in a
configuration: the parameter names, shapes and dtypes, the initial weights under seed 0, and the
outputs on fixed inputs (training mode, then evaluation mode). A failure here means a model's
definition changed: bump its `sgnlib.config.MODEL_VERSION` (a new id and checkpoint folder for
everything it computes) and update the pinned values."""
import hashlib

import pytest
import torch

from sgnlib import models
from sgnlib.config import MODEL_VERSION, Config
from sgnlib.train import initial_model

# model: (architecture fingerprint, sum |initial weights|, sum |output| in training mode, in eval mode)
PINNED = {
    "alexnet": ("abbb464dd9036ece", 26204.285, 1.30411, 1.30411),
    "alexnet_bn": ("65c1d7f5c5f7d9fa", 28508.285, 24.63582, 1.18816),
    "resnet20": ("858a09551990a637", 16246.045, 63.5901, 282.72661),
    "resnet56": ("7db755c9bb626062", 49637.579, 100.95959, 36552.90604),
    "alexnet_text": ("7a61364b55e0d326", 33885.602, 1.98439, 1.98439),
    "alexnet_text_tables": ("01f468f115bca11a", 30324.548, 1.16235, 1.16235),
    "alexnet_text_tables_p5": ("1051db52b311bf7c", 32354.009, 1.65787, 1.65787),
}


def fingerprint(name):
    net = initial_model(name, 0)
    sd = net.state_dict()
    arch = hashlib.sha256(";".join(f"{k}:{tuple(v.shape)}:{v.dtype}" for k, v in sd.items()).encode())
    weights = sum(float(v.double().abs().sum()) for v in sd.values() if v.is_floating_point())
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)
    with torch.no_grad():
        train_out = float(net(x).double().abs().sum())
        eval_out = float(net.eval()(x).double().abs().sum())
    return arch.hexdigest()[:16], weights, train_out, eval_out


def test_every_model_is_pinned_at_its_version():
    assert set(PINNED) == set(models.MODELS) == set(MODEL_VERSION)
    assert all(v == 1 for v in MODEL_VERSION.values())  # pins below are those of version 1


@pytest.mark.parametrize("name", sorted(PINNED))
def test_model_definition_is_the_pinned_one(name):
    arch, weights, train_out, eval_out = fingerprint(name)
    want = PINNED[name]
    assert arch == want[0], f"{name}: parameters changed; bump MODEL_VERSION[{name!r}] and re-pin"
    assert weights == pytest.approx(want[1], rel=1e-6), f"{name}: initialization changed"
    assert (train_out, eval_out) == pytest.approx(want[2:], rel=1e-4), f"{name}: forward pass changed"


def test_a_model_version_above_one_changes_ids_and_checkpoint_keys(monkeypatch):
    cfg = dict(model="alexnet", epochs=2, data_source="synthetic", checkpoint_epoch=2, n_samples=4)
    before = Config("moments", **cfg)
    key = before.checkpoint_key()
    monkeypatch.setitem(MODEL_VERSION, "alexnet", 2)
    after = Config("moments", **cfg)
    assert after.config_id != before.config_id and after.checkpoint_key() != key
