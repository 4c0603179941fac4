"""``livingmeta run``: run the workflow through Snakemake's command line and say what happened.

Extra arguments are passed to Snakemake (e.g. ``livingmeta run -n``). On failure the review-input
problems reported by the jobs (lines starting ``livingmeta: error:``) are gathered into one summary, and
the published report is untouched (publishing is the workflow's last job).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from livingmeta.scripting import ERROR_PREFIX

ACCEPTS_EXTRA_ARGS = True
REPO = Path(__file__).resolve().parents[2]
NOTHING_TO_DO = "Nothing to be done"


def add_arguments(parser) -> None:
    parser.add_argument("--configfile", help="the review's config file (default: config.yaml of the example)")
    parser.add_argument("--cores", default="all", help="cores for Snakemake (default: all)")
    parser.add_argument("--snakefile", default=str(REPO / "Snakefile"), help="the workflow's Snakefile")


def snakemake_command(args) -> list[str]:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", args.snakefile, "--cores", str(args.cores),
           "--rerun-incomplete"]
    if args.configfile:
        cmd += ["--configfile", args.configfile]
    return cmd + list(getattr(args, "extra", []) or [])


def problems_in(text: str) -> list[str]:
    seen, out = set(), []
    for line in text.splitlines():
        idx = line.find(ERROR_PREFIX)
        if idx >= 0:
            msg = line[idx + len(ERROR_PREFIX):].strip()
            if msg not in seen:
                seen.add(msg)
                out.append(msg)
    return out


def run(args) -> int:
    cmd = snakemake_command(args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    captured = []
    assert proc.stdout is not None
    for line in proc.stdout:
        captured.append(line)
        if ERROR_PREFIX not in line:
            sys.stdout.write(line)
            sys.stdout.flush()
    status = proc.wait()
    text = "".join(captured)
    if status != 0:
        problems = problems_in(text)
        print()
        if problems:
            print(f"livingmeta: the run stopped: {len(problems)} problem(s) in the review inputs:", file=sys.stderr)
            for msg in problems:
                print(f"  - {msg}", file=sys.stderr)
        else:
            print("livingmeta: the run failed (see Snakemake's messages above and the job logs).", file=sys.stderr)
        print("livingmeta: nothing was published; the last published report is unchanged.", file=sys.stderr)
        return status
    if NOTHING_TO_DO in text:
        print("livingmeta: nothing changed since the last run; the published report is up to date.")
    elif "-n" not in cmd and "--dry-run" not in cmd:
        print("livingmeta: done; the latest report is in the reports folder (reports/latest/report.html).")
    return 0
