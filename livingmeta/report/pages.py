"""The report in pages (config ``report.layout``, livingmeta/report/layout.py): the one HTML document
rendered for the pages layout, cut into a summary page and pages of their own.

* ``report.html``, the summary page: title, contents, what changed, summary of results and of findings,
  methods, search and PRISMA flow, the risk-of-bias summary, one entry per analysis (its heading, a link
  to its page and its lead sentence: k, pooled estimate, CI, I²), the synthesis without meta-analysis and
  the PRISMA-LSR checklist;
* ``pages/analysis-<analysis>.html``: one analysis each (forest plot, GRADE, subgroups, sensitivity
  analyses, small-study effects);
* ``pages/studies.html``: Appendix A (the included studies' tables and references) and B (the
  traffic-light plot);
* ``pages/appendix-<n>.html``: the study-by-study appendix, :data:`~livingmeta.report.layout.APPENDIX_PAGE_STUDIES`
  studies a page.

Every page is self-contained (the report's own ``<head>``: inline CSS, no scripts) and has a bar of links
(summary page, previous and next page). Links to an anchor on another page are rewritten to that page
(``pages/analysis-x.html#fig-forest-x`` from the summary page, ``../report.html#methods`` back). The cut is
made on the rendered HTML (its ``<section>`` elements), so every page shows exactly what the single page
would; figures/ and data/ are made from the whole document as before. ``pages/index.csv`` (``file,
title``) lists the pages; publish copies it and them (livingmeta/living/publish.py).
"""

from __future__ import annotations

import html as htmllib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from livingmeta.report import indexed
from livingmeta.report.layout import APPENDIX_PAGE_STUDIES

FOLDER = "pages"  # in results/report/ and in every published version
INDEX_COLUMNS = ("file", "title")
SUMMARY = "report.html"

_SECTION_TAG = re.compile(r"<section\b|</section>")
_ID = re.compile(r'\sid="([^"]+)"')  # (\s, not \b: five times faster on 20 MB)
_HREF = re.compile(r'href="#([^"]+)"')
_TAG = re.compile(r"<[^>]+>")
PAGES_CSS = """<style>
.lm-pagebar { display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; font-size: 9pt; padding: 0.4em 0;
              border-bottom: 1px solid #ddd; margin-bottom: 1em; }
.lm-pagebar:last-child { border-bottom: 0; border-top: 1px solid #ddd; margin: 2em 0 0; }
.analysis-entry { margin: 0.6em 0 1em; }
.analysis-entry h3 { margin-bottom: 0.2em; }
.analysis-entry .lead { margin-top: 0; }
.lm-print { display: none; }  /* the printed summary of a long subgroup plot (the PDF's; render.PRINT_MAX_ROWS) */
</style>
"""


@dataclass
class Page:
    file: str                 # path relative to report.html: "report.html", "pages/analysis-x.html"
    title: str
    body: str                 # the page's part of the report; in split_pages' result, the whole page
    ids: set[str] = field(default_factory=set)


def _section_end(text: str, start: int) -> int:
    """The index just after the ``</section>`` that closes the ``<section`` at ``start``."""
    depth = 0
    for m in _SECTION_TAG.finditer(text, start):
        depth += 1 if m.group(0) == "<section" else -1
        if depth == 0:
            return m.end()
    raise ValueError("the report HTML has an unclosed <section>")


def _sections(text: str, *, id_prefix: str = "", css_class: str | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, id)`` of every outermost-to-innermost ``<section>`` whose id starts with ``id_prefix``
    (and whose class list holds ``css_class``)."""
    found = []
    for m in re.finditer(r"<section\b([^>]*)>", text):
        ident = re.search(r'\bid="([^"]+)"', m.group(1))
        classes = re.search(r'\bclass="([^"]+)"', m.group(1))
        if ident is None or not ident.group(1).startswith(id_prefix):
            continue
        if css_class is not None and css_class not in (classes.group(1).split() if classes else []):
            continue
        found.append((m.start(), _section_end(text, m.start()), ident.group(1)))
    return found


def _text(markup: str) -> str:
    return " ".join(htmllib.unescape(_TAG.sub("", markup)).split())


def _entry(section: str, analysis_id: str, target: str) -> str:
    """The summary page's entry for one analysis: its heading as a link to its page, and its lead."""
    heading = re.search(r"<h3>(.*?)</h3>", section, flags=re.S)
    lead = re.search(r'<p class="lead">.*?</p>', section, flags=re.S)
    notice = re.search(r'<p class="analysis-notice">.*?</p>', section, flags=re.S)
    return (f'<div class="analysis-entry" id="entry-{analysis_id}">'
            f'<h3><a href="{target}">{heading.group(1) if heading else analysis_id}</a></h3>'
            f'{notice.group(0) if notice else ""}{lead.group(0) if lead else ""}</div>\n')


def _relative(source: str, target: str) -> str:
    if source == target:
        return ""
    return os.path.relpath(target, os.path.dirname(source) or ".").replace(os.sep, "/")


