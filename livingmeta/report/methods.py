"""The methods section, generated from the validated config (so the report always says what was run).

:func:`build_methods` returns the ``methods`` block of results.json: the choices as values, readable
labels, the screening agreement per stage, and ``text`` (a list of ``{heading, text}`` paragraphs) that
the report prints as it is.
"""

from __future__ import annotations

from typing import Any

from livingmeta.analyses import SMALL_STUDY_MIN_K
from livingmeta.report import fmt

MEASURE_LABELS = {
    "SMD": "standardised mean difference (Hedges' g)",
    "MD": "mean difference",
    "ROM": "ratio of means (log scale)",
    "NMD": "normalised mean difference (%)",
    "OR": "odds ratio", "RR": "risk ratio", "RD": "risk difference", "PETO": "Peto odds ratio",
    "HR": "hazard ratio",
}

SMD_VARIANCE = {
    "LS": ("Hedges' g with the exact small-sample correction J(m) = \u0393(m/2) / (\u221a(m/2) \u0393((m\u22121)/2)), "
           "m = n\u2081 + n\u2082 \u2212 2, and the large-sample approximation of its variance "
           "(metafor escalc, vtype = \"LS\")"),
    "UB": ("Hedges' g with the exact small-sample correction and the unbiased estimate of its variance "
           "(metafor escalc, vtype = \"UB\")"),
    "AV": ("Hedges' g with the exact small-sample correction and the large-sample variance computed with the "
           "sample-size-weighted average of the effects (metafor escalc, vtype = \"AV\")"),
    "REVMAN5": "Hedges' adjusted g and its variance as RevMan 5 computes them (RevMan 5 preset)",
}

METHOD_LABELS = {
    "MH": "Mantel\u2013Haenszel common-effect model",
    "PETO": "Peto common-effect model",
    "FE": "common-effect (fixed-effect) model",
    "DL": "DerSimonian\u2013Laird",
    "HE": "Hedges (Cochran's ANOVA-type) estimator",
    "HS": "Hunter\u2013Schmidt",
    "SJ": "Sidik\u2013Jonkman",
    "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood (REML)",
    "EB": "empirical Bayes (Morris)",
    "PM": "Paule\u2013Mandel",
}

TEST_LABELS = {
    "knha": ("Knapp\u2013Hartung (Hartung\u2013Knapp\u2013Sidik\u2013Jonkman) adjustment, t distribution with "
             "k \u2212 1 df"),
    "z": "Wald-type z test (normal distribution)",
}

STAGE_LABELS = {
    "title_abstract": "Title and abstract screening",
    "full_text": "Full-text screening",
    "fulltext": "Full-text screening",
    "dedup": "Duplicate checking",
    "extraction": "Data extraction",
    "risk_of_bias": "Risk of bias",
}

ROB_TOOLS = {
    "SYRCLE": ("SYRCLE's risk of bias tool for animal studies (Hooijmans et al. 2014, BMC Med Res Methodol "
               "14:43), 10 items, each judged low, high or unclear risk of bias"),
}


def _rob_tool_text(tool: str, rob: dict) -> str:
    """The methods phrase for any risk-of-bias tool, from its definition as results.json carries it
    (title, reference, domains, judgement levels, the rule for the overall judgement)."""
    title = rob.get("title") or tool
    reference = f" ({rob['reference']})" if rob.get("reference") else ""
    term = rob.get("term") or "domain"
    items = rob.get("items") or []
    levels = [str(j.get("label") or j.get("id")).lower() for j in rob.get("judgements") or []]
    judged = f", each judged {', '.join(levels[:-1])} or {levels[-1]}" if len(levels) > 1 else ""
    phrase = f"{title}{reference}, {len(items)} {term}s{judged}" if items else f"{title}{reference}"
    if rob.get("overall_rule"):
        phrase += f"; the overall judgement of a study follows the tool's rule ({rob['overall_rule']})"
    return phrase


def _first(d: dict, *keys: str) -> Any:
    for key in keys:
        if d.get(key) is not None:
            return d[key]
    return None


