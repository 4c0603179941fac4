"""The layout in pages (config report.layout, livingmeta/report/layout.py and pages.py): the summary page, a
page per analysis, the appendix pages, the links between them, and the appendix as a PDF of its own."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from livingmeta.report import pages as pages_mod
from livingmeta.report.figures import report_figures
from livingmeta.report.layout import uses_pages
from livingmeta.report.pages import split_pages
from livingmeta.report.pdf import split_documents
from livingmeta.report.render import render_html
from tests.report.conftest import ANALYSES, CONFIG, WHEN, fixture_paths


@pytest.fixture(scope="module")
def document():
    from livingmeta.jsonio import dumps
    from livingmeta.report.results_json import load_and_build

    return json.loads(dumps(load_and_build(**fixture_paths(), config=CONFIG, reports_dir="/nonexistent", when=WHEN)))


@pytest.fixture(scope="module")
def single(document):
    return render_html(document)


@pytest.fixture(scope="module")
def paged(document):
    return render_html(document, pages=True)


def test_the_layout_follows_the_setting_and_the_size_of_the_review():
    assert not uses_pages("auto", 100, 30) and uses_pages("auto", 101, 3) and uses_pages("auto", 5, 31)
    assert uses_pages(None, 1000, 50)
    assert uses_pages("pages", 5, 3) and not uses_pages("single", 1000, 50)
    with pytest.raises(ValueError, match="report.layout"):
        uses_pages("book", 5, 3)


def test_one_page_keeps_everything_in_place(single):
    assert "pdf-document" not in single and 'id="appendix-studies"' not in single
    assert single.index('id="fig-rob-traffic"') < single.index('id="results"') < single.index('id="appendix"')
    assert [name for name, _ in split_documents(single)] == ["report"]


def _page_files(pages):
    return [p.file for p in pages]


def test_the_summary_page_the_analysis_pages_and_the_appendix(paged, single, document):
    pages = split_pages(paged)
    assert _page_files(pages) == (["report.html"] + [f"pages/analysis-{a}.html" for a in ANALYSES]
                                  + ["pages/studies.html", "pages/appendix-1.html"])
    summary = pages[0].body
    # the summary page: summary of results, methods, PRISMA, the risk-of-bias summary and one entry per analysis
    for anchor in ("summary", "methods", "fig-prisma", "fig-rob-summary", "prisma-lsr"):
        assert f'id="{anchor}"' in summary, anchor
    assert 'id="fig-rob-traffic"' not in summary and 'class="analysis"' not in summary
    assert 'class="appendix-study"' not in summary
    for a in ANALYSES:
        assert f'<a href="pages/analysis-{a}.html#analysis-{a}">' in summary
    assert summary.count('class="analysis-entry"') == len(document["analyses"])
    # an analysis page shows exactly the figures of its section in the one-page report
    dhi = pages[1].body
    forest = re.search(r'<figure class="figure forest[^"]*" id="fig-forest-dhi__4_weeks">.*?</figure>', single, re.S)
    assert forest.group(0) in dhi
    assert '<a href="../report.html">Summary and contents</a>' in dhi
    assert "<style>" in dhi and "<script" not in dhi  # self-contained, no scripts
    # the appendix: the studies' tables and the traffic-light plot, then every study
    assert 'id="fig-rob-traffic"' in pages[4].body and 'id="appendix-studies"' in pages[4].body
    appendix = pages[5].body
    assert appendix.count('class="appendix-study"') == single.count('class="appendix-study"') == 5
    # the figures as files: the same files whichever the layout
    assert {f.file for f in report_figures(paged)} == {f.file for f in report_figures(single)}


def test_every_link_between_the_pages_resolves(paged, tmp_path):
    pages = split_pages(paged)
    for page in pages:
        path = tmp_path / page.file
        path.parent.mkdir(exist_ok=True)
        path.write_text(page.body, encoding="utf-8")
    crossed = 0
    for page in pages:
        ids = set(re.findall(r'\bid="([^"]+)"', page.body))
        for anchor in re.findall(r'href="#([^"]+)"', page.body):
            assert anchor in ids, (page.file, anchor)
        for target, anchor in re.findall(r'href="([^"#:]+\.html)#([^"]+)"', page.body):
            if target.startswith("../") and not target.startswith("../report.html"):
                continue  # the preceding version's report
            other = (tmp_path / page.file).parent / target
            assert other.is_file(), (page.file, target)
            assert f'id="{anchor}"' in other.read_text(encoding="utf-8"), (page.file, target, anchor)
            crossed += 1
    assert crossed > 15


def test_the_appendix_is_cut_into_pages_of_a_set_number_of_studies(paged, monkeypatch):
    monkeypatch.setattr(pages_mod, "APPENDIX_PAGE_STUDIES", 2)
    pages = split_pages(paged)
    appendix = [p for p in pages if p.file.startswith("pages/appendix-")]
    assert [p.file for p in appendix] == ["pages/appendix-1.html", "pages/appendix-2.html", "pages/appendix-3.html"]
    assert [p.body.count('class="appendix-study"') for p in appendix] == [2, 2, 1]
    assert appendix[1].title == "Appendix: study by study (3–4)"
    assert '<a href="appendix-1.html">&larr; Appendix: study by study (1–2)</a>' in appendix[1].body


def test_the_appendix_is_a_document_of_its_own_in_print(paged):
    docs = dict(split_documents(paged))
    assert list(docs) == ["report", "appendix"]
    report, appendix = docs["report"], docs["appendix"]
    assert 'class="appendix-study"' not in report and 'id="fig-rob-traffic"' not in report
    assert appendix.count('class="appendix-study"') == 5 and 'id="fig-rob-traffic"' in appendix
    for doc in docs.values():  # each a whole document with the report's head and running texts
        assert doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>")
        assert doc.count("<body") == 1 and 'class="running-title"' in doc


def test_the_report_job_writes_the_pages_and_both_pdfs(document, tmp_path, monkeypatch):
    from pypdf import PdfReader

    from livingmeta.report.job import run_report

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795240800")
    out = tmp_path / "report"
    (out / "pages").mkdir(parents=True)
    (out / "pages" / "analysis-gone.html").write_text("an earlier report's page")
    outputs = {"results": out / "results.json", "html": out / "report.html", "figures": out / "figures/index.csv",
               "data": out / "data/index.csv", "pages": out / "pages/index.csv", "pdf": out / "report.pdf",
               "appendix_pdf": out / "report-appendix.pdf"}
    inputs = dict(**fixture_paths(), config=CONFIG, reports_dir=str(tmp_path / "reports"))
    done = run_report(inputs, {k: str(v) for k, v in outputs.items()}, cache=str(out / "cache"), threads=2)
    listed = (out / "pages" / "index.csv").read_text(encoding="utf-8").splitlines()
    assert listed[0] == "file,title" and len(listed) == 1 + 5
    assert sorted(os.listdir(out / "pages")) == sorted([line.split(",")[0] for line in listed[1:]] + ["index.csv"])
    main, appendix = PdfReader(str(out / "report.pdf")), PdfReader(str(out / "report-appendix.pdf"))
    assert done["pdf"]["pages"] == len(main.pages) and done["pdf"]["appendix"]["pages"] == len(appendix.pages)
    assert "Appendix A. Included studies" in appendix.pages[1].extract_text()
    assert "Page 1 of 8" in appendix.pages[0].extract_text()
    assert "Summary of results" in " ".join(page.extract_text() for page in main.pages[:4])
    # links from the report into the appendix open report-appendix.pdf at the anchor (named destinations)
    remote = [annot.get_object()["/A"] for page in main.pages for annot in page.get("/Annots") or []
              if annot.get_object().get("/A", {}).get("/S") == "/GoToR"]
    assert remote and {a["/F"] for a in remote} == {"report-appendix.pdf"}
    assert {a["/D"] for a in remote} <= set(appendix.named_destinations) and "appendix" in {a["/D"] for a in remote}
    if shutil.which("pdftotext"):  # ... and its entries in the contents show the appendix's own page numbers
        text = subprocess.run(["pdftotext", "-layout", "-l", "3", str(out / "report.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        entries = re.findall(r"^\s+([ABC])\. [^\n]*?\.{3,}\s+(\d+)\s*$", text, flags=re.M)
        assert [letter for letter, _ in entries] == ["A", "B", "C"]
        for letter, page in entries:
            assert f"Appendix {letter}." in appendix.pages[int(page) - 1].extract_text()
    # the same layout again: nothing rendered, the same bytes; one page again: the pages and the appendix go
    first = (out / "report.pdf").read_bytes(), (out / "report-appendix.pdf").read_bytes()
    again = run_report(inputs, {k: str(v) for k, v in outputs.items()}, cache=str(out / "cache"), threads=2)
    assert again["pdf"]["rendered"] == 0 and again["pdf"]["appendix"]["rendered"] == 0
    assert ((out / "report.pdf").read_bytes(), (out / "report-appendix.pdf").read_bytes()) == first
    single = {k: str(v) for k, v in outputs.items() if k not in ("pages", "appendix_pdf")}
    run_report(inputs, single, cache=str(out / "cache"), threads=2)
    assert not (out / "report-appendix.pdf").exists() and not list((out / "pages").glob("*"))


def test_study_blocks_are_cut_by_content_so_a_new_study_changes_one_block():
    from livingmeta.report.layout import BLOCK_MAX, study_blocks

    ids = [f"study{i:05d}" for i in range(1000)]
    blocks = study_blocks(ids)
    assert blocks[0]["start"] == 0 and blocks[-1]["end"] == 1000
    assert all(a["end"] == b["start"] for a, b in zip(blocks, blocks[1:]))
    assert all(0 < b["end"] - b["start"] <= BLOCK_MAX for b in blocks) and 25 < len(blocks) < 80

    def contents(ids):
        return [tuple(ids[b["start"]:b["end"]]) for b in study_blocks(ids)]

    before = contents(ids)
    after = contents(sorted(ids + ["study00500b"]))
    assert len(set(after) - set(before)) == 1  # one block differs: the new study's (cut within BLOCK_MAX)
    removed = contents(ids[:10] + ids[11:])
    assert len(set(removed) - set(before)) == 1


def test_the_appendix_tables_and_traffic_light_are_pdf_parts_by_block(document, monkeypatch):
    from livingmeta.report import layout
    from livingmeta.report.pdf import split_report

    monkeypatch.setattr(layout.study_blocks, "__defaults__", (1, 34))  # every study ends a block: 5 blocks
    html = render_html(document, pages=True)
    parts = [p.name for p in split_report(dict(split_documents(html))["appendix"]).parts]
    assert sum(name.startswith("appendix-studies-") for name in parts) == 4  # the first block opens the chapter
    assert sum(name.startswith("appendix-rob-") for name in parts) == 4
    page = next(p for p in split_pages(html) if p.file == "pages/studies.html").body
    assert page.count('class="studies-block"') == 5 and page.count("Table ") >= 5
    # the figure file stacks every block of the traffic-light plot
    traffic = next(f for f in report_figures(html) if f.file == "rob_traffic_light.svg")
    assert traffic.svg.count("<svg") == 1 + 5


def test_a_table_more_or_less_in_the_main_report_leaves_the_appendix_parts_as_they_were(document):
    """The appendix numbers its tables and figure in its own series (Table A.1, Figure B.1): a table that
    the main report gains or loses (here: the summary of findings) re-renders none of the appendix's parts."""
    import copy

    from livingmeta.report.pdf import split_report

    def appendix_parts(doc):
        html = render_html(doc, pages=True)
        return {p.name: p.body for p in split_report(dict(split_documents(html))["appendix"]).parts}, html

    before, html = appendix_parts(document)
    fewer = copy.deepcopy(document)
    for a in fewer["analyses"]:
        a["certainty"] = None
    after, html_fewer = appendix_parts(fewer)
    main = lambda h: dict(split_documents(h))["report"]  # noqa: E731
    assert main(html).count("<caption>Table ") > main(html_fewer).count("<caption>Table ")  # the premise
    studies = {n: b for n, b in before.items() if n.startswith(("appendix-studies", "appendix-rob"))}
    assert studies and all(after[n] == b for n, b in studies.items())
    assert "Table A.1. Characteristics of included studies" in html and "Figure B.1." in html


