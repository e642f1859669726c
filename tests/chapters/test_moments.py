"""sgnlib.chapters.moments: the spines, the Berry-Esseen table and the one-spike ceiling, against
hand-made rows, numpy and the committed moments table."""
import numpy as np
import pandas as pd
import pytest

from sgnlib.chapters import moments as chapter

from .rows import csv


def test_fig5_spines_read_the_quantile_at_the_gaussian_fraction(grid):
    m = pd.DataFrame({"model": "alexnet", "layer": "Layer 4", "bin_lo": [1.0, 2.0, 4.0, 8.0],
                      "bin_hi": [2.0, 4.0, 8.0, 16.0], "count": [10, 20, 30, 40]})  # cdf .1 .3 .6 1
    g = grid({("Layer 4", 64, 200): 5.0, ("Layer 4", 2048, 200): 50.0})
    s = chapter.fig5_spines(m, g, "alexnet", "Layer 4")
    assert list(s.batch_size) == [64, 2048]
    assert list(s.ratio) == [2.0, 8.0]                     # 5 % -> first bin, 50 % -> third
    assert s.paper_frac.tolist() == pytest.approx([0.0537, 0.7372])
    assert list(s.paper_ratio) == [2.0, 16.0]


def test_berry_esseen_table_pairs_distance_and_bound():
    be = pd.DataFrame({"layer": ["Layer 2", "Layer 1", "Layer 1"], "batch_size": [64, 128, 64],
                       "ks_q50": [0.1, 0.04, 0.05], "bound_q50": [0.7, 0.15, 0.2]})
    t = chapter.berry_esseen_table(be)
    assert list(t.index) == [("Layer 1", "distance"), ("Layer 1", "bound"),
                             ("Layer 2", "distance"), ("Layer 2", "bound")]
    assert t.loc[("Layer 1", "bound"), "batch 128"] == "0.150"


@pytest.mark.parametrize("n", [512, 5000])
def test_one_spike_ratio_is_beta_over_sigma3_of_a_single_spike(n):
    x = np.zeros(n)
    x[7] = 3.2
    c = x - x.mean()
    assert chapter.one_spike_ratio(n) == pytest.approx(np.mean(np.abs(c) ** 3) / c.std() ** 3)
    y = np.random.default_rng(0).standard_exponential(n) ** 4   # heavy, but not one spike
    cy = y - y.mean()
    assert np.mean(np.abs(cy) ** 3) / cy.std() ** 3 < chapter.one_spike_ratio(n)
    assert chapter.one_spike_ratio(n) == pytest.approx(np.sqrt(n), rel=2 / n)


def test_ceiling_is_the_committed_q95_and_its_share_the_last_bin():
    m = csv("gpu-short", "moments")
    m4 = m[(m.model == "alexnet") & (m.layer == "Layer 4")]
    top = chapter.one_spike_ratio(int(m4.n_samples.iloc[0]))
    assert m4.q95.iloc[0] == pytest.approx(top, abs=0.01)        # the spike is the ceiling
    last = m4.sort_values("bin_lo").iloc[-1]
    assert last.bin_lo <= top <= last.bin_hi
    share = chapter.ceiling_share(m, "Layer 4")
    assert share == pytest.approx(100 * last["count"] / m4["count"].sum())
