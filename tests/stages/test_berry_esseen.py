"""Stage `berry_esseen` (all AlexNet layers, batch 8 x 10 minibatches): one layer's quantiles against
`ks_distance_to_normal` of the minibatch matrix and `berry_esseen_bound` of the per-sample moments."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy import stats

from sgnlib.capture import minibatch_gradients, per_sample_moments
from sgnlib.models import weight_layers
from sgnlib.stages import run_stage
from sgnlib.stages.berry_esseen import berry_esseen_table
from sgnlib.stats import A0_SHEVTSOVA, berry_esseen_bound
from sgnlib.stats.berry_esseen import ks_distance_to_normal, null_ks_quantiles


def test_stage_against_direct_computation(make_cfg, ctx, check_rows):
    # n_samples as in test_moments: the Context computes the per-sample moments once for both
    cfg = make_cfg("berry_esseen", batch_size=8, n_batches=10, n_samples=8)
    table = run_stage(cfg, ctx)["berry_esseen"]
    check_rows(table, cfg)
    x, y, _ = ctx.data(cfg)
    model = ctx.model(cfg)
    layers = [n for n, _ in weight_layers(model)]
    assert list(table.layer) == layers
    fracs = table[["frac_ks_below_bound", "frac_bound_below_null_median"]].to_numpy()
    assert ((fracs >= 0) & (fracs <= 1)).all()
    assert (table.ks_q10 <= table.ks_q50).all() and (table.ks_q50 <= table.ks_q90).all()
    assert (table.bound_q10 <= table.bound_q50).all() and (table.bound_q50 <= table.bound_q90).all()
    null50, null90 = null_ks_quantiles(10)
    assert (table.null_ks_q50 == null50).all() and (table.null_ks_q90 == null90).all()

    # Layer 6 recomputed: minibatch seed 1000 * seed, moments of the same n_samples images
    (m,) = [mats["Layer 6"] for mats in minibatch_gradients(model, F.cross_entropy, x, y, 8, 10,
                                                             layers=["Layer 6"], seed=0)]
    ks = ks_distance_to_normal(m)
    ratio = ctx.moments(cfg, model, x, y)["Layer 6"]["beta_over_sigma3"]
    bound = berry_esseen_bound(ratio, 8)
    np.testing.assert_allclose(bound[torch.isfinite(ratio)],
                               A0_SHEVTSOVA * ratio[torch.isfinite(ratio)] / np.sqrt(8), rtol=1e-12)
    ok = torch.isfinite(ks) & torch.isfinite(bound)
    ks, bound = ks[ok].numpy(), bound[ok].numpy()
    row = table[table.layer == "Layer 6"].iloc[0]
    assert row.n_dims == ok.sum() and 0 < row.n_dims <= 2560
    np.testing.assert_allclose([row.ks_q10, row.ks_q50, row.ks_q90], np.quantile(ks, [0.1, 0.5, 0.9]), rtol=1e-12)
    np.testing.assert_allclose([row.bound_q10, row.bound_q50, row.bound_q90], np.quantile(bound, [0.1, 0.5, 0.9]),
                               rtol=1e-12)
    assert row.frac_ks_below_bound == np.mean(ks <= bound)
    assert row.frac_bound_below_null_median == np.mean(bound < null50)
    # and the distance itself: scipy's one-sample KS statistic of a few standardized columns
    m64 = m.double().numpy()
    for j in np.flatnonzero(ok.numpy())[:5]:
        z = (m64[:, j] - m64[:, j].mean()) / m64[:, j].std(ddof=1)
        assert abs(stats.kstest(z, "norm").statistic - float(ks_distance_to_normal(m[:, j:j + 1])[0])) < 1e-9


def test_dead_layer_gives_a_row_with_no_dimensions(make_cfg):
    cfg = make_cfg("berry_esseen", batch_size=8, n_batches=10, n_samples=8)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3072, 4), nn.ReLU(), nn.Linear(4, 10))
    with torch.no_grad():
        model[1].bias.fill_(-1e6)  # the ReLU never fires: every gradient of both layers is 0
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 3, 32, 32, generator=g), torch.randint(0, 10, (40,), generator=g)
    mom = per_sample_moments(model, x, y, n_samples=8)
    assert all(not torch.isfinite(m["beta_over_sigma3"]).any() for m in mom.values())
    table = berry_esseen_table(model, x, y, cfg, mom)
    assert list(table.layer) == ["Layer 1", "Layer 2"] and (table.n_dims == 0).all()
    assert table.ks_q50.isna().all() and table.bound_q50.isna().all()
