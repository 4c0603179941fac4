"""One analysis (outcome x timepoint) from the per-study effect files: pooling, small-study effects,
subgroups, leave-one-out.

The workflow's per-analysis jobs call these functions; the statistics come from ``livingmeta.stats``
(validated against R metafor). Inputs are the ``results/studies/<study>.json`` documents of only the
studies that report the analysis.
"""

from __future__ import annotations

from typing import Any, Iterable

from livingmeta.errors import ReviewInputError

# Cochrane Handbook 13.3.5.4: tests for funnel plot asymmetry only with at least 10 studies
SMALL_STUDY_MIN_K = 10


def collect_effects(study_docs: Iterable[dict], analysis: str) -> list[dict]:
    """The effect rows of ``analysis`` from the study documents, one per study, in study-id order."""
    rows = []
    for doc in study_docs:
        matches = [e for e in doc.get("effects", []) if e.get("analysis") == analysis]
        if len(matches) > 1:
            raise ReviewInputError(
                f"reports {analysis} {len(matches)} times", file=doc.get("file"), field="outcomes",
                hint="Keep one entry per outcome and timepoint (combine arms first if the study has several).")
        if matches:
            row = dict(matches[0])
            row["study"] = doc["study"]
            row["label"] = study_label(doc)
            rows.append(row)
    return sorted(rows, key=lambda r: r["study"])


def study_label(doc: dict) -> str:
    if doc.get("label"):
        return str(doc["label"])
    cit = doc.get("citation") or {}
    author, year = cit.get("first_author"), cit.get("year")
    if author and year:
        return f"{author} {year}"
    return doc["study"]


def _model_kwargs(model: dict) -> dict:
    return {"method": model["method"], "test": model["test"], "level": model["level"]}


def pool_analysis(rows: list[dict], meta: dict, model: dict) -> dict[str, Any]:
    """Pool the rows of one analysis; returns the ``pooled.json`` document (docs/architecture.md)."""
    from livingmeta.stats import rma

    yi = [r["yi"] for r in rows]
    vi = [r["vi"] for r in rows]
    fit = rma(yi, vi, labels=[r["study"] for r in rows], **_model_kwargs(model)).to_dict()
    if not model.get("prediction_interval", True):
        fit["pi_lb"] = fit["pi_ub"] = None
    crit = _z_crit(model["level"])
    studies = []
    for row, weight in zip(rows, fit.get("weights") or [None] * len(rows)):
        se = row["vi"] ** 0.5
        studies.append({
            "study": row["study"], "label": row["label"], "yi": row["yi"], "vi": row["vi"],
            "ci_lb": row["yi"] - crit * se, "ci_ub": row["yi"] + crit * se, "weight": weight,
            "n1i": row.get("n1i"), "n2i": row.get("n2i"), "provenance": row.get("provenance"),
        })
    doc = {k: v for k, v in fit.items() if k != "weights"}
    doc.update(meta)
    doc.update({
        "measure": model["measure"],
        "studies": studies,
        "illustrative": any(r.get("provenance") == "illustrative" for r in rows),
        "small_study": small_study_effects(rows, model),
    })
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
    with a note (no test for differences is possible)."""
    from livingmeta.stats import subgroup_analysis

    out = []
    for var in variables:
        name = var["variable"]
        label = var.get("label") or name
        levels = [(study_groups.get(r["study"]) or {}).get(name) for r in rows]
        known = [(r, str(level)) for r, level in zip(rows, levels) if level not in (None, "", "NA")]
        missing = [r["study"] for r, level in zip(rows, levels) if level in (None, "", "NA")]
        distinct = sorted({level for _, level in known})
        entry: dict[str, Any] = {"variable": name, "label": label, "levels": [], "Q_between": None,
                                 "Q_between_df": None, "Q_between_pval": None, "note": None,
                                 "studies_without_level": missing}
        if len(distinct) < 2:
            entry["note"] = "fewer than 2 subgroups with data: no subgroup analysis"
            out.append(entry)
            continue
        res = subgroup_analysis([r["yi"] for r, _ in known], [r["vi"] for r, _ in known],
                                [level for _, level in known], tau2=tau2, **_model_kwargs(model))
        by_level: dict[str, list[str]] = {}
        for r, level in known:
            by_level.setdefault(level, []).append(r["study"])
        for lev in res["levels"]:
            lev = dict(lev)
            lev["studies"] = by_level.get(str(lev["level"]), [])
            entry["levels"].append(lev)
        entry.update({k: res.get(k) for k in ("Q_between", "Q_between_df", "Q_between_pval")})
        notes = list(res.get("warnings") or [])
        if missing:
            notes.append(f"not classified on {label}: {', '.join(missing)}")
        entry["note"] = "; ".join(notes) or None
        out.append(entry)
    return {**meta, "tau2_model": tau2, "subgroups": out}


def leave_one_out_for_analysis(rows: list[dict], meta: dict, model: dict) -> dict[str, Any]:
    from livingmeta.stats import leave_one_out

    if len(rows) < 3:
        return {**meta, "leave_one_out": [],
                "note": "leave-one-out needs at least 3 studies" if rows else None}
    results = leave_one_out([r["yi"] for r in rows], [r["vi"] for r in rows], **_model_kwargs(model))
    out = []
    for item in results:
        item = dict(item)
        item["omitted"] = rows[item["omitted"]]["study"]
        out.append(item)
    return {**meta, "leave_one_out": out}


def _z_crit(level: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(1 - (1 - level / 100) / 2))
