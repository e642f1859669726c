"""The beyond preset (`sgnlib/presets/beyond.yaml`) run end to end at smoke size: its own blocks
(stages, models, recipes) with one epoch, batch 8, 20 minibatches and 4 per-sample gradients, on
4 synthetic images per class and the synthetic text (`--data-source synthetic`), through the
sweep's command line; the rows written are checked against the models' layer lists, and a rerun
computes nothing (resumable)."""
import json

import pytest
import torch
import yaml

from sgnlib import models, presets, sweep, text_data as td
from sgnlib.data import identify
from sgnlib.store import ResultStore

SMOKE = {"batch_size": 8, "n_batches": 20, "n_samples": 4}   # 40 images: batch 8 fits
RESNET_LAYERS = ["Stem", "FC"]   # ResNet-18's smallest weights keep Shapiro-Wilk cheap here


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def smoke_block(block: dict) -> dict:
    """One block of the preset at smoke size: one epoch, its checkpoint, small counts."""
    out = {**block, "epochs": 1}
    for key, value in SMOKE.items():
        if key in out:
            out[key] = value
    if "checkpoint_epochs" in out:
        out["checkpoint_epochs"] = [1]
    if "checkpoint_epoch" in out:
        out["checkpoint_epoch"] = 1
    if out["stage"] == "capture" and out["model"] == "resnet18":
        out["layers"] = RESNET_LAYERS
    if out["model"] != "charlm":  # 4 synthetic images per class (the text has no subset)
        out["subset"] = 4
    return out


def read(folder, table):
    """The committed rows of one table, checked against the ledger (`ResultStore.read`)."""
    return ResultStore(folder).read(table)


def test_beyond_preset_runs_every_stage_at_smoke_size(tmp_path, capsys):
    spec = presets.load("beyond")
    assert {b["model"] for b in spec["blocks"]} == {"resnet18", "vit", "charlm"}
    spec["blocks"] = [smoke_block(b) for b in spec["blocks"]]
    path = tmp_path / "beyond-smoke.yaml"
    path.write_text(yaml.safe_dump(spec))
    args = ["--preset", str(path), "--data-source", "synthetic", "--device", "cpu",
            "--results-dir", str(tmp_path / "res"), "--checkpoints", str(tmp_path / "ck")]
    assert sweep.main(args) == 0
    folder = tmp_path / "res" / "beyond-smoke"
    cfgs = presets.expand(spec, identify("train", "synthetic"))
    ledger = [json.loads(line) for line in (folder / "ledger.jsonl").read_text().splitlines()]
    assert sorted(e["config_id"] for e in ledger) == sorted(c.config_id for c in cfgs)

    gauss, tails = read(folder, "gaussianity"), read(folder, "tail_index")
    for model in ("vit", "charlm"):
        want = [n for n, _ in models.weight_layers(models.build(model))]
        rows = gauss[gauss.model == model]
        assert rows.batch_size.unique().tolist() == [8]
        assert rows.layer.tolist() == want
        assert set(tails[tails.model == model].layer) == set(want)
    assert gauss[gauss.model == "resnet18"].layer.tolist() == RESNET_LAYERS
    assert gauss.gauss_pct_incl_degenerate.between(0, 100).all()

    text_rows = gauss[gauss.model == "charlm"]
    assert set(text_rows.data_source) == {td.SYNTHETIC}
    assert set(text_rows.data_sha256) == {td.identity(td.SYNTHETIC)["sha256"]}
    assert set(gauss[gauss.model != "charlm"].data_source) == {"synthetic"}

    training = read(folder, "training")
    assert training.test_acc.between(0, 1).all()  # per token for the language model
    lm = training[training.model == "charlm"]
    assert float(lm.test_loss.iloc[0]) == pytest.approx(float(lm.train_loss.iloc[0]), rel=0.5)

    moments = read(folder, "moments")
    assert set(moments.model) == {"resnet18", "vit", "charlm"}
    lm_layers = set(moments[moments.model == "charlm"].layer)
    assert {"Token embedding", "Position embedding", "Head"} <= lm_layers

    capsys.readouterr()
    assert sweep.main(args) == 0  # resumable: everything is done, nothing runs again
    assert f"{len(cfgs)} already done, 0 to run" in capsys.readouterr().out
