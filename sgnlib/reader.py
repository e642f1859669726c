"""The results reader: one way to read a results folder and the paper's tables, and the one
aggregation of the batch-size grid at a model's final checkpoint (`final_grid`) that the claims,
the book's tables and its figures all use.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .paths import PAPER_TABLES, RESULTS_DIR
from .store import TABLES, ResultStore

RULE = "gauss_pct_incl_degenerate"  # point masses counted Gaussian: the paper's rule
GRID_COLUMNS = ["n_batches", "layer", "batch_size", "value", "std", "repeats", "d"]


def read_table(scale: str, name: str, results_dir=None) -> pd.DataFrame | None:
    """A results table of one scale, or None when that scale has none yet.

    Tables of the results store (`sgnlib.store.TABLES`) come back with committed rows only, checked
    against the folder's ledger; derived tables (alpha_stable.csv) are read as they are."""
    folder = Path(results_dir or RESULTS_DIR) / scale
    if name in TABLES:
        return ResultStore(folder).read(name)
    p = folder / f"{name}.csv"
    return pd.read_csv(p) if p.exists() else None


def paper_tables() -> pd.DataFrame:
    """The paper's Tables 1-4, one row per cell (data/paper/tables_1_to_4.csv)."""
    return pd.read_csv(PAPER_TABLES)


def without_options(g: pd.DataFrame, columns=("protocol", "recipe")) -> pd.DataFrame:
    """Rows captured and trained with the scale's own protocol: no capture option (`protocol`) and
    no recipe change (`recipe`) recorded, i.e. the rows a paper table is compared with (`columns`:
    the option columns that must be empty)."""
    for col in columns:
        if col in g:
            g = g[g[col].isna() | g[col].astype(str).isin(["", "{}", "nan"])]
    return g


def final_rows(g: pd.DataFrame | None, model: str) -> pd.DataFrame:
    """Capture rows of `model` at its final checkpoint with the scale's own protocol (the batch-size
    grid, every repeat; configurations that change a capture or training option are left out)."""
    if g is None or not len(g):
        return pd.DataFrame(columns=[] if g is None else g.columns)
    x = without_options(g[(g.model == model) & (g.checkpoint_epoch == g.epochs)])
    return x[x.stage == "capture"] if "stage" in x else x


def final_grid(g: pd.DataFrame | None, model: str, rule: str = RULE) -> pd.DataFrame:
    """Mean and std over repeats per (n_batches, layer, batch_size) at the model's final checkpoint;
    columns n_batches, layer, batch_size, value, std, repeats, d (weight size)."""
    x = final_rows(g, model)
    if not len(x):
        return pd.DataFrame(columns=GRID_COLUMNS)
    if "d" not in x:
        x = x.assign(d=np.nan)
    out = x.groupby(["n_batches", "layer", "batch_size"]).agg(
        value=(rule, "mean"), std=(rule, lambda s: s.std(ddof=1) if len(s) > 1 else np.nan),
        repeats=(rule, "size"), d=("d", "first")).reset_index()
    return out[GRID_COLUMNS]


def paper_grid(paper: pd.DataFrame | None, model: str) -> pd.DataFrame:
    """The paper's cells of `model` with the same columns as `final_grid` (d = weight size)."""
    if paper is None or not len(paper):
        return pd.DataFrame(columns=GRID_COLUMNS)
    p = paper[paper.model == model]
    return pd.DataFrame({"n_batches": p.n_batches, "layer": p.layer, "batch_size": p.batch_size,
                         "value": p.gauss_pct_mean, "std": p.gauss_pct_std, "repeats": 5,
                         "d": p.weight_size})


def ours_vs_paper(g: pd.DataFrame, model: str, n_batches: int, rule: str = RULE) -> pd.DataFrame:
    """`final_grid` at `n_batches` beside the paper's cells: layer, batch_size, ours_mean, ours_std,
    degenerate_pct, repeats, paper_mean, paper_std."""
    grid = final_grid(g, model, rule)
    grid = grid[grid.n_batches == n_batches].rename(
        columns={"value": "ours_mean", "std": "ours_std"}
    )
    degenerate = final_grid(g, model, "degenerate_pct").rename(columns={"value": "degenerate_pct"})
    grid = grid.merge(degenerate[["n_batches", "layer", "batch_size", "degenerate_pct"]],
                      on=["n_batches", "layer", "batch_size"], how="left")
    paper = paper_grid(paper_tables(), model)
    paper = paper[paper.n_batches == n_batches][["layer", "batch_size", "value", "std"]].rename(
        columns={"value": "paper_mean", "std": "paper_std"})
    cols = ["layer", "batch_size", "ours_mean", "ours_std", "degenerate_pct", "repeats"]
    return grid[cols].merge(paper, on=["layer", "batch_size"], how="left")


def layer_order(names) -> list:
    """Layer names in network order: First Layer, Layer i / Block b Layer l, FC i, Final Layer."""
    def key(n):
        if n == "First Layer":
            return (0, 0, 0)
        if n == "Final Layer":
            return (9, 0, 0)
        parts = n.split()
        if parts[0] == "Block":
            return (1, int(parts[1]), int(parts[3]))
        return (1, 0, int(parts[-1]))
    return sorted(set(names), key=key)