def test_a_long_analysis_prints_its_subgroups_totals_and_shows_every_row_on_screen(document, monkeypatch):
    from livingmeta.report import render
    from livingmeta.report.pdf import part_html, split_report

    monkeypatch.setattr(render, "PRINT_MAX_ROWS", 3)  # DHI at 4 weeks has 4 studies: "long"
    html = render_html(document, pages=True)
    page = next(p for p in split_pages(html) if p.file == "pages/analysis-dhi__4_weeks.html").body
    screen = re.search(r"<!--lm-screen-->(.*?)<!--/lm-screen-->", page, re.S).group(1)
    printed = re.search(r"<!--lm-print-->(.*?)<!--/lm-print-->", page, re.S).group(1)
    studies = [s["label"] for s in next(a for a in document["analyses"] if a["analysis"] == "dhi__4_weeks")["studies"]]
    assert all(label in screen for label in studies) and not any(label in printed for label in studies)
    assert "Subtotal (k = " in printed and ".lm-print { display: none; }" in page
    split = split_report(dict(split_documents(html))["report"])
    part = part_html(split, next(p for p in split.parts if 'id="analysis-dhi__4_weeks"' in p.body))
    assert "<!--lm-print-->" in part and "<!--lm-screen-->" not in part  # the PDF prints the totals
    assert not any(label in part.split('id="fig-subgroups-')[1].split("</figure>")[0] for label in studies)
    # the figure file is the whole plot; an analysis of 3 studies or fewer prints every row
    subgroups = next(f for f in report_figures(html) if f.file == "subgroups_dhi__4_weeks_hydrogel_type.svg")
    assert all(label in subgroups.svg for label in studies) and "Subtotal (k = " in subgroups.svg
    assert "<!--lm-print-->" not in next(p for p in split_pages(html)
                                         if p.file == "pages/analysis-mmp13__12_weeks.html").body


