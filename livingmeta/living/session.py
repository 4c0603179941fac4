"""One supervised run of the workflow, shared by `livingmeta run` and `livingmeta update`.

What it guarantees (docs/operations.md, "What a run guarantees"):

- **One run at a time, for as long as anything of it lives.** The run lock (:mod:`livingmeta.living.lock`)
  is taken before anything else and handed to Snakemake, which runs as the leader of its own process
  group; Ctrl-C, SIGTERM and SIGHUP stop the whole group; the lock is released only when the group is
  empty.
- **Recovery from a killed run.** Processes left by a killed run (jobs whose Snakemake is gone) are
  stopped; Snakemake's own lock is removed only when no Snakemake process works in this folder; staging
  folders of a killed publish are removed; ``--rerun-incomplete`` redoes the jobs it left incomplete, and
  the report job, the target, asks for every product, so a job that failed or was killed is run again.
- **A status file** (``<results_dir>/.livingmeta/status.json``) that says running / ok / failed /
  interrupted, the causes, the log and the published version; a run that died without writing it is
  seen as interrupted (its pid is gone).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from livingmeta.jsonio import read_json, write_json
from livingmeta.living import processes
from livingmeta.living.lock import AlreadyLocked, UpdateLock, describe
from livingmeta.living.publish import remove_orphaned_staging
from livingmeta.living.runner import (failure_summary, jobs_run, nothing_to_do, run_snakemake,
                                      snakemake_command)

DRY_RUN_FLAGS = {"-n", "--dry-run", "--dryrun"}


@dataclass
class Session:
    """The outcome of one supervised run."""
    state: str                       # ok | failed | interrupted | busy
    problems: list[str] = field(default_factory=list)
    text: str = ""                   # Snakemake's output
    log: str | None = None
    jobs: list[str] = field(default_factory=list)   # rules of the jobs that ran
    published: dict | None = None    # results/report/published.json after a run that ran the publish job
    nothing_to_do: bool = False
    notes: list[str] = field(default_factory=list)  # what recovery did
    stopped_by: str | None = None
    code: int = 0


def state_dir(cfg: dict) -> Path:
    return Path(cfg["results_dir"]) / ".livingmeta"


def status_path(cfg: dict) -> Path:
    return state_dir(cfg) / "status.json"


def read_status(cfg: dict) -> dict:
    """The last run's status; a run recorded as running whose process is gone is ``interrupted``."""
    try:
        status = read_json(status_path(cfg))
    except (FileNotFoundError, ValueError, OSError):
        return {}
    if not isinstance(status, dict):
        return {}
    if status.get("state") == "running" and not UpdateLock(state_dir(cfg) / "update.lock").held_by_other():
        pid = status.get("pid")
        status = {**status, "state": "interrupted",
                  "problems": [f"the run started {status.get('started')} (pid {pid}) ended without finishing "
                               "(killed?); the next run redoes its work"]}
    return status


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _log_path(cfg: dict, started: str) -> Path:
    return Path(cfg["results_dir"]) / "logs" / "runs" / (started.replace(":", "").replace("+0000", "Z") + ".log")


def _recover(lock: UpdateLock, workdir: Path) -> tuple[str | None, list[str], bool]:
    """Make a killed run's leftovers safe. Returns (why the run cannot start, or None; notes; whether
    Snakemake's lock in ``workdir`` is stale and must be removed)."""
    notes = []
    previous = lock.previous
    pgid = previous.get("pgid")
    # a live leader that is not Snakemake: the group ended long ago and its number was reused (a process
    # group keeps its number while any member lives, so members without a leader are the killed run's)
    reused = processes.pid_alive(pgid) and not processes.is_snakemake(pgid) if pgid else False
    if pgid and not reused and processes.group_alive(pgid):
        if processes.pid_alive(pgid):
            return (f"the Snakemake process of an earlier run ({describe(previous)}; process group {pgid}) "
                    f"is still running; wait for it, or stop it with `kill -TERM -{pgid}`"), notes, False
        members = processes.group_members(pgid)
        processes.stop_group(pgid)
        notes.append(f"stopped {len(members)} process(es) left running by an interrupted run")
    locks = workdir / ".snakemake" / "locks"
    if locks.is_dir() and any(locks.iterdir()):
        live = processes.snakemake_processes_in(workdir)
        if live:
            return (f"a Snakemake process (pid {', '.join(map(str, live))}) is working in {workdir}; "
                    "wait for it to finish"), notes, False
        notes.append("removed Snakemake's lock left by an interrupted run")
        return None, notes, True
    return None, notes, False


def supervised_run(cfg: dict, *, configfile: str | None, cores: str = "all", extra: list[str] | None = None,
                   echo: bool = False, command: str = "run", snakefile: str | None = None,
                   before: Callable[[], list[str]] | None = None) -> Session:
    """Run the workflow under the run lock and record its status. ``before()`` runs under the lock first
    (the fetch of `update`) and returns notes. A dry run (``-n``) takes no lock and records nothing."""
    extra = list(extra or [])

    def command_line(args: list[str]) -> list[str]:
        return snakemake_command(configfile=configfile, cores=cores, snakefile=snakefile, extra=args)

    if DRY_RUN_FLAGS & set(extra):
        result = run_snakemake(command_line(extra), echo=echo)
        state = "ok" if result.status == 0 else "failed"
        return Session(state, [] if state == "ok" else failure_summary(result.text), result.text, code=result.status)

    started = now()
    lock = UpdateLock(state_dir(cfg) / "update.lock")
    try:
        lock.acquire(command=command, started=started)
    except AlreadyLocked as held:
        return Session("busy", [f"another run is in progress ({held.holder})"])
    log_path = _log_path(cfg, started)
    status_file = status_path(cfg)
    try:
        workdir = Path.cwd()
        why, notes, stale_lock = _recover(lock, workdir)
        if why:
            return Session("busy", [why], notes=notes)
        removed = remove_orphaned_staging(cfg["reports_dir"])
        if removed:
            notes.append(f"removed {len(removed)} staging folder(s) of an interrupted publish")
        running = {"state": "running", "command": command, "pid": os.getpid(), "started": started,
                   "log": str(log_path)}
        write_json(status_file, running)
        if before:
            notes += before()
        if stale_lock:
            run_snakemake(command_line(["--unlock"]), log_path=log_path, echo=False)
        result = run_snakemake(command_line(extra), log_path=log_path, echo=echo, pass_fds=(lock.fileno(),),
                               on_start=lambda pgid: lock.record(pgid=pgid))
        session = Session("ok", text=result.text, log=str(log_path), jobs=jobs_run(result.text), notes=notes,
                          stopped_by=result.stopped_by, code=result.status)
        if result.stopped_by and result.status != 0:
            session.state = "interrupted"
            session.problems = [f"stopped by {result.stopped_by}; nothing was published; the next run redoes "
                                "the unfinished jobs"]
        elif result.status != 0:
            session.state = "failed"
            session.problems = failure_summary(result.text)
        else:
            session.nothing_to_do = nothing_to_do(result.text)
            published = Path(cfg["results_dir"]) / "report" / "published.json"
            if "report" in session.jobs and published.is_file():  # the report job publishes
                session.published = read_json(published)
        write_json(status_file, {**running, "state": session.state, "finished": now(),
                                 "problems": session.problems, "notes": notes, "jobs": len(session.jobs),
                                 "published": {k: v for k, v in (session.published or {}).items()
                                               if k in ("version", "unchanged", "candidate", "restored")} or None})
        return session
    finally:
        lock.release()
