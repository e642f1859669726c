"""The paper's internal inconsistencies and its theorems read critically, for the report page.
Verdicts are made in one place only: `sgnlib.claims`; the numbers each results chapter quotes are
in its module of `sgnlib.chapters`."""
from __future__ import annotations

import pandas as pd

from .reader import paper_tables, read_table  # noqa: F401 (read_table: the training demo's import)


def _architecture_finding() -> dict:
    return {"where": "AlexNet architecture (text vs Tables 1-2)",
            "finding": f"text: first conv 5x5, stride 2 gives {64 * 3 * 5 * 5:,} weights with 64 "
                       f"filters; Table 1 lists 23,232 = 64x3x11x11; the text's three linear "
                       f"layers fit the tables, which show only the final classifier (2,560 = "
                       f"256x10)"}


def paper_discrepancies() -> pd.DataFrame:
    """Inconsistencies inside the paper, each computed from its own numbers, and its theorems read
    critically: statements stronger or weaker than what holds, with counterexamples (sgnlib.clt /
    sgnlib.langevin.findings)."""
    from . import clt, langevin
    t = paper_tables()
    l1 = t[(t.table == 1) & (t.layer == "Layer 1") & (t.batch_size == 128)].gauss_pct_mean.iloc[0]
    return pd.DataFrame([
        _architecture_finding(),
        {"where": "Layer 1, batch 128, 200 batches",
         "finding": f"text says 94.12 %, Table 1 says {l1:.2f} %"},
        *clt.findings(), *langevin.findings()])
