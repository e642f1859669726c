"""Stage `moments`: `ratio_histogram` on hand-made moments, and the stage's table against beta/sigma^3
recomputed from per-sample gradients taken one image at a time (an independent reference)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sgnlib.models import weight_layers
from sgnlib.stages import run_stage
from sgnlib.stages.moments import RATIO_BINS, ratio_histogram

N_SAMPLES = 8  # as the Berry-Esseen test, so the Context's cached moments are shared


def test_ratio_histogram_hand_made():
    g = np.random.default_rng(0)
    ratio = 1 + g.exponential(2.0, 500)
    ratio[:3] = [0.5, 1.0, 250.0]                     # below / at / above the bin range: clipped in
    sigma2 = g.uniform(0.1, 1, 500)
    sigma2[10:17] = 0.0                                # point masses: NaN ratios
    ratio[10:17] = np.nan
    ratio[20:22] = np.inf                              # e.g. an overflow: not finite, not a point mass
    res = {"beta_over_sigma3": torch.from_numpy(ratio), "sigma2": torch.from_numpy(sigma2)}
    out = ratio_histogram("L", res)
    finite = ratio[np.isfinite(ratio)]
    assert sum(r["count"] for r in out) == finite.size == 500 - 7 - 2
    assert all(r["n_finite"] == finite.size and r["n_point_mass"] == 7 and r["layer"] == "L" for r in out)
    ref_q = np.quantile(finite, [0.05, 0.25, 0.5, 0.75, 0.95])
    for r in out:
        np.testing.assert_allclose([r["q05"], r["q25"], r["q50"], r["q75"], r["q95"]], ref_q, rtol=0, atol=0)
    c, _ = np.histogram(np.clip(finite, 1, 100), bins=RATIO_BINS)
    assert [r["count"] for r in out] == [int(v) for v in c if v > 0]
    assert [(r["bin_lo"], r["bin_hi"]) for r in out] == [(lo, hi) for lo, hi, v in
                                                         zip(RATIO_BINS[:-1], RATIO_BINS[1:], c) if v > 0]
    assert out[0]["bin_lo"] == 1.0 and out[-1]["bin_hi"] == 100.0   # the clipped extremes
    assert out[0]["count"] >= 2 and out[-1]["count"] == 1


@pytest.fixture(scope="module")
def stage(make_cfg, ctx):
    cfg = make_cfg("moments", n_samples=N_SAMPLES)
    return cfg, run_stage(cfg, ctx)["moments"]


def test_stage_counts_sum_to_n_finite_per_layer(stage, ctx, check_rows):
    cfg, table = stage
    check_rows(table, cfg)
    assert (table.bn_mode == "eval").all()
    d = {name: p.numel() for name, p in weight_layers(ctx.model(cfg))}
    assert list(table.layer.unique()) == list(d)
    for layer, g in table.groupby("layer", sort=False):
        assert g.n_finite.nunique() == 1 and g.n_point_mass.nunique() == 1
        assert g["count"].sum() == g.n_finite.iloc[0]
        assert g.n_finite.iloc[0] + g.n_point_mass.iloc[0] == d[layer]     # NaN ratio <=> sigma = 0
        assert (g.q05 >= 1 - 1e-9).all()                                      # Lyapunov: beta/sigma^3 >= 1
        assert g[["q05", "q25", "q50", "q75", "q95"]].iloc[0].is_monotonic_increasing


def test_stage_matches_per_image_gradients(stage, ctx):
    """Layer 6 beta/sigma^3 from N_SAMPLES ordinary backward passes of one image each (eval mode)."""
    cfg, table = stage
    x, y, _ = ctx.data(cfg)
    model = ctx.model(cfg).eval()
    pick = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(cfg.seed))[:N_SAMPLES]
    w = dict(weight_layers(model))["Layer 6"]
    g = []
    for i in pick.tolist():
        loss = F.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
        g.append(torch.autograd.grad(loss, w)[0].flatten().double().numpy())
    g = np.stack(g)
    dg = g - g.mean(0)
    sigma2 = (dg ** 2).mean(0)
    beta = np.abs(dg ** 3).mean(0)
    # sigma exactly 0: every image gave the same gradient (a dead unit)
    point = np.ptp(g, axis=0) == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = beta[~point] / sigma2[~point] ** 1.5
    row = table[table.layer == "Layer 6"].iloc[0]
    assert row.n_point_mass == point.sum() and row.n_finite == ratio.size
    np.testing.assert_allclose(row[["q05", "q25", "q50", "q75", "q95"]].astype(float),
                               np.quantile(ratio, [0.05, 0.25, 0.5, 0.75, 0.95]), rtol=1e-4)
    c, _ = np.histogram(np.clip(ratio, 1, 100), bins=RATIO_BINS)
    got = table[table.layer == "Layer 6"]["count"].to_numpy()
    np.testing.assert_array_equal(got, c[c > 0])
