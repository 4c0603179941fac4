"""Workflow at scale: a synthetic review of N studies x A analyses (benchmarks/make_synthetic_review.py).

    .venv/bin/python benchmarks/bench_scale.py [--studies 100 1000 3000] [--analyses 50] [--cores 2] [--no-pdf]

For each N, in a fresh temporary folder: the full run from scratch, a no-op rerun, adding one study
(reporting 4 analyses) and editing one study's numbers; printed with the number of jobs each run executed,
the peak resident memory of the largest process of the run (Snakemake or a job), and the sizes of
report.html, report.pdf and results.json. Targets (issue: a 1,000-study living review on two cores): at
1,000 x 50, full <= 5 min, add one study <= 20 s, no-op <= 3 s, peak memory <= 2 GB; from 1,000 to 3,000
studies the full run grows at most linearly and adding a study stays <= 30 s. A benchmark, not a test.

Figures (2-core machine otherwise idle, 2026-12-05, PDF on; `--studies 100 1000` and `--studies 3000`):
N = 100: full 34.2 s (57 jobs), no-op 1.3 s, add one study 7.8 s (8 jobs), edit one study 6.6 s, peak 136 MB,
report.pdf 186 pages + report-appendix.pdf 121 pages. N = 1,000: full 128.2 s, no-op 1.6 s, add one 13.8 s,
edit one 11.0 s, peak 412 MB, report.html 0.3 MB summary page + 62 pages (22.4 MB), report.pdf 419 pages
(3.2 MB), report-appendix.pdf 1,184 pages (20.2 MB), results.json 11.5 MB. N = 3,000: full 344 s, no-op
2.9 s, add one 30.3 s (38 s in a repeat), edit one 22.2 s, peak 1,040 MB, report.pdf 773 pages (5.7 MB),
report-appendix.pdf 3,515 pages (60.1 MB), pages/ 82 pages (61.9 MB), results.json 33.6 MB.
Figures (2026-12-06, after the report job's per-update work was cut: analysis figures drawn once per content,
orjson, the history from the newest version, long leave-one-out tables summarised in print; the machine ran
about 1.5 times slower than on 2026-12-05: at N = 100 the 2026-12-05 commit e7fc337 took 52.7 s full and
10.0 s to add a study the same hour, this one 49.7 s and 8.8 s): `--studies 1000 3000`:
N = 1,000: full 244.2 s, no-op 2.0 s, add one 15.9 s, edit one 10.8 s, peak 428 MB, report.pdf 321 pages
(2.9 MB), report-appendix.pdf 1,184 pages (20.1 MB), pages/ 62 pages (22.5 MB), results.json 11.5 MB.
N = 3,000: full 641.2 s (2.6 times the 1,000-study run), no-op 3.2 s, add one 27.3 s, edit one 19.5 s, peak
1,080 MB, report.pdf 507 pages (4.7 MB), report-appendix.pdf 3,515 pages (59.7 MB), pages/ 82 pages
(62.0 MB), results.json 33.6 MB.
With HarfBuzz-Subset and Liberation Sans installed (`make system-deps`; the same day, same machine):
N = 1,000: full 117.4 s, no-op 1.9 s, add one 12.1 s, edit one 9.0 s, peak 429 MB, report.pdf 318 pages
(3.2 MB), report-appendix.pdf 1,184 pages (21.7 MB), results.json 11.5 MB.
N = 3,000: full 297.7 s (2.5 times the 1,000-study run), no-op 2.7 s, add one 21.9 s, edit one 16.1 s, peak
1,084 MB, report.pdf 497 pages (4.9 MB), report-appendix.pdf 3,515 pages (64.5 MB), results.json 33.6 MB.
Later the same day, the PDF workers parsing the report's stylesheet once instead of once per section:
N = 1,000: full 108.2 s, no-op 2.3 s, add one 11.5 s, edit one 9.2 s, peak 436 MB (same pages and sizes).
N = 3,000: full 276.9 s (2.6 times the 1,000-study run), no-op 2.7 s, add one 21.8 s, edit one 16.1 s, peak
1,087 MB (same pages and sizes).
Before the job-granularity redesign (one job per study, three per analysis, one-page report): at 100 studies
full 180 s (357 jobs; printed as 714, counting Snakemake's total line) and add one 20.8 s; at 1,000 studies full 48 min (2,159 jobs) and add one 1 min 46 s.
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
