"""Fault injection: the unattended loop never forgets a failure, never loses an update, never publishes a
version without a change a reader sees, and the lock covers the whole process tree.

Every scenario works on a copy of one run of the example (local files only, bounded waits) and checks the
checksums of reports/ and review/ before and after. "What a clean run would publish" is the reader's view
of results.json (:func:`livingmeta.living.publish.reader_view`) of a fresh run of the same review folder.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livingmeta.living.processes import group_alive, group_members
from livingmeta.living.publish import reader_view
from tests.workflow.helpers import add_study_copy, copy_example, copy_run, wait_for, tree_digest

pytestmark = pytest.mark.workflow

NEW = "newcomer2026"


def cli(work: Path, command: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    flag = "--configfile" if command == "run" else "--config"
    cores = [] if command == "status" else ["--cores", "2"]
    return subprocess.run([sys.executable, "-m", "livingmeta.cli", command, flag, "config.yaml", *cores, *args],
                          cwd=work, capture_output=True, text=True, timeout=timeout)


def start(work: Path, command: str = "update") -> subprocess.Popen:
    flag = "--configfile" if command == "run" else "--config"
    return subprocess.Popen([sys.executable, "-m", "livingmeta.cli", command, flag, "config.yaml", "--cores", "1"],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def lock_record(work: Path) -> dict:
    try:
        return json.loads((work / "results" / ".livingmeta" / "update.lock").read_text() or "{}")
    except (OSError, ValueError):
        return {}


def snakemake_group(work: Path, running: subprocess.Popen) -> int:
    """The process group of the Snakemake process that ``running`` started (the lock file's record of
    that run; the file keeps the record of the last run before it)."""
    def ours():
        record = lock_record(work)
        return record.get("pgid") if record.get("pid") == running.pid else None

    assert wait_for(ours), "the run never started Snakemake"
    return ours()


def job_pids(pgid: int, script: str) -> list[int]:
    """The processes of the run's group whose command line runs ``script`` (a rule's script)."""
    found = []
    for pid in group_members(pgid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if script in argv:
            found.append(pid)
    return found


def latest(work: Path) -> dict:
    return json.loads((work / "reports" / "latest" / "results.json").read_text())


def versions(work: Path) -> list[str]:
    return sorted(p.name for p in (work / "reports").iterdir() if p.is_dir() and not p.is_symlink()
                  and not p.name.startswith("."))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The example, run once and published."""
    work = copy_example(tmp_path_factory.mktemp("faults") / "base")
    proc = cli(work, "update")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work


@pytest.fixture(scope="module")
def clean_with_new_study(tmp_path_factory) -> dict:
    """What a clean run publishes for the example with one study added."""
    work = copy_example(tmp_path_factory.mktemp("faults") / "clean")
    add_study_copy(work / "review", "liao2021", NEW)
    proc = cli(work, "update")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return reader_view(latest(work))


@pytest.fixture
def work(base, tmp_path) -> Path:
    return copy_run(base, tmp_path / "work")


# --- failures are reported until fixed -------------------------------------------------------------------

def _break_screening(work):
    path = work / "review" / "screening" / "title_abstract.csv"
    path.write_text(path.read_text() + "pubmed:2025-06-30:pmid-99000002,RC,maybe,,,\n")
    return "invalid decision 'maybe'"


def _break_rob(work):
    path = work / "review" / "risk_of_bias" / "liao2021.yaml"
    path.write_text(path.read_text().replace("judgement: unclear", "judgement: probably fine", 1))
    return "liao2021"


def _break_previous_version(work):
    path = work / "review" / "previous_version.yaml"
    path.write_text(path.read_text().replace("duplicates_removed: 508", "duplicates_removed: [508"))
    return "previous_version.yaml"


@pytest.mark.parametrize("breaker", [_break_screening, _break_rob, _break_previous_version],
                         ids=["records-screening", "risk-of-bias", "prisma-previous-version"])
