"""Claims on the order of the layers in the batch-size grid at the final checkpoint (Tables 1-4):
which layers are the most (or least) Gaussian in every (n_batches, batch size) column. The
paper's own tables are ranked by the same rule beside ours.
"""
from __future__ import annotations

from ..reader import paper_grid
from .core import Verdict, grade, grid_of, kind, missing_cells, share


def _ranking_hits(g, params):
    """(n_batches, batch size, target on top, the layers on top) per column holding every layer."""
    layers, target = params["layers"], set(params["target"])
    hits = []
    for (nb, bs), c in g[g.layer.isin(layers)].groupby(["n_batches", "batch_size"]):
        if set(layers) - set(c.layer):
            continue
        c = c.sort_values("value", ascending=params.get("position") == "bottom")
        got = set(c.layer.iloc[:len(target)])
        hits.append((nb, bs, got == target, ", ".join(sorted(got))))
    return hits


@kind("ranking")
def ranking(tables: dict, params: dict) -> Verdict:
    """The `target` layers are the top (or bottom) len(target) of `layers` in each (n_batches,
    batch size) column. params: model, layers, target, position top|bottom, reproduced_share
    [1.0], partly_share [0.5]."""
    g = grid_of(tables, params)
    ph = _ranking_hits(paper_grid(tables.get("paper"), params["model"]), params)
    word = "lowest" if params.get("position") == "bottom" else "highest"
    target = " & ".join(params["target"])
    paper_k = sum(h[2] for h in ph)
    paper_s = f"{target} {word} in {share(paper_k, len(ph))} columns"
    hits = _ranking_hits(g, params)
    if not hits:
        return missing_cells(tables, params, paper_s,
                             f"{params['model']} grid with all of {params['layers']}")
    k = sum(h[2] for h in hits)
    v = grade(k / len(hits), params.get("reproduced_share", 1.0), params.get("partly_share", 0.5))
    bad = [f"{bs}/{nb}: {got}" for nb, bs, ok, got in hits if not ok]
    ev = (f"{word} instead: " + "; ".join(bad)) if bad else f"{target} {word} in every column"
    return Verdict(v, paper_s, f"{share(k, len(hits))} columns",
                   f"{k}/{len(hits)} vs {paper_k}/{len(ph)}", ev)
