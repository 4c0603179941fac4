"""Rule study_effects: validate one study file and write its effect sizes (results/studies/<study>.json)."""
from livingmeta.extraction.effects import study_document
from livingmeta.extraction.outcomes import load_outcomes
from livingmeta.extraction.studyfile import load_study
from livingmeta.jsonio import write_json
from livingmeta.scripting import run_job


def main(smk):
    outcomes = load_outcomes(smk.input.outcomes)
    study = load_study(smk.input.study, outcomes, smk.params.measure)
    write_json(smk.output[0], study_document(study, outcomes, smk.params.measure, smk.params.smd_variance,
                                             dict(smk.params.zero_cells)))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
