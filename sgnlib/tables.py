"""The book's tables, assembled from the results (`reader.read_table`) and the paper's CSV, as HTML that fits
an 800 px page (wrapping text, fixed ids: reproducible notebook outputs). Nothing is typed by hand; the numbers
the chapters' text quotes come from `report.*_facts`, the notes on missing results from `report.GAPS`.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from . import reader, report
from .paths import RESULTS_DIR
from .report import GAPS, MODEL_NAMES, PAPER_EPOCHS, fmt as _f, gap, join as _join  # noqa: F401 (re-exported)

SCALES = ("cpu-300", "gpu-short", "cpu")  # our results folders (data/results/<scale>), paper recipe first
# Okabe-Ito (colour-blind safe): blue = ours above the paper, vermilion = ours below
ABOVE, BELOW, ABOVE_TINT, BELOW_TINT = "#0072B2", "#D55E00", "#dbeaf5", "#f8e0d0"


CSS = ("<style>#T {border-collapse: collapse; font-size: 0.82em; max-width: 100%; margin: 0.5em 0 1em;} #T caption "
       "{caption-side: top; text-align: left; font-size: 0.95em; color: #333; padding-bottom: 0.4em; white-space: "
       "normal;} #T th, #T td {padding: 0.2em 0.45em; border-bottom: 1px solid #ddd; white-space: normal; "
       "overflow-wrap: break-word; vertical-align: top;} #T thead th {border-bottom: 2px solid #888; text-align: "
       "center;} #T td {text-align: right;} #T td.text {text-align: left;}</style>")


def html_table(df: pd.DataFrame, uid: str, caption: str = "", index: bool = False, cell_style=None,
               text_columns=()) -> str:
    """HTML table T_<uid>, wrapping cells, caption on top, index levels first; cell_style(i, column) -> CSS."""
    out = [CSS.replace("#T", f"#T_{uid}"), f'<table id="T_{uid}" class="sgn-table">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    head = "".join(f"<th>{html.escape(str(h or ''))}</th>" for h in [*(df.index.names if index else []), *df.columns])
    out.append(f"<thead><tr>{head}</tr></thead><tbody>")
    keys = [k if isinstance(k, tuple) else (k,) for k in df.index]
    for i in range(len(df)):
        cells = []
        for lvl, k in enumerate(keys[i] if index else ()):
            same = i and lvl < len(keys[i]) - 1 and keys[i - 1][:lvl + 1] == keys[i][:lvl + 1]
            cells.append(f'<th class="text" style="text-align:left">{"" if same else html.escape(str(k))}</th>')
        for c in df.columns:
            v = df.iloc[i][c]
            txt = "–" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            style, cls = cell_style(i, c) if cell_style else "", ' class="text"' if c in text_columns else ""
            cells.append(f"<td{cls}" + (f' style="{style}"' if style else "") + f">{html.escape(txt)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</tbody></table>"


def show(html_text: str) -> None:
    """Display HTML in a notebook (returns nothing, so a cell ending in it shows no repr)."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
        if get_ipython() is not None:
            display(HTML(html_text))
    except ImportError:
        pass


def results(scales=SCALES, tables=("gaussianity",), results_dir=None) -> dict:
    """{scale: {table: DataFrame or None}} through reader.read_table: the scale's own protocol only
    (configurations with a capture or training option are left out, as the paper's tables compare)."""
    read = {s: {t: reader.read_table(s, t, results_dir) for t in tables} for s in scales}
    return {s: {t: v if v is None else reader.without_options(v) for t, v in r.items()} for s, r in read.items()}


def runs(df: pd.DataFrame | None) -> dict:
    """The run behind a results table's rows: distinct devices, epochs, ... short commits; repeats."""
    if df is None or not len(df):
        return {}
    out = {k: sorted(df[k].dropna().unique().tolist()) for k in ("device", "epochs", "n_batches", "model") if k in df}
    out["repeats"] = int(df["repeat"].nunique()) if "repeat" in df else None
    if "git_commit" in df:
        out["commit"] = sorted({str(c)[:8] + ("+dirty" if str(c).endswith("+dirty") else "")
                                for c in df.git_commit.dropna()})
    return out


def run_caption(df: pd.DataFrame | None, scale: str) -> str:
    """The run in one sentence: scale, device, models and epochs trained, repeats, minibatches."""
    r = runs(df)
    if not r:
        return f"{scale} scale: no results"
    parts = [f"{scale} scale", _join(r.get("device", [])) or "device not recorded"]
    if r.get("epochs"):
        models = _join(MODEL_NAMES.get(m, m) for m in r.get("model", []))
        parts.append(f"{models} trained {_join(r['epochs'])} of the paper's {PAPER_EPOCHS} epochs".strip())
    if r.get("repeats"):
        parts.append(f"{r['repeats']} repeat{'s' if r['repeats'] > 1 else ''}")
    if r.get("n_batches"):
        parts.append(f"{_join(r['n_batches'])} minibatches per capture")
    return "; ".join(parts)


