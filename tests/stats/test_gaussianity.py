import numpy as np
import pytest
import torch
from scipy import stats

from sgnlib.stats import benjamini_hochberg, gaussianity, layer_gaussianity, shapiro_wilk


def test_bh_matches_scipy_false_discovery_control():
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=900), rng.uniform(0, 1e-3, size=100)])
    adj = stats.false_discovery_control(p, method="bh")
    ref = adj <= 0.05
    got = benjamini_hochberg(torch.from_numpy(p), 0.05).numpy()
    assert (got == ref).all() and got.sum() >= 90


def test_three_rules_by_hand():
    p = torch.tensor([0.5, 0.01, 1.0, 0.2, 0.001])
    deg = torch.tensor([False, False, True, False, False])
    g = layer_gaussianity(p, deg, level=0.05)
    assert g["gauss_pct_incl_degenerate"] == pytest.approx(60.0)   # 0.5, 1.0 (point mass), 0.2
    assert g["gauss_pct_excl_degenerate"] == pytest.approx(40.0)  # point mass set apart
    assert g["degenerate_pct"] == pytest.approx(20.0)
    # BH at 0.05 over 5: sorted 0.001<=0.01, 0.01<=0.02 -> two rejections
    assert g["gauss_pct_fdr"] == pytest.approx(60.0)
    assert g["null_ceiling_pct"] == pytest.approx(95.0)


def test_table_from_shapiro_results_gaussian_near_ceiling():
    gen = torch.Generator().manual_seed(0)
    res = {"gauss": shapiro_wilk(torch.randn(200, 5000, generator=gen, dtype=torch.float64)),
           "expo": shapiro_wilk(torch.empty(200, 5000, dtype=torch.float64).exponential_(generator=gen))}
    t = gaussianity(res)
    assert list(t.layer) == ["gauss", "expo"]
    assert abs(t.gauss_pct_incl_degenerate[0] - 95) < 1.0 and t.gauss_pct_fdr[0] > 99
    assert t.gauss_pct_incl_degenerate[1] < 1.0
