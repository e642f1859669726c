"""What every stage needs besides its configuration: the device, data tensors, verified checkpoints,
and `rows`, which puts the configuration and provenance into every row of a stage's table.

A `Context` lives for one process: it keeps the last data split and the last per-sample moments in
memory, so consecutive configurations of a sweep do not reload or recompute them. Configurations
(`cfg`) are `sgnlib.config.Config`s; this module reads them through their methods only, so the
stages can import it without importing `sgnlib.config` (which reads the stage registry).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import torch

from .capture import per_sample_moments
from .data import load_cifar10
from .hyperparameters import STD, STD_COMMON
from .paths import REPO_ROOT
from .provenance import provenance, resolve_device
from .text_data import SOURCES as TEXT_SOURCES, load_text
from .train import checkpoint_path, initial_model, model_from_checkpoint


class DataChangedError(ValueError):
    """The data on disk are not the data a configuration was made for."""


class Context:
    def __init__(self, device="auto", checkpoint_dir=None, progress: bool = False):
        self.device = resolve_device(device)
        self.checkpoint_dir = Path(checkpoint_dir or REPO_ROOT / "checkpoints")
        self.progress = progress
        self._data: dict = {}
        self._moments: dict = {}

    def data(self, cfg, split: str = "train"):
        """(images, labels, info) of the configuration's data (for a text source, token windows and
        their next tokens: `sgnlib.text_data.load_text`); its sha256 must match the
        configuration's (the test split: `cfg.test_split_sha256()`, when the configuration names or
        implies one)."""
        sub = cfg.subset if split == "train" else (100 if cfg.subset else None)
        norm = cfg.full_recipe().normalize
        key = (split, cfg.data_source, sub, norm)
        if key not in self._data:
            if len(self._data) >= 2:
                self._data.clear()
            self._data[key] = (
                load_text(split, cfg.data_source, self.device) if cfg.data_source in TEXT_SOURCES
                else load_cifar10(split, source=cfg.data_source, device=self.device, subset=sub,
                                  normalize=norm))
        x, y, info = self._data[key]
        want = cfg.data_sha256 if split == "train" else cfg.test_split_sha256()
        if (split == "train" or want is not None) and info.get("sha256") != want:
            have = str(info.get("sha256"))[:12]
            raise DataChangedError(f"{cfg.data_source} {split} data now has sha256 {have}… but the "
                                   f"configuration was made for {str(want)[:12]}…; rebuild the "
                                   f"sweep")
        return x, y, info

    def capture_data(self, cfg):
        """(images, labels, provenance) of the images a capture draws its minibatches from, by the
        protocol option `inputs`: the training split (default), the test split (provenance then
        names both splits), or the training split standardized with `STD_COMMON` instead of `STD`
        (rescaled from the standardized images: same MEAN)."""
        inputs = cfg.full_protocol()["inputs"]
        x, y, info = self.data(cfg)
        test_info = None
        if inputs == "test":
            x, y, test_info = self.data(cfg, "test")
        elif inputs == "train_common_std":
            if not cfg.full_recipe().normalize:
                raise DataChangedError("protocol inputs='train_common_std' needs standardized "
                                       "images; drop it for a recipe with normalize=False")
            ratio = torch.tensor(STD, dtype=x.dtype) / torch.tensor(STD_COMMON, dtype=x.dtype)
            x = x * ratio.to(x.device).view(1, 3, 1, 1)
        return x, y, self.provenance(info, test_info)

    def checkpoint_folder(self, cfg) -> Path:
        return self.checkpoint_dir / cfg.checkpoint_key()

    def checkpoint_file(self, cfg, epoch: int | None = None) -> Path:
        return checkpoint_path(self.checkpoint_folder(cfg), cfg.model, cfg.seed,
                               epoch or cfg.checkpoint_epoch)

    def model(self, cfg):
        """The model at cfg.checkpoint_epoch, verified to be this configuration's training run;
        epoch 0 is the initialization, rebuilt from the seed (`train.initial_model`, what training
        starts from)."""
        if not cfg.needs_training():
            return initial_model(cfg.model, cfg.seed, self.device)
        model, _ = model_from_checkpoint(self.checkpoint_file(cfg), self.device,
                                         cfg.checkpoint_expect())
        return model

    def moments(self, cfg, model, x, y) -> dict:
        """Per-sample moments at one checkpoint, computed once per process (they do not depend on
        the batch size, so the moments stage and every Berry-Esseen batch size share them)."""
        key = (str(self.checkpoint_file(cfg)), cfg.n_samples, cfg.seed)
        if key not in self._moments:
            self._moments.clear()
            chunk = 256 if self.device.type == "cuda" else 64
            self._moments[key] = per_sample_moments(model, x, y, n_samples=cfg.n_samples,
                                                    seed=cfg.seed, chunk=chunk)
        return self._moments[key]

    def provenance(self, info: dict, test_info: dict | None = None) -> dict:
        return provenance(self.device, info, test_info)


def _cell(v):
    return json.dumps(v) if isinstance(v, (list, tuple)) else v


def rows(table: pd.DataFrame, cfg, prov: dict, wall_s: float, **extra) -> pd.DataFrame:
    """`table` with the configuration, provenance and wall time in every row (config_id first)."""
    cols = {**cfg.row_fields(), **{k: _cell(v) for k, v in extra.items()}, **prov, "wall_s": wall_s}
    out = table.copy()
    for k, v in cols.items():
        out[k] = v
    return out[["config_id"] + [c for c in out.columns if c != "config_id"]]
