"""``livingmeta import screening --from rayyan|asreview|covidence FILE --out OUT.csv``: screening decisions
made in another tool as a livingmeta decision file (docs/screening.md, "Importing decisions from Rayyan,
ASReview, Covidence"; :mod:`livingmeta.interchange.screening_import`).

Records are matched to the review's searches (``--review``, default ``review``) by DOI, PMID and then by
the deduplication rules; records that match nothing or more than one article are printed and written to
``OUT.unmatched.csv``, never dropped. Nothing is written unless the import succeeds; an existing file is
never overwritten. Bad input gives one line ``livingmeta: error: ...`` and exit status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.scripting import ERROR_PREFIX


def add_arguments(parser) -> None:
    from livingmeta.interchange.screening_import import STAGES, TOOLS

    parser.add_argument("file", metavar="FILE", help="the tool's export (CSV; ASReview: also an .asreview project "
                                                "file; Covidence: also RIS)")
    parser.add_argument("--from", dest="tool", required=True, choices=TOOLS, help="the tool that wrote FILE")
    parser.add_argument("--out", required=True, help="the decision file to write (must not exist)")
    parser.add_argument("--review", default="review", help="the review folder (default: review)")
    parser.add_argument("--stage", default="title_abstract", choices=STAGES, help="screening stage of FILE")
    parser.add_argument("--reviewer", help="who decided (required for ASReview; Rayyan: import only this "
                                           "member's decisions; Covidence: default 'Covidence')")
    parser.add_argument("--decision", choices=("include", "exclude"),
                        help="Covidence: the decision of the exported list (its export has no decision column)")
    parser.add_argument("--reason", help="Covidence: the exclusion reason of an exported 'Excluded' list")


def run(args) -> int:
    from livingmeta.interchange.screening_import import import_screening, unmatched_path
    from livingmeta.records.keys import library_of_review

    try:
        if not (Path(args.review) / "searches").is_dir():
            raise ReviewInputError("no searches/ folder: not a review folder", file=args.review,
                                   hint="Give the review folder with --review.")
        if Path(args.out).resolve().parent == (Path(args.review) / "screening").resolve():
            raise ReviewInputError(
                "the output would be written into the review's screening folder, where the list of records "
                "not imported (OUT.unmatched.csv) would stop the run (any other CSV file there is an error)",
                file=args.out, field="--out",
                hint="Write OUT elsewhere, check the listed records, then move OUT into review/screening/.")
        if Path(args.out).exists():
            raise ReviewInputError("the output file exists already", file=args.out,
                                   hint="Give a new --out file name; livingmeta never overwrites a decision file.")
        result = import_screening(args.tool, args.file, args.out, records=library_of_review(args.review),
                                  stage=args.stage, reviewer=args.reviewer, decision=args.decision,
                                  reason=args.reason)
    except ReviewInputError as err:
        for line in err.format().splitlines():
            print(ERROR_PREFIX + line, file=sys.stderr)
        return 1
    for p in result.problems:
        print(f"livingmeta: not imported: {args.file}: row {p['row']}: {p['problem']}: "
              f"{p['reviewer']} {p['decision']}: {str(p['title'])[:80]}"
              + (f" (candidates: {p['candidates']})" if p["candidates"] else ""), file=sys.stderr)
    print(f"livingmeta: {result.n_exported} exported records, {result.n_matched} matched, "
          f"{len(result.rows)} decisions -> {args.out}; {result.n_undecided} without a decision (not imported)"
          + (f"; {len(result.problems)} not imported -> {unmatched_path(args.out)}" if result.problems else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(prog="livingmeta import screening", description=__doc__.splitlines()[0])
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
