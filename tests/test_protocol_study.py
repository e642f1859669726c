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
