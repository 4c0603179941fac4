"""Run Snakemake through its command line (the stable interface), keep its output, find input problems."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from livingmeta.living import processes
from livingmeta.scripting import ERROR_PREFIX

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"
NOTHING_TO_DO = "Nothing to be done"
# Snakemake shows where in the Snakefile a planning error was raised; that is noise for a reviewer
_FRAME_LINE = re.compile(r'^\s+File ".*", line \d+, in ')


def snakemake_command(*, configfile: str | None = None, cores: str = "all", snakefile: str | None = None,
                      extra: list[str] | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile or SNAKEFILE), "--cores", str(cores),
           "--rerun-incomplete"]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    return cmd + list(extra or [])


@dataclass
class RunResult:
    status: int                      # Snakemake's exit status (negative: killed by that signal)
    text: str                        # all of its output
    stopped_by: str | None = None    # the signal that asked the run to stop (SIGINT, SIGTERM, SIGHUP)

    def __iter__(self):              # (status, text), as callers unpack it
        return iter((self.status, self.text))


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_snakemake(cmd: list[str], *, log_path: str | os.PathLike | None = None, echo: bool = True,
                  pass_fds: tuple[int, ...] = (), on_start=None, grace: float = 30.0) -> RunResult:
    """Run ``cmd`` as the leader of a new process group, its output appended to ``log_path`` (a temporary
    file without one), and follow that file: echo it (without the raw error lines, which the caller
    summarises) and return all of it. Snakemake writes to the file, not to a pipe of ours, so it never
    depends on this process staying alive: if `livingmeta` is killed, the run goes on to its end.

    Ctrl-C, SIGTERM and SIGHUP stop the whole group (SIGTERM to every process of it, SIGKILL after
    ``grace`` seconds, a second signal kills at once) and the call returns when nothing of it lives,
    never with a traceback. When Snakemake ends on its own, anything it left running in its group (an
    orphaned job) is stopped too. ``pass_fds`` are inherited by Snakemake (the run lock);
    ``on_start(pgid)`` is called once the group exists.
    """
    import tempfile

    temporary = not log_path
    if temporary:
        handle, log_path = tempfile.mkstemp(prefix="livingmeta-run-", suffix=".log")
        os.close(handle)
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    out = open(log_path, "ab")
    start = out.seek(0, os.SEEK_END)
    stopped: list[str] = []
    proc = None

    stop_time: list[float] = []

    def stop(signum, _frame):
        name = signal.Signals(signum).name
        if proc is not None:
            processes.signal_group(proc.pid, signal.SIGKILL if stopped else signal.SIGTERM)
        stopped.append(name)
        stop_time.append(time.monotonic())

    previous = {}
    in_main_thread = threading.current_thread() is threading.main_thread()
    captured: list[str] = []
    try:
        if in_main_thread:
            previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
                                pass_fds=tuple(pass_fds))
        if stopped:  # a signal came before the group existed
            processes.signal_group(proc.pid, signal.SIGTERM)
        if on_start:
            on_start(proc.pid)
        with open(log_path, "rb") as follow:
            follow.seek(start)
            pending = b""
            while True:
                finished = proc.poll() is not None
                chunk = follow.read()
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for raw in lines:
                        line = raw.decode("utf-8", errors="replace") + "\n"
                        captured.append(line)
                        if echo and ERROR_PREFIX not in line and not _FRAME_LINE.match(line):
                            sys.stdout.write(line)
                            sys.stdout.flush()
                elif finished:
                    break
                else:
                    if stop_time and time.monotonic() - stop_time[0] > grace:
                        # asked to stop and still running after the grace period: kill what is left
                        processes.signal_group(proc.pid, signal.SIGKILL)
                        stop_time.clear()
                    time.sleep(0.05)
            if pending:
                captured.append(pending.decode("utf-8", errors="replace"))
        status = proc.wait()
        # the group outlives its leader when Snakemake was killed alone: stop what it left behind
        processes.stop_group(proc.pid, grace=grace)
        return RunResult(status, "".join(captured), stopped[0] if stopped else None)
    except BaseException:
        if proc is not None:
            processes.stop_group(proc.pid, grace=grace)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        out.close()
        if temporary:
            os.unlink(log_path)


def problems_in(text: str) -> list[str]:
    """The distinct review-input problems (``livingmeta: error: ...`` lines) in Snakemake's output."""
    seen, out = set(), []
    for line in text.splitlines():
        idx = line.find(ERROR_PREFIX)
        if idx >= 0:
            msg = line[idx + len(ERROR_PREFIX):].strip()
            if msg and msg not in seen:
                seen.add(msg)
                out.append(msg)
    return out


def nothing_to_do(text: str) -> bool:
    return NOTHING_TO_DO in text


_ERROR_IN_RULE = re.compile(r"^Error in rule (\w+):")
_LOG_LINE = re.compile(r"^\s+log: (\S+)")
_JOB_LINE = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):\s*$")


def failed_jobs(text: str) -> list[str]:
    """One line per job that failed, from Snakemake's output: ``rule report (log: results/logs/...)``."""
    out, current = [], None
    for line in text.splitlines():
        match = _ERROR_IN_RULE.match(line)
        if match:
            if current:
                out.append(current)
            current = f"rule {match.group(1)}"
            continue
        log = _LOG_LINE.match(line)
        if current and log:
            out.append(f"{current} (log: {log.group(1).split(' ')[0]})")
            current = None
    if current:
        out.append(current)
    return list(dict.fromkeys(out))


def jobs_run(text: str) -> list[str]:
    """The rules of the jobs Snakemake started, in order (a target rule ``all``, which no livingmeta workflow has
    any more but an older one did, is left out)."""
    return [m.group(1) for m in map(_JOB_LINE.match, text.splitlines()) if m and m.group(1) != "all"]


def failure_summary(text: str) -> list[str]:
    """What stopped a run, one line each: the input problems the jobs named or, when none did, the failed
    jobs with their logs, or Snakemake's own last error line."""
    problems = problems_in(text)
    if problems:
        return problems
    jobs = failed_jobs(text)
    if jobs:
        return [f"{job} failed without a message (killed, or out of memory?)" for job in jobs]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return [errors[-1] if errors else (lines[-1] if lines else "Snakemake stopped without a message")]
