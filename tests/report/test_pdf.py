"""The incremental PDF: the report cut into sections, SVG text as HTML text, and one build of the fixture
report (module scope, a few seconds) checked for page numbers, contents, links, bookmarks and reuse."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from livingmeta.report import pdf
from livingmeta.report.render import render_html


@pytest.fixture(scope="module")
def report_html():
    from tests.report.conftest import CONFIG, WHEN, fixture_paths
    from livingmeta.report.results_json import load_and_build

    import json

    from livingmeta.jsonio import dumps

    results = load_and_build(**fixture_paths(), config=CONFIG, reports_dir="/nonexistent", when=WHEN)
    return render_html(json.loads(dumps(results)))


@pytest.fixture(scope="module")
def built(report_html, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pdf")
    stats = pdf.build_pdf(report_html, folder / "report.pdf", cache_dir=folder / "cache", workers=2)
    return folder, stats


def test_split_into_sections(report_html):
    split = pdf.split_report(report_html)
    names = [p.name for p in split.parts]
    assert names == ["front", "what-changed", "summary", "methods", "search", "studies", "rob", "results",
                     "analysis-histological_grade__end_of_study", "analysis-mmp13__12_weeks", "appendix",
                     "appendix-liu2023a", "appendix-luo2021", "appendix-xing2021", "appendix-zhan2025", "prisma-lsr"]
    parts = {p.name: p for p in split.parts}
    assert "analysis-dhi__4_weeks" in parts["results"].ids and "summary" in parts["summary"].ids
    assert "contents" in split.parts[0].body.lower() and "<h2>2. Methods" not in split.parts[0].body
    for part in split.parts:  # every part is balanced HTML
        assert part.body.count("<section") == part.body.count("</section>")
    assert 'class="running-title"' in split.running
    # a section's document does not name the version or the build time (its cache key stays put)
    html = pdf.part_html(split, split.parts[2])
    head = html.split("<body")[0]
    assert "2026-11-21" not in html and "<title>" not in head and "dcterms.created" not in head


def test_contents_entries_end_with_a_slot_for_their_page_number(report_html):
    split = pdf.split_report(report_html)
    front = pdf.part_html(split, split.parts[0])
    entry = re.search(r'<a href="[^"]*analysis-dhi__4_weeks">[^<]*</a>(<span[^>]*></span>)', front)
    assert entry and entry.group(1) == f'<span class="lm-toc-slot" id="{pdf.TOC_SLOT}analysis-dhi__4_weeks"></span>'
    assert f'href="{pdf.CROSS_LINK}summary"' in front
    # a link inside another part that points at a third part: rewritten, and no slot outside the contents
    summary = pdf.part_html(split, next(p for p in split.parts if p.name == "summary"))
    assert f'href="{pdf.CROSS_LINK}analysis-' in summary and "lm-toc-slot\"" not in summary.split("</head>")[1]


def test_page_numbers_are_drawn_where_weasyprint_puts_them(built, report_html, tmp_path):
    """The stamped numbers (Helvetica) sit exactly where WeasyPrint lays out its own: "Page X of Y" in the
    bottom margin box and the contents' numbers (target-counter) right-aligned on their entry's line."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    folder, _ = built
    report = folder / "report.pdf"
    direct = tmp_path / "direct.pdf"  # the same HTML in one WeasyPrint pass: its own page numbers
    pdf.html_to_pdf(report_html, direct)

    def words(path, page):
        out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
                             capture_output=True, text=True, check=True).stdout
        return [(w, float(x1), float(y1), float(x2)) for x1, y1, x2, w in
                re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<', out)]

    def same_place(ours, theirs, size):
        # pdftotext puts a word's top at baseline - ascent: 0.718 em for Helvetica, 0.905 for Liberation Sans
        # right-aligned at the same edge; the left edge may differ by a kerning pair ("11")
        assert ours[3] == pytest.approx(theirs[3], abs=0.05) and ours[1] == pytest.approx(theirs[1], abs=1.0)
        assert ours[2] + 0.718 * size == pytest.approx(theirs[2] + 0.905 * size, abs=0.05)

    for page in (1, 2):
        ours, theirs = words(report, page), words(direct, page)
        assert [w[0] for w in ours if w[0] == "Page"] == ["Page"]
        same_place(next(w for w in ours if w[0] == "Page"), next(w for w in theirs if w[0] == "Page"), 7.5)
    # the contents: every page number on page 1, at the same place and with the same value
    ours = [w for w in words(report, 1) if w[0].isdigit() and w[3] > 540 and w[2] < 800]  # not "of 18"
    theirs = [w for w in words(direct, 1) if w[0].isdigit() and w[3] > 540 and w[2] < 800]
    assert len(ours) >= 8 and [w[0] for w in ours] == [w[0] for w in theirs]
    for a, b in zip(ours, theirs):
        same_place(a, b, 9.5)


def test_svg_text_as_html():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" class="figure-svg" width="680" height="40" '
           'font-family="Liberation Sans, Arial" font-size="11" fill="#000000">'
           '<rect x="0" y="0" width="10" height="10" fill="#0072B2"/>'
           '<text x="20" y="14">Study &amp; data</text>'
           '<text x="300" y="14" text-anchor="middle" font-weight="bold" fill="#666666">mid</text>'
           '<text x="600" y="30" font-size="10" text-anchor="end"><title>tip</title>2.46 [0.96, 3.96]</text>'
           '<text transform="translate(8 20) rotate(-90)" x="0" y="0" text-anchor="middle">Included</text></svg>')
    out = pdf.svg_text_as_html(f"<figure>{svg}</figure>")
    assert "<text" not in out and "<rect" in out and "tip" not in out
    assert out.startswith('<figure><div class="lm-svg" style="width:680px;height:40px;font-size:11px;')
    spans = re.findall(r'<span class="([^"]+)" style="([^"]+)">([^<]*)</span>', out)
    assert spans[0] == ("lm-t lm-s", f"left:20px;top:{14 - pdf.BASELINE * 11:.3f}px".rstrip("0"), "Study &amp; data")
    assert spans[1][0] == "lm-t lm-m lm-b" and "left:-200px" in spans[1][1] and "color:#666666" in spans[1][1]
    assert spans[2][0] == "lm-t lm-e" and "font-size:10px" in spans[2][1] and spans[2][2] == "2.46 [0.96, 3.96]"
    assert 'class="lm-r" style="left:8px;top:20px;transform:rotate(-90deg)"' in out
    wide = svg.replace('width="680"', 'width="900"')
    assert pdf.svg_text_as_html(wide) == wide  # scaled down on the page: keeps its SVG text


