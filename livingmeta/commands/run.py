"""``livingmeta run``: run the workflow through Snakemake's command line and say what happened.

Extra arguments are passed to Snakemake (e.g. ``livingmeta run -n``). The run is supervised like
`livingmeta update` (:mod:`livingmeta.living.session`: the run lock over the whole process tree, recovery
from a killed run, status.json). On failure the causes (the review-input problems the jobs reported, or
the jobs that failed and their logs) are gathered into one summary; the published report is untouched
(publishing is the workflow's last job).
"""

from __future__ import annotations

import os
import sys

from livingmeta.errors import ReviewInputError
from livingmeta.living.runner import SNAKEFILE
from livingmeta.living.session import DRY_RUN_FLAGS, supervised_run

ACCEPTS_EXTRA_ARGS = True
EXIT = {"failed": 1, "busy": 1}
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}


def add_arguments(parser) -> None:
    parser.add_argument("--configfile", help="the review's config file (default: config.yaml here)")
    parser.add_argument("--cores", default="all", help="cores for Snakemake (default: all)")
    parser.add_argument("--snakefile", default=str(SNAKEFILE), help="the workflow's Snakefile")


def explain_failure(problems: list[str]) -> None:
    if problems:
        print(f"livingmeta: the run stopped: {len(problems)} problem(s):", file=sys.stderr)
        for msg in problems:
            print(f"  - {msg}", file=sys.stderr)
    else:
        print("livingmeta: the run failed (see Snakemake's messages above and the job logs).", file=sys.stderr)
    print("livingmeta: nothing was published; the last published report is unchanged.", file=sys.stderr)


def run(args) -> int:
    from livingmeta.config import load

    extra = list(getattr(args, "extra", []) or [])
    configfile = args.configfile
    try:
        cfg = load(configfile or "config.yaml")
    except ReviewInputError as err:
        print(f"livingmeta: error: {err.format()}", file=sys.stderr)
        return 1
    try:
        session = supervised_run(cfg, configfile=configfile, cores=args.cores, extra=extra, echo=True,
                                 command="run", snakefile=args.snakefile)
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        print(f"livingmeta: error: cannot write in the results folder {cfg['results_dir']}: {err.strerror or err}"
              f"{where}; make it writable and run again.", file=sys.stderr)
        return 1
    for note in session.notes:
        print(f"livingmeta: {note}")
    if session.state == "busy":
        print(f"livingmeta: {session.problems[0]}; nothing done.", file=sys.stderr)
        return 1
    if session.state == "interrupted":
        print(f"livingmeta: {session.problems[0]}.", file=sys.stderr)
        return SIGNAL_EXIT.get(session.stopped_by or "", 1)
    if session.state == "failed":
        explain_failure(session.problems)
        return session.code or 1
    if DRY_RUN_FLAGS & set(extra):
        return 0
    latest = _latest_report(cfg)
    published = session.published or {}
    if session.nothing_to_do or not session.jobs:
        print(f"livingmeta: nothing changed since the last run; the published report is up to date ({latest}).")
    elif published.get("restored"):
        print(f"livingmeta: done; the publication of {published.get('version')} was restored ({latest})")
    elif published.get("unchanged"):
        print(f"livingmeta: re-checked {len(session.jobs)} job(s) ({', '.join(dict.fromkeys(session.jobs))}); "
              f"nothing a reader sees changed, so no new version was published ({latest}).")
    elif published:
        print(f"livingmeta: done; published {latest}")
    else:
        print("livingmeta: done (publishing is off in the config).")
    return 0


def _latest_report(cfg: dict) -> str:
    """Where the latest published report is, for the closing message."""
    latest = os.path.join(cfg["reports_dir"], "latest")
    version = os.readlink(latest) if os.path.islink(latest) else "none"
    return f"{os.path.join(latest, 'report.html')} (version {version})"
