"""Helpers shared by the sweep tests: committed rows compared by value, not by timing or date."""
import pandas as pd

from sgnlib.store import TABLES, ResultStore

VARIABLE = {"wall_s", "grad_s", "shapiro_s", "epoch_s", "img_per_s", "date", "host", "git_commit"}


def tables(folder):
    """Committed rows of every table, value columns only, in a canonical order."""
    store, out = ResultStore(folder), {}
    for t in TABLES:
        df = store.read(t, text=True)
        if df is not None:
            df = df[[c for c in df.columns if c not in VARIABLE]]
            out[t] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def assert_same_rows(a, b):
    assert set(a) == set(b)
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], check_like=True, obj=t)
