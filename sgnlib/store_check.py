"""Checks of a results folder's tables against its ledger and journal (see `sgnlib.store`).

Every committed configuration's rows are checked in every table: where its ledger entry lists the
table, their count and sha256 must match; where it does not, the table must hold none of its rows.
Rows of an id that neither the ledger nor the journal explains are orphans: readers leave them out,
`verify` names them, and a commit will not rewrite a table that holds them.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .store_io import LEDGER, IntegrityError, rows_digest


def forget_command(folder: Path, ids) -> str:
    """The command that drops `ids` (all of them when few, else the first ones and '...')."""
    ids = sorted(ids)
    shown = " ".join(ids) if len(ids) <= 5 else " ".join(ids[:3]) + " ..."
    return f"python -m sgnlib.sweep forget {folder} {shown}"


def _groups(text: pd.DataFrame | None) -> dict:
    if text is None or not len(text):
        return {}
    return dict(tuple(text.groupby("config_id", sort=False)))


def table_problems(table: str, text: pd.DataFrame | None, ledger: dict) -> list[tuple[str, str]]:
    """(config_id, what differs) for each committed configuration whose rows in `table` disagree
    with its ledger entry (a table its entry does not list must hold none of its rows)."""
    groups, bad = _groups(text), []
    for cid, entry in ledger.items():
        rows = groups.get(cid)
        n = 0 if rows is None else len(rows)
        want = entry["tables"].get(table)
        if want is None:
            if n:
                bad.append((cid, f"{cid} ({n} rows; its ledger entry lists none in this table)"))
        elif n != want["rows"]:
            bad.append((cid, f"{cid} ({n} rows, ledger {want['rows']})"))
        elif rows_digest(rows if rows is not None else text.iloc[0:0]) != want["sha256"]:
            bad.append((cid, f"{cid} (values changed)"))
    return bad


def check_table(folder: Path, path: Path, table: str, text: pd.DataFrame | None,
                ledger: dict) -> None:
    """Raise IntegrityError (one line: file, first configuration, remedy) if `table` disagrees."""
    listed = sum(table in e["tables"] for e in ledger.values())
    if text is None:
        if listed:
            raise IntegrityError(f"{path} is missing but the ledger lists {listed} "
                                 f"configuration(s) in it; restore it (git checkout -- {path})")
        return
    bad = table_problems(table, text, ledger)
    if bad:
        raise IntegrityError(f"{path}: {len(bad)} configuration(s) differ from the ledger, e.g. "
                             f"{bad[0][1]}: the file was truncated or edited by hand; restore it "
                             f"(git checkout -- {path}) or drop them "
                             f"({forget_command(folder, [c for c, _ in bad])})")


def orphans(texts: dict, known: set) -> dict[str, dict[str, int]]:
    """{config_id: {table: rows}} of rows whose id is not in `known` (ledger and journal)."""
    out: dict = {}
    for table, text in texts.items():
        if text is None or not len(text):
            continue
        counts = text.config_id[~text.config_id.isin(known)].value_counts(sort=False)
        for cid, n in counts.items():
            out.setdefault(cid, {})[table] = int(n)
    return out


def orphan_summary(found: dict) -> str:
    """'2 configuration(s) (7 rows in training, moments; e.g. X, Y)'."""
    tables = sorted({t for by in found.values() for t in by})
    rows = sum(n for by in found.values() for n in by.values())
    first = ", ".join(sorted(found)[:3]) + (", ..." if len(found) > 3 else "")
    return f"{len(found)} configuration(s) ({rows} rows in {', '.join(tables)}; e.g. {first})"


def orphan_remedy(folder: Path, found: dict) -> str:
    return (f"restore the ledger (git checkout -- {Path(folder) / LEDGER}) or drop them "
            f"({forget_command(folder, found)})")


def orphan_error(folder: Path, found: dict) -> IntegrityError:
    return IntegrityError(f"{folder}: {orphan_summary(found)} have rows but no ledger line "
                          f"(orphans: the ledger was cut or edited, or rows were added by hand); "
                          f"readers leave them out; {orphan_remedy(folder, found)}")


def refuse_orphans(folder: Path, path: Path, found: dict) -> None:
    """A commit must not rewrite a table holding orphans (it would have to drop them, or keep them
    unexplained)."""
    if found:
        raise IntegrityError(f"{path} holds rows of {orphan_summary(found)} that the ledger does "
                             f"not list (orphans); nothing was written: "
                             f"{orphan_remedy(folder, found)}")
