"""Rule report: render the self-contained HTML report from results.json (and nothing else) and, unless the
config turns the PDF off, print it to PDF with WeasyPrint (no network access). The PDF's worker processes
(``threads`` of them) start importing WeasyPrint while the HTML is rendered; only the report sections whose
HTML changed are rendered again (cached under params.cache)."""
from livingmeta.jsonio import read_json, write_text_atomic
from livingmeta.report.render import render_html
from livingmeta.scripting import run_job


def main(smk):
    pdf_path = smk.output.get("pdf")
    renderer = None
    if pdf_path:
        from livingmeta.report.pdf import Renderer

        renderer = Renderer(smk.params.cache, int(smk.threads or 1)).start()
    try:
        html = render_html(read_json(smk.input[0]))
        write_text_atomic(smk.output.html, html)
        if renderer is not None:
            from livingmeta.report.pdf import build_pdf

            stats = build_pdf(html, pdf_path, renderer=renderer)
            with open(smk.log[0], "a", encoding="utf-8") as log:
                log.write(f"{stats['pages']} pages from {stats['parts']} sections; rendered {stats['rendered']} "
                          f"document(s) ({', '.join(stats['rendered_parts']) or 'none'}), the others reused\n")
    finally:
        if renderer is not None:
            renderer.close()


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
