# Synthesis without meta-analysis (SWiM): the outcome domains that study files report as a direction of effect
# only (docs/synthesis.md). One job; its inputs are only the studies with direction entries, so a new pooled
# study never re-runs it and a new unpooled study re-runs the studies job, this job and the report. A review
# without direction entries has no synthesis job (every_product() leaves the rule out, the report has no
# synthesis input).
from livingmeta.synthesis.settings import load_settings as _load_synthesis_settings

try:
    SYNTHESIS = _load_synthesis_settings(review_file("review.yaml")) if PLAN.synthesis_studies else None
except ReviewInputError as _err:
    raise WorkflowError("livingmeta: error: " + _err.format())


def synthesis_outputs():
    return [res("synthesis/synthesis.json")] if PLAN.synthesis_studies and SYNTHESIS else []


localrules:
    synthesis,


rule synthesis:
    input:
        studies=[PLAN.studies[s] for s in PLAN.synthesis_studies],
        outcomes=review_file("outcomes.yaml"),
    output:
        res("synthesis/synthesis.json"),
    log:
        res("logs/synthesis/synthesis.log"),
    params:
        code=code_of("synthesis.py"),
        settings=SYNTHESIS or {},
        level=ANALYSIS["level"],
        effects=EFFECTS_PARAMS,
        cache=CACHE,
    script:
        "../../scripts/synthesis.py"
