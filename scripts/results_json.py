"""Rule results_json: assemble results.json (the machine-readable twin of the report)."""
from livingmeta.jsonio import write_json
from livingmeta.report.results_json import load_and_build
from livingmeta.scripting import run_job


def main(smk):
    inp = smk.input
    results = load_and_build(
        prisma_path=inp.prisma, study_paths=list(inp.studies), rob_path=inp.rob,
        pooled_paths=list(inp.pooled), subgroups_paths=list(inp.subgroups), loo_paths=list(inp.leave_one_out),
        review_path=inp.review, config=dict(smk.params.config), reports_dir=smk.params.reports_dir,
        exports=list(smk.params.get("exports") or []) or None)
    write_json(smk.output[0], results)


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
