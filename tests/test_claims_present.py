"""The report chapter's claims tables: one row per claim, each scale's verdict and numbers side by side."""
import pandas as pd

from sgnlib.claims import present


def result(verdicts):
    return pd.DataFrame({"id": ["C01", "C02"], "paraphrase": ["a", "b"], "paper": ["5.4", "≥ 85"],
                         "verdict": verdicts, "ours": ["1.0", "–"], "delta": ["-4.4 pp", "–"]})


def test_wide_puts_scales_side_by_side():
    w = present.wide({"cpu": result(["PARTLY", "NO DATA"]), "paper": result(["REPRODUCED", "NOT REPRODUCED"])})
    assert list(w.columns) == ["id", "claim", "paper says", "cpu: verdict", "cpu: ours (Δ)", "paper: verdict",
                               "paper: ours (Δ)"]
    assert w["cpu: ours (Δ)"].tolist() == ["1.0 (-4.4 pp)", "– (–)"]
    assert w["paper: verdict"].tolist() == ["REPRODUCED", "NOT REPRODUCED"]


def test_claims_html_colours_verdicts():
    h = present.claims_html({"cpu": result(["REPRODUCED", "NOT REPRODUCED"])})
    assert h.count(present.COLOURS["REPRODUCED"]) == 1 and h.count(present.COLOURS["NOT REPRODUCED"]) == 1
    assert "≥ 85" in h or "&ge; 85" in h
