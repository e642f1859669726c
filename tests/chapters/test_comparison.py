"""sgnlib.chapters.comparison: ours beside the paper's tables, on hand-made rows."""
import numpy as np
import pytest

from sgnlib import reader
from sgnlib.chapters import comparison as cmp
from sgnlib.chapters.html import ABOVE, BELOW, comparison_html


def test_comparison_delta_and_exceeds(grid):
    # paper Layer 1 at 128/200: 94.79 ± 0.21; Layer 4 at 128/200: 15.68 ± 0.09
    g = grid({("Layer 1", 128, 200): 94.7, ("Layer 4", 128, 200): 10.0}, repeats=(0, 1))
    t = cmp.comparison(g, "alexnet", 200).set_index("layer")
    assert t.loc["Layer 4", "ours_mean"] == pytest.approx(10.5)
    assert t.loc["Layer 4", "ours_std"] == pytest.approx(np.std([10, 11], ddof=1))
    assert t.loc["Layer 4", "delta_pp"] == pytest.approx(10.5 - 15.68)
    assert bool(t.loc["Layer 4", "exceeds"])           # |-5.18| > 0.09 and > 0.71
    assert not bool(t.loc["Layer 1", "exceeds"])       # |0.41| < ours std 0.71
    assert t.loc["Layer 1", "excl_degenerate"] == pytest.approx(94.2)
    assert list(t.repeats) == [2, 2]


def test_comparison_with_one_repeat_compares_with_the_paper_std_only(grid):
    t = cmp.comparison(grid({("Layer 1", 128, 200): 95.5}), "alexnet", 200)
    assert np.isnan(t.ours_std.iloc[0]) and bool(t.exceeds.iloc[0])  # |0.71| > paper std 0.21
    assert not bool(cmp.comparison(grid({("Layer 1", 128, 200): 94.9}), "alexnet", 200)
                    .exceeds.iloc[0])


def test_comparison_none_without_rows_and_paper_layers_filter(grid):
    g = grid({("Layer 1", 128, 200): 90.0})
    assert cmp.comparison(g, "alexnet", 600) is None
    assert cmp.comparison(None, "alexnet", 200) is None
    layers = (
        "First Layer",
        "Block 1 Layer 1",
        "Block 1 Layer 2",
        "Block 3 Layer 18",
        "Final Layer",
    )
    rs = grid({(layer, 64, 200): 90.0 for layer in layers}, model="resnet56")
    t = cmp.comparison(rs, "resnet56", 200, layers="paper")
    assert list(t.layer) == ["First Layer", "Block 1 Layer 1", "Block 3 Layer 18", "Final Layer"]
    assert len(cmp.comparison(rs, "resnet56", 200)) == 5


def test_comparison_html_colours_delta_by_sign_and_size(grid):
    g = grid({("Layer 1", 128, 200): 96.0, ("Layer 4", 128, 200): 10.0})
    t = cmp.comparison(g, "alexnet", 200)
    h = comparison_html(t, "t1", cmp.comparison_caption(1, "alexnet", 200, "gpu-short", g))
    assert f"background:{ABOVE};color:white" in h    # +1.2 > 0.21: ours above, beyond the stds
    assert f"background:{BELOW};color:white" in h    # -5.7
    assert "−5.7" in h and "+1.2" in h and 'id="T_t1"' in h
    assert "NVIDIA H200" in h and "30 of the paper&#x27;s 300 epochs" in h and "1 repeat;" in h
    assert "significance level 0.05" in h


def test_agreement_counts_cells_below_above_and_within(grid):
    paper = reader.paper_tables().query("table == 1 and batch_size == 64").set_index("layer")
    within = paper.gauss_pct_mean["Layer 4"] + paper.gauss_pct_std["Layer 4"] / 2
    g = grid({("Layer 1", 128, 200): 96.0, ("Layer 4", 128, 200): 10.0,   # above, below
              ("Layer 4", 64, 200): within})
    a = cmp.agreement(cmp.comparison(g, "alexnet", 200))
    deltas = sorted([96.0 - 94.79, 10.0 - 15.68, paper.gauss_pct_std["Layer 4"] / 2])
    assert a == {"cells": 3, "below": 1, "above": 1, "within": 1,
                 "median_delta": f"+{deltas[1]:.1f}"}
