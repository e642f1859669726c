"""Claims on the experimental set-up and on the paper itself: the architecture (text vs tables vs
ours), the training recipe, numbers the text quotes from its own tables, and claims no experiment
can decide.
"""
from __future__ import annotations

import numpy as np

from .core import (NO_DATA, NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, fill_command, kind,
                   no_data, not_testable)


@kind("not_testable")
def not_testable_kind(tables: dict, params: dict) -> Verdict:
    """NOT TESTABLE, always; params['reason'] says why."""
    return not_testable(params.get("paper", "–"), params["reason"])


# ---------------------------------------------------------------- architecture


@kind("architecture")
def architecture(tables: dict, params: dict) -> Verdict:
    """Our network's weight sizes vs the paper's table (weight_size) and the text vs the table.

    params: model (ours), paper_model, text (a short description), text_sizes {layer: size the
    text implies} and text_layers {"conv": n, "fc": n} with fits_both (a network with the text's
    layer counts; optional, see `text_table_conflicts`), convs_per_block (ResNets). REPRODUCED: ours
    matches every tabled size and the text agrees with the table; PARTLY: ours matches the table,
    the text conflicts with it (the evidence names every conflict); NOT REPRODUCED: ours misses a
    tabled size."""
    from ..models import build, weight_layers
    paper = tables.get("paper")
    pm = params.get("paper_model", params["model"])
    if paper is None or not (paper.model == pm).any():
        return Verdict(NO_DATA, "–", "–", "Δ –", "the paper's tables are missing")
    sizes = paper[paper.model == pm].drop_duplicates("layer").set_index("layer").weight_size
    ours = {n: int(w.numel()) for n, w in weight_layers(build(params["model"]))}
    miss = [f"{l}: paper {int(s):,}, ours {ours.get(l, 0):,}" for l, s in sizes.items()
            if ours.get(l) != s]
    n_match = len(sizes) - len(miss)
    per_block = params.get("convs_per_block")
    if per_block:
        got = sum(1 for n in ours if n.startswith("Block 1 "))
        if got != per_block:
            miss.append(f"ours has {got} convolutions per block, the text {per_block}")
    conflicts, fit = text_table_conflicts(sizes, params)
    text_s = f"; text: {params['text']}" if params.get("text") else ""
    paper_s = f"{len(sizes)} tabled sizes{text_s}"
    ours_s = f"{n_match}/{len(sizes)} tabled sizes match ({len(ours)} weight layers)"
    if miss:
        return Verdict(NOT_REPRODUCED, paper_s, ours_s, "mismatch", "; ".join(miss))
    if conflicts:
        where = ", ".join(c.split(":")[0] for c in conflicts)
        return Verdict(PARTLY, paper_s, ours_s, f"text ≠ tables at {where} only",
                       "ours follows the tables; text and tables conflict only at "
                       + "; ".join(conflicts) + (f"; {fit}" if fit else ""))
    return Verdict(REPRODUCED, paper_s, ours_s, "match", "every tabled weight size and the text's "
                   "structure match" + (f"; {fit}" if fit else ""))


def text_table_conflicts(sizes, params: dict) -> tuple[list[str], str]:
    """Where the text contradicts the table, and how the text's layer counts fit the table.

    `sizes`: the table's weight size per layer name. A size the text implies (`text_sizes`) that
    differs from the table's is a conflict. The text's layer counts (`text_layers`, e.g. 5 conv + 3
    FC) fit the table when a network with exactly those counts (`fits_both`, a model name) has every
    tabled size: the table lists some layers only (AlexNet: the five convolutions and the final
    classifier), so extra layers the text names are no conflict as long as such a network exists.
    If it does not fit, that is a conflict too. Returns (conflicts, a sentence on the fit or '')."""
    conflicts = [f"{l}: text implies {v:,}, table {int(sizes[l]):,}"
                 for l, v in params.get("text_sizes", {}).items() if l in sizes and sizes[l] != v]
    want, name = params.get("text_layers"), params.get("fits_both")
    if not (want and name):
        return conflicts, ""
    from ..models import build, weight_layers
    layers = dict(weight_layers(build(name)))
    got = {"conv": sum(w.dim() > 2 for w in layers.values()),
           "fc": sum(w.dim() == 2 for w in layers.values())}
    counts = f"{want['conv']} conv + {want['fc']} FC"
    wrong = [f"{l}: {int(layers[l].numel()) if l in layers else 0:,} vs {int(s):,}"
             for l, s in sizes.items() if l not in layers or layers[l].numel() != s]
    if got != {k: want[k] for k in ("conv", "fc")} or wrong:
        conflicts.append(f"layer counts: {name} ({got['conv']} conv + {got['fc']} FC) does not fit "
                         f"the tables" + (f" ({'; '.join(wrong)})" if wrong else ""))
        return conflicts, ""
    return conflicts, (f"the text's {counts} layers fit the tables, which list {len(sizes)} of "
                       f"them ({name} has the text's counts and all {len(sizes)} tabled sizes)")


