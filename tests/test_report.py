"""sgnlib.report: the paper's internal inconsistencies and its theorems read critically."""
from sgnlib import report


def test_discrepancies():
    d = report.paper_discrepancies()
    assert d.finding.str.contains("94.79").any() and d.finding.str.contains("4,800").any()


def test_discrepancies_include_the_theorems_read_critically():
    from sgnlib import clt, langevin
    d = report.paper_discrepancies()
    assert list(d.columns) == ["where", "finding"] and d["where"].is_unique
    theorems = d[d["where"].isin([r["where"] for r in clt.findings() + langevin.findings()])]
    assert len(theorems) == 7 and len(d) == 9
    w = d.set_index("where").finding
    assert "min 1.000" in w["Fig 4 discussion"]                      # beta/sigma^3 >= 1, attained at 1
    assert "-> -2" in w["Lemma 2 (eq 40)"] and "D = Δt H" in w["Prop 2 (eq 31, 33)"]


def test_training_facts_first_last_and_max_per_run_and_missing_nets_skipped():
    import pandas as pd
    rows = []
    for m, vals in (("alexnet", {1: 30.0, 5: 40.0, 10: 12.5}), ("alexnet_bn", {1: 50.0, 10: 60.0})):
        for e, v in vals.items():
            for layer in ("Layer 3", "Layer 4"):
                rows.append({"model": m, "layer": layer, "batch_size": 128, "n_batches": 200,
                             "checkpoint_epoch": e, "gauss_pct_incl_degenerate": v})
    g = pd.DataFrame(rows)
    resnet = pd.DataFrame({"model": ["resnet20"] * 2, "layer": ["First Layer"] * 2, "batch_size": 128,
                           "n_batches": 200, "checkpoint_epoch": [1, 2], "gauss_pct_incl_degenerate": [90.0, 93.5]})
    f = report.training_facts({"gpu-short": pd.concat([g, resnet]), "run": g[g.model == "alexnet"]})
    assert (f["run-alexnet-4-first"], f["run-alexnet-4-last"], f["run-alexnet-4-max"]) == ("30.0", "12.5", "40.0")
    assert f["run-alexnet-4-last-epoch"] == "10" and "run-alexnet_bn-4-first" not in f
    assert f["gpu-short-alexnet_bn-3-last"] == "60.0" and f["fig6-span-max"] == "3.5"
