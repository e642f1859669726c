"""Stage `capture`: the Gaussianity and tail-index tables against `gaussianity_of_noise`,
`minibatch_gradients` and `shapiro_wilk` run directly on the same checkpoint, with the minibatch seed
1000 * seed + repeat. Layers 5 and 6 only (590k + 2.6k weights, many point masses) to stay fast on the CPU."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sgnlib.capture import gaussianity_of_noise, minibatch_gradients
from sgnlib.stages import Context, run_stage
from sgnlib.tail_histogram import ALPHA_BINS
from sgnlib.stats import mohammadi_alpha, mohammadi_alpha_pooled, null_alpha_band, shapiro_wilk

LAYERS = ("Layer 5", "Layer 6")
GAUSS = ["gauss_pct_incl_degenerate", "gauss_pct_excl_degenerate", "degenerate_pct", "gauss_pct_fdr"]


@pytest.fixture(scope="module")
def capture(make_cfg, ctx):
    def cfg(repeat, **kw):
        return make_cfg("capture", batch_size=8, n_batches=10, repeat=repeat, layers=LAYERS, **kw)
    runs = {name: run_stage(c, ctx) for name, c in (("r0", cfg(0)), ("r0_again", cfg(0)), ("r1", cfg(1)))}
    return cfg, runs


@pytest.fixture(scope="module")
def matrices(capture, ctx):
    """Repeat 0's gradient matrices, straight from `minibatch_gradients`."""
    cfg0 = capture[0](0)
    x, y, _ = ctx.data(cfg0)
    out = {}
    for mats in minibatch_gradients(ctx.model(cfg0), F.cross_entropy, x, y, 8, 10, layers=list(LAYERS), seed=0):
        out.update(mats)
    return out


def test_gaussianity_equals_direct_call_and_recount(capture, ctx, matrices, check_rows):
    cfg, runs = capture
    g = runs["r0"]["gaussianity"]
    check_rows(g, cfg(0))
    x, y, _ = ctx.data(cfg(0))
    ref, _ = gaussianity_of_noise(ctx.model(cfg(0)), F.cross_entropy, x, y, 8, 10, layers=list(LAYERS), seed=0)
    assert list(g.layer) == list(ref.layer) == list(LAYERS)
    assert list(g.d) == list(ref.d) == [589824, 2560]
    for col in GAUSS:
        assert list(g[col]) == list(ref[col]), col
    for _, row in g.iterrows():  # the percentages from the p-values themselves
        res = shapiro_wilk(matrices[row.layer])
        p, deg = res.p.numpy(), res.degenerate.numpy()
        assert row.gauss_pct_excl_degenerate == 100.0 * ((p >= 0.05) & ~deg).sum() / p.size
        assert row.gauss_pct_incl_degenerate == 100.0 * ((p >= 0.05) | deg).sum() / p.size
        assert row.degenerate_pct == 100.0 * deg.sum() / p.size
    assert (g.bn_mode == "train").all() and (g.layers == '["Layer 5", "Layer 6"]').all()


def test_tail_index_counts_against_shapiro_on_minibatch_gradients(capture, matrices, check_rows):
    cfg, runs = capture
    t = runs["r0"]["tail_index"]
    check_rows(t, cfg(0))
    assert (t.estimator == "mohammadi2015").all() and cfg(0).identity()["stage_version"] == 2  # in the id
    assert list(t.layer.unique()) == list(LAYERS)
    for layer, h in t.groupby("layer", sort=False):
        m = matrices[layer]
        res = shapiro_wilk(m)
        noise = m - m.mean(0)
        alpha = mohammadi_alpha(noise).numpy()  # unclipped; NaN on point masses
        pm = np.isnan(alpha) | res.degenerate.numpy()
        nongauss = (res.p.numpy() < 0.05) & ~pm
        assert len(h) == len(ALPHA_BINS) - 1 and (h.d == m.shape[1]).all() and (h.k1 == 2).all()  # K = 10
        assert (h.n_point_mass == pm.sum()).all() and pm.sum() > 0  # ReLU layers: dead units
        assert h.count_all.sum() + pm.sum() == m.shape[1]
        assert h.count_nongaussian.sum() == nongauss.sum()
        np.testing.assert_array_equal(h.count_all, np.histogram(alpha[~pm], bins=ALPHA_BINS)[0])
        np.testing.assert_array_equal(h.count_nongaussian, np.histogram(alpha[nongauss], bins=ALPHA_BINS)[0])
        np.testing.assert_array_equal(h.bin_lo, ALPHA_BINS[:-1])
        assert h.tail_index_pooled.iloc[0] == pytest.approx(mohammadi_alpha_pooled(noise))
        np.testing.assert_allclose(h[["null_q05", "null_q50", "null_q95"]].iloc[0].astype(float), null_alpha_band(10))


