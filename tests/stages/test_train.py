"""Stage `train`: one row per epoch with the recipe's learning rate, checkpoints at the requested
epochs, and a rerun that resumes from the final checkpoint instead of training again."""
import math

import torch

from sgnlib.stages import run_stage
from sgnlib.train import checkpoint_path


def test_one_row_per_epoch_with_recipe_lr_and_finite_losses(trained, train_cfg, check_rows):
    recipe = train_cfg.full_recipe()
    assert list(trained.epoch) == [1, 2]
    # the 2-epoch schedule scales the milestones 150/300, 225/300 to epochs 1 and 2
    assert list(trained.lr) == [recipe.lr_at(0), recipe.lr_at(1)] == [0.1, 0.1 * recipe.lr_decay]
    for col in ("train_loss", "test_loss"):
        assert all(math.isfinite(v) for v in trained[col]), col
    # ten classes, barely trained: the loss is near log(10)
    assert abs(trained.train_loss.iloc[0] - math.log(10)) < 0.5
    assert ((trained.test_acc >= 0) & (trained.test_acc <= 1)).all()
    check_rows(trained, train_cfg)
    assert (trained.checkpoint_epochs == "[1, 2]").all()


def test_checkpoints_for_requested_epochs(trained, train_cfg, ctx):
    folder = ctx.checkpoint_folder(train_cfg)
    assert folder.name == train_cfg.checkpoint_key()
    for epoch in (1, 2):
        path = checkpoint_path(folder, "alexnet", 0, epoch)
        assert path.is_file() and path == ctx.checkpoint_file(train_cfg, epoch)
        ck = torch.load(path, map_location="cpu", weights_only=True)
        assert (ck["model"], ck["epoch"], ck["seed"]) == ("alexnet", epoch, 0)
        assert ck["data_sha256"] == train_cfg.data_sha256
        assert [r["epoch"] for r in ck["history"]] == list(range(1, epoch + 1))
    assert sorted(p.name for p in folder.glob("*.pt")) == ["alexnet-seed0-epoch001.pt", "alexnet-seed0-epoch002.pt"]


def test_rerun_resumes_from_final_checkpoint_and_returns_same_rows(trained, train_cfg, ctx, strip_timing):
    folder = ctx.checkpoint_folder(train_cfg)
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pt")}
    again = run_stage(train_cfg, ctx)["training"]
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pt")} == before  # nothing rewritten
    # the per-epoch timings come from the stored history, so even they are unchanged: no retraining
    assert list(again.epoch_s) == list(trained.epoch_s)
    assert list(again.columns) == list(trained.columns)
    a, b = strip_timing(trained), strip_timing(again)
    assert a.equals(b), (a.compare(b) if a.shape == b.shape else (a.shape, b.shape))
