"""The ledger and the journal of a results folder: what is committed, and the operation in progress.

``ledger.jsonl`` holds one JSON object per committed configuration: ``config_id``, ``config``,
``tables`` ({table: {rows, sha256}}), ``stage_version`` (where known) and ``committed`` (time).
Every line is checked for that shape; a line that is not is named (file and line number).

``journal.json`` is written atomically, under the folder's lock, before a commit or a forget
touches a table or the ledger, and removed when the operation is done: ``{"op": "commit" |
"forget", "ids": [...], "tables": [...], "line": the ledger line a commit appends}``. It is what
explains rows the ledger does not list: a commit's rows before its line is complete, a forget's
rows until they are dropped. The ledger's last line being incomplete is a killed append only when
the journal's commit line starts with it; otherwise the ledger was cut, and that is named.
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from .store_io import JOURNAL, LEDGER, TABLES, IntegrityError, write_file

OPS = ("commit", "forget")


def _restore(path: Path) -> str:
    return f"restore it (git checkout -- {path})"


def read_journal(folder: Path) -> dict | None:
    """The operation in progress in `folder` (None if none); a damaged journal is an
    IntegrityError."""
    p = Path(folder) / JOURNAL
    try:
        j = json.loads(p.read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError):
        j = None
    ok = (isinstance(j, dict) and j.get("op") in OPS and isinstance(j.get("ids"), list)
          and isinstance(j.get("tables"), list)
          and (j["op"] != "commit" or isinstance(j.get("line"), str)))
    if not ok:
        raise IntegrityError(f"{p} is not a journal the store wrote (edited by hand?); "
                             f"{_restore(p)}, or delete it if no commit or forget was interrupted")
    return j


def write_journal(folder: Path, op: str, ids, tables, line: str | None = None) -> None:
    """Record `op` on `ids` (touching `tables`) before any of its writes."""
    j = {"op": op, "ids": sorted(ids), "tables": sorted(tables),
         "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if line is not None:
        j["line"] = line
    write_file(Path(folder) / JOURNAL, json.dumps(j, sort_keys=True) + "\n")


def clear_journal(folder: Path) -> None:
    (Path(folder) / JOURNAL).unlink(missing_ok=True)


def explained(journal: dict | None) -> set:
    """Ids whose rows the journal explains (a commit or forget of them is in progress)."""
    return set(journal["ids"]) if journal else set()


def forgetting(journal: dict | None) -> set:
    """Ids an interrupted forget removes: not committed any more, whatever the ledger still says."""
    return set(journal["ids"]) if journal and journal["op"] == "forget" else set()


def describe(journal: dict | None) -> str:
    """The journal's state in words (for `verify`)."""
    if journal is None:
        return "journal: none (no operation in progress)"
    ids = journal["ids"]
    what = ids[0] if len(ids) == 1 else f"{len(ids)} configurations ({', '.join(ids[:3])}, ...)"
    fate = ("rolls it back unless its ledger line is complete" if journal["op"] == "commit"
            else "completes it")
    return (f"journal: a {journal['op']} of {what} started {journal.get('started', '?')} is in "
            f"progress or was interrupted; the next write to this folder {fate}")


def shape_problem(entry) -> str | None:
    """Why a parsed ledger line is not a ledger entry (None if it is one)."""
    if not isinstance(entry, dict):
        return f"is a JSON {type(entry).__name__}, not an object"
    if not isinstance(entry.get("config_id"), str) or not entry["config_id"]:
        return "has no config_id string"
    if not isinstance(entry.get("config", {}), dict):
        return "has a config that is not an object"
    tables = entry.get("tables")
    if not isinstance(tables, dict):
        return "has no tables object"
    for name, t in tables.items():
        if name not in TABLES:
            return f"names an unknown table {name!r}"
        if not (isinstance(t, dict) and isinstance(t.get("rows"), int)
                and isinstance(t.get("sha256"), str)):
            return f"has no rows/sha256 for table {name!r}"
    return None


def parse_ledger(text: str, path: Path, journal: dict | None, problems: list | None = None) -> dict:
    """{config_id: entry} of every well-formed line of the ledger's `text`. A bad line raises
    IntegrityError, or, when `problems` is a list, is appended to it as a message and skipped."""
    out = {}
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        last = i == len(lines) - 1  # no newline after it
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if last and journal and journal["op"] == "commit" and journal["line"].startswith(line):
                continue  # the append of the commit in progress, killed half-way: not committed
            why = ("is incomplete and no commit was in progress (no journal names it): the ledger "
                   "was cut" if last else "is not valid JSON; the ledger was edited by hand")
            msg = f"{path}: line {i + 1} {why}; {_restore(path)}"
        else:
            bad = shape_problem(entry)
            if bad is None:
                out[entry["config_id"]] = entry
                continue
            msg = (f"{path}: line {i + 1} {bad}, so it is not a ledger entry; the ledger was "
                   f"edited; {_restore(path)}")
        if problems is None:
            raise IntegrityError(msg)
        problems.append(msg)
    return out


def ledger_text(folder: Path) -> str | None:
    p = Path(folder) / LEDGER
    return p.read_text() if p.exists() else None


def cut_killed_append(folder: Path, text: str) -> None:
    """Drop the ledger's unterminated last line (the killed append a journal explains)."""
    if text and not text.endswith("\n"):
        write_file(Path(folder) / LEDGER, text[: text.rfind("\n") + 1])


def end_last_line(folder: Path, text: str) -> None:
    """Give a complete last line its missing newline (e.g. saved by an editor) before an append."""
    if text and not text.endswith("\n"):
        write_file(Path(folder) / LEDGER, text + "\n")