def test_a_failure_is_reported_by_every_run_until_it_is_fixed(work, clean_with_new_study, breaker):
    good = {name: (work / "review").joinpath(name).read_bytes()
            for name in ("screening/title_abstract.csv", "risk_of_bias/liao2021.yaml", "previous_version.yaml")}
    published = tree_digest(work / "reports")
    add_study_copy(work / "review", "liao2021", NEW)  # new evidence arrives while an input is broken
    cause = breaker(work)
    for attempt in range(2):
        proc = cli(work, "update")
        assert proc.returncode == 1, (attempt, proc.stdout)
        assert "FAILED" in proc.stdout and cause in proc.stdout, (attempt, proc.stdout)
        assert tree_digest(work / "reports") == published, "a failed run published something"
        status = cli(work, "status")
        assert status.returncode == 1 and "failed" in status.stdout and cause in status.stdout, status.stdout
    for name, data in good.items():
        (work / "review" / name).write_bytes(data)
    proc = cli(work, "update")
    assert proc.returncode == 0 and "published" in proc.stdout, proc.stdout
    assert reader_view(latest(work)) == clean_with_new_study
    assert cli(work, "status").returncode == 0


# --- updates are never lost ------------------------------------------------------------------------------

def test_a_killed_report_job_fails_the_update_and_the_next_one_publishes(work, clean_with_new_study):
    published = tree_digest(work / "reports")
    add_study_copy(work / "review", "liao2021", NEW)
    running = start(work)
    pgid = snakemake_group(work, running)
    assert wait_for(lambda: job_pids(pgid, "report.py"), timeout=600), "the report job never started"
    for pid in job_pids(pgid, "report.py"):
        os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    out, _ = running.communicate(timeout=180)
    assert running.returncode == 1 and "FAILED" in out and "report" in out, out
    assert tree_digest(work / "reports") == published
    proc = cli(work, "update")
    assert proc.returncode == 0 and "published" in proc.stdout, proc.stdout
    assert reader_view(latest(work)) == clean_with_new_study
    proc = cli(work, "update")
    assert proc.stdout.strip() == "livingmeta update: no changes", proc.stdout


def test_a_killed_update_process_leaves_its_run_holding_the_lock_until_it_ends(work, clean_with_new_study):
    add_study_copy(work / "review", "liao2021", NEW)
    running = start(work)
    pgid = snakemake_group(work, running)
    os.kill(running.pid, signal.SIGKILL)  # only the `livingmeta update` process
    running.wait()
    assert group_alive(pgid)
    second = cli(work, "update", timeout=60)  # at once: refused, and nothing unlocked
    assert second.returncode == 0 and "another run is in progress" in second.stdout, second.stdout
    assert wait_for(lambda: not group_alive(pgid), timeout=240), "the orphaned run never ended"
    proc = cli(work, "update")
    assert proc.returncode == 0, proc.stdout
    assert reader_view(latest(work)) == clean_with_new_study
    assert not [p for p in (work / "reports").iterdir() if p.name.startswith(".staging")]


def studies_job_done(work):
    """The studies job has written the new study's document (results/studies/studies.json holds it)."""
    def done():
        try:
            return f'"study": "{NEW}"' in (work / "results" / "studies" / "studies.json").read_text(encoding="utf-8")
        except OSError:
            return False
    return done


@pytest.mark.parametrize("moment", ["studies", "report"])
def test_killing_the_whole_tree_at_any_moment_loses_nothing(work, clean_with_new_study, moment):
    add_study_copy(work / "review", "liao2021", NEW)
    running = start(work)
    pgid = snakemake_group(work, running)
    if moment == "studies":
        assert wait_for(studies_job_done(work))
    else:
        assert wait_for(lambda: job_pids(pgid, "report.py"), timeout=600)
        time.sleep(1.0)
    os.killpg(running.pid, signal.SIGKILL)
    os.killpg(pgid, signal.SIGKILL)
    running.wait()
    assert wait_for(lambda: not group_alive(pgid), timeout=30)
    status = cli(work, "status")
    assert status.returncode == 1 and "interrupted" in status.stdout, status.stdout  # a dead pid is seen
    proc = cli(work, "update")
    assert proc.returncode == 0 and "published" in proc.stdout, proc.stdout
    assert reader_view(latest(work)) == clean_with_new_study
    assert not [p for p in (work / "reports").iterdir() if p.name.startswith(".staging")]


