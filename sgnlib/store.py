"""Transactional results: a configuration's rows in all its tables become visible together or not
at all.

A results folder (one per scale, e.g. ``data/results/cpu/``) holds tidy tables (``<table>.csv`` or,
for the long ones, ``.csv.gz``), ``ledger.jsonl`` (one line per
committed configuration: its config, stage version and, per table, the number of its rows and a
sha256 of their text) and, while a commit or forget is under way, ``journal.json``
(`sgnlib.journal`). Every write happens under the folder's lock (`sgnlib.store_lock`: it names its
holder, and a waiter says so and waits). A write first recovers what a killed one left: a commit
whose ledger line is not complete is rolled back (its rows dropped from the tables its journal
names), a forget is rolled forward. Commit: (1) the journal names the id, its tables and its ledger
line, (2) each of its tables is rewritten atomically with its rows added, (3) the ledger line is
appended, (4) the journal is removed. Forget: the journal names the ids, then the ledger and the
tables are rewritten without them. Only rows a journal explains are ever dropped by recovery.

A configuration is done when, and only when, its ledger line is complete; a kill at any instant
leaves either all of its rows committed or none visible. Readers see committed rows only, read as
one state (reread if a writer changed a file meanwhile), and check every committed configuration's
rows in every table against the ledger (`sgnlib.store_check`), so a truncated or hand-edited table
is named, not trusted. Rows of ids that neither the ledger nor the journal explains are orphans:
readers leave them out, `verify` names them with the remedy, and a commit refuses to rewrite a
table that holds them. Per stage, readers use one stage version (`sgnlib.folder_identity`), and
`merge` refuses a folder computed on other data or by another stage version.
Tables are kept as text end to end, so the digest of a row never depends on float parsing.
`claim` takes a per-configuration lock so concurrent runs (two copies of one sweep, k shards in one
folder) never compute the same configuration twice; locks are released by the OS if a process dies.
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from . import folder_identity as ident
from . import journal as jn
from . import store_check as chk
# names other modules import from here too
from .store_io import (JOURNAL, LEDGER, TABLE_EXT, TABLES, IntegrityError, StoreError,  # noqa: F401
                       as_text, check_table_files, fault, fault_due, rows_digest,
                       write_text_table)
from .store_lock import FolderLock
from .store_write import Writing


# the last commit that ships the migrations of older results folders (scripts/migrate_results.py:
# tables without a ledger; scripts/migrate_names.py: renamed columns; ResultStore.compress: tables
# written plain before they were compressed)
MIGRATION_COMMIT = "73bfe2bff3f9"


class ResultStore(Writing):
    """One results folder: paths, locks, ledger and reading here; commit, forget and recovery in
    `sgnlib.store_write.Writing`."""

    lock_notice_s, lock_repeat_s = 2.0, 60.0  # when a held folder lock is said, and how often again

    def __init__(self, folder):
        self.folder = Path(folder)

    # ------------------------------------------------------------ paths and locks

    def path(self, table: str) -> Path:
        """Where `table` is written."""
        return self.folder / f"{table}{TABLE_EXT.get(table, '.csv')}"

    def _write(self, table: str, df: pd.DataFrame) -> None:
        """Write `table` to its file (atomically)."""
        write_text_table(df, self.path(table))

    def lock(self) -> FolderLock:
        """The folder's lock (a context manager that waits, saying who holds it)."""
        return FolderLock(self.folder, self.lock_notice_s, self.lock_repeat_s)

    def claim(self, config_id: str, timeout: float = 0) -> FileLock | None:
        """Hold the per-configuration lock (acquired) or None if another process holds it past
        `timeout`."""
        d = self.folder / ".claims"
        d.mkdir(parents=True, exist_ok=True)
        lk = FileLock(str(d / f"{config_id}.lock"))
        try:
            lk.acquire(timeout=timeout)
        except Timeout:
            return None
        return lk

    # ------------------------------------------------------------ ledger and journal

    def _entries(self, journal: dict | None, problems: list | None = None) -> dict:
        """Every entry of the ledger (see `journal.parse_ledger`)."""
        check_table_files(self.folder)
        text = jn.ledger_text(self.folder)
        if text is None:
            if any(self.path(t).exists() for t in TABLES):
                raise IntegrityError(f"{self.folder} has result tables but no {LEDGER} (written "
                                     f"before the transactional store); migrate it with "
                                     f"scripts/migrate_results.py of commit {MIGRATION_COMMIT} "
                                     f"(README, 'Reproducing the experiments')")
            return {}
        return jn.parse_ledger(text, self.folder / LEDGER, journal, problems)

    def ledger(self) -> dict:
        """{config_id: entry} of committed configurations (not those an interrupted forget
        removes)."""
        journal = jn.read_journal(self.folder)
        gone = jn.forgetting(journal)
        return {cid: e for cid, e in self._entries(journal).items() if cid not in gone}

    def done(self) -> set:
        return set(self.ledger())

    def _stamp(self, tables) -> list:
        """What changes when a writer replaces or appends to the journal, ledger or `tables`."""
        out = []
        for p in [self.folder / JOURNAL, self.folder / LEDGER, *(self.path(t) for t in tables)]:
            try:
                st = p.stat()
                out.append((str(p), st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                out.append((str(p), None))
        return out

    def _snapshot(self, tables, problems: list | None = None) -> tuple[dict | None, dict, dict]:
        """(journal, every ledger entry, {table: text}) read as one state: reread while a writer
        changes a file meanwhile."""
        for attempt in range(50):
            before = self._stamp(tables)
            journal = jn.read_journal(self.folder)
            found = [] if problems is not None else None
            entries = self._entries(journal, found)
            texts = {t: self._text(t) for t in tables}
            if self._stamp(tables) == before:
                break
            time.sleep(0.02 * (1 + attempt % 5))
        if problems is not None:
            problems.extend(found)
        return journal, entries, texts

    @staticmethod
    def _committed(journal: dict | None, entries: dict) -> dict:
        gone = jn.forgetting(journal)
        return {cid: e for cid, e in entries.items() if cid not in gone}

    # ------------------------------------------------------------ reading

    def _text(self, table: str) -> pd.DataFrame | None:
        p = self.path(table)
        if not p.exists():
            return None
        try:
            return pd.read_csv(p, dtype=str, keep_default_na=False)
        except FileNotFoundError:  # replaced meanwhile: the snapshot rereads
            return None
        except Exception as e:  # truncated gzip, garbage bytes, ...
            raise IntegrityError(f"{p} is unreadable ({type(e).__name__}: {e}); restore it "
                                 f"(git checkout -- {p}) or delete it and rerun its "
                                 f"configurations") from None

    def check(self, table: str, text: pd.DataFrame | None, ledger: dict) -> None:
        """Raise IntegrityError if any committed configuration's rows in `table` differ from the
        ledger."""
        chk.check_table(self.folder, self.path(table), table, text, ledger)

    def read(self, table: str, text: bool = False) -> pd.DataFrame | None:
        """Committed rows of `table` at the stage versions read (verified against the ledger), typed
        unless text=True; None if absent. Orphan rows are left out (`verify` names them)."""
        journal, entries, texts = self._snapshot([table])
        ledger = self._committed(journal, entries)
        t = texts[table]
        self.check(table, t, ledger)
        if t is None:
            return None
        t = t[t.config_id.isin(ident.readable(ledger))].reset_index(drop=True)
        if text:
            return t
        return pd.read_csv(io.StringIO(t.to_csv(index=False)))

    def verify(self, say=None) -> int:
        """Check the ledger, every table and the orphans; raise IntegrityError naming the first
        problem. `say` gets the lines of what was checked. Returns the number of committed
        configurations."""
        problems: list = []
        journal, entries, texts = self._snapshot(TABLES, problems)
        found = chk.orphans(texts, set(entries) | jn.explained(journal))
        if problems:
            left = f"; it leaves {chk.orphan_summary(found)} with rows but no ledger line"
            raise IntegrityError(problems[0] + (left if found else ""))
        ledger = self._committed(journal, entries)
        for table in TABLES:
            self.check(table, texts[table], ledger)
        if found:
            raise chk.orphan_error(self.folder, found)
        held = [t for t in TABLES if texts[t] is not None]
        lines = [f"{self.folder}: {len(ledger)} committed configurations, tables match the ledger "
                 f"({', '.join(held) or 'no tables'})", "orphans: none", jn.describe(journal),
                 *ident.version_lines(self.folder, ledger), *ident.data_lines(ledger)]
        for line in lines if say else ():
            say(line)
        return len(ledger)


def merge(src, dst) -> int:
    """Commit into `dst` every configuration committed in `src` that `dst` lacks; idempotent.
    Refuses (StoreError) a source whose rows are not comparable with the destination's
    (`sgnlib.folder_identity.merge_refusal`)."""
    s, d = ResultStore(src), ResultStore(dst)
    s.verify()
    journal, entries, texts = s._snapshot(TABLES)
    ledger = s._committed(journal, entries)
    have = d.done()
    todo = {cid: e for cid, e in ledger.items() if cid not in have}
    refusal = None
    if todo:
        dst_texts = {t: d.read(t, text=True) for t in {t for e in todo.values()
                                                        for t in e["tables"]}}
        refusal = ident.merge_refusal(s.folder, todo, texts, d.folder, d.ledger(), dst_texts)
    if refusal:
        raise StoreError(refusal)
    n = 0
    for cid, entry in todo.items():
        rows = {t: texts[t][texts[t].config_id == cid].reset_index(drop=True)
                for t in entry["tables"]}
        n += d.commit(entry["config"], rows, cid)
    return n
