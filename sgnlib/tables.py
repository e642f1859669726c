"""The book's tables: assembled from the results (`report.read_table`) and the paper's CSV, formatted as
HTML that fits an 800 px page (wrapping text, fixed ids so executed notebooks are reproducible).

Nothing here is typed by hand: every number comes from a results table, the paper's tables or a
computation on them. The notebooks only call these functions.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import report
from .paths import RESULTS_DIR

SCALES = ("paper", "cpu")
PAPER_EPOCHS = 300
# Okabe-Ito (colour-blind safe): blue = ours above the paper, vermilion = ours below
ABOVE, BELOW = "#0072B2", "#D55E00"
ABOVE_TINT, BELOW_TINT = "#dbeaf5", "#f8e0d0"
VERDICT_COLOURS = {"reproduced": ABOVE_TINT, "not reproduced": BELOW_TINT, "no data": "#eeeeee"}

# ---------------------------------------------------------------- HTML


def _css(uid: str) -> str:
    t = f"#T_{uid}"
    return (f"<style>{t} {{border-collapse: collapse; font-size: 0.82em; max-width: 100%; margin: 0.5em 0 1em;}}"
            f" {t} caption {{caption-side: top; text-align: left; font-size: 0.95em; color: #333; "
            f"padding-bottom: 0.4em; white-space: normal;}}"
            f" {t} th, {t} td {{padding: 0.2em 0.45em; border-bottom: 1px solid #ddd; white-space: normal; "
            f"overflow-wrap: break-word; vertical-align: top;}}"
            f" {t} thead th {{border-bottom: 2px solid #888; text-align: center;}}"
            f" {t} td {{text-align: right;}} {t} td.text {{text-align: left;}}</style>")


def html_table(df: pd.DataFrame, uid: str, caption: str = "", index: bool = False,
               cell_style=None, text_columns=()) -> str:
    """A plain HTML table with id T_<uid>: escaped cells, wrapping text, a caption on top.

    cell_style(row_position, column) -> extra CSS for that cell, or ''."""
    cols = list(df.columns)
    out = [_css(uid), f'<table id="T_{uid}" class="sgn-table">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    head = ([html.escape(str(n or "")) for n in (df.index.names if index else [])] +
            [html.escape(str(c)) for c in cols])
    out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>")
    idx = list(df.index)
    for i in range(len(df)):
        cells = []
        if index:
            key = idx[i] if isinstance(idx[i], tuple) else (idx[i],)
            prev = (idx[i - 1] if isinstance(idx[i - 1], tuple) else (idx[i - 1],)) if i else None
            for lvl, k in enumerate(key):
                same = prev is not None and tuple(prev[:lvl + 1]) == tuple(key[:lvl + 1]) and lvl < len(key) - 1
                cells.append(f'<th class="text" style="text-align:left">{"" if same else html.escape(str(k))}</th>')
        for c in cols:
            v = df.iloc[i][c]
            txt = "–" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            style = cell_style(i, c) if cell_style else ""
            cls = ' class="text"' if c in text_columns else ""
            st = f' style="{style}"' if style else ""
            cells.append(f"<td{cls}{st}>{html.escape(txt)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def show(html_text: str) -> None:
    """Display HTML in a notebook (returns nothing, so a cell ending in it shows no repr)."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
        if get_ipython() is not None:
            display(HTML(html_text))
    except ImportError:
        pass


# ---------------------------------------------------------------- runs


def runs(df: pd.DataFrame | None) -> dict:
    """What a results table's rows say about the run behind them: device(s), epochs, repeats,
    n_batches, models and commits (short), each as a sorted list of distinct values."""
    if df is None or not len(df):
        return {}
    out = {}
    for key, col in (("device", "device"), ("epochs", "epochs"), ("n_batches", "n_batches"),
                     ("model", "model"), ("batch_size", "batch_size")):
        if col in df:
            out[key] = sorted(df[col].dropna().unique().tolist())
    out["repeats"] = int(df["repeat"].nunique()) if "repeat" in df else None
    if "git_commit" in df:
        out["commit"] = sorted({str(c)[:8] + ("+dirty" if str(c).endswith("+dirty") else "")
                                for c in df.git_commit.dropna()})
    return out


def _join(values) -> str:
    return ", ".join(str(v) for v in values)


MODEL_NAMES = {"alexnet": "AlexNet", "alexnet_bn": "AlexNet-BN", "resnet20": "ResNet-20", "resnet56": "ResNet-56"}


