"""Where things live: the repository root, the decode cache, results and runs folders."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
PAPER_TABLES = DATA_DIR / "paper" / "tables_1_to_4.csv"
RESULTS_DIR = DATA_DIR / "results"
RUNS_DIR = REPO_ROOT / "runs"


def cache_dir() -> Path:
    """Decode cache: $SGN_CACHE, else ~/.cache/sgn-book (never inside ../shared)."""
    d = Path(os.environ.get("SGN_CACHE", Path.home() / ".cache" / "sgn-book")).expanduser()
    d.mkdir(parents=True, exist_ok=True)
    return d
