"""What `sgn-probe` probes: a user's model and data, or one of the book's networks on CIFAR-10.

- `user_input("package.module:function")` (or "path/to/file.py:function") imports the module, the
  current folder first on the import path as `python -m` has it, and calls the function without
  arguments. It must return (model, loss_fn, images, labels), (model, loss_fn, (images, labels)) or
  (model, loss_fn, dataset): a torch Dataset of (input, label) pairs is stacked into two tensors
  (the capture draws its minibatches from tensors, see `sgnlib.capture`).
- `book_input("alexnet", checkpoint=None)` builds one of `sgnlib.models.MODELS` at its seeded
  initialization (`sgnlib.train.initial_model`) or from a checkpoint written by `sgnlib.train`, on
  the CIFAR-10 training split found by `sgnlib.data.load_cifar10`, normalized as its recipe was;
  the loss is cross-entropy, as in training.

Every bad input is one `ProbeInputError` line saying what to change, raised before any compute.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .probe import CaptureArgumentError

EXAMPLE_SPEC = "sgnlib.examples.tiny:make"
RETURNS = "(model, loss_fn, images, labels), (model, loss_fn, (images, labels)) or " \
          "(model, loss_fn, dataset)"


class ProbeInputError(CaptureArgumentError):
    """A model, data, checkpoint, device or output folder `sgn-probe` cannot use (one line)."""


@dataclass
class ProbeInput:
    """A model, its loss and its data on one device, and how they were obtained."""
    model: nn.Module
    loss_fn: Callable
    images: torch.Tensor
    labels: torch.Tensor
    source: str
    data: str
    data_info: dict = field(default_factory=dict)


def resolve_device(device: str) -> torch.device:
    """'auto' (CUDA when available, else CPU) or a torch device string that exists here."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ProbeInputError(f"unknown device {device!r}; use auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ProbeInputError(f"device {device!r} asked for but CUDA is not available; use cpu")
    if dev.type not in ("cpu", "cuda"):
        raise ProbeInputError(f"device {device!r} is not supported; use auto, cpu or cuda")
    return dev


