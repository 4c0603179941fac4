"""HTML report -> PDF with WeasyPrint (imported here only, so the other jobs stay light), incrementally.

The report is self-contained (inline CSS and SVG); the URL fetcher refuses everything except ``data:``
URLs, so rendering never touches the network or the file system beyond the HTML itself. Fonts come from
the system (Liberation Sans / DejaVu, metric-compatible with Arial, which the figures are laid out for).

Incremental build (:func:`build_pdf`). The report template marks where the PDF may be cut with
``<!--pdf-part NAME-->`` comments: the front matter (title, notices, contents), each chapter, one part
per analysis and one per study in the appendix (each starts on a new page anyway). Every part is
rendered as a standalone document with the report's own ``<head>`` (same CSS) and without the
page-margin texts, by worker processes forked from one that imported WeasyPrint (:class:`Renderer`); its
PDF is cached under ``cache_dir`` keyed by a hash of its HTML and of the renderer (:func:`renderer_identity`:
WeasyPrint, pydyf, fontTools, the font subsetter, the fonts), so an update re-renders only the parts whose
HTML changed. What depends on the whole document is added when the parts are merged; merging copies the
parts' objects as bytes, renumbered, without parsing them into objects (livingmeta/report/pdfmerge.py:
0.5 s for 290 pages where pypdf took 4.7 s, and a 1,000-study review has 1,700 pages):

* the running header (title, version) and the "Illustrative data — do not cite" footer: a blank
  document of the same page size and ``@page`` rules, rendered by WeasyPrint with exactly those margin
  texts, is stamped onto the pages as a form XObject (two pages: the first page's style and every other
  page's): each page's content becomes ``[q, its own, Q + stamp]``;
* the page numbers, "Page X of Y" and those of the contents, drawn in the PDF's standard Helvetica
  (Liberation Sans, the report's font, has the same widths) where WeasyPrint would put them: in the
  contents each entry ends with an empty box after its leader, whose position is recorded when the front
  matter is rendered. So nothing rendered depends on page numbers: every part, the front matter
  included, is rendered at once, and the front matter changes only when its own text does;
* links between parts (rewritten to a placeholder URL in the parts, turned back into internal links,
  or into links that open the other PDF, report-appendix.pdf, at the anchor),
  named destinations for every anchor, and the bookmarks (outline) with WeasyPrint's heading levels.

A report laid out in pages (livingmeta/report/layout.py) marks its appendix ``<!--pdf-document appendix-->``:
:func:`split_documents` cuts it off and :func:`build_pdfs` makes both PDFs from one cache, in one batch.

The output is deterministic, and an incremental build is byte for byte the build from scratch of the same
HTML: parts are rendered from the same HTML, the embedded font subsets carry a fixed date, not the time
of rendering (:func:`fixed_font_dates`), metadata (creation date) comes from the HTML's ``dcterms.created``
(``generated_at``, fixed by ``SOURCE_DATE_EPOCH``), and the file identifier is a hash of the parts.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from livingmeta.jsonio import write_atomic

PART_RE = re.compile(r"<!--pdf-part ([A-Za-z0-9_.:-]+)-->")
CROSS_LINK = "https://livingmeta.invalid/part-link#"
CACHE_FORMAT = "livingmeta-pdf-part-3"  # bump when the way parts are made changes (3: keyed before svg_text_as_html)
PX_TO_PT = 0.75
TOC_SLOT_PX = 24  # room for the contents' page numbers (up to 3 digits), stamped when merging

# no page-margin texts in the parts: they are stamped at merge time. The contents' leaders repeat five dots
# (the same dot pitch as one): WeasyPrint lays out and draws every repetition as its own text box, and single
# dots were ~4,500 of them, half the front matter's rendering time.
PART_CSS = """<style>
@page { @top-left { content: none; } @top-right { content: none; }
        @bottom-left { content: none; } @bottom-right { content: none; } }
@page :first { @top-left { content: none; } @top-right { content: none; } }
.toc a::after { content: leader("....."); }
.lm-toc-slot { display: inline-block; width: %spx; height: 0; }
</style>
""" % TOC_SLOT_PX
# SVG text drawn as HTML text (see svg_text_as_html)
SVG_TEXT_CSS = """<style>
.lm-svg { position: relative; break-inside: avoid; page-break-inside: avoid; }
.lm-svg > svg { display: block; }
figure.figure.multi .lm-svg + .lm-svg { margin-top: 1.2em; }
.lm-t { position: absolute; white-space: nowrap; line-height: 1; margin: 0; padding: 0; font-kerning: none;
        width: 1000px; }
.lm-s { text-align: left; } .lm-m { text-align: center; } .lm-e { text-align: right; }
.lm-b { font-weight: bold; } .lm-i { font-style: italic; }
.lm-r { position: absolute; width: 0; height: 0; transform-origin: 0 0; }
</style>
"""
# the stamp document: same @page rules and margin texts as the report, nothing on the pages themselves
STAMP_CSS = """<style>
.lm-stamp-string { display: block; height: 0; margin: 0; padding: 0; border: 0; overflow: hidden;
                   visibility: hidden; }
