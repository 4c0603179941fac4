"""Rule rob_summary: SYRCLE judgements of all included studies and counts per item and per study."""
from livingmeta.jsonio import read_json, write_json
from livingmeta.rob import summarise
from livingmeta.scripting import run_job


def main(smk):
    docs = [read_json(p) for p in smk.input]
    write_json(smk.output[0], summarise(docs, list(smk.params.studies)))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
