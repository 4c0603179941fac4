"""The report job (rule report, scripts/report.py) as one library function, step by step.

:func:`run_report` makes results.json (the machine-readable twin of the report), renders the HTML report
from it (and nothing else), writes the HTML's figures as standalone SVG files listed in figures/index.csv,
results.json's analysis data as CSV files listed in data/index.csv, the export folder and, when ``outputs``
names a PDF, prints the HTML to PDF with WeasyPrint (no network access). The PDF's worker processes start
(one WeasyPrint import, forked ``threads`` times) first, while results.json and the HTML are made; only
the report sections whose HTML changed are rendered again (cached under ``cache``), and only the analyses
whose figures changed are drawn again (cached under ``content_cache``). When ``outputs`` names
``published`` (config ``publish.enabled``), the report is then published as a new version beside the old
ones (:func:`livingmeta.living.publish.publish`: only when a reader sees a difference) and what publishing
did is written there. It returns the seconds of each step (benchmarks/bench_report.py prints them), the
PDF's statistics and what publishing did.
"""

from __future__ import annotations

import time
from typing import Any


def run_report(inputs: dict[str, Any], outputs: dict[str, str], *, cache: str, threads: int = 1,
               prisma_csv: str | None = None, certainty_path: str | None = None,
               synthesis_path: str | None = None, content_cache: str | None = None) -> dict[str, Any]:
    """``inputs``: the keyword arguments of :func:`livingmeta.report.results_json.load_and_build` except
    certainty and synthesis; ``outputs``: results, html, figures, data and optionally export, pdf, pages
    (pages/index.csv: the layout in pages, livingmeta/report/pages.py) and appendix_pdf (the appendix's own
    PDF in that layout) and published (the record of publishing: published.json) (paths);
    ``content_cache``: the results' content cache (results/.cache), where each analysis's drawn figures are
    kept (livingmeta/report/analysis_figures.py)."""
    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        seconds[name] = seconds.get(name, 0.0) + now - clock[0]
        clock[0] = now

    pdf_path = outputs.get("pdf")
    renderer = None
    stats: dict[str, Any] = {}
    if pdf_path:  # first of all: the import of WeasyPrint is the longest wait of this job
        from livingmeta.report.pdf import Renderer

        renderer = Renderer(cache, int(threads or 1)).start()
    try:
        import orjson

        from livingmeta.jsonio import dumps, write_text_atomic
        from livingmeta.report.data import write_data
        from livingmeta.report.figures import write_figures
        from livingmeta.report.render import render_html
        from livingmeta.report.results_json import load_and_build

        step("start")
        results = dumps(load_and_build(**inputs, certainty_path=certainty_path, synthesis_path=synthesis_path))
        write_text_atomic(outputs["results"], results)
        document = orjson.loads(results)  # exactly what results.json says
        step("results.json")
        laid_out = bool(outputs.get("pages"))  # the layout in pages (livingmeta/report/layout.py)
        html = render_html(document, pages=laid_out, cache_dir=content_cache)
        step("html")
        building = None
        if renderer is not None:  # the PDF's parts go to the workers first; the files below while they render
            from livingmeta.report.pdf import split_documents, start_pdfs

            documents = split_documents(html)
            paths = {"report": pdf_path, "appendix": outputs.get("appendix_pdf")}
            missing = [name for name, _ in documents if not paths.get(name)]
            if missing:
                raise ValueError(f"the report has a document {missing[0]!r} in print but no output for it")
            building = start_pdfs([(doc, paths[name]) for name, doc in documents], renderer)
            step("pdf parts")
        if laid_out:
            from livingmeta.report.pages import split_pages, write_pages

            write_pages(split_pages(html), outputs["html"], outputs["pages"])
        else:
            write_text_atomic(outputs["html"], html)
        _remove_stale(outputs)
        step("pages")
        write_figures(html, outputs["figures"])
        step("figures")
        write_data(document, outputs["data"])
        step("data")
        if outputs.get("export"):
            from livingmeta.report.export import write_export

            write_export(document, outputs["export"], prisma_csv)
            step("export")
        if building is not None:
            from livingmeta.report.pdf import finish_pdfs

            done = finish_pdfs(building)
            stats = done[0]
            if len(done) > 1:
                stats["appendix"] = done[1]
            step("pdf")
    finally:
        if renderer is not None:
            renderer.close()
    published = None
    if outputs.get("published"):  # last, once every file of the report is written: nothing half-made is published
        from pathlib import Path

        from livingmeta.jsonio import write_json
        from livingmeta.living.publish import publish, report_files, with_companions
        from livingmeta.living.versions import build_signatures

        files = with_companions({name: Path(path) for name, path in report_files(outputs).items()})
        published = publish(files, inputs["reports_dir"])
        # what was published from: a file changed or removed afterwards makes planning run this job again
        published["built"] = build_signatures(files.values(), Path(outputs["published"]).parent)
        write_json(outputs["published"], published)
        step("publish")
    return {"seconds": seconds, "pdf": stats, "published": published}


def _remove_stale(outputs: dict[str, str]) -> None:
    """An earlier layout's files that this one does not make (publish would take them): ``pages/`` and
    report-appendix.pdf beside report.html."""
    import os
    from pathlib import Path

    folder = Path(outputs["html"]).parent
    if not outputs.get("pages") and (folder / "pages").is_dir():
        for old in (folder / "pages").glob("*"):
            if old.suffix in (".html", ".csv"):
                old.unlink()
    if not outputs.get("appendix_pdf"):
        with __import__("contextlib").suppress(FileNotFoundError):
            os.unlink(folder / APPENDIX_PDF)


APPENDIX_PDF = "report-appendix.pdf"


def steps_log_line(seconds: dict[str, float]) -> str:
    """The seconds of each step of the report job, for its log (where an update's time goes)."""
    return "report steps (s): " + ", ".join(f"{name} {secs:.1f}" for name, secs in seconds.items()) + "\n"


LOGGED_PARTS = 20  # the names of at most this many rendered sections per log line (a full build: thousands)


def pdf_log_line(stats: dict[str, Any]) -> str:
    names = list(stats["rendered_parts"])
    shown = ", ".join(names[:LOGGED_PARTS])
    if len(names) > LOGGED_PARTS:
        shown += f" and {len(names) - LOGGED_PARTS} more"
    line = (f"{stats['pages']} pages from {stats['parts']} sections; rendered {stats['rendered']} "
            f"document(s) ({shown or 'none'}), the others reused\n")
    if stats.get("appendix"):
        line += "appendix: " + pdf_log_line(stats["appendix"])
    return line
