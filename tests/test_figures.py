"""What the figures plot (their data, not pixels): ours and the paper's values where the paper gives them."""
import numpy as np
import pandas as pd
import pytest

from sgnlib import figures, moment_figures, reader


def grid():
    rows = []
    for layer, base in (("Layer 1", 80.0), ("Layer 4", 10.0)):
        for bs in (64, 128, 256, 512):
            for r in range(2):
                rows.append({"model": "alexnet", "stage": "capture", "epochs": 15, "checkpoint_epoch": 15,
                             "layer": layer, "batch_size": bs, "n_batches": 200, "repeat": r,
                             "gauss_pct_incl_degenerate": base + np.log2(bs) + r})
    return pd.DataFrame(rows)


def test_gaussianity_vs_batch_size_plots_our_means_and_the_papers(keep):
    paper = reader.paper_tables()
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
    expect = g[(g.layer == "Layer 4") & (g.batch_size == 128)].groupby("checkpoint_epoch").gauss_pct_incl_degenerate.mean()
    np.testing.assert_allclose(line.get_ydata(), expect.values)


def test_gaussianity_over_epochs_splits_convolutional_and_fully_connected_panels(keep):
    """As the paper's Fig 1: per model the convolutions (Layers 1-5) over the fully connected
    layers, a layer keeping its colour whichever panel it is in."""
    g = grid().assign(checkpoint_epoch=lambda d: d.repeat * 5 + 5, repeat=0)
    g = pd.concat([g, g.assign(model="alexnet_bn")])
    figures.gaussianity_over_epochs(g, ["alexnet", "alexnet_bn"], "e2", "test")
    axes = keep["e2"].axes
    labels = [[ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]
              for ax in axes[:4]]
    conv = sorted(set(g.layer) & set(figures.CONV_LAYERS))
    fc = sorted(set(g.layer) - set(figures.CONV_LAYERS))
    assert [sorted(x) for x in labels] == [conv, conv, fc, fc]
    assert [ax.get_title()[:3] for ax in axes[:4]] == ["(a)", "(c)", "(b)", "(d)"]
    colour = {ln.get_label(): ln.get_color() for ax in axes[:4] for ln in ax.get_lines()}
    assert len({colour[x] for x in conv + fc}) == len(conv + fc)


def test_ratio_histograms_are_normalised_per_layer(keep):
    m = pd.DataFrame({"model": "alexnet", "layer": ["Layer 1"] * 3, "bin_lo": [1.0, 2.0, 4.0],
                      "bin_hi": [2.0, 4.0, 8.0], "count": [1, 3, 6]})
    moment_figures.ratio_histograms(m, "alexnet", "r", "test")
    line = keep["r"].axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [0.1, 0.3, 0.6])
    np.testing.assert_allclose(line.get_xdata(), np.sqrt([2.0, 8.0, 32.0]))


