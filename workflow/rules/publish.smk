# Publish the new version beside the old ones; switch reports/latest atomically.


localrules:
    publish,


rule publish:
    input:
        results=res("report/results.json"),
        html=res("report/report.html"),
        figures=res("report/figures/index.csv"),  # and the files it lists
        data=res("report/data/index.csv"),  # and the files it lists
        export=res("report/export/index.csv"),  # and the files it lists
        pdf=res("report/report.pdf") if CFG["report"]["pdf"] else [],
    output:
        res("report/published.json"),
    log:
        res("logs/report/publish.log"),
    params:
        reports_dir=REPORTS,
    script:
        "../../scripts/publish.py"
