"""The Methods page (book/methods.ipynb): the training recipe, the schedules that ran, the capture
protocol (its docstring), what ran where (the rows' provenance) and the data every row used."""
from __future__ import annotations

import dataclasses

import pandas as pd

from .. import reader
from ..store import TABLES
from .common import MODEL_NAMES, PAPER_EPOCHS, SCALES, join, fmt, results, runs
from .html import html_table, paragraph_html, provenance_html, quote_html, show


def show_recipe() -> None:
    """The recipe's fields and defaults (`sgnlib.train.Recipe()`)."""
    from ..train import Recipe
    rec = pd.DataFrame([{"field": k, "value": str(v)}
                        for k, v in dataclasses.asdict(Recipe()).items()])
    show(html_table(rec, "recipe", "sgnlib.train.Recipe(): SGD with momentum and weight decay; the "
                    "learning rate is multiplied by lr_decay at the milestones; augment: random "
                    "32x32 crops of the 4-pixel zero-padded image and horizontal flips.",
                    text_columns=("field", "value")))


def _schedule(scale: str, model: str, d: pd.DataFrame, recipe) -> dict:
    d, epochs = d.sort_values("epoch"), int(d.epochs.iloc[0])
    lr = d.lr.to_numpy()
    drops = [int(e) for e, a, b in zip(d.epoch.iloc[1:], lr[:-1], lr[1:]) if b < a]
    return {"scale": scale, "model": MODEL_NAMES.get(model, model), "epochs": epochs,
            "lr": join(f"{v:g}" for v in dict.fromkeys(lr)),
            "lr falls in epoch": join(drops) or "–",
            "Recipe milestones": join(recipe(epochs=epochs).scaled_milestones()),
            "final test acc.": fmt(d.test_acc.iloc[-1], 3)}


def schedules(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """Schedules that ran: epochs, the (1-based) epochs where the rows' lr fell, Recipe's scaled
    milestones; the paper's schedule last."""
    from ..train import Recipe
    rows = []
    for s in scales:
        t = reader.read_table(s, "training", results_dir)
        rows += [_schedule(s, m, d, Recipe) for m, d in ([] if t is None else t.groupby("model"))]
    rows.append({"scale": "the paper", "model": "all", "epochs": PAPER_EPOCHS,
                 "lr": "0.1, 0.01, 0.001", "lr falls in epoch": "151, 226",
                 "Recipe milestones": join(Recipe().scaled_milestones()),
                 "final test acc.": "not reported"})
    return pd.DataFrame(rows)


def show_schedules() -> None:
    show(html_table(schedules(), "schedules",
                    "Training schedules that ran, from the results' training tables (lr column), "
                    "beside Recipe(epochs).scaled_milestones() (0-based epochs from which the "
                    "lower rate applies) and the paper's 300-epoch schedule.",
                    text_columns=("scale", "model")))


def show_capture_protocol() -> None:
    """The capture module's docstring, verbatim."""
    from ..capture import __doc__ as capture_doc
    show(quote_html(capture_doc))


def _day(t) -> str:
    return t.strftime("%Y-%m-%d")


def _run_row(scale: str, name: str, model: str, d: pd.DataFrame) -> dict:
    r, dates = runs(d), pd.to_datetime(d["date"], utc=True)
    torch = (join(sorted(d.torch_version.dropna().astype(str).unique()))
             if "torch_version" in d else "")
    first, last = _day(dates.min()), _day(dates.max())
    return {"scale": scale, "tables": name, "model": MODEL_NAMES.get(model, model),
            "device": join(r.get("device", [])) + (f", torch {torch}" if torch else ""),
            "epochs": join(r.get("epochs", [])) or "–", "repeats": str(r.get("repeats") or "–"),
            "configs": int(d.config_id.nunique()), "commit": join(r.get("commit", [])),
            "date": first + ("" if first == last else " – " + last),
            "_ids": tuple(sorted(d.config_id.unique()))}


def provenance(scales=SCALES, results_dir=None) -> pd.DataFrame:
    """What ran where, from the rows' provenance: per (scale, model, run) tables, device, epochs,
    repeats, commits, dates."""
    rows = []
    for scale in scales:
        for name in (*TABLES, "alpha_stable"):
            df = reader.read_table(scale, name, results_dir)
            rows += [_run_row(scale, name, m, d)
                     for m, d in ([] if df is None else df.groupby("model", sort=True))]
    p = pd.DataFrame(rows)
    if not len(p):
        return p
    p = p.groupby([c for c in p if c != "tables"], sort=False, as_index=False).agg(
        tables=("tables", ", ".join))
    return p[["scale", "tables", "model", "device", "epochs", "repeats", "configs", "commit",
              "date"]]


def show_provenance() -> None:
    show(provenance_html(provenance()))


def show_data() -> None:
    """The data of every row at every scale: its source and the training set's sha256."""
    g = pd.concat([r["gaussianity"] for r in results(tables=("gaussianity",)).values()])
    sha = sorted({str(s)[:12] for s in g.data_sha256})
    src = sorted(set(g.data_source))
    show(paragraph_html(f"Data of every row at every scale: {', '.join(src)}, training-set sha256 "
                        f"{', '.join(sha)}…"))
