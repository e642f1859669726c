"""The claims registry (sgnlib.claims): every verdict kind on small hand-made tables, once for each
verdict it can give; the claims file's shape; both committed scales end to end; table_gaps by hand."""
import json

import numpy as np
import pandas as pd
import pytest

from sgnlib import claims
from sgnlib.claims import theory
from sgnlib.claims.core import NO_DATA, NOT_REPRODUCED, NOT_TESTABLE, PARTLY, REPRODUCED

R, P_, N, ND, NT = REPRODUCED, PARTLY, NOT_REPRODUCED, NO_DATA, NOT_TESTABLE

# ---------------------------------------------------------------- synthetic tables


def G(cells, model="alexnet", epochs=10, d=1000, deg=0.0):
    """Final-checkpoint Gaussianity rows: cells {(layer, batch, n_batches): value or [one per repeat]}."""
    rows = []
    for (layer, bs, nb), vals in cells.items():
        for r, v in enumerate(vals if isinstance(vals, list) else [vals]):
            rows.append({"model": model, "stage": "capture", "epochs": epochs, "checkpoint_epoch": epochs,
                         "layer": layer, "batch_size": bs, "n_batches": nb, "repeat": r, "d": d,
                         "gauss_pct_incl_degenerate": v, "degenerate_pct": deg})
    return pd.DataFrame(rows)


def S(series, model="alexnet"):
    """Gaussianity over training at batch 128 x 200: {layer: {epoch: value}}; the last epoch is final."""
    epochs = max(e for s in series.values() for e in s)
    rows = [{"model": model, "stage": "capture", "epochs": epochs, "checkpoint_epoch": e, "layer": l,
             "batch_size": 128, "n_batches": 200, "repeat": 0, "d": 1000, "gauss_pct_incl_degenerate": v,
             "degenerate_pct": 0.0}
            for l, s in series.items() for e, v in s.items()]
    return pd.DataFrame(rows)


def P(cells, model="alexnet", table=1, n_batches=200, sizes=None, std=0.2):
    """Paper table rows: cells {(layer, batch): value}."""
    return pd.DataFrame([{"table": table, "model": model, "n_batches": n_batches, "layer": l,
                          "weight_size": (sizes or {}).get(l, 1000), "batch_size": bs, "gauss_pct_mean": v,
                          "gauss_pct_std": std} for (l, bs), v in cells.items()])


def cat(*dfs):
    return pd.concat(dfs, ignore_index=True)


def run(kind, tables, **params):
    return claims.REGISTRY[kind](tables, {"scale": "test", **params}).verdict


# ---------------------------------------------------------------- theory and fixed checks


def test_theory_checks_on_the_real_maths():
    for name, check in theory.CHECKS.items():
        ok, ours, evidence = check()
        assert ok == (name not in ("prop1_isotropic_only", "prop1_current")), (name, ours, evidence)


@pytest.mark.parametrize("name, module, fn, bad", [
    ("lemma1", "clt", "lemma1_family", {"n": 1, "worst": 1.5, "activations": 0.5, "affine_max": 1.0}),
    ("lemma2", "clt", "lemma2_family", 1.5),
    ("moors", "clt", "moments_family", {"n": 1, "min_ratio": 0.02, "max_cs": 1.0, "moors_err": 0.0, "eq44": 1.0}),
    ("prop1", "langevin", "prop1_family", {"n": 2, "generic_broken": 1, "generic_min": 0.0, "commuting_max": 0.0}),
    ("prop2", "langevin", "prop2_family", {"n": 1, "dts": (0.2, 0.1), "H_worst": [0.3, 0.3], "halving_min": 1.0}),
])
def test_theory_checks_fail_when_their_family_has_a_counterexample(name, module, fn, bad, monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module(f"sgnlib.{module}"), fn, lambda: bad)
    theory.CHECKS[name].cache_clear()
    try:
        assert theory.CHECKS[name]()[0] is False
    finally:
        theory.CHECKS[name].cache_clear()


@pytest.mark.parametrize("name", sorted(theory.CHECKS))
def test_theory_kinds_give_both_verdicts(name, monkeypatch):
    for ok, want in ((True, R), (False, N)):
        monkeypatch.setitem(theory.CHECKS, name, lambda ok=ok: (ok, "x", "y"))
        v = claims.REGISTRY[f"theory_{name}"]({}, {"paper": "p"})
        assert v.verdict == want and v.text.startswith("paper p, ours x")


def test_not_testable_kinds():
    assert run("not_testable", {}, reason="because") == NT
    assert run("moments_range", {"moments": None}, paper="0.01", reason="r") == NT
    m = pd.DataFrame({"model": "alexnet", "layer": "Layer 1", "bin_lo": [1.2], "bin_hi": [1.5], "count": [3],
                      "q05": [1.3], "q50": [1.4], "checkpoint_epoch": 1})
    v = claims.REGISTRY["moments_range"]({"moments": m}, {"paper": "0.01", "reason": "r"})
    assert v.verdict == NT and "1.20" in v.ours


