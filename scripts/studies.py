"""Rule studies: the effect-size document of every included study (results/studies/studies.json), each
derived once per content of its study file (livingmeta.extraction.documents)."""
from livingmeta.extraction.documents import study_documents
from livingmeta.jsonio import write_json
from livingmeta.scripting import log_counts, run_job


def main(smk):
    counts = {}
    docs = study_documents(list(smk.input.studies), smk.input.outcomes, measure=smk.params.measure,
                           smd_variance=smk.params.smd_variance, zero_cells=dict(smk.params.zero_cells),
                           cache_dir=smk.params.cache, counts=counts)
    write_json(smk.output[0], {"studies": sorted(docs, key=lambda d: d["study"])})
    log_counts(smk, "study", counts)


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
