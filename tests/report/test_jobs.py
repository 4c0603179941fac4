"""The report job through its script (with a stand-in for Snakemake's ``snakemake`` object): the
analyses -> results.json -> report.html (+ report.pdf), reproducible with SOURCE_DATE_EPOCH, PDF text
extractable, and no network access from WeasyPrint."""
from __future__ import annotations

import json
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.report.conftest import CONFIG, fixture_paths

REPO = Path(__file__).resolve().parents[2]


class NamedList(list):
    """Enough of snakemake.io.Namedlist: a list whose items are also attributes."""

    def __init__(self, items=(), **named):
        super().__init__(list(items) + [v for v in named.values() if not isinstance(v, list)]
                         if not items else items)
        for key, value in named.items():
            setattr(self, key, value)

    def get(self, key, default=None):
        return getattr(self, key, default)


class FakeSnakemake:
    def __init__(self, inputs, output, log, params=None, threads=1):
        self.input = inputs
        self.output = output if isinstance(output, NamedList) else NamedList([str(output)])
        self.log = NamedList([str(log)])
        self.params = NamedList([], **(params or {}))
        self.threads = threads


def run_script(name: str, smk: FakeSnakemake) -> None:
    runpy.run_path(str(REPO / "scripts" / name), init_globals={"snakemake": smk}, run_name="__main__")


@pytest.fixture()
def report(tmp_path, monkeypatch):
    """Runs the report job; returns the paths of results.json, report.html and report.pdf."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795240800")  # 2026-11-21T06:00:00Z
    p = fixture_paths()
    out = tmp_path / "results" / "report"
    studies = tmp_path / "results" / "studies" / "studies.json"   # what the studies job writes
    studies.parent.mkdir(parents=True)
    studies.write_text(json.dumps({"studies": [json.loads(Path(s).read_text()) for s in p["study_paths"]]}))
    inputs = NamedList([], prisma=p["prisma_path"], studies=str(studies), rob=p["rob_path"],
                       pooled=p["pooled_paths"], subgroups=p["subgroups_paths"], leave_one_out=p["loo_paths"],
                       review=p["review_path"])

    def run(cache="pdf_parts", pdf=True):
        outputs = {"results": str(out / "results.json"), "html": str(out / "report.html"),
                   "figures": str(out / "figures" / "index.csv"), "data": str(out / "data" / "index.csv")}
        outputs |= {"pdf": str(out / "report.pdf")} if pdf else {}
        params = {"config": CONFIG, "reports_dir": str(tmp_path / "reports"), "cache": str(out / cache),
                  "content_cache": str(tmp_path / "results" / ".cache")}
        run_script("report.py", FakeSnakemake(inputs, NamedList(list(outputs.values()), **outputs),
                                              tmp_path / "report.log", params, threads=2 if pdf else 1))
        return out / "results.json", out / "report.html", out / "report.pdf"

    return run


def test_results_json_and_html_are_reproducible(report, tmp_path):
    results, html, pdf = report(pdf=False)
    first_json, first_html = results.read_bytes(), html.read_bytes()
    assert json.loads(first_json)["generated_at"] == "2026-11-21T06:00:00Z"
    assert json.loads(first_json)["version"] == "2026-11-21"
    figures = sorted((tmp_path / "results" / ".cache" / "report-figures").rglob("*.json"))
    assert len(figures) == len(json.loads(first_json)["analyses"])  # one entry per analysis's drawn figures
    report(pdf=False)
    assert results.read_bytes() == first_json
    assert html.read_bytes() == first_html  # byte-identical HTML for the same input, its figures from the cache
    assert sorted((tmp_path / "results" / ".cache" / "report-figures").rglob("*.json")) == figures
    # the HTML says what results.json says: rendered from the file's content, not from the job's objects
    from livingmeta.report.render import render_html

    assert render_html(json.loads(first_json)) == first_html.decode("utf-8")
    # without a PDF output (config report.pdf: false) the job writes results.json and the HTML only
    assert not pdf.exists()
    assert not (tmp_path / "results" / "report" / "pdf_parts").exists()


def test_pdf_job(report, tmp_path):
    results, html_path, pdf = report(pdf=False)
    html = html_path.read_bytes()
    report()
    assert html_path.read_bytes() == html  # the same HTML, written by the same job
    data = pdf.read_bytes()
    # byte-identical PDF for the same input (SOURCE_DATE_EPOCH): rendered afresh, and from the cache
    report(cache="other_cache")
    assert pdf.read_bytes() == data
    report()
    assert pdf.read_bytes() == data
    log = (tmp_path / "report.log").read_text()
    assert "rendered 0 document(s) (none)" in log
    assert "report steps (s): start " in log and ", pdf " in log  # where an update's time goes
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed: PDF generated but its text not checked")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    # text stays text: headings, table cells and the words inside the SVG figures are extractable
    for expected in ("Exosome-loaded hydrogels", "Summary of results", "Illustrative data",
                     "Total (k = 4)", "Test for subgroup differences", "Records screened (n = 402)",
                     "Random sequence generation", "Favours treatment", "Version 2026-11-21", "Page 2 of"):
        assert expected in text, expected


def test_a_failing_render_worker_fails_the_build_with_its_error(tmp_path):
    from livingmeta.report.pdf import Renderer

    cache = tmp_path / "cache"
    renderer = Renderer(cache, 2).start()
    cache.rmdir()
    cache.write_text("a file where the cache folder should be")  # the worker cannot write the part
    try:
        with pytest.raises(OSError) as raised:
            renderer.collect(renderer.submit({"key": "<!DOCTYPE html><html><body><p>x</p></body></html>"}))
        assert str(cache) in str(raised.value)
    finally:
        renderer.close()
    assert renderer._process is None


def test_pdf_refuses_network_and_files():
    from livingmeta.report.pdf import offline_fetcher

    fetcher = offline_fetcher()
    for url in ("http://example.org/x.css", "https://example.org/font.woff", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    response = fetcher.fetch("data:text/plain;base64,aGk=")
    assert response.read() == b"hi"


def test_pdf_skips_external_resources(tmp_path):
    from livingmeta.report.pdf import html_to_pdf

    html = ('<!DOCTYPE html><html><body><p>offline</p><img src="http://192.0.2.1/x.png">'
            '<link rel="stylesheet" href="https://192.0.2.1/x.css"></body></html>')
    html_to_pdf(html, tmp_path / "x.pdf")  # no hang, no fetch: the refused resources are skipped
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF-")