AX_SIZES = {"Layer 1": 23232, "Layer 2": 307200, "Layer 3": 663552, "Layer 4": 884736, "Layer 5": 589824,
            "Layer 6": 2560}


def test_architecture():
    good = P({(l, 64): 50 for l in AX_SIZES}, sizes=AX_SIZES)
    assert run("architecture", {"paper": good}, model="alexnet") == R
    assert run("architecture", {"paper": good}, model="alexnet", text_sizes={"Layer 1": 4800}) == P_
    fc3 = {"model": "alexnet", "text_layers": {"conv": 5, "fc": 3}}
    assert run("architecture", {"paper": good}, fits_both="alexnet_text_tables", **fc3) == R
    assert run("architecture", {"paper": good}, fits_both="alexnet_text", **fc3) == P_
    bad = P({(l, 64): 50 for l in AX_SIZES}, sizes={**AX_SIZES, "Layer 1": 4800})
    assert run("architecture", {"paper": bad}, model="alexnet") == N
    assert run("architecture", {"paper": good}, model="alexnet", paper_model="alexnet", convs_per_block=0) == R
    assert run("architecture", {"paper": None}, model="alexnet") == ND


def test_c12_the_only_text_table_conflict_is_the_first_convolution():
    """The tables list the five convolutions and the final classifier; the text's three FC layers
    fit them (a 256 -> 10 classifier gives 2,560), its 5x5 first convolution does not (4,800 vs
    23,232)."""
    from sgnlib.claims.design import text_table_conflicts
    from sgnlib.reader import paper_tables
    c12 = claims.load_claims().set_index("id").loc["C12"]
    paper = paper_tables()
    sizes = paper[paper.model == "alexnet"].drop_duplicates("layer").set_index("layer").weight_size
    conflicts, fit = text_table_conflicts(sizes, c12.params)
    assert conflicts == ["Layer 1: text implies 4,800, table 23,232"]
    assert fit.startswith("the text's 5 conv + 3 FC layers fit the tables")
    assert "alexnet_text_tables" in fit
    v = claims.REGISTRY["architecture"]({"paper": paper}, {**c12.params, "scale": "any"})
    assert (v.verdict, v.delta) == (P_, "text ≠ tables at Layer 1 only")
    assert "table: 1" not in v.evidence and "1 FC" not in v.evidence
    assert "3 FC layers fit" in v.evidence
    # the fit is a real check: networks without the text's counts or the tabled sizes are conflicts
    for name, why in (("alexnet_text", "Layer 1: 4,800 vs 23,232; Layer 6: 1,920 vs 2,560"),
                      ("alexnet", "(5 conv + 1 FC)")):
        more, fit = text_table_conflicts(sizes, {**c12.params, "fits_both": name})
        assert len(more) == 2 and more[1].startswith(f"layer counts: {name}") and why in more[1]
        assert fit == ""


def training(epochs, milestones=(0.5, 0.75), lrs=(0.1, 0.01, 0.001), model="alexnet"):
    m1, m2 = round(milestones[0] * epochs), round(milestones[1] * epochs)
    return pd.DataFrame({"model": model, "epochs": epochs, "epoch": range(1, epochs + 1),
                         "lr": [lrs[0] if e <= m1 else lrs[1] if e <= m2 else lrs[2] for e in range(1, epochs + 1)]})


RECIPE = {"models": ["alexnet"], "epochs": 300, "lrs": [0.1, 0.01, 0.001], "milestones": [150, 225]}


def test_training_recipe():
    assert run("training_recipe", {"training": training(300)}, **RECIPE) == R
    assert run("training_recipe", {"training": training(30)}, **RECIPE) == P_
    assert run("training_recipe", {"training": training(30, (0.2, 0.9))}, **RECIPE) == N
    assert run("training_recipe", {"training": training(300, lrs=(0.05, 0.005, 0.0005))}, **RECIPE) == N
    assert run("training_recipe", {"training": None}, **RECIPE) == ND
    assert run("training_recipe", {"training": training(30, model="resnet20")}, **RECIPE) == ND


def test_text_vs_table():
    paper = P({("Layer 1", 128): 94.79})
    pair = {"table": 1, "layer": "Layer 1", "batch_size": 128, "where": "x"}
    assert run("text_vs_table", {"paper": paper}, pairs=[{**pair, "text": 94.79}]) == R
    assert run("text_vs_table", {"paper": paper}, pairs=[{**pair, "text": 94.80}]) == P_
    assert run("text_vs_table", {"paper": paper}, pairs=[{**pair, "text": 94.12}]) == N
    assert run("text_vs_table", {"paper": None}, pairs=[{**pair, "text": 94.12}]) == ND


