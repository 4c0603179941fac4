"""Rule parse_export: one search export -> results/records/parsed/<source>/<name>.json."""
from livingmeta.scripting import run_job


def main(smk):
    from livingmeta.jsonio import write_json
    from livingmeta.records.ingest import format_problem, parse_export

    path = str(smk.input[0])
    parsed = parse_export(path, source=str(smk.params.source), name=str(smk.wildcards.name))
    if smk.log:
        with open(str(smk.log[0]), "a", encoding="utf-8") as log:
            log.write(f"{path}: {parsed['format']}, {parsed['n_records']} records, "
                      f"{parsed['n_problem_records']} with problems\n")
            for problem in parsed["problems"]:
                log.write(f"livingmeta: warning: {format_problem(path, problem)}\n")
    write_json(smk.output[0], parsed)


run_job(snakemake, main)  # noqa: F821