def split_pages(document: str) -> list[Page]:
    """The summary page and the pages of ``document`` (the report rendered for the pages layout), in
    reading order, links between them rewritten."""
    match = re.search(r"<body\b[^>]*>", document)
    end = document.rfind("</body>")
    if not match or end < 0:
        raise ValueError("the report HTML has no <body>")
    head, body_open, body = document[:match.start()], match.group(0), document[match.end():end]
    cut = body.find("<!--pdf-document appendix-->")
    main, appendix = (body, "") if cut < 0 else (body[:cut], body[cut:])

    # the analyses: their own pages, an entry each on the summary page
    pages: list[Page] = []
    summary_parts, pos = [], 0
    for start, stop, aid in _sections(main, id_prefix="analysis-", css_class="analysis"):
        name = aid[len("analysis-"):] if aid.startswith("analysis-") else aid
        file = f"{FOLDER}/analysis-{name}.html"
        section = main[start:stop]
        heading = re.search(r"<h3>(.*?)</h3>", section, flags=re.S)
        title = _text(re.sub(r'<span class="badge[^"]*"[^>]*>.*?</span>', "", heading.group(1))) if heading else aid
        pages.append(Page(file, title, section))
        summary_parts += [main[pos:start], _entry(section, name, f"{file}#{aid}")]
        pos = stop
    summary_parts.append(main[pos:])
    summary = Page(SUMMARY, "Summary", "".join(summary_parts))

    # the appendix: A and B on one page, the studies a hundred a page
    if appendix:
        chapters = [c for c in _sections(appendix, css_class="appendix-chapter")]
        if chapters:
            pages.append(Page(f"{FOLDER}/studies.html", "Appendix: included studies and risk of bias",
                              "".join(appendix[s:e] for s, e, _ in chapters)))
        whole = [c for c in _sections(appendix, css_class="appendix") if c[2] == "appendix"]
        if whole:
            s0, e0, _ = whole[0]
            block = appendix[s0:e0]
            studies = _sections(block, css_class="appendix-study")
            intro = block[:studies[0][0]] if studies else block[:-len("</section>")]
            for n in range(0, max(len(studies), 1), APPENDIX_PAGE_STUDIES):
                chunk = studies[n:n + APPENDIX_PAGE_STUDIES]
                first, last = n + 1, n + len(chunk)
                body_html = ((intro if n == 0 else '<section class="appendix">')
                             + "".join(block[s:e] for s, e, _ in chunk) + "</section>")
                pages.append(Page(f"{FOLDER}/appendix-{n // APPENDIX_PAGE_STUDIES + 1}.html",
                                  (f"Appendix: study by study ({first}–{last})" if last > first else
                                   f"Appendix: study by study ({first})") if chunk else "Appendix: study by study",
                                  body_html))
    pages.insert(0, summary)
    for page in pages:
        page.ids = set(_ID.findall(page.body))
    where = {}
    for page in pages:
        for anchor in page.ids:
            where.setdefault(anchor, page.file)
    title = re.search(r"<title>(.*?)</title>", head, flags=re.S)
    site = _text(title.group(1)) if title else "Report"
    out = []
    for i, page in enumerate(pages):
        def link(m: re.Match, page=page) -> str:
            target = where.get(m.group(1))
            if target is None or target == page.file:
                return m.group(0)
            return f'href="{_relative(page.file, target)}#{m.group(1)}"'

        text = _HREF.sub(link, page.body)
        if page.file == SUMMARY:
            out.append(Page(page.file, page.title, head.replace("</head>", PAGES_CSS + "</head>", 1) + body_open
                            + text + "\n</body>\n</html>\n", page.ids))
            continue
        bar = _bar(pages, i)
        page_head = re.sub(r"<title>.*?</title>", f"<title>{htmllib.escape(page.title)}: {site}</title>", head,
                           count=1, flags=re.S)
        # a page's own sections are printed as they are in the report; the running texts belong to print
        out.append(Page(page.file, page.title, page_head.replace("</head>", PAGES_CSS + "</head>", 1) + body_open
                        + bar + text + bar + "\n</body>\n</html>\n",
                        page.ids))
    return out


def _bar(pages: list[Page], i: int) -> str:
    page = pages[i]
    links = [f'<a href="{_relative(page.file, SUMMARY)}">Summary and contents</a>']
    if i > 1:
        links.append(f'<a href="{_relative(page.file, pages[i - 1].file)}">&larr; {htmllib.escape(pages[i - 1].title)}</a>')
    if i + 1 < len(pages):
        links.append(f'<a href="{_relative(page.file, pages[i + 1].file)}">{htmllib.escape(pages[i + 1].title)} &rarr;</a>')
    return f'<nav class="lm-pagebar" aria-label="Pages">{" ".join(links)}</nav>\n'


def index_csv(pages: list[Page]) -> str:
    """``file,title``: the pages beside the summary page (file names inside ``pages/``), in reading order."""
    return indexed.csv_text(INDEX_COLUMNS, ((p.file[len(FOLDER) + 1:], p.title) for p in pages
                                            if p.file != SUMMARY))


def write_pages(pages: list[Page], html_path: str | os.PathLike, index_path: str | os.PathLike) -> None:
    """Write the summary page to ``html_path`` and the other pages beside ``index_path`` (``pages/``), then
    the index; HTML files of an earlier report in that folder are removed first."""
    from livingmeta.jsonio import write_text_atomic

    summary = next(p for p in pages if p.file == SUMMARY)
    write_text_atomic(html_path, summary.body)
    indexed.write_listed(index_path, {p.file[len(FOLDER) + 1:]: p.body for p in pages if p.file != SUMMARY},
                         index_csv(pages), stale="*.html")


def listed_files(index_path: str | os.PathLike) -> dict[str, Path]:
    """The index and the pages it lists, by their path in a published version (``pages/index.csv``,
    ``pages/<file>``)."""
    return indexed.listed_files(index_path, FOLDER, "page")