DELTA_LEGEND = ("Δ pp = ours − paper in percentage points: blue, ours higher; vermilion, ours lower; "
                "saturated and bold where |Δ| exceeds both standard deviations (the paper's over its 5 repeats "
                "and ours over our repeats, where we have more than one), pale where it does not.")


def comparison(g: pd.DataFrame | None, model: str, n_batches: int, layers="all") -> pd.DataFrame | None:
    """Ours beside the paper's per (layer, batch size) at the final checkpoint, or None: ours_mean/std (ddof 1),
    paper_mean/std, delta_pp, exceeds (|delta| above both stds), excl_degenerate, degenerate_pct, repeats."""
    if g is None or not len(reader.final_rows(g, model).query("n_batches == @n_batches")):
        return None
    t = reader.ours_vs_paper(g, model, n_batches)
    excl = reader.ours_vs_paper(g, model, n_batches, rule="gauss_pct_excl_degenerate")
    t = t.merge(excl[["layer", "batch_size", "ours_mean"]].rename(columns={"ours_mean": "excl_degenerate"}),
                on=["layer", "batch_size"])
    t["delta_pp"] = t.ours_mean - t.paper_mean
    d = t.delta_pp.abs()
    t["exceeds"] = (d > t.paper_std) & (t.ours_std.isna() | (d > t.ours_std)) & t.paper_mean.notna()
    if layers != "all":
        p = reader.paper_tables()
        t = t[t.layer.isin(reader.layer_order(p[p.model == model].layer) if layers == "paper" else layers)]
    order = {n: i for i, n in enumerate(reader.layer_order(t.layer))}
    t = t.assign(_o=t.layer.map(order)).sort_values(["_o", "batch_size"])
    return t[["layer", "batch_size", "ours_mean", "ours_std", "paper_mean", "paper_std", "delta_pp", "exceeds",
              "excl_degenerate", "degenerate_pct", "repeats"]].reset_index(drop=True)


def delta_style(delta, exceeds) -> str:
    """CSS of a Δ cell: blue (ours above) or vermilion (below), saturated when |Δ| exceeds both stds."""
    if delta is None or pd.isna(delta):
        return ""
    return (f"background:{ABOVE if delta > 0 else BELOW};color:white;font-weight:bold" if exceeds
            else f"background:{ABOVE_TINT if delta > 0 else BELOW_TINT}")


def comparison_html(t: pd.DataFrame, uid: str, caption: str) -> str:
    f2 = lambda col: [_f(v, 2) for v in t[col]]  # noqa: E731
    frame = pd.DataFrame({"layer": t.layer, "batch": t.batch_size, "ours": f2("ours_mean"), "σ ours": f2("ours_std"),
                          "paper": f2("paper_mean"), "σ paper": f2("paper_std"),
                          "Δ pp": [_f(v, 1, sign=True) for v in t.delta_pp], "n": t.repeats.astype(int).astype(str),
                          "excl.": [_f(v, 1) for v in t.excl_degenerate],
                          "degen.": [_f(v, 1) for v in t.degenerate_pct]}).set_index(["layer", "batch"])
    deltas, exceeds = t.delta_pp.tolist(), t.exceeds.tolist()
    return html_table(frame, uid, caption, index=True,
                      cell_style=lambda i, c: delta_style(deltas[i], exceeds[i]) if c == "Δ pp" else "")


def comparison_caption(table_no: int, model: str, n_batches: int, scale: str, g, shown: str = "") -> str:
    grid = reader.final_rows(g, model)
    return (f"Table {table_no} ({MODEL_NAMES.get(model, model)}, {n_batches} minibatches), ours at "
            f"{run_caption(grid[grid.n_batches == n_batches], scale)}{shown}. % Gaussian weight dimensions "
            f"(Shapiro-Wilk at significance level 0.05; point masses counted as Gaussian, the paper's rule; the null "
            f"ceiling is 95 %). σ: standard deviation over repeats; n: our repeats; excl.: point masses not counted "
            f"as Gaussian; degen.: % point-mass dimensions. " + DELTA_LEGEND)