def agreement_rows(agreement: Any) -> list[dict]:
    """Screening agreement per stage as rows ``{stage, label, n, percent, kappa, pabak}``.

    Accepts a mapping stage -> statistics or a list of ``{stage, ...}``; percent agreement given as a
    proportion (<= 1) is converted to percent.
    """
    if isinstance(agreement, dict):
        items = list(agreement.items())
    elif isinstance(agreement, list):
        items = [(a.get("stage"), a) for a in agreement if isinstance(a, dict)]
    else:
        return []
    order = list(STAGE_LABELS)
    items.sort(key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), str(kv[0])))
    rows = []
    for stage, stats in items:
        if not isinstance(stats, dict):
            continue
        percent = _first(stats, "percent", "percent_agreement")
        if percent is None:  # a proportion
            share = _first(stats, "agreement", "po", "observed")
            percent = share * 100 if isinstance(share, (int, float)) and not isinstance(share, bool) else None
        n = _first(stats, "n", "n_records", "n_items", "records")
        if not n and percent is None:
            continue  # nothing double-screened at this stage
        rows.append({
            "stage": stage,
            "label": STAGE_LABELS.get(str(stage), fmt.humanise(stage or "")),
            "n": n,
            "percent": percent,
            "kappa": _first(stats, "kappa", "cohen_kappa", "cohens_kappa"),
            "kappa_ci_lb": stats.get("kappa_ci_lb"),
            "kappa_ci_ub": stats.get("kappa_ci_ub"),
            "pabak": _first(stats, "pabak", "PABAK"),
        })
    return rows


def _measure_text(a: dict, kinds: set | None = None) -> str:
    measure = a.get("measure", "SMD")
    if measure == "SMD":
        effect = SMD_VARIANCE.get(a.get("smd_variance") or "LS", SMD_VARIANCE["LS"])
        text = f"Effects are standardised mean differences (treatment minus control), computed as {effect}."
    elif measure == "MD":
        text = ("Effects are mean differences (treatment minus control) in the outcome's units, with variance "
                "SD\u2081\u00b2/n\u2081 + SD\u2082\u00b2/n\u2082.")
    elif measure == "ROM":
        text = ("Effects are log-transformed ratios of means (treatment over control), with variance "
                "SD\u2081\u00b2/(n\u2081 m\u2081\u00b2) + SD\u2082\u00b2/(n\u2082 m\u2082\u00b2).")
    elif measure == "NMD":
        text = ("Effects are normalised mean differences (Vesterinen et al. 2014, J Neurosci Methods 221:92): the "
                "difference between treatment and control as a percentage of the difference between control and "
                "sham/normal animals, 100 (m\u2081 \u2212 m\u2082)/|m\u2082 \u2212 m\u209b|, with variance "
                "(100/|m\u2082 \u2212 m\u209b|)\u00b2 (SD\u2081\u00b2/n\u2081 + SD\u2082\u00b2/n\u2082).")
    elif measure in ("OR", "RR", "RD", "PETO"):
        label = {"OR": "odds ratios", "RR": "risk ratios", "RD": "risk differences", "PETO": "Peto odds ratios"}[measure]
        text = (f"Effects are {label} (treatment versus control) from the events and totals of each arm"
                + ("; ratios were analysed on the log scale and are shown back-transformed, 1 meaning no "
                   "difference" if measure != "RD" else "")
                + ". Zero cells were handled as R metafor does by default: 1/2 added to every cell of a table with a "
                "zero cell; a study without events in either arm is shown as not estimable"
                + (" and not pooled" if measure != "RD" else "") + ".")
    elif measure == "HR":
        text = ("Effects are hazard ratios as reported by the studies (with their standard errors or 95% "
                "confidence intervals, SE = (log upper \u2212 log lower)/(2 \u00d7 1.96)), analysed on the log "
                "scale and shown back-transformed (generic inverse variance).")
    else:
        text = f"Effects are {measure}."
    if measure in ("SMD", "MD", "ROM", "NMD") and "generic" in (kinds or set()):
        text += (" Effects reported by a study only as an estimate with its standard error or confidence interval "
                 "enter as such (generic inverse variance).")
    if kinds and "continuous" not in kinds:
        return text + " Each forest plot states which arm each side of the line of no effect favours."
    return (text + " Standard errors reported in place of standard deviations were converted with "
            "SD = SE \u00d7 \u221an. Each forest plot states which arm each side of zero favours, for its outcome.")


