"""``livingmeta import revman FILE DIR``: a RevMan 5 review (.rm5) or RevMan Web data package (zip) as a new
livingmeta review folder DIR (docs/interchange.md; :mod:`livingmeta.interchange.revman`).

DIR must not exist or be empty; it is written atomically. Bad input gives one line ``livingmeta: error: ...``
and exit status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.scripting import ERROR_PREFIX


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="the RevMan 5 file (.rm5) or RevMan Web data package (.zip)")
    parser.add_argument("directory", metavar="DIR", help="the review folder to create (must not exist or be empty)")


def run(args) -> int:
    from livingmeta.interchange.revman import import_revman

    try:
        summary = import_revman(args.file, args.directory)
    except ReviewInputError as err:
        for line in err.format().splitlines():
            print(ERROR_PREFIX + line, file=sys.stderr)
        return 1
    for item in summary.get("notes") or []:
        print(f"livingmeta: note: {args.file}: {item}", file=sys.stderr)
    for item in summary["not_imported"]:
        print(f"livingmeta: not imported: {args.file}: {item}", file=sys.stderr)
    print(f"livingmeta: {args.file} ({summary['format']}) -> {args.directory}: {summary['studies']} study files, "
          f"{summary['outcomes']} outcomes, {summary['rob']} risk-of-bias files", file=sys.stderr)
    print(f"Next: check outcomes.yaml and config.yaml, then run\n"
          f"  livingmeta run --configfile {Path(args.directory) / 'config.yaml'}")
    return 0
