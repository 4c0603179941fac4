"""Rule rob_study: validate one SYRCLE risk-of-bias file and write results/rob/<study>.json."""
from livingmeta.jsonio import write_json
from livingmeta.rob import load_rob, rob_document
from livingmeta.scripting import run_job


def main(smk):
    write_json(smk.output[0], rob_document(load_rob(smk.input[0])))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
