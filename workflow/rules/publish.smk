# Publish the new version beside the old ones; switch reports/latest atomically.


from livingmeta.living.versions import publication_damage


localrules:
    publish,


# What the last publish made must still be there: the record (published.json) is removed when the version's
# folder, reports/latest or reports/index.html went missing, so that the publish job runs and restores them.
if CFG["publish"]["enabled"]:
    _damage = publication_damage(REPORTS, res("report/published.json"))
    if _damage:
        print(f"livingmeta: note: {_damage}; publishing the current report again", file=sys.stderr)
        try:
            os.remove(res("report/published.json"))
        except OSError as _err:
            raise WorkflowError(f"livingmeta: error: {res('report/published.json')}: cannot remove it to publish again "
                                f"({_err.strerror or _err}). Make the results folder writable and run again.")


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
