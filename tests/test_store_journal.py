"""The store under hostile edits and kills: a cut ledger, orphan rows, rows under a committed id
in a table its entry does not list, a forget SIGKILLed at each point, bad ledger lines, a
read-only folder and a full disk. Nothing is deleted without a message; every error reaches the
command line as one line."""
import errno
import json
import os
import re
import signal
import subprocess
import sys

import pandas as pd
import pytest

from sgnlib import sweep
from sgnlib.paths import REPO_ROOT
from sgnlib.store import JOURNAL, LEDGER, TABLES, IntegrityError, ResultStore, StoreError, as_text
from tests.test_store import frame, raw


def build(folder):
    """A: training+moments+gaussianity, B: training+moments, C: training."""
    s = ResultStore(folder)
    s.commit({"id": "A"}, {"training": frame("A"), "moments": frame("A", 2),
                           "gaussianity": frame("A", 4)}, "A")
    s.commit({"id": "B"}, {"training": frame("B", 5), "moments": frame("B", 3)}, "B")
    s.commit({"id": "C"}, {"training": frame("C")}, "C")
    return s


def files(folder):
    """Bytes of every file the store keeps (not locks or temporaries)."""
    return {p.name: p.read_bytes() for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".")}


def state(store):
    """Committed rows of every table and the ledger's ids (what readers see)."""
    out = {t: store.read(t, text=True) for t in TABLES}
    texts = {t: (None if d is None else d.to_csv(index=False)) for t, d in out.items()}
    return texts, sorted(store.done())


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    return err


def remedy(message):
    """The forget command an error message gives."""
    return re.search(r"\((python -m sgnlib\.sweep forget [^)]*)\)", message).group(1)


