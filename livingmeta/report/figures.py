"""The report's figures as standalone files for a manuscript: one SVG document per figure and
``index.csv`` (file, figure number and caption), written to ``figures/`` beside the report.

The figures are taken from the rendered HTML, whose inline SVG :mod:`livingmeta.report.svg` built once,
so each file, its number and its caption are exactly what the report shows. Every figure of the report
is a ``<figure id="fig-NAME">``; its file is named from that id (:func:`file_name`):

``prisma_flow.svg``, ``rob_traffic_light.svg``, ``rob_summary.svg``, ``forest_<analysis>.svg``,
``rob_weighted_<analysis>.svg`` (robvis's weighted summary for one analysis),
``subgroups_<analysis>_<variable>.svg``, ``funnel_<analysis>.svg``, ``cumulative_<analysis>.svg``.

The SVG needs nothing else from the page: the canvas writes its font (with fallbacks), size and colours
as presentation attributes on the root ``<svg>`` and every element, and the report's stylesheet only
sizes the figures; the files add the page's white background. A figure drawn in parts (a long forest
plot or traffic-light table, one part per printed page) becomes one document with its parts stacked.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

from livingmeta.report import indexed, svg

FOLDER = "figures"  # in results/report/ and in every published version
INDEX_COLUMNS = ("file", "figure", "caption")
RENAMED = {"prisma": "prisma_flow", "rob-traffic": "rob_traffic_light"}  # figure id -> file name
PART_GAP = 16.0  # px between the stacked parts of a figure (as the report's margin between them)
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
BACKGROUND = '<rect width="100%" height="100%" fill="#FFFFFF"/>'  # the report's white page

# the start tag of a report figure; its body runs to the next </figure> (figures do not nest). Found with
# str.find rather than a lazy regex (.*?), which at 1,000 studies (a 50 MB page) took a second
_FIGURE = re.compile(r'<figure class="figure[^"]*" id="fig-([^"]+)">')
_CAPTION = re.compile(r"<figcaption>Figure ((?:[A-Z]\.)?[\d.]*\d)\. (.*?)</figcaption>", re.S)  # 6, 6.1.2 or B.1 (an appendix's own)
_SIZE = re.compile(r'<svg\b[^>]*? width="([\d.]+)" height="([\d.]+)"')
_TAG = re.compile(r"<[^>]+>")
_PRINT_ONLY = re.compile(r"<!--lm-print-->.*?<!--/lm-print-->", re.S)


@dataclass(frozen=True)
class Figure:
    file: str     # e.g. forest_dhi__4_weeks.svg
    number: str   # as in the report, e.g. 1 or 6.1.2
    caption: str  # the caption's text after "Figure <number>. "
    svg: str      # the standalone SVG document


def file_name(figure_id: str) -> str:
    """The file of the report figure ``fig-<figure_id>``: ``forest-dhi__4_weeks`` -> ``forest_dhi__4_weeks.svg``."""
    return RENAMED.get(figure_id, figure_id.replace("-", "_")) + ".svg"


def caption_text(markup: str) -> str:
    """The plain text of a caption's HTML (tags dropped, entities decoded, white space collapsed)."""
    return " ".join(html.unescape(_TAG.sub("", markup)).split())


def standalone_svg(parts: list[str]) -> str:
    """One SVG document from the inline ``<svg>`` of a figure (the element itself, or its parts stacked),
    on the white background that the report's page gives it."""
    root = parts[0] if len(parts) == 1 else stacked_svg(parts)
    head = root.index(">") + 1  # the end of the root's start tag
    return XML_DECLARATION + root[:head] + BACKGROUND + root[head:] + "\n"


def stacked_svg(parts: list[str]) -> str:
    """The parts of a figure top to bottom (each a nested ``<svg>`` placed with ``y``), ``PART_GAP``
    apart, in one ``<svg>`` as wide as the widest."""
    sizes = [tuple(float(v) for v in _SIZE.match(part).groups()) for part in parts]
    width = svg._n(max(w for w, _ in sizes))
    nested, y = [], 0.0
    for part, (_, h) in zip(parts, sizes):
        nested.append(part.replace("<svg ", f'<svg y="{svg._n(y)}" ', 1))
        y += h + PART_GAP
    height = svg._n(y - PART_GAP)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">' + "".join(nested) + "</svg>")


def report_figures(page: str) -> list[Figure]:
    """Every figure of the rendered report ``page``, in the report's order."""
    figures, taken = [], set()
    for figure_id, body in _figure_bodies(page):
        body = _PRINT_ONLY.sub("", body)  # a printed summary (layout pages): the file is the whole figure
        number, caption = _CAPTION.search(body).groups()
        name = file_name(figure_id)
        stem, n = name[:-len(".svg")], 2
        while name in taken:  # two subgroup variables with one slug ("Age", "age"): keep both files
            name, n = f"{stem}_{n}.svg", n + 1
        taken.add(name)
        figures.append(Figure(file=name, number=number, caption=caption_text(caption),
                              svg=standalone_svg(_svg_elements(body))))
    return figures


def _figure_bodies(page: str) -> list[tuple[str, str]]:
    """``(figure id, body)`` of every report figure of ``page``, in order."""
    found = []
    for m in _FIGURE.finditer(page):
        end = page.find("</figure>", m.end())
        found.append((m.group(1), page[m.end():end if end >= 0 else len(page)]))
    return found


def _svg_elements(body: str) -> list[str]:
    """The ``<svg>...</svg>`` elements of a figure's body (its parts), in order."""
    parts, start = [], body.find("<svg")
    while start >= 0:
        end = body.find("</svg>", start)
        if end < 0:
            break
        parts.append(body[start:end + len("</svg>")])
        start = body.find("<svg", end)
    return parts


def index_csv(figures: list[Figure]) -> str:
    """``file,figure,caption``, one row per figure in the report's order."""
    return indexed.csv_text(INDEX_COLUMNS, ((f.file, f.number, f.caption) for f in figures))


def write_figures(page: str, index_path: str | os.PathLike) -> list[Figure]:
    """Write the figures of the report ``page`` beside ``index_path`` and then the index itself, so that
    it lists only files in place; SVG files of an earlier report in that folder are removed first."""
    figures = report_figures(page)
    indexed.write_listed(index_path, {f.file: f.svg for f in figures}, index_csv(figures), stale="*.svg")
    return figures


def listed_files(index_path: str | os.PathLike) -> dict[str, Path]:
    """The index and the figure files it lists, by their path in a published version
    (``figures/index.csv``, ``figures/<file>``)."""
    return indexed.listed_files(index_path, FOLDER, "figure")
