"""What the figures plot (their data, not pixels): ours and the paper's values where the paper gives them."""
import numpy as np
import pandas as pd
import pytest

from sgnlib import figures, report


@pytest.fixture()
def keep(monkeypatch):
    """Capture the figure instead of saving it."""
    out = {}
    monkeypatch.setattr(figures, "save", lambda fig, name: out.setdefault(name, fig))
    return out


def grid():
    rows = []
    for layer, base in (("Layer 1", 80.0), ("Layer 4", 10.0)):
        for bs in (64, 128, 256, 512):
            for r in range(2):
                rows.append({"model": "alexnet", "stage": "capture", "epochs": 15, "checkpoint_epoch": 15,
                             "layer": layer, "batch_size": bs, "n_batches": 200, "repeat": r,
                             "gauss_pct_paper": base + np.log2(bs) + r})
    return pd.DataFrame(rows)


def test_gaussianity_vs_batch_size_plots_our_means_and_the_papers(keep):
    paper = report.paper_tables()
    figures.gaussianity_vs_batch_size(grid(), paper, "alexnet", "t", "test")
    ax = keep["t"].axes[0]
    lines = {(line.get_label(), line.get_linestyle()): line for line in ax.get_lines()}
    ours = lines[("Layer 1", "-")]
    assert list(ours.get_xdata()) == [64, 128, 256, 512]
    np.testing.assert_allclose(ours.get_ydata(), [80 + np.log2(b) + 0.5 for b in (64, 128, 256, 512)])
    ref = paper[(paper.model == "alexnet") & (paper.n_batches == 200) & (paper.layer == "Layer 1")]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert any(np.allclose(line.get_ydata(), ref.gauss_pct_mean) for line in dashed)


def test_gaussianity_over_epochs_plots_each_checkpoint(keep):
    g = grid().assign(checkpoint_epoch=lambda d: d.repeat * 5 + 5, repeat=0)
    figures.gaussianity_over_epochs(g, ["alexnet"], "e", "test")
    line = next(line for line in keep["e"].axes[0].get_lines() if line.get_label() == "Layer 4")
    assert list(line.get_xdata()) == [5, 10]
    expect = g[(g.layer == "Layer 4") & (g.batch_size == 128)].groupby("checkpoint_epoch").gauss_pct_paper.mean()
    np.testing.assert_allclose(line.get_ydata(), expect.values)


def test_ratio_histograms_are_normalised_per_layer(keep):
    m = pd.DataFrame({"model": "alexnet", "layer": ["Layer 1"] * 3, "bin_lo": [1.0, 2.0, 4.0],
                      "bin_hi": [2.0, 4.0, 8.0], "count": [1, 3, 6]})
    figures.ratio_histograms(m, "alexnet", "r", "test")
    line = keep["r"].axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [0.1, 0.3, 0.6])
    np.testing.assert_allclose(line.get_xdata(), np.sqrt([2.0, 8.0, 32.0]))
