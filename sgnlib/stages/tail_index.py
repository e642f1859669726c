"""Tail indices of the noise columns (Figs 7 and 9): a histogram per layer of Mohammadi et al.'s
estimate over all columns and over the columns Shapiro-Wilk rejects (p < 0.05, point masses excluded).
Computed by the capture stage from the same gradient matrices as the Gaussianity table."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import mohammadi_alpha

ALPHA_BINS = np.round(np.arange(0.0, 2.0001, 0.1), 2)


def tail_index_histogram(layer: str, matrix, shapiro_result) -> pd.DataFrame:
    """Non-empty bins of the tail-index histogram of one layer's [n_batches, d] gradient matrix."""
    alpha = mohammadi_alpha(matrix - matrix.mean(0)).cpu().numpy()
    nongauss = (shapiro_result.p < 0.05).cpu().numpy() & ~shapiro_result.degenerate.cpu().numpy()
    c_all, _ = np.histogram(alpha, bins=ALPHA_BINS)
    c_ng, _ = np.histogram(alpha[nongauss], bins=ALPHA_BINS)
    h = pd.DataFrame({"layer": layer, "bin_lo": ALPHA_BINS[:-1], "bin_hi": ALPHA_BINS[1:],
                      "count_all": c_all, "count_nongaussian": c_ng})
    return h[(h.count_all > 0) | (h.count_nongaussian > 0)].reset_index(drop=True)
