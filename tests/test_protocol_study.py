"""Protocol-study arithmetic on hand-made tables: factor names, Δpp and intervals, distance to Table 1."""
import json

import numpy as np
import pandas as pd
import pytest

from sgnlib import protocol_findings as pf, protocol_study as ps
from sgnlib.reader import paper_tables


def rows(values, **fields):
    """values: {(layer, batch_size): [pct per repeat]}."""
    out = []
    for (layer, bs), pcts in values.items():
        for r, v in enumerate(pcts):
            out.append({"model": "alexnet", "stage": "capture", "n_batches": 200, "epochs": 15,
                        "checkpoint_epoch": 15, "seed": 0,
                        "layer": layer, "batch_size": bs, "repeat": r, "gauss_pct_incl_degenerate": v, **fields})
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


def test_initialization_and_architecture_factors():
    assert ps.factor_of({"epochs": 15, "checkpoint_epoch": 0, "seed": 0}) == "checkpoint epoch=0 (initialization)"
    row = {"model": "alexnet_text", "epochs": 15, "checkpoint_epoch": 15, "seed": 0}
    assert ps.factor_of(row, "alexnet") == "architecture=alexnet_text"
    assert ps.factor_of({**row, "model": "alexnet"}, "alexnet") == "baseline"


def test_variant_is_compared_on_the_layers_it_shares():
    """alexnet_text's FC 1 / FC 2 have no baseline cell: left out of effects and distances."""
    base = rows({("Layer 1", 64): [10.0, 12.0], ("Layer 6", 64): [20.0, 22.0]})
    text = [dict(r, model="alexnet_text") for r in rows({("Layer 1", 64): [30.0], ("FC 1", 64): [50.0]})]
    for r in base + text:
        r["stage"] = "capture"
    eff = ps.effects(pd.DataFrame(base + text))
    assert list(eff.factor) == ["architecture=alexnet_text"] and list(eff.layer) == ["Layer 1"]
    assert eff.delta_pp.iloc[0] == pytest.approx(19.0)
    grid, beyond, delta = ps.effect_grid(eff)
    assert grid.loc[("architecture=alexnet_text", "Layer 1"), 64] == "+19.0 ± " + \
        f"{eff.half_width_95.iloc[0]:.1f}" and bool(beyond.loc[("architecture=alexnet_text", "Layer 1"), 64])
    assert delta.loc[("architecture=alexnet_text", "Layer 1"), 64] == pytest.approx(19.0)


def test_resnet_states_against_table_3_by_hand():
    paper = paper_tables()
    t3 = paper[(paper.table == 3) & (paper.batch_size == 64)]
    layers = list(t3.layer)
    g = pd.DataFrame([{"model": "resnet56", "stage": "capture", "epochs": 1, "checkpoint_epoch": e,
                       "batch_size": 64, "n_batches": 200, "layer": l, "gauss_pct_incl_degenerate": v, "protocol": ""}
                      for e, v0 in ((0, 90.0), (1, 80.0)) for i, l in enumerate(layers + ["Block 3 Layer 17"])
                      for v in [v0 + i]])
    r20 = g[g.checkpoint_epoch == 0].assign(model="resnet20")
    s20 = ps.resnet_states(pd.concat([g, r20])).query("model == 'resnet20'").iloc[0]
    assert np.isnan(s20.mean_paper_layers_pct) and s20.paper_layers_at_threshold == "–"  # no ResNet-20 table
    s = ps.resnet_states(g).set_index("trained_epochs")
    assert s.loc[0, "layers"] == len(layers) + 1
    assert s.loc[0, "mean_paper_layers_pct"] == pytest.approx(90 + (len(layers) - 1) / 2)
    assert s.loc[0, "paper_layers_at_threshold"] == f"{len(layers)}/{len(layers)}"
    assert s.loc[1, "paper_layers_at_threshold"] == f"{sum(80 + i >= 85 for i in range(len(layers)))}/{len(layers)}"
    assert s.loc[0, "paper_table3_mean_pct"] == pytest.approx(t3.gauss_pct_mean.mean())


def test_coverage_counts_planned_and_committed():
    from sgnlib.config import Config
    base = dict(stage="capture", epochs=15, data_source="synthetic", data_sha256="a" * 64, checkpoint_epoch=15,
                batch_size=64, n_batches=200, repeat=0)
    cfgs = [Config(model="alexnet", **base), Config(model="alexnet", **{**base, "repeat": 1}),
            Config(model="alexnet_text", **base), Config(model="alexnet", **{**base, "checkpoint_epoch": 0}),
            Config("train", "alexnet", 15, checkpoint_epochs=(15,), data_source="synthetic")]
    cov = ps.coverage(cfgs, {cfgs[0].config_id}).set_index("factor")
    assert cov.loc["baseline", "planned"] == 2 and cov.loc["baseline", "committed"] == 1
    assert cov.loc["architecture=alexnet_text", "planned"] == 1
    assert cov.loc["checkpoint epoch=0 (initialization)", "committed"] == 0


