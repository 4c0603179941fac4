"""Rule rob: validate every risk-of-bias file against the review's tool (config.yaml's risk_of_bias.tool,
default SYRCLE) and write the judgements of all included studies, counts per domain and per study, and each
study's overall judgement (results/rob/summary.json)."""
from livingmeta.extraction.documents import rob_documents
from livingmeta.jsonio import write_json
from livingmeta.rob import load_tool, summarise
from livingmeta.scripting import log_counts, run_job


def main(smk):
    tool = load_tool(smk.params.tool)  # a built-in id or a path relative to the working folder
    counts = {}
    docs = rob_documents(list(smk.input.files), smk.params.tool, cache_dir=smk.params.cache, counts=counts)
    write_json(smk.output[0], summarise(docs, list(smk.params.studies), tool))
    log_counts(smk, "risk-of-bias", counts)


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
