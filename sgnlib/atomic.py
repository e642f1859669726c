"""Atomic file replacement, the one way this project writes a file that others may read at any
moment: results tables, ledger and journal, checkpoints, the data cache, CSVs of scripts, packed
results.

`atomic_write(path, write)` calls `write(tmp)` on a temporary file in the same folder
(`.<name>.tmp<pid>`), flushes it to disk and renames it over `path`: a reader sees the old file or
the new one, never a part of one. On an error the temporary file is removed; one left by a killed
writer matches `TEMPORARY_GLOB` (`sgnlib.store_io.clean_temporaries` removes them in a results
folder).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

TEMPORARY_GLOB = ".*.tmp[0-9]*"


def temporary(path: Path) -> Path:
    """The temporary name `atomic_write` writes `path` under (per process)."""
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, write, make_parents: bool = False) -> Path:
    """Replace `path` by what `write(tmp)` writes into the temporary file `tmp` (module docstring);
    make_parents: create the folder first."""
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(path)
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_text(path, text: str) -> Path:
    """Replace `path` by `text`."""
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def atomic_copy(src, dest) -> Path:
    """Replace `dest` by a copy of `src` (the folder of `dest` is created)."""
    return atomic_write(dest, lambda tmp: shutil.copyfile(src, tmp), make_parents=True)
