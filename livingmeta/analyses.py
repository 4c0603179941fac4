"""One analysis (outcome x timepoint) from the per-study effect documents: pooling, small-study effects,
subgroups, leave-one-out.

The workflow's ``analysis`` job (one per analysis) calls :func:`analysis_documents`; the statistics come
from ``livingmeta.stats`` (validated against R metafor). Inputs are the effect documents
(``livingmeta.extraction.documents.study_documents``) of only the studies that report the analysis.
"""

from __future__ import annotations

from typing import Any, Iterable

from livingmeta.errors import ReviewInputError

# Cochrane Handbook 13.3.5.4: tests for funnel plot asymmetry only with at least 10 studies
SMALL_STUDY_MIN_K = 10


def collect_effects(study_docs: Iterable[dict], analysis: str) -> list[dict]:
    """The effect rows of ``analysis`` from the study documents, in study-id order: one per study, or one per
    comparison (in file order) for a study reporting several (each with its ``comparison`` label)."""
    rows = []
    for doc in study_docs:
        matches = [e for e in doc.get("effects", []) if e.get("analysis") == analysis]
        if len(matches) > 1 and not all(e.get("comparison") for e in matches):
            raise ReviewInputError(
                f"reports {analysis} {len(matches)} times without comparison labels", file=doc.get("file"),
                field="outcomes", hint="Give each entry of one outcome and timepoint a `comparison:` label "
                                       "(docs/study-file.md).")
        for effect in matches:
            row = dict(effect)
            row["study"] = doc["study"]
            row["label"] = study_label(doc)
            rows.append(row)
    return sorted(rows, key=lambda r: r["study"])


def analysis_documents(study_docs: list[dict], rob_docs: list[dict], meta: dict, model: dict, *,
                       subgroups: list, subgroup_tau2: str, leave_one_out: bool = True,
                       rob_rule: str = "none") -> dict[str, dict]:
    """The three documents of one analysis, ``{pooled, subgroups, leave_one_out}`` (pooled.json,
    subgroups.json, leave_one_out.json). ``model``: the analysis's model (``plan.Analysis.model``); its CR2
    test (``robust``) is computed for the whole analysis only. ``rob_docs``: the risk-of-bias documents of
    the analysis's studies, read when ``rob_rule`` is not ``none``."""
    aid = meta["analysis"]
    plain = {k: v for k, v in model.items() if k != "robust"}
    pooled = pool_analysis(collect_effects(study_docs, aid), meta, model)
    groups = {d["study"]: d.get("groups") or {} for d in study_docs}
    sub = subgroups_for_analysis(collect_effects(study_docs, aid), groups, meta, plain, list(subgroups),
                                 subgroup_tau2)
    rows = collect_effects(study_docs, aid)
    if leave_one_out:
        loo = leave_one_out_for_analysis(rows, meta, plain)
    else:
        loo = {**meta, "leave_one_out": [], "note": "leave-one-out disabled in config"}
    if rob_rule != "none":
        loo["rob_sensitivity"] = rob_sensitivity(collect_effects(study_docs, aid), plain,
                                                 rob_of_studies(rob_docs), rob_rule)
    return {"pooled": pooled, "subgroups": sub, "leave_one_out": loo}


def study_label(doc: dict) -> str:
    if doc.get("label"):
        return str(doc["label"])
    cit = doc.get("citation") or {}
    author, year = cit.get("first_author"), cit.get("year")
    if author and year:
        return f"{author} {year}"
    return doc["study"]


def _model_kwargs(model: dict) -> dict:
    """Inverse-variance model arguments; Mantel-Haenszel and Peto analyses use the common-effect model
    for what only inverse-variance methods provide (small-study tests, funnel plot)."""
    method = str(model["method"]).upper()
    return {"method": "FE" if method in POOLING_METHODS else model["method"], "test": model["test"],
            "level": model["level"]}