def show_comparison(g, table_no: int, model: str, n_batches: int, scale: str, gap_key: str | None = None,
                    layers="all"):
    """Display Table `table_no` at one scale, or the note GAPS[gap_key] without rows; return the comparison."""
    t, key = comparison(g, model, n_batches, layers), layers if isinstance(layers, str) else "sel"
    if t is None:
        return gap(gap_key) if gap_key else show(f"<p>{scale} scale: no results for Table {table_no}.</p>")
    shown = {"all": "", "paper": "; the layers the paper lists"}.get(key, "; selected layers")
    cap = comparison_caption(table_no, model, n_batches, scale, g, shown)
    return show(comparison_html(t, f"table{table_no}_{scale}_{key}", cap)) or t


def grid_html(t: pd.DataFrame, uid: str, caption: str) -> str:
    """Every layer x batch size, ours (the paper's value in brackets where it gives one)."""
    t = t.assign(cell=[_f(o) + ("" if pd.isna(p) else f" ({_f(p)})") for o, p in zip(t.ours_mean, t.paper_mean)])
    w = t.pivot(index="layer", columns="batch_size", values="cell")
    w = w.loc[reader.layer_order(w.index)]
    deg = t.groupby("layer").degenerate_pct.mean()
    w.columns = [f"batch {c}" for c in w.columns]
    w["degen."] = [_f(deg[layer], 1) for layer in w.index]
    return html_table(w.rename_axis("layer"), uid, caption, index=True)


def capture_vs_paper(table: pd.DataFrame, model: str, batch_size: int, n_batches: int) -> pd.DataFrame:
    """A capture's per-layer percentages (mean over repeats) beside the paper's cell ('–' where it has none)."""
    cols = ["gauss_pct_incl_degenerate", "gauss_pct_excl_degenerate", "degenerate_pct", "gauss_pct_fdr"]
    agg = table.groupby("layer", sort=False).agg(d=("d", "first"), **{c: (c, "mean") for c in cols},
                                                 repeats=("gauss_pct_incl_degenerate", "size"))
    agg = agg.loc[reader.layer_order(agg.index)]
    p = reader.paper_tables()
    p = p[(p.model == model) & (p.batch_size == batch_size) & (p.n_batches == n_batches)].set_index("layer")
    out = pd.DataFrame({"d": [f"{int(v):,}" for v in agg.d], **{name: [_f(v, 2) for v in agg[c]] for name, c in
                        zip(("ours", "excl.", "degen.", "BH-FDR"), cols)}, "n": agg.repeats.astype(str).tolist()},
                       index=pd.Index(agg.index, name="layer"))
    out["paper"] = [f"{_f(p.gauss_pct_mean[l], 2)} ± {_f(p.gauss_pct_std[l], 2)}" if l in p.index else "–"
                    for l in agg.index]
    return out