def _module(name: str):
    """The module named by the part before ':' (a dotted name, or a .py file path)."""
    if name.endswith(".py") or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise ProbeInputError(f"file {name} does not exist; give MODULE:FUNCTION, "
                                  f"e.g. {EXAMPLE_SPEC}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, "")  # the current folder, as `python -m` puts it
    return importlib.import_module(name)


def load_function(spec: str) -> Callable:
    """The function named by `spec` = 'module:function'."""
    name, sep, func = str(spec).partition(":")
    if not sep or not name or not func:
        raise ProbeInputError(f"expected MODULE:FUNCTION, got {spec!r}; e.g. {EXAMPLE_SPEC}")
    try:
        mod = _module(name)
    except ProbeInputError:
        raise
    except ModuleNotFoundError as e:
        raise ProbeInputError(f"cannot import {name!r} ({e}); run from the folder that holds it "
                              f"or install it") from None
    except Exception as e:  # noqa: BLE001 -- the user's module failed on import: one line
        raise ProbeInputError(f"importing {name!r} failed: {type(e).__name__}: "
                              f"{str(e).splitlines()[0] if str(e) else ''}") from None
    fn = getattr(mod, func, None)
    if fn is None:
        raise ProbeInputError(f"module {name!r} has no {func!r}; name a function defined in it")
    if not callable(fn):
        raise ProbeInputError(f"{spec} is a {type(fn).__name__}, not a function")
    return fn


def _tensor(x, what: str) -> torch.Tensor:
    try:
        return torch.as_tensor(x)
    except Exception:  # noqa: BLE001 -- anything that is not array-like
        raise ProbeInputError(f"{what} is a {type(x).__name__}, not a tensor") from None


def _stack(dataset, spec: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels) from a torch Dataset of (input, label) pairs."""
    if isinstance(dataset, torch.utils.data.TensorDataset) and len(dataset.tensors) == 2:
        return dataset.tensors
    try:
        pairs = [dataset[i] for i in range(len(dataset))]
        images = torch.stack([_tensor(p[0], "an input") for p in pairs])
        labels = torch.stack([_tensor(p[1], "a label") for p in pairs])
    except ProbeInputError:
        raise
    except Exception as e:  # noqa: BLE001 -- not a map-style dataset of (input, label) pairs
        raise ProbeInputError(f"{spec}() returned a dataset that is not a list of (input, label) "
                              f"pairs of equal shapes ({type(e).__name__}: {e})") from None
    return images, labels


def _unpack(out, spec: str):
    if not isinstance(out, (tuple, list)) or len(out) not in (3, 4):
        length = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        raise ProbeInputError(f"{spec}() must return {RETURNS}; got {type(out).__name__}{length}")
    model, loss_fn, *data = out
    if not isinstance(model, nn.Module):
        raise ProbeInputError(f"{spec}() returned a {type(model).__name__} as the model; "
                              f"return a torch.nn.Module first")
    if not callable(loss_fn):
        raise ProbeInputError(f"{spec}() returned a {type(loss_fn).__name__} as the loss; return "
                              f"a function loss_fn(outputs, labels) second")
    if len(data) == 1 and isinstance(data[0], (tuple, list)) and len(data[0]) == 2:
        data = list(data[0])
    images, labels = data if len(data) == 2 else _stack(data[0], spec)
    return model, loss_fn, _tensor(images, "images"), _tensor(labels, "labels")


def user_input(spec: str, device="cpu") -> ProbeInput:
    """The model, loss and data that the user's function `spec` ('module:function') returns."""
    fn = load_function(spec)
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 -- the user's code failed: one line, the rest in Python
        raise ProbeInputError(f"{spec}() failed: {type(e).__name__}: {e}; call it in Python "
                              f"to see the traceback") from None
    model, loss_fn, images, labels = _unpack(out, spec)
    dev = resolve_device(str(device))
    shape = "x".join(map(str, images.shape[1:]))
    dtypes = [str(t.dtype).replace("torch.", "") for t in (images, labels)]
    data = f"{len(images)} examples of shape {shape} ({dtypes[0]}), labels {dtypes[1]}, " \
           f"from {spec}()"
    return ProbeInput(model.to(dev), loss_fn, images.to(dev), labels.to(dev), spec, data)


def _checkpoint(name: str, path, dev) -> tuple[nn.Module, dict]:
    from .train import CheckpointError, model_from_checkpoint
    if not Path(path).is_file():
        raise ProbeInputError(f"checkpoint {path} does not exist; give a checkpoint file written "
                              f"by sgnlib.train, or leave --checkpoint out (initial weights)")
    try:
        return model_from_checkpoint(path, dev, {"model": name})
    except (CheckpointError, RuntimeError, KeyError) as e:
        raise ProbeInputError(str(e).splitlines()[0]) from None


def book_input(name: str, checkpoint=None, device="cpu", subset: int | None = None,
               init_seed: int = 0) -> ProbeInput:
    """One of the book's networks (initial weights, or `checkpoint`) on CIFAR-10's training split
    (`subset` images per class), with cross-entropy."""
    from .data import DataError, DataNotFoundError, load_cifar10
    from .models import check_model_name
    from .train import initial_model
    try:
        check_model_name(name)
    except ValueError as e:
        raise ProbeInputError(str(e)) from None
    if subset is not None and (not isinstance(subset, int) or not 1 <= subset <= 5000):
        raise ProbeInputError(f"subset must be 1..5000 images per class, got {subset!r}")
    dev = resolve_device(str(device))
    if checkpoint is not None:
        model, ck = _checkpoint(name, checkpoint, dev)
        normalize = (ck.get("recipe") or {}).get("normalize", True)
        source = f"{name}, checkpoint {checkpoint} (epoch {ck.get('epoch')})"
    else:
        model, normalize = initial_model(name, init_seed, dev), True
        source = f"{name} at initialization (seed {init_seed})"
    try:
        images, labels, info = load_cifar10("train", device=dev, subset=subset,
                                            normalize=normalize)
    except (DataError, DataNotFoundError) as e:
        raise ProbeInputError(str(e).splitlines()[0]) from None
    data = (f"CIFAR-10 training split, {info['n']} images"
            + (f" ({subset} per class)" if subset else "")
            + f", {'normalized per channel' if normalize else 'raw pixels in [0, 1]'}; "
            f"{info.get('source')} sha256 {str(info.get('sha256'))[:12]}")
    return ProbeInput(model, F.cross_entropy, images, labels, source, data, info)