def test_point_mass(monkeypatch):
    g = G({("Layer 1", 64, 200): 90}, deg=2.0)
    assert run("point_mass", {"gaussianity": g}, model="alexnet") == R
    assert run("point_mass", {"gaussianity": G({("Layer 1", 64, 200): 90}, deg=20.0)}, model="alexnet") == P_
    assert run("point_mass", {"gaussianity": G({("Layer 1", 64, 200): 90}, deg=0.0)}, model="alexnet") == P_
    assert run("point_mass", {"gaussianity": None}, model="alexnet") == ND
    import sgnlib.stats
    from sgnlib.stats.shapiro import ShapiroResult
    import torch
    monkeypatch.setattr(sgnlib.stats, "shapiro_wilk",
                        lambda x: ShapiroResult(torch.zeros(1), torch.zeros(1), torch.ones(1, dtype=torch.bool)))
    assert run("point_mass", {"gaussianity": g}, model="alexnet") == N


# ---------------------------------------------------------------- the batch-size grid

L4 = "Layer 4"


def test_cell_value():
    cells = [{"layer": L4, "batch_size": 64, "n_batches": 200, "paper": 5.37}]
    for ours, want in ((7.0, R), (15.0, P_), (30.0, N)):
        assert run("cell_value", {"gaussianity": G({(L4, 64, 200): ours})}, model="alexnet", cells=cells) == want
    assert run("cell_value", {"gaussianity": G({(L4, 128, 200): 5})}, model="alexnet", cells=cells) == ND
    assert run("cell_value", {"gaussianity": None}, model="alexnet", cells=cells) == ND


def test_cell_diff():
    diffs = [{"n_batches": 200, "a": [L4, 64], "b": [L4, 2048], "paper": 68.35}]
    for hi, want in ((70, R), (30, P_), (0, N)):
        g = G({(L4, 64, 200): 5, (L4, 2048, 200): hi})
        assert run("cell_diff", {"gaussianity": g}, model="alexnet", diffs=diffs) == want
    assert run("cell_diff", {"gaussianity": G({(L4, 64, 200): 5})}, model="alexnet", diffs=diffs) == ND


def test_table_agreement():
    paper = P({(L4, 64): 10, (L4, 128): 20})
    for off, want in ((3, R), (10, P_), (-20, N)):
        g = G({(L4, 64, 200): 10 + off, (L4, 128, 200): 20 + off})
        assert run("table_agreement", {"gaussianity": g, "paper": paper}, table=1) == want
    assert run("table_agreement", {"gaussianity": G({(L4, 64, 600): 10}), "paper": paper}, table=1) == ND
    assert run("table_agreement", {"gaussianity": None, "paper": None}, table=1) == ND


def trend(layers_values, nb=200):
    return G({(l, bs, nb): v for l, vals in layers_values.items() for bs, v in zip((64, 128, 256, 512), vals)})


def test_batch_trend():
    up, flat_high, down = [10, 20, 30, 40], [93, 95, 94, 95], [40, 30, 20, 10]
    kw = {"model": "alexnet", "n_batches": [200]}
    assert run("batch_trend", {"gaussianity": trend({"Layer 1": flat_high, L4: up})}, **kw) == R
    assert run("batch_trend", {"gaussianity": trend({"Layer 1": up, L4: down})}, **kw) == P_
    assert run("batch_trend", {"gaussianity": trend({"Layer 1": down, L4: down, "Layer 2": up})}, **kw) == N
    assert run("batch_trend", {"gaussianity": trend({"Layer 1": up[:2]})}, **kw) == ND
    # a Spearman of exactly 0.8 (one swapped neighbour) counts as rising: no float slack either way
    assert run("batch_trend", {"gaussianity": trend({L4: [10.42, 10.07, 12.18, 18.89]})}, **kw) == R


def test_ranking():
    kw = {"model": "alexnet", "layers": ["Layer 1", "Layer 2", L4], "target": ["Layer 1"], "position": "top"}
    cols = lambda a, b: G({("Layer 1", 64, 200): a[0], ("Layer 2", 64, 200): a[1], (L4, 64, 200): a[2],  # noqa: E731
                           ("Layer 1", 128, 200): b[0], ("Layer 2", 128, 200): b[1], (L4, 128, 200): b[2]})
    assert run("ranking", {"gaussianity": cols((90, 50, 5), (92, 60, 10))}, **kw) == R
    assert run("ranking", {"gaussianity": cols((90, 50, 5), (50, 60, 10))}, **kw) == P_
    assert run("ranking", {"gaussianity": cols((40, 50, 5), (50, 60, 10))}, **kw) == N
    assert run("ranking", {"gaussianity": cols((40, 50, 5), (50, 60, 10))}, **{**kw, "target": [L4],
                                                                              "position": "bottom"}) == R
    assert run("ranking", {"gaussianity": G({("Layer 1", 64, 200): 90})}, **kw) == ND


