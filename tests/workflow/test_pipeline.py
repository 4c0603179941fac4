"""The whole workflow through Snakemake's command line on a temporary copy of the example review:
outputs, no-op rerun, precise incremental rebuilds, and bad input that stops the run cleanly."""
from __future__ import annotations

import csv
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.workflow.helpers import add_study_copy, copy_example, copy_run, planned_jobs, snakemake, tree_digest

pytestmark = pytest.mark.workflow

REPORT_JOBS = {"report": 1}  # which publishes


@pytest.fixture(scope="session")
def example_run(tmp_path_factory) -> Path:
    work = copy_example(tmp_path_factory.mktemp("example") / "work")
    snakemake(work, check=True)
    return work


def test_the_example_publishes_html_pdf_and_results_json(example_run):
    latest = example_run / "reports" / "latest"
    assert latest.is_symlink()
    assert (latest / "report.pdf").read_bytes()[:5] == b"%PDF-"
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert "illustrative" in html.lower()
    results = json.loads((latest / "results.json").read_text(encoding="utf-8"))
    assert results["version"] == os.readlink(latest)
    assert results["review"]["title"]
    prisma = results["prisma"]
    for key in ("previous_studies", "identified", "duplicates_removed", "records_screened", "records_excluded",
                "reports_sought", "reports_not_retrieved", "reports_assessed", "reports_excluded",
                "new_studies", "total_studies"):
        assert key in prisma, key
    assert prisma["previous_studies"] == 10 and prisma["total_studies"] == 10
    assert set(prisma["identified"]) == {"pubmed", "embase"}
    assert len(results["analyses"]) == 13
    for analysis in results["analyses"]:
        for key in ("outcome", "timepoint", "measure", "method", "test", "k", "estimate", "se", "ci_lb", "ci_ub",
                    "pval", "tau2", "I2", "Q", "Q_pval", "pi_lb", "pi_ub", "studies", "subgroups", "leave_one_out"):
            assert key in analysis, key
        assert analysis["method"] == "REML" and analysis["test"] == "knha" and analysis["measure"] == "SMD"
        assert analysis["ci_lb"] < analysis["estimate"] < analysis["ci_ub"]
        assert sum(s["weight"] for s in analysis["studies"]) == pytest.approx(100)
        assert {"study", "yi", "vi", "weight"} <= set(analysis["studies"][0])
        # at most 7 studies per analysis: no funnel plot or Egger's test (PRISMA 2020 items 14/21)
        assert analysis["small_study"] == {"assessed": False, "min_k": 10,
                                           "reason": f"fewer than 10 studies (k = {analysis['k']})"}
    assert html.count("Small-study effects not assessed: fewer than 10 studies (k = ") == 13
    assert 'class="figure-svg funnel"' not in html
    # nor Begg's test or trim-and-fill, in the analyses or the methods
    assert "Begg" not in html and "rim-and-fill" not in html and "open circles" not in html
    histology = next(a for a in results["analyses"] if a["outcome"] == "histological_grade")
    assert histology["k"] == 6 and len(histology["leave_one_out"]) == 6
    assert histology["estimate"] < 0  # lower histological grade = less degeneration
    index = (example_run / "reports" / "index.html").read_text(encoding="utf-8")
    assert results["version"] in index


class Captions(HTMLParser):
    """The text of every <figcaption> of a page, in order (white space collapsed)."""

    def __init__(self, page: str):
        super().__init__()
        self.captions: list[str] = []
        self._inside = False
        self.feed(page)
        self.captions = [" ".join(c.split()) for c in self.captions]

    def handle_starttag(self, tag, attrs):
        if tag == "figcaption":
            self._inside = True
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.captions[-1] += data


