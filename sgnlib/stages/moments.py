"""Stage `moments`: beta/sigma^3 per weight dimension from per-sample gradients (eq 17-21,
Figs 3-4), BatchNorm in eval mode. Table: `moments`, the non-empty bins of a log-spaced histogram
per layer with its quantiles and the number of point-mass (sigma = 0) dimensions."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from ..stage_context import Context, rows

NAME = "moments"
FIELDS = ("checkpoint_epoch", "n_samples")
VERSION = 1
TABLES = ("moments",)
NOTEBOOK = "noise_capture.ipynb"
READS_TEST_SPLIT = False
RATIO_BINS = np.round(np.logspace(0, 2, 41), 4)   # beta/sigma^3 >= 1 always


def ratio_histogram(layer: str, result: dict) -> list[dict]:
    """Histogram rows of one layer's beta/sigma^3 (a `StreamingMoments.result()`)."""
    ratio = result["beta_over_sigma3"]
    n_point_mass = int((result["sigma2"] == 0).sum())
    ratio = ratio[torch.isfinite(ratio)].cpu().numpy()
    counts, _ = np.histogram(np.clip(ratio, RATIO_BINS[0], RATIO_BINS[-1]), bins=RATIO_BINS)
    qs = np.quantile(ratio, [0.05, 0.25, 0.5, 0.75, 0.95]) if ratio.size else [np.nan] * 5
    common = {"n_finite": ratio.size, "n_point_mass": n_point_mass,
              **{f"q{q:02d}": v for q, v in zip((5, 25, 50, 75, 95), qs)}}
    if not ratio.size:  # no finite ratio (all point masses): one row keeps the layer and its count
        return [{"layer": layer, "bin_lo": np.nan, "bin_hi": np.nan, "count": 0, **common}]
    return [{"layer": layer, "bin_lo": lo, "bin_hi": hi, "count": int(c), **common}
            for lo, hi, c in zip(RATIO_BINS[:-1], RATIO_BINS[1:], counts) if c > 0]


def cost(cfg, images_per_s: float, device_kind: str) -> float:
    """Rough seconds: per-sample gradients, about 20 times a batch pass per image on a CPU."""
    return cfg.n_samples * (20 if device_kind == "cpu" else 1) / images_per_s * 10


def run(cfg, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg)
    model = ctx.model(cfg)
    t0 = time.perf_counter()
    res = ctx.moments(cfg, model, x, y)
    table = pd.DataFrame([r for layer, m in res.items() for r in ratio_histogram(layer, m)])
    return {"moments": rows(table, cfg, ctx.provenance(info), time.perf_counter() - t0,
                            bn_mode="eval")}