def _model_text(a: dict) -> str:
    method = a.get("method", "REML")
    level = fmt.integer(a.get("level", 95))
    if method in ("MH", "PETO"):
        return (("Studies were pooled with the Mantel\u2013Haenszel method" if method == "MH" else
                 "Studies were pooled with Peto's method (Yusuf et al. 1985)")
                + f", a common-effect model computed from the 2\u00d72 tables (R metafor rma.{method.lower()}); "
                f"{level}% confidence intervals and tests use the normal distribution. Heterogeneity is described "
                "by Cochran's Q with its \u03c7\u00b2 test and I\u00b2.")
    if method == "FE":
        text = ("Studies were pooled for each outcome and time point with an inverse-variance common-effect "
                "(fixed-effect) model.")
    else:
        text = ("Studies were pooled for each outcome and time point with an inverse-variance random-effects "
                f"model; the between-study variance \u03c4\u00b2 was estimated by {METHOD_LABELS.get(method, method)}.")
    if a.get("test") == "knha":
        text += (f" {level}% confidence intervals and tests of the pooled effect use the Knapp\u2013Hartung "
                 "(Hartung\u2013Knapp\u2013Sidik\u2013Jonkman) adjustment, with a t distribution on k \u2212 1 "
                 "degrees of freedom.")
    else:
        text += f" {level}% confidence intervals and tests of the pooled effect use the normal distribution (z test)."
    if a.get("prediction_interval", True) and method != "FE":
        text += (f" {level}% prediction intervals give the range in which the true effect of a new, comparable "
                 "study is expected to lie.")
    text += (" Heterogeneity is described by \u03c4\u00b2, Cochran's Q with its \u03c7\u00b2 test, and I\u00b2 "
             "computed from \u03c4\u00b2 and the typical within-study variance (as in R metafor). Outcomes "
             "reported by a single study are shown without pooling.")
    return text


def _subgroup_text(a: dict) -> str:
    subgroups = a.get("subgroups") or []
    if not subgroups:
        return "No subgroup analyses were specified."
    names = [s.get("label") or fmt.humanise(s.get("variable", "")) for s in subgroups]
    listed = ", ".join(n.lower() if n[:1].isupper() and not n[:2].isupper() else n for n in names)
    text = f"Subgroup analyses were planned by {listed}."
    if a.get("subgroup_tau2") == "common":
        text += (" They fit a mixed-effects model with a \u03c4\u00b2 common to all subgroups (metafor "
                 "rma with mods = ~ factor(subgroup)) and test subgroup differences with the omnibus test of "
                 "moderators Q (df = number of subgroups \u2212 1).")
    else:
        text += (" \u03c4\u00b2 was estimated separately within each subgroup, and subgroups were compared with a "
                 "Wald-type test for differences (Q, df = number of subgroups \u2212 1), as RevMan and R meta do.")
    text += (" A variable whose studies fall into fewer than two subgroups is not analysed; studies without a "
             "classification are left out of that variable's analysis.")
    return text


def _small_study_text(a: dict, assessed: bool) -> str:
    level = fmt.integer(a.get("level", 95))
    text = (f"Small-study effects (a possible sign of bias due to missing results) were assessed only for "
            f"analyses with at least {fmt.integer(a['small_study_min_k'])} studies (Cochrane Handbook "
            f"13.3.5.4), with a funnel plot (study effects against their standard errors, with the pseudo "
            f"{level}% confidence region around the pooled estimate) and Egger's regression test (R metafor "
            "regtest: the meta-analytic model above with the standard error as moderator).")
    if a.get("measure") == "SMD":
        text += (" Because the standard error of a standardised mean difference depends on the difference "
                 "itself, Egger's test was also run with 1/\u221an (n = n\u2081 + n\u2082) as predictor, as "
                 "Zwetsloot et al. (2017, eLife 6:e24260) recommend, for analyses whose studies all state "
                 "their group sizes.")
    if assessed:
        text += " " + _sensitivity_small_study_text(a)
    return text


