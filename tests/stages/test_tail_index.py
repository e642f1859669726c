"""`tail_index_histogram` (the capture stage's tail-index table) against numpy's histogram of the
Mohammadi estimates, on a synthetic matrix with Gaussian, heavy-tailed and point-mass columns."""
import numpy as np
import torch
from scipy import stats

from sgnlib.stages.tail_index import ALPHA_BINS, tail_index_histogram
from sgnlib.stats import mohammadi_alpha, shapiro_wilk


def synthetic_matrix(n=64, seed=0):
    g = np.random.default_rng(seed)
    cols = [g.normal(size=(n, 120)),                              # Gaussian: alpha near 2
            g.standard_cauchy(size=(n, 80)),                       # alpha 1
            stats.levy_stable.rvs(1.5, 0.0, size=(n, 60), random_state=seed),
            np.full((n, 15), 3.25),                                # point masses
            g.standard_t(2, size=(n, 40)) * 1e-3]
    return torch.from_numpy(np.concatenate(cols, axis=1).astype(np.float32))


def reference(m):
    res = shapiro_wilk(m)
    alpha = mohammadi_alpha(m - m.mean(0)).numpy()
    nongauss = (res.p.numpy() < 0.05) & ~res.degenerate.numpy()
    c_all, edges = np.histogram(alpha, bins=ALPHA_BINS)
    c_ng, _ = np.histogram(alpha[nongauss], bins=ALPHA_BINS)
    return res, c_all, c_ng, edges, nongauss


def test_histogram_equals_numpy_of_mohammadi_with_empty_bins_dropped():
    m = synthetic_matrix()
    res, c_all, c_ng, edges, nongauss = reference(m)
    h = tail_index_histogram("L", m, res)
    assert list(h.columns) == ["layer", "bin_lo", "bin_hi", "count_all", "count_nongaussian"]
    keep = (c_all > 0) | (c_ng > 0)
    assert 0 < keep.sum() < len(c_all)  # some bins are empty and must be dropped
    np.testing.assert_allclose(h.bin_lo, edges[:-1][keep])
    np.testing.assert_allclose(h.bin_hi, edges[1:][keep])
    np.testing.assert_array_equal(h.count_all, c_all[keep])
    np.testing.assert_array_equal(h.count_nongaussian, c_ng[keep])
    assert (h.layer == "L").all() and h.bin_lo.is_monotonic_increasing
    assert h.count_all.sum() == m.shape[1]
    assert h.count_nongaussian.sum() == nongauss.sum() > 0
    assert (h.count_nongaussian <= h.count_all).all()


def test_bins_cover_the_estimator_range_and_point_masses_are_not_nongaussian():
    assert ALPHA_BINS[0] == 0.0 and ALPHA_BINS[-1] == 2.0 and len(ALPHA_BINS) == 21
    m = synthetic_matrix(seed=1)
    res = shapiro_wilk(m)
    assert int(res.degenerate.sum()) == 15
    # a point mass has alpha = 2 (the top bin, which includes 2.0) and is never counted as non-Gaussian
    h = tail_index_histogram("L", m[:, 120 + 80 + 60:120 + 80 + 60 + 15], shapiro_wilk(m[:, 260:275]))
    assert h[["bin_lo", "bin_hi", "count_all", "count_nongaussian"]].values.tolist() == [[1.9, 2.0, 15, 0]]
    # Cauchy columns are mostly rejected and mostly below alpha 1.5; Gaussian ones mostly above 1.5
    a = mohammadi_alpha(m - m.mean(0)).numpy()
    assert np.median(a[120:200]) < 1.5 < np.median(a[:120])
