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
