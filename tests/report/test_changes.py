"""What changed since the last version and the cumulative view: two versions built in a temporary
reports folder (the first published, the second built from changed inputs)."""
from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

import pytest

from livingmeta.jsonio import write_json
from livingmeta.report.render import render_html

SVG_NS = "{http://www.w3.org/2000/svg}"


def publish(doc: dict, reports_dir) -> None:
    """Enough of publishing for the next build: reports/<version>/results.json."""
    write_json(reports_dir / doc["version"] / "results.json", doc)


def second_version_inputs(inputs: dict) -> dict:
    """Version 2: a new study in DHI at 4 weeks whose CI now includes 0 (conclusion changed), a
    corrected study file (zhan2025's source), everything else as before."""
    out = copy.deepcopy(inputs)
    new = copy.deepcopy(next(d for d in out["studies"] if d["study"] == "liao2021"))
    new["study"] = "new2027"
    new["file"] = "review/studies/new2027.yaml"
    new["citation"] = dict(new.get("citation") or {}, first_author="Neu", year=2027)
    new["label"] = None
    out["studies"].append(new)
    zhan = next(d for d in out["studies"] if d["study"] == "zhan2025")
    for effect in zhan["effects"]:
        effect["source"] = "Table 2 (corrected)"
    dhi = next(p for p in out["pooled"] if p["analysis"] == "dhi__4_weeks")
    dhi.update(k=5, estimate=1.2, ci_lb=-0.3, ci_ub=2.7, I2=55.0)
    dhi["studies"] = dhi["studies"] + [dict(dhi["studies"][0], study="new2027", label="Neu 2027")]
    return out


@pytest.fixture()
def two_versions(inputs, build, tmp_path):
    reports = tmp_path / "reports"
    first = build(inputs)
    publish(first, reports)
    second = build(second_version_inputs(inputs))
    return first, second


def test_first_version(results):
    changes = results["what_changed"]
    assert changes["previous_version"] is None
    assert all(row["status"] == "new" and not row["conclusion_changed"] for row in changes["analyses"])
    assert set(results["history"]) == {a["analysis"] for a in results["analyses"]}
    assert all(len(points) == 1 for points in results["history"].values())
    html = render_html(results)
    assert "What changed: first published version" in html
    assert 'class="first-version"' in html
    assert "fig-cumulative-" not in html  # one point only: no cumulative plot


def test_unchanged_rebuild_reports_nothing(inputs, build, tmp_path):
    first = build(inputs)
    publish(first, tmp_path / "reports")
    again = build(inputs)
    assert again["version"] == "2026-11-21.2"
    changes = again["what_changed"]
    assert changes["previous_version"] == "2026-11-21"
    # no volatile field in the study entries: an unchanged study is not "corrected"
    assert changes["studies_added"] == changes["studies_corrected"] == changes["studies_removed"] == []
    assert {row["status"] for row in changes["analyses"]} == {"unchanged"}
    assert all(len(points) == 2 for points in again["history"].values())


def test_what_changed_block(two_versions):
    first, second = two_versions
    changes = second["what_changed"]
    assert second["version"] == "2026-11-21.2"
    assert changes["previous_version"] == first["version"] == "2026-11-21"
    assert changes["studies_added"] == ["new2027"]
    assert changes["studies_corrected"] == ["zhan2025"]
    assert changes["studies_removed"] == []
    assert changes["records"]["records_screened"] == {"previous": 402, "current": 402}
    rows = {row["analysis"]: row for row in changes["analyses"]}
    dhi = rows["dhi__4_weeks"]
    assert dhi["status"] == "changed" and dhi["conclusion_changed"] is True
    assert dhi["note"] == "the CI now includes the null"
    assert dhi["previous"]["k"] == 4 and dhi["current"]["k"] == 5
    assert dhi["current"]["ci_lb"] == -0.3
    assert rows["histological_grade__end_of_study"]["status"] == "unchanged"
    assert not rows["histological_grade__end_of_study"]["conclusion_changed"]
    history = second["history"]["dhi__4_weeks"]
    assert [p["version"] for p in history] == ["2026-11-21", "2026-11-21.2"]
    assert [p["k"] for p in history] == [4, 5]


def test_what_changed_section(two_versions):
    _, second = two_versions
    html = render_html(second)
    section = re.search(r'<section id="what-changed".*?</section>', html, flags=re.S).group(0)
    assert "What changed since version 2026-11-21</h2>" in section
    assert '<a href="#what-changed">What changed since version 2026-11-21</a>' in html  # contents
    assert html.index('id="what-changed"') < html.index('<section id="summary"')  # near the top
    assert "Studies added (1):</span> Neu 2027." in section
    assert "Studies corrected (1):</span> Zhan 2025." in section
    # one row per analysis, the changed conclusion flagged (in the row and in the box above the tables)
    rows = re.findall(r'<tr class="status-(\w+)( conclusion-changed)?">', section)
    assert len(rows) == len(second["analyses"])
    assert rows.count(("changed", " conclusion-changed")) == 1
    assert section.count("conclusion changed: the CI now includes the null") == 1
    assert 'class="conclusion-flag"' in section and "Conclusion changed in 1 analysis" in section
    assert "2.16 [0.86, 3.46]" in section and "1.20 [\u22120.30, 2.70]" in section


