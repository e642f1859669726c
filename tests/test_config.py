"""Config: every invalid value raises a one-line ConfigError at construction; the id covers every input."""
import dataclasses
import json
from itertools import combinations

import pytest

from sgnlib.config import STAGE_FIELDS, Config, ConfigError
from sgnlib.data import identify, n_train_images

SYN = identify("train", "synthetic")
DATA = {"data_source": SYN["source"], "data_sha256": SYN["sha256"]}

BASE = {
    "train": dict(checkpoint_epochs=(1, 3)),
    "capture": dict(checkpoint_epoch=3, batch_size=8, n_batches=20, repeat=0),
    "moments": dict(checkpoint_epoch=3, n_samples=16),
    "berry_esseen": dict(checkpoint_epoch=3, batch_size=8, n_batches=20, n_samples=16),
    "examples": dict(checkpoint_epoch=3, batch_size=8, n_batches=20, layers=("Layer 1", "Layer 4")),
    "assumption1": dict(checkpoint_epoch=3, n_samples=16),
}


def make(stage="capture", **kw) -> Config:
    fields = dict(stage=stage, model="alexnet", epochs=3, **DATA, **BASE.get(stage, BASE["capture"]))
    fields.update(kw)
    return Config(**{k: v for k, v in fields.items() if v is not ...})


def raises_one_line(pattern, fn, *args, **kw):
    with pytest.raises(ConfigError, match=pattern) as e:
        fn(*args, **kw)
    assert "\n" not in str(e.value)
    return e.value


# ------------------------------------------------------------------ invalid values

def test_synthetic_subset_size():
    assert n_train_images("synthetic", None) == 200  # 20 per class; the batch-size cases below rely on it
    assert n_train_images("synthetic", 5) == 50


@pytest.mark.parametrize("stage,kw,pattern", [
    ("capture", dict(batch_size=0), r"batch_size must be >= 1, got 0"),
    ("capture", dict(batch_size=-1), r"batch_size must be >= 1, got -1"),
    ("capture", dict(batch_size=64.0), r"batch_size must be an integer, got 64\.0 \(float\)"),
    ("capture", dict(batch_size="64"), r"batch_size must be an integer, got '64' \(str\)"),
    ("capture", dict(batch_size=True), r"batch_size must be an integer, got True \(bool\)"),
    ("capture", dict(epochs=0, checkpoint_epoch=1), r"epochs must be >= 1, got 0"),
    ("capture", dict(epochs=2.0), r"epochs must be an integer"),
    ("capture", dict(repeat=-1), r"repeat must be >= 0, got -1"),
    ("capture", dict(repeat=1.5), r"repeat must be an integer"),
    ("capture", dict(n_batches=2), r"n_batches must be in 3\.\.5000, got 2"),
    ("capture", dict(n_batches=5001), r"n_batches must be in 3\.\.5000, got 5001"),
    ("capture", dict(checkpoint_epoch=4), r"checkpoint_epoch must be in 0\.\.3, got 4"),
    ("capture", dict(checkpoint_epoch=-1), r"checkpoint_epoch must be in 0\.\.3, got -1"),
    ("train", dict(checkpoint_epochs=(1, 4)), r"checkpoint_epochs entry must be in 1\.\.3, got 4"),
    ("train", dict(checkpoint_epochs=(0,)), r"checkpoint_epochs entry must be in 1\.\.3, got 0"),
    ("capture", dict(model="alexnet-bn"), r"unknown model 'alexnet-bn'; valid names: .*alexnet_bn"),
    ("captur", {}, r"unknown stage 'captur'; stages: train, capture"),
    ("capture", dict(n_batches=None), r"stage 'capture' needs n_batches"),
    ("capture", dict(repeat=None), r"stage 'capture' needs repeat"),
    ("train", dict(checkpoint_epochs=None), r"stage 'train' needs checkpoint_epochs"),
    ("moments", dict(batch_size=8), r"stage 'moments' takes no batch_size \(it takes checkpoint_epoch, n_samples\)"),
    ("train", dict(checkpoint_epoch=3), r"stage 'train' takes no checkpoint_epoch"),
    ("capture", dict(n_samples=16), r"stage 'capture' takes no n_samples"),
    ("moments", dict(layers=("Layer 1",)), r"stage 'moments' takes no layers"),
    ("capture", dict(data_source="auto"), r"data_source must be one of .* once resolved, got 'auto'"),
    ("capture", dict(data_source="imagenet"), r"data_source must be one of .* got 'imagenet'"),
    ("capture", dict(batch_size=201), r"batch_size 201 exceeds the 200 training images of synthetic data"),
    ("capture", dict(subset=5, batch_size=51), r"batch_size 51 exceeds the 50 training images .*subset=5"),
    ("berry_esseen", dict(batch_size=201), r"batch_size 201 exceeds the 200 training images"),
    ("moments", dict(n_samples=201), r"n_samples 201 exceeds the 200 training images"),
    ("moments", dict(n_samples=0), r"n_samples must be >= 1, got 0"),
    ("capture", dict(recipe={"learning_rate": 0.1}), r"recipe cannot set 'learning_rate'"),
    ("capture", dict(seed=-1), r"seed must be >= 0, got -1"),
    ("capture", dict(subset=0), r"subset must be >= 1, got 0"),
    ("examples", dict(layers="Layer 1"), r"layers must be a non-empty list of layer names, got 'Layer 1'"),
    ("examples", dict(layers=("Layer 1", 4)), r"layers must be a non-empty list of layer names"),
])
def test_invalid_value_raises_one_line_config_error(stage, kw, pattern):
    raises_one_line(pattern, make, stage, **kw)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_batch_size_equal_to_the_images_is_fine():
    assert make(batch_size=200).batch_size == 200
    assert make(subset=5, batch_size=50).batch_size == 50
    assert make("moments", n_samples=200).n_samples == 200


