"""The HTML report: every section, the illustrative-data notice iff it applies, self-contained,
well-formed inline SVG, edge cases (k = 1, no subgroups) and byte-identical output."""
from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import pytest

from livingmeta.report.render import render_html
from tests.report.conftest import without_illustrative

SECTIONS = ("summary", "methods", "search", "studies", "rob", "results", "appendix")


@pytest.fixture()
def html(results) -> str:
    return render_html(results)


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(block) for block in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def test_every_section_is_there(html, results):
    for section in SECTIONS:
        assert f'<section id="{section}"' in html, section
    for a in results["analyses"]:
        assert f'id="analysis-{a["analysis"]}"' in html
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    # title block
    assert "<h1>Exosome-loaded hydrogels for intervertebral disc degeneration in rat models" in html
    assert "<strong>2026-11-21</strong>" in html and "2026-11-21T06:00:00Z" in html
    assert 'href="https://www.crd.york.ac.uk/PROSPERO/view/CRD420250649970"' in html
    assert "<dt>Searches up to</dt><dd>2026-10-16" in html


def test_figures_are_inline_well_formed_svg(html, results):
    figures = svgs(html)
    n_subgroup_plots = sum(1 for a in results["analyses"] for sg in a["subgroups"] if sg["analysed"])
    # PRISMA + 2 risk-of-bias figures + per analysis a forest plot (and, pooled, its weighted risk-of-bias
    # summary) + subgroup plots
    n_pooled = sum(1 for a in results["analyses"] if a["pooled"])
    assert len(figures) == 3 + len(results["analyses"]) + n_pooled + n_subgroup_plots
    titles = [f.find("{http://www.w3.org/2000/svg}title").text for f in figures]
    assert "PRISMA 2020 flow diagram" in titles
    assert "Forest plot: Disc height index (DHI), 4 weeks" in titles


def test_self_contained(html):
    assert "<link" not in html and "<script" not in html and "<img" not in html
    assert "url(" not in html and "@import" not in html
    assert not re.search(r'\bsrc\s*=', html)


def test_illustrative_notice_iff_illustrative(html, inputs, build):
    assert 'id="notice-illustrative"' in html
    assert "The published review reports pooled results only" in html
    assert html.count('class="analysis-notice"') == 3  # one marker per analysis
    assert '<body class="illustrative">' in html  # drives the PDF's running "do not cite" footer
    clean = render_html(build(without_illustrative(inputs)))
    assert 'id="notice-illustrative"' not in clean and 'class="analysis-notice"' not in clean
    assert "illustrative data</span>" not in clean and '<body>' in clean


def test_single_study_and_missing_subgroups(html):
    mmp13 = html[html.index('id="analysis-mmp13__12_weeks"'):html.index('id="appendix"')]
    assert "One study only (Zhan 2025)" in mmp13 and "No pooling" in mmp13
    assert "Single study: no pooled estimate (k = 1)." in mmp13
    assert "no subgroup analysis (fewer than 2 levels with data)" in mmp13
    assert "No leave-one-out analysis (leave-one-out needs at least 3 studies)" in mmp13


def test_analysis_without_any_subgroup_variable(results):
    data = copy.deepcopy(results)
    data["analyses"][0]["subgroups"] = []
    page = render_html(data)
    dhi = page[page.index('id="analysis-dhi__4_weeks"'):page.index('id="analysis-histological')]
    assert "No subgroup analysis (fewer than 2 levels with data)." in dhi


def test_tables(html, results):
    # summary of results: pooled estimates with CI, single study shown unpooled
    assert "2.16 [0.86, 3.46]" in html and "\u22123.47 [\u22125.94, \u22120.99]" in html
    assert "not pooled (single study)" in html
    # leave-one-out table rows
    assert html.count('<tr class="all">') == 2
    # study characteristics in Table 1/2 style, classification used by subgroup analyses
    assert "Characteristics of included studies: animals and disease model" in html
    assert "Characteristics of included studies: intervention" in html
    assert "Classification of studies used by the subgroup analyses" in html
    # appendix, study by study: numbers with provenance and file, then the risk-of-bias support
    studies = re.findall(r'<section class="appendix-study" id="appendix-([^"]+)">(.*?)</section>', html, flags=re.S)
    assert sum(body.count('<tr class="illus">') for _, body in studies) == 9  # 9 effects
    assert [sid for sid, _ in studies] == [s["study"] for s in results["studies"]]  # 5 study files, in order
    liao = dict(studies)["liao2021"]
    assert "review/<wbr>studies/<wbr>liao2021.yaml" in liao and "Extracted data" in liao
    assert liao.index('class="extracted') < liao.index('class="rob-support"')
    assert all(f"<!--pdf-part appendix-{sid}-->" in html for sid, _ in studies[1:])  # one PDF part each
    # agreement table and methods text
    assert "Cohen\u2019s \u03ba" in html and "Knapp\u2013Hartung" in html
    # RoB support appendix
    assert "Reported: sealed envelopes." in html


def test_escaping(results):
    data = copy.deepcopy(results)
    data["review"]["title"] = "Hydrogels <script>alert(1)</script> & more"
    data["studies"][0]["citation_text"] = "A & B <i>2021</i>"
    page = render_html(data)
    assert "<script>" not in page
    assert "Hydrogels &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "A &amp; B &lt;i&gt;2021&lt;/i&gt;" in page


def test_byte_identical(results):
    assert render_html(results) == render_html(copy.deepcopy(results))


def test_empty_review_renders(results):
    data = copy.deepcopy(results)
    data.update(analyses=[], studies=[], risk_of_bias={}, notices=[], illustrative_data=False)
    page = render_html(data)
    assert "No analysis has any study yet." in page and "No study has been included yet." in page
    assert "No risk-of-bias judgements yet." in page


def test_backticks_in_the_notice_become_code(results):
    data = copy.deepcopy(results)
    data["notices"][0]["text"] = "marked `provenance: illustrative` <b>"
    page = render_html(data)
    assert "marked <code>provenance: illustrative</code> &lt;b&gt;" in page


def test_the_classification_table_shows_the_values_of_a_studys_comparisons():
    """A study whose comparisons carry their own subgroup values (entry-level groups:) is classified by
    them in the subgroup-classification table: "low; high", not "NR"."""
    from livingmeta.report.render import group_of

    study = {"groups": {"route": "intradiscal"},
             "effects": [{"groups": {"dose": "low"}}, {"groups": {"dose": "high"}}, {"groups": {"dose": "low"}}, {}]}
    assert group_of(study, "route") == "intradiscal"
    assert group_of(study, "dose") == "low; high"
    assert group_of(study, "model") is None and group_of({}, "dose") is None
