"""Presets: plain YAML files beside this module (cpu.yaml, paper-recipe.yaml, smoke.yaml, ...), one block per stage.

`load(name)` reads a preset; `expand(preset, data)` turns it into `Config`s in file order (the
priority order), each configuration once. A block's list values expand into one configuration per
value (model, seed, checkpoint_epoch, batch_size, n_batches, repeat); `layers`, `protocol`, `recipe` and `checkpoint_epochs`
are taken whole. The words final / series / series-before-final / repeats are explained in each file.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import yaml

from ..config import Config, ConfigError

FOLDER = Path(__file__).resolve().parent
EXPANDED = ("model", "seed", "checkpoint_epoch", "batch_size", "n_batches", "repeat")
TOP_KEYS = {"epochs", "repeats", "series_points", "seed", "subset", "blocks"}


def names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


def load(name: str) -> dict:
    path = Path(name) if name.endswith((".yaml", ".yml")) else FOLDER / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(names())} or give a .yaml path")
    spec = yaml.safe_load(path.read_text())
    if not isinstance(spec, dict) or not spec.get("blocks") or "epochs" not in spec:
        raise ConfigError(f"{path}: a preset is a mapping with 'epochs' and a non-empty 'blocks' list")
    unknown = set(spec) - TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)}; known: {sorted(TOP_KEYS)}")
    return spec


def series(epochs: int, points: int) -> list[int]:
    """Epoch 1, every max(1, epochs // points) epochs, and the last epoch (Fig 1, 2 and 6 series)."""
    every = max(1, epochs // points)
    return sorted({1, epochs} | set(range(every, epochs + 1, every)))


def _words(value, epochs: int, points: int, repeats: int):
    if value == "final":
        return [epochs]
    if value == "series":
        return series(epochs, points)
    if value == "series-before-final":
        return [e for e in series(epochs, points) if e != epochs]
    if value == "repeats":
        return list(range(repeats))
    return value


def expand(spec: dict, data: dict, epochs: int | None = None, repeats: int | None = None) -> list[Config]:
    """The preset's configurations for data {'source', 'sha256'}; `epochs`/`repeats` override the file's."""
    e = spec["epochs"] if epochs is None else epochs
    r = spec.get("repeats", 1) if repeats is None else repeats
    points = spec.get("series_points", 5)
    for name, v in (("epochs", e), ("repeats", r), ("series_points", points)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{name} must be a positive integer, got {v!r}")
    out, seen = [], set()
    for block in spec["blocks"]:
        block = {k: _words(v, e, points, r) for k, v in block.items()}
        lists = {k: (v if isinstance(v, list) else [v]) for k, v in block.items() if k in EXPANDED}
        fixed = {k: v for k, v in block.items() if k not in EXPANDED}
        for combo in itertools.product(*lists.values()):
            fields = {"epochs": e, "seed": spec.get("seed", 0), "subset": spec.get("subset"),
                      **fixed, **dict(zip(lists, combo)),
                      "data_source": data["source"], "data_sha256": data["sha256"]}
            cfg = Config.from_dict(fields)
            if cfg.config_id not in seen:
                seen.add(cfg.config_id)
                out.append(cfg)
    return out