def run_caption(df: pd.DataFrame | None, scale: str) -> str:
    """One sentence naming the run: scale, device, models and epochs trained (of the paper's 300),
    repeats, minibatches per capture."""
    r = runs(df)
    if not r:
        return f"{scale} scale: no results"
    parts = [f"{scale} scale", _join(r.get("device", [])) or "device not recorded"]
    models = _join(MODEL_NAMES.get(m, m) for m in r.get("model", []))
    if r.get("epochs"):
        parts.append(f"{models} trained {_join(r['epochs'])} of the paper's {PAPER_EPOCHS} epochs".strip())
    if r.get("repeats"):
        parts.append(f"{r['repeats']} repeat{'s' if r['repeats'] > 1 else ''}")
    if r.get("n_batches"):
        parts.append(f"{_join(r['n_batches'])} minibatches per capture")
    return "; ".join(parts)


# ---------------------------------------------------------------- Tables 1-4


def paper_layers(model: str) -> list[str]:
    """The layers the paper's tables list for `model`, in forward order."""
    p = report.paper_tables()
    return report.layer_order(p[p.model == model].layer)


def comparison(g: pd.DataFrame | None, model: str, n_batches: int, layers="all") -> pd.DataFrame | None:
    """Ours beside the paper's, one row per (layer, batch size) at the final checkpoint, or None.

    Columns: layer, batch_size, ours_mean, ours_std (over repeats, ddof 1), paper_mean, paper_std,
    delta_pp (ours - paper), exceeds (|delta| larger than the paper's std and than ours where ours is
    defined), strict (mean % under the strict rule), degenerate_pct, repeats.
    layers: "all", "paper" (the layers the paper lists) or a list."""
    if g is None:
        return None
    grid = report.final_epoch_grid(g, model)
    if not len(grid[grid.n_batches == n_batches]):
        return None
    t = report.ours_vs_paper(g, model, n_batches)
    strict = report.ours_vs_paper(g, model, n_batches, rule="gauss_pct_strict")
    t = t.merge(strict[["layer", "batch_size", "ours_mean"]].rename(columns={"ours_mean": "strict"}),
                on=["layer", "batch_size"])
    t["delta_pp"] = t.ours_mean - t.paper_mean
    bigger = lambda s: t.delta_pp.abs() > s  # noqa: E731
    t["exceeds"] = bigger(t.paper_std) & (t.ours_std.isna() | bigger(t.ours_std))
    t.loc[t.paper_mean.isna(), "exceeds"] = False
    keep = paper_layers(model) if layers == "paper" else (None if layers == "all" else list(layers))
    if keep is not None:
        t = t[t.layer.isin(keep)]
    order = {name: i for i, name in enumerate(report.layer_order(t.layer))}
    t = t.assign(_o=t.layer.map(order)).sort_values(["_o", "batch_size"]).drop(columns="_o")
    return t[["layer", "batch_size", "ours_mean", "ours_std", "paper_mean", "paper_std", "delta_pp", "exceeds",
              "strict", "degenerate_pct", "repeats"]].reset_index(drop=True)


def _f(v, digits=1, sign=False) -> str:
    if v is None or pd.isna(v):
        return "–"
    s = f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"
    return s.replace("-", "−")


def delta_style(delta, exceeds) -> str:
    """CSS of a Δ cell: blue when ours is above the paper, vermilion below; saturated with white bold
    text when |Δ| exceeds both stds, a pale tint when it does not; nothing without a paper value."""
    if delta is None or pd.isna(delta):
        return ""
    if exceeds:
        return f"background:{ABOVE if delta > 0 else BELOW};color:white;font-weight:bold"
    return f"background:{ABOVE_TINT if delta > 0 else BELOW_TINT}"


DELTA_LEGEND = ("Δ pp = ours − paper in percentage points: blue, ours higher; vermilion, ours lower; "
                "saturated and bold where |Δ| exceeds both standard deviations (the paper's over its 5 repeats "
                "and ours over our repeats, where we have more than one), pale where it does not.")


