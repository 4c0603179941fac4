"""Rule report: assemble results.json (the machine-readable twin of the report), render the self-contained
HTML report from it (and nothing else), write the HTML's figures as standalone SVG files listed in
figures/index.csv and results.json's analysis data as CSV files listed in data/index.csv and, unless the
config turns the PDF off, print the HTML to PDF with WeasyPrint (no network access). The PDF's worker
processes start (one WeasyPrint import, forked ``threads`` times) while results.json and the HTML are
made; only the report sections whose HTML changed are rendered again (cached under params.cache)."""
from livingmeta.scripting import run_job


def main(smk):
    pdf_path = smk.output.get("pdf")
    renderer = None
    if pdf_path:  # first of all: the import of WeasyPrint is the longest wait of this job
        from livingmeta.report.pdf import Renderer

        renderer = Renderer(smk.params.cache, int(smk.threads or 1)).start()
    try:
        import json

        from livingmeta.jsonio import dumps, write_text_atomic
        from livingmeta.report.data import write_data
        from livingmeta.report.figures import write_figures
        from livingmeta.report.render import render_html
        from livingmeta.report.results_json import load_and_build

        inp = smk.input
        results = dumps(load_and_build(
            prisma_path=inp.prisma, studies_path=inp.studies, rob_path=inp.rob,
            pooled_paths=list(inp.pooled), subgroups_paths=list(inp.subgroups), loo_paths=list(inp.leave_one_out),
            review_path=inp.review, config=dict(smk.params.config), reports_dir=smk.params.reports_dir,
            certainty_path=(list(getattr(inp, "certainty", None) or []) or [None])[0],
            synthesis_path=(list(getattr(inp, "synthesis", None) or []) or [None])[0]))
        write_text_atomic(smk.output.results, results)
        document = json.loads(results)  # exactly what results.json says
        html = render_html(document)
        write_text_atomic(smk.output.html, html)
        write_figures(html, smk.output.figures)
        write_data(document, smk.output.data)
        if getattr(smk.output, "export", None):
            from livingmeta.report.export import write_export

            write_export(document, smk.output.export, getattr(inp, "prisma_csv", None))
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