def cut_last_line(folder, keep_newline=False):
    p = folder / LEDGER
    lines = p.read_text().splitlines(keepends=True)
    cut = lines[-1][: len(lines[-1]) // 2] + ("\n" if keep_newline else "")
    p.write_text("".join(lines[:-1]) + cut)


# ------------------------------------------------------------- a cut ledger loses nothing


@pytest.mark.parametrize("keep_newline", [False, True])
def test_cut_last_ledger_line_is_named_with_the_rows_it_orphans(tmp_path, keep_newline):
    s = build(tmp_path)
    cut_last_line(tmp_path, keep_newline)  # C's line, e.g. dropped by an editor or a copy
    before = files(tmp_path)
    why = "is not valid JSON" if keep_newline else "is incomplete and no commit was in progress"
    with pytest.raises(IntegrityError, match=f"ledger.jsonl: line 3 {why}") as e:
        s.verify()
    assert "\n" not in str(e.value) and "git checkout" in str(e.value)
    assert "1 configuration(s) (3 rows in training; e.g. C) with rows but no ledger line" \
        in str(e.value)
    with pytest.raises(IntegrityError, match="line 3"):
        s.read("training")
    with pytest.raises(IntegrityError, match="line 3"):  # the next commit deletes nothing
        s.commit({}, {"training": frame("D")}, "D")
    assert files(tmp_path) == before


def test_missing_ledger_line_leaves_orphans_that_are_named_never_deleted(tmp_path, capsys):
    s = build(tmp_path)
    p = tmp_path / LEDGER
    full = p.read_text()
    lines = full.splitlines(keepends=True)
    p.write_text(lines[0] + "".join(lines[2:]))  # B's line gone
    before = files(tmp_path)
    assert sweep.main(["verify", str(tmp_path)]) == 2
    err = one_line_error(capsys)
    assert "1 configuration(s) (8 rows in moments, training; e.g. B) have rows but no ledger" in err
    assert f"git checkout -- {p}" in err and f"python -m sgnlib.sweep forget {tmp_path} B)" in err
    assert set(s.read("training").config_id) == {"A", "C"}  # readers leave orphans out
    orphans = r"training\.csv\.gz holds rows of 1 configuration\(s\) \(5 rows in training; e\.g\. B\)"
    with pytest.raises(IntegrityError, match=orphans + r".*\(orphans\)"):
        s.commit({}, {"training": frame("D")}, "D")
    assert sweep.main(["merge", str(build(tmp_path / "src").folder), str(tmp_path)]) == 2
    assert "orphans" in one_line_error(capsys)
    assert files(tmp_path) == before  # nothing deleted, nothing written
    assert s.commit({}, {"berry_esseen": frame("E")}, "E")  # a table without orphans may be written
    p.write_text(full + p.read_text().splitlines(keepends=True)[-1])  # remedy: restore the ledger
    assert s.verify() == 4 and set(s.read("training").config_id) == {"A", "B", "C"}


def test_the_orphan_remedy_command_runs(tmp_path, capsys):
    s = build(tmp_path)
    p = tmp_path / LEDGER
    p.write_text("".join(p.read_text().splitlines(keepends=True)[:1]))  # B and C gone
    assert sweep.main(["verify", str(tmp_path)]) == 2
    command = remedy(one_line_error(capsys))
    assert command == f"python -m sgnlib.sweep forget {tmp_path} B C"
    assert sweep.main(command.split()[3:]) == 0
    assert "2 configuration(s) removed" in capsys.readouterr().out
    assert s.verify() == 1 and set(raw(s).config_id) == {"A"}
    assert set(raw(s, "moments").config_id) == {"A"}


# ------------------------------------------------------------- every table is checked


def test_rows_under_a_committed_id_in_a_table_its_entry_does_not_list(tmp_path):
    s = build(tmp_path)
    pd.concat([raw(s, "moments"), as_text(frame("C", 2))]).to_csv(s.path("moments"), index=False)
    pattern = (r"moments\.csv\.gz: 1 configuration\(s\) differ .* "
               r"C \(2 rows; its ledger entry lists none in this table\)")
    with pytest.raises(IntegrityError, match=pattern):
        s.verify()
    with pytest.raises(IntegrityError, match=pattern):
        s.read("moments")
    assert s.forget(["C"]) == 1 and s.verify() == 2


# ------------------------------------------------------------- forget is atomic under SIGKILL

FORGET = ("from sgnlib.store import ResultStore; import sys; "
          "ResultStore(sys.argv[1]).forget(sys.argv[2:])")


def _forget_in_a_process(folder, ids, point=None):
    env = {k: v for k, v in os.environ.items() if k != "SGN_FAULT"}
    env |= {"SGN_FAULT": point} if point else {}
    return subprocess.run([sys.executable, "-c", FORGET, str(folder), *ids], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def forgotten(tmp_path_factory):
    """What readers see after an uninterrupted forget of A and B."""
    s = build(tmp_path_factory.mktemp("reference"))
    assert s.forget(["A", "B"]) == 2
    return state(s)


@pytest.mark.parametrize("point", ["forget-after-journal", "forget-after-ledger",
                                   "forget-between-tables:1", "forget-between-tables:2",
                                   "forget-before-clear"])
def test_sigkill_at_any_forget_point_then_any_write_completes_it(tmp_path, forgotten, point):
    s = build(tmp_path)
    killed = _forget_in_a_process(tmp_path, ["A", "B"], point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (tmp_path / JOURNAL).exists()
    assert s.verify() == 1 and state(s) == forgotten  # readers already see the forget as done
    if point.endswith("2"):
        assert s.commit({}, {"training": frame("D")}, "D")  # any write rolls the forget forward
        assert s.forget(["D"]) == 1
    else:
        assert _forget_in_a_process(tmp_path, ["A", "B"]).returncode == 0
    assert not (tmp_path / JOURNAL).exists() and s.verify() == 1 and state(s) == forgotten
    assert set(raw(s).config_id) == {"C"}
    assert len(raw(s, "moments")) == 0 and len(raw(s, "gaussianity")) == 0


@pytest.mark.parametrize("point", ["after-journal", "between-tables:1", "before-ledger",
                                   "mid-ledger", "after-ledger"])
def test_sigkill_at_any_commit_point_leaves_all_or_nothing(tmp_path, point):
    s = build(tmp_path)
    code = ("from sgnlib.store import ResultStore; from tests.test_store import frame; import sys; "
            "rows = {'training': frame('K', 2), 'moments': frame('K', 2)}; "
            "ResultStore(sys.argv[1]).commit({}, rows, 'K')")
    killed = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO_ROOT, timeout=120,
                            env={**os.environ, "SGN_FAULT": point}, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    n = 4 if point == "after-ledger" else 3
    assert s.verify() == n and len(set(s.read("moments").config_id)) == n - 1
    assert s.commit({}, {"berry_esseen": frame("D")}, "D") and s.verify() == n + 1
    assert set(raw(s, "moments").config_id) == ({"A", "B", "K"} if n == 4 else {"A", "B"})
    assert not (tmp_path / JOURNAL).exists() and not list(tmp_path.glob(".*.tmp*"))


# ------------------------------------------------------------- one-line errors


@pytest.mark.parametrize("line, why", [
    ("[1, 2]", "is a JSON list, not an object"),
    ('"text"', "is a JSON str, not an object"),
    ('{"config_id": "X"}', "has no tables object"),
    ('{"config_id": 7, "tables": {}}', "has no config_id string"),
    ('{"config_id": "X", "tables": {"training": 3}}', "has no rows/sha256 for table 'training'"),
    ('{"config_id": "X", "tables": {"trainig": {"rows": 1, "sha256": "0"}}}',
     "names an unknown table 'trainig'"),
])
def test_ledger_line_of_the_wrong_shape_is_one_line(tmp_path, capsys, line, why):
    s = build(tmp_path)
    p = tmp_path / LEDGER
    lines = p.read_text().splitlines(keepends=True)
    p.write_text(lines[0] + line + "\n" + "".join(lines[1:]))
    for argv in (["verify", str(tmp_path)], ["forget", str(tmp_path), "A"],
                 ["merge", str(tmp_path), str(tmp_path / "copy")]):
        assert sweep.main(argv) == 2
        err = one_line_error(capsys)
        assert f"{p}: line 2 {why}" in err and "git checkout" in err
    with pytest.raises(IntegrityError, match=re.escape(why)):
        s.read("training")


def _refuse_writes(monkeypatch, code, tables_only=False):
    """Every table write (and, unless tables_only, every other file write) fails with
    OSError(code)."""
    real_to_csv, real_write_text = pd.DataFrame.to_csv, type(REPO_ROOT).write_text

    def to_csv(self, path_or_buf=None, *a, **k):
        if path_or_buf is None:
            return real_to_csv(self, None, *a, **k)
        raise OSError(code, os.strerror(code), str(path_or_buf))

    def write_text(self, *a, **k):
        if tables_only:
            return real_write_text(self, *a, **k)
        raise OSError(code, os.strerror(code), str(self))
    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    monkeypatch.setattr(type(REPO_ROOT), "write_text", write_text)


def test_forget_in_a_read_only_folder_is_one_line(tmp_path, capsys, monkeypatch):
    s = build(tmp_path)
    before = files(tmp_path)
    with monkeypatch.context() as m:
        _refuse_writes(m, errno.EACCES)
        assert sweep.main(["forget", str(tmp_path), "A"]) == 2
    err = one_line_error(capsys)
    assert "Permission denied" in err and "not writable" in err and "chmod" in err
    assert files(tmp_path) == before and s.verify() == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_forget_in_a_folder_made_read_only_is_one_line(tmp_path, capsys):
    s = build(tmp_path / "r")
    os.chmod(s.folder, 0o500)
    try:
        assert sweep.main(["forget", str(s.folder), "A"]) == 2
        assert "not writable" in one_line_error(capsys)
    finally:
        os.chmod(s.folder, 0o700)
    assert s.verify() == 3


def test_full_disk_during_merge_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    src, dst = build(tmp_path / "src"), ResultStore(tmp_path / "dst")
    dst.commit({"id": "Z"}, {"training": frame("Z")}, "Z")
    before = files(dst.folder)
    with monkeypatch.context() as m:
        _refuse_writes(m, errno.ENOSPC, tables_only=True)  # the journal is written, tables not
        assert sweep.main(["merge", str(src.folder), str(dst.folder)]) == 2
    err = one_line_error(capsys)
    assert "No space left on device" in err and "nothing of it was committed" in err
    assert "free disk space" in err
    assert files(dst.folder) == before and dst.verify() == 1
    assert sweep.main(["merge", str(src.folder), str(dst.folder)]) == 0 and dst.verify() == 4


def test_full_disk_at_the_ledger_append_rolls_the_commit_back(tmp_path, monkeypatch):
    s = build(tmp_path)
    before = files(tmp_path)

    def full(path, line):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    monkeypatch.setattr("sgnlib.store_write.append_line", full)
    full_disk = r"commit of K: cannot write .*ledger\.jsonl \(No space left on device\)"
    with pytest.raises(StoreError, match=full_disk):
        s.commit({}, {"training": frame("K")}, "K")
    assert files(tmp_path) == before  # its rows were dropped again at once


def test_integrity_error_remedy_is_a_command_the_cli_accepts(tmp_path, capsys):
    s = build(tmp_path)
    t = raw(s)
    t.loc[t.config_id == "B", "x"] = "1.0"
    t.to_csv(s.path("training"), index=False)
    assert sweep.main(["verify", str(tmp_path)]) == 2
    command = remedy(one_line_error(capsys))
    assert command == f"python -m sgnlib.sweep forget {tmp_path} B"
    assert sweep.main(command.split()[3:]) == 0
    assert s.verify() == 2 and s.done() == {"A", "C"}


# ------------------------------------------------------------- verify says what it checked


def test_verify_prints_what_it_checked(tmp_path, capsys):
    s = build(tmp_path)
    assert sweep.main(["verify", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{tmp_path}: 3 committed configurations, tables match the ledger "
                      f"(training, gaussianity, moments)")
    assert out[1:] == ["orphans: none", "journal: none (no operation in progress)"]
    from sgnlib.journal import write_journal
    write_journal(tmp_path, "commit", ["K"], ["training"], "{}\n")
    pd.concat([raw(s), as_text(frame("K"))]).to_csv(s.path("training"), index=False)
    assert sweep.main(["verify", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "journal: a commit of K started" in out
    assert "rolls it back unless its ledger line is complete" in out
