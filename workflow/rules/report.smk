import glob

# The two branches meet: results.json (the machine-readable twin), the HTML report and its PDF.

# The report's own code, templates and script are inputs of the report job: editing them re-renders the
# report (not the analyses) as a NEW version, with a new results.json.
REPORT_CODE = sorted(
    glob.glob(os.path.join(workflow.basedir, "livingmeta", "report", "*.py"))
    + glob.glob(os.path.join(workflow.basedir, "livingmeta", "report", "templates", "*"))
    + glob.glob(os.path.join(workflow.basedir, "livingmeta", "certainty", "*.py"))
    + [os.path.join(SCRIPTS, "report.py")]
)


# results.json, the HTML, its figures and its data as files and its PDF in one job: its PDF worker processes
# start importing WeasyPrint while results.json and the HTML are made, and an update re-renders only the PDF
# sections whose HTML changed (see livingmeta/report/pdf.py). The HTML is rendered from results.json and
# nothing else; the figures are the HTML's own SVG, one file each beside figures/index.csv, the output
# that lists them (a directory() output would add Snakemake's timestamp file to what is published); the
# data are results.json's analyses as CSV files, listed in the same way by data/index.csv.
REPORT_OUTPUT = {
    "results": res("report/results.json"),
    "html": res("report/report.html"),
    "figures": res("report/figures/index.csv"),
    "data": res("report/data/index.csv"),
    "export": res("report/export/index.csv"),  # the study data for RevMan, Covidence, the PRISMA2020 app
}
if CFG["report"]["pdf"]:
    REPORT_OUTPUT["pdf"] = res("report/report.pdf")
# config report.layout (livingmeta/report/layout.py): a large review's report.html is a summary page, its
# analyses and appendix are pages listed by pages/index.csv and its appendix is a PDF of its own
from livingmeta.report.layout import uses_pages

if uses_pages(CFG["report"].get("layout"), len(PLAN.studies), len(PLAN.analyses)):
    REPORT_OUTPUT["pages"] = res("report/pages/index.csv")  # and the pages it lists
    if CFG["report"]["pdf"]:
        REPORT_OUTPUT["appendix_pdf"] = res("report/report-appendix.pdf")


rule report:
    input:
        prisma=res("records/prisma.json"),
        prisma_csv=res("records/PRISMA2020.csv"),
        studies=res("studies/studies.json"),
        rob=res("rob/summary.json"),
        pooled=analysis_files("pooled"),
        subgroups=analysis_files("subgroups"),
        leave_one_out=analysis_files("leave_one_out"),
        review=review_file("review.yaml"),
        # the reviewers' GRADE decisions, when the review has them (docs/certainty.md)
        certainty=[review_file("certainty.yaml")] if os.path.exists(review_file("certainty.yaml")) else [],
        # synthesis without meta-analysis, when studies report directions of effect (docs/synthesis.md)
        synthesis=synthesis_outputs(),
        code=REPORT_CODE,
    output:
        **REPORT_OUTPUT,
    log:
        res("logs/report/report.log"),
    params:
        code=code_of("report.py"),  # the library code it runs beyond REPORT_CODE (livingmeta/codedeps.py)
        config=CFG,
        reports_dir=REPORTS,
        cache=res("report/pdf_parts"),  # one PDF per report section, keyed by its HTML
        content_cache=CACHE,  # each analysis's drawn figures, keyed by what they show (<results>/.cache/report-figures/)
    threads: 2 if CFG["report"]["pdf"] else 1  # PDF sections render in parallel (capped at --cores)
    script:
        "../../scripts/report.py"