def test_the_example_publishes_every_figure_as_a_standalone_svg_file(example_run):
    latest = example_run / "reports" / "latest"
    figures = latest / "figures"
    with open(figures / "index.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(os.listdir(figures)) == sorted(["index.csv"] + [row["file"] for row in rows])
    results = json.loads((latest / "results.json").read_text(encoding="utf-8"))
    forests = {row["file"] for row in rows if row["file"].startswith("forest_")}
    assert forests == {f"forest_{a['analysis']}.svg" for a in results["analyses"]} and len(forests) == 13
    assert {"prisma_flow.svg", "rob_traffic_light.svg", "rob_summary.svg"} <= {row["file"] for row in rows}
    for row in rows:
        root = ET.parse(figures / row["file"]).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg", row["file"]
        width, height = float(root.get("width")), float(root.get("height"))
        assert width > 0 and height > 0 and root.get("viewBox").split() == ["0", "0", root.get("width"),
                                                                             root.get("height")]
    # the numbers and captions of the report, in its order
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert [f"Figure {row['figure']}. {row['caption']}" for row in rows] == Captions(html).captions
    assert rows[0]["file"] == "prisma_flow.svg" and rows[0]["caption"].startswith("PRISMA 2020 flow diagram")


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_example_publishes_its_analysis_data_as_csv_files_that_rerun_each_analysis(example_run):
    from livingmeta.commands.pool import pool_table

    data = example_run / "reports" / "latest" / "data"
    files = [row["file"] for row in read_csv(data / "index.csv")]
    assert sorted(os.listdir(data)) == sorted(["index.csv", *files])
    results = json.loads((data.parent / "results.json").read_text(encoding="utf-8"))
    assert files == ["pooled.csv"] + [f"{a['analysis']}.csv" for a in results["analyses"]] and len(files) == 14
    pooled = read_csv(data / "pooled.csv")
    assert [row["analysis"] for row in pooled] == [a["analysis"] for a in results["analyses"]]
    for analysis, row in zip(results["analyses"], pooled):
        for column in ("estimate", "se", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "pval", "tau2", "I2", "Q", "Q_pval"):
            assert float(row[column]) == analysis[column], column
        studies = read_csv(data / f"{analysis['analysis']}.csv")
        assert [(s["study"], float(s["yi"]), float(s["vi"]), float(s["weight"])) for s in studies] == [
            (s["study"], s["yi"], s["vi"], s["weight"]) for s in analysis["studies"]]
        # the file alone re-runs the analysis, as metafor::rma(yi, vi, data = read.csv(file), method, test)
        rerun = pool_table(str(data / f"{analysis['analysis']}.csv"), method=row["method"], test=row["test"])
        for column in ("estimate", "ci_lb", "ci_ub", "tau2", "I2", "pi_lb", "pi_ub"):
            assert rerun[column] == pytest.approx(analysis[column], rel=1e-9, abs=1e-12), column


def test_a_report_file_lost_after_publishing_is_made_again_and_nothing_new_is_published(example_run, tmp_path):
    """Snakemake does not look at a job's outputs again; published.json records each file the report job
    published, so that planning sees one removed or changed and runs the report job again."""
    work = copy_run(example_run, tmp_path / "work")
    published = tree_digest(work / "reports")
    figure = next((work / "results" / "report" / "figures").glob("forest_*.svg"))
    figure.unlink()

    proc = snakemake(work, check=True)
    assert f"livingmeta: note: results/report/figures/{figure.name} is missing (the report job made it); making " \
           "and publishing the report again" in proc.stderr
    assert figure.is_file()
    assert tree_digest(work / "reports") == published  # nothing a reader sees changed: no new version
    again = snakemake(work, check=True)
    assert "Nothing to be done" in again.stdout + again.stderr and "livingmeta: note" not in again.stderr


def test_a_second_run_with_nothing_changed_does_nothing(example_run):
    assert planned_jobs(example_run) == Counter()


def test_without_a_pdf_the_report_job_writes_and_publishes_the_html_only(tmp_path):
    work = copy_example(tmp_path / "work")
    config = work / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("report:\n  pdf: true", "report:\n  pdf: false"),
                      encoding="utf-8")
    assert planned_jobs(work)["report"] == 1
    snakemake(work, check=True)
    latest = work / "reports" / "latest"
    assert (latest / "report.html").exists() and (latest / "results.json").exists()
    assert not (latest / "report.pdf").exists() and not (work / "results" / "report" / "pdf_parts").exists()