def test_shapiro_range_ends_are_valid():
    assert make(n_batches=3).n_batches == 3
    assert make(n_batches=5000).n_batches == 5000


def test_from_dict_rejects_unknown_and_missing_keys():
    d = make().to_dict()
    raises_one_line(r"unknown configuration field\(s\) \['bacth_size'\]; known: ", Config.from_dict,
                    {**d, "bacth_size": 8})
    raises_one_line(r"unknown configuration field\(s\) \['_id'\]", Config.from_dict, {**d, "_id": "x"})
    raises_one_line(r"configuration lacks \['epochs', 'stage'\]", Config.from_dict,
                    {k: v for k, v in d.items() if k not in ("stage", "epochs")})


def test_from_dict_validates_like_the_constructor():
    raises_one_line(r"batch_size must be >= 1", Config.from_dict, {**make().to_dict(), "batch_size": 0})


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make().batch_size = 16


def test_scalar_checkpoint_epochs_is_a_config_error():
    raises_one_line(r"checkpoint_epochs", make, "train", checkpoint_epochs=3)


def test_string_checkpoint_epoch_entry_is_a_config_error():
    raises_one_line(r"checkpoint_epochs entry must be an integer", make, "train", checkpoint_epochs=("1", 2))


def test_recipe_value_of_wrong_type_is_a_config_error():
    raises_one_line(r"lr", make, recipe={"lr": "0.01"})


def test_unknown_layer_name_is_a_config_error():
    raises_one_line(r"Layer 99", make, "examples", layers=("Layer 99",))


# ------------------------------------------------------------------ identity

def test_config_id_changes_with_every_input():
    base = make(layers=None)
    variants = {
        "base": base,
        "data_source": make(layers=None, data_source="jpeg-mirror"),
        "data_sha256": make(layers=None, data_sha256="0" * 64),
        "seed": make(layers=None, seed=1),
        "subset": make(layers=None, subset=10),
        "recipe": make(layers=None, recipe={"lr": 0.01}),
        "recipe_bool": make(layers=None, recipe={"augment": False}),
        "model": make(layers=None, model="alexnet_bn"),
        "epochs": make(layers=None, epochs=4),
        "checkpoint_epoch": make(layers=None, checkpoint_epoch=2),
        "batch_size": make(layers=None, batch_size=16),
        "n_batches": make(layers=None, n_batches=21),
        "repeat": make(layers=None, repeat=1),
        "layers": make(layers=("Layer 1",)),
        "layers_order": make(layers=("Layer 4", "Layer 1")),
        "layers_other": make(layers=("Layer 1", "Layer 4")),
    }
    ids = {k: c.config_id for k, c in variants.items()}
    for (a, ia), (b, ib) in combinations(ids.items(), 2):
        assert ia != ib, f"{a} and {b} share the id {ia}"


