"""Stage `examples`: the noise samples of a few Gaussian (p >= `SIGNIFICANCE_LEVEL`) and
non-Gaussian dimensions per layer (Figs 8-9), `EXAMPLES_PER_KIND` of each, drawn at random (seeded)
among the candidates of each kind, point masses excluded. Table: `examples`, one row per (layer,
dimension, sample)."""
from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ..capture import minibatch_gradients
from ..hyperparameters import CAPTURE_SEED_STRIDE, EXAMPLES_PER_KIND, SIGNIFICANCE_LEVEL
from ..stage_context import Context, rows
from ..stats import mohammadi_alpha, shapiro_wilk

NAME = "examples"
FIELDS = ("checkpoint_epoch", "batch_size", "n_batches", "layers")
# 2: Mohammadi tail index unclipped, block size as Simsekli et al. (largest divisor <= sqrt K)
VERSION = 2
TABLES = ("examples",)
NOTEBOOK = "noise_capture.ipynb"
READS_TEST_SPLIT = False
COLUMNS = ["layer", "dim", "kind", "p", "tail_index_mohammadi", "sample", "noise"]


def cost(cfg, images_per_s: float, device_kind: str) -> float:
    """Rough seconds: one forward and backward pass per minibatch image, plus the tests."""
    return cfg.batch_size * cfg.n_batches / images_per_s + 5


def layer_examples(layer: str, m: torch.Tensor, gen: torch.Generator, per_kind: int) -> list:
    """Sample tables of up to `per_kind` dimensions of each kind of one layer's gradient matrix."""
    res = shapiro_wilk(m)
    noise = (m - m.mean(0)).cpu()
    tail_index = mohammadi_alpha(noise)
    p, deg = res.p.cpu(), res.degenerate.cpu()
    out = []
    level = SIGNIFICANCE_LEVEL
    for kind, mask in (("gaussian", (p >= level) & ~deg), ("non-gaussian", (p < level) & ~deg)):
        cand = torch.nonzero(mask).flatten()
        pick = cand[torch.randperm(cand.numel(), generator=gen)[:per_kind]].sort().values
        for dim in pick.tolist():
            out.append(pd.DataFrame({"layer": layer, "dim": dim, "kind": kind, "p": float(p[dim]),
                                     "tail_index_mohammadi": float(tail_index[dim]),
                                     "sample": range(m.shape[0]), "noise": noise[:, dim].numpy()}))
    return out


def examples_table(model, x, y, cfg, per_kind: int = EXAMPLES_PER_KIND) -> pd.DataFrame:
    out = []
    gen = torch.Generator().manual_seed(cfg.seed)
    layers = list(cfg.layers) if cfg.layers else None
    for mats in minibatch_gradients(model, F.cross_entropy, x, y, cfg.batch_size, cfg.n_batches,
                                    layers=layers, seed=cfg.seed * CAPTURE_SEED_STRIDE):
        for layer, m in mats.items():
            out += layer_examples(layer, m, gen, per_kind)
    if not out:  # no dimension qualifies (all point masses): an empty table with the columns
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(out, ignore_index=True)


def run(cfg, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg)
    model = ctx.model(cfg)
    t0 = time.perf_counter()
    table = examples_table(model, x, y, cfg)
    return {"examples": rows(table, cfg, ctx.provenance(info), time.perf_counter() - t0)}
