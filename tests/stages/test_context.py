"""`Context`: checkpoints are verified against the configuration, data against its sha256, and
`rows` stamps every table with the configuration and provenance."""
import dataclasses
import json
import shutil

import pandas as pd
import pytest
import torch

from sgnlib.stages import Context
from sgnlib.stage_context import DataChangedError, rows
from sgnlib.train import CheckpointError


@pytest.fixture()
def copied_ctx(ctx, train_cfg, trained, tmp_path):
    """A Context over a private copy of the trained run's checkpoints (safe to tamper with)."""
    mine = Context("cpu", tmp_path / "ck")
    shutil.copytree(ctx.checkpoint_folder(train_cfg), mine.checkpoint_folder(train_cfg))
    return mine


def test_model_loads_the_configured_epoch(ctx, make_cfg):
    m1 = ctx.model(make_cfg("moments", n_samples=8, checkpoint_epoch=1))
    m2 = ctx.model(make_cfg("moments", n_samples=8))
    ck2 = torch.load(ctx.checkpoint_file(make_cfg("moments", n_samples=8)), map_location="cpu", weights_only=True)
    for k, v in m2.state_dict().items():
        assert torch.equal(v, ck2["state_dict"][k]), k
    assert any(not torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))


@pytest.mark.parametrize("edit", ["seed", "recipe", "epoch", "data_sha256", "model"])
def test_model_refuses_checkpoint_of_another_run(copied_ctx, make_cfg, edit):
    cfg = make_cfg("moments", n_samples=8)
    path = copied_ctx.checkpoint_file(cfg)
    ck = torch.load(path, map_location="cpu", weights_only=True)
    copied_ctx.model(cfg)  # untouched copy: accepted
    if edit == "recipe":
        ck["recipe"] = {**ck["recipe"], "lr": 0.05}
    elif edit == "seed":
        ck["seed"] = 7
    elif edit == "epoch":
        ck["epoch"] = 1
    elif edit == "data_sha256":
        ck["data_sha256"] = "0" * 64
    else:
        ck["model"] = "resnet20"
    torch.save(ck, path)
    with pytest.raises(CheckpointError, match=edit):
        copied_ctx.model(cfg)


def test_data_with_another_sha256_is_refused(ctx, make_cfg):
    cfg = make_cfg("moments", n_samples=8)
    x, y, info = ctx.data(cfg)
    assert info["sha256"] == cfg.data_sha256 and x.shape == (200, 3, 32, 32) and y.shape == (200,)
    stale = dataclasses.replace(make_cfg("moments", n_samples=8), data_sha256="f" * 64)
    assert stale.config_id != cfg.config_id
    with pytest.raises(DataChangedError, match="rebuild the sweep"):
        ctx.data(stale)
    with pytest.raises(DataChangedError):
        Context("cpu", ctx.checkpoint_dir).data(stale)  # also when nothing is cached yet


def test_rows_puts_config_id_first_and_json_encodes_list_extras(make_cfg):
    cfg = make_cfg("capture", batch_size=8, n_batches=10, repeat=0, layers=("Layer 6",))
    table = pd.DataFrame({"layer": ["a", "b"], "value": [1.0, 2.0]})
    prov = {"git_commit": "abc", "torch_version": torch.__version__, "data_source": cfg.data_source,
            "data_sha256": cfg.data_sha256}
    out = rows(table, cfg, prov, 1.5, extra_list=[1, 2], extra_tuple=("x", "y"), extra_num=3)
    assert out.columns[0] == "config_id" and (out.config_id == cfg.config_id).all()
    assert list(out.columns[1:3]) == ["layer", "value"]
    assert (out.extra_list == "[1, 2]").all() and json.loads(out.extra_tuple[0]) == ["x", "y"]
    assert (out.extra_num == 3).all() and (out.wall_s == 1.5).all() and (out.git_commit == "abc").all()
    assert (out.layers == '["Layer 6"]').all() and (out.batch_size == 8).all()
    assert list(table.columns) == ["layer", "value"]  # the input is not modified


def test_data_follow_the_recipes_normalize(make_cfg, ctx):
    """recipe normalize=False gives raw [0, 1] pixels to every stage; the default, standardized ones."""
    raw, _, _ = ctx.data(make_cfg("capture", batch_size=8, n_batches=10, repeat=0,
                                  recipe={"normalize": False}))
    std, _, _ = ctx.data(make_cfg("capture", batch_size=8, n_batches=10, repeat=0))
    assert raw.min() >= 0 and raw.max() <= 1 and std.min() < 0
