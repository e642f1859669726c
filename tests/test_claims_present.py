"""The report chapter's claims tables: one row per claim, each scale's verdict and numbers side by side
(their HTML: tests/chapters/test_html.py)."""
import pandas as pd

from sgnlib.claims import present


def result(verdicts):
    return pd.DataFrame({"id": ["C01", "C02"], "paraphrase": ["a", "b"], "paper": ["5.4", "≥ 85"],
                         "verdict": verdicts, "ours": ["1.0", "–"], "delta": ["-4.4 pp", "–"]})


def test_theme_table_one_cell_per_scale_with_value_and_difference():
    r = result(["REPRODUCED", "NO DATA"]).assign(theme=["t", "t"], group="empirical")
    res = {"a": r, "b": r.assign(verdict=["PARTLY", "NO DATA"])}
    t = present.theme_table(res, "t")
    assert list(t.columns) == ["id", "claim", "a", "b"]
    assert t.a.iloc[0] == "reproduced: 1.0 (-4.4 pp)" and t.b.iloc[0] == "partly: 1.0 (-4.4 pp)"
    assert t.a.iloc[1] == "no data"


def test_empirical_counts_keep_other_groups_out():
    r = result(["REPRODUCED", "NO DATA"]).assign(theme="t", group=["empirical", "theory"])
    c = present.empirical_counts({"a": r})
    assert c.loc["a", "reproduced"] == 1 and c.loc["a"].sum() == 1
    assert list(c.columns) == ["reproduced", "partly", "not reproduced", "no data", "not testable"]


def test_combine_verdicts_of_several_claims():
    c = present.combine
    assert c(["REPRODUCED", "REPRODUCED"]) == "REPRODUCED"
    assert c(["REPRODUCED", "NO DATA"]) == "REPRODUCED"           # missing data does not count
    assert c(["NOT REPRODUCED", "NOT REPRODUCED"]) == "NOT REPRODUCED"
    assert c(["REPRODUCED", "NOT REPRODUCED"]) == c(["PARTLY"]) == "PARTLY"
    assert c(["NO DATA", "NOT TESTABLE"]) == "NO DATA" and c(["NOT TESTABLE"]) == "NOT TESTABLE"


def test_headlines_cover_known_claims_and_link_their_chapter():
    from sgnlib import claims
    ids = set(claims.load_claims().id)
    assert all(set(i) <= ids for _, i, _ in present.HEADLINES)
    r = pd.DataFrame({"id": sorted(ids), "verdict": "NO DATA"})
    r.loc[r.id == "C18", "verdict"] = "REPRODUCED"
    md = present.headlines_markdown({"a": r, "b": r.assign(verdict="NOT REPRODUCED")})
    first = md.splitlines()[2]
    assert first.startswith("| {doc}`Gaussianity rises with the batch size (AlexNet) <results/alexnet>` (C18, C21)")
    assert first.endswith("| reproduced | not reproduced |")
    assert len(md.splitlines()) == 2 + len(present.HEADLINES)
