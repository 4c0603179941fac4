"""Rule pool: pool one outcome x timepoint from the studies that report it."""
from livingmeta import analyses
from livingmeta.jsonio import read_json, write_json
from livingmeta.scripting import run_job


def main(smk):
    meta = dict(smk.params.analysis)
    rows = analyses.collect_effects([read_json(p) for p in smk.input], meta["analysis"])
    write_json(smk.output[0], analyses.pool_analysis(rows, meta, dict(smk.params.model)))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
