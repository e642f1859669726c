"""Presets: plain YAML files beside this module (cpu.yaml, paper-recipe.yaml, smoke.yaml, ...), one
block per stage.

`load(name)` reads a preset; `expand(preset, data)` turns it into `Config`s in file order (the
priority order), each configuration once. A block's list values expand into one configuration per
value (model, seed, checkpoint_epoch, batch_size, n_batches, repeat); `layers`, `protocol`, `recipe`
and `checkpoint_epochs` are taken whole. The words final / series / series-before-final / repeats
are explained in each file.

A preset file is read strictly: a key given twice in one mapping (YAML itself would keep the last
value silently) and a YAML syntax error are each one `ConfigError` naming the file and line.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import yaml

from ..config import Config, ConfigError
from ..text_data import identity_for

FOLDER = Path(__file__).resolve().parent
EXPANDED = ("model", "seed", "checkpoint_epoch", "batch_size", "n_batches", "repeat")
TOP_KEYS = {"epochs", "repeats", "series_points", "seed", "subset", "blocks"}
DATA_FIELDS = ("data_source", "data_sha256", "test_sha256")  # from `data`, never from a block


def names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


class _DuplicateKey(Exception):
    """A mapping key seen twice: (key, line of the repeat, line of the first)."""


class StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a mapping holding the same key twice."""

    def construct_mapping(self, node, deep=False):
        first = {}
        for key_node, _ in node.value:
            key, line = self.construct_object(key_node, deep=deep), key_node.start_mark.line + 1
            try:
                if key in first:
                    raise _DuplicateKey(key, line, first[key])
            except TypeError:  # an unhashable key: the SafeLoader's own error below says so
                break
            first[key] = line
        return super().construct_mapping(node, deep)


def read_yaml(path: Path):
    """The YAML document in `path`; a syntax error or a duplicated key is one ConfigError line."""
    try:
        return yaml.load(path.read_text(), Loader=StrictLoader)
    except _DuplicateKey as e:
        key, line, first = e.args
        raise ConfigError(
            f"{path}:{line}: key {key!r} is given twice in one mapping (first on line "
            f"{first}); keep one"
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        what = str(getattr(e, "problem", None) or e)
        context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if context and cmark is not None:
            what += f", {context} started on line {cmark.line + 1}"
        raise ConfigError(
            f"{where}: YAML syntax error: {' '.join(what.split())}; fix the file"
        ) from None


def load(name: str) -> dict:
    path = Path(name) if name.endswith((".yaml", ".yml")) else FOLDER / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"unknown preset {name!r}; choose one of {', '.join(names())} or give a .yaml path"
        )
    spec = read_yaml(path)
    if not isinstance(spec, dict) or not spec.get("blocks") or "epochs" not in spec:
        raise ConfigError(
            f"{path}: a preset is a mapping with 'epochs' and a non-empty 'blocks' list"
        )
    unknown = set(spec) - TOP_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {sorted(unknown)}; known: {sorted(TOP_KEYS)}"
        )
    _check_blocks(spec["blocks"], path)
    return spec


def _check_blocks(blocks, path: Path) -> None:
    """Each block is a mapping that names no data field and expands no empty list."""
    if not isinstance(blocks, list):
        raise ConfigError(
            f"{path}: 'blocks' must be a list of mappings, got {type(blocks).__name__}"
        )
    for i, block in enumerate(blocks, 1):
        if not isinstance(block, dict):
            raise ConfigError(
                f"{path}: block {i} must be a mapping like {{stage: train, model: alexnet}}, "
                f"got {block!r}"
            )
        data_keys = sorted(set(block) & set(DATA_FIELDS))
        if data_keys:
            raise ConfigError(
                f"{path}: block {i} sets {data_keys}; the data are chosen with --data-source"
            )
        empty = [k for k in EXPANDED if block.get(k) == []]
        if empty:
            raise ConfigError(
                f"{path}: block {i} gives an empty list for {empty}; give at least one value"
            )


def series(epochs: int, points: int) -> list[int]:
    """Epoch 1, every max(1, epochs // points) epochs, and the last epoch (Fig 1, 2 and 6
    series)."""
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


def expand(
    spec: dict, data: dict, epochs: int | None = None, repeats: int | None = None
) -> list[Config]:
    """The preset's configurations for data {'source', 'sha256', 'test'} (`sgnlib.data.identify`);
    `epochs`/`repeats` override the file's. data['test'] (None or absent: unknown) is the test
    split. A text model's configurations read the text that goes with `data` instead
    (`sgnlib.text_data.identity_for`)."""
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
            given = {**fixed, **dict(zip(lists, combo))}
            d = identity_for(given.get("model"), data)  # a text model reads its text
            fields = {"epochs": e, "seed": spec.get("seed", 0), "subset": spec.get("subset"),
                      **given, "data_source": d["source"], "data_sha256": d["sha256"],
                      "test_sha256": (d.get("test") or {}).get("sha256")}
            cfg = Config.from_dict(fields)
            if cfg.config_id not in seen:
                seen.add(cfg.config_id)
                out.append(cfg)
    return out
