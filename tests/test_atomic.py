"""One atomic-write helper (`sgnlib.atomic`) used everywhere a file is replaced."""
import os
import re

import pytest

from sgnlib.atomic import TEMPORARY_GLOB, atomic_copy, atomic_write, atomic_write_text, temporary
from sgnlib.paths import REPO_ROOT


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = atomic_write_text(tmp_path / "a.txt", "old")

    def half(tmp):
        tmp.write_text("ne")
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert temporary(path).name == f".a.txt.tmp{os.getpid()}" and temporary(path).match(TEMPORARY_GLOB)


def test_copy_creates_the_folder(tmp_path):
    (tmp_path / "src").write_bytes(b"x" * 10)
    dest = atomic_copy(tmp_path / "src", tmp_path / "new" / "dest")
    assert dest.read_bytes() == b"x" * 10


def test_no_other_module_or_script_replaces_files_itself():
    """os.replace / Path.replace / os.rename only in sgnlib/atomic.py (sgnlib/probe_report.py
    swaps a whole report folder into place, not a file)."""
    pattern = re.compile(r"os\.replace\(|os\.rename\(|\btmp\.replace\(|\.rename\(tmp")
    offenders = [str(p.relative_to(REPO_ROOT)) for folder in ("sgnlib", "scripts")
                 for p in (REPO_ROOT / folder).rglob("*.py")
                 if pattern.search(p.read_text()) and p.name not in ("atomic.py", "probe_report.py")]
    assert offenders == []
