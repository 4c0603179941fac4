# The two branches meet: results.json (the machine-readable twin), the HTML report and its PDF.


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
    output:
        res("report/report.html"),
    log:
        res("logs/report/report_html.log"),
    script:
        "../../scripts/report_html.py"


rule report_pdf:
    input:
        res("report/report.html"),
    output:
        res("report/report.pdf"),
    log:
        res("logs/report/report_pdf.log"),
    script:
        "../../scripts/report_pdf.py"
