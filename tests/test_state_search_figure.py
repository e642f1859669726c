"""The state-search figure: one line per run, one bar per candidate, saved as SVG."""
import pandas as pd

from sgnlib import figures, state_search_figure


def test_lines_bars_and_resolution(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "FIG_DIR", tmp_path)
    series = pd.DataFrame({"scale": ["cpu", "cpu", "cpu-300", "cpu-300", "cpu-300"], "epochs": [15, 15, 300, 300, 300],
                           "epoch": [1, 15, 1, 150, 300], "distance": [14.0, 17.0, 15.0, 27.0, 20.0]})
    cands = pd.DataFrame({"candidate": ["cpu final", "training lr=0.01", "baseline"],
                          "scale": ["cpu", "protocol", "protocol"], "distance": [18.9, 16.9, 0.5],
                          "paper_spread": [0.98, 0.98, 0.98], "within_paper_spread": [False, False, True]})
    saved = state_search_figure.distance_figure(series, cands, "search")
    a, b = saved.figure.axes
    assert [len(line.get_xdata()) for line in a.get_lines()] == [2, 3]
    assert sorted(p.get_width() for p in b.patches) == [0.5, 16.9, 18.9]
    colours = {round(p.get_width(), 1): p.get_facecolor() for p in b.patches}
    assert colours[0.5] != colours[18.9]                      # within the paper's spread stands out
    assert [t.get_text() for t in b.get_yticklabels()] == ["cpu final", "training lr=0.01", "baseline"]
    assert (tmp_path / "search.svg").read_text().count("<svg") == 1
