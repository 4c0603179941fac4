"""Rule synthesis: synthesis without meta-analysis of the direction-only outcome domains
(results/synthesis/synthesis.json; livingmeta.synthesis), from the study files with direction entries."""
from livingmeta.extraction.documents import study_documents
from livingmeta.jsonio import write_json
from livingmeta.scripting import run_job
from livingmeta.synthesis.build import load_and_build


def main(smk):
    effects = dict(smk.params.effects)
    docs = study_documents(list(smk.input.studies), smk.input.outcomes, measure=effects["measure"],
                           smd_variance=effects["smd_variance"], zero_cells=dict(effects["zero_cells"]),
                           cache_dir=smk.params.cache)
    write_json(smk.output[0], load_and_build(docs, dict(smk.params.settings), smk.input.outcomes,
                                             float(smk.params.level)))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
