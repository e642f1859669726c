"""sgnlib.chapters.training: the quoted facts over training and the runs' final epochs."""
import pandas as pd

from sgnlib.chapters import training as chapter

from .rows import csv


def test_layer_facts_first_last_and_max_per_run_and_missing_nets_skipped(grid):
    g = pd.concat([grid({("Layer 3", 128, 200): v, ("Layer 4", 128, 200): v / 2}, epochs=e)
                   .assign(epochs=30) for e, v in ((0, 10.0), (10, 40.0), (30, 20.0))])
    resnet = pd.concat([grid({("Block 1 Layer 1", 128, 200): v}, model="resnet20", epochs=e)
                        for e, v in ((0, 50.0), (30, 62.0))])
    f = chapter.layer_facts({"gpu-short": pd.concat([g, resnet]), "run": g})
    assert (f["run-alexnet-3-first"], f["run-alexnet-3-last"], f["run-alexnet-3-max"]) == (
        "10.0", "20.0", "40.0")
    assert f["run-alexnet-4-last-epoch"] == "30" and "run-alexnet_bn-3-first" not in f
    assert f["fig6-span-max"] == "12.0" and f["fig6-span-max-layer"] == "Block 1 Layer 1"


def test_training_summary_is_the_last_epoch_of_the_committed_rows():
    s = chapter.training_summary(["cpu"]).set_index("model")
    tr = csv("cpu", "training")
    last = tr[tr.model == "alexnet"].sort_values("epoch").iloc[-1]
    assert s.loc["AlexNet", "epochs"] == last.epoch
    assert s.loc["AlexNet", "test acc."] == f"{last.test_acc:.3f}"


def test_long_run_facts_read_layer_1_at_the_drops(grid):
    g = pd.concat([grid({("Layer 1", 128, 200): float(e), ("Layer 6", 128, 200): 2.0 * e},
                        epochs=e).assign(epochs=300) for e in (100, 150, 200, 225, 300)])
    f = chapter.long_run_facts(g)
    assert (f["t300-l1-150"], f["t300-l1-225"], f["t300-l1-peak"], f["t300-l1-end"]) == (
        "150", "225", "225", "300")
    assert f["t300-l6-end"] == "600"


def test_layer_facts_by_hand_first_last_and_max_per_run_and_missing_nets_skipped():
    rows = []
    for m, vals in (("alexnet", {1: 30.0, 5: 40.0, 10: 12.5}), ("alexnet_bn", {1: 50.0, 10: 60.0})):
        for e, v in vals.items():
            for layer in ("Layer 3", "Layer 4"):
                rows.append({"model": m, "layer": layer, "batch_size": 128, "n_batches": 200,
                             "checkpoint_epoch": e, "gauss_pct_incl_degenerate": v})
    g = pd.DataFrame(rows)
    resnet = pd.DataFrame(
        {
            "model": ["resnet20"] * 2,
            "layer": ["First Layer"] * 2,
            "batch_size": 128,
            "n_batches": 200,
            "checkpoint_epoch": [1, 2],
            "gauss_pct_incl_degenerate": [90.0, 93.5],
        }
    )
    f = chapter.layer_facts({"gpu-short": pd.concat([g, resnet]), "run": g[g.model == "alexnet"]})
    assert (f["run-alexnet-4-first"], f["run-alexnet-4-last"], f["run-alexnet-4-max"]) == (
        "30.0",
        "12.5",
        "40.0",
    )
    assert f["run-alexnet-4-last-epoch"] == "10" and "run-alexnet_bn-4-first" not in f
    assert f["gpu-short-alexnet_bn-3-last"] == "60.0" and f["fig6-span-max"] == "3.5"


def test_batchnorm_facts_before_the_first_drop_and_at_the_end(grid):
    """Values at the last checkpoint before epoch 150 and at the last one; a net whose series
    stops before the drop is left out."""
    g = pd.concat([grid({("Layer 3", 128, 200): float(e), ("Layer 4", 128, 200): e / 2},
                        epochs=e).assign(epochs=300) for e in (100, 149, 150, 300)])
    bn = grid({("Layer 3", 128, 200): 1.0}, model="alexnet_bn", epochs=100).assign(epochs=300)
    f = chapter.batchnorm_facts(pd.concat([g, bn]))
    assert (f["t300-alexnet-l3-before"], f["t300-alexnet-l3-end"]) == ("149.0", "300.0")
    assert (f["t300-alexnet-l4-before"], f["t300-alexnet-l4-end"]) == ("74.5", "150.0")
    assert not any(k.startswith("t300-alexnet_bn") for k in f)
