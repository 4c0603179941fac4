"""Cron-like end-to-end tests of `livingmeta update` in temporary copies of the example review."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from livingmeta.living.lock import UpdateLock
from tests.workflow.helpers import add_study_copy, copy_example, copy_run, wait_for

pytestmark = pytest.mark.workflow


def update(work: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "livingmeta.cli", "update", "--config", "config.yaml",
                           "--cores", "2", *args], cwd=work, capture_output=True, text=True, **kwargs)


def start_update(work: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "livingmeta.cli", "update", "--config", "config.yaml",
                             "--cores", "1"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


@pytest.fixture(scope="module")
def updated(tmp_path_factory) -> Path:
    work = copy_example(tmp_path_factory.mktemp("update") / "work")
    proc = update(work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().startswith("livingmeta update: published ")
    return work


def test_an_update_with_nothing_new_says_so_and_publishes_nothing(updated, tmp_path):
    work = copy_run(updated, tmp_path / "work")
    before = sorted(os.listdir(work / "reports"))
    proc = update(work)
    assert proc.returncode == 0
    assert proc.stdout.strip() == "livingmeta update: no changes"
    assert sorted(os.listdir(work / "reports")) == before
    status = json.loads((work / "results" / ".livingmeta" / "status.json").read_text())
    assert status["state"] == "ok" and (work / status["log"]).is_file()


def test_an_update_with_a_new_export_and_a_new_study_publishes_a_new_version(updated, tmp_path):
    work = copy_run(updated, tmp_path / "work")
    first = os.readlink(work / "reports" / "latest")
    add_study_copy(work / "review", "liao2021", "newstudy2026", keep_outcome=0)
    (work / "review" / "searches" / "embase" / "2025-09-30.ris").write_text(
        "TY  - JOUR\nTI  - An illustrative record for the update test\nAU  - Example, A.\nPY  - 2025\n"
        "DO  - 10.5555/illustrative.2025.902\nN1  - ILLUSTRATIVE RECORD - not a real publication\nER  - \n")
    proc = update(work)
    assert proc.returncode == 0, proc.stdout
    second = os.readlink(work / "reports" / "latest")
    assert second != first and second.startswith(first[:10])  # same day: a suffixed version
    assert "1 new study" in proc.stdout and "1 analyses changed" in proc.stdout
    assert (work / "reports" / first / "report.html").is_file()  # the old version stays
    new = json.loads((work / "reports" / second / "results.json").read_text())
    assert new["prisma"]["identified"]["embase"] == 11
    dhi = next(a for a in new["analyses"] if a["outcome"] == "dhi" and a["timepoint"] == "4 weeks")
    assert "newstudy2026" in {s["study"] for s in dhi["studies"]}
    index = (work / "reports" / "index.html").read_text()
    assert first in index and second in index


def test_two_concurrent_updates_the_second_exits_at_once(updated, tmp_path):
    work = copy_run(updated, tmp_path / "work")
    add_study_copy(work / "review", "liao2021", "concurrent2026")
    first = start_update(work)
    lock = UpdateLock(work / "results" / ".livingmeta" / "update.lock")
    assert wait_for(lock.held_by_other), "the first update never took the lock"
    second = update(work, timeout=60)
    assert second.returncode == 0
    assert "another run is in progress" in second.stdout
    assert first.wait(timeout=300) == 0, first.stdout.read()