def test_config_id_differs_between_stages_with_the_same_fields():
    assert make("capture", layers=None).config_id != make("examples", layers=None).config_id


def test_config_id_readable_prefix():
    c = make()
    assert c.config_id.startswith("capture-alexnet-e3-c3-b8-n20-r0-")
    assert make("train").config_id.startswith("train-alexnet-e3-")


def test_checkpoint_epochs_do_not_change_a_train_id():
    a, b, c = make("train", checkpoint_epochs=(3,)), make("train", checkpoint_epochs=(1, 2, 3)), \
        make("train", checkpoint_epochs=[3, 1, 1])
    assert a.config_id == b.config_id == c.config_id
    assert c.checkpoint_epochs == (1, 3)  # sorted, deduplicated


def test_equal_configs_have_equal_ids():
    a, b = make(recipe={"lr": 0.01, "momentum": 0.8}), make(recipe={"momentum": 0.8, "lr": 0.01})
    assert a == b and a.config_id == b.config_id
    assert make(layers=["Layer 1", "Layer 4"]).config_id == make(layers=("Layer 1", "Layer 4")).config_id


def test_recipe_default_override_has_the_default_id():
    # the id hashes the full recipe, so spelling out a default changes no number and no id
    assert make(recipe={"lr": 0.1}).config_id == make().config_id


@pytest.mark.parametrize("stage", sorted(STAGE_FIELDS))
def test_to_dict_from_dict_round_trip(stage):
    c = make(stage, recipe={"lr": 0.01, "augment": False}, seed=2, subset=10)
    d = c.to_dict()
    assert json.loads(json.dumps(d)) == d  # JSON-ready
    back = Config.from_dict(json.loads(json.dumps(d)))
    assert back == c and back.config_id == c.config_id
    assert "_id" not in d and all(v is not None for v in d.values())


def test_checkpoint_key():
    cap = make()
    assert cap.checkpoint_key() != make(model="alexnet_bn").checkpoint_key()
    assert cap.checkpoint_key() != make(data_sha256="0" * 64).checkpoint_key()
    assert cap.checkpoint_key() != make(recipe={"lr": 0.01}).checkpoint_key()
    assert cap.checkpoint_key() != make(seed=1).checkpoint_key()
    # shared by everything that reads the same weights
    train = cap.train_config()
    assert train.stage == "train" and train.checkpoint_epochs == (3,)
    assert cap.checkpoint_key() == train.checkpoint_key() == make("train").checkpoint_key()
    assert cap.checkpoint_key() == make(batch_size=16, repeat=2).checkpoint_key() == make("moments").checkpoint_key()
    assert make(checkpoint_epoch=2).train_config().checkpoint_epochs == (2,)


def test_row_fields():
    c = make("examples", recipe={"lr": 0.01})
    row = c.row_fields()
    assert row["config_id"] == c.config_id
    assert row["layers"] == '["Layer 1", "Layer 4"]' and json.loads(row["layers"]) == ["Layer 1", "Layer 4"]
    assert json.loads(row["recipe"]) == {"lr": 0.01}
    assert row["batch_size"] == 8 and row["stage"] == "examples"
    assert "repeat" not in row and "subset" not in row  # unset fields carry no column
    assert all(not isinstance(v, (list, tuple, dict)) for v in row.values())
    t = make("train").row_fields()
    assert t["checkpoint_epochs"] == "[1, 3]"


