import numpy as np
import pandas as pd
import pytest

from sgnlib import architecture_measures as am


def rows(model, values, d=None, seed=0):
    """Capture rows: values {(layer, batch): [pcts]}; d: {layer: weight size} (default: Table 1's)."""
    sizes = am.paper_cells().drop_duplicates("layer").set_index("layer").weight_size.to_dict()
    out = []
    for (layer, b), pcts in values.items():
        for r, v in enumerate(pcts):
            out.append({"model": model, "stage": "capture", "n_batches": 200, "batch_size": b, "layer": layer,
                        "d": (d or sizes).get(layer, 1), am.RULE: v, "repeat": r, "seed": seed,
                        "checkpoint_epoch": 15, "epochs": 15, "protocol": "", "recipe": ""})
    return pd.DataFrame(out)


def test_paper_cells_are_table_1_at_64_to_512():
    p = am.paper_cells()
    assert len(p) == 24 and set(p.batch_size) == set(am.BATCHES)
    assert p.set_index(["layer", "batch_size"]).loc[("Layer 1", 64), "paper"] == 94.13


def test_distance_is_mean_abs_gap_over_corresponding_cells_only():
    p = am.paper_cells().set_index(["layer", "batch_size"]).paper
    vals = {(l, b): [p[(l, b)] - 10, p[(l, b)] - 10] for l in ("Layer 1", "Layer 2") for b in am.BATCHES}
    vals[("FC 1", 64)] = [0.0]
    g = rows("x", vals, d={"Layer 1": 4800, "Layer 2": 307200, "FC 1": 10})
    c = am.cells(g, "x")
    assert set(c.layer) == {"Layer 2"}          # Layer 1 has another size; FC 1 is not in Table 1
    assert am.distance(c) == pytest.approx(10.0)


def test_slopes_against_numpy_polyfit():
    p = am.paper_cells().set_index(["layer", "batch_size"]).paper
    vals = {("Layer 3", b): [10.0 + 3.0 * np.log2(b)] for b in am.BATCHES}
    c = am.cells(rows("x", vals), "x")
    s = am.slopes(c).iloc[0]
    want_paper = np.polyfit(np.log2(am.BATCHES), [p[("Layer 3", b)] for b in am.BATCHES], 1)[0]
    assert s.ours == pytest.approx(3.0) and s.paper == pytest.approx(want_paper)
    assert am.slope_error(c) == pytest.approx(abs(3.0 - want_paper))


def test_judgement_needs_both_measures_and_twice_the_seed_spread():
    p = am.paper_cells().set_index(["layer", "batch_size"]).paper
    base = am.cells(rows("a", {k: [v - 20] for k, v in p.items()}), "a")
    close = am.cells(rows("b", {k: [v - 5] for k, v in p.items()}), "b")
    assert am.judge(close, base, spread=1.0) == "clearly closer"
    assert am.judge(close, base, spread=8.0) == "not clearly closer"     # 15 pp < 2 x 8 pp
    tilted = am.cells(rows("c", {(l, b): [p[(l, b)] - 25 + 4 * np.log2(b / 64)] for l, b in p.index}), "c")
    assert am.judge(tilted, close, spread=1.0) == "farther"              # both measures worse
    assert am.judge(close, tilted, spread=1.0) == "clearly closer"
    assert am.judge(base, tilted, spread=1.0) == "not clearly closer"    # better slopes, larger distance



def test_seed_spread_is_the_sd_of_distances_across_seeds():
    p = am.paper_cells().set_index(["layer", "batch_size"]).paper
    g = pd.concat([rows("alexnet", {k: [v - gap] for k, v in p.items()}, seed=s)
                   for s, gap in enumerate((10, 12, 14))])
    sd, n = am.seed_spread(g)
    assert n == 3 and sd == pytest.approx(np.std([10, 12, 14], ddof=1))


def test_architectures_table_measures_each_network_on_its_own_layers_and_judges_it():
    p = am.paper_cells().set_index(["layer", "batch_size"]).paper
    base = pd.concat([rows("alexnet", {k: [v - 20 + s] for k, v in p.items()}, seed=s) for s in (0, 1, 2)])
    tables = rows("alexnet_text_tables", {k: [v - 4] for k, v in p.items()})
    sizes = am.paper_cells().drop_duplicates("layer").set_index("layer").weight_size.to_dict()
    text = rows("alexnet_text", {k: [v - 30] for k, v in p.items()}, d={**sizes, "Layer 1": 4800, "Layer 6": 1920})
    t = am.architectures(pd.concat([base, tables, text], ignore_index=True)).set_index("architecture")
    assert list(t.index) == ["alexnet", "alexnet_text", "alexnet_text_tables"]
    assert t.loc["alexnet", "distance"] == pytest.approx(20.0) and t.loc["alexnet", "judgement"] == "baseline"
    assert t.loc["alexnet_text_tables", "judgement"] == "clearly closer"
    assert t.loc["alexnet_text", "layers"] == 4 and t.loc["alexnet_text", "cells"] == 16
    assert t.loc["alexnet_text", "distance"] == pytest.approx(30.0)
    assert t.loc["alexnet_text", "judgement"] == "not clearly closer"   # farther, but slopes no worse
    assert t.attrs["seeds"] == 3 and t.attrs["seed_spread"] == pytest.approx(1.0)