POOLING_METHODS = ("MH", "PETO")
# Per-study data columns copied from the effect rows into pooled.json's studies (metafor's names; the data
# kind decides which are present): continuous arms, the sham group of NMD, 2x2 tables, reported estimates.
STUDY_DATA_KEYS = ("kind", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "msi", "sdsi", "nsi", "ai", "ci",
                   "estimate", "ci_lb_reported", "ci_ub_reported", "se_reported", "reported_scale", "unit",
                   "direction_flipped", "converted")
# a study's several comparisons of one analysis (livingmeta.comparisons)
COMPARISON_KEYS = ("comparison", "experiment", "control_group", "combined_from", "n2i_before_split")


def estimable(rows: list[dict]) -> list[dict]:
    """The rows with an effect size (a study without events in either arm has none for a ratio measure)."""
    return [r for r in rows if r.get("yi") is not None and r.get("vi") is not None]


def check_units(rows: list[dict], meta: dict, model: dict) -> None:
    """Mean differences keep the unit of the outcome: refuse to pool MDs reported in different units unless
    the outcome says they were harmonised (``units_harmonised: true`` in outcomes.yaml)."""
    if str(model.get("measure")).upper() != "MD" or model.get("units_harmonised"):
        return
    units: dict[str, list[str]] = {}
    for r in rows:
        unit = " ".join(str(r.get("unit") or "").split())
        units.setdefault(unit, []).append(r["study"])
    if len(units) > 1:
        listing = "; ".join(f"'{u}': {', '.join(studies)}" for u, studies in units.items())
        raise ReviewInputError(
            f"analysis {meta.get('analysis')}: mean differences (MD) in different units cannot be pooled ({listing})",
            file="outcomes.yaml", field=f"{meta.get('outcome')}.units_harmonised",
            hint="Convert the studies to one unit and write it in each study's `unit`, or, if the numbers are "
                 "already on one scale, say `units_harmonised: true` for the outcome in outcomes.yaml; or use "
                 "measure SMD.")


def _tables(rows: list[dict], measure: str) -> dict:
    """2x2 tables of dichotomous rows for Mantel-Haenszel/Peto; a study whose scale runs the other way
    (direction_flipped) enters with events and non-events swapped (exactly the sign change of its log OR,
    Peto log OR or RD; no such identity exists for the RR)."""
    ai, n1i, ci, n2i = [], [], [], []
    for r in rows:
        if r.get("kind") != "dichotomous":
            raise ReviewInputError(
                f"study {r['study']}: {r.get('kind')} data cannot be pooled with the Mantel-Haenszel or Peto "
                "method, which needs events and totals per arm", file=f"{r['study']}", field="outcomes",
                hint="Give events and totals for every study of this outcome, or use an inverse-variance method "
                     "(e.g. `method: REML` or `FE`) for it in outcomes.yaml.")
        a, c = r["ai"], r["ci"]
        if r.get("direction_flipped"):
            if measure == "RR":
                raise ReviewInputError(
                    f"study {r['study']}: its events point the other way (higher_is_better differs from the "
                    "outcome's), which a Mantel-Haenszel risk ratio cannot reverse", file=r["study"],
                    field="higher_is_better", hint="Enter the complementary events (total minus events) "
                                                   "with the outcome's direction, or use OR or RD.")
            a, c = r["n1i"] - a, r["n2i"] - c
        ai.append(a)
        ci.append(c)
        n1i.append(r["n1i"])
        n2i.append(r["n2i"])
    return {"ai": ai, "n1i": n1i, "ci": ci, "n2i": n2i}


def zero_cells(model: dict) -> dict:
    from livingmeta.stats.binary import zero_cell_defaults

    zc = zero_cell_defaults(model["measure"])
    zc.update({k: v for k, v in (model.get("zero_cells") or {}).items() if v is not None})
    return zc