def test_nbatches_lower():
    def g(d600):
        return G({(l, 64, nb): 50 + (d if nb == 600 else 0) for l, d in zip(("Layer 1", "Layer 2", L4), d600)
                  for nb in (200, 600)})
    assert run("nbatches_lower", {"gaussianity": g((-5, -5, -5))}, model="alexnet") == R
    assert run("nbatches_lower", {"gaussianity": g((-5, -5, 5))}, model="alexnet") == P_
    assert run("nbatches_lower", {"gaussianity": g((5, 5, -5))}, model="alexnet") == N
    assert run("nbatches_lower", {"gaussianity": G({(L4, 64, 200): 50})}, model="alexnet") == ND


def test_whole_network_is_d_weighted():
    kw = {"model": "alexnet", "batch_size": 2048, "thresholds": {"200": 60, "600": 50}}

    def g(v200, v600):  # Layer 1 (d 9000) dominates Layer 4 (d 1000)
        return cat(G({("Layer 1", 2048, 200): v200, ("Layer 1", 2048, 600): v600}, d=9000),
                   G({(L4, 2048, 200): 0, (L4, 2048, 600): 0}, d=1000))
    assert run("whole_network", {"gaussianity": g(70, 60)}, **kw) == R  # 63 and 54
    assert run("whole_network", {"gaussianity": g(70, 50)}, **kw) == P_  # 63 and 45
    assert run("whole_network", {"gaussianity": g(60, 50)}, **kw) == N  # 54 and 45
    assert run("whole_network", {"gaussianity": G({(L4, 512, 200): 90})}, **kw) == ND
    from sgnlib.claims.grid import whole_network
    from sgnlib.reader import final_grid
    assert whole_network(final_grid(g(70, 60), "alexnet"), 2048, 200) == pytest.approx(63.0)


def test_threshold_share():
    kw = {"model": "resnet56", "exclude_layers": ["Final Layer"], "batch_sizes": [64], "n_batches": [200],
          "threshold": 85, "reproduced_share": 1.0, "partly_share": 0.8}

    def g(vals):
        return cat(G({(f"Block 1 Layer {i}", 64, 200): v for i, v in enumerate(vals, 1)}, model="resnet56"),
                   G({("Final Layer", 64, 200): 10}, model="resnet56"))
    assert run("threshold_share", {"gaussianity": g([90] * 5)}, **kw) == R
    assert run("threshold_share", {"gaussianity": g([90] * 4 + [80])}, **kw) == P_
    assert run("threshold_share", {"gaussianity": g([80] * 5)}, **kw) == N
    assert run("threshold_share", {"gaussianity": G({("Block 1 Layer 1", 128, 200): 90}, model="resnet56")}, **kw) == ND


def test_model_above_grid():
    kw = {"model_hi": "resnet56", "model_lo": "alexnet"}

    def g(hi):
        return cat(G({("L", bs, 200): v for bs, v in zip((64, 128), hi)}, model="resnet56"),
                   G({("L", bs, 200): 50 for bs in (64, 128)}))
    assert run("model_above_grid", {"gaussianity": g((90, 90))}, **kw) == R
    assert run("model_above_grid", {"gaussianity": g((90, 10))}, **kw) == P_
    assert run("model_above_grid", {"gaussianity": g((10, 10))}, **kw) == N
    assert run("model_above_grid", {"gaussianity": G({("L", 64, 200): 50})}, **kw) == ND


def test_small_std():
    kw = {"model": "alexnet"}
    assert run("small_std", {"gaussianity": G({(L4, 64, 200): [10, 10.5, 10.2]})}, **kw) == R
    assert run("small_std", {"gaussianity": G({(L4, 64, 200): [10, 13, 11.5]})}, **kw) == P_
    assert run("small_std", {"gaussianity": G({(L4, 64, 200): [10, 20, 15]})}, **kw) == N
    assert run("small_std", {"gaussianity": G({(L4, 64, 200): 10})}, **kw) == ND


# ---------------------------------------------------------------- over training


FALL, RISE, FLAT = {1: 40, 3: 30, 6: 20, 9: 10}, {1: 10, 3: 20, 6: 30, 9: 40}, {1: 90, 3: 91, 6: 89, 9: 90}


