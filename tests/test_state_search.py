"""state_search: candidates, distances and the answer, checked on grids built from the paper's cells."""
import numpy as np
import pandas as pd
from pytest import approx

from sgnlib import architecture_measures as am
from sgnlib import state_search as ss


def rows(offset, scale_epochs=15, checkpoint=None, batches=am.BATCHES, **extra):
    """Capture rows equal to Table 1 plus `offset` pp (two repeats: +-0.5 around it)."""
    p = am.paper_cells()
    p = p[p.batch_size.isin(batches)]
    out = []
    for r in (-0.5, 0.5):
        out.append(pd.DataFrame({"model": "alexnet", "stage": "capture", "seed": 0, "layer": p.layer,
                                 "batch_size": p.batch_size, "n_batches": 200, "d": p.weight_size,
                                 "epochs": scale_epochs,
                                 "checkpoint_epoch": scale_epochs if checkpoint is None else checkpoint,
                                 am.RULE: p.paper + offset + r, **extra}))
    return pd.concat(out, ignore_index=True)


def test_distance_and_slope_error_of_a_shifted_grid():
    c = ss.grid_candidates({"cpu": rows(3.0), "gpu-short": rows(-1.0, 30)})
    assert list(c.candidate) == ["gpu-short final", "cpu final"]
    assert np.allclose(c.distance, [1.0, 3.0]) and np.allclose(c.slope_error, 0.0, atol=1e-9)
    assert list(c.cells) == [24, 24] and list(c.epoch) == [30, 15]


def test_within_paper_spread_is_twice_the_mean_paper_std():
    p = am.paper_cells().merge(ss.paper_tables().query("table == 1 and model == 'alexnet' and n_batches == 200")
                               [["layer", "batch_size", "gauss_pct_std"]], on=["layer", "batch_size"])
    two_sd = 2 * p.gauss_pct_std.mean()
    c = ss.grid_candidates({"a": rows(two_sd * 0.9), "b": rows(two_sd * 1.1)}).set_index("candidate")
    assert c.loc["a final", "within_paper_spread"] and not c.loc["b final", "within_paper_spread"]
    assert np.isclose(c.loc["a final", "paper_spread"], p.gauss_pct_std.mean())


def test_incomplete_grid_is_not_a_candidate():
    assert ss.grid_candidates({"cpu": rows(1.0, batches=(64, 128, 256))}).empty


def test_protocol_factors_are_candidates_and_the_answer_names_the_best():
    base = rows(5.0)
    lr = rows(2.0, recipe='{"lr": 0.01}')
    init = rows(9.0, checkpoint=0)
    c = ss.grid_candidates({"protocol": pd.concat([base, lr, init], ignore_index=True)})
    assert set(c.candidate) == {"baseline", "training lr=0.01", "checkpoint epoch=0 (initialization)"}
    a = ss.answer(c)
    assert a["best"] == "training lr=0.01" and np.isclose(a["best_distance"], 2.0) and a["n"] == 3


def test_series_distance_on_the_batch_128_column():
    g = pd.concat([rows(4.0, 300, checkpoint=e, batches=(128,)) for e in (10, 20)]
                  + [rows(1.0, 300, checkpoint=300)], ignore_index=True)
    s = ss.series_distance(g, "cpu-300")
    assert list(s.epoch) == [10, 20, 300] and np.allclose(s.distance, [4.0, 4.0, 1.0])
    assert set(s.layers) == {6}


def test_option_effect_against_the_plain_repeats_spread():
    plain = rows(0.0, 300, batches=(128,))                       # repeats at -0.5 and +0.5: sd 0.707
    aug = rows(2.0, 300, batches=(128,)).assign(protocol='{"augment": true}', repeat=0)
    aug = aug.drop_duplicates(["layer", "batch_size"])
    e = ss.option_effect(pd.concat([plain, aug], ignore_index=True), '"augment": true', 300)
    assert len(e) == 6 and e.beyond.all()
    assert np.allclose(e.delta, 1.5) and np.allclose(e.spread, np.sqrt(0.5))   # aug row is the -0.5 repeat


def test_option_candidates_and_series_from_hand_made_rows():
    """A capture option's final grid becomes its own candidate (named in words), its series its
    own run; rows without the option are not mixed in."""
    paper = am.paper_cells(200)
    rows = []
    for protocol, shift in ((None, -40.0), ('{"inputs": "test"}', -5.0)):
        for r in paper.itertuples():
            for epoch in (150, 300):
                rows.append({"model": "alexnet", "stage": "capture", "seed": 0, "epochs": 300,
                             "checkpoint_epoch": epoch, "n_batches": 200, "layer": r.layer,
                             "batch_size": r.batch_size, "d": r.weight_size,
                             "protocol": protocol, am.RULE: r.paper + shift})
    g = pd.DataFrame(rows)
    cand = ss.option_candidates(g, "cpu-300")
    assert list(cand.candidate) == ["cpu-300 final, test images"]
    assert cand.distance.iloc[0] == approx(5.0)
    both = ss.all_candidates({"cpu-300": g}, {})
    assert list(both.candidate) == ["cpu-300 final, test images", "cpu-300 final"]
    assert both.distance.tolist() == approx([5.0, 40.0])
    s = ss.all_series({"cpu-300": g}, ["cpu-300"])
    test = s[s.scale == "cpu-300, test images"]
    assert test.epoch.tolist() == [150, 300] and test.distance.tolist() == approx([5, 5])


def test_paired_series_keeps_the_checkpoints_both_have():
    s = pd.DataFrame({"scale": ["cpu-300"] * 3 + ["cpu-300, test images"] * 2,
                      "epoch": [1, 150, 300, 150, 300], "distance": [14.0, 27.0, 44.0, 23.0, 16.0]})
    p = ss.paired_series(s, "cpu-300", "test images")
    assert p.epoch.tolist() == [150, 300]
    assert p.plain.tolist() == [27.0, 44.0] and p.with_option.tolist() == [23.0, 16.0]
    assert ss.paired_series(s, "gpu-short", "test images").empty
