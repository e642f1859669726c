"""Checkpoints of a training run: where they live, how they are written (atomically) and read
back (weights only, checked to belong to the run that asks for them), and which one a run resumes
from. `sgnlib.train` re-exports these names.

A checkpoint carries the model name, seed, epoch, recipe and data sha256 of its run; `expect`
(`checkpoint_expect`) lists the values a reader requires, so weights of another run are never used
under this run's name. The recipe is compared by `recipe_identity`, the form it takes in
configuration ids.
"""
from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import torch

from . import models
from .atomic import atomic_write
from .hyperparameters import Recipe

# recipe fields that enter identities only when they differ from these values (a recipe without
# them, as in the checkpoints and ids of the committed results, reads as these defaults)
RECIPE_IDENTITY_DEFAULTS = {"normalize": True}


def recipe_identity(recipe: "Recipe | dict") -> dict:
    """The recipe as it enters configuration ids and checkpoint checks (fields at their
    `RECIPE_IDENTITY_DEFAULTS` left out)."""
    defaults = RECIPE_IDENTITY_DEFAULTS
    d = dataclasses.asdict(recipe) if isinstance(recipe, Recipe) else {**defaults, **recipe}
    d["milestones"] = tuple(d["milestones"])
    return {k: v for k, v in d.items() if not (k in defaults and v == defaults[k])}


def checkpoint_path(folder, model_name: str, seed: int, epoch: int) -> Path:
    return Path(folder) / f"{model_name}-seed{seed}-epoch{epoch:03d}.pt"


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write a checkpoint atomically (`sgnlib.atomic`): a reader never sees a part of one."""
    atomic_write(path, lambda tmp: torch.save(payload, tmp), make_parents=True)


class CheckpointError(ValueError):
    """A checkpoint that is unreadable or belongs to another run; the message says what to do."""


class CheckpointMissingError(CheckpointError, FileNotFoundError):
    """A checkpoint file that does not exist."""


def checkpoint_expect(model_name: str, seed: int, recipe: "Recipe", epoch: int | None = None,
                      data_info: dict | None = None) -> dict:
    """The fields a checkpoint of one training run must carry (`load_checkpoint`'s `expect`): model,
    seed and recipe; the epoch when given; the data's sha256 when `data_info` is given."""
    out = {"model": model_name, "seed": seed, "recipe": recipe}
    if epoch is not None:
        out["epoch"] = epoch
    if data_info is not None:
        out["data_sha256"] = data_info.get("sha256")
    return out


def _unreadable(path: Path, e: Exception) -> CheckpointError:
    """The one-line error for a checkpoint torch cannot load (an empty file, a truncated one,
    garbage)."""
    size = path.stat().st_size
    first = next((line.strip() for line in str(e).splitlines() if line.strip()), "no message")
    why = ("is empty (0 bytes)" if size == 0
           else f"is unreadable ({type(e).__name__}: {first[:120]})")
    return CheckpointError(f"checkpoint {path} {why}; delete it and rerun to retrain")


def load_checkpoint(path, device="cpu", expect: dict | None = None) -> dict:
    """Load a checkpoint written by `train` (weights_only: no code is unpickled).

    expect: fields the checkpoint must carry (model, seed, epoch, data_sha256, recipe); a mismatch
    is a one-line CheckpointError, so weights of another run are never used under this run's name.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointMissingError(f"checkpoint {path} does not exist; train the model first "
                                     f"(sgnlib.train.train)")
    try:
        ck = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # empty or truncated file, garbage, wrong format
        raise _unreadable(path, e) from None
    if not isinstance(ck, dict) or "state_dict" not in ck:
        raise CheckpointError(f"checkpoint {path} holds a {type(ck).__name__} without "
                              f"'state_dict', not a checkpoint written by sgnlib.train; delete it "
                              f"and rerun to retrain")
    for key, want in (expect or {}).items():
        have = ck.get(key)
        if key == "recipe" and isinstance(want, Recipe):
            want = recipe_identity(want)
            have = recipe_identity(have) if isinstance(have, dict) else have
        if have != want:
            raise CheckpointError(f"checkpoint {path} has {key}={have!r} but this run expects "
                                  f"{want!r}; it belongs to another run: move it away or point "
                                  f"--checkpoints elsewhere")
    return ck


def model_from_checkpoint(path, device="cpu",
                          expect: dict | None = None) -> tuple[torch.nn.Module, dict]:
    ck = load_checkpoint(path, device, expect)
    model = models.build(ck["model"]).to(device)
    model.load_state_dict(ck["state_dict"])
    return model, ck


def existing_checkpoints(folder, model_name, seed) -> dict[int, Path]:
    """{epoch: path} of the checkpoints of one run in `folder`."""
    if folder is None or not Path(folder).is_dir():
        return {}
    paths = Path(folder).glob(f"{model_name}-seed{seed}-epoch*.pt")
    return {int(p.stem.rsplit("epoch", 1)[1]): p for p in paths}


def resume_point(existing: dict, wanted: set, final: int):
    """The checkpoint to continue from: all wanted present -> the final one; else the newest one
    before the first missing wanted epoch (a missing intermediate checkpoint is re-created). With
    none before it, the newest checkpoint: a run carried to another machine keeps only its newest
    one (scripts/resume_checkpoint.py), and retraining from scratch to re-create the earlier ones
    would repeat the whole run; they are named in a warning (attributed to the caller of `train`)
    instead."""
    missing = sorted(e for e in wanted if e not in existing)
    if not missing:
        return final, existing[final]
    before = [e for e in existing if e < missing[0]]
    if before:
        return max(before), existing[max(before)]
    if not existing:
        return 0, None
    newest = max(existing)
    lost = [e for e in missing if e < newest]
    warnings.warn(f"continuing from the checkpoint of epoch {newest}; the checkpoints of epochs "
                  f"{lost} are not re-created (delete the later checkpoints to retrain them from "
                  f"the start)", stacklevel=4)
    return newest, existing[newest]
