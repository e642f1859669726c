"""Training with the paper's recipe (paper, "Gaussian behavior of AlexNet"; the values are
`sgnlib.hyperparameters.Recipe`: SGD with momentum and weight decay, a stepped learning rate whose
milestones scale with a shorter run, random crop + flip).

Data stay on the device; no DataLoader. Checkpoints are written atomically and a killed run resumes
from its newest checkpoint. On CUDA the step runs compiled and replayed as a CUDA graph by default
(`sgnlib.fast_step`, `fast=`); the eager loop below is the reference (`fast=False`, default on CPU).
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from . import models
from .atomic import atomic_write
from .data import augment
from .hyperparameters import Recipe

# fields added after results existed: left out of identities while at their default, so old ids hold
RECIPE_ADDED_DEFAULTS = {"normalize": True}


def recipe_identity(recipe: "Recipe | dict") -> dict:
    """The recipe as it enters configuration ids and checkpoint checks (later-added defaults left out)."""
    d = dataclasses.asdict(recipe) if isinstance(recipe, Recipe) else {**RECIPE_ADDED_DEFAULTS, **recipe}
    d["milestones"] = tuple(d["milestones"])
    return {k: v for k, v in d.items() if not (k in RECIPE_ADDED_DEFAULTS and v == RECIPE_ADDED_DEFAULTS[k])}


class NonFiniteLossError(RuntimeError):
    pass


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
    """The one-line error for a checkpoint torch cannot load (an empty file, a truncated one, garbage)."""
    size = path.stat().st_size
    first = next((line.strip() for line in str(e).splitlines() if line.strip()), "no message")
    why = "is empty (0 bytes)" if size == 0 else f"is unreadable ({type(e).__name__}: {first[:120]})"
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
        raise CheckpointError(f"checkpoint {path} holds a {type(ck).__name__} without 'state_dict', not a "
                              f"checkpoint written by sgnlib.train; delete it and rerun to retrain")
    for key, want in (expect or {}).items():
        have = ck.get(key)
        if key == "recipe" and isinstance(want, Recipe):
            want = recipe_identity(want)
            have = recipe_identity(have) if isinstance(have, dict) else have
        if have != want:
            raise CheckpointError(f"checkpoint {path} has {key}={have!r} but this run expects {want!r}; it belongs to "
                                  f"another run: move it away or point --checkpoints elsewhere")
    return ck


def model_from_checkpoint(path, device="cpu", expect: dict | None = None) -> tuple[torch.nn.Module, dict]:
    ck = load_checkpoint(path, device, expect)
    model = models.build(ck["model"]).to(device)
    model.load_state_dict(ck["state_dict"])
    return model, ck


def evaluate(model, images, labels, batch_size: int = 1000) -> tuple[float, float]:
    """(mean loss, accuracy) in eval mode."""
    was = model.training
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, images.shape[0], batch_size):
            out = model(images[i:i + batch_size])
            loss += float(F.cross_entropy(out, labels[i:i + batch_size], reduction="sum"))
            correct += int((out.argmax(1) == labels[i:i + batch_size]).sum())
    model.train(was)
    return loss / images.shape[0], correct / images.shape[0]


def existing_checkpoints(folder, model_name, seed) -> dict[int, Path]:
    """{epoch: path} of the checkpoints of one run in `folder`."""
    if folder is None or not Path(folder).is_dir():
        return {}
    return {int(p.stem.rsplit("epoch", 1)[1]): p for p in Path(folder).glob(f"{model_name}-seed{seed}-epoch*.pt")}


def _resume_point(existing: dict, wanted: set, final: int):
    """The checkpoint to continue from: all wanted present -> the final one; else the newest one
    before the first missing wanted epoch (a missing intermediate checkpoint is re-created). With none
    before it, the newest checkpoint: a run carried to another machine keeps only its newest one
    (scripts/resume_checkpoint.py), and retraining from scratch to re-create the earlier ones would
    repeat the whole run; they are named in a warning instead."""
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
    warnings.warn(f"continuing from the checkpoint of epoch {newest}; the checkpoints of epochs {lost} are "
                  f"not re-created (delete the later checkpoints to retrain them from the start)", stacklevel=3)
    return newest, existing[newest]


def initial_model(model_name: str, seed: int = 0, device="cpu") -> torch.nn.Module:
    """The network before any training step (checkpoint epoch 0): built under `torch.manual_seed(seed)`."""
    torch.manual_seed(seed)
    return models.build(model_name).to(device)


def train(model_name: str, train_data, test_data=None, recipe: Recipe | None = None, seed: int = 0,
          device="cpu", checkpoint_dir=None, checkpoint_epochs=(), data_info: dict | None = None,
          compile: bool = False, eval_every: int = 1, progress: bool = True,
          save_optimizer: bool = True, fast: bool | None = None, amp: bool = False, ready=None) -> dict:
    """Train `model_name` on (images, labels) tensors already on `device`; return model and history.

    checkpoint_epochs: epochs (1-based, after that many epochs) at which to write a checkpoint;
    the final epoch is always written (the weights before any step: `initial_model`). A run finds
    its newest checkpoint in `checkpoint_dir` and
    continues from there.
    fast: the whole step compiled and, on CUDA, replayed as a CUDA graph (`sgnlib.fast_step`;
    same augmentation draws, checkpoints and history, trajectory equal to eager up to float
    rounding, not bitwise); None = fast on CUDA, eager on CPU. False = the eager reference loop
    (`compile`: torch.compile the model in it). amp: bfloat16 autocast (opt-in; default fp32).
    Each history row's "step" says what ran: "eager", "compiled-model", "compiled" or "graph"
    ("+bf16" with amp); the result's "setup_s" is the compile/capture time, outside "epoch_s".
    ready: called (no arguments) once the step is prepared, before the first epoch (train_many).
    """
    models.check_model_name(model_name)
    recipe = recipe or Recipe()
    if recipe.epochs <= 0 or recipe.batch_size <= 0:
        raise ValueError(f"epochs and batch_size must be positive, got {recipe.epochs}, {recipe.batch_size}")
    images, labels = train_data
    device = torch.device(device)
    model = initial_model(model_name, seed, device)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    gen = torch.Generator(device=device).manual_seed(seed)
    history, start = [], 0
    wanted = set(int(e) for e in checkpoint_epochs) | {recipe.epochs}
    expect = checkpoint_expect(model_name, seed, recipe, data_info=data_info)
    existing = existing_checkpoints(checkpoint_dir, model_name, seed)
    at, last = _resume_point(existing, wanted, recipe.epochs)
    while last is not None:
        ck = load_checkpoint(last, device, expect)
        if at == recipe.epochs:
            model.load_state_dict(ck["state_dict"])
            return {"model": model, "history": ck.get("history", []), "resumed_from": str(last),
                    "checkpoints": [str(existing[e]) for e in sorted(existing)]}
        if ck.get("optimizer") is not None:
            model.load_state_dict(ck["state_dict"])
            opt.load_state_dict(ck["optimizer"])
            gen.set_state(ck["generator"].cpu())
            history, start = list(ck.get("history", [])), ck["epoch"]
            break
        earlier = [e for e in existing if e < at]  # no optimizer state saved: go further back
        at, last = (max(earlier), existing[max(earlier)]) if earlier else (0, None)
    n = images.shape[0]
    fast = device.type == "cuda" if fast is None else bool(fast)
    t_setup, fs = time.perf_counter(), None
    if fast:
        from .fast_step import TrainStep
        fs = TrainStep(model, opt, images, labels, {min(n, recipe.batch_size), n % recipe.batch_size} - {0},
                       augment=recipe.augment, amp=amp)
        step_kind = fs.kind
    else:
        step_fn = torch.compile(model) if compile else model
        step_kind = ("compiled-model" if compile else "eager") + ("+bf16" if amp else "")
    setup_s = time.perf_counter() - t_setup
    if ready is not None:
        ready()
    bar = range(start, recipe.epochs)
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(bar, desc=f"train {model_name}", initial=start, total=recipe.epochs)
    written = []
    for epoch in bar:
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = recipe.lr_at(epoch)
        if fs is not None:
            fs.set_lr(recipe.lr_at(epoch))
        model.train()
        perm = torch.randperm(n, device=device, generator=gen)
        steps = (n + recipe.batch_size - 1) // recipe.batch_size
        losses = torch.zeros(steps, device=device)
        for s in range(steps):
            idx = perm[s * recipe.batch_size:(s + 1) * recipe.batch_size]
            if fs is not None:  # fast path: same draws from `gen`, compiled/graphed step
                losses[s] = fs(idx, gen)
                continue
            x = images[idx]
            if recipe.augment:
                x = augment(x, gen)
            with torch.autocast(device.type, dtype=torch.bfloat16) if amp else contextlib.nullcontext():
                loss = F.cross_entropy(step_fn(x), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses[s] = loss.detach()
        bad = ~torch.isfinite(losses)
        if bool(bad.any()):
            s = int(torch.nonzero(bad)[0])
            raise NonFiniteLossError(f"{model_name}: loss became NaN/inf at epoch {epoch + 1}, step {s + 1}; "
                                     f"lower the learning rate or check the data (checkpoints so far are kept)")
        row = {"epoch": epoch + 1, "lr": recipe.lr_at(epoch), "train_loss": float(losses.mean()),
               "epoch_s": time.perf_counter() - t0, "step": step_kind}
        if test_data is not None and ((epoch + 1) % eval_every == 0 or epoch + 1 == recipe.epochs):
            row["test_loss"], row["test_acc"] = evaluate(model, *test_data)
        row["img_per_s"] = n / row["epoch_s"]
        history.append(row)
        if progress:
            bar.set_postfix(loss=f"{row['train_loss']:.3f}", acc=f"{row.get('test_acc', float('nan')):.3f}")
        if checkpoint_dir is not None and (epoch + 1) in wanted:
            path = checkpoint_path(checkpoint_dir, model_name, seed, epoch + 1)
            save_checkpoint(path, {
                "model": model_name, "epoch": epoch + 1, "seed": seed,
                "state_dict": model.state_dict(),
                "optimizer": opt.state_dict() if save_optimizer and epoch + 1 < recipe.epochs else None,
                "generator": gen.get_state(), "recipe": dataclasses.asdict(recipe),
                "data_source": (data_info or {}).get("source"), "data_sha256": (data_info or {}).get("sha256"),
                "history": history})
            written.append(str(path))
    if fs is not None:
        fs.close()  # frees the graphs; the model goes back to contiguous memory format
    return {"model": model, "history": history, "checkpoints": written, "resumed_from": str(last) if last else None,
            "step": step_kind, "setup_s": setup_s}