.lm-stamp-page { break-before: page; height: 0; }
</style>
"""


def import_weasyprint():
    """``import weasyprint``, 0.2 s (half its import time) faster on Linux.

    For each C library WeasyPrint lets cffi try a list of names (libpango-1.0-0, pango-1.0-0, pango-1.0,
    libpango-1.0.so.0, ...). Every name that does not load as written makes cffi call
    ``ctypes.util.find_library``, which runs ldconfig, gcc and ld in subprocesses: 22 lookups (Kozea/
    WeasyPrint#1125). The sonames in each list (libpango-1.0.so.0) load as written, so the lookups are
    skipped; were a library not found that way (another platform), the import is done again with them.
    The libraries loaded are the same either way."""
    import sys

    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    import contextlib
    import ctypes.util

    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # WeasyPrint prints a notice before it gives up
            import weasyprint
        return weasyprint
    except OSError:
        pass
    finally:
        ctypes.util.find_library = find_library
    import weasyprint

    return weasyprint


def offline_fetcher():
    """A WeasyPrint URL fetcher that serves ``data:`` URLs only: http(s), ftp and file URLs are refused
    (WeasyPrint then skips the resource with a warning), so rendering never touches the network."""
    import_weasyprint()
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def html_to_pdf(html: str, pdf_path: str | os.PathLike, *, base_url: str | None = None) -> None:
    """Write ``html`` as one PDF to ``pdf_path`` in a single WeasyPrint pass (atomically)."""
    weasyprint = import_weasyprint()

    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=offline_fetcher(), media_type="print")
    write_atomic(Path(pdf_path), document.write_pdf)


# ---------------------------------------------------------------------------------------------------
# SVG text as HTML text

SVG_RE = re.compile(r"<svg\b[^>]*>.*?</svg>", flags=re.S)
TEXT_RE = re.compile(r"<text\b([^>]*)>(.*?)</text>", flags=re.S)
ATTR_RE = re.compile(r'([A-Za-z_:][-A-Za-z0-9_:.]*)="([^"]*)"')
ROTATE_RE = re.compile(r"translate\(\s*([-\d.]+)[ ,]+([-\d.]+)\s*\)\s*rotate\(\s*([-\d.]+)\s*\)")
BASELINE = 0.8465  # baseline below the top of a line-height: 1 box (Liberation Sans: (1 + 0.905 - 0.212) / 2)
MAX_SVG_WIDTH = 680.0  # the A4 text width in CSS px: wider figures are scaled down, keep their SVG text
ANCHOR_BOX = 1000.0


def _px(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_span(attrs: dict[str, str], inner: str, size0: float, fill0: str) -> str:
    size = float(attrs.get("font-size", size0))
    rotate = ROTATE_RE.search(attrs.get("transform", ""))
    x, y = (float(rotate.group(1)), float(rotate.group(2))) if rotate else (float(attrs.get("x", 0)),
                                                                            float(attrs.get("y", 0)))
    ox, oy = (0.0, 0.0) if rotate else (x, y)
    anchor = attrs.get("text-anchor", "start")
    classes = ["lm-t", {"middle": "lm-m", "end": "lm-e"}.get(anchor, "lm-s")]
    left = ox - (ANCHOR_BOX / 2 if anchor == "middle" else ANCHOR_BOX if anchor == "end" else 0)
    style = [f"left:{_px(left)}px", f"top:{_px(oy - BASELINE * size)}px"]
    if size != size0:
        style.append(f"font-size:{_px(size)}px")
    if attrs.get("font-weight") == "bold":
        classes.append("lm-b")
    if attrs.get("font-style") == "italic":
        classes.append("lm-i")
    fill = attrs.get("fill", fill0)
    if fill and fill != fill0:
        style.append(f"color:{fill}")
    text = re.sub(r"<title>.*?</title>", "", inner, flags=re.S)
    span = f'<span class="{" ".join(classes)}" style="{";".join(style)}">{text}</span>'
    if rotate:
        return (f'<div class="lm-r" style="left:{_px(x)}px;top:{_px(y)}px;'
                f'transform:rotate({_px(float(rotate.group(3)))}deg)">{span}</div>')
    return span


def _convert_svg(match: re.Match) -> str:
    svg = match.group(0)
    root = dict(ATTR_RE.findall(re.match(r"<svg\b[^>]*>", svg).group(0)))
    try:
        width, height = float(root["width"]), float(root["height"])
    except (KeyError, ValueError):
        return svg
    if width > MAX_SVG_WIDTH or "<tspan" in svg:
        return svg
    size0, fill0 = float(root.get("font-size", 16)), root.get("fill", "#000000")
    spans: list[str] = []

    def take(m: re.Match) -> str:
        spans.append(_text_span(dict(ATTR_RE.findall(m.group(1))), m.group(2), size0, fill0))
        return ""

    shapes = TEXT_RE.sub(take, svg)
    if not spans:
        return svg
    family = root.get("font-family")
    font = f"font-family:{family};" if family else ""
    color = f"color:{fill0};" if fill0 else ""
    return (f'<div class="lm-svg" style="width:{_px(width)}px;height:{_px(height)}px;font-size:{_px(size0)}px;'
            f'{font}{color}">'
            f'{shapes}{"".join(spans)}</div>')


def svg_text_as_html(html: str) -> str:
    """Move the ``<text>`` of each inline SVG figure into absolutely positioned HTML spans over the
    figure (same font, size, weight, colour, anchor and baseline; rotation kept).

    WeasyPrint lays out and draws SVG text letter by letter (one Pango layout and, for centred or
    right-aligned text, one PDF form XObject per text element), which made the figures' ~3,400 words
    most of the PDF's cost; as HTML text each is one layout and plain text in the page's content stream.
    The text stays text (searchable, selectable). Used for the PDF only; the HTML report keeps its SVG."""
    return SVG_RE.sub(_convert_svg, html)


# ---------------------------------------------------------------------------------------------------
# splitting the report into parts


@dataclass
class Part:
    name: str
    body: str
    ids: set[str] = field(default_factory=set)


@dataclass
class Split:
    head: str            # <!DOCTYPE ...> up to and including <body ...>
    body_open: str       # the <body ...> tag
    running: str         # the running-title / running-version elements (string-set sources)
    parts: list[Part]


def _balance_sections(fragment: str) -> str:
    """Close ``<section>``s and ``<figure>``s left open at the end of a fragment and drop closing tags
    without an opening one (a part cut inside the results section, or inside a figure drawn in blocks)."""
    for tag in ("section", "figure"):  # (no other tag starts with either name: str.count, not a regex)
        opens = fragment.count(f"<{tag}")
        closes = fragment.count(f"</{tag}>")
        if opens > closes:
            fragment += f"</{tag}>" * (opens - closes)
        for _ in range(closes - opens):
            cut = fragment.rfind(f"</{tag}>")
            fragment = fragment[:cut] + fragment[cut + len(f"</{tag}>"):]
    return fragment


def split_report(html: str) -> Split:
    match = re.search(r"<body\b[^>]*>", html)
    if not match:
        raise ValueError("the report HTML has no <body>")
    head, body_open = html[:match.start()], match.group(0)
    end = html.rfind("</body>")
    body = html[match.end():end if end >= 0 else len(html)]
    running = "".join(re.findall(r'<div class="running-(?:title|version)"[^>]*>.*?</div>', body, flags=re.S))
    pieces = PART_RE.split(body)
    parts = [Part("front", pieces[0])]
    for name, fragment in zip(pieces[1::2], pieces[2::2]):
        parts.append(Part(name, fragment))
    for part in parts:
        # (stripped: a study that is no longer the last of the appendix differs only in the whitespace
        # before the next part, which renders as nothing, but would change its key)
        part.body = _balance_sections(part.body).strip()
        part.ids = set(re.findall(r'\sid="([^"]+)"', part.body))  # \s, not \b: five times faster
    return Split(head, body_open, running, parts)


def _with_css(head: str, css: str) -> str:
    """``css`` added at the end of the document's ``<head>``."""
    cut = head.rfind("</head>")
    return head[:cut] + css + head[cut:] if cut >= 0 else head + css


LINK_RE = re.compile(r'href="#([^"]+)"')


TOC_LINK_RE = re.compile(r'(<a\b[^>]*\bhref="#([^"]+)"[^>]*>.*?</a>)', flags=re.S)
TOC_SLOT = "lm-toc-"  # id prefix of the empty box after each contents entry, where its page number goes


def _relink(body: str, ids: set[str], contents: bool = False) -> str:
    """Point links to anchors of other parts at the placeholder URL (resolved when merging). In the
    contents (``contents``), each entry is followed by an empty box whose position (the baseline of the
    entry's last line, after its leader) is where the target's page number is stamped when merging."""
    def cross(m: re.Match) -> str:
        return m.group(0) if m.group(1) in ids else f'href="{CROSS_LINK}{m.group(1)}"'

    def slot(m: re.Match) -> str:
        return f'{LINK_RE.sub(cross, m.group(1))}<span class="lm-toc-slot" id="{TOC_SLOT}{m.group(2)}"></span>'

    nav = re.search(r'<nav class="toc".*?</nav>', body, flags=re.S) if contents else None
    if nav is None:
        return LINK_RE.sub(cross, body)
    return (LINK_RE.sub(cross, body[:nav.start()]) + TOC_LINK_RE.sub(slot, nav.group(0))
            + LINK_RE.sub(cross, body[nav.end():]))


def _neutral_head(head: str) -> str:
    """The head without the document's title and metadata (they name the version and the build time; the
    merged PDF takes them from the front matter), so that an unchanged section keeps its cache key."""
    head = re.sub(r"<title>.*?</title>\s*", "", head, flags=re.S)
    return re.sub(r"<meta\s+name=[^>]*>\s*", "", head)


SCREEN_ONLY_RE = re.compile(r"<!--lm-screen-->.*?<!--/lm-screen-->", flags=re.S)


def part_html(split: Split, part: Part) -> str:
    body = _relink(SCREEN_ONLY_RE.sub("", part.body), part.ids, contents=part.name == "front")
    head = split.head if part.name == "front" else _neutral_head(split.head)
    return f"{_with_css(head, PART_CSS + SVG_TEXT_CSS)}{split.body_open}\n{body}\n</body>\n</html>\n"


# the page-margins stamp: the margin texts without the page numbers (drawn when merging, see _text_op)
NO_NUMBERS_CSS = "<style>@page { @bottom-right { content: none; } }</style>\n"


def margins_html(split: Split) -> str:
    """Two blank pages (the first page's style and every other page's) carrying the report's running
    header and notice: the same on every page, so two pages serve the whole report."""
    head = _with_css(split.head, STAMP_CSS + NO_NUMBERS_CSS)
    notice = ('<div class="lm-stamp-string"><p class="notice-title lm-stamp-string"></p></div>'
              if re.search(r'class="[^"]*\billustrative\b', split.body_open) else "")
    return f'{head}{split.body_open}\n{split.running}{notice}<div class="lm-stamp-page"></div>\n</body>\n</html>\n'


# ---------------------------------------------------------------------------------------------------
# rendering (in worker processes)


HB_SUBSET_LIBRARIES = ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll")


@functools.lru_cache(maxsize=None)
def renderer_identity() -> str:
    """What makes a part's PDF besides its HTML: the versions of WeasyPrint, pydyf (writes the PDF) and
    fontTools (subsets the embedded fonts), and which subsetter WeasyPrint uses: HarfBuzz-Subset when its
    library loads (as WeasyPrint loads it, by soname), else fontTools. A part cached by another renderer
    would not be byte for byte the part rendered now, so the renderer is part of the cache key; so are the
    font files that fontconfig gives for the report's font families (:func:`font_files`): a part printed
    before Liberation Sans was installed is in another font."""
    import ctypes
    import importlib.metadata

    versions = [f"{name} {importlib.metadata.version(name)}" for name in ("weasyprint", "pydyf", "fonttools")]
    subsetter = "fonttools"
    for name in HB_SUBSET_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        subsetter = "harfbuzz-subset"
        break
    return "; ".join(versions + [f"subsetter {subsetter}", f"fonts {font_files()}"])


REPORT_FONTS = ("Liberation Sans", "Liberation Sans:bold", "DejaVu Sans Mono")  # report.css's first choices


def font_files() -> str:
    """The font file fontconfig (WeasyPrint's font source, through Pango) chooses for each of the report's
    font families, as ``fc-match`` prints it; ``unknown`` without fc-match."""
    import subprocess

    try:
        files = [subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True, text=True, timeout=30,
                                check=True).stdout.strip() for name in REPORT_FONTS]
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return ", ".join(files)


