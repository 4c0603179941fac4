import glob

# The two branches meet: results.json (the machine-readable twin), the HTML report and its PDF.

# The report's own code, templates and scripts are inputs of results_json: editing them re-renders the
# report (not the analyses) as a NEW version. (Were they inputs of report_html or report_pdf only, a
# re-rendered report would carry the version name that is already published with other content.)
REPORT_CODE = sorted(
    glob.glob(os.path.join(workflow.basedir, "livingmeta", "report", "*.py"))
    + glob.glob(os.path.join(workflow.basedir, "livingmeta", "report", "templates", "*"))
    + [os.path.join(SCRIPTS, f"{name}.py") for name in ("results_json", "report_html", "report_pdf")]
)


rule results_json:
    input:
        prisma=res("records/prisma.json"),
        studies=study_jsons(PLAN.studies),
        rob=res("rob/summary.json"),
        pooled=analysis_files("pooled"),
        subgroups=analysis_files("subgroups"),
        leave_one_out=analysis_files("leave_one_out"),
        review=review_file("review.yaml"),
        code=REPORT_CODE,
    output:
        res("report/results.json"),
    log:
        res("logs/report/results_json.log"),
    params:
        config=CFG,
        reports_dir=REPORTS,
    script:
        "../../scripts/results_json.py"


rule report_html:
    input:
        res("report/results.json"),
    output:
        res("report/report.html"),
    log:
        res("logs/report/report_html.log"),
    script:
        "../../scripts/report_html.py"


rule report_pdf:
    input:
        html=res("report/report.html"),
    output:
        res("report/report.pdf"),
    log:
        res("logs/report/report_pdf.log"),
    params:
        cache=res("report/pdf_parts"),  # one PDF per report section, keyed by its HTML (see pdf.py)
    threads: 2  # sections render in parallel inside the job (capped at --cores)
    script:
        "../../scripts/report_pdf.py"
