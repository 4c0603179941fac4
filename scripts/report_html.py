"""Rule report_html: render the self-contained HTML report from results.json (and nothing else)."""
from livingmeta.jsonio import read_json, write_text_atomic
from livingmeta.report.render import render_html
from livingmeta.scripting import run_job


def main(smk):
    write_text_atomic(smk.output[0], render_html(read_json(smk.input[0])))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
