"""Stage `berry_esseen`: per layer, the Kolmogorov distance of each dimension's minibatch noise to
the normal law beside the eq-13 Berry-Esseen bound from the per-sample beta/sigma^3 at the same
checkpoint (Fig 5). Table: `berry_esseen`, quantiles of both per layer and the share of dimensions
below the bound."""
from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ..capture import minibatch_gradients
from ..hyperparameters import CAPTURE_SEED_STRIDE
from ..stage_context import Context, rows
from ..stats import berry_esseen_bound
from ..stats.berry_esseen import ks_distance_to_normal, null_ks_quantiles

NAME = "berry_esseen"
FIELDS = ("checkpoint_epoch", "batch_size", "n_batches", "n_samples")
VERSION = 1
TABLES = ("berry_esseen",)
NOTEBOOK = "noise_capture.ipynb"
READS_TEST_SPLIT = False


def cost(cfg, images_per_s: float, device_kind: str) -> float:
    """Rough seconds: one forward and backward pass per minibatch image, plus the tests."""
    return cfg.batch_size * cfg.n_batches / images_per_s + 5


def _share(mask: torch.Tensor) -> float:
    return float(mask.double().mean()) if mask.numel() else float("nan")


def layer_row(layer: str, ks: torch.Tensor, bound: torch.Tensor, null50: float,
              null90: float) -> dict:
    """One layer's row: quantiles of the distances and of the bounds over its finite dimensions."""
    ok = torch.isfinite(ks) & torch.isfinite(bound)
    ks, bound = ks[ok], bound[ok]
    q = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64, device=ks.device)
    if ks.numel() == 0:  # every dimension a point mass (a dead layer): nothing to compare
        kq = bq = [float("nan")] * 3
    else:
        kq, bq = torch.quantile(ks, q).tolist(), torch.quantile(bound, q).tolist()
    return {"layer": layer, "n_dims": int(ok.sum()), "ks_q10": kq[0], "ks_q50": kq[1],
            "ks_q90": kq[2], "bound_q10": bq[0], "bound_q50": bq[1], "bound_q90": bq[2],
            "frac_ks_below_bound": _share(ks <= bound),
            "frac_bound_below_null_median": _share(bound < null50),
            "null_ks_q50": null50, "null_ks_q90": null90}


def berry_esseen_table(model, x, y, cfg, mom: dict) -> pd.DataFrame:
    null50, null90 = null_ks_quantiles(cfg.n_batches)
    out = []
    for mats in minibatch_gradients(model, F.cross_entropy, x, y, cfg.batch_size, cfg.n_batches,
                                    seed=cfg.seed * CAPTURE_SEED_STRIDE):
        for layer, m in mats.items():
            ks = ks_distance_to_normal(m)
            bound = berry_esseen_bound(mom[layer]["beta_over_sigma3"], cfg.batch_size).to(ks.device)
            out.append(layer_row(layer, ks, bound, null50, null90))
    return pd.DataFrame(out)


def run(cfg, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg)
    model = ctx.model(cfg)
    t0 = time.perf_counter()
    table = berry_esseen_table(model, x, y, cfg, ctx.moments(cfg, model, x, y))
    return {"berry_esseen": rows(table, cfg, ctx.provenance(info), time.perf_counter() - t0,
                                 bn_mode="train (noise), eval (moments)")}
