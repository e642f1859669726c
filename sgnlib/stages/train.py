"""Stage `train`: the paper's recipe (`sgnlib.train.Recipe`), checkpoints at
`checkpoint_epochs`. Table: `training`, one row per epoch (loss, test accuracy, throughput); its
provenance names the test split too."""
from __future__ import annotations

import time

import pandas as pd

from ..stage_context import Context, rows
from ..text_data import n_train_examples
from ..train import train

NAME = "train"
FIELDS = ("checkpoint_epochs",)
VERSION = 1
TABLES = ("training",)
NOTEBOOK = "train.ipynb"
READS_TEST_SPLIT = True  # test_loss, test_acc: the test split enters this stage's ids


def cost(cfg, images_per_s: float, device_kind: str) -> float:
    """Rough seconds: every epoch passes over the training examples (images, or text windows),
    plus 10 % for the test pass."""
    n_train = n_train_examples(cfg.data_source, cfg.subset)
    return cfg.epochs * n_train * 1.1 / images_per_s


def run(cfg, ctx: Context) -> dict[str, pd.DataFrame]:
    x, y, info = ctx.data(cfg, "train")
    xt, yt, test_info = ctx.data(cfg, "test")
    t0 = time.perf_counter()
    out = train(cfg.model, (x, y), (xt, yt), cfg.full_recipe(), seed=cfg.seed, device=ctx.device,
                checkpoint_dir=ctx.checkpoint_folder(cfg), checkpoint_epochs=cfg.checkpoint_epochs,
                data_info=info, progress=ctx.progress)
    table = pd.DataFrame(out["history"])
    return {"training": rows(table, cfg, ctx.provenance(info, test_info), time.perf_counter() - t0)}
