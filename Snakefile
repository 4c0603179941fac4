# livingmeta: a living systematic review and meta-analysis as a Snakemake workflow.
# Thin by design: configuration, the rule files of each stage, and the target.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/records.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/analyses.smk"
include: "workflow/rules/synthesis.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/publish.smk"


rule all:
    input:
        final_targets(),
    default_target: True
