"""Workflow speed on the example review (issue: full <= 30 s, no-op <= 3 s, add-one-study <= 30% of full).

Runs in a temporary copy with the environment already installed:
  1. a full run from scratch (`snakemake --cores 2`),
  2. a no-op rerun,
  3. the rebuild after adding one study that reports a single outcome x timepoint.
Usage: .venv/bin/python benchmarks/bench_workflow.py [--cores 2]
"""
from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", default="2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = copy_example(Path(tmp) / "example")
        full = timed(work, args.cores)
        noop = timed(work, args.cores)
        template = sorted(p.stem for p in (work / "review" / "studies").glob("*.yaml"))[0]
        analysis = add_study_copy(work / "review", template, "benchmark_new_study")
        add_one = timed(work, args.cores)
    print(f"full run from scratch   {full:6.1f} s   (target <= 30 s)")
    print(f"no-op rerun             {noop:6.1f} s   (target <= 3 s)")
    print(f"add one study ({analysis}) {add_one:6.1f} s   = {add_one / full:.0%} of full (target <= 30%)")


if __name__ == "__main__":
    main()
