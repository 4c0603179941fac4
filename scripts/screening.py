"""Rule screening: join the reviewers' decisions to the deduplicated library; write screening.json and
the queue of records still to screen (screening_queue.csv)."""
from livingmeta.jsonio import read_json, write_json
from livingmeta.records import screening
from livingmeta.scripting import run_job


def main(smk):
    settings = (dict(smk.params.settings or {})).get("screening")
    result = screening.screen(read_json(smk.input.library), list(smk.input.decisions), settings)
    write_json(smk.output.screening, result)
    screening.write_queue_csv(smk.output.queue, result["queue"])


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
