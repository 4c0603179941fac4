"""Rule parse_export: one search export -> results/records/parsed/<source>/<name>.json.

Every problem of the file (a damaged record, bytes that are not UTF-8, text outside any record) is
written as one ``livingmeta: warning: <file>: record N: <message>`` line to stderr, so that it reaches the
console, and to the job's log.
"""
import sys

from livingmeta.scripting import run_job

WARNING_PREFIX = "livingmeta: warning: "


def main(smk):
    from livingmeta.jsonio import write_json
    from livingmeta.records.ingest import format_problem, parse_export

    path = str(smk.input[0])
    parsed = parse_export(path, source=str(smk.params.source), name=str(smk.wildcards.name))
    warnings = [WARNING_PREFIX + format_problem(path, problem) + "\n" for problem in parsed["problems"]]
    sys.stderr.write("".join(warnings))
    if smk.log:
        with open(str(smk.log[0]), "a", encoding="utf-8") as log:
            log.write(f"{path}: {parsed['format']}, {parsed['n_records']} records, "
                      f"{parsed['n_problem_records']} with problems\n")
            log.write("".join(warnings))
    write_json(smk.output[0], parsed)


run_job(snakemake, main)  # noqa: F821