def part_key(html: str) -> str:
    h = hashlib.sha256()
    for piece in (CACHE_FORMAT, renderer_identity(), html):
        h.update(piece.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]


HEAD_STYLE_RE = re.compile(r"<style>(.*?)</style>\s*", flags=re.S)


@functools.lru_cache(maxsize=16)
def _stylesheet(css: str):
    weasyprint = import_weasyprint()
    return weasyprint.CSS(string=css, url_fetcher=offline_fetcher(), media_type="print")


def head_stylesheets(html: str) -> tuple[str, list]:
    """``html`` without the ``<style>`` elements of its ``<head>``, and those stylesheets parsed, in their
    order: each distinct one is parsed once per process (a worker renders many parts with the report's
    one stylesheet; parsing it anew took ~5 % of rendering a part). WeasyPrint then applies them as user
    stylesheets, not author ones; with no author stylesheet left, the cascade among them and against the
    user-agent stylesheet and ``style`` attributes is unchanged (the parts' PDFs are byte for byte the
    same: tests/report/test_pdf.py). A head with any other kind of style element is left as is."""
    cut = html.find("</head>")
    if cut < 0:
        return html, []
    head = html[:cut]
    if head.count("<style") != head.count("<style>") or "<link" in head:
        return html, []
    sheets = [_stylesheet(css) for css in HEAD_STYLE_RE.findall(head)]
    return HEAD_STYLE_RE.sub("", head) + html[cut:], sheets


