"""The lock of a results folder, which says who holds it.

Whoever takes the lock writes a holder file (``.claims/lock-holder.json``: pid, host, command,
time). A process that finds the lock held says so on stderr within `notice_s` seconds, naming the
holder, and goes on waiting with a one-line message every `repeat_s` seconds: it never gives up,
so a configuration already computed is never thrown away for want of the lock (Ctrl-C stops it).
The operating system releases the lock of a process that dies.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout

HOLDER = Path(".claims") / "lock-holder.json"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def holder_words(folder: Path) -> str:
    """'pid 12 on host since 10:00:00 UTC (command)', or why the holder is unknown."""
    try:
        h = json.loads((Path(folder) / HOLDER).read_text())
        return f"pid {h['pid']} on {h['host']} since {h['since']} ({h['command']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that left no holder file"


class FolderLock:
    """Context manager: the folder's lock, waited for as long as it takes, with messages."""

    def __init__(self, folder, notice_s: float = 2.0, repeat_s: float = 60.0, tell=say):
        self.folder, self.tell = Path(folder), tell
        self.notice_s, self.repeat_s = notice_s, repeat_s
        self._lock = None

    def __enter__(self) -> "FolderLock":
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.folder / ".lock"))
        start, told = time.monotonic(), False
        while True:
            try:
                self._lock.acquire(timeout=self.repeat_s if told else self.notice_s)
                break
            except Timeout:
                self.tell(self._waiting(time.monotonic() - start, told))
                told = True
        try:
            self._write_holder()
        except BaseException:
            self._lock.release()
            raise
        return self

    def _waiting(self, waited: float, told: bool) -> str:
        held = holder_words(self.folder)
        if told:
            return f"still waiting for the lock of {self.folder} ({waited:.0f} s), held by {held}"
        return (f"{self.folder} is locked by {held}; waiting for it (a message every "
                f"{self.repeat_s:.0f} s; Ctrl-C stops)")

    def _write_holder(self) -> None:
        p = self.folder / HOLDER
        p.parent.mkdir(parents=True, exist_ok=True)
        since = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        cmd = " ".join([os.path.basename(sys.executable), *sys.argv])[:300]
        p.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since,
                                 "command": cmd}) + "\n")

    def __exit__(self, *exc) -> None:
        self._lock.release()

    @property
    def is_locked(self) -> bool:
        return self._lock is not None and self._lock.is_locked
