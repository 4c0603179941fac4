"""Rule leave_one_out: re-pool one outcome x timepoint omitting each study in turn."""
from livingmeta import analyses
from livingmeta.jsonio import read_json, write_json
from livingmeta.scripting import run_job


def main(smk):
    meta = dict(smk.params.analysis)
    rows = analyses.collect_effects([read_json(p) for p in smk.input], meta["analysis"])
    if smk.params.enabled:
        doc = analyses.leave_one_out_for_analysis(rows, meta, dict(smk.params.model))
    else:
        doc = {**meta, "leave_one_out": [], "note": "leave-one-out disabled in config"}
    write_json(smk.output[0], doc)


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