def _sensitivity_small_study_text(a: dict) -> str:
    """Begg's test and trim-and-fill, for reports with at least one analysis assessed for small-study effects."""
    refit = "the same common-effect model" if a.get("method") == "FE" else "the same estimator of \u03c4\u00b2"
    z = "the normal distribution (z test, as in metafor 3.8-1"
    z += ", not the Knapp\u2013Hartung adjustment)" if a.get("test") == "knha" else ")"
    return ("Begg and Mazumdar's rank correlation test (R metafor ranktest) complemented Egger's test, and Duval "
            "and Tweedie's trim-and-fill method (R metafor trimfill: L0 estimator, with the side of the funnel on "
            "which studies are missing chosen from the data as metafor does) served as a sensitivity analysis. "
            "When trim-and-fill imputes studies, its adjusted estimate comes from the observed and imputed studies "
            f"refitted with {refit}, with a {fmt.integer(a.get('level', 95))}% confidence interval from {z}; it "
            "shows how far the pooled estimate could move if the asymmetry came from missing studies and is not a "
            "corrected estimate, since asymmetry can also arise from heterogeneity, from differences in quality "
            "between small and large studies or by chance (Cochrane Handbook, chapter 13).")


def _software_text(sw: dict) -> str:
    def v(name: str) -> str:
        return sw.get(name) or "(version unknown)"
    return (f"Computed with livingmeta {v('livingmeta')} (Python {v('python')}, NumPy {v('numpy')}, "
            f"SciPy {v('scipy')}; statistics validated against R metafor) in a Snakemake {v('snakemake')} "
            f"workflow; report rendered with Jinja2 {v('jinja2')} and WeasyPrint {v('weasyprint')}.")


def _agreement_text(rows: list[dict]) -> str | None:
    if not rows:
        return None
    parts = []
    for r in rows:
        stats = []
        if r.get("percent") is not None:
            stats.append(f"{fmt.num(r['percent'], 1)}% agreement")
        if r.get("kappa") is not None:
            stats.append(f"Cohen's \u03ba = {fmt.num(r['kappa'])}")
        if r.get("pabak") is not None:
            stats.append(f"PABAK = {fmt.num(r['pabak'])}")
        if r.get("n") is not None:
            stats.append(f"n = {fmt.integer(r['n'])}")
        parts.append(f"{r['label'].lower()}: {', '.join(stats) or 'not available'}")
    return "Agreement between the two reviewers: " + "; ".join(parts) + "."


def _outcome_models_text(a: dict, analyses: list[dict] | None) -> str | None:
    """The outcomes whose measure or pooling method differs from the review-wide one (outcomes.yaml)."""
    seen: dict[str, str] = {}
    for an in analyses or []:
        measure, method = an.get("measure") or a["measure"], an.get("method") or a["method"]
        if measure == a["measure"] and method == a["method"]:
            continue
        what = MEASURE_LABELS.get(measure, measure)
        what += f", {METHOD_LABELS.get(method, method)}" if method != a["method"] or method in ("MH", "PETO") else ""
        seen.setdefault(str(an.get("label") or an.get("outcome")), what)
    if not seen:
        return None
    return ("Outcomes with their own effect measure or model (outcomes.yaml): "
            + "; ".join(f"{label}: {what}" for label, what in seen.items()) + ".")


