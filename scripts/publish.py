"""Rule publish: copy the rendered report, its figures, its data and its export files into reports/<version>/
and switch reports/latest."""
from livingmeta.jsonio import write_json
from livingmeta.living.publish import publish
from livingmeta.report import data, export, figures
from livingmeta.scripting import run_job


def main(smk):
    files = {"results.json": smk.input.results, "report.html": smk.input.html,
             **figures.listed_files(smk.input.figures), **data.listed_files(smk.input.data)}
    if getattr(smk.input, "export", None):
        files.update(export.listed_files(smk.input.export))
    if smk.input.pdf:
        files["report.pdf"] = smk.input.pdf
    write_json(smk.output[0], publish(files, smk.params.reports_dir))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