def provenance(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """What ran where, from the rows' provenance: per (scale, model, run) tables, device, epochs, repeats, commits."""
    from .store import TABLES
    rows = []
    for scale in scales:
        for name in (*TABLES, "alpha_stable"):
            df = reader.read_table(scale, name, results_dir)
            for model, d in ([] if df is None else df.groupby("model", sort=True)):
                r, dates = runs(d), pd.to_datetime(d["date"], utc=True)
                torch = _join(sorted(d.torch_version.dropna().astype(str).unique())) if "torch_version" in d else ""
                day = lambda x: x.strftime("%Y-%m-%d")  # noqa: E731
                rows.append({"scale": scale, "tables": name, "model": MODEL_NAMES.get(model, model),
                             "device": _join(r.get("device", [])) + (f", torch {torch}" if torch else ""),
                             "epochs": _join(r.get("epochs", [])) or "–", "repeats": str(r.get("repeats") or "–"),
                             "configs": int(d.config_id.nunique()), "commit": _join(r.get("commit", [])),
                             "date": day(dates.min()) + ("" if day(dates.min()) == day(dates.max())
                                                         else " – " + day(dates.max())),
                             "_ids": tuple(sorted(d.config_id.unique()))})
    p = pd.DataFrame(rows)
    if not len(p):
        return p
    p = p.groupby([c for c in p if c != "tables"], sort=False, as_index=False).agg(tables=("tables", ", ".join))
    return p[["scale", "tables", "model", "device", "epochs", "repeats", "configs", "commit", "date"]]


def provenance_html(p: pd.DataFrame, uid: str = "provenance") -> str:
    cap = ("What ran where, generated from the provenance columns every result row carries "
           "(sgnlib.tables.provenance). tables: the results tables the configurations wrote; epochs: training "
           "length of the checkpoint (the paper: 300); repeats: distinct repeat indices; configs: committed "
           "configurations; commit: git commits the rows were computed from (+dirty: an edited working tree).")
    return html_table(p.set_index(["scale", "tables"]), uid, cap, index=True,
                      text_columns=("model", "device", "commit", "date"))


def training_summary(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """Final epoch of each training run: lr, losses, test accuracy, median throughput, device."""
    rows = []
    for s in scales:
        t = reader.read_table(s, "training", results_dir)
        for model, d in ([] if t is None else t.groupby("model")):
            last = d.sort_values("epoch").iloc[-1]
            rows.append({"scale": s, "model": MODEL_NAMES.get(model, model), "epochs": int(last.epoch),
                         "final lr": f"{last.lr:g}", "train loss": _f(last.train_loss, 3),
                         "test acc.": _f(last.test_acc, 3), "img/s": f"{d.img_per_s.median():,.0f}",
                         "device": str(last.device)})
    return pd.DataFrame(rows)


def schedules(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """Schedules that ran: epochs, the (1-based) epochs where the rows' lr fell, Recipe's scaled milestones."""
    from .train import Recipe
    rows = []
    for s in scales:
        t = reader.read_table(s, "training", results_dir)
        for model, d in ([] if t is None else t.groupby("model")):
            d, epochs = d.sort_values("epoch"), int(d.epochs.iloc[0])
            lr = d.lr.to_numpy()
            drops = [int(e) for e, a, b in zip(d.epoch.iloc[1:], lr[:-1], lr[1:]) if b < a]
            rows.append({"scale": s, "model": MODEL_NAMES.get(model, model), "epochs": epochs,
                         "lr": _join(f"{v:g}" for v in dict.fromkeys(lr)), "lr falls in epoch": _join(drops) or "–",
                         "Recipe milestones": _join(Recipe(epochs=epochs).scaled_milestones()),
                         "final test acc.": _f(d.test_acc.iloc[-1], 3)})
    rows.append({"scale": "the paper", "model": "all", "epochs": PAPER_EPOCHS, "lr": "0.1, 0.01, 0.001",
                 "lr falls in epoch": "151, 226", "Recipe milestones": _join(Recipe().scaled_milestones()),
                 "final test acc.": "not reported"})
    return pd.DataFrame(rows)


def readme_html(name: str, uid: str) -> str:
    """A results folder's README.md as HTML (headings demoted, long lines wrapped): its facts verbatim."""
    from markdown_it import MarkdownIt
    import re
    body = MarkdownIt("commonmark").enable("table").render((RESULTS_DIR / name / "README.md").read_text())
    body, r = re.sub(r"<(/?)h([1-4])>", lambda m: f"<{m[1]}h{min(int(m[2]) + 3, 6)}>", body), f"#R_{uid}"
    return (f"<style>{r} pre, {r} code {{white-space: pre-wrap; overflow-wrap: anywhere;}} {r} table {{font-size: "
            f"0.8em; border-collapse: collapse;}} {r} td, {r} th {{padding: 0.15em 0.35em; border-bottom: 1px solid "
            f"#ddd;}} {r} {{border-left: 3px solid #ccc; padding-left: 0.8em; font-size: 0.92em;}}</style>"
            f'<div id="R_{uid}" class="sgn-readme">{body}</div>')


def alpha_stable_summary(fits: pd.DataFrame) -> pd.DataFrame:
    g, t, m = fits.groupby(["layer", "batch_size"]), "mle_tail_index", "tail_index_mohammadi"
    s = g.agg(n=("dim", "size"), failed=(t, lambda v: v.isna().sum()), mle=(t, "median"), moh=(m, "median"))
    return pd.DataFrame({"dims": s.n, "MLE failed": s.failed, "median α, MLE": s.mle.map(lambda v: _f(v, 2)),
                         "median α, Mohammadi": s.moh.map(lambda v: _f(v, 2))}).rename_axis(["layer", "batch"])


def discrepancies_html(d: pd.DataFrame, uid: str = "discrepancies") -> str:
    cap = "Inconsistencies in the paper, and statements stronger or weaker than what holds (report.paper_discrepancies)."
    return html_table(d, uid, cap, text_columns=tuple(d.columns))


def notebook_parameters(path) -> pd.DataFrame:
    """The papermill parameters of a notebook: name, default, type and the comment that explains it."""
    import ast

    import papermill as pm
    return pd.DataFrame([{"parameter": p["name"], "default": p["default"],
                          "type": type(ast.literal_eval(p["default"])).__name__, "meaning": p["help"] or ""}
                         for p in pm.inspect_notebook(str(path)).values()])


def parameters_html(path, uid: str) -> str:
    cap = f"Parameters of {str(path).split('/')[-1]} (papermill: -p NAME VALUE), read from its parameters cell."
    return html_table(notebook_parameters(path), uid, cap, text_columns=("parameter", "default", "type", "meaning"))
