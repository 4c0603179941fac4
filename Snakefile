# livingmeta: a living systematic review and meta-analysis as a Snakemake workflow.
# Thin by design: configuration, the rule files of each stage, and the target: the report rule (it renders
# and publishes the report; its outputs and parameters are set up in workflow/rules/report.smk).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/records.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/analyses.smk"
include: "workflow/rules/synthesis.smk"
include: "workflow/rules/report.smk"


# The workflow's target: the report job's inputs are every other product of the workflow (every_product(),
# workflow/rules/common.smk), so a failed or removed product is made again before anything is published.
rule report:
    default_target: True
    input:
        products=lambda wildcards: every_product(),
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
        "scripts/report.py"
