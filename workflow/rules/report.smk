import glob

from livingmeta.living.versions import publication_damage

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
# Publishing is the report job's last step (livingmeta/living/publish.py: a new version beside the old ones
# when a reader sees a difference; published.json records what it did). One job, not two: nothing can be
# published that the same job did not just render, and an update is one job shorter.
if CFG["publish"]["enabled"]:
    REPORT_OUTPUT["published"] = res("report/published.json")
    # What the last publish made must still be there: the record is removed when the version's folder,
    # reports/latest, reports/index.html or a published file of the report job went missing or changed, so
    # that the report job runs again and restores them.
    _damage = publication_damage(REPORTS, res("report/published.json"))
    if _damage:
        print(f"livingmeta: note: {_damage}; making and publishing the report again", file=sys.stderr)
        try:
            os.remove(res("report/published.json"))
        except OSError as _err:
            raise WorkflowError(f"livingmeta: error: {res('report/published.json')}: cannot remove it to publish again "
                                f"({_err.strerror or _err}). Make the results folder writable and run again.")
# config report.layout (livingmeta/report/layout.py): a large review's report.html is a summary page, its
# analyses and appendix are pages listed by pages/index.csv and its appendix is a PDF of its own
from livingmeta.report.layout import uses_pages

if uses_pages(CFG["report"].get("layout"), len(PLAN.studies), len(PLAN.analyses)):
    REPORT_OUTPUT["pages"] = res("report/pages/index.csv")  # and the pages it lists
    if CFG["report"]["pdf"]:
        REPORT_OUTPUT["appendix_pdf"] = res("report/report-appendix.pdf")

# rule report, the workflow's target, is in the Snakefile (a default target must be a rule of the main
# Snakefile: Snakemake ignores `default_target` in an included file).