def test_pdf_pages_contents_links_bookmarks(built):
    from pypdf import PdfReader

    folder, stats = built
    assert stats["parts"] == 16 and stats["rendered"] == 17  # sixteen sections and the page margins
    reader = PdfReader(folder / "report.pdf")
    n = len(reader.pages)
    assert n == stats["pages"]
    dests = reader.named_destinations
    start = {name: reader.get_destination_page_number(d) + 1 for name, d in dests.items()}
    assert start["analysis-histological_grade__end_of_study"] > start["analysis-dhi__4_weeks"] > start["summary"]
    # bookmarks keep WeasyPrint's heading levels: title > sections > analyses > subsections
    top = reader.outline
    assert len(top) == 2 and top[0].title.startswith("Exosome-loaded hydrogels")
    sections = [item.title for item in top[1] if not isinstance(item, list)]
    assert "6. Results" in sections and "Appendix. Study by study: extracted data and risk of bias" in sections
    results_children = top[1][sections.index("6. Results") + 1]
    assert [i.title.split(" ")[0] for i in results_children if not isinstance(i, list)] == ["6.1", "6.2", "6.3"]
    # every link resolved to an explicit destination; none left pointing at the placeholder
    links = [a.get_object() for page in reader.pages for a in page.get("/Annots") or []]
    assert links and all(pdf.CROSS_LINK not in str(a.get("/A", "")) for a in links)
    internal = [a for a in links if "/Dest" in a]
    assert internal and all(isinstance(a["/Dest"], list) for a in internal)
    assert reader.metadata["/Title"].endswith("(version 2026-11-21)")
    assert reader.metadata["/CreationDate"].startswith("D:20261121060000")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    text = subprocess.run(["pdftotext", "-layout", str(folder / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")
    for i in (1, 2, n):
        assert f"Page {i} of {n}" in pages[i - 1]
        assert "Illustrative data — do not cite" in pages[i - 1]
    assert "Version 2026-11-21" in pages[1] and "Version 2026-11-21" not in pages[0]  # no header on page 1
    toc = re.search(r"6\.1 Disc height index \(DHI\), 4 weeks\s*\.+\s*(\d+)", text)
    assert toc and int(toc.group(1)) == start["analysis-dhi__4_weeks"]
    assert "Total (k = 4)" in text  # figure text stays text


def test_only_changed_sections_are_rendered_again(built, report_html):
    folder, _ = built
    again = pdf.build_pdf(report_html, folder / "again.pdf", cache_dir=folder / "cache", workers=2)
    assert again["rendered"] == 0
    assert (folder / "again.pdf").read_bytes() == (folder / "report.pdf").read_bytes()
    # one analysis changes (same page count): only its section is rendered again
    changed = report_html.replace("<h3>6.3 MMP13 expression (IHC)", "<h3>6.3 MMP-13 expression (IHC)", 1)
    assert changed != report_html
    stats = pdf.build_pdf(changed, folder / "changed.pdf", cache_dir=folder / "cache", workers=2)
    assert stats["rendered_parts"] == ["analysis-mmp13__12_weeks"]
    cached = sorted(p.stem for p in (folder / "cache").glob("*.pdf"))
    assert len(cached) == 17  # sixteen sections and the margins; what the last build did not use is gone
    # an incremental build is byte for byte the build from scratch of the same HTML
    pdf.build_pdf(changed, folder / "scratch.pdf", cache_dir=folder / "scratch_cache", workers=2)
    assert (folder / "scratch.pdf").read_bytes() == (folder / "changed.pdf").read_bytes()


def test_a_part_does_not_depend_on_when_it_is_rendered(tmp_path, monkeypatch):
    """A cached part and the same part rendered later are the same bytes. Without HarfBuzz-Subset,
    WeasyPrint subsets the fonts with fontTools, which dated each subset (head.modified) with the time of
    rendering, or with SOURCE_DATE_EPOCH (the version's date, a new one each version): two renderings a
    second apart, or of two versions, differed in their fonts."""
    import io

    from fontTools.misc.timeTools import timestampSinceEpoch
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    html = ('<!DOCTYPE html><html><head><style>body { font-family: "Liberation Sans", Arial; }</style></head>'
            '<body><p>Disc height index, <b>4 weeks</b> <i>(k = 4)</i></p></body></html>')
    renders = []
    for epoch in ("1795240800", "1795327200", None):  # the 2026-11-21 and 2026-11-22 versions, the clock
        if epoch is None:
            monkeypatch.delenv("SOURCE_DATE_EPOCH")
        else:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        pdf.render_part(html, str(tmp_path / f"{epoch}.pdf"), str(tmp_path / f"{epoch}.json"))
        assert os.environ.get("SOURCE_DATE_EPOCH") == epoch  # restored (or unset again) for the rest of the job
        renders.append((tmp_path / f"{epoch}.pdf").read_bytes())
    reader = PdfReader(io.BytesIO(renders[0]))
    files = [page["/Resources"]["/Font"][name]["/DescendantFonts"][0]["/FontDescriptor"]["/FontFile2"]
             for page in reader.pages for name in page["/Resources"]["/Font"]]
    fonts = [TTFont(io.BytesIO(file.get_object().get_data())) for file in files]
    assert len(fonts) >= 2  # regular, bold, italic (subsets)
    if "subsetter fonttools" in pdf.renderer_identity():  # HarfBuzz-Subset keeps each font's own date
        assert {f["head"].modified for f in fonts} == {timestampSinceEpoch(int(pdf.FONT_DATE_EPOCH))}
    assert renders[1] == renders[0] and renders[2] == renders[0]


def test_parts_render_the_same_with_their_stylesheets_parsed_once(report_html, monkeypatch, tmp_path):
    """render_part takes the head's <style> elements out and applies them parsed (once per process): the
    PDF of every kind of part is byte for byte the PDF of the document with its styles inline."""
    split = pdf.split_report(report_html)
    kinds = {}
    for part in split.parts:
        kinds.setdefault(re.sub(r"-.*", "", part.name), part)
    documents = {name: pdf.svg_text_as_html(pdf.part_html(split, part)) for name, part in kinds.items()}
    documents["margins"] = pdf.margins_html(split)
    assert {"front", "summary", "analysis", "appendix", "margins"} <= set(documents)
    stripped, sheets = pdf.head_stylesheets(documents["analysis"])
    assert len(sheets) == 3 and "<style>" not in stripped.split("</head>")[0] and "<style>" in documents["analysis"]
    assert pdf.head_stylesheets(documents["summary"])[1][0] is sheets[0]  # parsed once
    for name, html in documents.items():
        pdf.render_part(html, str(tmp_path / f"{name}.pdf"), str(tmp_path / f"{name}.json"))
    monkeypatch.setattr(pdf, "head_stylesheets", lambda html: (html, []))
    for name, html in documents.items():
        pdf.render_part(html, str(tmp_path / f"{name}-inline.pdf"), str(tmp_path / f"{name}-inline.json"))
        assert (tmp_path / f"{name}.pdf").read_bytes() == (tmp_path / f"{name}-inline.pdf").read_bytes(), name
        assert (tmp_path / f"{name}.json").read_text() == (tmp_path / f"{name}-inline.json").read_text(), name


def test_a_section_that_is_no_longer_the_last_keeps_its_html():
    """The appendix's last study, once another study follows it, differs only in the whitespace before
    the next part (the template's indentation): its part, and so its cache key, stays the same."""
    study = '<section class="appendix-study" id="appendix-{0}"><h3>{0}</h3></section>'
    head = "<!DOCTYPE html><html><head><style>p {{}}</style></head><body>"
    one = (head + '<!--pdf-part appendix--><section id="appendix"><h2>Appendix</h2>\n  ' + study.format("a")
           + '\n  <!--pdf-part appendix-b-->\n  ' + study.format("b") + "\n  </section>\n\n<!--pdf-part end--><p>end</p></body></html>")
    two = one.replace("\n  </section>\n\n<!--pdf-part end-->", "\n\n\n  <!--pdf-part appendix-c-->\n  " + study.format("c")
                      + "\n  </section>\n\n<!--pdf-part end-->")
    first, second = pdf.split_report(one), pdf.split_report(two)
    before = {p.name: pdf.part_html(first, p) for p in first.parts}
    after = {p.name: pdf.part_html(second, p) for p in second.parts}
    assert set(after) - set(before) == {"appendix-c"}
    assert all(after[name] == before[name] for name in before)


def test_a_head_with_other_style_elements_is_rendered_as_is():
    html = '<html><head><style media="print">p { color: red }</style><style>p { margin: 0 }</style></head><body></body></html>'
    assert pdf.head_stylesheets(html) == (html, [])
    assert pdf.head_stylesheets("<p>no head</p>") == ("<p>no head</p>", [])


def test_a_new_version_renders_only_the_front_matter_and_the_margins_again(built, report_html):
    folder, first = built
    pdf.build_pdf(report_html, folder / "again.pdf", cache_dir=folder / "cache", workers=2)  # the first version
    newer = report_html.replace("2026-11-21", "2026-11-22")
    stats = pdf.build_pdf(newer, folder / "newer.pdf", cache_dir=folder / "cache", workers=2)
    assert stats["pages"] == first["pages"]
    assert stats["rendered_parts"] == ["front", "page margins"]
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    text = subprocess.run(["pdftotext", "-layout", str(folder / "newer.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")
    assert "Version 2026-11-22" in pages[1] and f"Page 2 of {stats['pages']}" in pages[1]

LOADED_LIBRARIES = """
import ctypes.util, sys
find_library = ctypes.util.find_library
if sys.argv[1] == "fast":
    from livingmeta.report.pdf import import_weasyprint
    import_weasyprint()
else:
    import weasyprint
from weasyprint.text import ffi
assert ctypes.util.find_library is find_library
libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if ".so" in line.split()[-1]})
print([ffi.harfbuzz_subset is None, ffi.harfbuzz_vector is None], [lib for lib in libs if any(
    name in lib for name in ("pango", "harfbuzz", "fontconfig", "gobject", "glib"))])
"""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc (Linux)")
def test_the_quick_weasyprint_import_loads_the_same_libraries():
    runs = {how: subprocess.run([sys.executable, "-c", LOADED_LIBRARIES, how], capture_output=True, text=True,
                                check=True).stdout for how in ("fast", "plain")}
    assert runs["fast"] == runs["plain"]
    assert "libpango-1.0.so" in runs["fast"] and "libharfbuzz.so" in runs["fast"]
