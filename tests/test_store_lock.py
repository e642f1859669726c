"""A held folder lock is reported within seconds with its holder, waiting goes on with a message
now and then, and the wait never gives up, so a computed configuration is committed, not thrown
away."""
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import threading
import time

from filelock import Timeout

from sgnlib import store_lock
from sgnlib.paths import REPO_ROOT
from sgnlib.store import ResultStore
from tests.test_store import frame


def _hold_folder_lock(folder, held, release):
    with ResultStore(folder).lock():
        held.set()
        release.wait(60)


def test_a_held_lock_is_reported_with_its_holder_and_the_commit_goes_through(tmp_path, capfd):
    ctx = mp.get_context("fork")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_folder_lock, args=(tmp_path, held, release))
    holder.start()
    try:
        assert held.wait(30)
        s = ResultStore(tmp_path)
        s.lock_notice_s, s.lock_repeat_s = 0.5, 1.0
        threading.Timer(3.0, release.set).start()
        start = time.monotonic()
        assert s.commit({}, {"training": frame("A")}, "A") is True
        waited = time.monotonic() - start
    finally:
        release.set()
        holder.join(30)
    lines = capfd.readouterr().err.splitlines()
    assert 2.5 < waited < 20 and len(lines) >= 2
    holder_is = f"{tmp_path} is locked by pid {holder.pid} on {socket.gethostname()} since "
    assert lines[0].startswith(holder_is)
    assert "pytest" in lines[0] and "waiting for it (a message every 1 s; Ctrl-C stops)" in lines[0]
    assert lines[1].startswith(f"still waiting for the lock of {tmp_path} (")
    assert f"pid {holder.pid}" in lines[1]
    assert s.done() == {"A"} and s.verify() == 1


def test_the_wait_never_gives_up(tmp_path, monkeypatch, capfd):
    """An hour of 60-s waits (the old limit was 600 s, then a traceback and the result lost)."""
    s = ResultStore(tmp_path)
    s.commit({}, {"training": frame("A")}, "A")
    (tmp_path / store_lock.HOLDER).unlink()
    real, refusals = store_lock.FileLock.acquire, []

    def busy(self, timeout=None, **kw):
        if len(refusals) < 60:
            refusals.append(timeout)
            raise Timeout(self.lock_file)
        return real(self, timeout=timeout, **kw)
    monkeypatch.setattr(store_lock.FileLock, "acquire", busy)
    assert s.commit({}, {"training": frame("B")}, "B") is True
    assert refusals == [2.0] + [60.0] * 59
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 60 and "a process that left no holder file" in err[0]
    assert s.done() == {"A", "B"}


def test_the_command_line_reports_the_holder_within_seconds(tmp_path):
    s = ResultStore(tmp_path)
    s.commit({}, {"training": frame("A")}, "A")
    lock = s.lock()
    with lock:
        p = subprocess.Popen([sys.executable, "-m", "sgnlib.sweep", "forget", str(tmp_path), "A"],
                             cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        start, silent = time.monotonic(), threading.Timer(300, p.kill)  # said nothing at all
        silent.start()
        first = p.stderr.readline()
        said_after = time.monotonic() - start
        silent.cancel()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert first.startswith(f"{tmp_path} is locked by pid {os.getpid()} on ") and "pytest" in first
    assert said_after < 120  # 2 s after it tries the lock; importing torch is most of it
    assert "1 configuration(s) removed" in out and s.done() == set()
