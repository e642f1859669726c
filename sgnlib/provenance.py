"""Provenance every result row carries: commit, date, host/device, versions, data source + sha256
(and, for rows computed on the test split, its source + sha256)."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import socket
import subprocess
from pathlib import Path

import pandas as pd
import torch

from .atomic import atomic_write
from .paths import REPO_ROOT


def git_commit() -> str:
    """HEAD commit of the checkout, or $SGN_COMMIT, or 'unknown'; '+dirty' if tracked files other
    than the results folders changed (a run's own results, written as it goes, do not count)."""
    if os.environ.get("SGN_COMMIT"):
        return os.environ["SGN_COMMIT"]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)data/results"], cwd=REPO_ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def device_name(device) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    arch = platform.processor() or platform.machine()
    return f"cpu ({arch}, {os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def provenance(device, data_info: dict | None = None, test_info: dict | None = None) -> dict:
    """The columns above; test_source / test_sha256 only when `test_info` (the test split's) is
    given."""
    data_info = data_info or {}
    out = {
        "git_commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "device": device_name(device),
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda if torch.device(device).type == "cuda" else None,
        "python_version": platform.python_version(),
        "data_source": data_info.get("source"),
        "data_sha256": data_info.get("sha256"),
    }
    if test_info is not None:
        out.update(test_source=test_info.get("source"), test_sha256=test_info.get("sha256"))
    return out


def atomic_write_csv(df: pd.DataFrame, path: Path) -> None:
    """Replace `path` by `df` as CSV (gzip for .gz; `sgnlib.atomic.atomic_write`)."""
    path = Path(path)
    comp = "gzip" if path.suffix == ".gz" else None
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, compression=comp), make_parents=True)


def append_rows(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Append rows to a tidy CSV atomically (read, concatenate, write temp, rename)."""
    path = Path(path)
    if path.exists():
        df = pd.concat([pd.read_csv(path), df], ignore_index=True)
    atomic_write_csv(df, path)
    return df
