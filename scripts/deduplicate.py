"""Rule deduplicate: parsed exports (+ review/screening/duplicates.csv) -> dedup.json, dedup_review.csv.

Records get their stable ids here (``<source>:<export>:<key>``, livingmeta.records.keys): every decision
file names records by them."""
from livingmeta.scripting import run_job


def main(smk):
    from livingmeta.jsonio import read_json, write_json
    from livingmeta.records.dedup import build_library, read_decisions, write_review_csv
    from livingmeta.records.keys import assign_stable_ids

    parsed = [read_json(str(p)) for p in smk.input.parsed]
    assign_stable_ids(parsed)
    records = [r for export in parsed for r in export["records"]]
    decisions, files = [], [str(p) for p in smk.input.decisions]
    for path in files:
        decisions.extend(read_decisions(path, records=records))
    settings = dict(getattr(smk.params, "settings", None) or {})
    library = build_library(parsed, decisions, decisions_file=", ".join(files),
                            link_errata=bool(settings.get("link_errata", False)))
    write_json(smk.output.library, library)
    write_review_csv(smk.output.review, library["review_pairs"], library["records"])
    if smk.log:
        with open(str(smk.log[0]), "a", encoding="utf-8") as log:
            log.write(f"{library['n_records']} records, {library['n_clusters']} clusters, "
                      f"{library['duplicates_removed']} duplicates removed, "
                      f"{len(library['review_pairs'])} pairs to review ({library.get('review_pairs_withheld', 0)} less "
                      f"likely pairs withheld), {len(decisions)} reviewer decisions\n")


run_job(snakemake, main)  # noqa: F821
