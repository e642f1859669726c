"""Stage `examples`: the noise samples of a few Gaussian (p >= 0.05) and non-Gaussian dimensions per
layer (Figs 8-9), drawn at random (seeded) among the candidates of each kind, point masses excluded.
Table: `examples`, one row per (layer, dimension, sample)."""
from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ..capture import minibatch_gradients
from ..config import Config
from ..stats import mohammadi_alpha, shapiro_wilk
from .context import Context, rows


def examples_table(model, x, y, cfg: Config, per_kind: int = 5) -> pd.DataFrame:
    out = []
    gen = torch.Generator().manual_seed(cfg.seed)
    for mats in minibatch_gradients(model, F.cross_entropy, x, y, cfg.batch_size, cfg.n_batches,
                                    layers=list(cfg.layers) if cfg.layers else None, seed=cfg.seed * 1000):
        for layer, m in mats.items():
            res = shapiro_wilk(m)
            noise = (m - m.mean(0)).cpu()
            tail_index = mohammadi_alpha(noise)
            p, deg = res.p.cpu(), res.degenerate.cpu()
            for kind, mask in (("gaussian", (p >= 0.05) & ~deg), ("non-gaussian", (p < 0.05) & ~deg)):
                cand = torch.nonzero(mask).flatten()
                pick = cand[torch.randperm(cand.numel(), generator=gen)[:per_kind]].sort().values
                for dim in pick.tolist():
                    out.append(pd.DataFrame({"layer": layer, "dim": dim, "kind": kind, "p": float(p[dim]),
                                             "tail_index_mohammadi": float(tail_index[dim]),
                                             "sample": range(m.shape[0]), "noise": noise[:, dim].numpy()}))
    if not out:  # no dimension qualifies (all point masses): an empty table with the columns
        return pd.DataFrame(columns=["layer", "dim", "kind", "p", "tail_index_mohammadi", "sample", "noise"])
    return pd.concat(out, ignore_index=True)


def run(cfg: Config, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg)
    model = ctx.model(cfg)
    t0 = time.perf_counter()
    return {"examples": rows(examples_table(model, x, y, cfg), cfg, ctx.provenance(info), time.perf_counter() - t0)}
