"""sgnlib.chapters.alexnet: Tables 1-2 and the quoted facts, against the committed rows read with
pandas directly and on hand-made rows."""
import pandas as pd
import pytest

from sgnlib import reader
from sgnlib.chapters import alexnet as chapter
from sgnlib.chapters.comparison import comparison

from .rows import csv


def test_table_1_cell_is_the_mean_of_the_committed_rows():
    """Layer 4 at batch 128 of Table 1 (gpu-short), recomputed from the results CSV."""
    g = chapter.gaussianity()
    t1 = comparison(g["gpu-short"], "alexnet", 200).set_index(["layer", "batch_size"])
    raw = csv("gpu-short", "gaussianity")
    raw = raw[(raw.model == "alexnet") & (raw.layer == "Layer 4") & (raw.batch_size == 128)
              & (raw.n_batches == 200) & (raw.checkpoint_epoch == raw.epochs)
              & (raw.stage == "capture")]
    raw = reader.without_options(raw)
    cell = t1.loc[("Layer 4", 128)]
    assert cell.ours_mean == pytest.approx(raw.gauss_pct_incl_degenerate.mean())
    assert cell.repeats == len(raw)
    paper = reader.paper_tables().query("table == 1 and layer == 'Layer 4' and batch_size == 128")
    assert cell.paper_mean == paper.gauss_pct_mean.iloc[0]


def test_table_facts_on_hand_made_rows(grid):
    g = grid({(l, bs, nb): v + bs / 64 for (l, v) in (("Layer 1", 90.0), ("Layer 4", 5.0))
              for bs in (64, 128, 2048) for nb in (200, 600)})
    early = g[g.batch_size == 128].assign(checkpoint_epoch=1, gauss_pct_incl_degenerate=30.0)
    g = pd.concat([g, early])
    t1, t2 = comparison(g, "alexnet", 200), comparison(g, "alexnet", 600)
    f = chapter.table_facts(g, t1, t2, t1)
    assert f["t1-l4-64"] == "6.0" and f["t1-l4-2048-paper"] == "73.72"
    assert f["l4-128-paper"] == "15.68"
    assert (f["l4-first-epoch"], f["l4-first"], f["l4-last-epoch"], f["l4-last"]) == (
        "1", "30.0", "30", "7.0")
    assert f["lower-600"] == "0" and f["lower-600-n"] == "6" and f["t1-cells"] == "6"
    assert int(f["t1-below"]) + int(f["t1-above"]) + int(f["t1-within"]) == 6
    fx = chapter.table_facts(g, t1, t2, t1, t1x=t1)
    assert fx["t1x-l4-2048"] == "37.0" and fx["t1x-l1-64"] == "91.0" and fx["t1x-cells"] == "6"
    assert "t1x-cells" not in f


def test_long_run_facts_against_the_training_csv():
    g = chapter.gaussianity()
    f = chapter.long_run_facts(g["cpu-300"])
    tr = csv("cpu-300", "training")
    tr = tr[tr.model == "alexnet"]
    assert f["t300-loss"] == f"{tr.sort_values('epoch').train_loss.iloc[-1]:.2f}"
