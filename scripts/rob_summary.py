"""Rule rob_summary: the judgements of all included studies under the review's tool, counts per domain
and per study, and each study's overall judgement (results/rob/summary.json)."""
from livingmeta.jsonio import read_json, write_json
from livingmeta.rob import load_tool, summarise
from livingmeta.scripting import run_job


def main(smk):
    tool = load_tool(smk.params.tool)  # a built-in id or a path relative to the working folder
    docs = [read_json(p) for p in smk.input]
    write_json(smk.output[0], summarise(docs, list(smk.params.studies), tool))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