def fit_pooled(rows: list[dict], model: dict) -> dict[str, Any]:
    """The pooled model of ``rows`` (all rows of the analysis, not estimable ones included): inverse
    variance (metafor ``rma()``) on the estimable rows, or Mantel-Haenszel / Peto on the tables.  Returns
    the fit dict (``weights`` per row of ``rows``, 0 for a row without an effect size) with ``measure``,
    ``scale`` and the back-transformed keys."""
    from livingmeta.stats import measures, rma, rma_mh, rma_peto

    from livingmeta import comparisons

    m = measures.get(model["measure"])
    method = str(model["method"]).upper()
    measures.check_method(m, method)
    labels = [r["study"] for r in rows]
    if (method not in POOLING_METHODS and comparisons.dependent_method(model) == "multilevel"
            and comparisons.several(rows) and comparisons.mv_ok(rows)):
        fit = comparisons.fit_multilevel(rows, model)
        fit["studies"] = labels
        if not model.get("prediction_interval", True):
            fit["pi_lb"] = fit["pi_ub"] = None
        return measures.back_transform(fit, m)
    if method in POOLING_METHODS:
        zc = zero_cells(model)
        t = _tables(rows, m.name)
        if method == "MH":
            fit = rma_mh(t["ai"], t["ci"], n1i=t["n1i"], n2i=t["n2i"], measure=m.name, level=model["level"],
                         labels=labels, **zc)
        else:
            fit = rma_peto(t["ai"], t["ci"], n1i=t["n1i"], n2i=t["n2i"], level=model["level"], labels=labels, **zc)
        fit.pop("yi", None)
        fit.pop("vi", None)
        fit["weights"] = [w or 0.0 for w in fit["weights"]]
    else:
        est = estimable(rows)
        if not est:   # e.g. only studies without events in either arm: shown, nothing to pool
            fit = {"k": 0, "method": model["method"], "test": model["test"], "level": model["level"],
                   "converged": True, "Q_df": 0, "ddf": None, "studies": labels, "weights": [0.0] * len(rows),
                   "warnings": [f"no study has an estimable {m.label} (no events in either arm): nothing to pool"],
                   **{key: None for key in ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub",
                                            "tau2", "se_tau2", "tau2_ci_lb", "tau2_ci_ub", "I2", "I2_ci_lb",
                                            "I2_ci_ub", "H2", "Q", "Q_pval")}}
            return measures.back_transform(fit, m)
        fit = rma([r["yi"] for r in est], [r["vi"] for r in est], labels=[r["study"] for r in est],
                  **_model_kwargs(model)).to_dict()
        weights = iter(fit.get("weights") or [0.0] * len(est))
        est_ids = {id(r) for r in est}
        fit["weights"] = [next(weights) if id(r) in est_ids else 0.0 for r in rows]
        fit["studies"] = labels
        not_est = [r["study"] for r in rows if r not in est]
        if not_est:
            fit.setdefault("warnings", []).append(
                f"not estimable (no events in either arm), shown but not pooled: {', '.join(not_est)}")
    if not model.get("prediction_interval", True) or method in POOLING_METHODS:
        fit["pi_lb"] = fit["pi_ub"] = None
    return measures.back_transform(fit, m)