def _dependent_text(analyses: list[dict] | None, level: Any) -> str | None:
    """How studies reporting several comparisons of one analysis were pooled (livingmeta.comparisons); None
    when no study does."""
    ways: dict[str, list[str]] = {}
    for an in analyses or []:
        if an.get("dependent"):
            ways.setdefault(an["dependent"], []).append(str(an.get("label") or an.get("outcome")))
    if not ways:
        return None
    parts = []
    if "multilevel" in ways:
        parts.append(
            "each comparison entered a three-level random-effects model (comparisons within experiments within "
            "studies; metafor rma.mv, restricted maximum likelihood; Konstantopoulos 2011; Cheung 2014), the "
            "sampling covariance of comparisons sharing a control group computed as metafor's vcalc does "
            "(Gleser & Olkin 2009); with the Knapp\u2013Hartung setting, tests and confidence intervals use a "
            "t distribution on the number of studies minus 1 (\"containment\" degrees of freedom); "
            "heterogeneity is given as a variance and an I\u00b2 per level, leave-one-out leaves out a whole "
            "study, subgroups enter the model as moderators, and small-study tests are not run ("
            + "; ".join(dict.fromkeys(ways["multilevel"])) + ")")
        robust = [str(an.get("label") or an.get("outcome")) for an in analyses or [] if an.get("robust")]
        if robust:
            parts[-1] += (
                "; the pooled estimate was also tested with a cluster-robust (sandwich) variance at the study "
                "level, the CR2 bias-reduced estimator with Satterthwaite degrees of freedom (Bell & McCaffrey "
                "2002; Tipton & Pustejovsky 2015; Pustejovsky & Tipton 2018; R clubSandwich), which stays valid "
                "when the multilevel model's dependence structure is misspecified ("
                + "; ".join(dict.fromkeys(robust)) + ")")
    if "combine" in ways:
        parts.append("the arms of a study were combined into one comparison (Cochrane Handbook 6.5.2.10; "
                     "events and totals summed) (" + "; ".join(dict.fromkeys(ways["combine"])) + ")")
    if "split" in ways:
        parts.append("a shared control group's size was divided among the comparisons using it (Cochrane "
                     "Handbook 23.3.4) (" + "; ".join(dict.fromkeys(ways["split"])) + ")")
    return "Studies reporting several comparisons of one outcome and time point (several doses or " \
           "treatments, shared control groups, independent experiments): " + "; ".join(parts) + "."


def _rob_sensitivity_text(rule: str) -> str:
    if rule == "none":
        return ""
    which = ("without the studies at high risk of bias (studies without an assessment kept)"
             if rule == "exclude_high" else "with only the studies at low risk of bias")
    return (f" Each analysis was also re-fitted {which}, a study's risk being its overall risk-of-bias "
            "judgement, or its most severe item for a tool without an overall judgement (Cochrane Handbook "
            "version 6, chapter 7).")


def certainty_text(config: dict, analyses: list[dict], unit: str = "subjects") -> str:
    """The GRADE paragraph: the rule set of :mod:`livingmeta.certainty.grade` with its thresholds."""
    from livingmeta.certainty import grade

    settings = (config or {}).get("certainty") or {}
    ois = {"units": grade.OIS_CONTINUOUS, "events": grade.OIS_EVENTS, **(settings.get("ois") or {})}
    mids = settings.get("mid") or {}
    confirmed = sum(1 for a in analyses if (a.get("certainty") or {}).get("status") == "confirmed")
    rated = sum(1 for a in analyses if a.get("certainty"))
    spread = ("the prediction interval" if ((config or {}).get("analysis") or {}).get("prediction_interval", True)
              else "the range of the studies' confidence intervals")
    return (
        "The certainty of each pooled estimate was rated with GRADE (Guyatt et al. 2011, J Clin Epidemiol "
        "64:383" + ("; for animal studies as adapted by Hooijmans et al. 2018, PLoS One 13:e0187271"
                    if unit == "animals" else "") + "), starting "
        "at high and rated down by one or two levels per domain. livingmeta proposes each domain from the "
        f"data: risk of bias, \u22122 when at least {grade.ROB_HALF:.0%} of the analysis weight comes from "
        "studies at high risk (overall judgement, or the most severe item for a tool without one), \u22121 "
        "when at least that share comes from studies at high or unclear risk; inconsistency, \u22121 when "
        f"I\u00b2 \u2265 {grade.I2_SERIOUS:.0f}% and {spread} includes no effect, \u22122 when "
        f"I\u00b2 \u2265 {grade.I2_VERY_SERIOUS:.0f}% and it spans benefit and harm; imprecision, \u22121 each "
        "when the confidence interval includes no effect"
        + (" (or crosses the minimal important difference, stated for " + ", ".join(sorted(mids)) + ")" if mids
           else "")
        + f" and when the optimal information size is not met ({ois['units']} {unit} for "
        f"continuous outcomes, {ois['events']} events for dichotomous ones); publication bias, \u22121 when "
        f"Egger's test gives p < {grade.EGGER_ALPHA:.2f} with at least {grade.PUBLICATION_BIAS_MIN_K} studies; "
        "indirectness is judged by the reviewers only. The reviewers confirmed or overrode each domain with "
        f"a reason (certainty.yaml); {confirmed} of {rated} ratings are confirmed, the others are shown as "
        "proposed.")


