import json
import os
from datetime import datetime, timezone

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.living.publish import publish
from livingmeta.living.versions import next_version, published_versions, version_key
from livingmeta.report.data import listed_files as listed_data
from livingmeta.report.figures import listed_files
from tests.workflow.helpers import tree_digest


def rendered(tmp_path, version, text="v1", content=None):
    """A rendered report. Its results differ from every other version's unless ``content`` is given."""
    src = tmp_path / f"src-{version}-{text}"
    src.mkdir()
    (src / "results.json").write_text(json.dumps({"version": version, "review": {"title": "T"},
                                                  "prisma": {"total_studies": 10}, "analyses": [{}],
                                                  "searches": content or f"searched for {version}"}))
    (src / "report.html").write_text(f"<html>{text}</html>")
    (src / "report.pdf").write_bytes(b"%PDF-1.7 " + text.encode())
    return {name: src / name for name in ("results.json", "report.html", "report.pdf")}


def figures(tmp_path, version, names):
    """A rendered figures/ folder: one SVG file per name and the index.csv listing them."""
    folder = tmp_path / f"src-{version}-figures"
    folder.mkdir()
    for name in names:
        (folder / name).write_text(f'<svg xmlns="http://www.w3.org/2000/svg">{version}</svg>')
    (folder / "index.csv").write_text("file,figure,caption\n" + "".join(f"{n},1,A figure\n" for n in names))
    return listed_files(folder / "index.csv")


def data_folder(tmp_path, version, analyses):
    """A rendered data/ folder: pooled.csv, one CSV file per analysis and the index.csv listing them."""
    folder = tmp_path / f"src-{version}-data"
    folder.mkdir()
    names = ["pooled.csv"] + [f"{analysis}.csv" for analysis in analyses]
    for name in names:
        (folder / name).write_text(f"study,yi,vi\n{version},0.5,0.1\n")
    (folder / "index.csv").write_text("file,description\n" + "".join(f"{n},Data\n" for n in names))
    return listed_data(folder / "index.csv")


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
    # a clock set back a day (or SOURCE_DATE_EPOCH of an earlier day): the names keep the publishing order
    assert next_version(tmp_path, datetime(2026, 11, 20, 9, tzinfo=timezone.utc)) == "2026-11-21.11"
    assert next_version(tmp_path, datetime(2026, 11, 22, 9, tzinfo=timezone.utc)) == "2026-11-22"


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
    assert not [p for p in reports.iterdir() if p.name.startswith(".staging")]  # no staging left behind


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


def test_publish_puts_the_figures_in_the_version_folder(tmp_path):
    reports = tmp_path / "reports"
    publish({**rendered(tmp_path, "2026-11-20"),
             **figures(tmp_path, "2026-11-20", ["prisma_flow.svg", "forest_dhi__4_weeks.svg"])}, reports)
    assert sorted(os.listdir(reports / "latest" / "figures")) == ["forest_dhi__4_weeks.svg", "index.csv",
                                                                  "prisma_flow.svg"]
    assert '<a href="2026-11-20/figures/index.csv">figures</a>' in (reports / "index.html").read_text()
    # a review without figures: the index with its header only
    publish({**rendered(tmp_path, "2026-11-21", "v2"), **figures(tmp_path, "2026-11-21", [])}, reports)
    assert os.listdir(reports / "latest" / "figures") == ["index.csv"]
    with pytest.raises(ValueError, match="cannot publish"):
        publish({**rendered(tmp_path, "2026-11-22"), "figures/../outside.svg": tmp_path / "x.svg"}, reports)


def test_publish_puts_the_data_in_the_version_folder(tmp_path):
    reports = tmp_path / "reports"
    publish({**rendered(tmp_path, "2026-11-20"), **figures(tmp_path, "2026-11-20", ["forest_dhi__4_weeks.svg"]),
             **data_folder(tmp_path, "2026-11-20", ["dhi__4_weeks"])}, reports)
    data = reports / "latest" / "data"
    assert sorted(os.listdir(data)) == ["dhi__4_weeks.csv", "index.csv", "pooled.csv"]
    assert (data / "dhi__4_weeks.csv").read_text() == "study,yi,vi\n2026-11-20,0.5,0.1\n"
    assert sorted(os.listdir(reports / "latest")) == ["data", "figures", "report.html", "report.pdf", "results.json"]
    assert '<a href="2026-11-20/data/index.csv">data</a>' in (reports / "index.html").read_text()
    # a review without analyses: pooled.csv (its header only) and the index
    publish({**rendered(tmp_path, "2026-11-21", "v2"), **data_folder(tmp_path, "2026-11-21", [])}, reports)
    assert sorted(os.listdir(reports / "latest" / "data")) == ["index.csv", "pooled.csv"]
    for n, name in enumerate(("data/../outside.csv", "data/forest.svg", "figures/pooled.csv")):
        with pytest.raises(ValueError, match="cannot publish"):
            publish({**rendered(tmp_path, "2026-11-22", f"v{n}"), name: tmp_path / "x.csv"}, reports)


