"""Value checks behind `sgnlib.config.Config`: integers in a range, and recipe overrides against the
`Recipe` field's type and range. Each failure is one `ConfigError` line saying what to change."""
from __future__ import annotations

import math

# recipe ranges; milestones are in units of a 300-epoch schedule and may repeat (a repeated
# milestone decays twice at once; [300, 300] never decays within the run)
RECIPE_RANGES = {
    "lr": (lambda v: v > 0, "> 0"),
    "momentum": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "weight_decay": (lambda v: v >= 0, ">= 0"),
    "lr_decay": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "batch_size": (lambda v: v >= 1, ">= 1"),
    "milestones": (
        lambda v: all(0 <= m <= 300 for m in v) and list(v) == sorted(v),
        "non-decreasing epochs in 0..300",
    ),
}


class ConfigError(ValueError):
    """A configuration value that cannot run; the message says what to change."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def recipe_value(name, v, default):
    """One recipe override, checked against its Recipe default's type and `RECIPE_RANGES`."""
    kind = type(default)
    if kind is tuple:
        ok = isinstance(v, (list, tuple)) and all(_is_int(m) for m in v)
        v = tuple(v) if ok else v
    elif kind is float:
        ok = (_is_int(v) or isinstance(v, float)) and math.isfinite(v)
    else:
        ok = isinstance(v, bool) if kind is bool else _is_int(v)
    if not ok:
        want = {
            tuple: "a list of integer epochs",
            float: "a finite number",
            bool: "true or false",
        }.get(kind, "an integer")
        raise ConfigError(f"recipe {name} must be {want}, got {v!r} ({type(v).__name__})")
    check, text = RECIPE_RANGES.get(name, (lambda _: True, ""))
    if not check(v):
        raise ConfigError(f"recipe {name} must be {text}, got {v!r}")
    return v


def check_int(name, value, lo=None, hi=None, none_ok=False):
    """`value` is an integer (not a bool) in lo..hi (None: unbounded); None passes when none_ok."""
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ConfigError(f"{name} must be {rng}, got {value}")