def test_facts_pick_the_best_protocol_on_full_coverage():
    dist = pd.DataFrame({"factor": ["baseline", "a", "b"], "cells": [24, 24, 4], "mean_abs_gap_pp": [18.0, 15.0, 2.0],
                         "mean_gap_pp": [-10.0, -8.0, 0.0], "baseline_same_cells_pp": [18.0, 18.0, 10.0]})
    eff = pd.DataFrame({"factor": ["a", "a", "b"], "layer": ["Layer 1"] * 3, "batch_size": [64, 128, 64],
                        "delta_pp": [2.0, -4.0, 1.0], "half_width_95": [1.0, 1.0, 2.0],
                        "beyond_spread": [True, True, False]})
    f = ps.facts(eff, dist)
    assert f["best-protocol"] == "a" and f["best-distance"] == "15.0" and f["best-closes"] == "+3.0"
    assert f["best-same-cells"] == "b" and f["best-same-cells-distance"] == "2.0"  # 8 pp below its baseline
    assert f["best-same-cells-baseline"] == "10.0" and f["best-same-cells-n"] == "4"
    assert f["base-distance"] == "18.0" and f["top-factors"].startswith("a (mean |Δ| 3.0 pp, mean Δ -1.0 pp, 2/2")
    assert f["explains"] == "none"  # ours is 10 pp low; no factor raises it by 5 pp or more
    assert f["seed-spread"] == "not measured" and f["beyond-seed"] == "none"
    eff.loc[2, "delta_pp"] = 6.0
    assert ps.facts(eff, dist)["explains"] == "b (+6.0 pp)"
    seed = pd.DataFrame({"factor": ["training seed=1"], "layer": ["Layer 1"], "batch_size": [64],
                         "delta_pp": [-4.0], "half_width_95": [1.0], "beyond_spread": [True]})
    f2 = ps.facts(pd.concat([eff, seed], ignore_index=True), dist)
    assert f2["seed-spread"] == "4.0" and f2["beyond-seed"] == "b (6.0)"  # a: mean |Δ| 3.0 < 4.0
    assert f["architecture"] == "not measured"
    arch = eff.assign(factor=eff.factor.replace({"b": "architecture=alexnet_text"}))
    f3 = ps.facts(arch, dist.replace({"factor": {"b": "architecture=alexnet_text"}}))
    assert f3["architecture"] == ("alexnet_text: mean Δ +6.0 pp (mean |Δ| 6.0 pp, 0/1 cells beyond the spread), "
                                  "distance 2.0 pp where the baseline's is 10.0 pp on the same cells")


def test_resnet_facts_name_the_state():
    cols = ["model", "batch_size", "trained_epochs", "protocol", "layers",
            "paper_layers_at_threshold", "mean_paper_layers_pct", "mean_all_pct"]
    rs = pd.DataFrame([("resnet56", 64, 0, "default", 56, "10/11", 91.82, 93.84),
                       ("resnet20", 64, 2, "default", 20, "–", np.nan, 80.0),
                       ("resnet56", 64, 1, "bn=running", 56, "0/11", 0.5, 1.0)], columns=cols)
    t3 = "of the paper's Table 3 layers at ≥ 85 %"
    assert ps.resnet_facts(rs) == {
        "resnet56-b64-e0": f"10/11 {t3}, mean 91.8 % over them (93.8 % over all 56 layers)",
        "resnet20-b64-e2": "mean 80.0 % over all 20 layers",
        "resnet56-b64-e1-bn-running": f"0/11 {t3}, mean 0.5 % over them (1.0 % over all 56 layers)"}


def test_resnet_facts_quote_the_table_3_layers_mean_from_the_rows():
    """The glued mean is over the paper's Table 3 layers, not over every layer (others at 99 %)."""
    paper = paper_tables()
    layers = list(paper[(paper.table == 3) & (paper.batch_size == 64)].layer)
    extra = [f"Block 2 Layer {i}" for i in range(2, 9)]
    pct = {**{l: 80.0 + 2 * i for i, l in enumerate(layers)}, **{l: 99.0 for l in extra}}
    g = pd.DataFrame([{"model": "resnet56", "stage": "capture", "epochs": 1, "checkpoint_epoch": 0,
                       "batch_size": 64, "n_batches": 200, "layer": l, "protocol": "",
                       "gauss_pct_incl_degenerate": v} for l, v in pct.items()])
    listed = np.mean([pct[l] for l in layers])
    every = np.mean(list(pct.values()))
    n85 = sum(pct[l] >= 85 for l in layers)
    assert every - listed > 3  # the two means differ: quoting the wrong one fails below
    assert ps.resnet_facts(ps.resnet_states(g))["resnet56-b64-e0"] == (
        f"{n85}/{len(layers)} of the paper's Table 3 layers at ≥ 85 %, mean {listed:.1f} % "
        f"over them ({every:.1f} % over all {len(pct)} layers)")