@pytest.mark.parametrize("folder, first, second, lost", [
    (figures, ["forest_a.svg"], ["forest_a.svg", "forest_b.svg"], "figures/forest_b.svg"),
    (data_folder, ["dhi__4_weeks"], ["dhi__4_weeks", "dhi__8_weeks"], "data/dhi__8_weeks.csv"),
], ids=["figures", "data"])
def test_a_failed_publish_leaves_the_previous_version_and_its_folders_untouched(tmp_path, folder, first, second,
                                                                                 lost):
    reports = tmp_path / "reports"
    publish({**rendered(tmp_path, "2026-11-20"), **folder(tmp_path, "2026-11-20", first)}, reports)
    published = tree_digest(reports)
    files = {**rendered(tmp_path, "2026-11-21", "v2"), **folder(tmp_path, "2026-11-21", second)}
    files[lost].unlink()  # lost after the other files were copied
    with pytest.raises(FileNotFoundError):
        publish(files, reports)
    assert tree_digest(reports) == published and os.readlink(reports / "latest") == "2026-11-20"
    assert sorted(os.listdir(reports)) == [".versions.json", "2026-11-20", "index.html", "latest"]  # no staging, no new version


def test_a_version_whose_content_did_not_change_is_not_published(tmp_path):
    """Only the version's own keys differ (name, time, what changed, history): nothing is published,
    latest stays, and publish says which version still holds this content."""
    reports = tmp_path / "reports"
    publish(rendered(tmp_path, "2026-11-20", content="same"), reports)
    again = rendered(tmp_path, "2026-11-21", text="re-rendered", content="same")
    doc = json.loads(again["results.json"].read_text())
    doc.update(generated_at="2026-11-21T10:00:00Z", what_changed={"studies_added": []}, history={"a": [1]})
    again["results.json"].write_text(json.dumps(doc))
    before = tree_digest(reports)
    result = publish(again, reports)
    assert result["unchanged"] is True and result["version"] == "2026-11-20" and result["candidate"] == "2026-11-21"
    assert tree_digest(reports) == before
    # a change a reader sees (any other key) is published
    doc["searches"] = "one more search"
    again["results.json"].write_text(json.dumps(doc))
    result = publish(again, reports)
    assert result["unchanged"] is False and os.readlink(reports / "latest") == "2026-11-21"