def test_a_long_leave_one_out_table_prints_the_most_influential_omissions(document, monkeypatch):
    from livingmeta.report import render
    from livingmeta.report.pdf import part_html, split_report

    monkeypatch.setattr(render, "PRINT_MAX_ROWS", 3)  # DHI at 4 weeks: 4 omissions, "long"
    monkeypatch.setattr(render, "LOO_PRINT_ROWS", 2)
    a = next(a for a in document["analyses"] if a["analysis"] == "dhi__4_weeks")
    html = render_html(document, pages=True)
    page = next(p for p in split_pages(html) if p.file == "pages/analysis-dhi__4_weeks.html").body
    loo = page.split("Leave-one-out sensitivity analysis")[1].split("</h4>", 1)[1].split("<h4>")[0]
    screen = re.search(r"<!--lm-screen-->(.*?)<!--/lm-screen-->", loo, re.S).group(1)
    printed = re.search(r"<!--lm-print-->(.*?)<!--/lm-print-->", loo, re.S).group(1)
    assert all(f">{row['omitted_label']}<" in screen for row in a["leave_one_out"])  # on screen: every omission
    moved = sorted(a["leave_one_out"], key=lambda r: -abs(r["estimate"] - a["estimate"]))
    shown = re.findall(r'<tr><td class="text">([^<]+)</td>', printed)
    flips = [r["omitted_label"] for r in moved if (r["ci_lb"] > 0 or r["ci_ub"] < 0) != (a["ci_lb"] > 0 or a["ci_ub"] < 0)]
    expected = [r["omitted_label"] for r in moved[:2]] + [f for f in flips if f not in
                                                          [r["omitted_label"] for r in moved[:2]]][:2]
    assert shown == [label for label in [r["omitted_label"] for r in moved] if label in expected]
    assert f"of {len(a['leave_one_out'])} omissions" in printed and "results.json" in printed
    split = split_report(dict(split_documents(html))["report"])
    part = part_html(split, next(p for p in split.parts if 'id="analysis-dhi__4_weeks"' in p.body))
    assert part.count('<table class="loo numeric">') == 1 and all(f">{label}<" in part for label in shown)
    # an analysis of 3 omissions or fewer prints its whole table
    assert "<!--lm-print-->" not in next(p for p in split_pages(html)
                                         if p.file == "pages/analysis-mmp13__12_weeks.html").body