def build_methods(config: dict, software: dict, *, agreement: Any = None, rob_tool: str | None = None,
                  small_study_assessed: bool = False, analyses: list[dict] | None = None,
                  rob: dict | None = None, unit: str = "subjects", stopping: dict | None = None) -> dict:
    """The ``methods`` block (``unit``: the review's unit of analysis, plural); ``small_study_assessed``:
    at least one analysis was assessed for small-study effects (the text then also names Begg's test and trim-and-fill); ``analyses`` (results.json's) name
    the outcomes whose measure or method is their own."""
    a = dict((config or {}).get("analysis") or {})
    a.setdefault("measure", "SMD")
    a.setdefault("smd_variance", "LS")
    a.setdefault("method", "REML")
    a.setdefault("test", "knha")
    a.setdefault("level", 95)
    a.setdefault("prediction_interval", True)
    a.setdefault("subgroup_tau2", "separate")
    a.setdefault("subgroups", [])
    a.setdefault("leave_one_out", True)
    a.setdefault("small_study_min_k", SMALL_STUDY_MIN_K)
    rows = agreement_rows(agreement)
    own = _outcome_models_text(a, analyses)
    text = [
        {"heading": "Effect measure", "text": _measure_text(a, {k for an in analyses or [] for k in an.get("kinds") or
                                                                ["continuous"]} or None)
         + (" " + own if own else "")},
        {"heading": "Meta-analysis", "text": _model_text(a) + (
            " " + _dependent_text(analyses, a["level"]) if _dependent_text(analyses, a["level"]) else "")},
        {"heading": "Subgroup analyses", "text": _subgroup_text(a)},
        {"heading": "Sensitivity analysis", "text": (
            "Each study was left out in turn and the model re-fitted (leave-one-out), for analyses with at "
            "least three studies." if a["leave_one_out"] else "No leave-one-out sensitivity analysis was run.")
            + _rob_sensitivity_text(a.get("rob_sensitivity", "exclude_high"))},
        {"heading": "Small-study effects", "text": _small_study_text(a, small_study_assessed)},
    ]
    if rob_tool:
        text.append({"heading": "Risk of bias", "text": "Risk of bias was assessed with "
                     f"{ROB_TOOLS.get(rob_tool) or _rob_tool_text(rob_tool, rob or {})}."})
    if any(an.get("certainty") for an in analyses or []):
        text.append({"heading": "Certainty of evidence", "text": certainty_text(config, analyses or [], unit)})
    agreement_text = _agreement_text(rows)
    stop_text = (stopping or {}).get("methods_text")
    if agreement_text or stop_text:
        text.append({"heading": "Screening", "text": " ".join(t for t in (agreement_text, stop_text) if t)})
    text.append({"heading": "Traceability", "text": (
        "Every per-study number carries its provenance (text, table, digitised figure, author contact or "
        "illustrative) and the study file it comes from (Appendix A); results.json, published with this "
        "report, holds every number shown here.")})
    text.append({"heading": "Software", "text": _software_text(software)})
    return {
        "measure": a["measure"],
        "measure_label": MEASURE_LABELS.get(a["measure"], a["measure"]),
        "smd_variance": a["smd_variance"] if a["measure"] == "SMD" else None,
        "method": a["method"],
        "method_label": METHOD_LABELS.get(a["method"], a["method"]),
        "test": a["test"],
        "test_label": TEST_LABELS.get(a["test"], a["test"]),
        "level": a["level"],
        "prediction_interval": bool(a["prediction_interval"]),
        "subgroup_tau2": a["subgroup_tau2"],
        "subgroups": [{"variable": s.get("variable"), "label": s.get("label") or fmt.humanise(s.get("variable", ""))}
                      for s in a["subgroups"]],
        "leave_one_out": bool(a["leave_one_out"]),
        "small_study_min_k": a["small_study_min_k"],
        "risk_of_bias_tool": rob_tool,
        "screening_agreement": rows,
        "software": dict(software),
        "text": text,
    }


