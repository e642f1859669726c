"""Transactional results: a configuration's rows in all its tables become visible together or not at all.

A results folder (one per scale, e.g. ``data/results/cpu/``) holds tidy tables (``<table>.csv`` or,
for the long ones, ``.csv.gz``; a table written plain before it was compressed is still read, and
moves to its compressed file at its next write or `compress`) and ``ledger.jsonl``: one line per
committed configuration with its config and, per table, the number of its rows and a sha256 of
their text. Commit, under the folder's lock
(`filelock`): (1) every table is rewritten atomically with the new rows added and any rows of
uncommitted configurations (left by a killed commit) dropped, (2) one ledger line is appended.
A configuration is done when, and only when, its ledger line is complete; a kill at any instant
leaves either all of its rows committed or none visible. Readers see committed rows only and check
each configuration's rows against the ledger, so a truncated or hand-edited table is named, not
trusted. Tables are kept as text end to end, so the digest of a row never depends on float parsing.
`claim` takes a per-configuration lock so concurrent runs (two copies of one sweep, k shards in one
folder) never compute the same configuration twice; locks are released by the OS if a process dies.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import os
import signal
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

TABLES = ("training", "gaussianity", "tail_index", "moments", "berry_esseen", "examples")
# the long tables are compressed (they are most of a folder's bytes; a GPU run carries the whole tree)
TABLE_EXT = {"gaussianity": ".csv.gz", "tail_index": ".csv.gz", "examples": ".csv.gz"}
LEDGER = "ledger.jsonl"


class IntegrityError(RuntimeError):
    """A results folder whose tables disagree with its ledger; the message names file and remedy."""


def fault_due(point: str) -> bool:
    """Test hook: True when $SGN_FAULT names `point` ("point" or "point:k") and this is its k-th arrival."""
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
    return pd.read_csv(io.StringIO(df.to_csv(index=False, lineterminator="\n")), dtype=str, keep_default_na=False)


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


def _write_text_table(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        comp = {"method": "gzip", "mtime": 0} if path.suffix == ".gz" else None
        df.to_csv(tmp, index=False, compression=comp, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class ResultStore:
    def __init__(self, folder):
        self.folder = Path(folder)

    # ------------------------------------------------------------ paths and locks

    def path(self, table: str) -> Path:
        """Where `table` is written."""
        return self.folder / f"{table}{TABLE_EXT.get(table, '.csv')}"

    def legacy_path(self, table: str) -> Path | None:
        """The plain ``.csv`` a compressed table was written to before it was compressed (None if plain)."""
        p = self.folder / f"{table}.csv"
        return None if p == self.path(table) else p

    def existing(self, table: str) -> Path:
        """Where `table` is read: its file, or its legacy plain file when only that exists."""
        p, legacy = self.path(table), self.legacy_path(table)
        return legacy if legacy is not None and not p.exists() and legacy.exists() else p

    def _write(self, table: str, df: pd.DataFrame) -> None:
        """Write `table` to its file and drop its legacy plain file."""
        _write_text_table(df, self.path(table))
        legacy = self.legacy_path(table)
        if legacy is not None:
            legacy.unlink(missing_ok=True)

    def compress(self) -> list[str]:
        """Move tables still in a plain legacy file into their compressed file (values byte-identical, the
        ledger unchanged); returns the tables moved."""
        moved = []
        with self.lock():
            ledger = self.ledger()
            for table in TABLES:
                if self.existing(table) != self.path(table):
                    text = self._text(table)
                    self.check(table, text, ledger)
                    self._write(table, text)
                    moved.append(table)
        return moved

    def lock(self, timeout: float = 600) -> FileLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.folder / ".lock"), timeout=timeout)

    def claim(self, config_id: str, timeout: float = 0) -> FileLock | None:
        """Hold the per-configuration lock (acquired) or None if another process holds it past `timeout`."""
        d = self.folder / ".claims"
        d.mkdir(parents=True, exist_ok=True)
        lk = FileLock(str(d / f"{config_id}.lock"))
        try:
            lk.acquire(timeout=timeout)
        except Timeout:
            return None
        return lk

    # ------------------------------------------------------------ ledger

    def ledger(self) -> dict:
        """{config_id: entry} of committed configurations (an incomplete last line is not a commit)."""
        p = self.folder / LEDGER
        if not p.exists():
            if any(self.existing(t).exists() for t in TABLES):
                raise IntegrityError(f"{self.folder} has result tables but no {LEDGER} (written before the "
                                     f"transactional store); run: python scripts/migrate_results.py {self.folder}")
            return {}
        out = {}
        text = p.read_text()
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                if i == len(lines) - 1:  # killed while appending: not committed
                    continue
                raise IntegrityError(f"{p}: line {i + 1} is not valid JSON; the ledger was edited by hand "
                                     f"(restore it: git checkout -- {p})") from None
            out[entry["config_id"]] = entry
        return out

    def done(self) -> set:
        return set(self.ledger())

    def _repair_ledger_tail(self) -> None:
        p = self.folder / LEDGER
        if p.exists():
            text = p.read_text()
            if text and not text.endswith("\n"):
                last = text[text.rfind("\n") + 1:]
                try:  # a complete line that lacks only its newline (e.g. saved by an editor) is a commit
                    json.loads(last)
                    fixed = text + "\n"
                except json.JSONDecodeError:  # killed while appending: not a commit
                    fixed = text[: text.rfind("\n") + 1]
                tmp = p.with_name(f".{p.name}.tmp{os.getpid()}")
                tmp.write_text(fixed)
                os.replace(tmp, p)

    # ------------------------------------------------------------ reading

    def _text(self, table: str) -> pd.DataFrame | None:
        p = self.existing(table)
        if not p.exists():
            return None
        try:
            return pd.read_csv(p, dtype=str, keep_default_na=False)
        except Exception as e:  # truncated gzip, garbage bytes, ...
            raise IntegrityError(f"{p} is unreadable ({type(e).__name__}: {e}); restore it "
                                 f"(git checkout -- {p}) or delete it and rerun its configurations") from None

    def check(self, table: str, text: pd.DataFrame | None, ledger: dict) -> None:
        """Raise IntegrityError if any committed configuration's rows in `table` differ from the ledger."""
        want = {cid: e["tables"][table] for cid, e in ledger.items() if table in e["tables"]}
        if not want:
            return
        p = self.existing(table)
        if text is None:
            raise IntegrityError(f"{p} is missing but the ledger lists {len(want)} configuration(s) in it; "
                                 f"restore it (git checkout -- {p})")
        groups = dict(tuple(text.groupby("config_id", sort=False))) if len(text) else {}
        bad = []
        for cid, w in want.items():
            rows = groups.get(cid, text.iloc[0:0])
            n = len(rows)
            if n != w["rows"] or rows_digest(rows) != w["sha256"]:
                bad.append(f"{cid} ({n} rows, ledger {w['rows']})" if n != w["rows"] else f"{cid} (values changed)")
        if bad:
            raise IntegrityError(f"{p}: {len(bad)} configuration(s) differ from the ledger, e.g. {bad[0]}: the file "
                                 f"was truncated or edited by hand; restore it (git checkout -- {p}) or drop them "
                                 f"(python -m sgnlib.sweep forget --results {self.folder} ID ...)")

    def read(self, table: str, text: bool = False) -> pd.DataFrame | None:
        """Committed rows of `table` (verified against the ledger), typed unless text=True; None if absent."""
        ledger = self.ledger()
        t = self._text(table)
        self.check(table, t, ledger)
        if t is None:
            return None
        t = t[t.config_id.isin(set(ledger))].reset_index(drop=True)
        if text:
            return t
        return pd.read_csv(io.StringIO(t.to_csv(index=False)))

    def verify(self) -> int:
        """Check every table; return the number of committed configurations."""
        ledger = self.ledger()
        for table in TABLES:
            self.check(table, self._text(table), ledger)
        return len(ledger)

    # ------------------------------------------------------------ writing

    def commit(self, config: dict, tables: dict[str, pd.DataFrame], config_id: str) -> bool:
        """Add one configuration's rows to all its tables, then its ledger line. False if already committed."""
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise ValueError(f"unknown result table(s) {sorted(unknown)}; known: {TABLES}")
        new = {name: as_text(df) for name, df in tables.items()}  # idempotent on text frames
        for name, df in new.items():
            if "config_id" not in df.columns or set(df.config_id) - {config_id}:
                raise ValueError(f"rows of table {name!r} must all carry config_id {config_id!r}")
        fault("before-commit")
        with self.lock():
            self._repair_ledger_tail()
            ledger = self.ledger()
            if config_id in ledger:
                return False
            for name in TABLES:  # every table: add this configuration's rows, drop uncommitted leftovers
                old = self._text(name)
                if name not in new and (old is None or old.config_id.isin(set(ledger)).all()):
                    continue
                keep = old[old.config_id.isin(set(ledger))] if old is not None else None
                parts = [d for d in (keep, new.get(name)) if d is not None]
                out = pd.concat(parts, ignore_index=True).fillna("") if parts else None
                if out is not None:
                    self._write(name, out)
                if name in new and name != [t for t in TABLES if t in new][-1]:
                    fault("between-tables")  # this configuration's rows are now in some tables, not all
            fault("before-ledger")
            entry = {"config_id": config_id, "config": config,
                     "tables": {n: {"rows": len(df), "sha256": rows_digest(df)} for n, df in new.items()},
                     "committed": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
            line = json.dumps(entry, sort_keys=True) + "\n"
            with open(self.folder / LEDGER, "a") as f:
                if fault_due("mid-ledger"):  # test hook: die with half a line written
                    f.write(line[: len(line) // 2])
                    f.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            fault("after-ledger")
        return True

    def forget(self, ids) -> int:
        """Remove configurations (ledger lines and rows); returns how many were committed."""
        ids = set(ids)
        with self.lock():
            self._repair_ledger_tail()
            ledger = self.ledger()
            keep = {cid: e for cid, e in ledger.items() if cid not in ids}
            for name in TABLES:
                old = self._text(name)
                if old is not None and old.config_id.isin(ids).any():
                    self._write(name, old[~old.config_id.isin(ids)])
            tmp = self.folder / f".{LEDGER}.tmp{os.getpid()}"
            tmp.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in keep.values()))
            os.replace(tmp, self.folder / LEDGER)
        return len(ledger) - len(keep)


def merge(src, dst) -> int:
    """Commit into `dst` every configuration committed in `src` that `dst` lacks; idempotent."""
    s, d = ResultStore(src), ResultStore(dst)
    s.verify()
    ledger = s.ledger()
    texts = {t: s.read(t, text=True) for t in TABLES}
    have = d.done()
    n = 0
    for cid, entry in ledger.items():
        if cid in have:
            continue
        rows = {t: texts[t][texts[t].config_id == cid].reset_index(drop=True) for t in entry["tables"]}
        n += d.commit(entry["config"], rows, cid)
    return n
