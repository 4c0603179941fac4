# The two branches meet: results.json (the machine-readable twin), the HTML report and its PDF.

# the report's own code and templates: editing them re-renders the report (not the analyses)
REPORT_CODE = os.path.join(workflow.basedir, "livingmeta", "report")
REPORT_HTML_CODE = [os.path.join(REPORT_CODE, f) for f in
                    ("render.py", "svg.py", "fmt.py", "textmetrics.py", "templates/report.html.j2",
                     "templates/report.css")]


rule results_json:
    input:
        prisma=res("records/prisma.json"),
        studies=study_jsons(PLAN.studies),
        rob=res("rob/summary.json"),
        pooled=analysis_files("pooled"),
        subgroups=analysis_files("subgroups"),
        leave_one_out=analysis_files("leave_one_out"),
        review=review_file("review.yaml"),
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
        code=REPORT_HTML_CODE,
    output:
        res("report/report.html"),
    log:
        res("logs/report/report_html.log"),
    script:
        "../../scripts/report_html.py"


rule report_pdf:
    input:
        html=res("report/report.html"),
        code=os.path.join(REPORT_CODE, "pdf.py"),
    output:
        res("report/report.pdf"),
    log:
        res("logs/report/report_pdf.log"),
    params:
        cache=res("report/pdf_parts"),  # one PDF per report section, keyed by its HTML (see pdf.py)
    threads: 2  # sections render in parallel inside the job (capped at --cores)
    script:
        "../../scripts/report_pdf.py"
