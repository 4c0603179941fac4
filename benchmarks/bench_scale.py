"""Workflow at scale: a synthetic review of N studies x A analyses (benchmarks/make_synthetic_review.py).

    .venv/bin/python benchmarks/bench_scale.py [--studies 100 1000 3000] [--analyses 50] [--cores 2] [--no-pdf]

For each N, in a fresh temporary folder: the full run from scratch, a no-op rerun, adding one study
(reporting 4 analyses) and editing one study's numbers; printed with the number of jobs each run executed,
the peak resident memory of the largest process of the run (Snakemake or a job), and the sizes of
report.html, report.pdf and results.json. Targets (issue: a 1,000-study living review on two cores): at
1,000 x 50, full <= 5 min, add one study <= 20 s, no-op <= 3 s, peak memory <= 2 GB; from 1,000 to 3,000
studies the full run grows at most linearly and adding a study stays <= 30 s. A benchmark, not a test.

Figures (2-core machine shared with other work, 2026-12-05, `--studies 100`, PDF on): full run 180 s (714
jobs), no-op 1.6 s (0 jobs; measured on its own, PDF off), add one study 20.8 s (128 jobs), edit one study 13.8 s (32 jobs), peak 143 MB,
report.html 3.6 MB, report.pdf 5.2 MB, results.json 1.5 MB. At 20 studies x 10 analyses without the PDF:
full 25 s (154 jobs), add one 7.3 s (48 jobs). The 1,000-study targets are not met: the job count grows
with the studies (two jobs per study) and the report is one job; see the issue.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from make_synthetic_review import write_review, write_study  # noqa: E402


def run(work: Path, cores: str) -> tuple[float, int, float]:
    """(seconds, jobs executed, peak RSS in MB of the largest child process so far)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                          "--configfile", str(work / "config.yaml"), "--directory", str(work),
                          "--cores", cores, "--quiet", "rules"],
                         capture_output=True, text=True)
    secs = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"snakemake failed in {work}:\n{out.stderr[-3000:]}")
    jobs = sum(int(n) for name, n in re.findall(r"^(\S+)\s+(\d+)$", out.stdout + out.stderr, flags=re.M)
               if name not in ("total", "all"))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return secs, jobs, peak


def size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB" if path.exists() else "-"


def pdf_pages(path: Path) -> str:
    if not path.exists():
        return ""
    from pypdf import PdfReader

    return f" ({len(PdfReader(str(path)).pages)} pages)"


def html_pages(report: Path) -> str:
    """report.html, and the pages of the layout in pages (pages/index.csv lists them) with their total size."""
    index = report / "pages" / "index.csv"
    if not index.exists():
        return f"report.html {size(report / 'report.html')} (one page)"
    import csv

    with open(index, newline="", encoding="utf-8") as handle:
        files = [report / "pages" / row["file"] for row in csv.DictReader(handle)]
    total = sum(f.stat().st_size for f in files if f.exists()) / 1e6
    largest = max((f.stat().st_size for f in files if f.exists()), default=0) / 1e6
    return (f"report.html {size(report / 'report.html')} (summary page) + {len(files)} pages "
            f"({total:.1f} MB, largest {largest:.1f} MB)")


def one(n: int, analyses: int, cores: str, pdf: bool) -> None:
    import random

    with tempfile.TemporaryDirectory() as tmp:
        work = write_review(Path(tmp) / "review_root", n, analyses, pdf=pdf)
        full = run(work, cores)
        noop = run(work, cores)
        rng = random.Random(99)
        analysis_ids = [(f"outcome_{o:02d}", tp) for o in range(max(1, analyses // 2)) for tp in ("4 weeks", "8 weeks")]
        write_study(work / "review", "study_new", rng, rng.sample(analysis_ids, 4),
                    {a: 0.8 for a in analysis_ids})
        add = run(work, cores)
        edited = work / "review" / "studies" / "study00000.yaml"
        text = edited.read_text(encoding="utf-8")
        edited.write_text(re.sub(r"mean: (\d+)\.", lambda m: f"mean: {int(m.group(1)) + 1}.", text, count=1),
                          encoding="utf-8")
        edit = run(work, cores)
        report = work / "results" / "report"
        print(f"N = {n} studies x {analyses} analyses, --cores {cores}, PDF {'on' if pdf else 'off'}")
        for name, (secs, jobs, _) in (("full run", full), ("no-op", noop), ("add one study", add),
                                      ("edit one study", edit)):
            print(f"  {name:15s} {secs:8.1f} s  {jobs:6d} jobs")
        print(f"  peak memory of the largest process: {max(full[2], add[2]):.0f} MB")
        print(f"  {html_pages(report)}")
        print(f"  report.pdf {size(report / 'report.pdf')}{pdf_pages(report / 'report.pdf')}, "
              f"report-appendix.pdf {size(report / 'report-appendix.pdf')}"
              f"{pdf_pages(report / 'report-appendix.pdf')}, results.json {size(report / 'results.json')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--studies", type=int, nargs="+", default=[100, 1000, 3000])
    ap.add_argument("--analyses", type=int, default=50)
    ap.add_argument("--cores", default="2")
    ap.add_argument("--no-pdf", action="store_true")
    a = ap.parse_args()
    for n in a.studies:
        one(n, a.analyses, a.cores, not a.no_pdf)


if __name__ == "__main__":
    main()
