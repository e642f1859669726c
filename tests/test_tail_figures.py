"""The tails chapter's figures (Figs 7-9): what they plot, checked on hand-made tables."""
import numpy as np
import pandas as pd
import pytest

from sgnlib import tail_figures
from sgnlib.stats import null_alpha_band


def test_tail_index_histograms_normalise_the_non_gaussian_counts(keep):
    ti = pd.DataFrame({"model": "alexnet", "layer": "Layer 1", "epochs": 5, "checkpoint_epoch": 5, "n_batches": 200,
                       "batch_size": [64, 64, 128], "repeat": 0, "bin_lo": [1.8, 1.9, 1.9], "bin_hi": [1.9, 2.0, 2.0],
                       "count_nongaussian": [1, 3, 2]})
    tail_figures.tail_index_histograms(ti, "alexnet", ["Layer 1"], "ti")
    lines = {l.get_label(): l for l in keep["ti"].axes[0].get_lines()}
    np.testing.assert_allclose(lines["batch 64"].get_ydata(), [0.25, 0.75])
    np.testing.assert_allclose(lines["batch 64"].get_xdata(), [1.85, 1.95])
    np.testing.assert_allclose(lines["batch 128"].get_ydata(), [1.0])


def examples():
    rng = np.random.default_rng(0)
    rows = []
    for kind, dims in (("gaussian", (1, 2)), ("non-gaussian", (3,))):
        for d in dims:
            for bs in (64, 128):
                for s, v in enumerate(rng.normal(size=50) * d):
                    rows.append({"layer": "Layer 1", "batch_size": bs, "kind": kind, "dim": d, "sample": s,
                                 "noise": v, "p": 0.5 if kind == "gaussian" else 0.01, "tail_index_mohammadi": 2.0 - d / 10})
    return pd.DataFrame(rows)


def test_noise_examples_one_histogram_per_dimension(keep):
    ex = examples()
    tail_figures.noise_examples(ex, "Layer 1", 128, "e8")
    axes = keep["e8"].axes
    assert [ax.get_title() for ax in axes[:2]] == ["p=0.5, α=1.90", "p=0.5, α=1.80"]
    assert axes[2].get_title() == "p=0.01, α=1.70" and not axes[3].axison     # 2 x 2 grid, one empty
    counts = sum(p.get_height() for p in axes[0].patches)
    assert counts == 50


def test_noise_across_batch_sizes_standardizes_each_dimension(keep):
    ex = examples()
    tail_figures.noise_across_batch_sizes(ex, "Layer 1", "e9")
    axes = keep["e9"].axes
    assert [ax.get_title() for ax in axes] == ["batch 64, mean α=1.70", "batch 128, mean α=1.70"]
    area = sum(p.get_height() * p.get_width() for p in axes[0].patches)
    assert area == pytest.approx(1.0)             # a density of the standardized noise
    normal = axes[0].get_lines()[0]
    assert normal.get_ydata().max() == pytest.approx(1 / np.sqrt(2 * np.pi), rel=1e-3)


def test_tail_index_histograms_draw_the_null_band_computed_as_the_stage_does(keep):
    ti = pd.DataFrame({"model": "alexnet", "layer": "Layer 1", "epochs": 5, "checkpoint_epoch": 5, "n_batches": 200,
                       "batch_size": 64, "repeat": 0, "bin_lo": [1.8], "bin_hi": [1.9], "count_nongaussian": [1]})
    q05, q50, q95 = null_alpha_band(200, d=4000, seed=0)   # version-1 rows carry no band
    assert tail_figures.null_band_of(ti, 200) == pytest.approx((q05, q50, q95))
    tail_figures.tail_index_histograms(ti, "alexnet", ["Layer 1"], "band")
    ax = keep["band"].axes[0]
    ext = ax.patches[0].get_window_extent()    # a Rectangle or a Polygon, by matplotlib version
    x0, x1 = ax.transData.inverted().transform([[ext.x0, 0], [ext.x1, 0]])[:, 0]
    assert (x0, x1) == pytest.approx((q05, min(q95, 3.0)), rel=1e-6)
    assert ax.get_lines()[0].get_xdata()[0] == pytest.approx(q50)        # the null median, dashed
    assert ax.get_xlim() == (0.0, 3.0) and "clipped to [0, 2]" in keep["band"].legends[0].get_title().get_text()


def test_tail_index_histograms_fold_unclipped_bins_for_display_and_mark_the_pooled_estimate(keep):
    lo = [-np.inf, 0.0, 1.9, 2.9, 3.0]
    hi = [0.0, 0.1, 2.0, 3.0, np.inf]
    rows = []
    for r, pooled in ((0, 1.6), (1, 1.8)):
        rows += [{"model": "alexnet", "layer": "Layer 4", "epochs": 5, "checkpoint_epoch": 5, "n_batches": 200,
                  "batch_size": 128, "repeat": r, "bin_lo": a, "bin_hi": b, "count_nongaussian": c,
                  "tail_index_pooled": pooled, "null_q05": 1.5, "null_q50": 2.0, "null_q95": 3.3}
                 for a, b, c in zip(lo, hi, [1, 1, 4, 1, 3])]
    ti = pd.DataFrame(rows)
    assert tail_figures.null_band_of(ti, 200) == (1.5, 2.0, 3.3)   # the band stored with the rows
    tail_figures.tail_index_histograms(ti, "alexnet", "Layer 4", "fold")
    ax = keep["fold"].axes[0]
    step = next(line for line in ax.get_lines() if line.get_label() == "batch 128")
    np.testing.assert_allclose(step.get_xdata(), [0.05, 1.95, 2.95])   # underflow in [0, .1), overflow at 3
    np.testing.assert_allclose(step.get_ydata(), [4 / 20, 8 / 20, 8 / 20])
    pooled = next(line for line in ax.get_lines() if line.get_marker() == "v")
    assert pooled.get_xdata()[0] == pytest.approx(1.7)                  # mean over repeats
    fig = keep["fold"]
    assert "pooled estimate" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert "beyond 3 drawn at 3" in fig.legends[0].get_title().get_text()
    assert ti.bin_hi.max() == np.inf                                     # the table itself is untouched