def pool_analysis(rows: list[dict], meta: dict, model: dict) -> dict[str, Any]:
    """Pool the rows of one analysis; returns the ``pooled.json`` document (docs/architecture.md)."""
    from livingmeta import comparisons

    check_units(rows, meta, model)
    several = comparisons.several(rows)
    rows, notes = comparisons.prepare(rows, model)
    fit = fit_pooled(rows, model)
    if notes:
        fit["warnings"] = list(fit.get("warnings") or []) + notes
    crit = _z_crit(model["level"])
    studies = []
    for row, weight in zip(rows, fit.get("weights") or [None] * len(rows)):
        ok = row.get("yi") is not None and row.get("vi") is not None
        se = row["vi"] ** 0.5 if ok else None
        item = {
            "study": row["study"], "label": row["label"], "yi": row.get("yi"), "vi": row.get("vi"),
            "ci_lb": row["yi"] - crit * se if ok else None, "ci_ub": row["yi"] + crit * se if ok else None,
            "weight": weight, "estimable": ok,
            "n1i": row.get("n1i"), "n2i": row.get("n2i"), "provenance": row.get("provenance"),
        }
        for key in STUDY_DATA_KEYS + COMPARISON_KEYS:
            if key in row and key not in item:
                item[key] = row[key]
        studies.append(item)
    doc = {k: v for k, v in fit.items() if k != "weights"}
    doc.update(meta)
    doc.update({
        "measure": fit["measure"],
        "scale": fit["scale"],
        "kinds": sorted({r.get("kind") or "continuous" for r in rows}),
        "studies": studies,
        "illustrative": any(r.get("provenance") == "illustrative" for r in rows),
        "small_study": small_study_effects(estimable(rows), model) if fit.get("model") != "multilevel" else {
            "assessed": False, "min_k": int(model.get("small_study_min_k", SMALL_STUDY_MIN_K)),
            "reason": "not assessed for a multilevel analysis (the comparisons of a study are not independent)"},
    })
    if several:   # how this analysis pooled its studies' several comparisons
        doc["dependent"] = ("combine" if str(model["method"]).upper() in POOLING_METHODS or
                            (fit.get("model") != "multilevel" and comparisons.dependent_method(model) == "multilevel")
                            else comparisons.dependent_method(model))
        doc.setdefault("structure", comparisons.structure(rows))
    if str(model["method"]).upper() in POOLING_METHODS:
        doc["zero_cells"] = zero_cells(model)
    return doc


def small_study_effects(rows: list[dict], model: dict) -> dict[str, Any]:
    """The ``small_study`` block of ``pooled.json`` (PRISMA 2020 items 14 and 21).

    With at least ``model["small_study_min_k"]`` studies (default :data:`SMALL_STUDY_MIN_K`): Egger's
    regression test (metafor ``regtest()``, model "rma" with the main model's method, test and level) with
    the SE as predictor, for SMDs also with 1/sqrt(n), n = n1i + n2i (Zwetsloot et al. 2017, eLife
    6:e24260; only when every study states both group sizes), Begg's rank correlation test (metafor
    ``ranktest()``), trim-and-fill (:func:`trim_and_fill_block`) and the funnel plot data (``funnel_data``).
    With fewer studies: ``assessed`` false and the reason.
    """
    min_k = int(model.get("small_study_min_k", SMALL_STUDY_MIN_K))
    k = len(rows)
    if k < min_k:
        return {"assessed": False, "min_k": min_k, "reason": f"fewer than {min_k} studies (k = {k})"}
    from livingmeta.stats import funnel_data, ranktest, regtest

    yi = [r["yi"] for r in rows]
    vi = [r["vi"] for r in rows]
    kwargs = {**_model_kwargs(model), "labels": [r["study"] for r in rows]}
    ni = None
    if model["measure"] == "SMD" and all(r.get("n1i") is not None and r.get("n2i") is not None for r in rows):
        ni = [r["n1i"] + r["n2i"] for r in rows]
    out: dict[str, Any] = {"assessed": True, "min_k": min_k, "egger_se": regtest(yi, vi, predictor="sei", **kwargs)}
    if ni is not None:
        out["egger_sqrtninv"] = regtest(yi, vi, predictor="sqrtninv", ni=ni, **kwargs)
    out["rank_test"] = ranktest(yi, vi, method=model["method"], test=model["test"], labels=kwargs["labels"])
    out["trim_and_fill"] = trim_and_fill_block(yi, vi, **kwargs)
    out["funnel"] = funnel_data(yi, vi, ni=ni, **kwargs)
    return out


