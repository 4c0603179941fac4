"""Rule report: results.json, the HTML report, its figures/, data/ and export/ folders and its PDF, then
published as a new version when a reader sees a difference, by :func:`livingmeta.report.job.run_report`
(see there); only the PDF sections whose HTML changed are rendered again (cached under params.cache)."""
from livingmeta.scripting import run_job

OUTPUTS = ("results", "html", "figures", "data", "export", "pdf", "pages", "appendix_pdf", "published")  # REPORT_OUTPUT's keys (workflow/rules/report.smk)


def main(smk):
    from livingmeta.report.job import pdf_log_line, run_report, steps_log_line

    inp = smk.input
    inputs = dict(
        prisma_path=inp.prisma, studies_path=inp.studies, rob_path=inp.rob,
        pooled_paths=list(inp.pooled), subgroups_paths=list(inp.subgroups), loo_paths=list(inp.leave_one_out),
        review_path=inp.review, config=dict(smk.params.config), reports_dir=smk.params.reports_dir)
    outputs = {key: str(value) for key in OUTPUTS if (value := getattr(smk.output, key, None))}
    done = run_report(
        inputs, outputs, cache=smk.params.cache, content_cache=smk.params.content_cache, threads=int(smk.threads or 1),
        prisma_csv=getattr(inp, "prisma_csv", None),
        certainty_path=(list(getattr(inp, "certainty", None) or []) or [None])[0],
        synthesis_path=(list(getattr(inp, "synthesis", None) or []) or [None])[0])
    with open(smk.log[0], "a", encoding="utf-8") as log:
        log.write(steps_log_line(done["seconds"]))
        if done["pdf"]:
            log.write(pdf_log_line(done["pdf"]))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
