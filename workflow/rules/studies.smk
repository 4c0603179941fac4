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
        tool=[p for p in [CFG.get("risk_of_bias", {}).get("tool", "syrcle")] if p.lower().endswith((".yaml", ".yml"))
              for p in [os.path.relpath(Path(CONFIG_FILE).resolve().parent / p)]],
    output:
        res("rob/studies/{study}.json"),
    log:
        res("logs/rob/{study}.log"),
    params:
        # a built-in id, or the definition's path relative to the working folder (never absolute: a copied
        # or moved run folder must not look like changed params)
        tool=next((os.path.relpath(Path(CONFIG_FILE).resolve().parent / t) if t.lower().endswith((".yaml", ".yml"))
                   else t for t in [CFG.get("risk_of_bias", {}).get("tool", "syrcle")])),
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
        studies=sorted(PLAN.studies),
        # a built-in id, or the definition's path relative to the working folder (never absolute: a copied
        # or moved run folder must not look like changed params)
        tool=next((os.path.relpath(Path(CONFIG_FILE).resolve().parent / t) if t.lower().endswith((".yaml", ".yml"))
                   else t for t in [CFG.get("risk_of_bias", {}).get("tool", "syrcle")])),
    script:
        "../../scripts/rob_summary.py"
