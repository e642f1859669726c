"""Stage `berry_esseen`: per layer, the Kolmogorov distance of each dimension's minibatch noise to the
normal law beside the eq-13 Berry-Esseen bound from the per-sample beta/sigma^3 at the same checkpoint
(Fig 5). Table: `berry_esseen`, quantiles of both per layer and the share of dimensions below the bound."""
from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ..capture import minibatch_gradients
from ..config import Config
from ..stats import berry_esseen_bound
from ..stats.berry_esseen import ks_distance_to_normal, null_ks_quantiles
from .context import Context, rows


def berry_esseen_table(model, x, y, cfg: Config, mom: dict) -> pd.DataFrame:
    null50, null90 = null_ks_quantiles(cfg.n_batches)
    out = []
    for mats in minibatch_gradients(model, F.cross_entropy, x, y, cfg.batch_size, cfg.n_batches, seed=cfg.seed * 1000):
        for layer, m in mats.items():
            ks = ks_distance_to_normal(m)
            bound = berry_esseen_bound(mom[layer]["beta_over_sigma3"], cfg.batch_size).to(ks.device)
            ok = torch.isfinite(ks) & torch.isfinite(bound)
            ks, bound = ks[ok], bound[ok]
            q = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64, device=ks.device)
            if ks.numel() == 0:  # every dimension a point mass (a dead layer): nothing to compare
                kq = bq = [float("nan")] * 3
            else:
                kq, bq = torch.quantile(ks, q).tolist(), torch.quantile(bound, q).tolist()
            out.append({"layer": layer, "n_dims": int(ok.sum()), "ks_q10": kq[0], "ks_q50": kq[1], "ks_q90": kq[2],
                        "bound_q10": bq[0], "bound_q50": bq[1], "bound_q90": bq[2],
                        "frac_ks_below_bound": float((ks <= bound).double().mean()) if ks.numel() else float("nan"),
                        "frac_bound_below_null_median": float((bound < null50).double().mean()) if ks.numel()
                        else float("nan"),
                        "null_ks_q50": null50, "null_ks_q90": null90})
    return pd.DataFrame(out)


def run(cfg: Config, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg)
    model = ctx.model(cfg)
    t0 = time.perf_counter()
    table = berry_esseen_table(model, x, y, cfg, ctx.moments(cfg, model, x, y))
    return {"berry_esseen": rows(table, cfg, ctx.provenance(info), time.perf_counter() - t0,
                                 bn_mode="train (noise), eval (moments)")}
