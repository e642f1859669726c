"""Stage `assumption1`: the paper's Assumption 1 (eq 31, C = H near a minimum, which Proposition 2
rests on) measured at a checkpoint by `sgnlib.assumption1.measure` on `n_samples` training images
(drawn with the configuration's seed, no augmentation, whole model in eval mode). Table
`assumption1`: one row per leading eigenpair i = 1..K of H and of C over all parameters (block
"all"), and one row per weight layer (block "Layer 1".., i = 0) with that block's traces; every
row carries its block's traces, their ratio, the top-K alignment and the costs."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from ..assumption1 import measure
from ..models import weight_layers
from ..stage_context import Context, rows

NAME = "assumption1"
FIELDS = ("checkpoint_epoch", "n_samples")
VERSION = 1
TABLES = ("assumption1",)
NOTEBOOK = "noise_capture.ipynb"
READS_TEST_SPLIT = False
K = 5              # leading eigenpairs of H and of C
N_PROBES = 8       # Rademacher probes for tr(H) and tr(C) (per layer from the same probes)
TOL = 1e-2         # eigsh's relative tolerance on the eigenvalues


def cost(cfg, images_per_s: float, device_kind: str) -> float:
    """Rough seconds: about 60 products with H or C, each ~20 passes' worth per image on a CPU."""
    return 60 * cfg.n_samples * (20 if device_kind == "cpu" else 1) / images_per_s + 60


def blocks_of(model) -> dict:
    """{paper layer name: [its weight's parameter name]}."""
    name_of = {id(p): n for n, p in model.named_parameters()}
    return {layer: [name_of[id(w)]] for layer, w in weight_layers(model)}


def block_columns(res: dict, block: str) -> dict:
    """The columns every row of one block carries: sizes, traces, their ratio."""
    tr_h, se_h = res["trace_h"][block]
    tr_c, se_c = res["trace_c"][block]
    return {"block": block, "d": res["d"][block], "trace_h": tr_h, "trace_h_se": se_h,
            "trace_c": tr_c, "trace_c_se": se_c, "trace_ratio": tr_c / tr_h}


def table(res: dict) -> pd.DataFrame:
    """`measure`'s result as rows (the module docstring)."""
    common = {"k": res["k"], "n_samples": res["n"], "n_probes": res["n_probes"],
              "trace_c_exact": res["trace_c_exact"], "overlap": res["overlap"],
              "overlap_random": res["k"] / res["p"], "top_ratio": res["eig_c"][0] / res["eig_h"][0],
              "grad_mean_sq": res["grad_mean_sq"], "matvecs_h": res["matvecs"]["H"],
              "matvecs_c": res["matvecs"]["C"], **{f"{s}_s": v for s, v in res["seconds"].items()}}
    out = [{**block_columns(res, "all"), "i": i + 1, "eig_h": res["eig_h"][i],
            "eig_c": res["eig_c"][i], "c_on_h": res["c_on_h"][i], "cosine": res["cosines"][i],
            **common} for i in range(res["k"])]
    out += [{**block_columns(res, b), "i": 0, "eig_h": np.nan, "eig_c": np.nan, "c_on_h": np.nan,
             "cosine": np.nan, **common} for b in res["d"] if b != "all"]
    return pd.DataFrame(out)


def run(cfg, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg)
    model = ctx.model(cfg)
    t0 = time.perf_counter()
    gen = torch.Generator(device=x.device).manual_seed(cfg.seed)
    pick = torch.randperm(x.shape[0], generator=gen, device=x.device)[:cfg.n_samples]
    res = measure(model, x[pick], y[pick], k=K, n_probes=N_PROBES, blocks=blocks_of(model),
                  chunk=256, seed=cfg.seed, tol=TOL, exact_trace_c=False)
    return {"assumption1": rows(table(res), cfg, ctx.provenance(info), time.perf_counter() - t0,
                                bn_mode="eval", augment=False)}
