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

import torch
import torch.nn.functional as F

from . import models
from .checkpoints import (CheckpointError, CheckpointMissingError, checkpoint_expect,  # noqa: F401
                          checkpoint_path, existing_checkpoints, load_checkpoint,
                          model_from_checkpoint, recipe_identity, resume_point, save_checkpoint)
from .augmentation import augment
from .hyperparameters import Recipe


class NonFiniteLossError(RuntimeError):
    pass


def evaluate(model, images, labels, batch_size: int = 1000) -> tuple[float, float]:
    """(mean loss, accuracy) in eval mode, per label: per image, or per token of a language
    model's [N, T] targets (its logits [N, classes, T])."""
    was = model.training
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, images.shape[0], batch_size):
            out = model(images[i:i + batch_size])
            loss += float(F.cross_entropy(out, labels[i:i + batch_size], reduction="sum"))
            correct += int((out.argmax(1) == labels[i:i + batch_size]).sum())
    model.train(was)
    return loss / labels.numel(), correct / labels.numel()


def initial_model(model_name: str, seed: int = 0, device="cpu") -> torch.nn.Module:
    """The network before any training step (checkpoint epoch 0): built under
    `torch.manual_seed(seed)`."""
    torch.manual_seed(seed)
    return models.build(model_name).to(device)


def _restore(model, opt, gen, existing: dict, wanted: set, recipe: Recipe, device, expect: dict):
    """Continue from the run's checkpoints (`resume_point`): (finished run's result or None,
    history, first epoch to train, checkpoint resumed from)."""
    history, start = [], 0
    at, last = resume_point(existing, wanted, recipe.epochs)
    while last is not None:
        ck = load_checkpoint(last, device, expect)
        if at == recipe.epochs:
            model.load_state_dict(ck["state_dict"])
            done = {"model": model, "history": ck.get("history", []), "resumed_from": str(last),
                    "checkpoints": [str(existing[e]) for e in sorted(existing)]}
            return done, history, start, last
        if ck.get("optimizer") is not None:
            model.load_state_dict(ck["state_dict"])
            opt.load_state_dict(ck["optimizer"])
            gen.set_state(ck["generator"].cpu())
            history, start = list(ck.get("history", [])), ck["epoch"]
            break
        earlier = [e for e in existing if e < at]  # no optimizer state saved: go further back
        at, last = (max(earlier), existing[max(earlier)]) if earlier else (0, None)
    return None, history, start, last


def _epoch(opt, gen, images, labels, recipe: Recipe, device, step, fs, amp: bool) -> torch.Tensor:
    """One epoch's steps over a fresh permutation (`step`: the eager model, or `fs`: the fast
    step); the loss of each step (on the device)."""
    n = images.shape[0]
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
        autocast = torch.autocast(device.type, dtype=torch.bfloat16) if amp \
            else contextlib.nullcontext()
        with autocast:
            loss = F.cross_entropy(step(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[s] = loss.detach()
    return losses


def _check_losses(losses: torch.Tensor, model_name: str, epoch: int) -> None:
    bad = ~torch.isfinite(losses)
    if bool(bad.any()):
        s = int(torch.nonzero(bad)[0])
        raise NonFiniteLossError(f"{model_name}: loss became NaN/inf at epoch {epoch + 1}, step "
                                 f"{s + 1}; lower the learning rate or check the data (checkpoints "
                                 f"so far are kept)")


def _payload(model_name: str, epoch: int, seed: int, model, opt, gen, recipe: Recipe,
             data_info: dict | None, history: list, save_optimizer: bool) -> dict:
    """What the checkpoint after `epoch` epochs holds (the optimizer state unless it is the
    last)."""
    keep_opt = save_optimizer and epoch < recipe.epochs
    return {"model": model_name, "epoch": epoch, "seed": seed, "state_dict": model.state_dict(),
            "optimizer": opt.state_dict() if keep_opt else None,
            "generator": gen.get_state(), "recipe": dataclasses.asdict(recipe),
            "data_source": (data_info or {}).get("source"),
            "data_sha256": (data_info or {}).get("sha256"), "history": history}


def train(model_name: str, train_data, test_data=None, recipe: Recipe | None = None, seed: int = 0,
          device="cpu", checkpoint_dir=None, checkpoint_epochs=(), data_info: dict | None = None,
          compile: bool = False, eval_every: int = 1, progress: bool = True,
          save_optimizer: bool = True, fast: bool | None = None, amp: bool = False,
          ready=None) -> dict:
    """Train `model_name` on (images, labels) tensors already on `device`; return model and history.

    checkpoint_epochs: epochs (1-based, after that many epochs) at which to write a checkpoint;
    the final epoch is always written (the weights before any step: `initial_model`). A run finds
    its newest checkpoint in `checkpoint_dir` and continues from there.
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
        raise ValueError(f"epochs and batch_size must be positive, got {recipe.epochs}, "
                         f"{recipe.batch_size}")
    images, labels = train_data
    device = torch.device(device)
    model = initial_model(model_name, seed, device)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    gen = torch.Generator(device=device).manual_seed(seed)
    wanted = set(int(e) for e in checkpoint_epochs) | {recipe.epochs}
    expect = checkpoint_expect(model_name, seed, recipe, data_info=data_info)
    existing = existing_checkpoints(checkpoint_dir, model_name, seed)
    done, history, start, last = _restore(model, opt, gen, existing, wanted, recipe, device, expect)
    if done is not None:
        return done
    n = images.shape[0]
    fast = device.type == "cuda" if fast is None else bool(fast)
    t_setup, fs, step_fn = time.perf_counter(), None, None
    if fast:
        from .fast_step import TrainStep
        sizes = {min(n, recipe.batch_size), n % recipe.batch_size} - {0}
        fs = TrainStep(model, opt, images, labels, sizes, augment=recipe.augment, amp=amp)
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
        losses = _epoch(opt, gen, images, labels, recipe, device, step_fn, fs, amp)
        _check_losses(losses, model_name, epoch)
        row = {"epoch": epoch + 1, "lr": recipe.lr_at(epoch), "train_loss": float(losses.mean()),
               "epoch_s": time.perf_counter() - t0, "step": step_kind}
        if test_data is not None and ((epoch + 1) % eval_every == 0 or epoch + 1 == recipe.epochs):
            row["test_loss"], row["test_acc"] = evaluate(model, *test_data)
        row["img_per_s"] = n / row["epoch_s"]
        history.append(row)
        if progress:
            bar.set_postfix(loss=f"{row['train_loss']:.3f}",
                            acc=f"{row.get('test_acc', float('nan')):.3f}")
        if checkpoint_dir is not None and (epoch + 1) in wanted:
            path = checkpoint_path(checkpoint_dir, model_name, seed, epoch + 1)
            save_checkpoint(path, _payload(model_name, epoch + 1, seed, model, opt, gen, recipe,
                                           data_info, history, save_optimizer))
            written.append(str(path))
    if fs is not None:
        fs.close()  # frees the graphs; the model goes back to contiguous memory format
    return {"model": model, "history": history, "checkpoints": written,
            "resumed_from": str(last) if last else None, "step": step_kind, "setup_s": setup_s}
