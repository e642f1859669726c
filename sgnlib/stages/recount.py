"""Stage `recount`: one capture's minibatch gradients (the same minibatches as stage `capture`
with the same configuration) counted under several rules, each a row per layer and `variant`:

    variant           what changes before or in the count
    as_captured       nothing: the numbers of stage `capture` (the paper's rule and the others)
    near_constant     columns whose gradients are one identical value in at least
                      NEAR_CONSTANT_SHARE of the minibatches count as point masses too
    float16           gradients rounded to float16 before the test (no loss scaling: magnitudes
                      below 6e-8 flush to zero, as an unscaled half-precision gradient would)
    bfloat16          gradients rounded to bfloat16 (float32's range, 8 bits of mantissa)
    p_nan_accepted    p-values that are not finite count as "not rejected"

Rounding and counting happen on the same gradient matrices, so differences between variants are
due to the rule alone, not to another draw of minibatches. Table: `recount` (the gaussianity
table's columns plus `variant`, `n_p_nonfinite` and `near_constant_share`)."""
from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ..capture import minibatch_gradients
from ..hyperparameters import CAPTURE_SEED_STRIDE, NEAR_CONSTANT_SHARE, SIGNIFICANCE_LEVEL
from ..stage_context import Context, rows
from ..stats import layer_gaussianity, mode_share_at_least, shapiro_wilk
from .capture import prepared

NAME = "recount"
FIELDS = ("checkpoint_epoch", "batch_size", "n_batches", "repeat", "layers", "protocol")
VERSION = 1
TABLES = ("recount",)
NOTEBOOK = "noise_capture.ipynb"
READS_TEST_SPLIT = False
VARIANTS = ("as_captured", "near_constant", "float16", "bfloat16", "p_nan_accepted")
MAX_BYTES = 2e9  # gradient matrices per pass: each is copied for the rounded variants


def cost(cfg, images_per_s: float, device_kind: str) -> float:
    """Rough seconds: one capture pass plus three Shapiro-Wilk passes."""
    return cfg.batch_size * cfg.n_batches / images_per_s + 30


def _row(layer: str, variant: str, p, point_mass, level: float) -> dict:
    return {"layer": layer, "variant": variant, **layer_gaussianity(p, point_mass, level),
            "n_p_nonfinite": int((~torch.isfinite(p)).sum())}


def recount_layer(layer: str, m: torch.Tensor, level: float = SIGNIFICANCE_LEVEL,
                  share: float = NEAR_CONSTANT_SHARE) -> list[dict]:
    """The rows of every variant for one layer's [n_batches, d] gradient matrix."""
    res = shapiro_wilk(m)
    near = mode_share_at_least(m, share) | res.degenerate
    out = [_row(layer, "as_captured", res.p, res.degenerate, level),
           _row(layer, "near_constant", res.p, near, level)]
    for dtype, variant in ((torch.float16, "float16"), (torch.bfloat16, "bfloat16")):
        r = shapiro_wilk(m.to(dtype).to(m.dtype))
        out.append(_row(layer, variant, r.p, r.degenerate, level))
    p = torch.where(torch.isfinite(res.p), res.p, torch.ones_like(res.p))
    out.append(_row(layer, "p_nan_accepted", p, res.degenerate, level))
    return out


def run(cfg, ctx: Context) -> dict[str, pd.DataFrame]:
    """The capture's protocol options apply as in stage `capture` (`capture.prepared`)."""
    model, x, y, prov, protocol = prepared(cfg, ctx)
    t0 = time.perf_counter()
    layers = list(cfg.layers) if cfg.layers else None
    out = []
    for mats in minibatch_gradients(model, F.cross_entropy, x, y, cfg.batch_size, cfg.n_batches,
                                    layers, seed=cfg.seed * CAPTURE_SEED_STRIDE + cfg.repeat,
                                    max_bytes=MAX_BYTES, progress=ctx.progress, **protocol):
        for name in list(mats):
            out += recount_layer(name, mats.pop(name))
    table = pd.DataFrame(out).assign(near_constant_share=NEAR_CONSTANT_SHARE)
    bn_mode = {"batch": "train", "running": "eval"}[protocol["bn"]]
    return {"recount": rows(table, cfg, prov, time.perf_counter() - t0, bn_mode=bn_mode)}
