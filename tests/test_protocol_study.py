"""Protocol-study arithmetic on hand-made tables: factor names, Δpp and intervals, distance to Table 1."""
import json

import numpy as np
import pandas as pd
import pytest

from sgnlib import protocol_study as ps
from sgnlib.report import paper_tables


def rows(values, **fields):
    """values: {(layer, batch_size): [pct per repeat]}."""
    out = []
    for (layer, bs), pcts in values.items():
        for r, v in enumerate(pcts):
            out.append({"model": "alexnet", "n_batches": 200, "epochs": 15, "checkpoint_epoch": 15, "seed": 0,
                        "layer": layer, "batch_size": bs, "repeat": r, "gauss_pct_paper": v, **fields})
    return out


def test_factor_names():
    assert ps.factor_of({"epochs": 15, "checkpoint_epoch": 15, "seed": 0}) == "baseline"
    assert ps.factor_of({"epochs": 15, "checkpoint_epoch": 15, "seed": 0,
                         "protocol": json.dumps({"augment": True})}) == "capture augment=True"
    assert ps.factor_of({"epochs": 15, "checkpoint_epoch": 6, "seed": 0, "protocol": float("nan")}) == \
        "checkpoint epoch=6"
    assert ps.factor_of({"epochs": 15, "checkpoint_epoch": 15, "seed": 2, "recipe": '{"lr": 0.01}'}) == \
        "training lr=0.01; training seed=2"


def test_effects_and_intervals_by_hand():
    g = pd.DataFrame(rows({("Layer 1", 64): [10.0, 12.0, 14.0], ("Layer 1", 128): [20.0, 20.0, 23.0]})
                     + rows({("Layer 1", 64): [20.0, 22.0], ("Layer 1", 128): [25.0, 27.0]},
                            protocol=json.dumps({"augment": True}))
                     + rows({("Layer 1", 64): [11.0]}, seed=1))
    eff = ps.effects(g).set_index(["factor", "batch_size"])
    a = eff.loc[("capture augment=True", 64)]
    assert a.delta_pp == pytest.approx(21.0 - 12.0)
    assert a.half_width_95 == pytest.approx(1.96 * np.sqrt(2.0 / 2 + 4.0 / 3)) and a.beyond_spread
    s = eff.loc[("training seed=1", 64)]  # measured once: the baseline's pooled variance stands in
    pooled = np.mean([4.0, 3.0])
    assert s.delta_pp == pytest.approx(-1.0)
    assert s.half_width_95 == pytest.approx(1.96 * np.sqrt(pooled / 1 + 4.0 / 3)) and not s.beyond_spread
    summ = ps.factor_summary(ps.effects(g)).set_index("factor")
    assert summ.loc["capture augment=True", "cells"] == 2
    assert summ.loc["capture augment=True", "mean_delta_pp"] == pytest.approx(np.mean([9.0, 26.0 - 21.0]))


def test_distance_to_table_1_by_hand():
    paper = paper_tables()
    p = paper[(paper.model == "alexnet") & (paper.n_batches == 200)].set_index(["layer", "batch_size"])
    cells = {("Layer 1", 64): [p.loc[("Layer 1", 64), "gauss_pct_mean"] - 4.0],
             ("Layer 4", 512): [p.loc[("Layer 4", 512), "gauss_pct_mean"] + 2.0],
             ("Layer 4", 2048): [0.0]}  # outside 64-512: not counted
    d = ps.distances(pd.DataFrame(rows(cells))).set_index("factor")
    assert d.loc["baseline", "cells"] == 2
    assert d.loc["baseline", "mean_abs_gap_pp"] == pytest.approx(3.0)
    assert d.loc["baseline", "mean_gap_pp"] == pytest.approx(-1.0)
    both = pd.DataFrame(rows(cells) + rows({("Layer 1", 64): [p.loc[("Layer 1", 64), "gauss_pct_mean"]]},
                                           protocol=json.dumps({"augment": True})))
    d2 = ps.distances(both).set_index("factor")
    assert d2.loc["capture augment=True", "mean_abs_gap_pp"] == pytest.approx(0.0)
    assert d2.loc["capture augment=True", "baseline_same_cells_pp"] == pytest.approx(4.0)  # not the 3.0 over all


def test_missing_baseline_is_an_error():
    g = pd.DataFrame(rows({("Layer 1", 64): [1.0]}, protocol=json.dumps({"augment": True})))
    with pytest.raises(ValueError, match="no baseline rows"):
        ps.effects(g)