# ---------------------------------------------------------------- training recipe


@kind("training_recipe")
def training_recipe(tables: dict, params: dict) -> Verdict:
    """Epochs and the step learning-rate schedule. params: models, epochs (300), lrs ([0.1, 0.01,
    0.001]), milestones ([150, 225], the last epoch of each phase in a 300-epoch run), tol_epochs
    (1). REPRODUCED: epochs = 300 and the schedule matches; PARTLY: the schedule matches when
    scaled to our length (milestones within tol_epochs of m * E / 300), but E != 300; NOT
    REPRODUCED otherwise."""
    t = tables.get("training")
    scale = params.get("scale", "?")
    E0, lrs, ms = params["epochs"], params["lrs"], params["milestones"]
    paper_s = f"{E0} epochs, lr {' → '.join(map(str, lrs))} after epochs {', '.join(map(str, ms))}"
    if t is None or not t.model.isin(params["models"]).any():
        command = fill_command(scale, "train", params["models"], tables)
        return no_data(paper_s, "training rows", scale, command)
    rows, verdicts = [], []
    for m, d in t[t.model.isin(params["models"])].groupby("model"):
        d = d.sort_values("epoch")
        E = int(d.epochs.max())
        seen = list(dict.fromkeys(np.round(d.lr, 10)))
        last = [int(d[np.isclose(d.lr, lr)].epoch.max()) for lr in seen[:-1]]
        ok_sched = len(seen) == len(lrs) and np.allclose(seen, lrs) and all(
            abs(l - mm * E / E0) <= params.get("tol_epochs", 1) for l, mm in zip(last, ms))
        verdicts.append(REPRODUCED if ok_sched and E == E0
                        else PARTLY if ok_sched else NOT_REPRODUCED)
        schedule = " → ".join(f"{v:g}" for v in seen)
        rows.append(f"{m}: {E} epochs, lr {schedule} after {', '.join(map(str, last))}")
    v = NOT_REPRODUCED if NOT_REPRODUCED in verdicts else \
        PARTLY if PARTLY in verdicts else REPRODUCED
    Es = sorted({int(x) for x in t[t.model.isin(params["models"])].groupby("model").epochs.max()})
    return Verdict(v, paper_s, "; ".join(rows), f"{'/'.join(map(str, Es))} vs {E0} epochs",
                   "schedule compared with the paper's milestones scaled to our length")


# ---------------------------------------------------------------- numbers the text quotes


@kind("text_vs_table")
def text_vs_table(tables: dict, params: dict) -> Verdict:
    """A number in the text vs the same cell of the paper's own table. params: pairs [{text, table,
    layer, batch_size, where}]. REPRODUCED: all equal (|Δ| <= 0.005); PARTLY: all within 0.015 (a
    last-digit rounding slip); NOT REPRODUCED: some pair differs by more."""
    paper = tables.get("paper")
    if paper is None:
        return Verdict(NO_DATA, "–", "–", "Δ –", "the paper's tables are missing")
    out, worst = [], 0.0
    for p in params["pairs"]:
        at = ((paper.table == p["table"]) & (paper.layer == p["layer"])
              & (paper.batch_size == p["batch_size"]))
        m = paper[at]
        tv = float(m.gauss_pct_mean.iloc[0])
        d = p["text"] - tv
        worst = max(worst, abs(d))
        if abs(d) > 0.005:
            out.append(f"{p['where']}: text {p['text']:.2f}, Table {p['table']} {tv:.2f}")
    v = REPRODUCED if worst <= 0.005 else PARTLY if worst <= 0.015 + 1e-9 else NOT_REPRODUCED
    n = len(params["pairs"])
    return Verdict(v, f"{n} numbers quoted in the text",
                   f"{n - len(out)}/{n} equal their table cell", f"max |Δ| {worst:.2f} pp",
                   "; ".join(out) or "every quoted number equals its table cell")