def render_part(html: str, pdf_path: str, meta_path: str) -> dict:
    """Render one standalone document; write its PDF and a JSON sidecar: page count, page size, anchors
    ``{id: [page, x, y]}`` and bookmarks ``[[level, label, page, x, y]]`` (CSS px from the top left)."""
    weasyprint = import_weasyprint()

    html, sheets = head_stylesheets(html)
    document = weasyprint.HTML(string=html, url_fetcher=offline_fetcher(),
                               media_type="print").render(stylesheets=sheets)
    anchors: dict[str, list] = {}
    bookmarks: list[list] = []
    for i, page in enumerate(document.pages):
        for name, point in page.anchors.items():
            anchors.setdefault(name, [i, point[0], point[1]])
        for level, label, (x, y), _state in page.bookmarks:
            bookmarks.append([level, label, i, x, y])
    meta = {"pages": len(document.pages), "anchors": anchors, "bookmarks": bookmarks,
            "height": document.pages[0].height if document.pages else 0}
    with fixed_font_dates():
        write_atomic(Path(pdf_path), document.write_pdf)
    write_atomic(Path(meta_path), lambda tmp: Path(tmp).write_text(json.dumps(meta, sort_keys=True),
                                                                   encoding="utf-8"))
    return meta


# The date written into each embedded font subset (see fixed_font_dates): 1970-01-01T00:00:00Z.
FONT_DATE_EPOCH = "0"