def trim_and_fill_block(yi: list[float], vi: list[float], **kwargs: Any) -> dict[str, Any]:
    """Duval and Tweedie's trim-and-fill (metafor ``trimfill()``, estimator L0, side estimated from the data).

    ``{estimator, side, k0, se_k0, k, estimate, se, ci_lb, ci_ub, pval, tau2, test, warnings, imputed}``:
    ``k`` counts the observed and imputed studies, the estimate is the model refitted to them (with
    ``test`` "z" when studies were imputed, as metafor 3.8-1; the original model when k0 = 0), on the
    analysis's scale, and ``imputed`` lists the imputed studies ``[{yi, sei}]``.
    """
    from livingmeta.stats import trimfill

    res = trimfill(yi, vi, estimator="L0", **kwargs)
    keys = ("estimator", "side", "k0", "se_k0", "k", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "test",
            "warnings")
    out: dict[str, Any] = {key: res[key] for key in keys}
    out["imputed"] = [{"yi": y, "sei": v ** 0.5} for y, v, filled in zip(res["yi"], res["vi"], res["fill"]) if filled]
    return out


def subgroups_for_analysis(rows: list[dict], study_groups: dict[str, dict], meta: dict, model: dict,
                           variables: list[dict], tau2: str) -> dict[str, Any]:
    """Per-variable subgroup analyses; variables whose studies fall into fewer than 2 levels are skipped
    with a note (no test for differences is possible). With several comparisons per study in a multilevel
    analysis, the subgroup variable is a moderator of the multilevel model (:func:`_subgroups_multilevel`)."""
    from livingmeta import comparisons
    from livingmeta.stats import subgroup_analysis

    raw = rows
    rows, _ = comparisons.prepare(rows, model)
    multilevel = (str(model["method"]).upper() not in POOLING_METHODS and comparisons.several(rows)
                  and comparisons.dependent_method(model) == "multilevel")
    # whether each comparison stays a row of its own (so that it can be in a subgroup of its own)
    keeps_rows = multilevel or (str(model["method"]).upper() not in POOLING_METHODS
                                and comparisons.dependent_method(model) == "split")
    out = []
    for var in variables:
        name = var["variable"]
        label = var.get("label") or name
        levels = [_level(r, study_groups, name) for r in rows]
        known = [(r, str(level)) for r, level in zip(rows, levels) if level not in (None, "", "NA")]
        missing = list(dict.fromkeys(r["study"] for r, level in zip(rows, levels) if level in (None, "", "NA")))
        distinct = sorted({level for _, level in known})
        entry: dict[str, Any] = {"variable": name, "label": label, "levels": [], "Q_between": None,
                                 "Q_between_df": None, "Q_between_pval": None, "note": None,
                                 "studies_without_level": missing}
        mixed = _studies_in_several_levels(raw, study_groups, name)
        if mixed and not keeps_rows:
            entry["note"] = (f"{', '.join(mixed)} {'has' if len(mixed) == 1 else 'have'} comparisons in different "
                             "subgroups, and this analysis combines a study's comparisons into one row "
                             "(Mantel-Haenszel/Peto, or dependent: combine); with dependent: multilevel or split, "
                             "each comparison stays in its own subgroup")
            out.append(entry)
            continue
        if len(distinct) < 2:
            entry["note"] = "fewer than 2 subgroups with data: no subgroup analysis"
            out.append(entry)
            continue
        if str(model["method"]).upper() in POOLING_METHODS:
            res = _subgroups_mh([r for r, _ in known], [level for _, level in known], model)
        else:
            known = [(r, level) for r, level in known if r.get("yi") is not None]
            if len({level for _, level in known}) < 2:
                entry["note"] = "fewer than 2 subgroups with estimable studies: no subgroup analysis"
                out.append(entry)
                continue
            if multilevel:
                try:
                    res = _subgroups_multilevel([r for r, _ in known], [level for _, level in known], model)
                except ReviewInputError as err:
                    entry["note"] = f"subgroup analysis not available for this multilevel analysis: {err.message}"
                    out.append(entry)
                    continue
            else:
                res = subgroup_analysis([r["yi"] for r, _ in known], [r["vi"] for r, _ in known],
                                        [level for _, level in known], tau2=tau2, **_model_kwargs(model))
        by_level: dict[str, list[str]] = {}
        rows_of_level: dict[str, list[list]] = {}
        for r, level in known:
            if r["study"] not in by_level.setdefault(level, []):
                by_level[level].append(r["study"])
            rows_of_level.setdefault(level, []).append([r["study"], r.get("comparison")])
        for lev in res["levels"]:
            lev = measures_back(dict(lev), model)
            lev["studies"] = by_level.get(str(lev["level"]), [])
            if mixed:  # a study in several subgroups: which of its comparisons are in this one
                lev["comparisons"] = rows_of_level.get(str(lev["level"]), [])
            entry["levels"].append(lev)
        entry.update({k: res.get(k) for k in ("Q_between", "Q_between_df", "Q_between_pval")})
        if multilevel:   # the moderator test of the multilevel model (F with t tests)
            entry.update({key: res[key] for key in ("Q_between_test", "Q_between_df2")})
        notes = list(res.get("warnings") or [])
        if missing:
            notes.append(f"not classified on {label}: {', '.join(missing)}")
        entry["note"] = "; ".join(notes) or None
        out.append(entry)
    from livingmeta.stats import measures

    m = measures.get(model["measure"])
    return {**meta, "measure": m.name, "scale": m.scale, "tau2_model": "multilevel" if multilevel else tau2,
            "subgroups": out}


