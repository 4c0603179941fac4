# Data branch, per analysis (outcome x timepoint): inputs are only the studies that report it.


def analysis_params(wc):
    a = PLAN.analyses[wc.analysis]
    params = {
        "analysis": a.id,
        "outcome": a.outcome,
        "timepoint": a.timepoint,
        "label": a.label,
        "higher_is_better": a.higher_is_better,
    }
    if a.arms:  # only when outcomes.yaml names them, so other analyses' params (and jobs) stay as they were
        params["arms"] = a.arms
    return params


def model_params(*extra, robust=False):
    """The model of one analysis: the config's analysis block with its outcome's overrides (outcomes.yaml:
    measure, method, test, units_harmonised, dependent, robust); ``robust``: this job reports the CR2 test."""
    keys = ("measure", "method", "test", "level", "prediction_interval", "zero_cells", "units_harmonised", *extra)

    def params(wc):
        a = PLAN.analyses[wc.analysis]
        model = a.model(ANALYSIS)
        out = {k: model[k] for k in keys}
        if a.several:  # a study with several comparisons: how to pool them (other analyses' params stay as they were)
            out.update({k: model[k] for k in ("dependent", "smd_variance")})
            if robust and model.get("robust"):  # CR2 test of the multilevel fit (pooled.json only)
                out["robust"] = True
        return out

    return params


# One job per analysis: pooled (pooled.json), subgroup analyses (subgroups.json) and the sensitivity analyses,
# leave-one-out and restricted by risk of bias (leave_one_out.json). Its inputs are only the study files that
# report the analysis (their effect sizes are computed here, through the content cache) and, for the
# risk-of-bias sensitivity analysis, only those studies' risk-of-bias files: a new study re-runs only the
# analyses it reports.
rule analysis:
    priority: 1  # the data jobs that take longest go first (rob, cheap, after them): the report starts sooner
    input:
        studies=lambda wc: [PLAN.studies[s] for s in PLAN.analyses[wc.analysis].studies],
        outcomes=review_file("outcomes.yaml"),
        rob=lambda wc: ([PLAN.rob_files[s] for s in PLAN.analyses[wc.analysis].studies if s in PLAN.rob_files]
                        if ANALYSIS["rob_sensitivity"] != "none" else []),
        tool=ROB_TOOL_FILES if ANALYSIS["rob_sensitivity"] != "none" else [],
    output:
        pooled=res("analyses/{analysis}/pooled.json"),
        subgroups=res("analyses/{analysis}/subgroups.json"),
        leave_one_out=res("analyses/{analysis}/leave_one_out.json"),
    log:
        res("logs/analyses/{analysis}.log"),
    params:
        code=code_of("analysis.py"),
        analysis=analysis_params,
        model=model_params("small_study_min_k", robust=True),
        effects=EFFECTS_PARAMS,
        subgroups=ANALYSIS["subgroups"],
        tau2=ANALYSIS["subgroup_tau2"],
        leave_one_out=ANALYSIS["leave_one_out"],
        rob_sensitivity=ANALYSIS["rob_sensitivity"],
        rob_tool=ROB_TOOL,
        cache=CACHE,
    script:
        "../../scripts/analysis.py"
