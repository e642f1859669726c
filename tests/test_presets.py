"""Presets: every file expands into valid, unique, correctly ordered Configs; overrides and errors."""
import re
from collections import Counter

import pytest

from sgnlib import data, presets
from sgnlib.config import STAGE_FIELDS, ConfigError
from sgnlib.data import identify
from sgnlib.text_data import identity_for

SYN = identify("train", "synthetic")
MIRROR_TRAIN = "f9e11d6283a4afd5286866ecf0496165390e4f1f2305295e0cfdf337d5eead54"  # ../shared/data/README.md
MIRROR_TEST = "b109075b44d9525eb3796e49b290b0a6c1beb17d7f4106c1a074e20947d37829"
REAL = {"source": "jpeg-mirror", "sha256": "0" * 64}  # cpu/paper-recipe use all 50,000 images (subset null)


def data_for(name):
    return SYN if presets.load(name).get("subset") else REAL


def expand(name, **kw):
    return presets.expand(presets.load(name), data_for(name), **kw)


def test_names():
    assert {"cpu", "paper-recipe", "smoke"} <= set(presets.names())
    assert presets.names() == sorted(presets.names())


@pytest.mark.parametrize("name", presets.names())
def test_preset_expands_to_valid_unique_ordered_configs(name):
    cfgs = expand(name)
    assert cfgs
    ids = [c.config_id for c in cfgs]
    assert len(ids) == len(set(ids))
    assert {c.stage for c in cfgs} <= set(STAGE_FIELDS)
    data = data_for(name)
    for c in cfgs:  # a text model reads its text (sgnlib.text_data), every other model the images
        want = identity_for(c.model, data)
        assert (c.data_source, c.data_sha256) == (want["source"], want["sha256"])
    trained = {}  # checkpoint_key -> checkpoint epochs saved by an earlier train config
    for c in cfgs:
        if c.stage == "train":
            trained.setdefault(c.checkpoint_key(), set()).update(c.checkpoint_epochs)
            assert c.epochs in c.checkpoint_epochs  # the final weights are always kept
        elif c.needs_training():  # epoch 0 is the initialization: no checkpoint to wait for
            assert c.checkpoint_epoch in trained.get(c.checkpoint_key(), set()), \
                f"{c.config_id} reads epoch {c.checkpoint_epoch} of {c.checkpoint_key()} before any train saves it"


@pytest.mark.parametrize("name", presets.names())
def test_preset_starts_with_train(name):
    cfgs = expand(name)
    assert cfgs[0].stage == "train"


def test_series():
    assert presets.series(15, 5) == [1, 3, 6, 9, 12, 15]
    s = presets.series(300, 12)
    assert s[0] == 1 and s[-1] == 300
    assert s[1:] == list(range(25, 301, 25))
    assert presets.series(2, 2) == [1, 2]
    assert presets.series(3, 12) == [1, 2, 3]  # fewer epochs than points: every epoch
    assert presets.series(1, 5) == [1]
    assert presets.series(10, 3) == [1, 3, 6, 9, 10]  # the last epoch is always in


def test_cpu_preset_default_grid():
    cfgs = expand("cpu")
    trains = [c for c in cfgs if c.stage == "train"]
    assert [c.model for c in trains] == ["alexnet", "alexnet_bn"]
    assert all(c.checkpoint_epochs == (1, 3, 6, 9, 12, 15) and c.epochs == 15 for c in trains)
    final = [c for c in cfgs if c.stage == "capture" and c.checkpoint_epoch == 15]
    assert len(final) == 2 * 4  # models x batch sizes x 1 repeat
    assert Counter(c.stage for c in cfgs) == {"train": 2, "capture": 18, "moments": 1, "berry_esseen": 4,
                                              "examples": 4}


