"""sgnlib.chapters.tails: the alpha-stable summary and the null band, against hand-made rows."""
import numpy as np
import pandas as pd

from sgnlib.chapters import tails as chapter


def test_alpha_stable_summary_counts_failed_fits_and_takes_medians():
    fits = pd.DataFrame({"layer": "Layer 1", "batch_size": 64, "dim": [0, 1, 2],
                         "mle_tail_index": [1.5, np.nan, 1.7],
                         "tail_index_mohammadi": [1.2, 1.4, 1.9]})
    s = chapter.alpha_stable_summary(fits).loc[("Layer 1", 64)]
    assert s["dims"] == 3 and s["MLE failed"] == 1
    assert s["median α, MLE"] == "1.60" and s["median α, Mohammadi"] == "1.40"


def test_null_band_text_quotes_the_stored_band():
    ti = pd.DataFrame({"null_q05": [1.61], "null_q50": [1.98], "null_q95": [2.44]})
    assert chapter.null_band_text(ti) == "1.61 to 2.44 (median 1.98)"
