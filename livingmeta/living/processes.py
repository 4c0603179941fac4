"""The processes of a workflow run: its process group, whether any of it still lives, stopping it whole.

`livingmeta run` and `update` start Snakemake as the leader of a new process group (and session); the
jobs Snakemake starts, and the workers those jobs fork, stay in that group. A run is over only when the
group is empty: the leader may be gone (killed) while an orphaned job still writes its outputs. Linux
only reads ``/proc``; elsewhere ``os.killpg(pgid, 0)`` answers for the group as a whole.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists (a zombie counts as gone)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in ("Z", "X")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, ...), or None."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def _state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def group_members(pgid: int | None) -> list[int]:
    """The live processes (not zombies) of process group ``pgid``."""
    if not pgid or pgid <= 1:
        return []
    if not PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return sorted(members)


def group_alive(pgid: int | None) -> bool:
    return bool(group_members(pgid))


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(pgid: int | None, *, grace: float = 30.0, poll: float = 0.05) -> bool:
    """SIGTERM every process of the group, SIGKILL what is left after ``grace`` seconds, and wait until
    the group is empty (at most ``grace`` more seconds). Returns True when nothing of it lives."""
    if not group_alive(pgid):
        return True
    signal_group(pgid, signal.SIGTERM)
    if wait_group(pgid, grace, poll):
        return True
    signal_group(pgid, signal.SIGKILL)
    return wait_group(pgid, grace, poll)


def wait_group(pgid: int | None, timeout: float, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


def snakemake_processes_in(workdir: str | os.PathLike) -> list[int]:
    """Live Snakemake processes whose working folder is ``workdir`` (those that may hold its
    ``.snakemake`` lock). Empty where ``/proc`` cannot tell."""
    if not PROC.is_dir():
        return []
    target = os.path.realpath(workdir)
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if not any(b"snakemake" in arg.rsplit(b"/", 1)[-1] for arg in argv[:3]):  # as is_snakemake()
            continue
        directory = _directory_argument(argv)
        where = os.path.realpath(os.path.join(cwd, directory)) if directory else os.path.realpath(cwd)
        if where == target and _state(int(entry.name)) not in ("Z", "X", None):
            found.append(int(entry.name))
    return sorted(found)


def is_snakemake(pid: int) -> bool:
    """Whether process ``pid`` runs Snakemake (its command line names it); False when it cannot be read."""
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return not PROC.is_dir() and pid_alive(pid)
    return any(b"snakemake" in arg.rsplit(b"/", 1)[-1] for arg in argv[:3])


def _directory_argument(argv: list[bytes]) -> str | None:
    for i, arg in enumerate(argv):
        if arg in (b"--directory", b"-d") and i + 1 < len(argv):
            return argv[i + 1].decode(errors="replace")
        if arg.startswith(b"--directory="):
            return arg.split(b"=", 1)[1].decode(errors="replace")
    return None
