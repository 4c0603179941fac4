"""`livingmeta update` fetches first when the review enables it; a failed fetch is reported in the summary
and the exit status, leaves nothing behind, and the workflow still runs on what the folder holds."""
from __future__ import annotations

import pytest

from livingmeta.config import load
from livingmeta.living import session as session_module
from livingmeta.living import update as update_module
from livingmeta.living.runner import RunResult
from tests.living.fake_eutils import FakeEutils, Status
from tests.living.test_pubmed_cli import files, write_review


@pytest.fixture
def server():
    with FakeEutils() as srv:
        yield srv


@pytest.fixture
def workflow_runs(monkeypatch):
    """Stand in for Snakemake: record the commands, report success with nothing to do."""
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return RunResult(0, "Nothing to be done (all requested files are present and up to date).")

    monkeypatch.setattr(session_module, "run_snakemake", fake_run)
    return calls


def test_update_fetches_new_pubmed_records_before_running(tmp_path, server, workflow_runs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_review(tmp_path, server)
    outcome = update_module.update(load(config), configfile=str(config))
    assert outcome.status == 0, outcome.summary
    assert "PubMed:" in outcome.summary and "new record(s)" in outcome.summary
    assert any(name.endswith(".nbib") for name in files(config))
    assert len(workflow_runs) == 1 and not any("--unlock" in cmd for cmd in workflow_runs)  # no stale lock here


def test_a_failed_fetch_is_reported_and_leaves_nothing(tmp_path, server, workflow_runs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_review(tmp_path, server, max_retries=1)
    for _ in range(5):
        server.fault("esearch", Status(503))
    outcome = update_module.update(load(config), configfile=str(config))
    assert outcome.status == 1
    assert "PubMed fetch FAILED" in outcome.summary
    assert files(config) == []  # no partial export
    assert len(workflow_runs) == 1  # the workflow still ran on what the review folder holds


def test_no_fetch_flag_skips_fetching(tmp_path, server, workflow_runs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_review(tmp_path, server)
    outcome = update_module.update(load(config), configfile=str(config), fetch=False)
    assert outcome.status == 0 and outcome.summary == "livingmeta update: no changes"
    assert files(config) == [] and server.requests == []
