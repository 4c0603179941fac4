# Data branch, all studies: the effect sizes of every study file and the risk-of-bias judgements of every
# study, one job each. Each study's document is derived once per content of its file (results/.cache/,
# livingmeta/contentcache.py), so a new or edited study costs its own file's work, not a job per study.


localrules:
    rob,


# What a study's effect sizes depend on besides its file and outcomes.yaml (config analysis block).
EFFECTS_PARAMS = {
    "measure": ANALYSIS["measure"],
    "smd_variance": ANALYSIS["smd_variance"],
    "zero_cells": ANALYSIS["zero_cells"],
}
CACHE = res(".cache")   # the content cache of derived per-study documents (may be deleted at any time)
# a review's own risk-of-bias tool definition (risk_of_bias.tool = a path; built-in tool ids have no file)
ROB_TOOL_FILES = [ROB_TOOL] if is_tool_file(ROB_TOOL) else []


rule studies:
    priority: 1  # before rob, which is cheap (as the analysis jobs): the report starts sooner
    input:
        studies=[PLAN.studies[s] for s in sorted(PLAN.studies)],
        outcomes=review_file("outcomes.yaml"),
    output:
        res("studies/studies.json"),
    log:
        res("logs/studies/studies.log"),
    params:
        code=code_of("studies.py"),
        **EFFECTS_PARAMS,
        cache=CACHE,
    script:
        "../../scripts/studies.py"


rule rob:
    input:
        files=[PLAN.rob_files[s] for s in sorted(PLAN.rob_files)],
        tool=ROB_TOOL_FILES,
    output:
        res("rob/summary.json"),
    log:
        res("logs/rob/summary.log"),
    params:
        code=code_of("rob.py"),
        # every included study needs a risk-of-bias file, except studies reporting directions of effect only
        # (synthesis without meta-analysis): theirs is optional and shades their effect direction plot rows
        studies=sorted(s for s in PLAN.studies if s not in PLAN.direction_only_studies or s in PLAN.rob_files),
        tool=ROB_TOOL,
        cache=CACHE,
    script:
        "../../scripts/rob.py"