def comparison_frame(t: pd.DataFrame) -> pd.DataFrame:
    """The displayed columns of a comparison: formatted strings, indexed by (layer, batch)."""
    out = pd.DataFrame({
        "layer": t.layer, "batch": t.batch_size,
        "ours": [_f(v, 2) for v in t.ours_mean], "σ ours": [_f(v, 2) for v in t.ours_std],
        "paper": [_f(v, 2) for v in t.paper_mean], "σ paper": [_f(v, 2) for v in t.paper_std],
        "Δ pp": [_f(v, 1, sign=True) for v in t.delta_pp], "n": t.repeats.astype(int).astype(str),
        "strict": [_f(v, 1) for v in t.strict], "degen.": [_f(v, 1) for v in t.degenerate_pct]})
    return out.set_index(["layer", "batch"])


def comparison_html(t: pd.DataFrame, uid: str, caption: str) -> str:
    frame = comparison_frame(t)
    deltas, exceeds = t.delta_pp.tolist(), t.exceeds.tolist()
    return html_table(frame, uid, caption, index=True,
                      cell_style=lambda i, c: delta_style(deltas[i], exceeds[i]) if c == "Δ pp" else "")


def comparison_caption(table_no: int, model: str, n_batches: int, scale: str, g: pd.DataFrame,
                       shown: str = "") -> str:
    grid = report.final_epoch_grid(g, model)
    grid = grid[grid.n_batches == n_batches]
    return (f"Table {table_no} ({MODEL_NAMES.get(model, model)}, {n_batches} minibatches), ours at "
            f"{run_caption(grid, scale)}{shown}. % Gaussian weight dimensions (Shapiro-Wilk, α = 0.05, paper "
            f"rule: point masses count as Gaussian; the null ceiling is 95 %). σ: standard deviation over "
            f"repeats; n: our repeats; strict: point masses excluded; degen.: % point-mass dimensions. "
            + DELTA_LEGEND)


def grid_html(t: pd.DataFrame, uid: str, caption: str) -> str:
    """Every layer x batch size, ours (the paper's value in brackets where it gives one), for the
    long ResNet tables."""
    t = t.copy()
    t["cell"] = [_f(o, 1) + ("" if pd.isna(p) else f" ({_f(p, 1)})") for o, p in zip(t.ours_mean, t.paper_mean)]
    w = t.pivot(index="layer", columns="batch_size", values="cell")
    w = w.loc[report.layer_order(w.index)]
    deg = t.groupby("layer").degenerate_pct.mean()
    w["degen."] = [_f(deg[layer], 1) for layer in w.index]
    w.columns = [f"batch {c}" if c != "degen." else c for c in w.columns]
    w.index.name = "layer"
    return html_table(w, uid, caption, index=True)


# ---------------------------------------------------------------- provenance: what ran where