def _level(row: dict, study_groups: dict[str, dict], name: str):
    """A row's value of subgroup variable ``name``: its comparison's own ``groups:``, else its study's."""
    own = row.get("groups") or {}
    return own[name] if name in own else (study_groups.get(row["study"]) or {}).get(name)


def _studies_in_several_levels(rows: list[dict], study_groups: dict[str, dict], name: str) -> list[str]:
    """The studies whose comparisons fall in different subgroups of ``name`` (per-comparison ``groups:``)."""
    seen: dict[str, set] = {}
    for r in rows:
        level = _level(r, study_groups, name)
        seen.setdefault(r["study"], set()).add(None if level in (None, "", "NA") else str(level))
    return [study for study, levels in seen.items() if len(levels) > 1]


def _subgroups_multilevel(rows: list[dict], levels: list[str], model: dict) -> dict[str, Any]:
    """Subgroups of a multilevel analysis: the subgroup as a factor moderator of the multilevel model, variance
    components common to all subgroups (metafor ``rma.mv(yi, V, mods = ~ factor(g) - 1, random = ...)``
    for the subgroups' estimates, ``mods = ~ factor(g)`` for the test of subgroup differences, its QM:
    chi-square with the z test, F(m, ddf) with t tests and ``dfs = "contain"``)."""
    from livingmeta import comparisons
    from livingmeta.stats import rma_mv

    args = comparisons.mv_arguments(rows, model)
    yi, V = args.pop("yi"), args.pop("V")
    cell = rma_mv(yi, V, mods={"g": levels}, intercept=False, **args)
    diff = rma_mv(yi, V, mods={"g": levels}, **args)
    out_levels = []
    for j, name in enumerate(cell.coef_names):
        lev = name[1:]
        members = [r for r, lv in zip(rows, levels) if lv == lev]
        out_levels.append({"level": lev, "k": len(members), "estimate": float(cell.beta[j]), "se": float(cell.se[j]),
                           "ci_lb": float(cell.ci_lb[j]), "ci_ub": float(cell.ci_ub[j]), "pval": float(cell.pval[j]),
                           "tau2": None, "I2": None})
    return {"levels": out_levels, "Q_between": diff.QM, "Q_between_df": diff.QM_df[0],
            "Q_between_pval": diff.QM_pval, "Q_between_test": "F" if diff.test == "t" else "chisq",
            "Q_between_df2": diff.QM_df[1],
            "warnings": list(dict.fromkeys(cell.warnings + diff.warnings))}


