"""The experiment pages' tables (book/experiments: a capture beside the paper's cells, a notebook's
papermill parameters) and the names the other pages use from one import: the HTML tables
(`sgnlib.chapters.html`), the scales and model names (`sgnlib.chapters.common`)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import reader
from .chapters.common import MODEL_NAMES, SCALES, fmt as _f  # noqa: F401 (re-exported)
from .chapters.html import discrepancies_html, html_table, show  # noqa: F401 (re-exported)
from .chapters import html as _html
from .paths import RESULTS_DIR


COUNTS = {"ours": "gauss_pct_incl_degenerate", "excl.": "gauss_pct_excl_degenerate",
          "degen.": "degenerate_pct", "BH-FDR": "gauss_pct_fdr"}  # column shown: result column


def _paper_cell(p: pd.DataFrame, layer: str) -> str:
    if layer not in p.index:
        return "–"
    return f"{_f(p.gauss_pct_mean[layer], 2)} ± {_f(p.gauss_pct_std[layer], 2)}"


def capture_vs_paper(table: pd.DataFrame, model: str, batch_size: int,
                     n_batches: int) -> pd.DataFrame:
    """A capture's per-layer percentages (mean over repeats) beside the paper's cell ('–' where it
    has none)."""
    agg = table.groupby("layer", sort=False).agg(
        d=("d", "first"), **{c: (c, "mean") for c in COUNTS.values()},
        repeats=("gauss_pct_incl_degenerate", "size"))
    agg = agg.loc[reader.layer_order(agg.index)]
    p = reader.paper_tables()
    p = p[(p.model == model) & (p.batch_size == batch_size) & (p.n_batches == n_batches)]
    p = p.set_index("layer")
    out = pd.DataFrame({"d": [f"{int(v):,}" for v in agg.d],
                        **{name: [_f(v, 2) for v in agg[c]] for name, c in COUNTS.items()},
                        "n": agg.repeats.astype(str).tolist()},
                       index=pd.Index(agg.index, name="layer"))
    out["paper"] = [_paper_cell(p, layer) for layer in agg.index]
    return out


def notebook_parameters(path) -> pd.DataFrame:
    """The papermill parameters of a notebook: name, default, type and the comment that explains
    it."""
    import ast

    import papermill as pm
    return pd.DataFrame([{"parameter": p["name"], "default": p["default"],
                          "type": type(ast.literal_eval(p["default"])).__name__,
                          "meaning": p["help"] or ""}
                         for p in pm.inspect_notebook(str(path)).values()])


def parameters_html(path, uid: str) -> str:
    """The papermill parameters of the notebook at `path` as an HTML table."""
    return _html.parameters_html(notebook_parameters(path), Path(path).name, uid)


def readme_html(name: str, uid: str) -> str:
    """The README.md of results folder `name` as HTML: its facts verbatim."""
    return _html.readme_html((RESULTS_DIR / name / "README.md").read_text(), uid)