def test_repeats_override_triples_the_final_capture_grid():
    one = [c for c in expand("cpu") if c.stage == "capture" and c.checkpoint_epoch == 15]
    three = [c for c in expand("cpu", repeats=3) if c.stage == "capture" and c.checkpoint_epoch == 15]
    assert len(three) == 3 * len(one) == 24
    assert sorted({c.repeat for c in three}) == [0, 1, 2]
    # the series capture is one repeat whatever --repeats says
    assert len([c for c in expand("cpu", repeats=3) if c.stage == "capture" and c.checkpoint_epoch < 15]) == 10


def test_epochs_override_changes_every_config_and_the_series():
    cfgs = expand("cpu", epochs=30)
    assert {c.epochs for c in cfgs} == {30}
    assert [c.checkpoint_epochs for c in cfgs if c.stage == "train"] == [(1, 6, 12, 18, 24, 30)] * 2
    assert {c.checkpoint_epoch for c in cfgs if c.stage in ("moments", "berry_esseen", "examples")} == {30}
    assert sorted({c.checkpoint_epoch for c in cfgs if c.stage == "capture"}) == [1, 6, 12, 18, 24, 30]
    assert not {c.config_id for c in cfgs} & {c.config_id for c in expand("cpu")}


def test_epochs_override_zero_is_a_config_error():
    with pytest.raises(ConfigError, match=r"epochs must be a positive integer, got 0") as e:
        expand("cpu", epochs=0)
    assert "\n" not in str(e.value)


def test_cpu_preset_does_not_fit_synthetic_data():
    # batch sizes up to 512 need the full data set; on 200 synthetic images the batch check fires first
    with pytest.raises(ConfigError, match=r"batch_size 256 exceeds the 200 training images"):
        presets.expand(presets.load("cpu"), SYN)


def test_zero_repeats_is_a_config_error():
    with pytest.raises(ConfigError, match="repeats"):
        expand("cpu", repeats=0)


def test_paper_recipe_preset_size_per_stage_and_model():
    cfgs = expand("paper-recipe")
    assert len(cfgs) == 155
    assert Counter((c.stage, c.model) for c in cfgs) == {
        ("train", "alexnet"): 1, ("train", "alexnet_bn"): 1, ("train", "resnet20"): 1, ("train", "resnet56"): 1,
        # Tables 1-2: 6 batch sizes x 2 n_batches x 5 repeats = 60, + Fig 1 series (13 epochs, epoch 300 shared) = 72
        ("capture", "alexnet"): 72, ("capture", "alexnet_bn"): 13, ("capture", "resnet20"): 13,
        ("capture", "resnet56"): 40,  # 4 batch sizes x 2 n_batches x 5 repeats
        ("moments", "alexnet"): 1, ("moments", "resnet56"): 1,
        ("berry_esseen", "alexnet"): 6, ("examples", "alexnet"): 5,
    }
    assert all(c.epochs == 300 and c.subset is None for c in cfgs)
    trains = [c for c in cfgs if c.stage == "train"]
    assert all(c.checkpoint_epochs == tuple([1] + list(range(25, 301, 25))) for c in trains)
    # the ResNets train after every AlexNet configuration (file order is the priority order)
    first_resnet = next(i for i, c in enumerate(cfgs) if c.model.startswith("resnet"))
    assert all(not c.model.startswith("alexnet") for c in cfgs[first_resnet:])


def test_smoke_preset_size():
    cfgs = expand("smoke")
    assert Counter(c.stage for c in cfgs) == {"train": 1, "capture": 4, "moments": 1, "berry_esseen": 1,
                                              "examples": 1}
    assert all(c.subset == 20 and c.epochs == 2 for c in cfgs)


def test_unknown_preset_lists_the_names():
    listed = re.escape(", ".join(presets.names()))
    with pytest.raises(ConfigError, match=rf"unknown preset 'papr'; choose one of {listed} or give") as e:
        presets.load("papr")
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match=r"unknown preset"):
        presets.load("/nonexistent/x.yaml")


