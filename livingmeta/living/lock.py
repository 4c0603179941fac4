"""The run lock: one workflow run per review at a time, held for the whole life of its process tree.

The lock is an ``fcntl.flock`` on ``<results_dir>/.livingmeta/update.lock``, taken by `livingmeta run` and
`livingmeta update` alike. The operating system releases it when the last holder of the open file is gone,
however it ends, so a crashed run never leaves a stale lock behind. The runner hands the locked file to
the Snakemake process it starts (``pass_fds``), so the lock stays held while Snakemake lives even if the
`livingmeta` process that started it is killed. The jobs Snakemake starts do not inherit it; they share
Snakemake's process group, which the file records (``pgid``) so that the next run can tell whether
anything of a killed run still lives (:mod:`livingmeta.living.processes`).

The file holds one JSON object: ``{pid, pgid, command, started}``.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path


class AlreadyLocked(Exception):
    def __init__(self, holder: str):
        self.holder = holder
        super().__init__(holder)


def describe(info: dict) -> str:
    if not info:
        return "another process"
    parts = [f"pid {info.get('pid')}"]
    if info.get("command"):
        parts.append(f"`livingmeta {info['command']}`")
    if info.get("started"):
        parts.append(f"started {info['started']}")
    return ", ".join(parts)


def _parse(text: str) -> dict:
    text = text.strip()
    if not text:
        return {}
    try:
        info = json.loads(text)
    except ValueError:
        # the lock file of an older livingmeta: "pid N"
        word = text.split()[-1]
        return {"pid": int(word)} if word.isdigit() else {}
    return info if isinstance(info, dict) else {}


class UpdateLock:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._handle = None
        self.previous: dict = {}   # what the file said when the lock was taken (the last holder)

    def acquire(self, **info) -> "UpdateLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = describe(_parse(handle.read()))
            handle.close()
            raise AlreadyLocked(holder) from None
        handle.seek(0)
        self.previous = _parse(handle.read())
        self._handle = handle
        self.record(pid=os.getpid(), **info)
        return self

    def record(self, **info) -> None:
        """Rewrite the holder's record (e.g. with the pgid of the Snakemake process just started)."""
        if self._handle is None:
            raise RuntimeError("the lock is not held")
        current = _parse(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        current = {**current, **info} if current.get("pid") == info.get("pid", os.getpid()) else dict(info)
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps(current, sort_keys=True) + "\n")
        self._handle.flush()

    def fileno(self) -> int:
        """The locked file's descriptor, to hand to a child process that must keep the lock held."""
        if self._handle is None:
            raise RuntimeError("the lock is not held")
        return self._handle.fileno()

    def release(self) -> None:
        """Release the lock. The record stays in the file: the next holder reads it (``previous``) to
        check that nothing of this run still lives."""
        if self._handle is not None:
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

    def holder(self) -> dict:
        try:
            return _parse(self.path.read_text(encoding="utf-8"))
        except OSError:
            return {}

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
