"""Stage `capture`: the minibatch gradient noise at one checkpoint (eq 2-3), tested column by column
with Shapiro-Wilk. Tables: `gaussianity` (one row per layer: Tables 1-4, Figs 1, 2, 6) and
`tail_index` (tail-index histograms per layer: Figs 7 and 9, `sgnlib.tail_histogram`), both from
one pass over the minibatches. The minibatches of repeat r are drawn with seed
`CAPTURE_SEED_STRIDE` * seed + r (protocol in `sgnlib.capture`, defaults in
`sgnlib.hyperparameters`)."""
from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ..capture import gaussianity_of_noise
from ..hyperparameters import CAPTURE_SEED_STRIDE
from ..stage_context import Context, rows
from ..tail_histogram import tail_index_histogram

NAME = "capture"
FIELDS = ("checkpoint_epoch", "batch_size", "n_batches", "repeat", "layers", "protocol")
# 2: Mohammadi tail index unclipped, block size as Simsekli et al. (largest divisor <= sqrt K)
VERSION = 2
TABLES = ("gaussianity", "tail_index")
NOTEBOOK = "noise_capture.ipynb"
READS_TEST_SPLIT = False


def cost(cfg, images_per_s: float, device_kind: str) -> float:
    """Rough seconds: one forward and backward pass per minibatch image, plus the tests."""
    return cfg.batch_size * cfg.n_batches / images_per_s + 5


def sgd_continuation(cfg):
    """The optimizer of protocol trajectory=True: the recipe's SGD (momentum, weight decay) at the
    learning rate of the epoch that produced the checkpoint, momentum buffer starting at zero (the
    final checkpoint keeps no optimizer state): training continued from the checkpoint."""
    r = cfg.full_recipe()
    lr = r.lr_at(max(cfg.checkpoint_epoch - 1, 0))
    return lambda params: torch.optim.SGD(params, lr=lr, momentum=r.momentum,
                                          weight_decay=r.weight_decay)


def prepared(cfg, ctx: Context):
    """(model, images, labels, provenance, loop options) of a capture configuration. Protocol
    options (cfg.protocol, see sgnlib.hyperparameters.CAPTURE_PROTOCOL): inputs picks the images
    (`Context.capture_data`); precision float64 runs model and data in float64; sampling, augment
    and bn (batch or running statistics) go to the capture loop, and trajectory there becomes an
    SGD step after every minibatch (`sgd_continuation`)."""
    x, y, prov = ctx.capture_data(cfg)
    model = ctx.model(cfg)
    protocol = cfg.full_protocol()
    protocol.pop("inputs")  # applied by ctx.capture_data
    if protocol.pop("precision") == "float64":
        model, x = model.double(), x.double()
    protocol["trajectory"] = sgd_continuation(cfg) if protocol["trajectory"] else None
    return model, x, y, prov, protocol


def run(cfg, ctx: Context) -> dict[str, pd.DataFrame]:
    """The capture of one configuration (`prepared` applies its protocol options)."""
    model, x, y, prov, protocol = prepared(cfg, ctx)
    t0 = time.perf_counter()
    layers = list(cfg.layers) if cfg.layers else None
    table, extras = gaussianity_of_noise(model, F.cross_entropy, x, y, cfg.batch_size,
                                         cfg.n_batches, layers=layers,
                                         seed=cfg.seed * CAPTURE_SEED_STRIDE + cfg.repeat,
                                         keep=tail_index_histogram, progress=ctx.progress,
                                         **protocol)
    wall = time.perf_counter() - t0
    tail = pd.concat(extras["kept"].values(), ignore_index=True)
    bn_mode = {"batch": "train", "running": "eval"}[protocol["bn"]]  # as in the other tables
    return {"gaussianity": rows(table, cfg, prov, wall, bn_mode=bn_mode, grad_s=extras["grad_s"],
                                shapiro_s=extras["shapiro_s"]),
            "tail_index": rows(tail, cfg, prov, wall, estimator="mohammadi2015")}