def synthesis_methods_text(synthesis: dict) -> str:
    """The Methods chapter's paragraph on the synthesis without meta-analysis (``results/synthesis/
    synthesis.json``, :mod:`livingmeta.synthesis`), following the SWiM reporting guideline (Campbell et al.
    2020, BMJ 368:l6890): grouping, the direction of effect as the standardised metric, vote counting on the
    direction with the sign test and the Clopper-Pearson interval (Cochrane Handbook 12.2.2.5; Clopper &
    Pearson 1934), the effect direction plot (Thomson & Thomas 2013, Res Synth Methods 4:95) and the
    evidence map."""
    k = int(synthesis.get("k") or 0)
    groups = synthesis.get("groups") or []
    group_label = str(synthesis.get("group_label") or synthesis.get("group_by") or "group").replace("_", " ").lower()
    domains = ", ".join(str(d.get("label") or d.get("id")) for d in synthesis.get("domains") or [])
    level = f"{float(synthesis.get('level') or 95):g}%"
    chars = ", ".join(str(c).replace("_", " ") for c in synthesis.get("characteristics") or [])
    return (
        f"Outcome domains that {'one study reports' if k == 1 else f'{k} studies report'} only as a direction "
        "of effect, without data that could be pooled, were synthesised without meta-analysis following the "
        "SWiM reporting guideline (Campbell et al. 2020, BMJ 368:l6890). The studies were grouped by "
        f"{group_label} ({len(groups)} {'group' if len(groups) == 1 else 'groups'}), and the direction of effect "
        f"per outcome domain{f' ({domains})' if domains else ''} (benefit, harm, no clear difference or mixed) was "
        "the standardised metric. Per group and domain, the studies were counted by direction (vote counting "
        "based on the direction of effect, Cochrane Handbook 12.2.2.5, never on statistical significance): "
        f"the proportion of beneficial effects among studies with a direction is given with its exact "
        f"Clopper\u2013Pearson {level} confidence interval (Clopper & Pearson 1934) and tested against one half "
        "with the two-sided sign test; studies with no clear difference or mixed results are counted but do not "
        "vote. Each group is shown as a structured evidence table"
        + (f" (study characteristics: {chars})" if chars else "")
        + ", an effect direction plot (Thomson & Thomas 2013) and its vote counts, and an evidence map gives "
        "the number of studies per group and characteristic.")


def add_synthesis_methods(methods: dict, synthesis: dict | None) -> None:
    """Add the synthesis-without-meta-analysis paragraph to results.json's ``methods`` (in place), after the
    pooled analyses' paragraphs; nothing when the review has no synthesis."""
    if not synthesis or not synthesis.get("k"):
        return
    text = methods.setdefault("text", [])
    entry = {"heading": "Synthesis without meta-analysis", "text": synthesis_methods_text(synthesis)}
    headings = [t.get("heading") for t in text]
    at = headings.index("Small-study effects") + 1 if "Small-study effects" in headings else len(text)
    text.insert(at, entry)
