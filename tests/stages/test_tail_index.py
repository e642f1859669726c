"""`tail_index_histogram` (the capture stage's tail-index table) against numpy's histogram of the
unclipped Mohammadi estimates, on a synthetic matrix with Gaussian, heavy-tailed and point-mass columns;
the per-layer columns against the functions that define them."""
import numpy as np
import pytest
import torch
from scipy import stats

from sgnlib.tail_histogram import ALPHA_BINS, NULL_D, NULL_SEED, tail_index_histogram
from sgnlib.stats import (default_block_size, matched_null_alpha, mohammadi_alpha, mohammadi_alpha_pooled,
                          null_alpha_band, shapiro_wilk)

COLUMNS = ["layer", "bin_lo", "bin_hi", "count_all", "count_nongaussian", "n_point_mass", "d", "k1",
           "tail_index_median_all", "tail_index_median_nongaussian", "tail_index_pooled", "tail_index_pooled_no_point_mass",
           "null_q05", "null_q50", "null_q95", "null_median_sw_rejected"]


def synthetic_matrix(n=64, seed=0):
    g = np.random.default_rng(seed)
    cols = [g.normal(size=(n, 120)),                              # Gaussian: alpha near 2
            g.standard_cauchy(size=(n, 80)),                       # alpha 1
            stats.levy_stable.rvs(1.5, 0.0, size=(n, 60), random_state=seed),
            np.full((n, 15), 3.25),                                # point masses: constant non-zero
            g.standard_t(2, size=(n, 40)) * 1e-3,
            np.zeros((n, 5))]                                      # and all-zero
    return torch.from_numpy(np.concatenate(cols, axis=1).astype(np.float32))


def test_histogram_equals_numpy_of_unclipped_mohammadi():
    m = synthetic_matrix()
    res = shapiro_wilk(m)
    h = tail_index_histogram("L", m, res)
    assert list(h.columns) == COLUMNS and len(h) == len(ALPHA_BINS) - 1  # one row per bin, empty ones too
    alpha = mohammadi_alpha(m - m.mean(0)).numpy()
    pm = np.zeros(m.shape[1], bool)
    pm[260:275] = pm[315:] = True
    np.testing.assert_array_equal(np.isnan(alpha), pm)  # exactly the constant columns
    nongauss = (res.p.numpy() < 0.05) & ~pm
    np.testing.assert_array_equal(h.count_all, np.histogram(alpha[~pm], bins=ALPHA_BINS)[0])
    np.testing.assert_array_equal(h.count_nongaussian, np.histogram(alpha[nongauss], bins=ALPHA_BINS)[0])
    np.testing.assert_array_equal(h.bin_lo, ALPHA_BINS[:-1])
    assert (h.layer == "L").all() and (h.n_point_mass == 20).all() and (h.d == 320).all()
    assert h.count_all.sum() + 20 == 320 and h.count_nongaussian.sum() == nongauss.sum() > 0
    assert (h.count_nongaussian <= h.count_all).all()
    assert h.count_all[h.bin_lo >= 2.0].sum() > 0  # unclipped: Gaussian columns above 2 are kept
    assert h.count_all.iloc[-1] == (alpha[~pm] >= 3).sum() > 0  # overflow bin [3, inf)
    one = h.iloc[0]
    assert one.k1 == default_block_size(64) == 8
    assert one.tail_index_median_all == pytest.approx(np.median(alpha[~pm]))
    assert one.tail_index_median_nongaussian == pytest.approx(np.median(alpha[nongauss]))
    noise = m - m.mean(0)
    assert one.tail_index_pooled == pytest.approx(mohammadi_alpha_pooled(noise))
    assert one.tail_index_pooled_no_point_mass == pytest.approx(mohammadi_alpha_pooled(noise[:, ~torch.from_numpy(pm)]))
    np.testing.assert_allclose(one[["null_q05", "null_q50", "null_q95"]].astype(float),
                               null_alpha_band(64, d=NULL_D, seed=NULL_SEED))
    assert one.null_median_sw_rejected == pytest.approx(np.median(matched_null_alpha(64, seed=NULL_SEED)))
    for col in COLUMNS[5:]:
        assert h[col].nunique() == 1, col  # per-layer values, repeated on every bin row


def test_bins_and_point_masses():
    assert ALPHA_BINS[0] == -np.inf and ALPHA_BINS[1] == 0.0 and ALPHA_BINS[-2] == 3.0 and ALPHA_BINS[-1] == np.inf
    np.testing.assert_allclose(np.diff(ALPHA_BINS[1:-1]), 0.1)
    m = synthetic_matrix(seed=1)
    res = shapiro_wilk(m)
    assert int(res.degenerate.sum()) == 20
    # point masses only: no bin counts them, n_point_mass does, and the pooled estimates say why
    h = tail_index_histogram("L", m[:, 260:275], shapiro_wilk(m[:, 260:275]))
    assert h.count_all.sum() == h.count_nongaussian.sum() == 0 and (h.n_point_mass == 15).all()
    assert h.tail_index_median_all.isna().all() and h.tail_index_pooled_no_point_mass.isna().all() and h.tail_index_pooled.isna().all()
    # Cauchy columns mostly below 1.5, Gaussian ones around 2
    a = mohammadi_alpha(m - m.mean(0)).numpy()
    assert np.median(a[120:200]) < 1.5 < np.median(a[:120])


def test_block_size_and_null_band_follow_n():
    m200, m64 = synthetic_matrix(n=200), synthetic_matrix(n=64)
    h200, h64 = (tail_index_histogram("L", m, shapiro_wilk(m)).iloc[0] for m in (m200, m64))
    assert h200.k1 == 10 and h64.k1 == 8  # Simsekli et al.'s divisor rule, not floor(sqrt(200)) = 14
    assert h200.null_q95 - h200.null_q05 < h64.null_q95 - h64.null_q05
    assert h200.null_q50 == pytest.approx(2.0, abs=0.03) and h200.null_q05 == pytest.approx(1.51, abs=0.03)
