"""A non-blocking, process-held lock so that two unattended updates never run at once.

The lock is an ``fcntl.flock`` on a file: the operating system releases it when the holder exits,
however it exits, so a crashed update never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class AlreadyLocked(Exception):
    def __init__(self, holder: str):
        self.holder = holder
        super().__init__(holder)


class UpdateLock:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._handle = None

    def acquire(self) -> "UpdateLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyLocked(holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def held_by_other(self) -> bool:
        """True when another process holds the lock (used by `livingmeta status`)."""
        if not self.path.exists():
            return False
        with open(self.path, "a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
