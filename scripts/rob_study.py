"""Rule rob_study: validate one risk-of-bias file against the review's tool (config.yaml's
risk_of_bias.tool, default SYRCLE) and write results/rob/studies/<study>.json."""
from livingmeta.jsonio import write_json
from livingmeta.rob import load_rob, load_tool, rob_document
from livingmeta.scripting import run_job


def main(smk):
    tool = load_tool(smk.params.tool)  # a built-in id or a path relative to the working folder
    write_json(smk.output[0], rob_document(load_rob(smk.input[0], tool)))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
