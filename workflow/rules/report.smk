import glob

# The two branches meet: results.json (the machine-readable twin), the HTML report and its PDF.

# The report's own code, templates and scripts are inputs of results_json: editing them re-renders the
# report (not the analyses) as a NEW version. (Were they inputs of the report rule only, a re-rendered
# report would carry the version name that is already published with other content.)
REPORT_CODE = sorted(
    glob.glob(os.path.join(workflow.basedir, "livingmeta", "report", "*.py"))
    + glob.glob(os.path.join(workflow.basedir, "livingmeta", "report", "templates", "*"))
    + [os.path.join(SCRIPTS, f"{name}.py") for name in ("results_json", "report")]
)


localrules:
    results_json,


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


# The HTML and its PDF in one job: its worker processes start importing WeasyPrint while the HTML is
# rendered, and an update re-renders only the PDF sections whose HTML changed (see livingmeta/report/pdf.py).
REPORT_OUTPUT = {"html": res("report/report.html")}
if CFG["report"]["pdf"]:
    REPORT_OUTPUT["pdf"] = res("report/report.pdf")


rule report:
    input:
        res("report/results.json"),
    output:
        **REPORT_OUTPUT,
    log:
        res("logs/report/report.log"),
    params:
        cache=res("report/pdf_parts"),  # one PDF per report section, keyed by its HTML
    threads: 2 if CFG["report"]["pdf"] else 1  # PDF sections render in parallel (capped at --cores)
    script:
        "../../scripts/report.py"