def test_facts_split_training_side_factors_and_compare_capture_with_seeds():
    summ = {"checkpoint epoch=0 (initialization)": 39.3, "training lr=0.01": 34.7,
            "checkpoint epoch=1": 7.9, "training normalize=False": 7.7,
            "training augment=False": -6.8, "training seed=1": -0.1, "training seed=2": 1.5,
            "capture augment=True": -1.4, "capture precision=float64": 0.4,
            "architecture=alexnet_text": 0.3}
    eff = pd.DataFrame({"factor": list(summ), "delta_pp": list(summ.values()), "layer": "Layer 1",
                        "batch_size": 64, "half_width_95": 1.0, "beyond_spread": True})
    dist = pd.DataFrame({"factor": ["baseline", *summ], "cells": 24, "mean_abs_gap_pp": 18.9,
                         "mean_gap_pp": -18.4, "baseline_same_cells_pp": 18.9})
    f = ps.facts(eff, dist)
    assert f["training-large"] == ("capture at initialization (+39.3 pp) and "
                                   "learning rate 0.01 (+34.7 pp)")
    assert f["training-small"] == ("the epoch-1 checkpoint (+7.9 pp), raw pixels (+7.7 pp) and "
                                   "no training augmentation (-6.8 pp)")
    assert f["capture-range"] == "0.4–1.4" and f["seed-range"] == "0.1–1.5"
    none = ps.facts(eff[~eff.factor.str.startswith(("training", "checkpoint", "capture"))], dist)
    assert none["training-large"] == none["training-small"] == "none"
    assert none["capture-range"] == none["seed-range"] == "not measured"


def test_table_html_readable_headers_rounded_numbers():
    html = ps.table_html(pd.DataFrame({"factor": ["a"], "mean_delta_pp": [1.23456]}), "t", "cap")
    assert "mean Δ (pp)" in html and "1.23" in html and "1.2346" not in html and 'id="T_t"' in html


def test_findings_markdown_by_hand_and_readme_block_replaced():
    paper = paper_tables()
    p = paper[(paper.model == "alexnet") & (paper.n_batches == 200)].set_index(["layer", "batch_size"])
    at = lambda d: [p.loc[("Layer 1", 64), "gauss_pct_mean"] + d]  # noqa: E731
    g = pd.DataFrame(rows({("Layer 1", 64): [at(-4.0)[0], at(-2.0)[0]]})
                     + rows({("Layer 1", 64): at(1.0)}, protocol=json.dumps({"augment": True})))
    md = pf.findings_markdown(g)
    assert md.startswith("Baseline distance to Table 1: 3.0 pp over 1 cells (mean gap -3.0 pp).")
    assert "| alexnet | capture augment=True | +4.0 | 4.0 | 1/1 | 1.0 | 3.0 |" in md
    readme = f"# title\nbefore\n{pf.README_BEGIN}\nstale table\n{pf.README_END}\nafter\n"
    new = pf.with_findings(readme, g)
    assert new == f"# title\nbefore\n{pf.README_BEGIN}\n{md}{pf.README_END}\nafter\n"
    assert pf.with_findings(new, g) == new  # idempotent
    with pytest.raises(ValueError, match="lacks the markers"):
        pf.with_findings("# no markers\n", g)
    once = pd.DataFrame(rows({("Layer 1", 64): at(-4.0)}) + rows({("Layer 1", 64): at(1.0)}, seed=1))
    assert "| alexnet | training seed=1 | +5.0 | 5.0 | 0/0 (1 cells without an interval) | 1.0 | 4.0 |" in \
        pf.findings_markdown(once)  # one draw each: no spread to set the change against


def test_committed_readme_findings_match_the_committed_rows():
    from pathlib import Path

    from sgnlib.reader import read_table
    readme = Path(__file__).resolve().parent.parent / "data" / "results" / "protocol" / "README.md"
    text = readme.read_text()
    assert pf.with_findings(text, read_table("protocol", "gaussianity")) == text, \
        "data/results/protocol/README.md is stale: python scripts/protocol_report.py --readme " + str(readme)
