import json
import os
from datetime import datetime, timezone

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.living.publish import publish
from livingmeta.living.versions import next_version, published_versions, version_key


def rendered(tmp_path, version, text="v1"):
    src = tmp_path / f"src-{version}-{text}"
    src.mkdir()
    (src / "results.json").write_text(json.dumps({"version": version, "review": {"title": "T"},
                                                  "prisma": {"total_studies": 10}, "analyses": [{}]}))
    (src / "report.html").write_text(f"<html>{text}</html>")
    (src / "report.pdf").write_bytes(b"%PDF-1.7 " + text.encode())
    return {name: src / name for name in ("results.json", "report.html", "report.pdf")}


def test_version_names_and_order(tmp_path):
    day = datetime(2026, 11, 21, 9, tzinfo=timezone.utc)
    assert next_version(tmp_path, day) == "2026-11-21"
    (tmp_path / "2026-11-21").mkdir()
    assert next_version(tmp_path, day) == "2026-11-21.2"
    (tmp_path / "2026-11-21.2").mkdir()
    (tmp_path / "2026-11-21.10").mkdir()
    (tmp_path / "notes").mkdir()
    assert published_versions(tmp_path) == ["2026-11-21", "2026-11-21.2", "2026-11-21.10"]
    assert next_version(tmp_path, day) == "2026-11-21.11"
    assert version_key("latest") == ("", 0)


def test_source_date_epoch_fixes_the_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    assert next_version(tmp_path) == "2026-01-01"


def test_publish_adds_a_version_and_switches_latest(tmp_path):
    reports = tmp_path / "reports"
    first = publish(rendered(tmp_path, "2026-11-20"), reports)
    assert first["version"] == "2026-11-20"
    assert os.readlink(reports / "latest") == "2026-11-20"
    publish(rendered(tmp_path, "2026-11-21", "v2"), reports)
    assert os.readlink(reports / "latest") == "2026-11-21"
    assert (reports / "2026-11-20" / "report.html").read_text() == "<html>v1</html>"  # old version kept
    assert (reports / "latest" / "report.html").read_text() == "<html>v2</html>"
    index = (reports / "index.html").read_text()
    assert index.index("2026-11-21") < index.index("2026-11-20")  # newest first
    assert "(latest)" in index and 'href="2026-11-20/report.pdf"' in index
    assert not [p for p in reports.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_publishing_the_same_version_twice_is_idempotent_but_never_overwrites(tmp_path):
    reports = tmp_path / "reports"
    files = rendered(tmp_path, "2026-11-21")
    publish(files, reports)
    publish(files, reports)  # e.g. a rerun after the marker was lost
    with pytest.raises(ReviewInputError, match="already published with different content"):
        publish(rendered(tmp_path, "2026-11-21", "changed"), reports)
    assert (reports / "2026-11-21" / "report.html").read_text() == "<html>v1</html>"


def test_a_hand_made_latest_folder_is_moved_aside_not_deleted(tmp_path):
    reports = tmp_path / "reports"
    (reports / "latest").mkdir(parents=True)
    (reports / "latest" / "mine.txt").write_text("keep")
    publish(rendered(tmp_path, "2026-11-21"), reports)
    assert (reports / "latest").is_symlink()
    kept = [p for p in reports.iterdir() if p.name.startswith(".latest-replaced")]
    assert kept and (kept[0] / "mine.txt").read_text() == "keep"