def test_adding_one_study_rebuilds_only_its_jobs_its_analysis_and_the_report(example_run, tmp_path):
    work = copy_run(example_run, tmp_path / "work")
    analysis = add_study_copy(work / "review", "liao2021", "newstudy2026", keep_outcome=0)
    assert analysis == "dhi__4_weeks"
    assert planned_jobs(work) == Counter({"studies": 1, "rob": 1, "analysis": 1, **REPORT_JOBS})
    # and the rebuilt report includes it, in that analysis only
    snakemake(work, check=True)
    # the coarse jobs derived the new study's documents only, the others came from the content cache (the
    # studies job and the analysis job run side by side: either may be the first to derive the new study)
    n_studies = len(list((work / "review" / "studies").glob("*.yaml")))
    logs = work / "results" / "logs"
    for log, n in ((logs / "studies" / "studies.log", n_studies), (logs / "rob" / "summary.log", n_studies),
                   (logs / "analyses" / f"{analysis}.log", 6)):
        derived, cached = map(int, re.search(r"documents: (\d+) derived, (\d+) from the cache",
                                             log.read_text(encoding="utf-8")).groups())
        assert derived <= 1 and derived + cached == n, (log, derived, cached)
    results = json.loads((work / "reports" / "latest" / "results.json").read_text())
    k = {a["outcome"] + "/" + a["timepoint"]: a["k"] for a in results["analyses"]}
    assert k["dhi/4 weeks"] == 6 and k["dhi/8 weeks"] == 7
    assert len(os.listdir(work / "reports")) == 5  # two versions, latest, index.html, .versions.json


