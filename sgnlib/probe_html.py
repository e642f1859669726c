"""The HTML page of a `sgn-probe` report: one self-contained file (inline CSS, figures as base64
PNG, no script, nothing fetched) that fits an 800 px window: tables with the book's columns, the
figures of `sgnlib.probe_figures`, a methods paragraph stating exactly what was computed, and the
provenance (command, commit, date, versions, device, data, timings, memory). User-given strings
(layer names, paths, the command) are escaped."""
from __future__ import annotations

import base64
import html

import pandas as pd

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:0}
main{max-width:760px;margin:0 auto;padding:8px 16px 40px}
h1{font-size:1.5em;margin:.6em 0 .3em}h2{font-size:1.2em;margin:1.6em 0 .4em}
table{border-collapse:collapse;font-size:13px;margin:.4em 0 1em;max-width:100%}
th,td{padding:2px 7px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left;overflow-wrap:anywhere}
td{font-variant-numeric:tabular-nums}
table.kv td{text-align:left;overflow-wrap:anywhere}table.kv td:first-child{white-space:nowrap}
figure{margin:1em 0}figure img{width:100%;height:auto;display:block}
figcaption,.note{font-size:13px;color:#444}
code{font-size:13px;overflow-wrap:anywhere;white-space:pre-wrap}
"""
G_TABLE = [("layer", "Layer", None), ("d", "d", "{:d}"), ("batch_size", "B", "{:d}"),
           ("gauss_pct_incl_degenerate", "% incl.", "{:.1f}"),
           ("gauss_pct_excl_degenerate", "% excl.", "{:.1f}"),
           ("gauss_pct_fdr", "% BH-FDR", "{:.1f}"), ("degenerate_pct", "% degen.", "{:.2f}")]
M_TABLE = [("layer", "Layer", None), ("d", "d", "{:d}"), ("n_point_mass", "σ = 0", "{:d}"),
           ("q05", "5 %", "{:.2f}"), ("q25", "25 %", "{:.2f}"), ("q50", "median", "{:.2f}"),
           ("q75", "75 %", "{:.2f}"), ("q95", "95 %", "{:.2f}")]
T_TABLE = [("layer", "Layer", None), ("batch_size", "B", "{:d}"),
           ("tail_index_median_all", "median α", "{:.2f}"),
           ("tail_index_pooled", "pooled α", "{:.2f}"), ("n_point_mass", "point masses", "{:d}")]


def _cell(value, fmt) -> str:
    if fmt is None:
        return html.escape(str(value))
    if pd.isna(value):
        return "–"
    return fmt.format(int(value) if "d}" in fmt else float(value))


def table(df: pd.DataFrame, spec, cls: str = "") -> str:
    """An HTML table of `df`'s columns named in spec [(column, header, format or None)]."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in spec)
    rows = "".join("<tr>" + "".join(f"<td>{_cell(r[c], f)}</td>" for c, _, f in spec) + "</tr>"
                   for _, r in df.iterrows())
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _kv(pairs) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in pairs if v not in (None, ""))
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def figure(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode()
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def methods(s: dict, k1: int) -> str:
    """The methods paragraphs: what was computed, with this run's numbers."""
    lv, n, sizes = s["level"], s["n_batches"], ", ".join(map(str, s["batch_sizes"]))
    ceiling = f"{100 * (1 - lv):g}"
    text = [
        f"For each batch size B in {{{sizes}}}, {n} minibatches of B examples were drawn from the "
        f"{s['n_examples']} examples: consecutive blocks of shuffled passes over the data, "
        f"without replacement within a pass, shuffled by a torch.Generator seeded with "
        f"{s['seed']} (the minibatches of sgnlib.capture.probe(..., seed={s['seed']})). At the "
        f"weights as given, each minibatch gradient of the loss ({s['loss']}) was taken for every "
        f"weight layer (Conv/ConvTranspose 1-3d and Linear weights; tied weights once, frozen "
        f"weights skipped; biases and normalization parameters are not tested), the model in "
        f"train mode (a model whose root was already in train mode keeps the modes you set); "
        f"every mode and BatchNorm statistic is restored afterwards. Precision: {s['dtype']}.",
        f"Each weight dimension's {n} minibatch gradients were tested with Shapiro-Wilk "
        f"(Royston's AS R94, as scipy.stats.shapiro) at level {lv:g}. A dimension is degenerate "
        f"(a point mass) when its {n} gradients are all equal (range below 1e-19), e.g. the "
        f"incoming weights of a unit that is never active: the test does not apply to it. "
        f"% incl. counts p ≥ {lv:g} or degenerate as Gaussian (the paper's rule); % excl. counts "
        f"p ≥ {lv:g} and not degenerate; % BH-FDR counts every dimension that the "
        f"Benjamini-Hochberg procedure at false discovery rate {lv:g} over the layer's dimensions "
        f"does not reject; % degen. is the share of point masses. Exactly Gaussian noise gives "
        f"about {ceiling} % under the first two rules (the null ceiling: {lv:g} of the tests "
        f"reject by chance) and about 100 % under BH-FDR.",
        f"Tail index: per column of the centred {n} x d minibatch gradients, the block-sum "
        f"estimator of Mohammadi, Mohammadpour and Ogata (2015) with blocks of K1 = {k1} "
        f"(Simsekli et al. 2019's choice), unclipped; median α over the layer's non-degenerate "
        f"columns, and pooled α over the layer's whole noise flattened, as Simsekli et al. "
        f"report it. The null band is the 5-95 % range of the estimate on 4000 exactly Gaussian "
        f"columns of {n} samples (numpy seed 0). In tail_index.csv, count_nongaussian bins the "
        f"columns Shapiro-Wilk rejects at p < 0.05."]
    if s["n_samples"]:
        text.append(
            f"β/σ³: per-sample gradients (torch.func, a batch of one each) of the same loss on "
            f"{s['n_samples']} examples drawn with seed {s['seed']}, the model in eval mode (a "
            f"per-sample gradient with batch statistics is not defined); per dimension "
            f"σ² = E(g - Eg)² and β = E|g - Eg|³ over those examples. Dimensions with σ = 0 are "
            f"point masses, counted apart (column σ = 0).")
    return "".join(f"<p>{html.escape(t)}</p>" for t in text)


def pass_note(s: dict, k1: int) -> str:
    """A warning for the batch sizes whose passes over the data hold few minibatches.

    The tail-index estimator sums K1 consecutive minibatch gradients. Minibatches of one pass are
    drawn without replacement, so they sum to the full gradient: two of them correlate by
    -1 / (P - 1) for P minibatches per pass, and a block sum's variance shrinks by up to
    1 - (K1 - 1) / (P - 1), which raises alpha. Flagged when that shrinkage exceeds 5 %
    (P < 20 (K1 - 1) + 1; shifts of about 0.05 in alpha and more): e.g. Gaussian data at 16
    minibatches per pass give a median alpha of 2.7 instead of 2.0 (tested)."""
    low = [(bs, s["n_examples"] // bs) for bs in s["batch_sizes"]
           if s["n_examples"] // bs < 20 * (k1 - 1) + 1]
    if not low:
        return ""
    which = ", ".join(f"{bs} ({p} per pass)" for bs, p in low)
    text = html.escape(
        f"Read α with care at batch size {which}: the minibatches of one pass over the "
        f"{s['n_examples']} examples are drawn without replacement and sum to the full gradient, "
        f"so consecutive ones are anti-correlated; the estimator's sums of {k1} consecutive "
        f"minibatches shrink and α comes out too high (simulated: exactly Gaussian data, 2048 "
        f"examples in batches of 128, 16 per pass, give a median α of 2.7, not 2.0). More "
        f"examples per batch size avoid it.")
    return f'<p class="note"><strong>{text}</strong></p>'


def _summary(r) -> pd.DataFrame:
    if r.beta_sigma3 is None:
        return None
    per = r.beta_sigma3.groupby("layer", sort=False).first().reset_index()
    return per.assign(d=per.n_finite + per.n_point_mass)


def _provenance(r) -> str:
    p, s = r.provenance, r.settings
    steps = [(f"time: {k}", f"{v:.1f} s") for k, v in r.timings.items()]
    mem = [("peak memory (process RSS)", f"{s['peak_rss_mb']:.0f} MB")]
    if "peak_cuda_mb" in s:
        mem.append(("peak CUDA memory allocated", f"{s['peak_cuda_mb']:.0f} MB"))
    return _kv([("command", p.get("command")), ("model", p.get("source")),
                ("data", p.get("data")), ("data sha256", p.get("data_sha256")),
                ("git commit", p.get("git_commit")), ("date (UTC)", p.get("date")),
                ("host", p.get("host")), ("device", p.get("device")),
                ("torch", p.get("torch_version")), ("CUDA", p.get("cuda_version")),
                ("Python", p.get("python_version"))] + steps + mem)


def page(r, figs: dict) -> str:
    """The report page of a `sgnlib.probe_report.ProbeResult` with its `figures`."""
    s, g, t = r.settings, r.gaussianity, r.tail_index
    src = html.escape(r.provenance.get("source", s["model"]))
    k1 = int(t.k1.iloc[0])
    tails = t.groupby(["layer", "batch_size"], sort=False).first().reset_index()
    q = {c: float(t[c].iloc[0]) for c in ("null_q05", "null_q50", "null_q95")}
    parts = [
        f"<h1>Gradient noise of {src}</h1>",
        f'<p class="note">{len(s["layers"])} weight layers, batch sizes '
        f'{", ".join(map(str, s["batch_sizes"]))}, {s["n_batches"]} minibatches each, seed '
        f'{s["seed"]}, level {s["level"]:g}; computed in {r.timings["total"]:.1f} s on '
        f'{html.escape(str(r.provenance.get("device")))}. Tables as CSV beside this file: '
        f"gaussianity.csv, tail_index.csv" + (", beta_sigma3.csv" if r.beta_sigma3 is not None
                                              else "") + ", provenance.json.</p>",
        "<h2>% Gaussian dimensions</h2>", figure(*figs["gaussian"]),
        table(g, G_TABLE),
        f'<p class="note">d: weight dimensions; B: batch size; null ceiling '
        f'{100 * (1 - s["level"]):g} %: what exactly Gaussian noise gives (methods).</p>']
    summary = _summary(r)
    if summary is not None:
        parts += ["<h2>β/σ³ per layer</h2>", figure(*figs["beta_sigma3"]),
                  table(summary, M_TABLE),
                  '<p class="note">Quantiles over the layer\'s dimensions with σ > 0; '
                  "Gaussian noise has β/σ³ = 1.596.</p>"]
    parts += ["<h2>Tail index per layer</h2>", figure(*figs["tail"]), table(tails, T_TABLE),
              f'<p class="note">Null band at {s["n_batches"]} samples: 5 % {q["null_q05"]:.2f}, '
              f'median {q["null_q50"]:.2f}, 95 % {q["null_q95"]:.2f}.</p>', pass_note(s, k1),
              "<h2>Methods</h2>", methods(s, k1), "<h2>Provenance</h2>", _provenance(r)]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>sgn-probe: {src}</title><style>{CSS}</style></head>"
            f"<body><main>\n{body}\n</main></body></html>\n")
