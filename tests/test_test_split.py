"""The test split is part of a training configuration's identity: two test zips beside the same train
zip give two train configurations (ids, checkpoint folders) whose rows name the split they used,
while the stages that never read the test split keep one id."""
import shutil

import pytest

from sgnlib import data, presets
from sgnlib.stages import Context, run_stage
from sgnlib.stage_context import DataChangedError
from test_data import _write_mirror

PRESET = """\
epochs: 1
blocks:
  - {stage: train, model: alexnet, checkpoint_epochs: [1]}
  - {stage: capture, model: alexnet, checkpoint_epoch: final, batch_size: 8, n_batches: 3, repeat: 0}
"""


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Folders a/ and b/: the same 30-image train zip, each with its own 30-image test zip."""
    monkeypatch.setitem(data.N_PER_CLASS, "train", 3)
    monkeypatch.setitem(data.N_PER_CLASS, "test", 3)
    monkeypatch.setenv("SGN_CACHE", str(tmp_path / "cache"))
    for name, seed in (("a", 1), ("b", 2)):
        (tmp_path / name).mkdir()
        _write_mirror(tmp_path / name, "test", seed=seed)
    _write_mirror(tmp_path / "a", "train")
    shutil.copy(tmp_path / "a" / "cifar10-jpeg-train.zip", tmp_path / "b")
    (tmp_path / "preset.yaml").write_text(PRESET)
    return tmp_path


def configs(folder, monkeypatch):
    """The preset's configurations for the data in `folder`, as `python -m sgnlib.sweep` builds them."""
    monkeypatch.setenv("SGN_DATA", str(folder))
    return presets.expand(presets.load(str(folder.parent / "preset.yaml")), data.identify("train"))


def test_another_test_split_is_another_train_configuration(folders, monkeypatch):
    (train_a, cap_a), (train_b, cap_b) = configs(folders / "a", monkeypatch), configs(folders / "b", monkeypatch)
    assert train_a.data_sha256 == train_b.data_sha256  # one train split
    assert train_a.config_id != train_b.config_id and train_a.checkpoint_key() != train_b.checkpoint_key()
    assert cap_a.config_id == cap_b.config_id  # capture never reads the test split
    rows = {}
    for name, cfg in (("a", train_a), ("b", train_b)):
        monkeypatch.setenv("SGN_DATA", str(folders / name))
        rows[name] = run_stage(cfg, Context("cpu", folders / "ck"))["training"]
        test_zip = folders / name / "cifar10-jpeg-test.zip"
        assert (rows[name].test_sha256 == data.sha256_of(test_zip)).all()
        assert (rows[name].test_source == "jpeg-mirror").all() and (rows[name].config_id == cfg.config_id).all()
    assert rows["a"].test_loss.iloc[-1] != rows["b"].test_loss.iloc[-1]
    assert rows["a"].train_loss.iloc[-1] == rows["b"].train_loss.iloc[-1]  # same weights, other test split


def test_the_shipped_test_split_leaves_the_id_as_without_one(folders, monkeypatch):
    """The test split a train split is released with is implied by data_sha256 (ids made before the
    test split entered the identity hold); any other one is named in the train configuration."""
    train_sha = data.sha256_of(folders / "a" / "cifar10-jpeg-train.zip")
    monkeypatch.setitem(data.SHIPPED_TEST, train_sha, data.sha256_of(folders / "a" / "cifar10-jpeg-test.zip"))
    (train_a, _), (train_b, _) = configs(folders / "a", monkeypatch), configs(folders / "b", monkeypatch)
    spec = presets.load(str(folders / "preset.yaml"))
    no_test = presets.expand(spec, {"source": "jpeg-mirror", "sha256": train_sha})[0]
    assert train_a.test_sha256 is None and train_a.config_id == no_test.config_id
    assert train_b.test_sha256 is not None and train_b.config_id != no_test.config_id


def test_a_test_split_replaced_after_planning_stops_the_train_stage(folders, monkeypatch):
    train_a, _ = configs(folders / "a", monkeypatch)
    _write_mirror(folders / "a", "test", seed=7)
    with pytest.raises(DataChangedError, match="jpeg-mirror test data now has sha256 .* rebuild the sweep"):
        run_stage(train_a, Context("cpu", folders / "ck"))