def test_a_new_search_export_plans_nothing_on_the_pooling_branch(example_run, tmp_path):
    work = copy_run(example_run, tmp_path / "work")
    (work / "review" / "searches" / "embase" / "2025-09-30.ris").write_text(
        "TY  - JOUR\nTI  - Injectable exosome hydrogel for disc repair: an illustrative record\n"
        "AU  - Example, A.\nPY  - 2025\nJO  - Illustrative Journal\nDO  - 10.5555/illustrative.2025.901\n"
        "N1  - ILLUSTRATIVE RECORD - not a real publication\nER  - \n", encoding="utf-8")
    assert planned_jobs(work) == Counter({"parse_export": 1, "deduplicate": 1, "screening": 1, "prisma": 1,
                                          **REPORT_JOBS})


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _save(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _set_arm(field, value):
    def mutate(review: Path) -> str:
        path = review / "studies" / "liao2021.yaml"
        data = _load(path)
        arm, key = field.split(".")
        if value is None:
            del data["outcomes"][0][arm][key]
        else:
            data["outcomes"][0][arm][key] = value
        _save(path, data)
        return "studies/liao2021.yaml"
    return mutate


def _unknown_outcome(review: Path) -> str:
    path = review / "studies" / "liao2021.yaml"
    data = _load(path)
    data["outcomes"][0]["outcome"] = "pain_score"
    _save(path, data)
    return "studies/liao2021.yaml"


def _duplicate_id(review: Path) -> str:
    data = _load(review / "studies" / "liao2021.yaml")
    _save(review / "studies" / "liao2021_copy.yaml", data)  # still says `study: liao2021`
    return "studies/liao2021_copy.yaml"


BAD_INPUTS = {
    "missing field": (_set_arm("control.mean", None), "mean"),
    "wrong type": (_set_arm("treatment.n", "six"), "n"),
    "negative SD": (_set_arm("control.sd", -1), "sd"),
    "n below 2": (_set_arm("treatment.n", 1), "n"),
    "unknown outcome": (_unknown_outcome, "outcome"),
    "duplicate study id": (_duplicate_id, "study"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_study_input_stops_before_pooling_with_one_clear_message(example_run, tmp_path, case):
    mutate, field = BAD_INPUTS[case]
    work = copy_run(example_run, tmp_path / "work")
    published = tree_digest(work / "reports")
    latest = os.readlink(work / "reports" / "latest")
    bad_file = mutate(work / "review")
    raw = tree_digest(work / "review")

    proc = snakemake(work)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    errors = [line for line in output.splitlines() if line.startswith("livingmeta: error: ")]
    assert errors, output
    assert any(bad_file in line and field in line.split(bad_file, 1)[1] for line in errors), errors
    assert "Traceback" not in output
    for rule in ("analysis", "report"):
        assert f"rule {rule}:" not in output, f"{rule} ran although a study file is bad"
    assert tree_digest(work / "review") == raw  # raw inputs never modified
    assert tree_digest(work / "reports") == published and os.readlink(work / "reports" / "latest") == latest


def test_a_change_to_the_report_code_renders_a_new_version_not_a_clash(example_run, tmp_path, repo):
    """Report code is an input of the report job (which writes results.json), so a re-rendered report always gets a new version name
    (a re-render under the published name would be refused by publish). The stylesheet is edited for the
    duration of the test and restored byte for byte."""
    work = copy_run(example_run, tmp_path / "work")
    stylesheet = repo / "livingmeta" / "report" / "templates" / "report.css"
    original = stylesheet.read_bytes()
    try:
        stylesheet.write_bytes(original + b"\n/* edited by a test */\n")
        assert planned_jobs(work) == Counter(REPORT_JOBS)
        snakemake(work, check=True)
    finally:
        stylesheet.write_bytes(original)
    assert len([p for p in os.listdir(work / "reports") if p[0].isdigit()]) == 2


def test_publish_refuses_to_overwrite_a_published_version_with_one_clear_message(example_run, tmp_path):
    """A refusal to publish is one `livingmeta: error:` message naming the folder and the fix, also in the
    rule's log, with no traceback; nothing published changes, and every run says it again until it is fixed.
    Here something not published from this review sits where its next version goes."""
    from livingmeta.living.versions import next_version

    work = copy_run(example_run, tmp_path / "work")
    latest = os.readlink(work / "reports" / "latest")
    squatter = work / "reports" / next_version(work / "reports")
    squatter.write_text("not a version of this review\n", encoding="utf-8")
    published = tree_digest(work / "reports")

    for _ in range(2):
        proc = snakemake(work, "--forcerun", "report")
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0
        errors = [line for line in output.splitlines() if line.startswith("livingmeta: error: ")]
        assert errors and f"reports/{squatter.name}" in errors[0], errors
        assert "already published with different content" in errors[0] and "move it out" in errors[0]
        assert "Traceback" not in output
        log = (work / "results" / "logs" / "report" / "report.log").read_text(encoding="utf-8")
        assert "already published" in log
        assert tree_digest(work / "reports") == published and os.readlink(work / "reports" / "latest") == latest
        assert not (work / "results" / "report" / "published.json").exists()  # the rule did not complete


def test_status_reports_what_waits_for_the_reviewers(example_run, tmp_path, monkeypatch, capsys):
    import argparse
    import csv

    from livingmeta.commands import status

    work = copy_run(example_run, tmp_path / "work")
    monkeypatch.chdir(work)
    screening = _load(work / "results" / "records" / "screening.json")
    awaiting = screening["counts"]["awaiting"]
    assert status.run(argparse.Namespace(configfile="config.yaml")) == 0
    out = capsys.readouterr().out
    assert f"to screen:         {screening['counts']['records_awaiting_screening']} record(s)" in out
    assert "duplicates:        0 pair(s) to review\n" in out  # the example's records leave no pair in doubt
    ta, ft = awaiting["title_abstract"]["conflict"], awaiting["full_text"]["conflict"]
    assert ta + ft >= 1  # the example keeps an unresolved conflict to show the queue
    assert f"conflicts:         {ta + ft} between reviewers to resolve (title/abstract {ta}, full text {ft})" in out

    review_csv = work / "results" / "records" / "dedup_review.csv"
    with open(review_csv, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with open(review_csv, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for pair in (("pubmed:x:1", "embase:x:2"), ("pubmed:x:3", "embase:x:4")):
            writer.writerow(list(pair) + [""] * (len(header) - 2))
    status.run(argparse.Namespace(configfile="config.yaml"))
    assert ("duplicates:        2 pair(s) to review in results/records/dedup_review.csv; decide them in "
            "review/screening/duplicates.csv") in capsys.readouterr().out
