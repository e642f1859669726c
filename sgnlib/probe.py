"""`probe()`: the paper's Gaussianity test on any model, and the checks every capture runs first.

Every bad argument or model is one `CaptureArgumentError` line, raised before any minibatch
gradient is computed:
- batch_size, n_batches: integers (not 8.5, not "20"), batch_size at most the number of images,
  n_batches in the range Shapiro-Wilk (AS R94) accepts; level in (0, 1); as many labels as images;
- layers: names `sgnlib.models.weight_layers` knows (an unknown or unsupported name is refused);
- the model: at least one trainable weight layer;
- the loss: one forward (and backward) on 2 images must give a scalar that depends on every
  captured weight.

Which weights are captured (`capture_layers`, used by `sgnlib.capture` as well):
- a weight shared by several modules (tied weights: the same Parameter assigned to two modules) is
  one weight with one gradient, so it is captured once, under the name of its first module in
  forward order (the later module's name is then absent); asking for the later name by `layers=`
  is refused with the name to use. A module called twice is one module and was never listed twice.
- a frozen weight (requires_grad False) gets no SGD update, so it has no gradient noise to test: it
  is skipped with a one-line warning naming it, or refused when asked for by `layers=`; a model
  whose weights are all frozen is refused.
"""
from __future__ import annotations

import numbers
import warnings

import torch

from .models import weight_layers
from .stats.shapiro import N_MAX, N_MIN


class CaptureArgumentError(ValueError):
    """A capture argument, model or loss that cannot run; the message says what to change."""


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_capture_args(batch_size, n_batches, n_data: int | None = None) -> None:
    """batch_size a positive integer no larger than n_data, n_batches an integer in N_MIN..N_MAX."""
    if not _is_int(batch_size) or batch_size <= 0:
        raise CaptureArgumentError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not _is_int(n_batches) or not N_MIN <= n_batches <= N_MAX:
        raise CaptureArgumentError(f"n_batches must be an integer in {N_MIN}..{N_MAX} "
                                   f"(Shapiro-Wilk AS R94), got {n_batches!r}")
    if n_data is not None and batch_size > n_data:
        raise CaptureArgumentError(f"batch_size {batch_size} exceeds the {n_data} training images; "
                                   f"use batch_size <= {n_data} or more images")


def check_data(images, labels, level: float) -> None:
    """As many labels as images, and a significance level in (0, 1)."""
    if not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise CaptureArgumentError(f"level must be a significance level in (0, 1), got {level!r}")
    if len(images) != len(labels):
        raise CaptureArgumentError(f"{len(images)} images but {len(labels)} labels; "
                                   f"pass one label per image")


def _weight_layers(model, layers):
    try:
        return weight_layers(model, layers)
    except ValueError as e:
        raise CaptureArgumentError(str(e)) from None


def _first_names(model) -> dict[int, str]:
    """{id(parameter): name of its first module} over every supported weight of the model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the caller's own listing warns about unsupported modules
        named = _weight_layers(model, None)
    first: dict[int, str] = {}
    for name, p in named:
        first.setdefault(id(p), name)
    return first


def _dedupe(model, named, asked: bool):
    """Each parameter once, under its first module's name; a later name asked for is refused."""
    first = _first_names(model) if asked else {}
    out, seen = [], set()
    for name, p in named:
        if asked and first.get(id(p), name) != name:
            raise CaptureArgumentError(f"layer {name!r} is the same (tied) weight as "
                                       f"{first[id(p)]!r}; ask for {first[id(p)]!r}")
        if id(p) not in seen:
            seen.add(id(p))
            out.append((name, p))
    return out


def _drop_frozen(model, named, asked: bool):
    frozen = [name for name, p in named if not p.requires_grad]
    kind = type(getattr(model, "_orig_mod", model)).__name__
    if frozen and asked:
        raise CaptureArgumentError(f"layers {frozen} are frozen (requires_grad=False) and have no "
                                   f"gradient noise; unfreeze them or leave them out of layers")
    if frozen and len(frozen) == len(named):
        raise CaptureArgumentError(f"{kind} has no trainable weight layer: {frozen} are frozen "
                                   f"(requires_grad=False); unfreeze the weights to capture")
    if frozen:
        warnings.warn(f"{kind}: skipping frozen weights {frozen} (requires_grad=False: no SGD "
                      f"update, no gradient noise)", stacklevel=3)
    return [(name, p) for name, p in named if p.requires_grad]


def capture_layers(model, layers=None) -> list[tuple[str, torch.nn.Parameter]]:
    """[(name, weight)] to capture: `weight_layers`, tied weights once, frozen weights skipped
    (see the module docstring); errors are `CaptureArgumentError`."""
    named = _dedupe(model, _weight_layers(model, layers), asked=layers is not None)
    return _drop_frozen(model, named, asked=layers is not None)


def save_modes(model):
    """Every submodule's own `training` flag (model.train(flag) would overwrite them all)."""
    return [(m, m.training) for m in model.modules()]


def restore_modes(saved) -> None:
    for m, flag in saved:
        m.training = flag


def check_loss(model, loss_fn, images, labels, named) -> None:
    """One forward and backward on 2 images, in eval mode (no BatchNorm statistic moves; every
    module's flag restored): the loss must be a scalar that depends on every captured weight."""
    modes = save_modes(model)
    model.eval()
    try:
        loss = loss_fn(model(images[:2]), labels[:2])
        if not torch.is_tensor(loss) or loss.numel() != 1:
            shape = tuple(loss.shape) if torch.is_tensor(loss) else type(loss).__name__
            raise CaptureArgumentError(f"loss_fn must return a scalar (a mean over the batch), "
                                       f"got {shape}; use reduction='mean'")
        if not loss.requires_grad:
            raise CaptureArgumentError("the loss does not depend on the model's weights; "
                                       "check loss_fn")
        grads = torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)
    except CaptureArgumentError:
        raise
    except Exception as e:  # noqa: BLE001 -- any failure on 2 images: one line, before the capture
        raise CaptureArgumentError(f"model or loss_fn failed on 2 images: "
                                   f"{type(e).__name__}: {e}") from None
    finally:
        restore_modes(modes)
    unused = [name for (name, _), g in zip(named, grads) if g is None]
    if unused:
        raise CaptureArgumentError(f"layers {unused} do not affect the loss; "
                                   f"leave them out of layers")
