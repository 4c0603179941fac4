"""Rule report_pdf: print the HTML report to PDF with WeasyPrint (no network access), re-rendering only
the report sections whose HTML changed (cached under params.cache), in a pool of ``threads`` processes."""
from livingmeta.report.pdf import html_file_to_pdf
from livingmeta.scripting import run_job


def main(smk):
    stats = html_file_to_pdf(smk.input.html, smk.output[0], cache_dir=smk.params.cache,
                             workers=int(smk.threads or 1))
    with open(smk.log[0], "a", encoding="utf-8") as log:
        log.write(f"{stats['pages']} pages from {stats['parts']} sections; rendered {stats['rendered']} "
                  f"document(s) ({', '.join(stats['rendered_parts']) or 'none'}), the others reused\n")


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