def test_ctrl_c_stops_the_whole_tree_cleanly(work, clean_with_new_study):
    add_study_copy(work / "review", "liao2021", NEW)
    running = start(work, "run")
    pgid = snakemake_group(work, running)
    assert wait_for(studies_job_done(work))
    os.kill(running.pid, signal.SIGINT)
    out, _ = running.communicate(timeout=240)  # SIGTERM, then SIGKILL after 30 s: well within this
    assert running.returncode == 130, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    assert not group_alive(pgid), "Snakemake or a job outlived the run that was stopped"
    assert "stopped by SIGINT" in out
    proc = cli(work, "update")
    assert proc.returncode == 0 and "published" in proc.stdout, proc.stdout
    assert reader_view(latest(work)) == clean_with_new_study


def test_a_run_during_an_update_is_refused_and_unlocks_nothing(work):
    add_study_copy(work / "review", "liao2021", NEW)
    running = start(work)
    snakemake_group(work, running)
    proc = cli(work, "run", timeout=60)
    assert proc.returncode == 1 and "another run is in progress" in proc.stderr, proc.stdout + proc.stderr
    out, _ = running.communicate(timeout=240)
    assert running.returncode == 0 and "published" in out, out


# --- versions only when something changed ----------------------------------------------------------------

def test_no_version_without_a_change_a_reader_sees(work):
    before = versions(work)
    study = work / "review" / "studies" / "liao2021.yaml"
    study.write_text(study.read_text() + "\n# checked the numbers again against Table 2\n")
    proc = cli(work, "update")
    assert proc.returncode == 0, proc.stdout
    assert "nothing a reader sees changed" in proc.stdout and before[-1] in proc.stdout, proc.stdout
    assert versions(work) == before
    shutil.rmtree(work / "results")
    proc = cli(work, "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no new version was published" in proc.stdout, proc.stdout
    assert versions(work) == before


@pytest.mark.parametrize("damage", ["latest", "version", "index"])
def test_a_damaged_publication_is_restored_by_the_next_run(work, damage):
    """reports/ damaged by hand (or a disk): Snakemake sees only the publish job's record, so every later
    run said "no changes" and left readers without reports/latest. Planning notices and publishes again."""
    (version,) = versions(work)
    published = (work / "reports" / version / "results.json").read_bytes()
    if damage == "latest":
        (work / "reports" / "latest").unlink()
    elif damage == "version":
        shutil.rmtree(work / "reports" / version)
    else:
        (work / "reports" / "index.html").unlink()
    status = cli(work, "status")
    assert "publication:" in status.stdout and "the next run makes and publishes the report again" in status.stdout, status.stdout
    proc = cli(work, "update")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("published " if damage == "version" else "restored the publication of ") + version in proc.stdout
    assert versions(work) == [version] and os.readlink(work / "reports" / "latest") == version
    assert (work / "reports" / "index.html").is_file()
    assert reader_view(latest(work)) == reader_view(json.loads(published))
    proc = cli(work, "update")  # and then nothing more to do
    assert proc.returncode == 0 and "no changes" in proc.stdout, proc.stdout
    assert "publication:" not in cli(work, "status").stdout


def test_a_damaged_results_json_is_made_again_and_nothing_new_is_published(work):
    """The report job's results.json damaged after it was published (by hand, a disk): Snakemake does not
    look at a job's outputs again, so planning compares them with what published.json recorded."""
    results = work / "results" / "report" / "results.json"
    results.write_text(results.read_text()[:500])
    reports = tree_digest(work / "reports")
    status = cli(work, "status")
    assert "publication:" in status.stdout and "results.json changed after the report job made it" in status.stdout
    proc = cli(work, "update")
    assert proc.returncode == 0 and "stays the latest version" in proc.stdout, proc.stdout
    assert json.loads(results.read_text())["version"]  # whole again
    assert tree_digest(work / "reports") == reports
    proc = cli(work, "update")  # and then nothing more to do
    assert proc.returncode == 0 and "no changes" in proc.stdout, proc.stdout
