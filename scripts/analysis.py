"""Rule analysis: one outcome x timepoint from the study files that report it: pooled (pooled.json),
subgroup analyses (subgroups.json) and sensitivity analyses, leave-one-out and restricted by risk of bias
(leave_one_out.json)."""
from livingmeta import analyses
from livingmeta.extraction.documents import rob_documents, study_documents
from livingmeta.jsonio import write_json
from livingmeta.scripting import log_counts, run_job


def main(smk):
    p, effects, counts = smk.params, dict(smk.params.effects), {}
    studies = study_documents(list(smk.input.studies), smk.input.outcomes, measure=effects["measure"],
                              smd_variance=effects["smd_variance"], zero_cells=dict(effects["zero_cells"]),
                              cache_dir=p.cache, counts=counts)
    log_counts(smk, "study", counts)
    rob = rob_documents(list(smk.input.rob), p.rob_tool, cache_dir=p.cache) if p.rob_sensitivity != "none" else []
    docs = analyses.analysis_documents(studies, rob, dict(p.analysis), dict(p.model), subgroups=list(p.subgroups),
                                       subgroup_tau2=p.tau2, leave_one_out=bool(p.leave_one_out),
                                       rob_rule=p.rob_sensitivity)
    for name in ("pooled", "subgroups", "leave_one_out"):
        write_json(smk.output[name], docs[name])


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
