"""`livingmeta fetch pubmed` end to end against the fake E-utilities server on 127.0.0.1: one-line summary
on success, one-line `livingmeta: error:` on failure (no traceback), nothing written on failure, the API
key never printed. These go through the real client, so the 3-requests-per-second limit really applies."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from livingmeta.cli import main
from tests.living.fake_eutils import Body, FakeEutils, Status

SECRET = "cli-s3cr3t-ncbi-k3y-value"


@pytest.fixture
def server():
    with FakeEutils() as srv:
        yield srv


def write_review(tmp_path: Path, server, **pubmed) -> Path:
    review = tmp_path / "myreview"
    (review / "searches" / "pubmed").mkdir(parents=True)
    (review / "review.yaml").write_text(yaml.safe_dump({
        "title": "Exosome-loaded hydrogels in rat IDD",
        "search": {"pubmed": {"query": "exosome AND hydrogel AND disc degeneration", "enabled": True}}}))
    (review / "previous_version.yaml").write_text("search_date: 2026-01-10\n")
    config = tmp_path / "config.yaml"
    settings = {"base_url": server.base_url, "batch_size": 4, "backoff_base": 0.001, "timeout": 5, **pubmed}
    config.write_text(yaml.safe_dump({"review_dir": "myreview", "fetch": {"pubmed": settings}}))
    return config


def files(config: Path) -> list[str]:
    return sorted(p.name for p in (config.parent / "myreview" / "searches" / "pubmed").iterdir())


def test_fetch_writes_the_export_and_prints_one_summary_line(tmp_path, server, capsys):
    config = write_review(tmp_path, server)
    today = date.today().isoformat()
    assert main(["fetch", "pubmed", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("\n") == 1 and out.startswith("livingmeta: pubmed: 7 record(s) in [crdt] 2026-01-10..")
    assert f"7 new written -> {config.parent / 'myreview' / 'searches' / 'pubmed' / today}.nbib" in out
    assert files(config) == [f"{today}.nbib", f"{today}.search.yaml"]
    term = server.of("esearch")[0].params["term"]
    assert term.startswith("(exosome AND hydrogel AND disc degeneration) AND (\"2026/01/10\"[crdt] : ")
    assert [r.params["retstart"] for r in server.of("efetch")] == ["0", "4"]


def test_retries_are_reported_and_the_key_is_never_printed(tmp_path, server, capsys, monkeypatch):
    monkeypatch.setenv("REVIEW_NCBI_KEY", SECRET)
    config = write_review(tmp_path, server, api_key_env="REVIEW_NCBI_KEY")
    server.fault("esearch", Status(503))
    rate_limited = b'{"error":"API rate limit exceeded","api-key":"{api_key}"}'  # NCBI echoes the key
    server.fault("efetch", Status(429, retry_after="0", body=rate_limited))
    assert main(["fetch", "pubmed", "--config", str(config), "--since", "2026-02-01", "--until", "2026-02-28"]) == 0
    out, err = capsys.readouterr()
    assert "livingmeta: esearch: HTTP 503; retry 1 of 5" in err
    assert "livingmeta: efetch: HTTP 429; retry 1 of 5" in err
    assert SECRET not in out + err
    assert all(r.params["api_key"] == SECRET for r in server.requests)
    assert '"2026/02/01"[crdt] : "2026/02/28"[crdt]' in server.of("esearch")[-1].params["term"]
    record = next((config.parent / "myreview" / "searches" / "pubmed").glob("*.search.yaml")).read_text()
    assert SECRET not in record and "REVIEW_NCBI_KEY" not in record


def test_a_malformed_response_is_one_error_line_and_leaves_nothing(tmp_path, server, capsys):
    config = write_review(tmp_path, server)
    server.fault("efetch", None, Body(b"\nPMID- 41000003\nOWN - NLM\nTI  - cut sho"))
    assert main(["fetch", "pubmed", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("livingmeta: error: efetch (records 5-7): ")
    assert "nothing was written" in err and "Traceback" not in err
    assert files(config) == []


def test_dry_run_counts_only(tmp_path, server, capsys):
    config = write_review(tmp_path, server)
    assert main(["fetch", "pubmed", "--config", str(config), "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    assert "7 record(s) match the saved query" in out and "dry run" in out
    assert files(config) == [] and server.of("efetch") == []


@pytest.mark.parametrize("argv_tail,expected", [
    (["--config", "nowhere/config.yaml"], "nowhere/config.yaml: config file not found"),
    (["--since", "2026-02-01", "--until", "2026-01-01"], "the window starts after it ends"),
])
def test_bad_input_is_one_error_line(tmp_path, server, capsys, monkeypatch, argv_tail, expected):
    config = write_review(tmp_path, server)
    monkeypatch.chdir(tmp_path)
    argv = ["fetch", "pubmed"] + (argv_tail if argv_tail[0] == "--config" else ["--config", str(config), *argv_tail])
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("livingmeta: error: ") and expected in err
    assert server.requests == []


def test_bad_setting_in_the_config_names_the_key(tmp_path, server, capsys):
    config = write_review(tmp_path, server, batch_size=0)
    assert main(["fetch", "pubmed", "--config", str(config)]) == 1
    _, err = capsys.readouterr()
    assert err.startswith(f"livingmeta: error: {config}: fetch.pubmed.batch_size: must be a whole number")


def test_bad_date_argument_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fetch", "pubmed", "--since", "01/02/2026"])
    assert exit_.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_command_line_entry_point_without_traceback(tmp_path, server):
    config = write_review(tmp_path, server)
    server.fault("esearch", Body(b'{"esearchresult": {"ERROR": "Invalid query syntax"}}'))
    proc = subprocess.run([sys.executable, "-m", "livingmeta.cli", "fetch", "pubmed", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == ("livingmeta: error: esearch: PubMed reported an error: Invalid query syntax; "
                           "nothing was written. Check the saved query.\n")
