"""Rule subgroups: subgroup analyses of one outcome x timepoint for each configured variable."""
from livingmeta import analyses
from livingmeta.jsonio import read_json, write_json
from livingmeta.scripting import run_job


def main(smk):
    meta = dict(smk.params.analysis)
    docs = [read_json(p) for p in smk.input]
    rows = analyses.collect_effects(docs, meta["analysis"])
    groups = {d["study"]: d.get("groups") or {} for d in docs}
    write_json(smk.output[0], analyses.subgroups_for_analysis(
        rows, groups, meta, dict(smk.params.model), list(smk.params.subgroups), smk.params.tau2))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