def test_epochs_direction():
    kw = {"model": "alexnet", "layers": ["Layer 3", L4], "direction": "decrease"}
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": FALL, L4: FALL})}, **kw) == R
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": FALL, L4: FLAT})}, **kw) == P_
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": RISE, L4: FLAT})}, **kw) == N
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": {1: 40, 9: 10}})}, **kw) == ND
    st = {**kw, "direction": "steady"}
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": FLAT, L4: FLAT})}, **st) == R
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": FLAT, L4: FALL})}, **st) == P_
    nd = {**kw, "direction": "no_decrease", "min_level_pct": 85}
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": FLAT, L4: FLAT})}, **nd) == R
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": RISE, L4: FLAT})}, **nd) == P_  # RISE < 85
    assert run("epochs_direction", {"gaussianity": S({"Layer 3": FALL, L4: RISE})}, **nd) == N


def test_model_above_series():
    kw = {"model_hi": "alexnet_bn", "model_lo": "alexnet", "layers": ["Layer 3", L4]}
    lo = S({"Layer 3": FALL, L4: FALL})
    assert run("model_above_series", {"gaussianity": cat(lo, S({"Layer 3": FLAT, L4: FLAT}, "alexnet_bn"))}, **kw) == R
    assert run("model_above_series", {"gaussianity": cat(lo, S({"Layer 3": FLAT, L4: RISE}, "alexnet_bn"))}, **kw) == P_
    assert run("model_above_series", {"gaussianity": cat(lo, S({"Layer 3": RISE, L4: FALL}, "alexnet_bn"))}, **kw) == N
    assert run("model_above_series", {"gaussianity": lo}, **kw) == ND


def test_training_length_gap():
    paper = P({("Layer 3", 128): 43.4, (L4, 128): 15.7, ("Layer 1", 128): 90.0})
    kw = {"model": "alexnet"}
    toward = {1: 5, 3: 7, 6: 9, 9: 11}  # below Layer 3's 43.4 and rising
    assert run("training_length_gap", {"gaussianity": S({"Layer 3": toward, L4: {1: 1, 3: 3, 6: 5, 9: 6}}),
                                       "paper": paper}, **kw) == R
    assert run("training_length_gap", {"gaussianity": S({"Layer 3": toward, L4: {1: 9, 3: 7, 6: 5, 9: 3}}),
                                       "paper": paper}, **kw) == P_
    assert run("training_length_gap", {"gaussianity": S({"Layer 3": FALL, L4: {1: 9, 3: 7, 6: 5, 9: 3}}),
                                       "paper": paper}, **kw) == N
    # above the paper and falling toward it supports the explanation too; within 5 pp there is nothing to explain
    assert run("training_length_gap", {"gaussianity": S({L4: {1: 40, 3: 35, 6: 30, 9: 25}}), "paper": paper}, **kw) == R
    assert run("training_length_gap", {"gaussianity": S({"Layer 1": FLAT}), "paper": paper}, **kw) == R
    assert run("training_length_gap", {"gaussianity": None, "paper": paper}, **kw) == ND
    t = claims.training_direction(S({"Layer 3": FALL, L4: {1: 1, 3: 3, 6: 5, 9: 6}}), paper)
    assert list(t.toward) == ["away", "toward"] and list(t.direction) == ["falls", "rises"]


# ---------------------------------------------------------------- moments, Berry-Esseen, tails, examples


def M(q50, model="alexnet"):
    """Moments rows: {layer: q50 or (q25, q50, q75)}, one log-spaced bin pair per layer."""
    rows = []
    for l, q in q50.items():
        q25, q, q75 = q if isinstance(q, tuple) else (q / 2, q, q * 2)
        rows += [{"model": model, "layer": l, "checkpoint_epoch": 10, "bin_lo": lo, "bin_hi": hi, "count": c,
                  "q05": 1.0, "q25": q25, "q50": q, "q75": q75} for lo, hi, c in ((1, 10, 50), (10, 100, 50))]
    return pd.DataFrame(rows)


def test_moments_rank():
    kw = {"model": "alexnet", "target": [L4, "Layer 5"]}
    assert run("moments_rank", {"moments": M({"Layer 1": 3, L4: 30, "Layer 5": 25})}, **kw) == R
    assert run("moments_rank", {"moments": M({"Layer 1": 3, "Layer 3": 28, L4: 30, "Layer 5": 25})}, **kw) == P_
    assert run("moments_rank", {"moments": M({"Layer 1": 30, "Layer 3": 28, L4: 3, "Layer 5": 2})}, **kw) == N
    assert run("moments_rank", {"moments": None}, **kw) == ND


