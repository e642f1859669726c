"""The checks behind `sgnlib.config.Config`'s fields that need more than a range: the test split,
the recipe and capture-protocol overrides, and the stage's own fields (checkpoint epochs, batch
sizes against the training subset, layer names). Each takes the given value and returns it in its
canonical form (sorted tuples; defaults dropped where they never enter an id), or raises one
`ConfigError` line that says what to change."""
from __future__ import annotations

import dataclasses
import re

from . import models
from .config_checks import ConfigError, check_int as _int, recipe_value as _recipe_value
from .data import shipped_test_sha256
from .text_data import n_train_examples
from .hyperparameters import CAPTURE_PROTOCOL, PROTOCOL_CHOICES, Recipe
from .stats.shapiro import N_MAX, N_MIN

BN_MODELS = ("alexnet_bn", "resnet20", "resnet56", "resnet18")


def test_split(t, data_sha256):
    """test_sha256: a sha256 other than the train split's; the shipped test split becomes None."""
    if t is not None and not (isinstance(t, str) and re.fullmatch(r"[0-9a-f]{64}", t)):
        raise ConfigError(f"test_sha256 must be a sha256 (64 hex digits) or null, got {t!r}")
    if t is not None and t == data_sha256:
        raise ConfigError(f"the test split has the train split's content (sha256 {t[:12]}…); "
                          f"the test file is a copy of the train file: re-copy the test split")
    if t is not None and t == shipped_test_sha256(data_sha256):
        return None
    return t


def recipe_overrides(recipe, data_source: str, subset) -> tuple:
    """Recipe overrides as sorted (name, value) pairs, each checked against its `Recipe` field."""
    try:
        overrides = dict(recipe)
    except (TypeError, ValueError):
        raise ConfigError(f"recipe must be a mapping of Recipe fields, got {recipe!r}") from None
    fields = {f.name: f.default for f in dataclasses.fields(Recipe)}
    for k, v in overrides.items():
        if k == "epochs" or k not in fields:
            raise ConfigError(f"recipe cannot set {k!r}; recipe fields: "
                              f"{', '.join(f for f in fields if f != 'epochs')} (epochs is its own "
                              f"field)")
        overrides[k] = _recipe_value(k, v, fields[k])
    n = n_train_examples(data_source, subset)
    if overrides.get("batch_size", 0) > n:
        raise ConfigError(f"recipe batch_size {overrides['batch_size']} exceeds the {n} training "
                          f"images; lower it or enlarge the subset")
    return tuple(sorted(overrides.items()))


def protocol_overrides(protocol, model: str) -> tuple:
    """Capture-protocol options as sorted (name, value) pairs; options at their default
    (`CAPTURE_PROTOCOL`) are dropped, so they never enter an id."""
    try:
        given = dict(protocol)
    except (TypeError, ValueError):
        raise ConfigError(f"protocol must be a mapping, got {protocol!r}") from None
    for k, v in given.items():
        if k not in PROTOCOL_CHOICES:
            raise ConfigError(f"unknown protocol option {k!r}; options: "
                              f"{', '.join(PROTOCOL_CHOICES)}")
        if v not in PROTOCOL_CHOICES[k] or type(v) is not type(CAPTURE_PROTOCOL[k]):
            raise ConfigError(f"protocol {k} must be one of {PROTOCOL_CHOICES[k]}, got {v!r}")
    if given.get("bn") == "running" and model not in BN_MODELS:
        raise ConfigError(f"protocol bn='running' changes nothing for {model} (no BatchNorm); "
                          f"BatchNorm models: {', '.join(BN_MODELS)}")
    kept = {k: v for k, v in given.items() if v != CAPTURE_PROTOCOL[k]}
    return tuple(sorted(kept.items()))


def checkpoint_epochs(value, epochs: int):
    """A list of epochs in 1..epochs, as a sorted tuple without repeats (None passes)."""
    if value is None:
        return None
    if isinstance(value, (str, int)) or not hasattr(value, "__iter__"):
        raise ConfigError(f"checkpoint_epochs must be a list of epochs, got {value!r}")
    for e in value:
        _int("checkpoint_epochs entry", e, 1, epochs)
    return tuple(sorted(set(value)))


def check_counts(cfg) -> None:
    """checkpoint_epoch, repeat, n_samples, n_batches and batch_size in range; the batch and the
    samples within the training images."""
    _int("checkpoint_epoch", cfg.checkpoint_epoch, 0, cfg.epochs, none_ok=True)  # 0: the init
    _int("repeat", cfg.repeat, 0, none_ok=True)
    _int("n_samples", cfg.n_samples, 1, none_ok=True)
    _int("n_batches", cfg.n_batches, N_MIN, N_MAX, none_ok=True)
    n = n_train_examples(cfg.data_source, cfg.subset)
    if cfg.batch_size is not None:
        _int("batch_size", cfg.batch_size, 1)
        if cfg.batch_size > n:
            raise ConfigError(f"batch_size {cfg.batch_size} exceeds the {n} training images of "
                              f"{cfg.data_source} data (subset={cfg.subset}); lower it or enlarge "
                              f"the subset")
    if cfg.n_samples is not None and cfg.n_samples > n:
        raise ConfigError(f"n_samples {cfg.n_samples} exceeds the {n} training images")


def layer_names(layers, model: str):
    """A non-empty list of `model`'s layer names, as a tuple (None passes: every weight layer)."""
    if layers is None:
        return None
    if isinstance(layers, str) or not layers or not all(isinstance(v, str) for v in layers):
        raise ConfigError(f"layers must be a non-empty list of layer names, got {layers!r}")
    known = models.layer_names(model)
    unknown = [v for v in layers if v not in known]
    if unknown:
        raise ConfigError(f"{model} has no layer(s) {unknown}; its layers: {', '.join(known)}")
    return tuple(layers)
