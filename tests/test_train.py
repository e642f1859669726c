"""Training on synthetic data: recipe, determinism, resume, errors (capture tests: tests/test_capture.py)."""
import dataclasses

import pytest
import torch

from sgnlib import models, train
from sgnlib.data import load_cifar10


@pytest.fixture(scope="module")
def synth():
    return load_cifar10("train", source="synthetic")


def test_recipe_milestones_scale():
    assert train.Recipe().scaled_milestones() == [150, 225]
    r = train.Recipe(epochs=30)
    assert r.scaled_milestones() == [15, 22] and r.lr_at(0) == 0.1 and r.lr_at(29) == pytest.approx(0.001)


def test_training_is_deterministic_and_resumes(tmp_path, synth):
    x, y, info = synth
    rec = train.Recipe(epochs=2, batch_size=32)
    a = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False)
    b = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False)
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    # killed after epoch 1: resume from the epoch-1 checkpoint reproduces the uninterrupted run
    one = train.train("alexnet", (x, y), recipe=train.Recipe(epochs=2, batch_size=32), seed=1, progress=False,
                      checkpoint_dir=tmp_path, checkpoint_epochs=[1])
    (tmp_path / "alexnet-seed1-epoch002.pt").unlink()
    resumed = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False, checkpoint_dir=tmp_path,
                          checkpoint_epochs=[1])
    assert resumed["resumed_from"].endswith("epoch001.pt")
    for p, q in zip(one["model"].parameters(), resumed["model"].parameters()):
        assert torch.equal(p, q)
    ck = train.load_checkpoint(tmp_path / "alexnet-seed1-epoch002.pt")
    assert ck["epoch"] == 2 and ck["seed"] == 1 and ck["recipe"]["epochs"] == 2


def test_a_run_carried_over_continues_from_its_newest_checkpoint(tmp_path, synth):
    """Only the newest checkpoint on a new machine (scripts/resume_checkpoint.py): training continues
    from it, bit for bit, instead of retraining from scratch; the earlier checkpoints are named."""
    x, y, _ = synth
    rec = train.Recipe(epochs=3, batch_size=32)
    full = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False, checkpoint_dir=tmp_path / "a",
                       checkpoint_epochs=[1, 2])
    carried = tmp_path / "b"
    carried.mkdir()
    (tmp_path / "a" / "alexnet-seed1-epoch002.pt").rename(carried / "alexnet-seed1-epoch002.pt")
    with pytest.warns(UserWarning, match=r"epochs \[1\] are not re-created"):
        out = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False, checkpoint_dir=carried,
                          checkpoint_epochs=[1, 2])
    assert out["resumed_from"].endswith("epoch002.pt")
    assert not (carried / "alexnet-seed1-epoch001.pt").exists()
    for p, q in zip(full["model"].parameters(), out["model"].parameters()):
        assert torch.equal(p, q)


def test_nan_loss_names_epoch_and_step(synth):
    x, y, _ = synth
    with pytest.raises(train.NonFiniteLossError, match="epoch 1, step"):
        train.train("alexnet", (x * float("nan"), y), recipe=train.Recipe(epochs=1, batch_size=32), progress=False)


def test_missing_checkpoint_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="train the model first"):
        train.load_checkpoint(tmp_path / "none.pt")


def test_history_rows_name_the_step(synth):
    x, y, _ = synth
    out = train.train("alexnet", (x, y), recipe=train.Recipe(epochs=1, batch_size=100), progress=False)
    assert out["history"][0]["step"] == "eager" and out["step"] == "eager"  # fast=None: eager on CPU