def test_orphaned_staging_folders_are_removed_and_live_ones_kept(tmp_path):
    import subprocess
    import sys

    from livingmeta.living.publish import remove_orphaned_staging

    reports = tmp_path / "reports"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (reports / f".staging-2026-11-20-{dead.pid}" / "figures").mkdir(parents=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (reports / f".staging-2026-11-21-{alive.pid}").mkdir()
        assert remove_orphaned_staging(reports) == [f".staging-2026-11-20-{dead.pid}"]
        assert sorted(os.listdir(reports)) == [f".staging-2026-11-21-{alive.pid}"]
    finally:
        alive.kill()
        alive.wait()
    publish(rendered(tmp_path, "2026-11-22"), reports)  # publish cleans up too
    assert sorted(os.listdir(reports)) == [".versions.json", "2026-11-22", "index.html", "latest"]


def test_publish_carries_the_pages_and_the_appendix_pdf_of_the_layout_in_pages(tmp_path):
    """The layout in pages (livingmeta/report/layout.py): the pages that pages/index.csv beside report.html
    lists and report-appendix.pdf beside report.pdf are published with the report, though the caller
    (scripts/publish.py) names only report.html and report.pdf."""
    files = rendered(tmp_path, "2026-11-21")
    src = files["report.html"].parent
    (src / "pages").mkdir()
    names = ["analysis-dhi__4_weeks.html", "appendix-1.html"]
    for name in names:
        (src / "pages" / name).write_text(f"<html>{name}</html>")
    (src / "pages" / "index.csv").write_text("file,title\n" + "".join(f"{n},A page\n" for n in names))
    (src / "pages" / "stale.html").write_text("<html>not listed</html>")
    (src / "report-appendix.pdf").write_bytes(b"%PDF-1.7 appendix")
    out = publish(files, tmp_path / "reports")
    folder = tmp_path / "reports" / "2026-11-21"
    assert sorted(p.name for p in (folder / "pages").iterdir()) == sorted(names + ["index.csv"])
    assert (folder / "pages" / "appendix-1.html").read_text() == "<html>appendix-1.html</html>"
    assert (folder / "report-appendix.pdf").read_bytes() == b"%PDF-1.7 appendix"
    assert "pages/analysis-dhi__4_weeks.html" in out["files"] and "report-appendix.pdf" in out["files"]
    # a listed page that is missing stops publishing, nothing published
    (src / "pages" / "appendix-1.html").unlink()
    other = rendered(tmp_path, "2026-11-22")
    for name in ("pages", "report-appendix.pdf"):
        os.symlink(src / name, other["report.html"].parent / name)
    with pytest.raises(ReviewInputError, match="page file"):
        publish(other, tmp_path / "reports")
    assert not (tmp_path / "reports" / "2026-11-22").exists()


def test_a_report_in_one_page_publishes_no_pages(tmp_path):
    files = rendered(tmp_path, "2026-11-21")
    publish(files, tmp_path / "reports")
    folder = tmp_path / "reports" / "2026-11-21"
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.pdf", "results.json"]


def test_the_index_reads_no_earlier_version_once_it_knows_it(tmp_path, monkeypatch):
    from livingmeta.living import publish as publish_mod

    reports = tmp_path / "reports"
    publish(rendered(tmp_path, "2026-11-20"), reports)
    publish(rendered(tmp_path, "2026-11-21", "v2"), reports)
    index = (reports / "index.html").read_text()
    read = []
    real = publish_mod.read_json
    monkeypatch.setattr(publish_mod, "read_json", lambda path: read.append(str(path)) or real(path))
    publish_mod.write_index(reports)
    assert read == [str(reports / publish_mod.VERSIONS_SUMMARY)]  # the summaries only
    assert (reports / "index.html").read_text() == index
    assert "<td>T</td>" not in index and "<h1>T</h1>" in index and "<td>10</td><td>1</td>" in index
    # an entry whose results.json changed since (or a summary file lost) is read again
    results = reports / "2026-11-20" / "results.json"
    results.write_text(results.read_text().replace('"total_studies": 10', '"total_studies": 12'))
    read.clear()
    publish_mod.write_index(reports)
    assert str(results) in read and str(reports / "2026-11-21" / "results.json") not in read
    assert "<td>12</td><td>1</td>" in (reports / "index.html").read_text()
    (reports / publish_mod.VERSIONS_SUMMARY).write_text("{broken")
    publish_mod.write_index(reports)
    assert (reports / "index.html").read_text().count("<td>1") >= 2


def test_publication_damage_names_what_is_missing_of_the_last_publication(tmp_path):
    from livingmeta.jsonio import write_json
    from livingmeta.living.versions import publication_damage

    reports, record = tmp_path / "reports", tmp_path / "published.json"
    assert publication_damage(reports, record) is None  # nothing published yet
    done = publish(rendered(tmp_path, "2026-11-21"), reports)
    write_json(record, done)
    assert publication_damage(reports, record) is None
    (reports / "index.html").unlink()
    assert "index.html is missing" in publication_damage(reports, record)
    (reports / "latest").unlink()
    os.symlink("2026-11-20", reports / "latest")  # pointing at no published version
    assert "latest is missing or points at no published version" in publication_damage(reports, record)
    (reports / "latest").unlink()
    assert "latest is missing" in publication_damage(reports, record)
    (reports / "2026-11-21" / "results.json").unlink()
    assert "the published version 2026-11-21 is missing" in publication_damage(reports, record)
    record.write_text("{")
    assert "is unreadable" in publication_damage(reports, record)
    record.write_text("{}")
    assert "names no version" in publication_damage(reports, record)


def test_publishing_a_version_that_is_there_restores_latest_and_the_index(tmp_path):
    reports = tmp_path / "reports"
    files = rendered(tmp_path, "2026-11-21")
    assert "restored" not in publish(files, reports)
    (reports / "latest").unlink()
    (reports / "index.html").unlink()
    done = publish(files, reports)
    assert done["restored"] and not done["unchanged"] and done["version"] == "2026-11-21"
    assert os.readlink(reports / "latest") == "2026-11-21" and "2026-11-21" in (reports / "index.html").read_text()


def test_a_damaged_results_json_is_named(tmp_path):
    files = rendered(tmp_path, "2026-11-21")
    files["results.json"].write_text('{"version": "2026-11-21", "rev')
    with pytest.raises(ReviewInputError) as err:
        publish(files, tmp_path / "reports")
    assert "results.json is not valid JSON" in err.value.format() and "Delete it and run again" in err.value.format()
    assert not (tmp_path / "reports" / "2026-11-21").exists()


def test_an_unchanged_rendering_restores_a_lost_latest_and_index_and_publishes_nothing(tmp_path):
    """The report job renders every report under a new version name; when nothing a reader sees changed,
    publishing it is what restores `latest` and the index (planning ran the job because they were lost)."""
    reports = tmp_path / "reports"
    publish(rendered(tmp_path, "2026-11-21", content="same"), reports)
    again = rendered(tmp_path, "2026-11-21.2", content="same")
    done = publish(again, reports)
    assert done["unchanged"] and "restored" not in done  # nothing was lost: nothing to restore
    (reports / "latest").unlink()
    (reports / "index.html").unlink()
    done = publish(again, reports)
    assert done["unchanged"] and done["restored"] and done["version"] == "2026-11-21"
    assert published_versions(reports) == ["2026-11-21"]
    assert os.readlink(reports / "latest") == "2026-11-21" and (reports / "index.html").is_file()


def test_something_else_at_the_next_versions_name_is_refused_with_what_to_do(tmp_path):
    reports = tmp_path / "reports"
    publish(rendered(tmp_path, "2026-11-21"), reports)
    (reports / "2026-11-21.2").write_text("put here by hand")
    with pytest.raises(ReviewInputError, match="already published with different content") as err:
        publish(rendered(tmp_path, "2026-11-21.2"), reports)
    assert "move it out of the reports folder" in str(err.value)
    assert os.readlink(reports / "latest") == "2026-11-21"


def test_publication_damage_names_a_published_build_file_removed_or_changed_afterwards(tmp_path):
    """published.json records what each published file of the build was (size, head and tail); a file
    touched or copied elsewhere is the same file, one removed, truncated or rewritten is not."""
    import shutil

    from livingmeta.jsonio import write_json
    from livingmeta.living.versions import build_signatures, file_signature, publication_damage

    reports, record = tmp_path / "reports", tmp_path / "published.json"
    files = rendered(tmp_path, "2026-11-21")
    files["report.pdf"].write_bytes(b"%PDF-1.7 " + os.urandom(300_000))  # larger than head and tail together
    done = publish(files, reports)
    done["built"] = build_signatures(files.values(), record.parent)  # as the report job writes the record
    assert sorted(done["built"]) == [f"src-2026-11-21-v1/{name}" for name in ("report.html", "report.pdf",
                                                                               "results.json")]
    write_json(record, done)
    assert publication_damage(reports, record) is None
    os.utime(files["report.html"], (1, 1))  # Snakemake touches a job's outputs after it ends
    assert publication_damage(reports, record) is None
    copy = tmp_path / "copy.pdf"
    shutil.copy(files["report.pdf"], copy)
    assert file_signature(copy) == file_signature(files["report.pdf"])
    data = bytearray(files["report.pdf"].read_bytes())
    data[-10] ^= 1  # one byte of its tail
    files["report.pdf"].write_bytes(bytes(data))
    assert f"{files['report.pdf']} changed after the report job made it" == publication_damage(reports, record)
    files["report.pdf"].write_bytes(copy.read_bytes())
    assert publication_damage(reports, record) is None
    files["results.json"].write_text(files["results.json"].read_text()[:20])
    assert "results.json changed after the report job made it" in publication_damage(reports, record)
    files["results.json"].unlink()
    assert "results.json is missing (the report job made it)" in publication_damage(reports, record)
