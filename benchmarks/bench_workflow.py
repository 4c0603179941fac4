"""Workflow speed on the example review (issue: full <= 30 s, no-op <= 3 s, add-one-study <= 30% of full).

Runs in a temporary copy with the environment already installed:
  1. a full run from scratch (`snakemake --cores 2`),
  2. a no-op rerun,
  3. the rebuild after adding one study that reports a single outcome x timepoint.
Each is repeated (--repeat, default 3, each time in a fresh copy) and the median is printed, with the
range: single runs on a shared 2-core machine vary by +-15%. The package's bytecode is compiled first, as a
normal environment has it after its first run (this makes no difference where Python writes .pyc files
itself; it does where PYTHONDONTWRITEBYTECODE is set, which would make every job compile the package).
Usage: .venv/bin/python benchmarks/bench_workflow.py [--cores 2] [--repeat 3]

Figures (2-core machine, 2026-11-21): full 13.2 s (13.2-13.4), no-op 1.0 s, add one study 4.8 s
(4.7-4.9) = 36% of full (target 30%: not met). Of the add-one-study run: ~0.9 s Snakemake start-up and
planning, ~1.1 s for the study's and the analysis's jobs, results.json and the HTML, ~2.5 s for the PDF
(nine of its 22 parts change when a study is added: what changed, summary, search, studies, risk of bias,
the analysis, both appendices, plus the contents, the page margins and numbers), ~0.3 s publish and exit.
"""
from __future__ import annotations

import argparse
import compileall
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.workflow.helpers import add_study_copy, copy_example, snakemake  # noqa: E402


def timed(workdir: Path, cores: str) -> float:
    start = time.perf_counter()
    snakemake(workdir, "--cores", cores, check=True)
    return time.perf_counter() - start


def one_round(cores: str) -> tuple[float, float, float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        work = copy_example(Path(tmp) / "example")
        full = timed(work, cores)
        noop = timed(work, cores)
        template = sorted(p.stem for p in (work / "review" / "studies").glob("*.yaml"))[0]
        analysis = add_study_copy(work / "review", template, "benchmark_new_study")
        add_one = timed(work, cores)
    return full, noop, add_one, analysis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", default="2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[1]
    compileall.compile_dir(repo / "livingmeta", quiet=1)
    rounds = [one_round(args.cores) for _ in range(max(1, args.repeat))]
    full, noop, add_one = ([r[i] for r in rounds] for i in range(3))
    analysis = rounds[0][3]

    def show(values: list[float]) -> str:
        return f"{statistics.median(values):6.1f} s  ({min(values):.1f}-{max(values):.1f})"

    ratios = [a / f for a, f in zip(add_one, full)]
    print(f"{len(rounds)} rounds, --cores {args.cores}; median (range)")
    print(f"full run from scratch   {show(full)}   target <= 30 s")
    print(f"no-op rerun             {show(noop)}   target <= 3 s")
    print(f"add one study ({analysis}) {show(add_one)}   = {statistics.median(ratios):.0%} of full "
          f"(per round {', '.join(f'{r:.0%}' for r in ratios)}; target <= 30%)")


if __name__ == "__main__":
    main()