def test_fast_run_resumes_an_eager_checkpoint(tmp_path, synth, monkeypatch):
    """Checkpoints are the same on both paths: an eager epoch 1 continued fast (compiled, CPU) ends
    where the all-eager run ends, to float rounding; the history says which path ran each epoch."""
    from sgnlib import fast_step
    monkeypatch.setattr(fast_step, "BACKEND", "aot_eager")  # no C++ compile: seconds
    x, y, _ = synth
    rec = train.Recipe(epochs=2, batch_size=64)
    ref = train.train("alexnet", (x, y), recipe=rec, seed=2, progress=False, fast=False)
    train.train("alexnet", (x, y), recipe=train.Recipe(epochs=2, batch_size=64), seed=2, progress=False, fast=False,
                checkpoint_dir=tmp_path, checkpoint_epochs=[1])
    (tmp_path / "alexnet-seed2-epoch002.pt").unlink()
    out = train.train("alexnet", (x, y), recipe=rec, seed=2, progress=False, fast=True, checkpoint_dir=tmp_path,
                      checkpoint_epochs=[1])
    assert out["resumed_from"].endswith("epoch001.pt")
    assert [r["step"] for r in out["history"]] == ["eager", "compiled"]
    for p, q in zip(ref["model"].parameters(), out["model"].parameters()):
        assert float((p - q).detach().abs().max()) <= 1e-5 * float(p.detach().abs().max())


def test_initial_model_is_where_training_starts(synth):
    """Checkpoint epoch 0: `initial_model` equals the weights `train` starts from (a run at learning
    rate 0 leaves them unchanged) and differs between seeds."""
    x, y, _ = synth
    out = train.train("alexnet", (x, y), recipe=train.Recipe(epochs=1, batch_size=64, lr=0.0), seed=3,
                      progress=False)
    init = train.initial_model("alexnet", 3).state_dict()
    assert all(torch.equal(out["model"].state_dict()[k], v) for k, v in init.items())
    assert not torch.equal(train.initial_model("alexnet", 4).state_dict()["classifier.weight"],
                           init["classifier.weight"])


def test_recipe_identity_leaves_fields_at_their_identity_default_out():
    """normalize=True (its identity default) is absent from the identity, so ids and checkpoints whose
    recipe has no normalize field match; normalize=False is present; a checkpoint's recipe dict
    without the field compares equal."""
    old = {k: v for k, v in dataclasses.asdict(train.Recipe()).items() if k != "normalize"}
    assert train.recipe_identity(train.Recipe()) == train.recipe_identity(old)
    assert "normalize" not in train.recipe_identity(train.Recipe())
    assert train.recipe_identity(train.Recipe(normalize=False))["normalize"] is False


def test_empty_checkpoint_is_a_one_line_checkpoint_error(tmp_path):
    """A 0-byte file (a copy cut short, a full disk) says so instead of failing inside the handler."""
    path = tmp_path / "alexnet-seed0-epoch001.pt"
    path.write_bytes(b"")
    with pytest.raises(train.CheckpointError) as e:
        train.load_checkpoint(path)
    msg = str(e.value)
    assert msg == f"checkpoint {path} is empty (0 bytes); delete it and rerun to retrain"


@pytest.mark.parametrize("payload, says", [(b"x", "UnpicklingError"), (b"\x80\x02", "unreadable (")])
def test_garbage_checkpoint_is_a_one_line_checkpoint_error(tmp_path, payload, says):
    path = tmp_path / "c.pt"
    path.write_bytes(payload)
    with pytest.raises(train.CheckpointError, match="delete it and rerun") as e:
        train.load_checkpoint(path)
    assert "\n" not in str(e.value) and says in str(e.value)


@pytest.mark.parametrize("obj", [torch.zeros(3), {"model": "alexnet"}])
def test_a_torch_file_that_is_no_checkpoint_is_a_checkpoint_error(tmp_path, obj):
    path = tmp_path / "c.pt"
    torch.save(obj, path)
    with pytest.raises(train.CheckpointError, match="without 'state_dict', not a checkpoint written by"):
        train.model_from_checkpoint(path)


def test_training_resumes_only_its_own_checkpoints(tmp_path, synth):
    """train() checks what it resumes from with `checkpoint_expect` (here: another seed's weights)."""
    x, y, info = synth
    rec = train.Recipe(epochs=1, batch_size=100)
    train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False, checkpoint_dir=tmp_path, data_info=info)
    (tmp_path / "alexnet-seed1-epoch001.pt").rename(tmp_path / "alexnet-seed2-epoch001.pt")
    with pytest.raises(train.CheckpointError, match="has seed=1 but this run expects 2"):
        train.train("alexnet", (x, y), recipe=rec, seed=2, progress=False, checkpoint_dir=tmp_path, data_info=info)