def test_moments_vs_gaussianity():
    kw = {"model": "alexnet"}
    g = G({("Layer 1", 64, 200): 90, ("Layer 2", 64, 200): 50, ("Layer 3", 64, 200): 30, (L4, 64, 200): 10})
    assert run("moments_vs_gaussianity", {"moments": M({"Layer 1": 3, "Layer 2": 8, "Layer 3": 20, L4: 30}),
                                          "gaussianity": g}, **kw) == R
    assert run("moments_vs_gaussianity", {"moments": M({"Layer 1": 8, "Layer 2": 3, "Layer 3": 30, L4: 20}),
                                          "gaussianity": g}, **kw) == P_
    assert run("moments_vs_gaussianity", {"moments": M({"Layer 1": 30, "Layer 2": 20, "Layer 3": 8, L4: 3}),
                                          "gaussianity": g}, **kw) == N
    assert run("moments_vs_gaussianity", {"moments": None, "gaussianity": g}, **kw) == ND
    assert run("moments_vs_gaussianity", {"moments": M({"Layer 1": 3}), "gaussianity": None}, **kw) == ND


def test_moments_models():
    kw = {"model_a": "resnet56", "model_b": "alexnet"}
    ax = M({"L": (5, 10, 20)})
    assert run("moments_models", {"moments": cat(ax, M({"L": (2, 3, 4)}, "resnet56"))}, **kw) == R
    assert run("moments_models", {"moments": cat(ax, M({"L": (2, 3, 40)}, "resnet56"))}, **kw) == P_
    assert run("moments_models", {"moments": cat(ax, M({"L": (20, 30, 80)}, "resnet56"))}, **kw) == N
    assert run("moments_models", {"moments": ax}, **kw) == ND


def BE(rows):
    """Berry-Esseen rows: [(layer, batch, ks_q50, bound_q50, frac_below)], floor 0.058."""
    return pd.DataFrame([{"model": "alexnet", "layer": l, "batch_size": bs, "ks_q50": ks, "bound_q50": b,
                          "frac_ks_below_bound": f, "null_ks_q90": 0.058} for l, bs, ks, b, f in rows])


def test_be_below_bound():
    assert run("be_below_bound", {"berry_esseen": BE([("L", 64, 0.1, 0.5, 0.99)])}) == R
    assert run("be_below_bound", {"berry_esseen": BE([("L", 64, 0.1, 0.5, 0.99), ("L", 128, 0.1, 0.5, 0.9)])}) == P_
    assert run("be_below_bound", {"berry_esseen": BE([("L", 64, 0.1, 0.5, 0.5)])}) == N
    assert run("be_below_bound", {"berry_esseen": BE([("L", 64, 0.1, 0.05, 0.1)])}) == NT  # bound under the floor
    assert run("be_below_bound", {"berry_esseen": None}) == ND


def test_be_ks_falls():
    def be(a, b):
        return BE([("A", bs, k, 1, 1) for bs, k in zip((64, 128, 256), a)] +
                  [("B", bs, k, 1, 1) for bs, k in zip((64, 128, 256), b)])
    assert run("be_ks_falls", {"berry_esseen": be((0.3, 0.2, 0.1), (0.050, 0.052, 0.051))}) == R  # B at the floor
    assert run("be_ks_falls", {"berry_esseen": be((0.3, 0.2, 0.1), (0.1, 0.2, 0.3))}) == P_
    assert run("be_ks_falls", {"berry_esseen": be((0.1, 0.2, 0.3), (0.1, 0.2, 0.3))}) == N
    assert run("be_ks_falls", {"berry_esseen": BE([("A", 64, 0.3, 1, 1)])}) == ND


def test_be_spines():
    kw = {"model": "alexnet", "layers": ["Layer 3", L4]}
    m = M({"Layer 3": 10, L4: 10})

    def g(a, b):
        return G({**{("Layer 3", bs, 200): v for bs, v in zip((64, 128, 256), a)},
                  **{(L4, bs, 200): v for bs, v in zip((64, 128, 256), b)}})
    assert run("be_spines", {"moments": m, "gaussianity": g((10, 30, 50), (5, 20, 60))}, **kw) == R
    assert run("be_spines", {"moments": m, "gaussianity": g((10, 30, 50), (60, 20, 5))}, **kw) == P_
    assert run("be_spines", {"moments": m, "gaussianity": g((50, 30, 10), (60, 20, 5))}, **kw) == N
    assert run("be_spines", {"moments": None, "gaussianity": g((10, 30, 50), (5, 20, 60))}, **kw) == ND
    from sgnlib.claims.berry_esseen import hist_quantile
    assert hist_quantile([1, 10], [10, 100], [50, 50], 0.5) == pytest.approx(10)
    assert hist_quantile([1, 10], [10, 100], [50, 50], 0.25) == pytest.approx(10 ** 0.5)


