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
