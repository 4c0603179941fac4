"""Rule report_pdf: print the HTML report to PDF with WeasyPrint (no network access)."""
from livingmeta.report.pdf import html_file_to_pdf
from livingmeta.scripting import run_job


def main(smk):
    html_file_to_pdf(smk.input[0], smk.output[0])


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
