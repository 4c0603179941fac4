"""The report's figures as standalone files: one SVG document per figure of the HTML, named after it, with
its number and caption in index.csv; the parts of a long figure stacked in one document; an index
without rows when the report has no figure."""
from __future__ import annotations

import copy
import csv
import re
import xml.etree.ElementTree as ET

import pytest

from livingmeta.analyses import small_study_effects
from livingmeta.jsonio import write_json
from livingmeta.report import svg
from livingmeta.report.figures import (BACKGROUND, PART_GAP, XML_DECLARATION, caption_text, listed_files,
                                       report_figures, standalone_svg, write_figures)
from livingmeta.report.render import render_html

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture()
def page(inputs, build, tmp_path) -> str:
    """The report of a second version (so with cumulative plots) whose first analysis has a funnel plot."""
    write_json(tmp_path / "reports" / "2026-11-21" / "results.json", build(inputs))  # the first version
    results = build(inputs)
    a = results["analyses"][0]
    model = {k: a[k] for k in ("measure", "method", "test", "level")}
    a["small_study"] = small_study_effects(a["studies"], {**model, "small_study_min_k": 3})
    return render_html(results)


def test_every_figure_of_the_report_is_one_file_named_after_it(page):
    figures = report_figures(page)
    names = [f.file for f in figures]
    assert len(names) == len(set(names)) == page.count("<figure ")
    assert names[:3] == ["cumulative_dhi__4_weeks.svg", "cumulative_histological_grade__end_of_study.svg",
                         "cumulative_mmp13__12_weeks.svg"]
    assert names[3:6] == ["prisma_flow.svg", "rob_traffic_light.svg", "rob_summary.svg"]
    assert names[6:12] == ["forest_dhi__4_weeks.svg", "rob_weighted_dhi__4_weeks.svg",
                           "subgroups_dhi__4_weeks_hydrogel_type.svg",
                           "subgroups_dhi__4_weeks_exosome_source.svg", "subgroups_dhi__4_weeks_age.svg",
                           "funnel_dhi__4_weeks.svg"]
    assert names[-1] == "forest_mmp13__12_weeks.svg"


def test_numbers_and_captions_are_the_reports(page):
    figures = report_figures(page)
    captions = [caption_text(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S)]
    assert [f"Figure {f.number}. {f.caption}" for f in figures] == captions
    by_file = {f.file: f for f in figures}
    assert by_file["prisma_flow.svg"].number == "4"  # after the three cumulative plots
    assert by_file["forest_dhi__4_weeks.svg"].number == "6.1.1"
    assert by_file["rob_weighted_dhi__4_weeks.svg"].number == "6.1.2"
    assert by_file["funnel_dhi__4_weeks.svg"].number == "6.1.6"
    assert by_file["forest_dhi__4_weeks.svg"].caption.startswith("Forest plot: Disc height index (DHI), 4 weeks. ")
    # the cumulative caption links to its analysis in the report: the index has its text only
    assert by_file["cumulative_dhi__4_weeks.svg"].caption.startswith(
        "Cumulative view: Disc height index (DHI), 4 weeks: the pooled estimate (SMD)")


def test_each_file_is_the_reports_svg_as_a_standalone_document(page):
    for figure in report_figures(page):
        assert figure.svg.startswith(XML_DECLARATION + "<svg ")
        root = ET.fromstring(figure.svg.encode("utf-8"))
        assert root.tag == f"{SVG_NS}svg"
        assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
        assert float(root.get("width")) > 0 and float(root.get("height")) > 0
        assert root.get("font-family") == svg.FONT  # a fallback list ending in sans-serif
        assert root[0].tag == f"{SVG_NS}rect" and root[0].get("fill") == "#FFFFFF"  # the page's white
        # otherwise exactly the figure the report shows
        inline = figure.svg.removeprefix(XML_DECLARATION).replace(BACKGROUND, "", 1).rstrip("\n")
        assert inline in page


def test_a_figure_in_parts_becomes_one_document_with_its_parts_stacked(results):
    a = copy.deepcopy(results["analyses"][0])
    a["studies"] = [dict(s, study=f"{s['study']}_{i}", label=f"{s['label']} {i}") for i in range(12)
                    for s in a["studies"]]
    parts = re.findall(r"<svg\b.*?</svg>", svg.forest_plot(a), re.S)
    assert len(parts) == 2  # 48 studies: more rows than one printed page holds
    root = ET.fromstring(standalone_svg(parts).encode("utf-8"))
    first, second = root.findall(f"{SVG_NS}svg")
    assert root.get("width") == "680" and first.get("y") == "0"
    assert float(second.get("y")) == float(first.get("height")) + PART_GAP
    assert float(root.get("height")) == float(second.get("y")) + float(second.get("height"))
    assert root.get("viewBox") == f"0 0 680 {root.get('height')}"
    assert first.find(f"{SVG_NS}title").text.endswith("(part 1 of 2)")


def test_write_figures_writes_each_file_then_the_index(page, tmp_path):
    index = tmp_path / "figures" / "index.csv"
    index.parent.mkdir()
    (index.parent / "forest_removed_analysis.svg").write_text("<svg/>")  # from an earlier report
    figures = write_figures(page, index)
    with open(index, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["file"], r["figure"], r["caption"]) for r in rows] == [(f.file, f.number, f.caption) for f in figures]
    assert sorted(p.name for p in index.parent.iterdir()) == sorted(["index.csv"] + [f.file for f in figures])
    for figure in figures:
        assert (index.parent / figure.file).read_text(encoding="utf-8") == figure.svg
    listed = listed_files(index)
    assert list(listed) == ["figures/index.csv"] + [f"figures/{f.file}" for f in figures]
    assert all(path.is_file() for path in listed.values())


def test_a_report_without_figures_gets_an_index_with_its_header_only(tmp_path):
    index = tmp_path / "figures" / "index.csv"
    assert write_figures("<!DOCTYPE html><html><body><p>No figures.</p></body></html>", index) == []
    assert index.read_text(encoding="utf-8") == "file,figure,caption\n"
    assert [p.name for p in index.parent.iterdir()] == ["index.csv"]
    assert listed_files(index) == {"figures/index.csv": index}


def test_two_figure_ids_with_one_file_name_keep_both_files():
    one = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10"></svg>'
    page = "".join(f'<figure class="figure forest subgroup" id="fig-subgroups-dhi-{variable}">{one}'
                   f"<figcaption>Figure 6.1.{n}. Subgroups by {variable}.</figcaption></figure>"
                   for n, variable in ((2, "age"), (3, "age")))  # "Age" and "age" give one slug
    assert [f.file for f in report_figures(page)] == ["subgroups_dhi_age.svg", "subgroups_dhi_age_2.svg"]
