"""sgnlib.chapters.html: every HTML table of the book."""
import pandas as pd

from sgnlib import report
from sgnlib.chapters import html


def test_html_table_escapes_and_spans_repeated_index():
    df = pd.DataFrame({"a": ["<b>", "x"]},
                      index=pd.MultiIndex.from_tuples([("L1", 1), ("L1", 2)], names=["l", "b"]))
    h = html.html_table(df, "u", "cap & more", index=True)
    assert "&lt;b&gt;" in h and "cap &amp; more" in h
    assert h.count(">L1<") == 1  # the repeated outer level is printed once


def _verdicts(verdicts):
    """A `claims.evaluate` result of two claims of theme t."""
    return pd.DataFrame({"id": ["C01", "C02"], "theme": "t", "group": "empirical",
                         "paraphrase": ["a", "b"], "paper": ["5.4", "≥ 85"], "verdict": verdicts,
                         "ours": ["1.0", "–"], "delta": ["-4.4 pp", "–"]})


def test_theme_html_colours_each_scale_cell_by_its_verdict():
    res = {"a": _verdicts(["REPRODUCED", "NO DATA"]), "b": _verdicts(["PARTLY", "NO DATA"])}
    h = html.theme_html(res, "t", "x")
    assert h.count("<tr>") == 3 and "Claims about t:" in h
    row = h.split("<tr>")[2]  # C01: reproduced at a, partly at b
    assert (f"background:{html.VERDICT_COLOURS['REPRODUCED']}" in row
            and f"background:{html.VERDICT_COLOURS['PARTLY']}" in row)
    assert ">reproduced: 1.0 (-4.4 pp)<" in row


def test_gaps_html_one_row_per_paper_table():
    from sgnlib import claims
    from sgnlib.reader import paper_tables
    gaps = claims.table_gaps("x", {"paper": paper_tables(), "gaussianity": None})
    h = html.gaps_html(gaps)
    assert h.count("<tr>") == 1 + 4 and 'id="T_gaps"' in h
    assert h.count(">0/") == 4  # no cells of ours: "0/<the paper's cells>"


def test_discrepancies_html_has_one_row_per_finding():
    d = report.paper_discrepancies()
    assert len(d) == html.discrepancies_html(d).count("<tr>") - 1


def test_delta_style_by_sign_and_size():
    assert html.delta_style(-3.0, True).startswith(f"background:{html.BELOW};color:white")
    assert html.delta_style(2.0, False) == f"background:{html.ABOVE_TINT}"
    assert html.delta_style(float("nan"), True) == ""


def test_headed_table_rounds_and_names_columns():
    h = html.headed_table_html(
        pd.DataFrame({"factor": ["a"], "mean_delta_pp": [1.23456]}), "t", "c"
    )
    assert "mean Δ (pp)" in h and "<td>1.23</td>" in h and "1.2346" not in h and 'id="T_t"' in h


def test_quote_and_paragraph_escape_markup():
    assert html.quote_html(" a < b & c ").endswith(">a &lt; b &amp; c</blockquote>")
    assert html.paragraph_html("x < y") == "<p>x &lt; y</p>"