def provenance(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """What ran where, from the results' own provenance columns: one row per (scale, model, run)
    with the tables it wrote, device and torch version, epochs trained, repeats, configurations,
    commits and dates. Tables written by the same configurations (the capture stage writes
    gaussianity and tail_index) share a row."""
    from .store import TABLES
    rows = []
    for scale in scales:
        for name in (*TABLES, "alpha_stable"):
            df = report.read_table(scale, name, results_dir)
            if df is None or not len(df):
                continue
            for model, d in df.groupby("model", sort=True):
                r = runs(d)
                dates = pd.to_datetime(d["date"], utc=True)
                torch = _join(sorted(d["torch_version"].dropna().astype(str).unique())) if "torch_version" in d else ""
                rows.append({
                    "scale": scale, "tables": name, "model": MODEL_NAMES.get(model, model),
                    "device": _join(r.get("device", [])) + (f", torch {torch}" if torch else ""),
                    "epochs": _join(r.get("epochs", [])) or "–",
                    "repeats": str(r.get("repeats") or "–"),
                    "configs": int(d["config_id"].nunique()),
                    "commit": _join(r.get("commit", [])),
                    "date": dates.min().strftime("%Y-%m-%d") + ("" if dates.min().date() == dates.max().date()
                                                                else " – " + dates.max().strftime("%Y-%m-%d")),
                    "_ids": tuple(sorted(d["config_id"].unique())),
                })
    p = pd.DataFrame(rows)
    if not len(p):
        return p
    keys = [c for c in p.columns if c != "tables"]
    p = p.groupby(keys, sort=False, as_index=False).agg(tables=("tables", ", ".join))
    return p[["scale", "tables", "model", "device", "epochs", "repeats", "configs", "commit", "date"]]


def provenance_html(p: pd.DataFrame, uid: str = "provenance") -> str:
    cap = ("What ran where, generated from the provenance columns every result row carries "
           "(sgnlib.tables.provenance). tables: the results tables the configurations wrote; epochs: "
           "training length of the checkpoint (the paper: 300); repeats: distinct repeat indices; "
           "configs: committed configurations; commit: git commits the rows were computed from "
           "(+dirty: an edited working tree).")
    return html_table(p.set_index(["scale", "tables"]), uid, cap, index=True,
                      text_columns=("model", "device", "commit", "date"))


def training_summary(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """Final epoch of each training run: scale, model, epochs, final lr, train loss, test accuracy,
    median throughput and device."""
    rows = []
    for s in scales:
        t = report.read_table(s, "training", results_dir)
        if t is None:
            continue
        for model, d in t.groupby("model"):
            last = d.sort_values("epoch").iloc[-1]
            rows.append({"scale": s, "model": MODEL_NAMES.get(model, model), "epochs": int(last.epoch),
                         "final lr": f"{last.lr:g}", "train loss": _f(last.train_loss, 3),
                         "test acc.": _f(last.test_acc, 3), "img/s": f"{d.img_per_s.median():,.0f}",
                         "device": str(last.device)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- other result tables


def moment_quantiles(m: pd.DataFrame, model: str) -> pd.DataFrame:
    """Quantiles of beta/sigma^3 over a layer's weight dimensions, in forward layer order."""
    q = m[m.model == model].groupby("layer", sort=False)[["q05", "q25", "q50", "q75", "q95"]].first()
    q = q.loc[report.layer_order(q.index)]
    return q.map(lambda v: _f(v, 2))


def fig5_spines(m: pd.DataFrame, g: pd.DataFrame, model: str, layer: str, n_batches: int = 200) -> pd.DataFrame:
    """Fig 5's spines: for each batch size, the beta/sigma^3 value below which lies the layer's
    fraction of Gaussian dimensions (ours, paper rule), read off the binned distribution (upper bin
    edge); and the same quantile at the paper's fraction (Tables 1-2) where the paper gives one."""
    h = m[(m.model == model) & (m.layer == layer)].sort_values("bin_lo")
    cdf = (h["count"].cumsum() / h["count"].sum()).to_numpy()
    edges = h.bin_hi.to_numpy()

    def at(frac):
        if pd.isna(frac):
            return np.nan
        return float(edges[min(np.searchsorted(cdf, frac), len(edges) - 1)])
    t = report.ours_vs_paper(g, model, n_batches)
    t = t[t.layer == layer].sort_values("batch_size")
    return pd.DataFrame({"batch_size": t.batch_size.to_numpy(), "gauss_frac": t.ours_mean.to_numpy() / 100,
                         "ratio": [at(f) for f in t.ours_mean / 100],
                         "paper_frac": t.paper_mean.to_numpy() / 100,
                         "paper_ratio": [at(f) for f in t.paper_mean / 100]})


def berry_esseen_table(be: pd.DataFrame) -> pd.DataFrame:
    """(layer, quantity) x batch size: median Kolmogorov distance to Phi and median eq-13 bound."""
    rows = []
    for layer in report.layer_order(be.layer):
        d = be[be.layer == layer].set_index("batch_size").sort_index()
        rows.append({"layer": layer, "median": "distance", **{f"batch {b}": _f(v, 3) for b, v in d.ks_q50.items()}})
        rows.append({"layer": layer, "median": "bound", **{f"batch {b}": _f(v, 3) for b, v in d.bound_q50.items()}})
    return pd.DataFrame(rows).set_index(["layer", "median"])


def alpha_stable_summary(fits: pd.DataFrame) -> pd.DataFrame:
    s = fits.groupby(["layer", "batch_size"]).agg(
        n=("dim", "size"), failed=("mle_alpha", lambda v: int(v.isna().sum())),
        mle=("mle_alpha", "median"), mohammadi=("alpha_mohammadi", "median")).reset_index()
    return pd.DataFrame({"layer": s.layer, "batch": s.batch_size, "dims": s.n, "MLE failed": s.failed,
                         "median α, MLE": [_f(v, 2) for v in s.mle],
                         "median α, Mohammadi": [_f(v, 2) for v in s.mohammadi]}).set_index(["layer", "batch"])


def verdicts_html(v: pd.DataFrame, uid: str = "verdicts") -> str:
    cols = ["verdict", "claim", "evidence"]
    verdict = v.verdict.tolist()
    return html_table(v.set_index("scale")[cols], uid,
                      "One verdict per claim of the paper and scale, computed by sgnlib.report.verdicts "
                      "(blue: reproduced, vermilion: not reproduced, grey: no data).", index=True,
                      cell_style=lambda i, c: f"background:{VERDICT_COLOURS.get(verdict[i], '')}"
                      if c == "verdict" else "", text_columns=cols)


def discrepancies_html(d: pd.DataFrame, uid: str = "discrepancies") -> str:
    return html_table(d, uid, "Inconsistencies inside the paper, each computed from its own numbers "
                      "(sgnlib.report.paper_discrepancies).", text_columns=tuple(d.columns))


# ---------------------------------------------------------------- notebooks


def notebook_parameters(path) -> pd.DataFrame:
    """The papermill parameters of a notebook: name, default, type and the comment that explains it."""
    import ast

    import papermill as pm
    params = pm.inspect_notebook(str(path))

    def kind(p):
        if p["inferred_type_name"] not in (None, "None"):
            return p["inferred_type_name"]
        try:
            return type(ast.literal_eval(p["default"])).__name__
        except (ValueError, SyntaxError):
            return "–"
    return pd.DataFrame([{"parameter": p["name"], "default": p["default"], "type": kind(p),
                          "meaning": p["help"] or ""} for p in params.values()])


def parameters_html(path, uid: str) -> str:
    p = notebook_parameters(path)
    return html_table(p, uid, f"Parameters of {Path(path).name} (papermill: -p NAME VALUE), read from its "
                      f"parameters cell.", text_columns=("parameter", "default", "type", "meaning"))


# ---------------------------------------------------------------- gaps


@dataclass(frozen=True)
class Gap:
    """A numbered element of the paper we have not computed: what, why, and the command that fills it."""
    what: str
    why: str
    command: str

    def command_lines(self, width: int = 64) -> list[str]:
        """The command broken at spaces into shell lines of at most `width` characters."""
        lines, cur = [], ""
        for word in self.command.split():
            if cur and len(cur) + 1 + len(word) > width:
                lines.append(cur)
                cur = "    " + word
            else:
                cur = f"{cur} {word}" if cur else word
        return lines + [cur]

    def markdown(self) -> str:
        cmd = " \\\n".join(self.command_lines())
        return (f"```{{admonition}} Missing: {self.what}\n:class: warning\n{self.why}\n\n"
                f"Fill it with:\n\n    {cmd.replace(chr(10), chr(10) + '    ')}\n```\n")


_GPU = "--device cuda --runner inprocess"
GAPS = {
    "table2-cpu": Gap(
        "Table 2 and Fig 2(b) at cpu scale (AlexNet, 600 minibatches)",
        "The cpu preset captures 200 minibatches only. The preset below adds the 600-minibatch captures "
        "of the same 15-epoch AlexNet; its `--dry-run` estimates 3.5 min on the CPU, plus the retraining of "
        "the checkpoint, which is not committed (220 s in the cpu run).",
        "python -m sgnlib.sweep --preset book/experiments/presets/cpu_600.yaml --scale cpu --runner inprocess"),
    "table3-cpu": Gap(
        "Tables 3-4 and Fig 3 at cpu scale (ResNet-56)",
        "ResNet-56 is not in the cpu preset. Even a 10-epoch ResNet-56 with one repeat at 200 and 600 "
        "minibatches is estimated at 158 min on 2 cores by `--dry-run` (ResNet-20 alone trains at about "
        "720 img/s there, `data/results/bench`).",
        "python -m sgnlib.sweep --preset paper --epochs 10 --repeats 1 --scale cpu --stages train,capture "
        "--models resnet56 --final-only --device cpu --runner inprocess"),
    "table4": Gap(
        "Table 4 and Fig 3(b) (ResNet-56, 600 minibatches), and repeats 1-4 of Table 3",
        "The paper-scale GPU session (15 GPU minutes in all) captured ResNet-56 at 200 minibatches with one "
        "repeat only. The 10-epoch ResNet-56 checkpoint was not kept, so the command retrains it first. "
        "Its `--dry-run` estimates 460 min on a CPU; on the H200 the first run trained ResNet-20 and "
        "ResNet-56 and captured their 17 configurations in 210 s (`manifest.json`).",
        f"python -m sgnlib.sweep --preset paper --epochs 10 --stages train,capture --models resnet56 "
        f"--final-only {_GPU}"),
    "fig3b": Gap(
        "Fig 3(b) (ResNet-56, 600 minibatches)",
        "Its data is that of Table 4, which the paper-scale run did not capture (see the note under "
        "Table 4); the same command fills both.",
        f"python -m sgnlib.sweep --preset paper --epochs 10 --stages train,capture --models resnet56 "
        f"--final-only {_GPU}"),
    "fig4b": Gap(
        "Fig 4(b) (β/σ³ of ResNet-56)",
        "The ResNet-56 moments of the first GPU run were dropped: they were centred on a separately computed "
        "batch gradient (a spurious mass at β/σ³ = 1), and the checkpoint needed to rerun them was "
        "not kept.",
        f"python -m sgnlib.sweep --preset paper --epochs 10 --stages train,moments --models resnet56 {_GPU}"),
    "fig6-cpu": Gap(
        "Fig 6 at cpu scale (ResNet-20 over training)",
        "ResNet-20 is not in the cpu preset; 10 epochs with a capture after each are estimated at 34 min "
        "on 2 cores by `--dry-run`.",
        f"python -m sgnlib.sweep --preset paper --epochs 10 --repeats 1 --scale cpu --stages train,capture "
        f"--models resnet20 --device cpu --runner inprocess"),
    "fig89-paper": Gap(
        "Figs 8-9 at paper scale (example noise columns on the GPU checkpoint)",
        "The examples stage was added after the GPU session; the 30-epoch AlexNet checkpoint "
        "(sha256 f5cb1844…) was not committed, so the command retrains it (43 s on an H200) and the "
        "examples come from a retrained, not bit-identical, model.",
        f"python -m sgnlib.sweep --preset paper --epochs 30 --stages train,examples --models alexnet {_GPU}"),
    "fig9-paper": Gap(
        "Fig 9 at paper scale (Layer 4 example noise at batch 64-1024)",
        "Its example columns come from the same examples stage as Fig 8, which the paper scale has not "
        "run (see the note under Fig 8); the same command fills both.",
        f"python -m sgnlib.sweep --preset paper --epochs 30 --stages train,examples --models alexnet {_GPU}"),
    "alpha-stable-paper": Gap(
        "alpha-stable maximum-likelihood fits at paper scale",
        "They fit the example columns, which the paper scale does not have yet (see Figs 8-9).",
        "python scripts/fit_alpha_stable.py --scale paper"),
}


def gap(key: str) -> None:
    """Display the admonition of GAPS[key] as MyST markdown (rendered by myst-nb)."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
        if get_ipython() is not None:
            display(Markdown(GAPS[key].markdown()))
    except ImportError:
        pass


def present(df: pd.DataFrame | None, **where) -> bool:
    """Whether `df` has rows matching every column == value in `where`."""
    if df is None:
        return False
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        if k not in df:
            return False
        mask &= df[k] == v
    return bool(mask.any())


def results(scales=SCALES, tables=("training", "gaussianity", "moments", "tail_index", "berry_esseen",
                                   "examples", "alpha_stable"), results_dir=None) -> dict:
    """{scale: {table: DataFrame or None}} through report.read_table."""
    return {s: {t: report.read_table(s, t, results_dir) for t in tables} for s in scales}


RESULTS_README = {s: RESULTS_DIR / s / "README.md" for s in (*SCALES, "bench")}


def show_comparison(g: pd.DataFrame | None, table_no: int, model: str, n_batches: int, scale: str,
                    gap_key: str | None = None, layers="all"):
    """Display Table `table_no` at one scale as HTML, or the admonition of GAPS[gap_key] when that
    scale has no rows for it; return the comparison (or None)."""
    t = comparison(g, model, n_batches, layers)
    if t is None:
        if gap_key:
            gap(gap_key)
        else:
            show(f"<p>{scale} scale: no results for Table {table_no}.</p>")
        return None
    shown = {"all": "", "paper": "; the layers the paper lists"}.get(layers, "; selected layers") \
        if isinstance(layers, str) else "; selected layers"
    cap = comparison_caption(table_no, model, n_batches, scale, g, shown)
    show(comparison_html(t, f"table{table_no}_{scale}_{layers if isinstance(layers, str) else 'sel'}", cap))
    return t


def capture_vs_paper(table: pd.DataFrame, model: str, batch_size: int, n_batches: int) -> pd.DataFrame:
    """A capture's per-layer percentages (mean over its repeats) beside the paper's table cell
    for the same model, batch size and number of minibatches ('–' where the paper has none)."""
    cols = ["gauss_pct_paper", "gauss_pct_strict", "degenerate_pct", "gauss_pct_fdr"]
    agg = table.groupby("layer", sort=False).agg(d=("d", "first"), **{c: (c, "mean") for c in cols},
                                                 repeats=("gauss_pct_paper", "size"))
    p = report.paper_tables()
    p = p[(p.model == model) & (p.batch_size == batch_size) & (p.n_batches == n_batches)].set_index("layer")
    agg = agg.loc[report.layer_order(agg.index)]
    return pd.DataFrame({
        "d": [f"{int(v):,}" for v in agg.d], "ours": [_f(v, 2) for v in agg.gauss_pct_paper],
        "strict": [_f(v, 2) for v in agg.gauss_pct_strict], "degen.": [_f(v, 2) for v in agg.degenerate_pct],
        "BH-FDR": [_f(v, 2) for v in agg.gauss_pct_fdr], "n": agg.repeats.astype(str),
        "paper": [(_f(p.loc[layer, "gauss_pct_mean"], 2) + " ± " + _f(p.loc[layer, "gauss_pct_std"], 2))
                  if layer in p.index else "–" for layer in agg.index]}, index=pd.Index(agg.index, name="layer"))


def schedules(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """The training schedules that ran, read from the training tables: epochs, the epochs where the
    learning rate fell (from the rows' lr column), and the milestones `Recipe` scales them to."""
    from .train import Recipe
    rows = []
    for s in scales:
        t = report.read_table(s, "training", results_dir)
        if t is None:
            continue
        for model, d in t.groupby("model"):
            d = d.sort_values("epoch")
            lr = d.lr.to_numpy()
            drops = [int(e) for e, a, b in zip(d.epoch.iloc[1:], lr[:-1], lr[1:]) if b < a]
            epochs = int(d.epochs.iloc[0])
            rows.append({"scale": s, "model": MODEL_NAMES.get(model, model), "epochs": epochs,
                         "lr": _join(f"{v:g}" for v in dict.fromkeys(lr)),
                         "lr falls in epoch": _join(drops) or "–",
                         "Recipe milestones": _join(Recipe(epochs=epochs).scaled_milestones()),
                         "final test acc.": _f(d.test_acc.iloc[-1], 3)})
    rows.append({"scale": "the paper", "model": "all", "epochs": PAPER_EPOCHS, "lr": "0.1, 0.01, 0.001",
                 "lr falls in epoch": "151, 226", "Recipe milestones": _join(Recipe().scaled_milestones()),
                 "final test acc.": "not reported"})
    return pd.DataFrame(rows)


def readme_html(name: str, uid: str) -> str:
    """A results folder's README.md as HTML (headings demoted, long lines wrapped), so its facts
    appear in the book verbatim."""
    from markdown_it import MarkdownIt
    text = RESULTS_README[name].read_text()
    body = MarkdownIt("commonmark").enable("table").render(text)
    for k in range(4, 0, -1):
        body = body.replace(f"<h{k}>", f"<h{min(k + 3, 6)}>").replace(f"</h{k}>", f"</h{min(k + 3, 6)}>")
    style = (f"<style>#R_{uid} pre, #R_{uid} code {{white-space: pre-wrap; overflow-wrap: anywhere;}} "
             f"#R_{uid} table {{font-size: 0.8em; border-collapse: collapse;}} "
             f"#R_{uid} td, #R_{uid} th {{padding: 0.15em 0.35em; border-bottom: 1px solid #ddd;}} "
             f"#R_{uid} {{border-left: 3px solid #ccc; padding-left: 0.8em; font-size: 0.92em;}}</style>")
    return f'{style}<div id="R_{uid}" class="sgn-readme">{body}</div>'


def value(t: pd.DataFrame, layer: str, batch_size: int, col: str = "ours_mean", digits: int = 1) -> str:
    """One formatted cell of a comparison table."""
    return _f(t.set_index(["layer", "batch_size"]).loc[(layer, batch_size), col], digits)


def agreement(t: pd.DataFrame) -> dict:
    """How a comparison table agrees with the paper: cells with a paper value, cells where ours is
    below / above beyond both stds, cells within them, and the median delta (pp) over those cells."""
    c = t[t.paper_mean.notna()]
    return {"cells": len(c), "below": int((c.exceeds & (c.delta_pp < 0)).sum()),
            "above": int((c.exceeds & (c.delta_pp > 0)).sum()), "within": int((~c.exceeds).sum()),
            "median_delta": _f(c.delta_pp.median(), 1, sign=True)}


def over_epochs(g: pd.DataFrame, model: str, layer: str, batch_size: int = 128, n_batches: int = 200) -> pd.Series:
    """% Gaussian (paper rule, mean over repeats) of one layer at each checkpoint epoch."""
    s = g[(g.model == model) & (g.layer == layer) & (g.batch_size == batch_size) & (g.n_batches == n_batches)]
    return s.groupby("checkpoint_epoch").gauss_pct_paper.mean()


def lower_share(t_more: pd.DataFrame, t_fewer: pd.DataFrame) -> tuple[int, int]:
    """(cells where ours with more minibatches is below ours with fewer, cells compared)."""
    m = t_more.merge(t_fewer, on=["layer", "batch_size"], suffixes=("_m", "_f"))
    return int((m.ours_mean_m < m.ours_mean_f).sum()), len(m)


# ---------------------------------------------------------------- numbers quoted in the chapters' text


def alexnet_facts(g: pd.DataFrame, t1: pd.DataFrame, t2: pd.DataFrame, t1c: pd.DataFrame) -> dict[str, str]:
    """The numbers the AlexNet chapter quotes (glued into its text), from Tables 1-2 at both scales."""
    out = {}
    for name, t in (("t1", t1), ("t2", t2), ("t1c", t1c)):
        out.update({f"{name}-{k}": str(v) for k, v in agreement(t).items()})
    for bs in (64, 2048):
        for name, t in (("t1", t1), ("t2", t2)):
            out[f"{name}-l4-{bs}"] = value(t, "Layer 4", bs)
            out[f"{name}-l4-{bs}-paper"] = value(t, "Layer 4", bs, "paper_mean", 2)
    low, n = lower_share(t2, t1)
    out.update({"lower-600": str(low), "lower-600-n": str(n)})
    s = over_epochs(g, "alexnet", "Layer 4")
    out.update({"l4-first-epoch": str(s.index[0]), "l4-first": _f(s.iloc[0], 1),
                "l4-last-epoch": str(s.index[-1]), "l4-last": _f(s.iloc[-1], 1),
                "l4-128-paper": value(t1, "Layer 4", 128, "paper_mean", 2),
                "degen-max": _f(t1.degenerate_pct.max(), 1),
                "l1-maxabs": _f(t1[t1.layer == "Layer 1"].delta_pp.abs().max(), 1)})
    return out


def resnet_facts(t3: pd.DataFrame) -> dict[str, str]:
    """The numbers the ResNet chapter quotes, from Table 3 (paper layers)."""
    out = {f"t3-{k}": str(v) for k, v in agreement(t3).items()}
    conv = t3[(t3.layer != "Final Layer") & (t3.batch_size == 64)]
    ends = t3.sort_values("batch_size").groupby("layer").ours_mean.agg(["first", "last"])
    out.update({"t3-conv-64-min": _f(conv.ours_mean.min(), 1), "t3-conv-64-max": _f(conv.ours_mean.max(), 1),
                "t3-conv-64-paper-min": _f(conv.paper_mean.min(), 2),
                "t3-rises": str(int((ends["last"] > ends["first"]).sum())), "t3-layers": str(len(ends))})
    return out


def training_facts(scales_g: dict) -> dict[str, str]:
    """The numbers the training chapter quotes: first and last checkpoint of AlexNet and AlexNet-BN
    layers 3-4 per scale, and how far each ResNet-20 layer moves over training (paper scale)."""
    out = {}
    for scale, g in scales_g.items():
        for m in ("alexnet", "alexnet_bn"):
            for layer in ("Layer 3", "Layer 4"):
                s = over_epochs(g, m, layer)
                out[f"{scale}-{m}-{layer[-1]}-first"] = _f(s.iloc[0], 1)
                out[f"{scale}-{m}-{layer[-1]}-last"] = _f(s.iloc[-1], 1)
    g = scales_g["paper"]
    r = g[(g.model == "resnet20") & (g.batch_size == 128) & (g.n_batches == 200)]
    span = r.groupby("layer").gauss_pct_paper.agg(lambda v: v.max() - v.min())
    out.update({"fig6-span-median": _f(span.median(), 1), "fig6-span-max": _f(span.max(), 1),
                "fig6-span-max-layer": str(span.idxmax())})
    return out
