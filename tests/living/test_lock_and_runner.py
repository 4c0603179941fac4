import json
import os
import subprocess
import sys
import textwrap

from livingmeta.living.lock import AlreadyLocked, UpdateLock
from livingmeta.living.runner import nothing_to_do, problems_in
from livingmeta.living.update import update


def test_lock_is_exclusive_across_processes_and_released_on_exit(tmp_path):
    path = tmp_path / "state" / "update.lock"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from livingmeta.living.lock import UpdateLock
        lock = UpdateLock({str(path)!r}).acquire()
        print("held", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    lock = UpdateLock(path)
    assert lock.held_by_other()
    try:
        lock.acquire()
        raise AssertionError("acquired a held lock")
    except AlreadyLocked as held:
        assert held.holder.startswith("pid ")
    holder.kill()  # dies without releasing: the OS releases the lock
    holder.wait()
    assert not lock.held_by_other()
    with lock:
        assert json.loads(path.read_text())["pid"] == os.getpid()
        assert lock.previous["pid"] == holder.pid  # the last holder's record, for recovery


def test_a_second_update_exits_at_once_with_status_0(tmp_path):
    cfg = {"review_dir": str(tmp_path / "review"), "results_dir": str(tmp_path / "results"),
           "reports_dir": str(tmp_path / "reports"), "fetch": {}}
    with UpdateLock(tmp_path / "results" / ".livingmeta" / "update.lock"):
        outcome = update(cfg, configfile=None)
    assert outcome.status == 0
    assert "another run is in progress" in outcome.summary


def test_problems_are_collected_once_each():
    text = ("Error in rule studies:\n"
            "livingmeta: error: review/studies/a.yaml: outcomes[0].control.sd: must be > 0 (got -1)\n"
            "[Sat Nov 21] livingmeta: error: review/studies/a.yaml: outcomes[0].control.sd: must be > 0 (got -1)\n"
            "livingmeta: error: review/studies/b.yaml: study: duplicate id\n")
    assert problems_in(text) == ["review/studies/a.yaml: outcomes[0].control.sd: must be > 0 (got -1)",
                                 "review/studies/b.yaml: study: duplicate id"]
    assert nothing_to_do("Nothing to be done (all requested files are present and up to date).")
    assert not nothing_to_do("Finished job 3.")


def test_a_crash_inside_a_job_reaches_its_log_and_the_summary(tmp_path):
    """An exception that is not a review-input error: the traceback goes to the job's log, one line with
    the rule, the cause and the log to stderr, and the run's summary names it."""
    log = tmp_path / "job.log"
    script = textwrap.dedent(f"""
        from types import SimpleNamespace
        from livingmeta.scripting import run_job

        def main(smk):
            {{}}["missing key"]

        run_job(SimpleNamespace(log=[{str(log)!r}], rule="screening"), main)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("livingmeta: error: rule screening:") and "KeyError" in line and str(log) in line
    assert "Traceback (most recent call last)" in log.read_text() and "missing key" in log.read_text()
    from livingmeta.living.runner import failure_summary
    assert failure_summary("Error in rule screening:\n" + proc.stderr) == [line[len("livingmeta: error: "):]]


def test_a_job_stopped_by_a_full_disk_says_so_and_what_to_do(tmp_path):
    """A full disk, a read-only file system or a permission is the machine's problem, not a livingmeta bug:
    the line names the file, the system's words and what to do; the traceback still goes to the log."""
    import errno

    log = tmp_path / "job.log"
    script = textwrap.dedent(f"""
        from types import SimpleNamespace
        from livingmeta.scripting import run_job

        def main(smk):
            raise OSError({errno.ENOSPC}, "No space left on device", "results/a.svg", None, "reports/.staging-x/a.svg")

        run_job(SimpleNamespace(log=[{str(log)!r}], rule="publish"), main)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line == ("livingmeta: error: rule publish: cannot write reports/.staging-x/a.svg: No space left on device. "
                    "Free space on that disk (or set results_dir / reports_dir to a folder on another one), then run "
                    "again.")
    assert "livingmeta bug" not in line and "Traceback (most recent call last)" in log.read_text()
    from livingmeta.scripting import machine_error_line
    assert machine_error_line(PermissionError(errno.EACCES, "Permission denied", "x"), "r") == (
        "livingmeta: error: rule r: cannot open x: Permission denied. Give the user who runs livingmeta access to "
        "it, then run again.\n")
    assert machine_error_line(OSError(errno.EIO, "Input/output error"), "r") is None
    assert machine_error_line(KeyError("x"), "r") is None


def test_a_job_that_died_without_a_message_is_named_with_its_log():
    from livingmeta.living.runner import failure_summary, jobs_run

    text = ("localrule report:\n    input: a\n\nrule analysis:\n    output: b\n"
            "Error in rule report:\n    message: None\n    jobid: 3\n    input: a\n"
            "    log: results/logs/report/report.log (check log file(s) for error details)\n")
    assert failure_summary(text) == ["rule report (log: results/logs/report/report.log) failed without a "
                                     "message (killed, or out of memory?)"]
    assert jobs_run(text) == ["report", "analysis"]


def test_an_unwritable_results_folder_is_one_clear_line(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the results folder should be")
    cfg = {"review_dir": str(tmp_path / "review"), "results_dir": str(blocker),
           "reports_dir": str(tmp_path / "reports"), "fetch": {}}
    outcome = update(cfg, configfile=None, fetch=False)
    assert outcome.status == 1
    assert outcome.summary.startswith("livingmeta update: FAILED (cannot write the results folder")
    assert "make it writable" in outcome.summary and "\n" not in outcome.summary


def test_a_reused_process_group_number_is_not_taken_for_a_live_run(tmp_path):
    """The lock file names the process group of the last run; if that number now belongs to an unrelated
    process (the group ended and the number was reused), the new run neither waits for it nor stops it."""
    from livingmeta.living.processes import is_snakemake, pid_alive
    from livingmeta.living.session import _recover

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        lock = UpdateLock(tmp_path / "update.lock")
        lock.previous = {"pid": 1, "pgid": other.pid}
        assert not is_snakemake(other.pid)
        why, notes, stale = _recover(lock, tmp_path)
        assert why is None and notes == [] and stale is False
        assert pid_alive(other.pid)  # left alone
    finally:
        other.kill()
        other.wait()


def test_a_run_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    """Ctrl-C sends SIGTERM to the run's process group; a process that ignores it (a job stuck in C code)
    is killed once the grace period has passed, so the command always returns and the lock is freed."""
    script = textwrap.dedent(f"""
        import os, signal, sys, threading, time
        from livingmeta.living.runner import run_snakemake
        stubborn = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                    "print('started', flush=True); time.sleep(120)"]
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        result = run_snakemake(stubborn, log_path={str(tmp_path / "run.log")!r}, echo=False,
                               on_start=lambda pgid: print("pgid", pgid, flush=True), grace=2.0)
        print("result", result.stopped_by, result.status, round(time.monotonic() - started), flush=True)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    stopped_by, status, seconds = lines["result"].split()
    assert stopped_by == "SIGINT" and int(status) == -9 and int(seconds) < 30
    from livingmeta.living.processes import group_alive
    assert not group_alive(int(lines["pgid"]))