def test_save_returns_the_svg_for_glue(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    monkeypatch.setattr(figures, "FIG_DIR", tmp_path)
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    saved = figures.save(fig, "x")
    svg = saved._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and repr(saved) == "<figure x>"
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg     # no date or version in the bytes
    assert saved.axes[0].get_lines()[0].get_ydata().tolist() == [3, 4]
    fig2, ax2 = plt.subplots()
    ax2.plot([1, 2], [3, 4])
    assert figures.save(fig2, "x")._repr_svg_() == svg  # reproducible bytes


def test_resnet_vs_batch_size_panels_by_block_with_the_papers_values(keep):
    paper = reader.paper_tables()
    layers = ["First Layer", "Block 1 Layer 1", "Block 1 Layer 2", "Block 1 Layer 9", "Final Layer"]
    g = pd.DataFrame([{"model": "resnet56", "stage": "capture", "epochs": 10, "checkpoint_epoch": 10, "layer": l,
                       "batch_size": bs, "n_batches": 200, "repeat": 0, "gauss_pct_incl_degenerate": 50.0 + i + bs / 64}
                      for i, l in enumerate(layers) for bs in (64, 128, 256, 512)])
    figures.resnet_vs_batch_size(g, paper, "r3")
    axes = keep["r3"].axes
    assert [ax.get_title() for ax in axes] == ["first and final", "block 1", "block 2", "block 3"]
    solid = {l.get_label(): l for l in axes[1].get_lines() if l.get_linestyle() == "-"}
    assert set(solid) == {"Block 1 Layer 1", "Block 1 Layer 9"}          # only the paper's layers
    np.testing.assert_allclose(solid["Block 1 Layer 9"].get_ydata(), [53 + bs / 64 for bs in (64, 128, 256, 512)])
    ref = paper[(paper.table == 3) & (paper.layer == "Block 1 Layer 18")].gauss_pct_mean
    dashed = [l for l in axes[1].get_lines() if l.get_linestyle() == "--"]
    assert any(np.allclose(l.get_ydata(), ref) for l in dashed)


def test_resnet_over_epochs_plots_first_and_sixth_convolution_of_each_block(keep):
    rows = [{"model": "resnet20", "layer": l, "checkpoint_epoch": e, "batch_size": 128, "n_batches": 200,
             "gauss_pct_incl_degenerate": 90.0 - e} for l in ("Block 2 Layer 1", "Block 2 Layer 6", "Block 2 Layer 3",
                                                    "First Layer") for e in (1, 2)]
    figures.resnet_over_epochs(pd.DataFrame(rows), "r6")
    labels = [l.get_label() for l in keep["r6"].axes[2].get_lines() if not l.get_label().startswith("_")]
    assert labels == ["Block 2 Layer 1", "Block 2 Layer 6"]
    first = keep["r6"].axes[0].get_lines()[0]
    assert first.get_label() == "First Layer" and list(first.get_ydata()) == [89.0, 88.0]


def test_fig5_spines_are_drawn_at_the_computed_quantiles(keep):
    m = pd.DataFrame({"model": "alexnet", "layer": "Layer 4", "bin_lo": [1.0, 2.0], "bin_hi": [2.0, 4.0],
                      "count": [1, 3]})
    sp = pd.DataFrame({"batch_size": [64, 128], "gauss_frac": [0.1, 0.5], "ratio": [2.0, 4.0],
                       "paper_frac": [0.3, np.nan], "paper_ratio": [4.0, np.nan]})
    moment_figures.fig5_spines(m, {"Layer 4": sp}, "alexnet", "s5")
    lines = keep["s5"].axes[0].get_lines()
    solid = [l.get_xdata()[0] for l in lines if l.get_label().startswith("batch")]
    dashed = [l.get_xdata()[0] for l in lines if l.get_label().startswith("_paper")]
    assert solid == [2.0, 4.0] and dashed == [4.0]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.25, 0.75])     # the histogram, normalised


def test_berry_esseen_layers_one_panel_per_layer(keep):
    be = pd.DataFrame({"layer": ["Layer 1"] * 2 + ["Layer 2"] * 2, "batch_size": [128, 64] * 2,
                       "ks_q50": [0.05, 0.06, 0.1, 0.2], "bound_q50": [0.2, 0.3, 0.5, 0.7], "null_ks_q50": 0.043})
    moment_figures.berry_esseen_layers(be, "be")
    ax = keep["be"].axes[1]
    assert ax.get_title() == "Layer 2"
    solid, dashed, floor = ax.get_lines()[:3]
    assert list(solid.get_xdata()) == [64, 128] and list(solid.get_ydata()) == [0.2, 0.1]
    assert list(dashed.get_ydata()) == [0.7, 0.5] and floor.get_ydata()[0] == 0.043


def test_theory_figures_plot_the_functions_they_are_given(keep):
    figures.berry_esseen_plot(["a"], [1, 4], lambda law, n: 1 / n, lambda law, n: 2 / n, "bt")
    solid, dashed = keep["bt"].axes[0].get_lines()
    assert list(solid.get_ydata()) == [1.0, 0.25] and list(dashed.get_ydata()) == [2.0, 0.5]
    figures.prop2_errors([0.1, 0.01], [0.2, 0.02], [1.0, 1.0], "p2")
    h, i = keep["p2"].axes[0].get_lines()
    assert list(h.get_ydata()) == [0.2, 0.02] and list(i.get_xdata()) == [0.1, 0.01]


def test_training_curve_plots_loss_and_accuracy_in_percent(keep):
    hist = pd.DataFrame({"epoch": [1, 2], "train_loss": [2.0, 1.5], "test_acc": [0.3, 0.45]})
    figures.training_curve(hist, "tc")
    loss, acc = keep["tc"].axes
    assert list(loss.get_lines()[0].get_ydata()) == [2.0, 1.5]
    np.testing.assert_allclose(acc.get_lines()[0].get_ydata(), [30.0, 45.0])
    assert acc.get_lines()[1].get_ydata()[0] == 10     # chance


def test_more_than_eight_categories_must_be_small_multiples():
    with pytest.raises(ValueError, match="small multiples"):
        figures.colours(9)
