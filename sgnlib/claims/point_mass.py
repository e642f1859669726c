"""The claim on point masses: a few columns of the noise are constant (ReLU), and Shapiro-Wilk
takes a constant column as Gaussian, so they add to the paper's percentages."""
from __future__ import annotations

import numpy as np

from .core import NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, fill_command, kind, no_data, pct


def constant_column_p() -> tuple[float, float]:
    """Shapiro-Wilk's p on a constant column of 200 samples: scipy's, then sgnlib's (AS R94)."""
    import warnings

    import torch
    from scipy import stats

    from ..stats import shapiro_wilk
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_scipy = float(stats.shapiro(np.full(200, 0.25)).pvalue)
    p_ours = float(shapiro_wilk(torch.full((200, 1), 0.25, dtype=torch.float64)).p[0])
    return p_scipy, p_ours


@kind("point_mass")
def point_mass(tables: dict, params: dict) -> Verdict:
    """Point masses occur (ReLU) in a few extreme cases and Shapiro-Wilk takes them as Gaussian.
    Checks that a constant column gets p = 1 (scipy.stats.shapiro and sgnlib's AS R94), and the
    share of point-mass columns in `model`'s final grid. REPRODUCED: p = 1 and 0 < max share <=
    rare_pct [5]; PARTLY: p = 1 but the share is not rare (or zero); NOT REPRODUCED: p < 1."""
    paper_s = "a few extreme point-mass cases; Shapiro-Wilk calls them Gaussian"
    g = tables.get("gaussianity")
    if g is not None:
        g = g[(g.model == params["model"]) & (g.checkpoint_epoch == g.epochs)]
    if g is None or not len(g):
        scale = params.get("scale", "?")
        command = fill_command(scale, "capture", params["model"], tables, extra=" --final-only")
        return no_data(paper_s, f"{params['model']} Gaussianity rows", scale, command)
    p_scipy, p_ours = constant_column_p()
    by = g.groupby("layer").degenerate_pct.mean()
    mx = float(by.max())
    sw = p_scipy == 1 and p_ours == 1
    rare_pct = params.get("rare_pct", 5)
    v = NOT_REPRODUCED if not sw else REPRODUCED if 0 < mx <= rare_pct else PARTLY
    ours = (f"p = {p_scipy:g} (scipy), {p_ours:g} (ours) on a constant column; point masses "
            f"up to {pct(mx, 1)} of a layer ({by.idxmax()})")
    return Verdict(v, paper_s, ours, f"max share {pct(mx, 1)} vs rare <= {rare_pct} %",
                   "point masses add their share to the paper-rule %: " +
                   ", ".join(f"{l} {x:.1f}" for l, x in by.items()))