def _subgroups_mh(rows: list[dict], levels: list[str], model: dict) -> dict[str, Any]:
    """Mantel-Haenszel / Peto subgroups: each level pooled with the analysis's method, the test for
    subgroup differences as RevMan 5 computes it (Cochrane Handbook 10.11.3.1): a common-effect
    inverse-variance meta-analysis of the level estimates, its Q on (levels - 1) df."""
    from livingmeta.stats import rma

    out_levels, warnings = [], []
    for lev in sorted(set(levels)):
        members = [r for r, lv in zip(rows, levels) if lv == lev]
        try:
            fit = fit_pooled(members, model)
        except ReviewInputError as err:
            warnings.append(f"subgroup {lev!r}: {err.message}")
            continue
        out_levels.append({"level": lev, "k": fit["k"], "estimate": fit["estimate"], "se": fit["se"],
                           "ci_lb": fit["ci_lb"], "ci_ub": fit["ci_ub"], "pval": fit["pval"], "tau2": 0.0,
                           "I2": fit["I2"], "studies": [r["study"] for r in members],
                           "warnings": list(fit.get("warnings") or [])})
    ok = [lv for lv in out_levels if lv["estimate"] is not None and lv["se"]]
    res: dict[str, Any] = {"levels": out_levels, "Q_between": None, "Q_between_df": None, "Q_between_pval": None,
                           "warnings": warnings}
    if len(ok) > 1:
        between = rma([lv["estimate"] for lv in ok], sei=[lv["se"] for lv in ok], method="FE", test="z").to_dict()
        res.update({"Q_between": between["Q"], "Q_between_df": between["Q_df"], "Q_between_pval": between["Q_pval"]})
    return res


def leave_one_out_for_analysis(rows: list[dict], meta: dict, model: dict) -> dict[str, Any]:
    """Each study left out in turn (with all its comparisons when it reports several)."""
    from livingmeta import comparisons
    from livingmeta.stats import leave_one_out

    rows, _ = comparisons.prepare(rows, model)
    if comparisons.several(rows):
        return _leave_one_study_out(rows, meta, model)
    if str(model["method"]).upper() in POOLING_METHODS:
        return _leave_one_out_mh(rows, meta, model)
    rows = estimable(rows)
    if len(rows) < 3:
        return {**meta, "leave_one_out": [],
                "note": "leave-one-out needs at least 3 studies" if rows else None}
    results = leave_one_out([r["yi"] for r in rows], [r["vi"] for r in rows], **_model_kwargs(model))
    out = []
    for item in results:
        item = dict(item)
        item["omitted"] = rows[item["omitted"]]["study"]
        out.append(measures_back(item, model))
    return {**meta, "leave_one_out": out}


def _leave_one_study_out(rows: list[dict], meta: dict, model: dict) -> dict[str, Any]:
    """Leave-one-out when studies contribute several rows: the analysis refitted without each study (all its
    comparisons); the rest is pooled as the whole analysis is (multilevel while some study still has several
    comparisons)."""
    from livingmeta import comparisons

    studies = list(comparisons.by_study(estimable(rows)))
    if len(studies) < 3:
        return {**meta, "leave_one_out": [], "note": "leave-one-out needs at least 3 studies" if studies else None}
    out = []
    for study in studies:
        rest = [r for r in rows if r["study"] != study]
        rest, _ = comparisons.prepare(rest, model)
        fit = fit_pooled(rest, model)
        item = {"omitted": study, "study": study, "k": fit["k"],
                "omitted_rows": sum(1 for r in rows if r["study"] == study)}
        item.update({key: fit.get(key) for key in ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2",
                                                   "I2", "Q", "Q_pval", "sigma2", "warnings")})
        out.append(measures_back(item, model))
    return {**meta, "leave_one_out": out}