def TI(hist, layer="Layer 1", bs=128, col="count_nongaussian"):
    """Tail-index rows at the final checkpoint: hist {bin_lo: count} (bins 0.1 wide)."""
    return pd.DataFrame([{"model": "alexnet", "layer": layer, "epochs": 10, "checkpoint_epoch": 10, "batch_size": bs,
                          "n_batches": 200, "bin_lo": lo, "bin_hi": round(lo + 0.1, 1), "count_all": c,
                          "count_nongaussian": c} for lo, c in hist.items()])


def test_tail_near_two():
    kw = {"layer": "Layer 1"}
    assert run("tail_near_two", {"tail_index": TI({1.9: 60, 1.8: 30, 1.0: 10})}, **kw) == R
    assert run("tail_near_two", {"tail_index": TI({1.9: 60, 1.0: 40})}, **kw) == P_
    assert run("tail_near_two", {"tail_index": TI({1.9: 10, 1.0: 90})}, **kw) == N
    assert run("tail_near_two", {"tail_index": TI({1.9: 60}, bs=64)}, **kw) == ND


def test_tail_rises():
    kw = {"layer": L4}

    def ti(medians):
        return cat(*[TI({m: 10}, layer=L4, bs=bs) for bs, m in zip((64, 128, 256, 512), medians)])
    assert run("tail_rises", {"tail_index": ti((1.0, 1.2, 1.5, 1.9))}, **kw) == R
    assert run("tail_rises", {"tail_index": ti((1.0, 1.5, 1.2, 1.1))}, **kw) == P_
    assert run("tail_rises", {"tail_index": ti((1.9, 1.5, 1.2, 1.0))}, **kw) == N
    assert run("tail_rises", {"tail_index": ti((1.0,))}, **kw) == ND


def EX(gauss, nongauss):
    rows = [{"layer": "Layer 1", "batch_size": 128, "dim": i, "kind": k, "tail_index_mohammadi": a}
            for k, alphas in (("gaussian", gauss), ("non-gaussian", nongauss)) for i, a in enumerate(alphas)]
    return pd.DataFrame(rows)


def test_examples_alpha():
    kw = {"layer": "Layer 1"}
    assert run("examples_alpha", {"examples": EX([2, 2, 2, 2, 2], [1.5, 1.6, 1.7, 1.5, 1.9])}, **kw) == R
    assert run("examples_alpha", {"examples": EX([2, 2, 2, 2, 2], [2, 2, 2, 1.5, 2])}, **kw) == P_
    assert run("examples_alpha", {"examples": EX([1.5, 1.6, 2, 2, 1.7], [2, 2, 2, 1.5, 2])}, **kw) == N
    assert run("examples_alpha", {"examples": None}, **kw) == ND


# ---------------------------------------------------------------- coverage of every kind and verdict

TESTED = {  # kind -> the verdicts the tests above produce; the kinds' docstrings promise exactly these
    **{f"theory_{n}": {R, N} for n in theory.CHECKS}, "not_testable": {NT}, "moments_range": {NT},
    "architecture": {R, P_, N, ND}, "training_recipe": {R, P_, N, ND}, "text_vs_table": {R, P_, N, ND},
    "point_mass": {R, P_, N, ND}, "be_below_bound": {R, P_, N, ND, NT},
    **{k: {R, P_, N, ND} for k in ("cell_value", "cell_diff", "table_agreement", "batch_trend", "ranking",
                                   "nbatches_lower", "whole_network", "threshold_share", "model_above_grid",
                                   "small_std", "epochs_direction", "model_above_series", "training_length_gap",
                                   "moments_rank", "moments_vs_gaussianity", "moments_models", "be_ks_falls",
                                   "be_spines", "tail_near_two", "tail_rises", "examples_alpha")}}


def test_every_registered_kind_is_tested():
    assert set(claims.REGISTRY) == set(TESTED)


# ---------------------------------------------------------------- the claims file


def test_claims_file_is_well_formed():
    c = claims.load_claims()
    assert len(c) >= 25 and c.id.is_unique and all(c.id.str.fullmatch(r"C\d{2}"))
    assert set(c.kind) <= set(claims.REGISTRY)
    assert all(isinstance(p, dict) for p in c.params)
    raw = pd.read_csv(claims.CLAIMS_FILE, dtype=str, keep_default_na=False)
    for s in raw.params:
        json.loads(s)
    for col in ("section", "paraphrase", "paper_value", "kind", "scales", "source"):
        assert (c[col].str.len() > 0).all(), col
    assert all(set(s.split(",")) <= {"any", "cpu", "gpu-short"} for s in c.scales)
    known = set(claims.RESULT_TABLES) | {"paper", ""}
    assert all(set(t.split(",")) <= known for t in c.tables)