def test_two_runs_identical_and_repeats_differ(capture, strip_timing):
    cfg, runs = capture
    for table in ("gaussianity", "tail_index"):
        a, b = strip_timing(runs["r0"][table]), strip_timing(runs["r0_again"][table])
        assert a.equals(b), table
    g0, g1 = runs["r0"]["gaussianity"], runs["r1"]["gaussianity"]
    assert cfg(0).config_id != cfg(1).config_id and (g1.repeat == 1).all()
    assert not np.array_equal(g0[GAUSS].to_numpy(), g1[GAUSS].to_numpy())
    t0, t1 = runs["r0"]["tail_index"], runs["r1"]["tail_index"]
    assert not (len(t0) == len(t1) and np.array_equal(t0.count_all, t1.count_all)
                and np.array_equal(t0.count_nongaussian, t1.count_nongaussian))


def test_minibatch_seed_is_1000_seed_plus_repeat(capture, ctx, train_cfg, make_cfg, tmp_path):
    """Seed 1, repeat 1 must draw the minibatches of seed 1001. The seed-1 checkpoint is the seed-0
    weights relabelled (the seed enters the checkpoint's folder, name and metadata), so nothing is retrained."""
    cfg, runs = capture
    cfg11 = make_cfg("capture", batch_size=8, n_batches=10, repeat=1, layers=LAYERS, seed=1)
    mine = Context("cpu", tmp_path / "ck")
    ck = torch.load(ctx.checkpoint_file(cfg(0)), map_location="cpu", weights_only=True)
    ck["seed"] = 1
    path = mine.checkpoint_file(cfg11)
    path.parent.mkdir(parents=True)
    torch.save(ck, path)
    g = run_stage(cfg11, mine)["gaussianity"]
    x, y, _ = mine.data(cfg11)
    ref, _ = gaussianity_of_noise(mine.model(cfg11), F.cross_entropy, x, y, 8, 10, layers=list(LAYERS), seed=1001)
    for col in GAUSS:
        assert list(g[col]) == list(ref[col]), col
    # same weights as seed 0, so seed 0 repeat 1 (minibatch seed 1) is a different draw
    assert not np.array_equal(g[GAUSS].to_numpy(), runs["r1"]["gaussianity"][GAUSS].to_numpy())


def test_initialization_needs_no_checkpoint_and_equals_a_direct_capture(make_cfg, tmp_path):
    """checkpoint_epoch 0: the capture reads `initial_model` (no checkpoint folder is created or read)."""
    from sgnlib.train import initial_model
    cfg0 = make_cfg("capture", batch_size=8, n_batches=10, repeat=0, layers=LAYERS, checkpoint_epoch=0)
    empty = Context("cpu", tmp_path / "none")
    g = run_stage(cfg0, empty)["gaussianity"]
    assert not (tmp_path / "none").exists()
    x, y, _ = empty.data(cfg0)
    ref, _ = gaussianity_of_noise(initial_model("alexnet", 0), F.cross_entropy, x, y, 8, 10,
                                  layers=list(LAYERS), seed=0)
    for col in GAUSS:
        assert list(g[col]) == list(ref[col]), col


def test_trajectory_protocol_continues_training_at_the_checkpoints_learning_rate(make_cfg, ctx):
    """protocol trajectory=True: the rows are those of `minibatch_gradients` with the recipe's SGD at
    the learning rate of the checkpoint's last epoch (`sgd_continuation`); the id differs."""
    from sgnlib.stages.capture import sgd_continuation
    cfg_t = make_cfg("capture", batch_size=8, n_batches=10, repeat=0, layers=LAYERS,
                     protocol={"trajectory": True})
    assert cfg_t.config_id != make_cfg("capture", batch_size=8, n_batches=10, repeat=0,
                                       layers=LAYERS).config_id
    opt = sgd_continuation(cfg_t)(torch.nn.Linear(2, 2).parameters())
    assert opt.param_groups[0]["lr"] == cfg_t.full_recipe().lr_at(1)
    g = run_stage(cfg_t, ctx)["gaussianity"]
    x, y, _ = ctx.data(cfg_t)
    ref, _ = gaussianity_of_noise(ctx.model(cfg_t), F.cross_entropy, x, y, 8, 10, layers=list(LAYERS),
                                  seed=0, trajectory=sgd_continuation(cfg_t))
    for col in GAUSS:
        assert list(g[col]) == list(ref[col]), col
