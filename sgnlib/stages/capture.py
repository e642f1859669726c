"""Stage `capture`: the minibatch gradient noise at one checkpoint (eq 2-3), tested column by column
with Shapiro-Wilk. Tables: `gaussianity` (one row per layer: Tables 1-4, Figs 1, 2, 6) and
`tail_index` (tail-index histograms per layer: Figs 7 and 9), both from one pass over the minibatches.
The minibatches of repeat r are drawn with seed 1000 * seed + r (protocol in `sgnlib.capture`)."""
from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ..capture import gaussianity_of_noise
from ..config import Config
from .context import Context, rows
from .tail_index import tail_index_histogram


def sgd_continuation(cfg: Config):
    """The optimizer of protocol trajectory=True: the recipe's SGD (momentum, weight decay) at the
    learning rate of the epoch that produced the checkpoint, momentum buffer starting at zero (the
    final checkpoint keeps no optimizer state): training continued from the checkpoint."""
    r = cfg.full_recipe()
    lr = r.lr_at(max(cfg.checkpoint_epoch - 1, 0))
    return lambda params: torch.optim.SGD(params, lr=lr, momentum=r.momentum, weight_decay=r.weight_decay)


def run(cfg: Config, ctx: Context) -> dict[str, pd.DataFrame]:
    """Protocol options (cfg.protocol, see sgnlib.config.PROTOCOL_DEFAULTS): sampling, augment, bn
    (batch or running statistics) go to the capture loop; precision float64 runs model and data in
    float64; trajectory takes an SGD step after every minibatch (`sgd_continuation`)."""
    x, y, info = ctx.data(cfg)
    model = ctx.model(cfg)
    protocol = cfg.full_protocol()
    if protocol.pop("precision") == "float64":
        model, x = model.double(), x.double()
    protocol["trajectory"] = sgd_continuation(cfg) if protocol["trajectory"] else None
    t0 = time.perf_counter()
    table, extras = gaussianity_of_noise(model, F.cross_entropy, x, y, cfg.batch_size, cfg.n_batches,
                                         layers=list(cfg.layers) if cfg.layers else None, seed=cfg.seed * 1000 + cfg.repeat, keep=tail_index_histogram,
                                         progress=ctx.progress, **protocol)
    wall = time.perf_counter() - t0
    prov = ctx.provenance(info)
    tail = pd.concat(extras["kept"].values(), ignore_index=True)
    bn_mode = {"batch": "train", "running": "eval"}[protocol["bn"]]  # the BatchNorm mode, as in other tables
    return {"gaussianity": rows(table, cfg, prov, wall, bn_mode=bn_mode, grad_s=extras["grad_s"],
                                shapiro_s=extras["shapiro_s"]),
            "tail_index": rows(tail, cfg, prov, wall, estimator="mohammadi2015")}
