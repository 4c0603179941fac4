"""``livingmeta dedup INPUT... --out clusters.csv``: deduplicate search exports outside the workflow.

INPUT is any supported export (RIS, MEDLINE/.nbib, PubMed XML, Web of Science, BibTeX, EndNote XML, CSV)
or a CSV with a ``record_id`` (or ``ID``) column, whose ids are kept as given. Other records get the id
``<source>:<export name>:<position>`` where the source is the folder holding the file (``--source``
overrides it) and the export name is the file name without extension. Writes ``record_id,cluster_id``
for every input record (input order); ``--review`` writes the pairs left for reviewers, ``--json`` the
whole library (the format of ``results/records/dedup.json``), ``--decisions`` reads forced decisions
(``record_a,record_b,decision,reviewer,note``). Bad input gives one line ``livingmeta: error: ...`` and
exit status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.scripting import ERROR_PREFIX


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="export files or CSV files with record_id")
    parser.add_argument("--out", required=True, help="output CSV: record_id,cluster_id")
    parser.add_argument("--review", help="also write the uncertain pairs (dedup_review.csv format)")
    parser.add_argument("--json", dest="json_out", help="also write the deduplicated library as JSON")
    parser.add_argument("--decisions", action="append", default=[],
                        help="reviewers' forced decisions (record_a,record_b,decision,reviewer,note)")
    parser.add_argument("--source", help="source name for the record ids (default: the file's folder name)")
    parser.add_argument("--link-errata", action="store_true",
                        help="merge an erratum notice with the article it names (volume and page)")


def run(args) -> int:
    from livingmeta.jsonio import write_json
    from livingmeta.records.dedup import build_library, read_decisions, write_clusters_csv, write_review_csv
    from livingmeta.records.ingest import format_problem, parse_export

    try:
        parsed = []
        for path in args.inputs:
            if not Path(path).is_file():
                raise ReviewInputError("file not found", file=path)
            source = args.source or Path(path).resolve().parent.name or "input"
            parsed.append(parse_export(path, source=source, keep_ids=True))
        records = [r for export in parsed for r in export["records"]]
        known = {r["record_id"] for r in records}
        if len(known) != len(records):
            raise ReviewInputError("the inputs share record ids (give each input a different --source, or "
                                   "make the record_id columns unique)")
        decisions = []
        for path in args.decisions:
            decisions.extend(read_decisions(path, known_ids=known))
        library = build_library(parsed, decisions, decisions_file=", ".join(args.decisions),
                                link_errata=args.link_errata)
    except ReviewInputError as err:
        for line in err.format().splitlines():
            print(ERROR_PREFIX + line, file=sys.stderr)
        return 1
    cluster_of = {r["record_id"]: r["cluster_id"] for r in library["records"]}
    write_clusters_csv(args.out, [r["record_id"] for r in records], [cluster_of[r["record_id"]] for r in records])
    if args.review:
        write_review_csv(args.review, library["review_pairs"], library["records"])
    if args.json_out:
        write_json(args.json_out, library)
    for export in parsed:
        for problem in export["problems"]:
            print(f"livingmeta: warning: {format_problem(export['file'], problem)}", file=sys.stderr)
    print(f"livingmeta: {library['n_records']} records, {library['n_clusters']} clusters, "
          f"{library['duplicates_removed']} duplicates, {len(library['review_pairs'])} pairs to review"
          f"{_withheld(library)} -> {args.out}", file=sys.stderr)
    return 0


def _withheld(library: dict) -> str:
    n = library.get("review_pairs_withheld", 0)
    return f" ({n} less likely pairs withheld: the list is capped at 2 % of the records)" if n else ""


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(prog="livingmeta dedup", description=__doc__.splitlines()[0])
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
