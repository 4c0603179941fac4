# Data branch, per study: validate the extraction file and compute its effect sizes; risk of bias.


localrules:
    rob_summary,


rule study_effects:
    input:
        study=lambda wc: PLAN.studies[wc.study],
        outcomes=review_file("outcomes.yaml"),
    output:
        res("studies/{study}.json"),
    log:
        res("logs/studies/{study}.log"),
    params:
        measure=ANALYSIS["measure"],
        smd_variance=ANALYSIS["smd_variance"],
        zero_cells=ANALYSIS["zero_cells"],
    priority: 10
    script:
        "../../scripts/study_effects.py"


rule rob_study:
    input:
        lambda wc: PLAN.rob_files[wc.study],
        # a review's own tool definition (risk_of_bias.tool = a path; built-in tool ids have no file)
        tool=[ROB_TOOL] if is_tool_file(ROB_TOOL) else [],
    output:
        res("rob/studies/{study}.json"),
    log:
        res("logs/rob/{study}.log"),
    params:
        tool=ROB_TOOL,
    priority: 10
    script:
        "../../scripts/rob_study.py"


rule rob_summary:
    input:
        [res(f"rob/studies/{s}.json") for s in PLAN.rob_files],
    output:
        res("rob/summary.json"),
    log:
        res("logs/rob/summary.log"),
    params:
        # every included study needs a risk-of-bias file, except studies reporting directions of effect only
        # (synthesis without meta-analysis): theirs is optional and shades their effect direction plot rows
        studies=sorted(s for s in PLAN.studies if s not in PLAN.direction_only_studies or s in PLAN.rob_files),
        tool=ROB_TOOL,
    script:
        "../../scripts/rob_summary.py"
