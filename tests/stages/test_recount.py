"""Stage `recount`: the counting rules on one capture's gradient matrices, each against a
reference computed here from the matrices themselves (scipy's Shapiro-Wilk, numpy value counts),
and `as_captured` against stage `capture` with the same configuration fields. Layers 5 and 6 of
the 2-epoch synthetic AlexNet (`conftest.py`)."""
import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F

from sgnlib.capture import minibatch_gradients
from sgnlib.config import Config, ConfigError
from sgnlib.stages import run_stage
from sgnlib.stages.recount import VARIANTS, recount_layer

LAYERS = ("Layer 5", "Layer 6")
COUNTS = ["gauss_pct_incl_degenerate", "gauss_pct_excl_degenerate", "degenerate_pct",
          "gauss_pct_fdr"]


@pytest.fixture(scope="module")
def fields():
    return dict(batch_size=8, n_batches=40, repeat=0, layers=LAYERS)


@pytest.fixture(scope="module")
def recount(make_cfg, ctx, fields):
    cfg = make_cfg("recount", **fields)
    return cfg, run_stage(cfg, ctx)["recount"]


@pytest.fixture(scope="module")
def layer6(make_cfg, ctx, fields):
    """Layer 6's [40, 2560] gradient matrix, straight from `minibatch_gradients`."""
    cfg = make_cfg("recount", **fields)
    x, y, _ = ctx.data(cfg)
    mats = {}
    for m in minibatch_gradients(ctx.model(cfg), F.cross_entropy, x, y, 8, 40,
                                 layers=["Layer 6"], seed=0):
        mats.update(m)
    return mats["Layer 6"].numpy()


def _row(table, layer, variant):
    r = table[(table.layer == layer) & (table.variant == variant)]
    assert len(r) == 1
    return r.iloc[0]


def test_rows_and_as_captured_equal_the_capture_stage(recount, make_cfg, ctx, fields, check_rows):
    cfg, t = recount
    check_rows(t, cfg)
    assert sorted(t.variant.unique()) == sorted(VARIANTS)
    assert len(t) == len(VARIANTS) * len(LAYERS)
    g = run_stage(make_cfg("capture", **fields), ctx)["gaussianity"]
    for _, row in g.iterrows():
        mine = _row(t, row.layer, "as_captured")
        for col in COUNTS + ["d"]:
            assert mine[col] == row[col], (row.layer, col)


def _scipy_gaussian_pct(m: np.ndarray) -> tuple[float, float]:
    """(% p >= 0.05 or constant, % constant) with scipy's Shapiro-Wilk, column by column."""
    const = np.ptp(m, axis=0) == 0
    passed = np.array([c or scipy.stats.shapiro(col).pvalue >= 0.05
                       for c, col in zip(const, m.T)])
    return 100 * passed.mean(), 100 * const.mean()


@pytest.mark.parametrize("variant,dtype", [("as_captured", None), ("float16", torch.float16),
                                           ("bfloat16", torch.bfloat16)])
def test_rounded_variants_against_scipy_on_rounded_gradients(recount, layer6, variant, dtype):
    m = layer6 if dtype is None else torch.from_numpy(layer6).to(dtype).float().numpy()
    gauss, const = _scipy_gaussian_pct(m.astype(np.float64))
    row = _row(recount[1], "Layer 6", variant)
    assert row.degenerate_pct == pytest.approx(const, abs=1e-9)
    # p-values within 1e-4 of 0.05 may fall either side between two implementations
    assert row.gauss_pct_incl_degenerate == pytest.approx(gauss, abs=100 * 3 / m.shape[1])


def test_float16_flushes_tiny_gradients_into_point_masses():
    """Columns of magnitude 1e-9 (below float16's smallest subnormal, 6e-8) become constant zero
    under float16 and stay samples under bfloat16 (float32's range)."""
    gen = torch.Generator().manual_seed(0)
    m = torch.randn(50, 8, generator=gen)
    m[:, :3] *= 1e-9
    rows = {r["variant"]: r for r in recount_layer("L", m)}
    assert rows["as_captured"]["degenerate_pct"] == 0
    assert rows["float16"]["degenerate_pct"] == 100 * 3 / 8
    assert rows["bfloat16"]["degenerate_pct"] == 0
    assert rows["float16"]["gauss_pct_incl_degenerate"] >= 100 * 3 / 8


def test_near_constant_counts_columns_with_95_percent_one_value(recount, layer6):
    def mode_share(col):
        return np.unique(col, return_counts=True)[1].max() / col.size
    near = np.array([mode_share(c) >= 0.95 for c in layer6.T])
    row = _row(recount[1], "Layer 6", "near_constant")
    assert row.degenerate_pct == pytest.approx(100 * near.mean())
    assert row.near_constant_share == 0.95
    base = _row(recount[1], "Layer 6", "as_captured")
    assert row.degenerate_pct >= base.degenerate_pct
    assert row.gauss_pct_incl_degenerate >= base.gauss_pct_incl_degenerate


def test_p_nan_accepted_equals_as_captured_without_non_finite_p_values(recount):
    t = recount[1]
    for layer in LAYERS:
        a, b = _row(t, layer, "as_captured"), _row(t, layer, "p_nan_accepted")
        assert a.n_p_nonfinite == b.n_p_nonfinite == 0
        assert [a[c] for c in COUNTS] == [b[c] for c in COUNTS]


def test_inputs_test_draws_from_the_test_split_and_names_it(make_cfg, ctx, fields):
    cfg = make_cfg("capture", protocol={"inputs": "test"}, **fields)
    x, y, prov = ctx.capture_data(cfg)
    xt, yt, info = ctx.data(cfg, "test")
    assert torch.equal(x, xt) and torch.equal(y, yt)
    assert prov["test_sha256"] == info["sha256"] and prov["data_sha256"] == cfg.data_sha256
    g = run_stage(cfg, ctx)["gaussianity"]
    assert (g.test_sha256 == info["sha256"]).all()
    assert cfg.config_id != make_cfg("capture", **fields).config_id


def test_inputs_common_std_rescales_the_standardized_images(make_cfg, ctx, fields):
    cfg = make_cfg("recount", protocol={"inputs": "train_common_std"}, **fields)
    x, _, prov = ctx.capture_data(cfg)
    x0, _, _ = ctx.data(cfg)
    ratio = torch.tensor([0.2470 / 0.2023, 0.2435 / 0.1994, 0.2616 / 0.2010])
    assert torch.allclose(x, x0 * ratio.view(1, 3, 1, 1))
    assert "test_sha256" not in prov


def test_unknown_inputs_is_one_line_config_error(make_cfg, fields):
    with pytest.raises(ConfigError, match="protocol inputs must be one of"):
        make_cfg("recount", protocol={"inputs": "validation"}, **fields)


def test_default_inputs_leave_capture_ids_unchanged(make_cfg, fields):
    a = make_cfg("capture", **fields)
    b = make_cfg("capture", protocol={"inputs": "train"}, **fields)
    assert a.config_id == b.config_id and "protocol" not in a.identity()
    assert isinstance(a, Config)