def test_claims_are_grouped_and_counted_apart():
    c = claims.load_claims().set_index("id")
    assert set(c.group) == set(claims.GROUPS)
    assert (c.loc[[f"C{i:02d}" for i in range(1, 12)], "group"] == "theory").all()
    assert c.loc["C52", "group"] == "ours" and c.loc["C14", "group"] == "set-up"
    assert sorted(c.index[c.group == "paper-internal"]) == ["C12", "C13", "C26", "C43"]
    assert (c.group == "empirical").sum() == 35
    r = pd.DataFrame({"group": ["empirical", "empirical", "theory", "ours"],
                      "verdict": [R, N, R, N]})
    t = claims.counts_by_group(r)
    assert list(t.index) == list(claims.GROUPS)
    assert list(t.columns) == ["claims", *claims.VOCABULARY]
    assert t.loc["empirical"].tolist() == [2, 1, 0, 1, 0, 0] and t.loc["ours", N] == 1
    assert t.loc["paper-internal"].sum() == 0


def test_a_claims_file_with_an_unknown_group_is_refused(tmp_path):
    raw = pd.read_csv(claims.CLAIMS_FILE, dtype=str, keep_default_na=False)
    raw.loc[0, "group"] = "empirics"
    raw.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ValueError, match="unknown group \\['empirics'\\]; use one of empirical"):
        claims.load_claims(tmp_path / "c.csv")


def test_paper_numbers_in_the_claims_file_match_the_papers_tables():
    from sgnlib.reader import paper_tables
    t = paper_tables()
    c = claims.load_claims()
    for p in c[c.kind == "cell_value"].params:
        for cell in p["cells"]:
            m = t[(t.layer == cell["layer"]) & (t.batch_size == cell["batch_size"])
                  & (t.n_batches == cell["n_batches"])]
            if len(m) and cell["paper"] not in (94.12, 73.73):  # the text's two slips (claim text_vs_table)
                assert m.gauss_pct_mean.iloc[0] == pytest.approx(cell["paper"]), cell


# ---------------------------------------------------------------- both committed scales


@pytest.fixture(scope="module")
def committed():
    return {s: claims.load_tables(s) for s in ("cpu", "gpu-short")}


@pytest.mark.parametrize("scale", ["cpu", "gpu-short"])
def test_evaluate_committed_scales(scale, committed):
    r = claims.evaluate(scale, committed[scale])
    assert len(r) == len(claims.load_claims()) and r.verdict.isin(claims.VOCABULARY).all()
    assert r.text.str.match(r"paper .+, ours .+ \(.+\)$").all()
    assert (r.evidence.str.len() > 0).all()
    nd = r[r.verdict == NO_DATA]
    assert nd.evidence.str.contains("python -m sgnlib.sweep").all()
    v = r.set_index("kind").verdict  # the paper's own slips
    assert v["theory_prop1_isotropic_only"] == N and v["theory_prop1_current"] == N
    assert v["text_vs_table"] == N and v["moments_range"] == NT and v["architecture"].iloc[0] == P_


def test_the_shorter_training_explanation_on_committed_data(committed):
    for scale in ("cpu", "gpu-short"):
        t = claims.epochs_direction_table(scale, committed[scale])
        # Fig 1's layers 3-4 lose Gaussianity with training in our runs too: more training moves them away
        assert set(t[t.layer.isin(["Layer 3", "Layer 4"])].toward) == {"away"}


# ---------------------------------------------------------------- per-table gaps


def test_table_gaps_by_hand():
    paper = cat(P({(L4, 64): 10.0, ("Layer 1", 64): 90.0}, std=0.5),
                P({(L4, 64): 5.0}, table=2, n_batches=600, std=1.0))
    g = G({(L4, 64, 200): [12.0, 14.0], ("Layer 1", 64, 200): [85.0, 85.0], (L4, 128, 200): [1.0, 1.0]})
    t = claims.table_gaps("x", {"gaussianity": g, "paper": paper}).set_index("table")
    # Layer 4: ours 13 (std √2), |Δ| 3; Layer 1: ours 85 (std 0), |Δ| 5; the 128 cell is not in the paper
    assert t.loc[1, "cells"] == 2 and t.loc[1, "paper_cells"] == 2
    assert t.loc[1, "mean_abs_dpp"] == pytest.approx(4.0) and t.loc[1, "max_abs_dpp"] == pytest.approx(5.0)
    assert t.loc[1, "max_cell"] == "Layer 1 @ 64" and t.loc[1, "mean_dpp"] == pytest.approx(-1.0)
    assert t.loc[1, "paper_mean_std"] == pytest.approx(0.5)
    assert t.loc[1, "ours_mean_std"] == pytest.approx(np.sqrt(2) / 2) and t.loc[1, "repeats"] == "2"
    assert t.loc[2, "cells"] == 0 and np.isnan(t.loc[2, "mean_abs_dpp"]) and t.loc[2, "repeats"] == "0"
