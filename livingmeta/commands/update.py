"""``livingmeta update``: the one command cron calls (lock, recover, fetch, run, publish, one-line summary)."""

from __future__ import annotations

from livingmeta.config import load
from livingmeta.errors import ReviewInputError
from livingmeta.living.update import update

ACCEPTS_EXTRA_ARGS = True


def add_arguments(parser) -> None:
    parser.add_argument("--config", "--configfile", dest="configfile", default="config.yaml",
                        help="the review's config file (default: config.yaml)")
    parser.add_argument("--cores", default="all")
    parser.add_argument("--no-fetch", action="store_true", help="do not fetch new records first")
    parser.add_argument("--verbose", action="store_true", help="echo Snakemake's output (it is always logged)")


def run(args) -> int:
    try:
        cfg = load(args.configfile)
    except ReviewInputError as err:
        print(f"livingmeta update: FAILED ({err.format()})")
        return 1
    outcome = update(cfg, configfile=args.configfile, cores=args.cores, fetch=not args.no_fetch,
                     echo=args.verbose, extra=getattr(args, "extra", None))
    print(outcome.summary)
    return outcome.status