@contextlib.contextmanager
def fixed_font_dates():
    """Within: the fonts that WeasyPrint embeds carry the fixed date ``FONT_DATE_EPOCH``, not the time of
    rendering.

    Without HarfBuzz-Subset (>= 4.1), WeasyPrint subsets fonts with fontTools, whose ``TTFont.save``
    recomputes the ``modified`` field of each subset's ``head`` table (and so its ``checkSumAdjustment``):
    by default the current time, to the second. A part cached yesterday and the same part rendered now
    then differ in their fonts' bytes, and an incremental PDF was not the PDF built from scratch of the
    same HTML. fontTools takes that date from ``SOURCE_DATE_EPOCH`` when it is set (reproducible-builds.org
    spec, fontTools.misc.timeTools.timestampNow); the report's own ``SOURCE_DATE_EPOCH`` is no use here,
    since it is the version's date and changes with every version while a cached part is kept. So the
    variable is set to a constant while the PDF is written, then restored (the PDF's own dates come from
    the HTML's metadata, not from it). HarfBuzz-Subset keeps the font's own date: the same either way."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = FONT_DATE_EPOCH
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def _render_job(args: tuple[str, str, str]) -> dict:
    """Render one part (its SVG text made HTML text here, in the worker, for the parts rendered only)."""
    html, pdf_path, meta_path = args
    return render_part(svg_text_as_html(html), pdf_path, meta_path)


def _zygote(conn, workers: int) -> None:
    """The render workers' parent: imports WeasyPrint once (~0.25 s, most of it cffi parsing the C
    declarations of Pango and HarfBuzz), then forks the ``workers`` processes that render, which so start
    with it imported. Serves lists of :func:`render_part` arguments from ``conn`` until ``None`` or EOF."""
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import_weasyprint()
    gc.freeze()  # what is imported now stays shared with the forked workers (no copy on write by the GC)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        while True:
            try:
                args = conn.recv()
            except EOFError:
                return
            if args is None:
                return
            try:
                reply = ("ok", list(pool.map(_render_job, args)))
            except BaseException as err:  # noqa: BLE001 (handed to the caller, which raises it)
                reply = ("error", err)
            try:
                conn.send(reply)
            except Exception:  # noqa: BLE001 (an exception that cannot be pickled)
                conn.send(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))


class Renderer:
    """Renders documents into the cache: in this process (one worker), or in parallel in worker processes
    forked from one process that imported WeasyPrint (started on first use, or by :meth:`start`)."""

    def __init__(self, cache_dir: str | os.PathLike, workers: int):
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.workers = max(1, workers)
        self._process = None
        self._conn = None
        self.rendered = 0
        self.keys: set[str] = set()

    def start(self) -> "Renderer":
        """Start the workers' parent process now: it imports WeasyPrint while the caller goes on (e.g.
        assembles and renders the HTML that it will print). One import instead of one per worker."""
        if self.workers > 1 and self._process is None:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self._conn, child = context.Pipe()
            self._process = context.Process(target=_zygote, args=(child, self.workers), name="livingmeta-pdf")
            self._process.start()
            child.close()
            # were close() never called (an exception between start() and the caller's finally), the
            # interpreter's exit would wait for the workers' parent, which waits for work: close it first
            atexit.register(self.close)
        return self

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.cache_dir / f"{key}.pdf", self.cache_dir / f"{key}.json"

    def cached(self, key: str) -> dict | None:
        pdf, meta = self.paths(key)
        if pdf.is_file() and meta.is_file():
            try:
                return json.loads(meta.read_text(encoding="utf-8"))
            except ValueError:
                return None
        return None

    def submit(self, jobs: dict[str, str]) -> tuple:
        """Hand ``{key: html}`` to the workers, biggest documents first, and return at once (with one
        worker: render them now); :meth:`collect` waits for the result, ``{key: meta}``."""
        order = sorted(jobs, key=lambda k: -len(jobs[k]))
        args = [(jobs[k], *map(str, self.paths(k))) for k in order]
        self.rendered += len(args)
        self.keys.update(order)
        if not args:
            return order, []
        if self.workers == 1:
            return order, [_render_job(a) for a in args]
        self.start()
        self._conn.send(args)
        return order, None

    def collect(self, pending: tuple) -> dict[str, dict]:
        order, metas = pending
        if metas is None:
            try:
                status, metas = self._conn.recv()
            except EOFError:
                raise RuntimeError("the PDF rendering processes ended unexpectedly") from None
            if status != "ok":
                raise metas
        return dict(zip(order, metas))

    def close(self) -> None:
        if self._process is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._conn.close()
            self._process.join(timeout=30)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
            self._process = self._conn = None
            atexit.unregister(self.close)


# ---------------------------------------------------------------------------------------------------
# the build


@dataclass
class Plan:
    keys: list[str]           # one per part, in order
    metas: list[dict]
    margins_key: str          # running header and notice (2 pages)


def _anchor_pages(split: Split, metas: list[dict]) -> dict[str, int]:
    """Absolute page number (1-based) of every anchor of the report."""
    pages: dict[str, int] = {}
    offset = 0
    for part, meta in zip(split.parts, metas):
        anchors = meta.get("anchors") or {}
        for anchor in part.ids:
            pages.setdefault(anchor, offset + anchors.get(anchor, [0])[0] + 1)
        offset += meta["pages"]
    return pages


def plan_parts(split: Split, renderer: Renderer, meanwhile: Callable[[list[str]], None] | None = None) -> Plan:
    """Render the parts (and the page-margins stamp) that are not cached, all at once: nothing rendered
    depends on page numbers, which are drawn when merging. ``meanwhile(cached keys)`` runs while they
    render (the workers' parent may still be importing WeasyPrint: this process has time to spare)."""
    return plan_documents([split], renderer, meanwhile)[0]


def plan_documents(splits: list[Split], renderer: Renderer,
                   meanwhile: Callable[[list[str]], None] | None = None) -> list[Plan]:
    """:func:`plan_parts` for several documents at once (one batch of rendering for all of them)."""
    batch = _submit(splits, renderer)
    if meanwhile is not None:
        meanwhile(batch.cached)
    return _collect(batch, renderer)


@dataclass
class _Batch:
    plans: list[tuple[list[str], str]]  # per document: its parts' keys, its margins' key
    metas: dict[str, dict]              # of the parts cached
    cached: list[str]
    pending: tuple


def _submit(splits: list[Split], renderer: Renderer) -> _Batch:
    jobs: dict[str, str] = {}
    plans = []
    for split in splits:
        htmls = [part_html(split, p) for p in split.parts]
        keys = [part_key(h) for h in htmls]
        margins = margins_html(split)
        margins_key = part_key(margins)
        jobs.update(zip(keys + [margins_key], htmls + [margins]))
        plans.append((keys, margins_key))
    metas = {k: meta for k in jobs if (meta := renderer.cached(k)) is not None}
    pending = renderer.submit({k: h for k, h in jobs.items() if k not in metas})
    return _Batch(plans, metas, [k for k in jobs if k in metas], pending)


def _collect(batch: _Batch, renderer: Renderer) -> list[Plan]:
    batch.metas.update(renderer.collect(batch.pending))
    return [Plan(keys, [batch.metas[k] for k in keys], margins_key) for keys, margins_key in batch.plans]


def _read_parts(renderer: Renderer, keys: list[str]) -> dict[str, Any]:
    """``{key: PartFile}`` for the parts ``keys``, their objects read as bytes (livingmeta/report/pdfmerge.py);
    done while other parts render, off the critical path."""
    from livingmeta.report.pdfmerge import read_part

    return {key: read_part(renderer.paths(key)[0]) for key in keys}


# Page numbers ("Page X of Y" in the bottom margin, the contents' page numbers) are drawn when merging, in
# the PDF's standard Helvetica (not embedded; Liberation Sans and Arial share its widths), where WeasyPrint
# puts them: right-aligned, at the positions below or at the contents' slots (see _relink).
HELVETICA_WIDTHS = {**{d: 556 for d in "0123456789"}, " ": 278, "P": 667, "a": 556, "g": 556, "e": 556,
                    "o": 556, "f": 278}
PAGE_NUMBER_SIZE = 7.5        # pt, as the report's @bottom-right margin box
PAGE_NUMBER_GREY = 0x55 / 255  # colour #555
PAGE_NUMBER_RIGHT = 42.52     # pt from the right edge (15 mm page margin)
PAGE_NUMBER_BASELINE = 22.91  # pt above the bottom edge (middle of the 18 mm margin, Liberation Sans metrics)
TOC_SIZE = 9.5                # pt, the contents' font size in print
TOC_GREY = 0x1A / 255         # the report's ink, #1a1a1a


def _text_op(text: str, size: float, grey: float, right: float, baseline: float) -> str:
    """PDF operators drawing ``text`` in /LmHelv, right-aligned at ``right``, on ``baseline`` (pt)."""
    width = sum(HELVETICA_WIDTHS[c] for c in text) * size / 1000
    return (f"BT /LmHelv {_pt(size)} Tf {_pt(grey)} g 1 0 0 1 {_pt(right - width)} {_pt(baseline)} Tm "
            f"({text}) Tj ET\n")


def _pt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def merge_parts(split: Split, plan: Plan, renderer: Renderer, out_path: Path,
                readers: dict[str, Any] | None = None,
                elsewhere: dict[str, tuple[str, int]] | None = None) -> None:
    """Merge the parts of ``plan`` into ``out_path`` (``readers``: parts already read, see _read_parts),
    copying their objects as bytes (livingmeta/report/pdfmerge.py). ``elsewhere``: anchor -> the file name
    of the PDF beside this one that has it (the appendix of the layout in pages) and its page there; a
    link to such an anchor opens that file at its named destination (a GoToR action, ISO 32000-1
    12.6.4.3), and its entry in the contents shows that page number."""
    from livingmeta.report import pdfmerge as pm

    readers = readers or {}
    parts = [readers.get(key) or pm.read_part(renderer.paths(key)[0]) for key in plan.keys]
    w = pm.Writer()
    pages_root = w.reserve()
    begin = w.add(b"<</Length 2>>", b"q\n")  # shared by every page: its own content in q ... Q
    font = w.add(b"<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding>>")

    # the stamps: the margin texts of the two pages of the margins document, as form XObjects
    margins = pm.read_part(renderer.paths(plan.margins_key)[0])
    forms = []
    for number in margins.pages[:2]:
        entries = dict(pm.dict_entries(margins.objects[number].body))
        resources = entries.get(b"/Resources", b"<<>>")
        mapping = pm.copy_objects(w, margins, [int(m.group(1)) for m in pm.REF.finditer(resources)])
        for old, new in mapping.items():
            obj = margins.objects[old]
            w.set(new, pm.renumber(obj.body, mapping), obj.stream)
        contents = [margins.objects[int(m.group(1))] for m in pm.REF.finditer(entries[b"/Contents"])]
        data = zlib_compress(b"\n".join(pm._decode(c, b"") for c in contents))
        forms.append(w.add(pm.make_dict([
            (b"/Type", b"/XObject"), (b"/Subtype", b"/Form"), (b"/BBox", entries[b"/MediaBox"]),
            (b"/Resources", pm.renumber(resources, mapping)), (b"/Filter", b"/FlateDecode"),
            (b"/Length", b"%d" % len(data))]), data))
    added = {b"/XObject": b"/LmMargins1 %d 0 R /LmMargins2 %d 0 R" % (forms[0], forms[min(1, len(forms) - 1)]),
             b"/Font": b"/LmHelv %d 0 R" % font}

    # every part's pages and what they use, renumbered
    page_refs: list[int] = []       # new object number of each page
    heights: list[float] = []
    page_entries: list[list] = []   # renumbered page dictionaries' entries
    annots: list[list[int]] = []    # new numbers of each page's annotations
    bodies: dict[int, list] = {}    # new number -> [body, stream]
    anchors: dict[str, tuple[int, float, float]] = {}
    bookmarks: list[tuple[int, str, int, float, float]] = []
    offset = 0
    for part, meta in zip(parts, plan.metas):
        mapping = pm.copy_objects(w, part, part.pages, skip_keys=(b"/Parent",))
        for old, new in mapping.items():
            obj = part.objects[old]
            bodies[new] = [pm.renumber(obj.body, mapping), obj.stream]
        # the stamp's names in the resource dictionaries of the pages
        edited: set[int] = set()
        for old in part.pages:
            entries = pm.dict_entries(bodies[mapping[old]][0])
            value = dict(entries).get(b"/Resources")
            ref = pm.REF.fullmatch(value.strip()) if value is not None else None
            if ref is not None and int(ref.group(1)) not in edited:
                edited.add(int(ref.group(1)))
                bodies[int(ref.group(1))][0] = _with_names(bodies, int(ref.group(1)), added, edited)
            elif ref is None:
                inline = _add_names(value or b"<<>>", bodies, added, edited)
                entries = [(k, v) for k, v in entries if k != b"/Resources"] + [(b"/Resources", inline)]
                bodies[mapping[old]][0] = pm.make_dict(entries)
        for old in part.pages:
            new = mapping[old]
            entries = pm.dict_entries(bodies[new][0])
            page_refs.append(new)
            box = dict(entries)[b"/MediaBox"].strip(b"[] ").split()
            heights.append(float(box[3]) - float(box[1]))
            page_entries.append(entries)
            annots.append([int(m.group(1)) for m in pm.REF.finditer(dict(entries).get(b"/Annots", b""))])
        for name, (page, x, y) in sorted(meta["anchors"].items()):
            anchors.setdefault(name, (offset + page, x, y))
        bookmarks += [(level, label, offset + page, x, y) for level, label, page, x, y in meta["bookmarks"]]
        offset += meta["pages"]

    def dest(name: str) -> bytes | None:
        if name not in anchors:
            return None
        page, x, y = anchors[name]
        return b"[%d 0 R /XYZ %s %s 0]" % (page_refs[page], pm.pdf_number(round(x * PX_TO_PT, 3)),
                                            pm.pdf_number(round(heights[page] - y * PX_TO_PT, 3)))

    elsewhere = elsewhere or {}
    numbered = {name: page for name, (_, page) in elsewhere.items()} | _anchor_pages(split, plan.metas)
    contents: dict[int, list[str]] = {}
    for name, (page, x, y) in sorted(anchors.items()):
        target = name[len(TOC_SLOT):]
        if name.startswith(TOC_SLOT) and target in numbered:
            contents.setdefault(page, []).append(_text_op(str(numbered[target]), TOC_SIZE, TOC_GREY,
                                                          (x + TOC_SLOT_PX) * PX_TO_PT, heights[page] - y * PX_TO_PT))
    total = len(page_refs)
    for i, (new, entries) in enumerate(zip(page_refs, page_entries)):
        box = [float(v) for v in dict(entries)[b"/MediaBox"].strip(b"[] ").split()]
        number = _text_op(f"Page {i + 1} of {total}", PAGE_NUMBER_SIZE, PAGE_NUMBER_GREY,
                          box[2] - PAGE_NUMBER_RIGHT, box[1] + PAGE_NUMBER_BASELINE)
        stamp = (f"\nQ\nq /LmMargins{min(i, 1) + 1} Do Q\n" + number + "".join(contents.get(i, []))).encode("ascii")
        after = w.add(b"<</Length %d>>" % len(stamp), stamp)
        own = dict(entries)[b"/Contents"].strip()
        own = own[1:-1].strip() if own.startswith(b"[") else own
        changed = {b"/Parent": b"%d 0 R" % pages_root, b"/Contents": b"[%d 0 R %s %d 0 R]" % (begin, own, after)}
        bodies[new][0] = pm.make_dict([(k, changed.get(k, v)) for k, v in entries])
        # links: named destinations and links to other parts -> explicit destinations
        for ref in annots[i]:
            body = bodies[ref][0]
            target, kept = None, []
            for k, v in pm.dict_entries(body):
                if k == b"/Dest" and v.startswith(b"("):
                    target = _literal(v)
                    continue
                if k == b"/A":
                    uri = re.search(rb"/URI\s*(\((?:[^()\\]|\\.)*\))", v)
                    if uri and _literal(uri.group(1)).startswith(CROSS_LINK):
                        target = _literal(uri.group(1))[len(CROSS_LINK):]
                        continue
                kept.append((k, v))
            if target is not None:
                resolved = dest(target)
                if resolved is not None:
                    kept.append((b"/Dest", resolved))
                elif target in elsewhere:  # a relative file name: the two PDFs are published together
                    kept.append((b"/A", b"<</S /GoToR /F %s /D %s>>" % (pm.pdf_string(elsewhere[target][0]),
                                                                       pm.pdf_string(target))))
                # else an anchor that is nowhere: a dead link, as WeasyPrint drops it
                bodies[ref][0] = pm.make_dict(kept)
    for number in sorted(bodies):
        body, stream = bodies[number]
        w.set(number, body, stream)
    w.set(pages_root, b"<</Type /Pages /Kids [%s] /Count %d>>" % (b" ".join(b"%d 0 R" % p for p in page_refs), total))

    # named destinations (report.pdf#analysis-dhi__4_weeks) and bookmarks
    names = b" ".join(pm.pdf_string(n) + b" " + dest(n) for n in sorted(a for a in anchors if not a.startswith(TOC_SLOT)))
    dests = w.add(b"<</Names [%s]>>" % names)
    outline = _write_outline(w, bookmarks, lambda page, x, y: b"[%d 0 R /XYZ %s %s 0]" % (
        page_refs[page], pm.pdf_number(round(x * PX_TO_PT, 3)), pm.pdf_number(round(heights[page] - y * PX_TO_PT, 3))))
    front = parts[0]
    catalog_entries = dict(pm.dict_entries(front.objects[front.root].body))
    catalog = [(b"/Type", b"/Catalog"), (b"/Pages", b"%d 0 R" % pages_root), (b"/Names", b"<</Dests %d 0 R>>" % dests)]
    if outline is not None:
        catalog.append((b"/Outlines", b"%d 0 R" % outline))
    if b"/Lang" in catalog_entries:
        catalog.append((b"/Lang", catalog_entries[b"/Lang"]))
    root = w.add(pm.make_dict(catalog))
    info = w.add(pm.renumber(front.objects[front.info].body, {})) if front.info is not None else None
    digest = hashlib.sha256("\0".join(plan.keys + [plan.margins_key]).encode()).digest()[:16]
    data = w.write(root, info, digest)
    write_atomic(out_path, lambda tmp: Path(tmp).write_bytes(data))


def zlib_compress(data: bytes) -> bytes:
    import zlib

    return zlib.compress(data, 6)


def _literal(value: bytes) -> str:
    """The text of a PDF literal string ``(...)`` (anchors and URIs: ASCII)."""
    inner = value[1:-1]
    return re.sub(rb"\\(.)", rb"\1", inner).decode("latin-1")


def _add_names(body: bytes, bodies: dict, added: dict[bytes, bytes], edited: set[int]) -> bytes:
    """The resource dictionary ``body`` with the stamp's names (``added``: {category: entries}) added, in
    a sub-dictionary written inline or in the object it refers to."""
    from livingmeta.report import pdfmerge as pm

    entries = pm.dict_entries(body)
    keys = dict(entries)
    out = []
    for k, v in entries:
        if k in added:
            ref = pm.REF.fullmatch(v.strip())
            if ref is not None:
                number = int(ref.group(1))
                if number not in edited:
                    edited.add(number)
                    bodies[number][0] = b"<<" + added[k] + b" " + bodies[number][0].strip()[2:]
            else:
                v = b"<<" + added[k] + b" " + v.strip()[2:]
        out.append((k, v))
    out += [(k, b"<<" + v + b">>") for k, v in added.items() if k not in keys]
    return pm.make_dict(out)


def _with_names(bodies: dict, number: int, added: dict[bytes, bytes], edited: set[int]) -> bytes:
    return _add_names(bodies[number][0], bodies, added, edited)


def _write_outline(w, bookmarks: list, dest: Callable) -> int | None:
    """The outline (bookmarks) from WeasyPrint's ``(level, label, page, x, y)``, nested by level; every
    item open. Returns the outline dictionary's object number (None without bookmarks)."""
    from livingmeta.report import pdfmerge as pm

    if not bookmarks:
        return None
    root: dict = {"children": []}
    stack: list[tuple[int, dict]] = []
    for level, label, page, x, y in bookmarks:
        while stack and stack[-1][0] >= level:
            stack.pop()
        node = {"title": label, "dest": dest(page, x, y), "children": []}
        (stack[-1][1] if stack else root)["children"].append(node)
        stack.append((level, node))

    def count(node: dict) -> int:
        return sum(1 + count(c) for c in node["children"])

    def number(node: dict) -> None:  # pre-order: parents before children
        node["ref"] = w.reserve()
        for child in node["children"]:
            number(child)

    number(root)

    def write(node: dict, parent: int | None) -> None:
        kids = node["children"]
        entries = []
        if parent is None:
            entries.append((b"/Type", b"/Outlines"))
        else:
            entries += [(b"/Title", pm.pdf_string(node["title"])), (b"/Parent", b"%d 0 R" % parent)]
        if kids:
            entries += [(b"/First", b"%d 0 R" % kids[0]["ref"]), (b"/Last", b"%d 0 R" % kids[-1]["ref"]),
                        (b"/Count", b"%d" % count(node))]
        if parent is not None:
            w_siblings = node.get("siblings")
            if w_siblings:
                prev, nxt = w_siblings
                if prev is not None:
                    entries.append((b"/Prev", b"%d 0 R" % prev))
                if nxt is not None:
                    entries.append((b"/Next", b"%d 0 R" % nxt))
            entries.append((b"/Dest", node["dest"]))
        w.set(node["ref"], pm.make_dict(entries))
        for i, child in enumerate(kids):
            child["siblings"] = (kids[i - 1]["ref"] if i else None, kids[i + 1]["ref"] if i + 1 < len(kids) else None)
            write(child, node["ref"])

    write(root, None)
    return root["ref"]


DOCUMENT_RE = re.compile(r"<!--pdf-document ([A-Za-z0-9_.:-]+)-->")


def split_documents(html: str) -> list[tuple[str, str]]:
    """``[(name, html)]``: the report (name ``report``) and each document that the HTML marks with
    ``<!--pdf-document NAME-->`` (the layout in pages puts the appendix there, livingmeta/report/layout.py),
    everything after the mark up to the next one; each with the report's ``<head>`` and running texts."""
    pieces = DOCUMENT_RE.split(html)
    if len(pieces) == 1:
        return [("report", html)]
    match = re.search(r"<body\b[^>]*>", html)
    end = html.rfind("</body>")
    head_and_body = html[:match.end()]
    running = "".join(re.findall(r'<div class="running-(?:title|version)"[^>]*>.*?</div>',
                                 html[match.end():], flags=re.S))
    tail = html[end:] if end >= 0 else "</body>\n</html>\n"
    docs = [("report", pieces[0] + "\n" + tail)]
    for name, fragment in zip(pieces[1::2], pieces[2::2]):
        cut = fragment.rfind("</body>")
        docs.append((name, head_and_body + "\n" + running + "\n" + (fragment[:cut] if cut >= 0 else fragment)
                     + "\n" + tail))
    return docs


def build_pdf(html: str, pdf_path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
              workers: int | None = None, renderer: Renderer | None = None) -> dict:
    """Write the report ``html`` as a PDF, re-rendering only the parts whose HTML changed since the last
    build that used the same cache (``renderer``'s, else ``cache_dir``, default ``pdf_parts/`` beside the
    PDF). Returns ``{parts, rendered, pages, rendered_parts}``."""
    return build_pdfs([(html, pdf_path)], cache_dir=cache_dir, workers=workers, renderer=renderer)[0]


def build_pdfs(documents: list[tuple[str, str | os.PathLike]], *, cache_dir: str | os.PathLike | None = None,
               workers: int | None = None, renderer: Renderer | None = None) -> list[dict]:
    """:func:`build_pdf` for several documents ``[(html, pdf_path)]`` sharing one cache, their parts
    rendered in one batch; the cache keeps the parts of all of them. One statistics dict per document."""
    own = renderer is None
    if own:
        first = Path(documents[0][1])
        renderer = Renderer(cache_dir or first.parent / "pdf_parts", workers or os.cpu_count() or 1)
    try:
        return finish_pdfs(start_pdfs(documents, renderer))
    finally:
        if own:
            renderer.close()


@dataclass
class PdfBuild:
    """PDFs being made: their parts handed to the renderer (:func:`start_pdfs`), to be merged by
    :func:`finish_pdfs`; the caller may do other work in between, while the workers render."""
    documents: list[tuple[str, str | os.PathLike]]
    splits: list[Split]
    renderer: Renderer
    batch: _Batch


def start_pdfs(documents: list[tuple[str, str | os.PathLike]], renderer: Renderer) -> PdfBuild:
    # keys are the parts' HTML before svg_text_as_html (a function of it): only parts rendered are converted
    splits = [split_report(html) for html, _ in documents]
    return PdfBuild(documents, splits, renderer, _submit(splits, renderer))


def finish_pdfs(build: PdfBuild) -> list[dict]:
    renderer, splits = build.renderer, build.splits
    readers = _read_parts(renderer, build.batch.cached)  # while the workers render the others
    plans = _collect(build.batch, renderer)
    stats = []
    files = [Path(pdf_path).name for _, pdf_path in build.documents]
    pages = []  # each document's named destinations (the anchors WeasyPrint placed) and their page numbers
    for split, plan in zip(splits, plans):
        numbered = _anchor_pages(split, plan.metas)
        pages.append({name: numbered.get(name, 1) for meta in plan.metas for name in meta["anchors"]
                      if not name.startswith(TOC_SLOT)})
    for i, (split, plan, (_, pdf_path)) in enumerate(zip(splits, plans, build.documents)):
        elsewhere = {name: (files[j], page) for j in range(len(plans)) if j != i for name, page in pages[j].items()}
        merge_parts(split, plan, renderer, Path(pdf_path), readers, elsewhere)
        names = {k: p.name for p, k in zip(split.parts, plan.keys)} | {plan.margins_key: "page margins"}
        stats.append({"parts": len(plan.keys), "rendered": len(set(names) & renderer.keys),
                      "pages": sum(m["pages"] for m in plan.metas),
                      "rendered_parts": sorted({names[k] for k in renderer.keys if k in names})})
    # drop what this build did not use
    keep = {k for plan in plans for k in plan.keys} | {plan.margins_key for plan in plans}
    for path in renderer.cache_dir.iterdir():
        if path.suffix in (".pdf", ".json") and path.stem not in keep:
            path.unlink(missing_ok=True)
    return stats