def test_protocol_defaults_leave_the_id_unchanged_and_options_change_it():
    from sgnlib.hyperparameters import CAPTURE_PROTOCOL as PROTOCOL_DEFAULTS
    base = dict(stage="capture", model="alexnet_bn", epochs=15, data_source="jpeg-mirror", data_sha256="a" * 64,
                checkpoint_epoch=15, batch_size=64, n_batches=200, repeat=0)
    plain = Config(**base)
    assert Config(**base, protocol=tuple(PROTOCOL_DEFAULTS.items())).config_id == plain.config_id
    ids = {Config(**base, protocol=(("sampling", "with_replacement"),)).config_id,
           Config(**base, protocol=(("augment", True),)).config_id,
           Config(**base, protocol=(("bn", "running"),)).config_id,
           Config(**base, protocol=(("precision", "float64"),)).config_id,
           Config(**base, protocol=(("trajectory", True),)).config_id, plain.config_id}
    assert len(ids) == 6
    c = Config.from_dict({**base, "protocol": {"augment": True}})
    assert Config.from_dict(c.to_dict()).config_id == c.config_id and c.full_protocol()["augment"] is True


@pytest.mark.parametrize("protocol, message", [
    ({"bn": "running"}, "changes nothing for alexnet"),
    ({"sampling": "bootstrap"}, "protocol sampling must be one of"),
    ({"augment": 1}, "protocol augment must be one of"),
    ({"dropout": True}, "unknown protocol option 'dropout'"),
])
def test_bad_protocol_is_a_config_error(protocol, message):
    with pytest.raises(ConfigError, match=message) as e:
        Config("capture", "alexnet", 15, data_source="jpeg-mirror", data_sha256="a" * 64, checkpoint_epoch=15,
               batch_size=64, n_batches=200, repeat=0, protocol=tuple(protocol.items()))
    assert "\n" not in str(e.value)


def test_initialization_checkpoint_and_normalize_recipe():
    """checkpoint epoch 0 is the initialization (read without any training: `needs_training` is
    False); normalize=True is the default and leaves ids and checkpoint keys as they were."""
    base = dict(stage="capture", model="alexnet", epochs=15, data_source="jpeg-mirror", data_sha256="a" * 64,
                batch_size=64, n_batches=200, repeat=0)
    init = Config(**base, checkpoint_epoch=0)
    assert not init.needs_training() and Config(**base, checkpoint_epoch=1).needs_training()
    with pytest.raises(ConfigError, match="checkpoint_epoch must be in 0..15"):
        Config(**base, checkpoint_epoch=-1)
    plain = Config(**base, checkpoint_epoch=15)
    same = Config(**base, checkpoint_epoch=15, recipe=(("normalize", True),))
    raw = Config(**base, checkpoint_epoch=15, recipe=(("normalize", False),))
    assert same.config_id == plain.config_id and same.checkpoint_key() == plain.checkpoint_key()
    assert raw.config_id != plain.config_id and raw.checkpoint_key() != plain.checkpoint_key()


# ------------------------------------------------------------------ recipe ranges

@pytest.mark.parametrize("recipe, pattern", [
    ({"lr": -0.1}, r"recipe lr must be > 0, got -0\.1"),
    ({"lr": 0}, r"recipe lr must be > 0, got 0"),
    ({"lr": float("nan")}, r"recipe lr must be a finite number, got nan"),
    ({"lr": float("inf")}, r"recipe lr must be a finite number, got inf"),
    ({"lr": [0.1, 0.01]}, r"recipe lr must be a finite number, got \[0\.1, 0\.01\] \(list\)"),
    ({"momentum": 5}, r"recipe momentum must be in \[0, 1\), got 5"),
    ({"momentum": -0.1}, r"recipe momentum must be in \[0, 1\), got -0\.1"),
    ({"weight_decay": -1e-4}, r"recipe weight_decay must be >= 0, got -0\.0001"),
    ({"lr_decay": 0}, r"recipe lr_decay must be in \(0, 1\], got 0"),
    ({"lr_decay": 1.5}, r"recipe lr_decay must be in \(0, 1\], got 1\.5"),
    ({"milestones": [225, 150]}, r"recipe milestones must be non-decreasing epochs in 0\.\.300, got \(225, 150\)"),
    ({"milestones": [150, 400]}, r"recipe milestones must be non-decreasing epochs in 0\.\.300"),
    ({"milestones": [-5]}, r"recipe milestones must be non-decreasing epochs in 0\.\.300"),
    ({"milestones": ["a", "b"]}, r"recipe milestones must be a list of integer epochs, got \['a', 'b'\]"),
    ({"milestones": 150}, r"recipe milestones must be a list of integer epochs, got 150 \(int\)"),
    ({"batch_size": [64, 128]}, r"recipe batch_size must be an integer, got \[64, 128\] \(list\)"),
    ({"batch_size": 0}, r"recipe batch_size must be >= 1, got 0"),
    ({"batch_size": 201}, r"recipe batch_size 201 exceeds the 200 training images"),
    ({"augment": 1}, r"recipe augment must be true or false, got 1 \(int\)"),
])
def test_recipe_value_out_of_range_is_a_config_error(recipe, pattern):
    for stage in ("train", "capture"):
        raises_one_line(pattern, make, stage, recipe=recipe)