def test_cumulative_plot(two_versions):
    _, second = two_versions
    html = render_html(second)
    # every analysis with an estimate at two or more versions, in the "what changed" section
    section = html[html.index('<section id="what-changed"'):html.index('<section id="summary"')]
    assert section.count('<figure class="figure cumulative"') == html.count('<figure class="figure cumulative"') >= 2
    assert 'id="fig-cumulative-histological_grade__end_of_study"' in section
    block = re.search(r'<figure class="figure cumulative" id="fig-cumulative-dhi__4_weeks">\s*(<svg.*?</svg>)',
                      html, flags=re.S).group(1)
    root = ET.fromstring(block)
    assert root.find(f"{SVG_NS}title").text == "Cumulative view across versions: Disc height index (DHI), 4 weeks"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]
    assert "2026-11-21" in texts and "2026-11-21.2" in texts
    assert "2.16 [0.86, 3.46]" in texts and "1.20 [\u22120.30, 2.70]" in texts
    assert len(root.findall(f"{SVG_NS}rect[@class='study']")) == 1  # the earlier version
    assert len(root.findall(f"{SVG_NS}polygon[@class='diamond current']")) == 1  # this version
    x0 = [line for line in root.findall(f"{SVG_NS}line") if line.get("x1") == line.get("x2")
          and line.get("stroke") == "#666666"]
    assert x0, "null line"
    assert render_html(second) == html  # deterministic


def test_cumulative_rows_keep_every_version():
    from livingmeta.report import svg

    same = {"k": 4, "estimate": 1.0, "ci_lb": 0.1, "ci_ub": 1.9}
    points = [{"version": "v1", **same}, {"version": "v2", **same},
              {"version": "v3", "k": 5, "estimate": 0.5, "ci_lb": -0.2, "ci_ub": 1.2}, {"version": "v4", **same}]
    assert [p["version"] for p in svg.cumulative_points(points)] == ["v1", "v2", "v3", "v4"]


def test_history_skips_versions_without_estimate():
    from livingmeta.report import svg

    a = {"analysis": "x", "label": "X", "timepoint": "4 weeks", "measure": "SMD", "level": 95}
    points = [{"version": "2026-01-01", "k": 1, "estimate": None, "ci_lb": None, "ci_ub": None},
              {"version": "2026-02-01", "k": 2, "estimate": 1.0, "ci_lb": 0.1, "ci_ub": 1.9}]
    assert svg.cumulative_plot(a, points) is None
    points.append({"version": "2026-03-01", "k": 3, "estimate": 0.8, "ci_lb": 0.2, "ci_ub": 1.4})
    assert svg.cumulative_plot(a, points).count("<text") > 6


def test_published_documents_reads_every_version(inputs, build, tmp_path):
    from livingmeta.report.results_json import published_documents

    reports = tmp_path / "reports"
    first = build(inputs)
    publish(first, reports)
    (reports / "2026-11-22").mkdir()
    (reports / "2026-11-22" / "results.json").write_text("{broken", encoding="utf-8")
    (reports / "latest").symlink_to("2026-11-21")
    docs = published_documents(reports)
    assert [d["version"] for d in docs] == ["2026-11-21"]
    assert json.dumps(docs[0], sort_keys=True) == json.dumps(first, sort_keys=True)


def test_the_history_starts_from_the_newest_version_so_older_ones_are_not_read(inputs, build, tmp_path):
    from livingmeta.living.changes import history
    from livingmeta.report.results_json import published_documents

    reports = tmp_path / "reports"
    first = build(inputs)
    publish(first, reports)
    second = build(second_version_inputs(inputs))
    publish(second, reports)
    third = build(inputs)
    assert third["version"] == "2026-11-21.3"
    # what the build reads: the newest version only (its history block holds the older ones' points)
    assert [d["version"] for d in published_documents(reports, third["version"])] == ["2026-11-21.2"]
    assert [d["version"] for d in published_documents(reports)] == ["2026-11-21", "2026-11-21.2"]
    # the same history as from every version's own numbers
    from_all = history([{k: v for k, v in d.items() if k != "history"} for d in (first, second)], third)
    assert third["history"] == from_all
    assert [p["k"] for p in third["history"]["dhi__4_weeks"]] == [4, 5, 4]
    # an older version unreadable or gone changes nothing: its points are in the newest version's history
    (reports / "2026-11-21" / "results.json").write_text("{broken", encoding="utf-8")
    assert build(inputs)["history"] == third["history"]
    # a newest version without a history block (an older livingmeta): the versions before it are read
    publish({k: v for k, v in second.items() if k != "history"}, reports)
    (reports / "2026-11-21" / "results.json").write_text(json.dumps(first), encoding="utf-8")
    assert [d["version"] for d in published_documents(reports, "2026-11-21.3")] == ["2026-11-21", "2026-11-21.2"]
    assert build(inputs)["history"] == third["history"]
