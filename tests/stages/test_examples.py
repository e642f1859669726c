"""Stage `examples`: the noise samples of picked dimensions against the centred columns of
`minibatch_gradients` (seed 1000 * seed) and their Shapiro-Wilk p-values recomputed."""
import numpy as np
import pytest
import torch.nn.functional as F

from sgnlib.capture import minibatch_gradients
from sgnlib.stages import run_stage
from sgnlib.stats import mohammadi_alpha, shapiro_wilk

LAYERS = ("Layer 5", "Layer 6")


@pytest.fixture(scope="module")
def stage(make_cfg, ctx):
    cfg = make_cfg("examples", batch_size=8, n_batches=10, layers=LAYERS)
    table = run_stage(cfg, ctx)["examples"]
    x, y, _ = ctx.data(cfg)
    mats = {}
    for m in minibatch_gradients(ctx.model(cfg), F.cross_entropy, x, y, 8, 10, layers=list(LAYERS), seed=0):
        mats.update(m)
    return cfg, table, mats


def test_rows_and_kinds(stage, check_rows):
    cfg, table, mats = stage
    check_rows(table, cfg)
    assert list(table.layer.unique()) == list(LAYERS)
    for (layer, dim), g in table.groupby(["layer", "dim"], sort=False):
        assert len(g) == cfg.n_batches and list(g["sample"]) == list(range(cfg.n_batches))
        assert g.kind.nunique() == 1 and g.p.nunique() == 1
        p = g.p.iloc[0]
        assert g.kind.iloc[0] == ("gaussian" if p >= 0.05 else "non-gaussian")
    for layer in LAYERS:
        per_kind = table[table.layer == layer].groupby("kind").dim.nunique()
        assert set(per_kind.index) <= {"gaussian", "non-gaussian"} and (per_kind <= 5).all()


def test_noise_is_the_centred_minibatch_gradient_column(stage):
    cfg, table, mats = stage
    for layer in LAYERS:
        m = mats[layer]
        sub = table[table.layer == layer]
        dims = sorted(sub.dim.unique())
        res = shapiro_wilk(m[:, dims])
        assert not res.degenerate.any()  # point masses are never picked
        for j, dim in enumerate(dims):
            g = sub[sub.dim == dim]
            col = m[:, dim].double().numpy()
            noise = g.noise.to_numpy()
            scale = np.abs(col - col.mean()).max()
            assert abs(noise.mean()) <= 1e-5 * scale
            np.testing.assert_allclose(noise, col - col.mean(), rtol=0, atol=1e-5 * scale)
            assert g.p.iloc[0] == pytest.approx(float(res.p[j]), rel=1e-9, abs=1e-12)
            assert g.tail_index_mohammadi.iloc[0] == pytest.approx(float(mohammadi_alpha(noise.copy())[0]), rel=1e-6)
