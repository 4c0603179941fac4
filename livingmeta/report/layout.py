"""How the report is laid out (config ``report.layout``): one self-contained page, or a summary page with
pages of its own for each analysis and for the appendix.

``single``: report.html holds everything (and report.pdf the appendix); ``pages``: report.html is the
summary page (summary of findings, methods, PRISMA, risk-of-bias summary, one entry per analysis) and
``pages/`` holds one page per analysis and the appendix in pages of :data:`APPENDIX_PAGE_STUDIES` studies
(livingmeta/report/pages.py); the study-level material (characteristics tables, traffic-light plot,
study-by-study data) is the appendix, printed as its own PDF, report-appendix.pdf. ``auto`` (the
default) is ``pages`` above :data:`AUTO_STUDIES` included studies or :data:`AUTO_ANALYSES` analyses: at
1,000 studies x 50 analyses one page was 23 MB of HTML and the PDF 1,800 pages.
"""

from __future__ import annotations

LAYOUTS = ("auto", "single", "pages")
AUTO_STUDIES = 100
AUTO_ANALYSES = 30
APPENDIX_PAGE_STUDIES = 100  # studies per HTML page of the appendix


def uses_pages(setting: str | None, n_studies: int, n_analyses: int) -> bool:
    """Whether the report of a review with ``n_studies`` included studies and ``n_analyses`` analyses is
    laid out in pages, for the config's ``report.layout`` ``setting``."""
    setting = setting or "auto"
    if setting not in LAYOUTS:
        raise ValueError(f"report.layout: {setting!r} is not one of {list(LAYOUTS)}")
    if setting == "auto":
        return n_studies > AUTO_STUDIES or n_analyses > AUTO_ANALYSES
    return setting == "pages"


BLOCK_AVERAGE = 24  # studies per block of the appendix's tables and traffic-light plot, on average
BLOCK_MAX = 34      # ... and at most (a traffic-light plot of 34 rows fills an A4 page, svg.ROB_MAX_ROWS)


def study_blocks(study_ids: list[str], average: int = BLOCK_AVERAGE, most: int = BLOCK_MAX) -> list[dict]:
    """``[{start, end}]``: ``study_ids`` cut into consecutive blocks where the ids themselves say (a block
    ends after a study whose id hashes to 0 modulo ``average``; a longer block is cut every ``most``
    studies from its start), so adding, removing or correcting a study changes its own block only: the
    same content-defined chunking that rsync and backup tools use for files (Muthitacharoen et al. 2001,
    A low-bandwidth network file system, SOSP '01). Each block is one PDF part of the appendix."""
    import hashlib

    blocks, start = [], 0
    for i, sid in enumerate(study_ids):
        if int(hashlib.sha256(str(sid).encode("utf-8")).hexdigest()[:8], 16) % average == 0 or i == len(study_ids) - 1:
            for s in range(start, i + 1, most):
                blocks.append({"start": s, "end": min(s + most, i + 1)})
            start = i + 1
    return blocks
