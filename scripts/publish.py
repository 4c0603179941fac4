"""Rule publish: copy the rendered report and its figures into reports/<version>/ and switch reports/latest."""
from livingmeta.jsonio import write_json
from livingmeta.living.publish import publish
from livingmeta.report.figures import listed_files
from livingmeta.scripting import run_job


def main(smk):
    files = {"results.json": smk.input.results, "report.html": smk.input.html, **listed_files(smk.input.figures)}
    if smk.input.pdf:
        files["report.pdf"] = smk.input.pdf
    write_json(smk.output[0], publish(files, smk.params.reports_dir))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
