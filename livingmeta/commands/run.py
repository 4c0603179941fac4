"""``livingmeta run``: run the workflow through Snakemake's command line and say what happened.

Extra arguments are passed to Snakemake (e.g. ``livingmeta run -n``). On failure the review-input
problems reported by the jobs (lines starting ``livingmeta: error:``) are gathered into one summary; the
published report is untouched (publishing is the workflow's last job).
"""

from __future__ import annotations

import sys

from livingmeta.living.runner import SNAKEFILE, nothing_to_do, problems_in, run_snakemake, snakemake_command

ACCEPTS_EXTRA_ARGS = True


def add_arguments(parser) -> None:
    parser.add_argument("--configfile", help="the review's config file (default: config.yaml here)")
    parser.add_argument("--cores", default="all", help="cores for Snakemake (default: all)")
    parser.add_argument("--snakefile", default=str(SNAKEFILE), help="the workflow's Snakefile")


def explain_failure(text: str) -> None:
    problems = problems_in(text)
    if problems:
        print(f"livingmeta: the run stopped: {len(problems)} problem(s) in the review inputs:", file=sys.stderr)
        for msg in problems:
            print(f"  - {msg}", file=sys.stderr)
    else:
        print("livingmeta: the run failed (see Snakemake's messages above and the job logs).", file=sys.stderr)
    print("livingmeta: nothing was published; the last published report is unchanged.", file=sys.stderr)


def run(args) -> int:
    extra = list(getattr(args, "extra", []) or [])
    cmd = snakemake_command(configfile=args.configfile, cores=args.cores, snakefile=args.snakefile, extra=extra)
    status, text = run_snakemake(cmd)
    if status != 0:
        explain_failure(text)
        return status
    latest = _latest_report(args.configfile or "config.yaml")
    if nothing_to_do(text):
        print(f"livingmeta: nothing changed since the last run; the published report is up to date ({latest}).")
    elif not {"-n", "--dry-run", "--dryrun"} & set(extra):
        print(f"livingmeta: done; published {latest}")
    return 0


def _latest_report(configfile: str) -> str:
    """Where the latest published report is, for the closing message."""
    import os

    from livingmeta.config import load
    from livingmeta.errors import ReviewInputError

    try:
        reports = load(configfile)["reports_dir"]
    except ReviewInputError:
        return "see the reports folder"
    latest = os.path.join(reports, "latest")
    version = os.readlink(latest) if os.path.islink(latest) else "none"
    return f"{os.path.join(latest, 'report.html')} (version {version})"
