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


rule pool:
    input:
        lambda wc: study_jsons(PLAN.analyses[wc.analysis].studies),
    output:
        res("analyses/{analysis}/pooled.json"),
    log:
        res("logs/analyses/{analysis}/pool.log"),
    params:
        analysis=analysis_params,
        model=model_params("small_study_min_k", robust=True),
    script:
        "../../scripts/pool.py"


rule subgroups:
    input:
        lambda wc: study_jsons(PLAN.analyses[wc.analysis].studies),
    output:
        res("analyses/{analysis}/subgroups.json"),
    log:
        res("logs/analyses/{analysis}/subgroups.log"),
    params:
        analysis=analysis_params,
        model=model_params(),
        subgroups=ANALYSIS["subgroups"],
        tau2=ANALYSIS["subgroup_tau2"],
    script:
        "../../scripts/subgroups.py"


# sensitivity analyses: leave-one-out and the analysis restricted by risk of bias (config rob_sensitivity)
rule leave_one_out:
    input:
        studies=lambda wc: study_jsons(PLAN.analyses[wc.analysis].studies),
        # the risk of bias of this analysis's own studies only, so a new study re-runs only its analyses
        rob=lambda wc: ([res(f"rob/studies/{s}.json") for s in PLAN.analyses[wc.analysis].studies
                         if s in PLAN.rob_files] if ANALYSIS["rob_sensitivity"] != "none" else []),
    output:
        res("analyses/{analysis}/leave_one_out.json"),
    log:
        res("logs/analyses/{analysis}/leave_one_out.log"),
    params:
        analysis=analysis_params,
        model=model_params(),
        enabled=ANALYSIS["leave_one_out"],
        rob_sensitivity=ANALYSIS["rob_sensitivity"],
    script:
        "../../scripts/leave_one_out.py"
