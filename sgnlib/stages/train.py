"""Stage `train`: the paper's recipe (SGD, momentum 0.9, weight decay 5e-4, batch 128, lr 0.1 with
decays at 50 % and 75 % of the run), checkpoints at `checkpoint_epochs`. Table: `training`, one row
per epoch (loss, test accuracy, throughput); its provenance names the test split too."""
from __future__ import annotations

import time

import pandas as pd

from ..config import Config
from ..train import train
from .context import Context, rows


def run(cfg: Config, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg, "train")
    xt, yt, test_info = ctx.data(cfg, "test")
    t0 = time.perf_counter()
    out = train(cfg.model, (x, y), (xt, yt), cfg.full_recipe(), seed=cfg.seed, device=ctx.device,
                checkpoint_dir=ctx.checkpoint_folder(cfg), checkpoint_epochs=cfg.checkpoint_epochs, data_info=info,
                progress=ctx.progress)
    return {"training": rows(pd.DataFrame(out["history"]), cfg, ctx.provenance(info, test_info), time.perf_counter() - t0)}
