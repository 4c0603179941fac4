"""Rule synthesis: synthesis without meta-analysis of the direction-only outcome domains
(results/synthesis/synthesis.json; livingmeta.synthesis)."""
from livingmeta.jsonio import write_json
from livingmeta.scripting import run_job
from livingmeta.synthesis.build import load_and_build


def main(smk):
    write_json(smk.output[0], load_and_build(list(smk.input.studies), dict(smk.params.settings),
                                             smk.input.outcomes, float(smk.params.level)))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
