"""sgnlib.chapters.resnet: Table 3's facts on hand-made rows and against the committed rows."""
import pytest

from sgnlib import reader
from sgnlib.chapters import resnet as chapter
from sgnlib.chapters.comparison import comparison

from .rows import csv


def test_facts_on_hand_made_rows(grid):
    g = grid({(layer, bs, 200): v + bs / 64 for layer, v in
              (("First Layer", 80.0), ("Block 1 Layer 1", 60.0), ("Final Layer", 20.0))
              for bs in (64, 128)}, model="resnet56")
    f = chapter.facts(comparison(g, "resnet56", 200, layers="paper"))
    assert f["t3-conv-64-min"] == "61.0" and f["t3-conv-64-max"] == "81.0"  # Final Layer left out
    assert f["t3-rises"] == "3" and f["t3-layers"] == "3" and f["t3-cells"] == "6"


def test_table_3_cell_is_the_mean_of_the_committed_rows():
    t3 = comparison(chapter.gaussianity(), "resnet56", 200).set_index(["layer", "batch_size"])
    raw = reader.without_options(csv("gpu-short", "gaussianity"))
    raw = raw[(raw.model == "resnet56") & (raw.layer == "First Layer") & (raw.batch_size == 64)
              & (raw.n_batches == 200) & (raw.checkpoint_epoch == raw.epochs)
              & (raw.stage == "capture")]
    assert t3.loc[("First Layer", 64)].ours_mean == pytest.approx(
        raw.gauss_pct_incl_degenerate.mean())
