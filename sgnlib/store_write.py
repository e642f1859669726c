"""Writing to a results folder: commit, forget and the recovery every write starts with (the design
is `sgnlib.store`'s docstring). Mixed into `sgnlib.store.ResultStore`, whose paths, lock, ledger
and table reading these methods use."""
from __future__ import annotations

import datetime as _dt
import json

import pandas as pd

from . import folder_identity as ident
from . import journal as jn
from . import store_check as chk
from .store_io import (LEDGER, TABLES, append_line, as_text, clean_temporaries, fault, rows_digest,
                       write_file, write_refused)


class Writing:
    """Commit, forget and recovery of `sgnlib.store.ResultStore` (all under the folder's lock)."""

    def _recover(self) -> None:
        """With the lock held: undo the commit or finish the forget a killed process left."""
        clean_temporaries(self.folder)
        journal = jn.read_journal(self.folder)
        if journal is None:
            return
        if journal["op"] == "forget":
            self._drop(set(journal["ids"]))
        else:
            text = jn.ledger_text(self.folder) or ""
            if journal["ids"][0] not in jn.parse_ledger(text, self.folder / LEDGER, journal):
                for table in journal["tables"]:  # roll back: only the rows the journal explains
                    old = self._text(table)
                    if old is not None and old.config_id.isin(journal["ids"]).any():
                        self._write(table, old[~old.config_id.isin(journal["ids"])])
                jn.cut_killed_append(self.folder, text)
        jn.clear_journal(self.folder)

    def _drop(self, ids: set) -> None:
        """Forget `ids`: ledger lines first, then rows in every table (idempotent: recovery repeats
        it)."""
        text = jn.ledger_text(self.folder) or ""
        jn.parse_ledger(text, self.folder / LEDGER, None)  # every line is an entry
        lines = text.splitlines(keepends=True)
        keep = [x for x in lines if not x.strip() or json.loads(x)["config_id"] not in ids]
        if len(keep) != len(lines):
            kept = "".join(x if x.endswith("\n") else x + "\n" for x in keep)
            write_file(self.folder / LEDGER, kept)
        fault("forget-after-ledger")
        holding = {t: d for t in TABLES
                   if (d := self._text(t)) is not None and d.config_id.isin(ids).any()}
        for i, (table, old) in enumerate(holding.items()):
            self._write(table, old[~old.config_id.isin(ids)])
            if i < len(holding) - 1:
                fault("forget-between-tables")

    def _rescue(self) -> None:
        """After a failed write: roll back at once if the disk lets us, else leave it to the next
        write."""
        try:
            self._recover()
        except OSError:
            pass

    def commit(self, config: dict, tables: dict[str, pd.DataFrame], config_id: str) -> bool:
        """Add one configuration's rows to all its tables, then its ledger line. False if already
        committed."""
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise ValueError(f"unknown result table(s) {sorted(unknown)}; known: {TABLES}")
        new = {name: as_text(df) for name, df in tables.items()}  # idempotent on text frames
        for name, df in new.items():
            if "config_id" not in df.columns or set(df.config_id) - {config_id}:
                raise ValueError(f"rows of table {name!r} must all carry config_id {config_id!r}")
        fault("before-commit")
        try:
            with self.lock():
                return self._commit_locked(config, new, config_id)
        except OSError as e:
            raise write_refused(e, self.folder, f"commit of {config_id}",
                                "nothing of it was committed") from None

    def _entry(self, config: dict, new: dict, config_id: str) -> dict:
        """The ledger entry of a commit: config, per table rows and sha256, stage version, time."""
        entry = {"config_id": config_id, "config": config,
                 "tables": {n: {"rows": len(df), "sha256": rows_digest(df)}
                            for n, df in new.items()},
                 "committed": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        version = ident.rows_version(new)
        version = version if version is not None else ident.version_of(entry)
        if version is not None:
            entry["stage_version"] = version
        return entry

    def _commit_locked(self, config: dict, new: dict, config_id: str) -> bool:
        self._recover()
        entries = self._entries(None)
        if config_id in entries:
            return False
        order = [t for t in TABLES if t in new]
        old = {name: self._text(name) for name in order}
        for name in order:
            found = chk.orphans({name: old[name]}, set(entries))
            chk.refuse_orphans(self.folder, self.path(name), found)
        line = json.dumps(self._entry(config, new, config_id), sort_keys=True) + "\n"
        jn.end_last_line(self.folder, jn.ledger_text(self.folder) or "")
        jn.write_journal(self.folder, "commit", [config_id], order, line)
        try:
            fault("after-journal")
            for name in order:
                parts = [d for d in (old[name], new[name]) if d is not None]
                self._write(name, pd.concat(parts, ignore_index=True).fillna(""))
                if name != order[-1]:
                    fault("between-tables")  # its rows are now in some tables, not all
            fault("before-ledger")
            append_line(self.folder / LEDGER, line)
            fault("after-ledger")
        except OSError:
            self._rescue()
            raise
        jn.clear_journal(self.folder)
        return True

    def forget(self, ids) -> int:
        """Remove configurations: their ledger lines and their rows (orphan rows of these ids too).
        Returns how many of `ids` had a ledger line or rows."""
        ids = set(ids)
        try:
            with self.lock():
                self._recover()
                held = {t: d for t in TABLES if (d := self._text(t)) is not None}
                rows = {c for d in held.values() for c in d.config_id}
                found = ids & (set(self._entries(None)) | rows)
                if found:
                    touched = [t for t, d in held.items() if d.config_id.isin(found).any()]
                    jn.write_journal(self.folder, "forget", found, touched)
                    fault("forget-after-journal")
                    self._drop(found)
                    fault("forget-before-clear")
                    jn.clear_journal(self.folder)
        except OSError as e:
            raise write_refused(e, self.folder, f"forget in {self.folder}",
                                "the forget was not begun, or the next write to the folder "
                                "completes it") from None
        return len(found)
