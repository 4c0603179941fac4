"""Rule leave_one_out: the sensitivity analyses of one outcome x timepoint: re-pooled omitting each study in
turn, and restricted by risk of bias (config analysis.rob_sensitivity)."""
from livingmeta import analyses
from livingmeta.jsonio import read_json, write_json
from livingmeta.scripting import run_job


def main(smk):
    meta = dict(smk.params.analysis)
    rows = analyses.collect_effects([read_json(p) for p in smk.input.studies], meta["analysis"])
    model = dict(smk.params.model)
    if smk.params.enabled:
        doc = analyses.leave_one_out_for_analysis(rows, meta, model)
    else:
        doc = {**meta, "leave_one_out": [], "note": "leave-one-out disabled in config"}
    rule = getattr(smk.params, "rob_sensitivity", "none")
    if rule != "none":
        rob = analyses.rob_of_studies([read_json(p) for p in smk.input.rob])
        doc["rob_sensitivity"] = analyses.rob_sensitivity(rows, model, rob, rule)
    write_json(smk.output[0], doc)


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
