"""The files of a results folder and how they are written (see `sgnlib.store` for the design).

Names of the tables and of the ledger and journal, the store's error types, rows as the exact text
their CSV holds, the digest of rows, atomic file writes, the one-line message for a write the
operating system refused (disk full, read-only folder), and the test hooks that SIGKILL a process
at a chosen point ($SGN_FAULT).
"""
from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import signal
from pathlib import Path

import pandas as pd

from .atomic import TEMPORARY_GLOB, atomic_write, atomic_write_text

TABLES = ("training", "gaussianity", "tail_index", "moments", "berry_esseen", "examples",
          "recount", "assumption1")
# every table is compressed (tables are most of a folder's bytes; a GPU run carries the whole tree)
TABLE_EXT = {table: ".csv.gz" for table in TABLES}
LEDGER = "ledger.jsonl"
JOURNAL = "journal.json"


class StoreError(RuntimeError):
    """A results folder that cannot be used as asked; the message is one line that says what to
    do."""


class IntegrityError(StoreError):
    """A results folder whose files disagree (tables, ledger, journal); the message names file and
    remedy."""


def check_table_files(folder: Path) -> None:
    """Raise when a table is stored under another file name than this code reads (a plain CSV
    from code that compressed fewer tables): its rows would otherwise be silently unseen."""
    for table in TABLES:
        ext = TABLE_EXT[table]
        other = folder / f"{table}{'.csv' if ext == '.csv.gz' else '.csv.gz'}"
        if other.exists():
            raise IntegrityError(f"{other} is not read: this code keeps the table as "
                                 f"{table}{ext}; convert it with `gzip -n {other}` (a folder "
                                 f"must not hold both)")


def fault_due(point: str) -> bool:
    """Test hook: True when $SGN_FAULT names `point` ("point" or "point:k") and this is its k-th
    arrival."""
    want = os.environ.get("SGN_FAULT", "")
    if not want or want.split(":")[0] != point:
        return False
    _FAULTS[point] = _FAULTS.get(point, 0) + 1
    return _FAULTS[point] == int(want.split(":")[1] if ":" in want else 1)


def fault(point: str) -> None:
    """SIGKILL this process at `point` when the test hook says so (see `fault_due`)."""
    if fault_due(point):
        os.kill(os.getpid(), signal.SIGKILL)


_FAULTS: dict = {}


def as_text(df: pd.DataFrame) -> pd.DataFrame:
    """A DataFrame as the exact strings its CSV holds ('' for missing values)."""
    text = df.to_csv(index=False, lineterminator="\n")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def rows_digest(rows: pd.DataFrame) -> str:
    """sha256 of rows' text, independent of column order and of columns empty in these rows."""
    h = hashlib.sha256()
    for col in sorted(rows.columns):
        values = rows[col].tolist()
        if any(v != "" for v in values):
            h.update(f"{col}\x1d".encode())
            h.update("\x1e".join(values).encode())
            h.update(b"\x1d")
    return h.hexdigest()


def write_text_table(df: pd.DataFrame, path: Path) -> None:
    """Write text rows to `path` (gzip for .gz, no timestamp) atomically."""
    comp = {"method": "gzip", "mtime": 0} if path.suffix == ".gz" else None

    def write(tmp: Path) -> None:
        df.to_csv(tmp, index=False, compression=comp, quoting=csv.QUOTE_MINIMAL,
                  lineterminator="\n")
    atomic_write(path, write)


def write_file(path: Path, text: str) -> None:
    """Replace `path` by `text` atomically (`sgnlib.atomic`)."""
    atomic_write_text(path, text)


def append_line(path: Path, line: str) -> None:
    """Append one line to `path` and flush it to disk (test hook "mid-ledger": die half-way)."""
    with open(path, "a") as f:
        if fault_due("mid-ledger"):
            f.write(line[: len(line) // 2])
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def clean_temporaries(folder: Path) -> None:
    """Remove temporary files a killed writer left (call with the folder's lock held)."""
    for p in folder.glob(TEMPORARY_GLOB):
        p.unlink(missing_ok=True)


READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


def write_refused(e: OSError, folder: Path, what: str, outcome: str) -> StoreError:
    """One-line StoreError for an OSError while `what` (e.g. 'commit of X') wrote in `folder`;
    `outcome` says what state the folder is left in."""
    if e.errno == errno.ENOSPC:
        fix = "free disk space and rerun"
    elif e.errno in READ_ONLY:
        fix = (f"the results folder is not writable: make it writable (chmod -R u+w {folder}) or "
               f"work on a copy")
    else:
        fix = "fix the cause and rerun"
    where = e.filename or folder
    return StoreError(f"{what}: cannot write {where} ({e.strerror or e}); {outcome}: {fix}")
