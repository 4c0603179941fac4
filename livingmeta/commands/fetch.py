"""``livingmeta fetch pubmed``: fetch the records added to PubMed for the review's saved query since the
last successful search, as a dated export ``searches/pubmed/<YYYY-MM-DD>.nbib`` with a ``.search.yaml``
record beside it (query, [crdt] window, counts: PRISMA-S).

Settings come from ``search.pubmed`` in the review's ``review.yaml`` and ``fetch.pubmed`` in the config
(see docs/operations.md). The API key is read from the environment variable named by
``fetch.pubmed.api_key_env`` (default ``NCBI_API_KEY``) and is never printed: every line this command
prints goes through :func:`livingmeta.living.pubmed.redact`, whatever the server sent.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path

import yaml

from livingmeta.errors import ReviewInputError
from livingmeta.living.pubmed import FetchError, RedactFilter, fetch_pubmed, pubmed_settings, redact

ERROR_PREFIX = "livingmeta: error: "
SOURCES = ("pubmed",)


def _date(text: str) -> date:
    import argparse

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_arguments(parser) -> None:
    parser.add_argument("source", choices=SOURCES, help="the database to fetch from")
    parser.add_argument("--config", "--configfile", dest="config", default="config.yaml", metavar="FILE",
                        help="the review's config file (default: config.yaml in the current folder)")
    parser.add_argument("--since", type=_date, metavar="YYYY-MM-DD",
                        help="first creation date to search (default: the end of the last successful search)")
    parser.add_argument("--until", type=_date, metavar="YYYY-MM-DD",
                        help="last creation date to search (default: today)")
    parser.add_argument("--dry-run", "-n", action="store_true",
                        help="only count the matching records; fetch and write nothing")


def load_config(path: str | os.PathLike) -> tuple[dict, Path]:
    """The config file as a plain dict, and the review folder it names (relative paths are resolved
    against the config file's folder)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        raise ReviewInputError("config file not found", file=str(path),
                               hint="Give the review's config with --config FILE.") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ReviewInputError(f"cannot be read as YAML ({err.__class__.__name__})", file=str(path)) from None
    if not isinstance(config, dict):
        raise ReviewInputError("must be a mapping of settings", file=str(path))
    review = Path(os.path.expanduser(str(config.get("review_dir", "review"))))
    if not review.is_absolute():
        review = path.resolve().parent / review
    return config, Path(os.path.normpath(review))


class _Handler(logging.StreamHandler):
    def __init__(self):
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("livingmeta: %(message)s"))
        self.setLevel(logging.WARNING)
        self.addFilter(RedactFilter())


def run(args) -> int:
    logger = logging.getLogger("livingmeta.pubmed")
    handler = _Handler()
    logger.addHandler(handler)
    try:
        config, review_dir = load_config(args.config)
        if not review_dir.is_dir():
            raise ReviewInputError(f"the review folder '{review_dir}' does not exist", file=str(args.config),
                                   field="review_dir")
        settings = pubmed_settings(review_dir, config, config_file=str(args.config))
        result = fetch_pubmed(review_dir, settings, since=args.since, until=args.until, dry_run=args.dry_run)
    except (ReviewInputError, FetchError) as err:
        message = err.format() if isinstance(err, ReviewInputError) else str(err)
        for line in redact(message).splitlines():  # FetchError is redacted already; this is the last guard
            print(ERROR_PREFIX + line, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(ERROR_PREFIX + "interrupted; nothing was written.", file=sys.stderr)
        return 130
    finally:
        logger.removeHandler(handler)
    print(redact(result.summary()))
    return 0