def _leave_one_out_mh(rows: list[dict], meta: dict, model: dict) -> dict[str, Any]:
    """Leave-one-out with the Mantel-Haenszel or Peto method: the tables refitted without each study."""
    if len(rows) < 3:
        return {**meta, "leave_one_out": [], "note": "leave-one-out needs at least 3 studies" if rows else None}
    out = []
    for i, row in enumerate(rows):
        rest = rows[:i] + rows[i + 1:]
        fit = fit_pooled(rest, model)
        item = {"omitted": row["study"], "study": row["study"], "k": fit["k"]}
        item.update({key: fit.get(key) for key in ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2",
                                                   "I2", "H2", "Q", "Q_pval", "warnings")})
        out.append(measures_back(item, model))
    return {**meta, "leave_one_out": out}


ROB_SENSITIVITY_RULES = {"exclude_high": "without the studies at high risk of bias",
                         "low_only": "only the studies at low risk of bias"}


def rob_of_studies(docs: list[dict]) -> dict[str, Any]:
    """``{studies: {study: items}, overall: {study: overall}}`` from per-study risk-of-bias documents
    (``livingmeta.rob.rob_document``), the shape :func:`rob_sensitivity` reads."""
    return {"studies": {d["study"]: d.get("items") or {} for d in docs},
            "overall": {d["study"]: d.get("overall") for d in docs}}


def rob_sensitivity(rows: list[dict], model: dict, rob: dict, rule: str) -> dict[str, Any]:
    """The analysis re-pooled with the studies its risk-of-bias rule keeps (a sensitivity analysis
    restricted by risk of bias, Cochrane Handbook version 6, chapter 7). ``rule``: ``exclude_high``
    (studies at high risk left out; studies without an assessment kept) or ``low_only`` (only studies at
    low risk). A study's risk is its overall judgement, or its most severe item for a tool without one
    (``livingmeta.certainty.grade.study_risk``).

    ``{rule, description, k, kept, excluded, analysed, estimate, se, ci_lb, ci_ub, pval, tau2, I2,
    note}`` (``analysed`` false, with a note, when fewer than 2 studies remain or none was left out)."""
    from livingmeta.certainty.grade import study_risk

    if rule not in ROB_SENSITIVITY_RULES:
        raise ValueError(f"unknown risk-of-bias sensitivity rule {rule!r}")
    from livingmeta import comparisons

    rows, _ = comparisons.prepare(rows, model)
    risk = {r["study"]: study_risk(rob or {}, r["study"]) for r in rows}
    keep = [r for r in rows if (risk[r["study"]] != "high" if rule == "exclude_high" else risk[r["study"]] == "low")]
    out: dict[str, Any] = {"rule": rule, "description": ROB_SENSITIVITY_RULES[rule],
                           "kept": list(dict.fromkeys(r["study"] for r in keep)),
                           "excluded": list(dict.fromkeys(r["study"] for r in rows if r not in keep)),
                           "analysed": False, "note": None}
    usable = keep if str(model["method"]).upper() in POOLING_METHODS else estimable(keep)
    out["k"] = len(usable)
    if len({r["study"] for r in usable}) < 2:
        usable = usable[:1]   # comparisons of one study are not enough to pool
    else:
        keep, _ = comparisons.prepare(keep, model)
    if not out["excluded"]:
        out["note"] = "no study left out"
    elif len(usable) < 2:
        out["note"] = f"{len(usable)} stud{'y' if len(usable) == 1 else 'ies'} left: not pooled"
    else:
        fit = fit_pooled(keep, {**model, "robust": False})   # the CR2 test only for the whole analysis
        item = {key: fit.get(key) for key in ("estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "I2")}
        out.update(measures_back(item, model))
        out["k"] = fit.get("k", len(usable))
        out["analysed"] = True
    return out


def measures_back(item: dict, model: dict) -> dict:
    from livingmeta.stats import measures

    return measures.back_transform(item, model["measure"])


def _z_crit(level: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(1 - (1 - level / 100) / 2))