def test_recipe_values_in_range_are_fine():
    """Edges of each range, an integer batch size, and the protocol preset's [300, 300] (no decay)."""
    for recipe in ({"lr": 1}, {"momentum": 0}, {"weight_decay": 0}, {"lr_decay": 1}, {"batch_size": 64},
                   {"milestones": [300, 300]}, {"milestones": []}, {"milestones": (0, 300)}, {"normalize": False}):
        c = make("train", recipe=recipe)
        assert c.full_recipe() == dataclasses.replace(c.full_recipe(), **{k: (tuple(v) if isinstance(v, list) else v)
                                                                         for k, v in recipe.items()})
    assert make("train", recipe={"batch_size": 64}).full_recipe().batch_size == 64


# ------------------------------------------------------------------ the test split

OTHER_TEST = "ab" * 32


def test_the_shipped_test_split_is_stored_as_none_and_keeps_ids():
    shipped = SYN["test"]["sha256"]
    for stage in STAGE_FIELDS:
        c = make(stage, test_sha256=shipped)
        assert c.test_sha256 is None and c == make(stage) and c.config_id == make(stage).config_id
        assert c.test_split_sha256() == shipped and "test_sha256" not in c.to_dict()


def test_another_test_split_changes_the_train_id_and_checkpoints_only():
    for stage in STAGE_FIELDS:
        plain, other = make(stage), make(stage, test_sha256=OTHER_TEST)
        assert (plain.config_id != other.config_id) == (stage == "train"), stage
        assert plain.checkpoint_key() != other.checkpoint_key()  # the rows of train come from its history
        assert other.test_split_sha256() == OTHER_TEST
        back = Config.from_dict(json.loads(json.dumps(other.to_dict())))
        assert back == other and back.config_id == other.config_id
        assert other.row_fields()["test_sha256"] == OTHER_TEST
    cap = make(test_sha256=OTHER_TEST)
    assert cap.train_config().test_sha256 == OTHER_TEST
    assert cap.train_config().checkpoint_key() == cap.checkpoint_key()


def test_a_test_split_of_unknown_release_is_part_of_the_train_id():
    unknown = dict(data_source="jpeg-mirror", data_sha256="c" * 64)
    a, b = make("train", **unknown, test_sha256="d" * 64), make("train", **unknown, test_sha256="e" * 64)
    assert a.config_id != b.config_id and a.test_sha256 == "d" * 64
    assert make("train", **unknown).test_split_sha256() is None  # nothing given, nothing implied


@pytest.mark.parametrize("value, pattern", [
    ("abc", r"test_sha256 must be a sha256 \(64 hex digits\) or null, got 'abc'"),
    (64, r"test_sha256 must be a sha256"),
    (SYN["sha256"], r"the test split has the train split's content"),
])
def test_bad_test_sha256_is_a_config_error(value, pattern):
    raises_one_line(pattern, make, "train", test_sha256=value)


def test_checkpoint_expect_is_the_one_train_checks_against():
    from sgnlib.train import checkpoint_expect
    c = make(recipe={"lr": 0.01})
    assert c.checkpoint_expect() == {"model": "alexnet", "seed": 0, "recipe": c.full_recipe(), "epoch": 3,
                                     "data_sha256": SYN["sha256"]}
    assert checkpoint_expect("alexnet", 0, c.full_recipe()) == {"model": "alexnet", "seed": 0,
                                                                 "recipe": c.full_recipe()}
