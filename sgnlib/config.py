"""One experiment configuration: what a stage computes, validated once, with an id that covers every
input that can change a number.

A `Config` is a frozen dataclass. Construction checks every field (types, ranges, the model name,
that the batch fits the training subset) and raises `ConfigError` with one line that says what to
change, so nothing runs on a bad value. `config_id` hashes the identity: stage and its version,
model (and its definition's version once above 1: `MODEL_VERSION`), the full training recipe,
seed, data source and its sha256, subset and the stage's own fields. `checkpoint_key` names the
trained weights a configuration reads (model, recipe, seed, data), so checkpoints are found and
verified by the same identity.

The test split is part of the data identity through `test_sha256`: the sha256 of the test split
the train stage evaluates on (test_loss, test_acc; no other stage reads it). A train split whose
release is known (`data.shipped_test_sha256`: the JPEG mirror, the synthetic set) implies its own
test split, so that test split is stored as None and leaves ids as they are without it; any other
test split (another file, or a train split of unknown release) enters the train stage's id and the
checkpoint key, since a finished run's rows come from its final checkpoint's history.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from . import config_fields as fields
from . import models, models_beyond, text_data
from .checkpoints import checkpoint_expect, recipe_identity
from .config_checks import ConfigError, check_int as _int
from .config_fields import BN_MODELS  # noqa: F401  (the models whose protocol may set bn)
from .data import SOURCES, shipped_test_sha256
from .hyperparameters import CAPTURE_PROTOCOL, Recipe
from .stages import STAGES

# per stage (declared by its module, `sgnlib.stages`): the fields it reads beyond the common ones
# (`layers` and `protocol` are optional: None = every weight layer, () = the default protocol), and
# the version that enters its ids
STAGE_FIELDS = {name: stage.FIELDS for name, stage in STAGES.items()}
STAGE_VERSION = {name: stage.VERSION for name, stage in STAGES.items()}
COMMON = ("stage", "model", "epochs", "seed", "subset", "data_source", "data_sha256", "recipe")
OPTIONAL = ("layers", "protocol")
TEST_SPLIT_STAGES = tuple(name for name, stage in STAGES.items() if stage.READS_TEST_SPLIT)
# each network's definition (sgnlib.models: layers, initialization, forward), pinned by
# tests/test_model_identity.py; a version above 1 enters ids and checkpoint keys
MODEL_VERSION = {m: 1 for m in models.MODELS}


def model_version(name: str) -> int:
    """`MODEL_VERSION`, or for a network of `sgnlib.models_beyond` its own `MODEL_VERSION`."""
    return MODEL_VERSION.get(name) or models_beyond.MODEL_VERSION[name]


@dataclass(frozen=True)
class Config:
    stage: str
    model: str
    epochs: int
    seed: int = 0
    subset: int | None = None            # images per class; None = all
    data_source: str = "jpeg-mirror"     # resolved source (never "auto" once identified)
    data_sha256: str | None = None
    recipe: tuple = ()                   # Recipe overrides as sorted (name, value) pairs
    checkpoint_epochs: tuple | None = None
    checkpoint_epoch: int | None = None
    batch_size: int | None = None
    n_batches: int | None = None
    repeat: int | None = None
    n_samples: int | None = None
    layers: tuple | None = None
    protocol: tuple = ()                 # capture-protocol overrides as sorted (name, value) pairs
    test_sha256: str | None = None       # the test split; None: the one released with the data
    _id: str = field(default="", repr=False, compare=False)

    def __post_init__(self):
        if self.stage not in STAGE_FIELDS:
            raise ConfigError(f"unknown stage {self.stage!r}; stages: {', '.join(STAGE_FIELDS)}")
        try:
            models.check_model_name(self.model)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        known = [s for s in SOURCES if s != "auto"] + list(text_data.SOURCES)
        if self.data_source not in known:
            raise ConfigError(f"data_source must be one of {known} once resolved, got "
                              f"{self.data_source!r}")
        _int("epochs", self.epochs, 1)
        _int("seed", self.seed, 0)
        _int("subset", self.subset, 1, none_ok=True)
        self._set("test_sha256", fields.test_split(self.test_sha256, self.data_sha256))
        self._set("recipe", fields.recipe_overrides(self.recipe, self.data_source, self.subset))
        self._set("protocol", fields.protocol_overrides(self.protocol, self.model))
        why = text_data.data_problem(self.model, self.data_source, self.subset, dict(self.recipe),
                                     dict(self.protocol))
        if why:
            raise ConfigError(why)
        self._check_stage_takes()
        self._set("checkpoint_epochs",
                  fields.checkpoint_epochs(self.checkpoint_epochs, self.epochs))
        fields.check_counts(self)
        self._set("layers", fields.layer_names(self.layers, self.model))
        self._set("_id", self._make_id())

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def _check_stage_takes(self) -> None:
        """The stage's own fields are given (`layers`, `protocol` optional) and no other."""
        needed = STAGE_FIELDS[self.stage]
        for name in ("checkpoint_epochs", "checkpoint_epoch", "batch_size", "n_batches", "repeat",
                     "n_samples", "layers", "protocol"):
            given = getattr(self, name) not in (None, ())
            if name in needed and not given and name not in OPTIONAL:
                raise ConfigError(f"stage {self.stage!r} needs {name}")
            if given and name not in needed:
                raise ConfigError(f"stage {self.stage!r} takes no {name} (it takes "
                                  f"{', '.join(needed)})")

    def full_protocol(self) -> dict:
        return {**CAPTURE_PROTOCOL, **dict(self.protocol)}

    # ------------------------------------------------------------ identity

    def full_recipe(self) -> Recipe:
        return Recipe(epochs=self.epochs, **dict(self.recipe))

    def identity(self) -> dict:
        """Everything that can change a number of this configuration (hashed into the id)."""
        out = {k: getattr(self, k) for k in COMMON if k != "recipe"}
        out["recipe"] = recipe_identity(self.full_recipe())
        out["stage_version"] = STAGE_VERSION[self.stage]
        for k in STAGE_FIELDS[self.stage]:
            if k == "protocol":  # the default protocol () is left out of the identity
                if self.protocol:
                    out[k] = dict(self.protocol)
            elif k != "checkpoint_epochs":  # which checkpoints a run keeps changes no number
                out[k] = getattr(self, k)
        reads_test = (self.stage in TEST_SPLIT_STAGES
                      or dict(self.protocol).get("inputs") == "test")
        if self.test_sha256 and reads_test:
            out["test_sha256"] = self.test_sha256
        if model_version(self.model) != 1:
            out["model_version"] = model_version(self.model)
        return out

    def _make_id(self) -> str:
        h = _digest(self.identity())
        parts = [self.stage, self.model, f"e{self.epochs}"]
        for key, tag in (("checkpoint_epoch", "c"), ("batch_size", "b"), ("n_batches", "n"),
                         ("repeat", "r"), ("n_samples", "s")):
            if getattr(self, key) is not None:
                parts.append(f"{tag}{getattr(self, key)}")
        return "-".join(parts + [h])

    @property
    def config_id(self) -> str:
        return self._id

    def checkpoint_key(self) -> str:
        """Folder name of the weights this configuration trains or reads (a test split other than
        the shipped one keeps them apart: the train stage's rows come from its checkpoints'
        history)."""
        ident = {"model": self.model, "recipe": recipe_identity(self.full_recipe()),
                 "seed": self.seed, "subset": self.subset, "data_source": self.data_source,
                 "data_sha256": self.data_sha256}
        if self.test_sha256:
            ident["test_sha256"] = self.test_sha256
        if model_version(self.model) != 1:
            ident["model_version"] = model_version(self.model)
        h = _digest(ident)
        sub = f"sub{self.subset}" if self.subset else "full"
        return f"{self.model}-e{self.epochs}-seed{self.seed}-{sub}-{self.data_source}-{h}"

    def needs_training(self) -> bool:
        """False for the initialization (checkpoint_epoch 0: `train.initial_model`, no checkpoint
        file)."""
        return self.stage != "train" and self.checkpoint_epoch != 0

    def train_config(self) -> "Config":
        """The train configuration whose checkpoints this one reads."""
        return Config("train", self.model, self.epochs, self.seed, self.subset, self.data_source,
                      self.data_sha256, self.recipe,
                      checkpoint_epochs=(self.checkpoint_epoch or self.epochs,),
                      test_sha256=self.test_sha256)

    def test_split_sha256(self) -> str | None:
        """sha256 of the test split the train stage evaluates on; None if neither given nor
        known."""
        return self.test_sha256 or shipped_test_sha256(self.data_sha256)

    def checkpoint_expect(self) -> dict:
        """What the checkpoint at checkpoint_epoch must carry to be this configuration's weights."""
        return checkpoint_expect(self.model, self.seed, self.full_recipe(), self.checkpoint_epoch,
                                 {"sha256": self.data_sha256})

    # ------------------------------------------------------------ serialisation

    def to_dict(self) -> dict:
        """The fields that are set, lists for tuples, recipe as a dict (JSON-ready)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "_id" or v is None or (f.name in ("recipe", "protocol") and not v):
                continue
            if f.name in ("recipe", "protocol"):
                out[f.name] = dict(v)
            else:
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        names = {f.name for f in dataclasses.fields(cls)} - {"_id"}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"unknown configuration field(s) {sorted(unknown)}; known: "
                              f"{sorted(names)}")
        d = dict(d)
        for k in ("checkpoint_epochs", "layers"):
            if isinstance(d.get(k), list):
                d[k] = tuple(d[k])
        for k in ("recipe", "protocol"):
            if isinstance(d.get(k), dict):
                d[k] = tuple(sorted(d[k].items()))
        missing = {"stage", "model", "epochs"} - set(d)
        if missing:
            raise ConfigError(f"configuration lacks {sorted(missing)}")
        return cls(**d)

    def row_fields(self) -> dict:
        """Columns every result row of this configuration carries."""
        out = {k: (json.dumps(v) if isinstance(v, (list, dict)) else v)
               for k, v in self.to_dict().items()}
        out["config_id"] = self.config_id
        out["stage_version"] = STAGE_VERSION[self.stage]
        return out


def _digest(ident: dict) -> str:
    """The first 10 hex digits of the sha256 of an identity as sorted JSON."""
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=list).encode()).hexdigest()[:10]