TINY = """\
epochs: 3
repeats: 2
series_points: 3
subset: 2
blocks:
  - {stage: train, model: alexnet, checkpoint_epochs: series}
  - {stage: capture, model: [alexnet], checkpoint_epoch: final, batch_size: [4, 8], n_batches: 5, repeat: repeats}
"""


def test_yaml_path_works_as_a_preset(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text(TINY)
    cfgs = presets.expand(presets.load(str(p)), SYN)
    assert [c.stage for c in cfgs] == ["train"] + ["capture"] * 4
    assert cfgs[0].checkpoint_epochs == (1, 2, 3)
    assert sorted((c.batch_size, c.repeat) for c in cfgs[1:]) == [(4, 0), (4, 1), (8, 0), (8, 1)]
    assert all(c.subset == 2 and c.seed == 0 for c in cfgs)
    (tmp_path / "mine.yml").write_text(TINY)
    assert [c.config_id for c in presets.expand(presets.load(str(tmp_path / "mine.yml")), SYN)] == \
        [c.config_id for c in cfgs]


def test_yaml_with_unknown_top_level_key(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(TINY + "repeat: 3\n")
    with pytest.raises(ConfigError, match=r"unknown top-level key\(s\) \['repeat'\]") as e:
        presets.load(str(p))
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_yaml_block_with_unknown_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(TINY.replace("n_batches: 5", "n_batch: 5"))
    with pytest.raises(ConfigError, match=r"unknown configuration field\(s\) \['n_batch'\]"):
        presets.expand(presets.load(str(p)), SYN)


def test_yaml_block_with_invalid_value(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(TINY.replace("n_batches: 5", "n_batches: 2"))
    with pytest.raises(ConfigError, match=r"n_batches must be in 3\.\.5000, got 2"):
        presets.expand(presets.load(str(p)), SYN)


def test_yaml_without_blocks_is_a_config_error(tmp_path):
    p = tmp_path / "noblocks.yaml"
    p.write_text("epochs: 3\n")
    with pytest.raises(ConfigError, match="blocks"):
        presets.expand(presets.load(str(p)), SYN)


def test_empty_yaml_is_a_config_error(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("# nothing\n")
    with pytest.raises(ConfigError):
        presets.load(str(p))


# ------------------------------------------------------------------ hostile preset files

def one_line_error(text, tmp_path, name="bad.yaml"):
    """The ConfigError that loading and expanding `text` as a preset file raises (one line, naming it)."""
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        presets.expand(presets.load(str(p)), SYN)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg, msg
    return msg


def test_duplicated_top_level_key_is_an_error_not_the_last_value(tmp_path):
    msg = one_line_error(TINY.replace("epochs: 3\n", "epochs: 2\nepochs: 50\n"), tmp_path)
    assert "bad.yaml:2: key 'epochs' is given twice" in msg and "first on line 1" in msg


@pytest.mark.parametrize("block", [
    "  - {stage: train, model: alexnet, model: alexnet_bn, checkpoint_epochs: series}\n",
    "  - stage: train\n    model: alexnet\n    checkpoint_epochs: series\n    model: alexnet_bn\n",
    "  - {stage: train, model: alexnet, checkpoint_epochs: series, recipe: {lr: 0.1, lr: 0.01}}\n",
])
def test_duplicated_key_inside_a_block_is_an_error(tmp_path, block):
    head = "epochs: 3\nsubset: 2\nblocks:\n"
    msg = one_line_error(head + block, tmp_path)
    assert "is given twice in one mapping" in msg and ("'model'" in msg or "'lr'" in msg)


def test_the_shipped_presets_have_no_duplicated_key():
    import yaml
    for name in presets.names():
        assert presets.load(name) == yaml.safe_load((presets.FOLDER / f"{name}.yaml").read_text())


@pytest.mark.parametrize("text, line", [
    (TINY.replace("repeat: repeats}", "repeat: repeats"), 8),  # a flow mapping left open on line 7
    ("epochs: 3\n  blocks: x\n", 2),
    ("epochs: 3\nblocks:\n\t- {stage: train}\n", 3),
])
def test_yaml_syntax_error_is_one_line_with_file_and_line(tmp_path, text, line):
    msg = one_line_error(text, tmp_path)
    assert f"bad.yaml:{line}: YAML syntax error" in msg and "fix the file" in msg


@pytest.mark.parametrize("blocks, says", [
    ("[x]", "block 1 must be a mapping"),
    ("xyz", "'blocks' must be a list of mappings"),
    ("{stage: train}", "'blocks' must be a list of mappings"),
    ("[{stage: train, model: alexnet, checkpoint_epochs: [1], data_sha256: abc}]",
     r"block 1 sets ['data_sha256']; the data are chosen with --data-source"),
    ("[{stage: train, model: [], checkpoint_epochs: [1]}]", r"block 1 gives an empty list for ['model']"),
])
def test_malformed_blocks_are_one_line_errors(tmp_path, blocks, says):
    assert says in one_line_error(f"epochs: 3\nsubset: 2\nblocks: {blocks}\n", tmp_path)


@pytest.mark.parametrize("recipe, says", [
    ("{lr: [0.1, 0.01]}", "recipe lr must be a finite number, got [0.1, 0.01]"),
    ("{batch_size: [64, 128]}", "recipe batch_size must be an integer, got [64, 128]"),
    ("{lr: -0.1}", "recipe lr must be > 0, got -0.1"),
    ("{momentum: 5}", "recipe momentum must be in [0, 1), got 5"),
    ("{milestones: [225, 150]}", "recipe milestones must be non-decreasing epochs in 0..300"),
])
def test_bad_recipe_in_a_preset_stops_the_dry_run(tmp_path, capsys, recipe, says):
    """`--dry-run` refuses the file with one `error:` line and exit status 2, before anything runs."""
    from sgnlib import sweep
    p = tmp_path / "bad.yaml"
    p.write_text(f"epochs: 3\nsubset: 2\nblocks:\n  - {{stage: train, model: alexnet, checkpoint_epochs: [3], "
                 f"recipe: {recipe}}}\n")
    rc = sweep.main(["--preset", str(p), "--dry-run", "--data-source", "synthetic", "--device", "cpu",
                     "--results-dir", str(tmp_path / "results"), "--checkpoints", str(tmp_path / "ck")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("error: ") and says in err, err


# ------------------------------------------------------------------ the test split

def test_expand_gives_train_configurations_the_test_split_they_evaluate_on():
    """The shipped test split leaves every id as it is; another one changes the train ids only."""
    plain = presets.expand(presets.load("smoke"), {"source": SYN["source"], "sha256": SYN["sha256"]})
    assert SYN["test"]["sha256"] == data.shipped_test_sha256(SYN["sha256"])  # identify names the shipped one
    shipped = presets.expand(presets.load("smoke"), SYN)
    assert [c.config_id for c in shipped] == [c.config_id for c in plain]
    other = presets.expand(presets.load("smoke"), {**SYN, "test": {"sha256": "ab" * 32}})
    for a, b in zip(plain, other):
        assert b.test_sha256 == "ab" * 32
        assert (a.config_id == b.config_id) == (a.stage != "train"), a.config_id


def test_expand_keeps_the_committed_cpu_ids():
    """The mirror's own test split: the ids committed in data/results/cpu (train stage) hold."""
    mirror = {"source": "jpeg-mirror", "sha256": MIRROR_TRAIN, "test": {"sha256": MIRROR_TEST}}
    trains = [c for c in presets.expand(presets.load("cpu"), mirror) if c.stage == "train"]
    assert [c.config_id for c in trains] == ["train-alexnet-e15-71e99667bb", "train-alexnet_bn-e15-1f14c02e9c"]
    other = {**mirror, "test": {"sha256": "ab" * 32}}
    assert not {c.config_id for c in presets.expand(presets.load("cpu"), other) if c.stage == "train"} & \
        {c.config_id for c in trains}
