"""Several comparisons per study in one analysis (outcome x timepoint): how dependent comparisons are pooled.

A study file may report several comparisons of one outcome x timepoint (doses, hydrogels, cohorts), each a
row of the analysis with its ``comparison`` label, optional ``experiment`` id and optional ``control_group``
(a control arm shared by comparisons). The outcome's ``dependent`` (outcomes.yaml; default config's
``analysis.dependent``, ``multilevel``) chooses:

- ``combine``: the arms of each such study combined into one comparison (Cochrane Handbook for Systematic
  Reviews of Interventions, version 6, section 6.5.2.10 and Table 6.5.a for means and SDs, the library's
  :func:`livingmeta.stats.effects.combine_arms`; events and totals summed for dichotomous data), then
  pooled as one row per study;
- ``split``: a shared control's n divided among the comparisons that use it (Handbook section 23.3.4,
  :func:`livingmeta.stats.multilevel.split_shared_controls`; dichotomous: events divided in proportion),
  each comparison then a row of the usual univariate model;
- ``multilevel``: each comparison a row of the three-level model of metafor 3.8-1
  ``rma.mv(yi, V, random = ~ 1 | study/experiment/comparison)`` (Konstantopoulos 2011; Cheung 2014), V with
  the covariance of comparisons sharing a control as metafor's ``vcalc`` (Gleser & Olkin 2009), REML (ML when
  the analysis says ML), t tests with ``dfs = "contain"`` when the analysis's test is Knapp-Hartung, else z.

An analysis in which no study has several comparisons is pooled exactly as before (univariate ``rma``).
Mantel-Haenszel and Peto analyses combine the comparisons (with a warning): those methods pool 2x2 tables of
independent studies.
"""

from __future__ import annotations

from typing import Any

from livingmeta.errors import ReviewInputError

DEPENDENT = ("multilevel", "combine", "split")
_DATA_KEYS = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "ai", "ci", "msi", "sdsi", "nsi")


def dependent_method(model: dict) -> str:
    return str(model.get("dependent") or "multilevel")


def by_study(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["study"], []).append(r)
    return out


def several(rows: list[dict]) -> bool:
    """Does some study contribute several rows (comparisons)?"""
    return any(len(group) > 1 for group in by_study(rows).values())


def row_label(row: dict) -> str:
    """A row's label in tables and forest plots: the study's, with its comparison ("Liao 2022 — 10 µg")."""
    label = row.get("label") or row["study"]
    return f"{label} \u2014 {row['comparison']}" if row.get("comparison") else label


def prepare(rows: list[dict], model: dict) -> tuple[list[dict], list[str]]:
    """The rows an analysis pools and the warnings of that step: combined per study (``combine``, and for
    Mantel-Haenszel/Peto), shared controls split (``split``), or unchanged (``multilevel``, or no study with
    several comparisons). Idempotent."""
    if not several(rows):
        return rows, []
    how = dependent_method(model)
    if how not in DEPENDENT:
        raise ReviewInputError(f"unknown way to pool dependent comparisons {how!r}", field="dependent",
                               hint=f"Use one of {', '.join(DEPENDENT)}.")
    if str(model.get("method", "")).upper() in ("MH", "PETO"):
        return combine(rows, model), ["the Mantel-Haenszel/Peto method pools independent 2x2 tables: the comparisons "
                                      "of each study with several were combined into one (events and totals summed)"]
    if how == "combine":
        return combine(rows, model), []
    if how == "split":
        return split(rows, model), []
    if not mv_ok(rows):
        return combine(rows, model), ["the comparisons come from a single study, too few for the multilevel model: "
                                      "they were combined into one (Cochrane Handbook 6.5.2.10)"]
    return rows, []


def _escalc_row(row: dict, model: dict) -> dict:
    """``yi``/``vi`` of a row recomputed from its arm data (after combining or splitting), flipped when the
    study's scale runs the other way."""
    import numpy as np

    from livingmeta.stats import escalc
    from livingmeta.stats.binary import zero_cell_defaults

    measure = str(model["measure"]).upper()
    if row.get("kind") == "dichotomous":
        zc = {**zero_cell_defaults(measure), **{k: v for k, v in (model.get("zero_cells") or {}).items()
                                                  if v is not None}}
        yi, vi = escalc(measure, ai=[row["ai"]], n1i=[row["n1i"]], ci=[row["ci"]], n2i=[row["n2i"]],
                        add=zc["add"], to=zc["to"], drop00=zc["drop00"], labels=[row["study"]])
    else:
        kwargs = dict(m1i=[row["m1i"]], sd1i=[row["sd1i"]], n1i=[row["n1i"]], m2i=[row["m2i"]],
                      sd2i=[row["sd2i"]], n2i=[row["n2i"]], labels=[row["study"]])
        if measure == "SMD":
            kwargs["vtype"] = model.get("smd_variance") or "LS"
        if measure == "NMD":
            kwargs["sham_mi"] = [row["msi"]]
        yi, vi = escalc(measure, **kwargs)
    y, v = float(yi[0]), float(vi[0])
    ok = bool(np.isfinite(y) and np.isfinite(v))
    row["yi"] = (-y if row.get("direction_flipped") else y) if ok else None
    row["vi"] = v if ok else None
    row["estimable"] = ok
    return row


def _need_arms(group: list[dict], what: str) -> None:
    for r in group:
        if r.get("kind") not in ("continuous", "dichotomous"):
            raise ReviewInputError(
                f"study {r['study']}: its comparisons are precomputed estimates, which cannot be {what}",
                file=r.get("file") or r["study"], field="outcomes",
                hint="Pool dependent comparisons of this outcome with `dependent: multilevel` in outcomes.yaml, "
                     "or give the arms' data.")
    if len({bool(r.get("direction_flipped")) for r in group}) > 1:
        raise ReviewInputError(f"study {group[0]['study']}: its comparisons state different directions "
                               "(higher_is_better)", file=group[0]["study"], field="outcomes",
                               hint="One study's comparisons of an outcome share its scale: fix higher_is_better.")


def combine(rows: list[dict], model: dict) -> list[dict]:
    """One row per study: the treatment arms of a study's comparisons combined into one, and its distinct
    control arms (a shared control counted once) into one (Cochrane Handbook 6.5.2.10; events and totals
    summed for dichotomous data); the effect recomputed from the combined arms."""
    from livingmeta.stats.effects import combine_arms

    out = []
    for study, group in by_study(rows).items():
        if len(group) == 1:
            out.extend(group)
            continue
        _need_arms(group, "combined")
        if str(model["measure"]).upper() == "NMD":
            raise ReviewInputError(f"study {study}: comparisons of a normalised mean difference cannot be combined",
                                   file=study, field="outcomes", hint="Use `dependent: multilevel` for this outcome.")
        controls: dict[Any, dict] = {}
        for i, r in enumerate(group):
            controls.setdefault(r.get("control_group") or ("own", i), r)
        row = {k: v for k, v in group[0].items() if k not in ("comparison", "experiment", "control_group")}
        if group[0].get("kind") == "dichotomous":
            row.update(ai=sum(r["ai"] for r in group), n1i=sum(r["n1i"] for r in group),
                       ci=sum(r["ci"] for r in controls.values()), n2i=sum(r["n2i"] for r in controls.values()))
        else:
            def merge(arms):
                n, m, sd = arms[0]
                for n2, m2, sd2 in arms[1:]:
                    n, m, sd = combine_arms(n, m, sd, n2, m2, sd2)
                return n, m, sd

            n1, m1, sd1 = merge([(r["n1i"], r["m1i"], r["sd1i"]) for r in group])
            n2, m2, sd2 = merge([(r["n2i"], r["m2i"], r["sd2i"]) for r in controls.values()])
            row.update(n1i=n1, m1i=m1, sd1i=sd1, n2i=n2, m2i=m2, sd2i=sd2)
        row["combined_from"] = [r.get("comparison") for r in group]
        if any(r.get("provenance") == "illustrative" for r in group):
            row["provenance"] = "illustrative"
        out.append(_escalc_row(row, model))
    return out


def split(rows: list[dict], model: dict) -> list[dict]:
    """Each comparison a row, a shared control's n divided among the comparisons that use it (Cochrane
    Handbook 23.3.4; for events, the control's events divided in the same proportion); the effects
    recomputed with the divided n (means and SDs unchanged)."""
    from livingmeta.stats.multilevel import split_shared_controls

    out = []
    for study, group in by_study(rows).items():
        shared = [r for r in group if r.get("control_group")
                  and sum(1 for o in group if o.get("control_group") == r["control_group"]) > 1]
        if not shared or all(r.get("n2i_before_split") is not None for r in shared):
            out.extend(group)
            continue
        _need_arms(shared, "split")
        try:
            sizes = split_shared_controls([r["n2i"] for r in group], [study] * len(group),
                                          [r.get("control_group") for r in group])
        except ReviewInputError as err:
            raise ReviewInputError(err.message, file=study, field="control_group",
                                   hint="Use `dependent: multilevel` (the shared control's covariance modelled) "
                                        "for this outcome.") from None
        for r, n in zip(group, sizes):
            if n == r["n2i"]:
                out.append(r)
                continue
            r = dict(r)
            r["n2i_before_split"] = r["n2i"]
            if r.get("kind") == "dichotomous":
                r["ci"] = r["ci"] * n / r["n2i"]
            r["n2i"] = int(n)
            out.append(_escalc_row(r, model))
    return out


def structure(rows: list[dict]) -> dict[str, Any]:
    """The nesting of an analysis's rows: the number of studies, experiments and comparisons, and the
    subjects in treatment and control arms with a shared control counted once (None when a size is missing)."""
    studies = by_study(rows)
    experiments = {(r["study"], r.get("experiment")) for r in rows}
    seen, controls = set(), []
    for r in rows:
        key = (r["study"], r["control_group"]) if r.get("control_group") else id(r)
        if key not in seen:
            seen.add(key)
            controls.append(r.get("n2i"))
    treated = [r.get("n1i") for r in rows]
    total = (lambda xs: sum(xs) if xs and all(isinstance(x, (int, float)) for x in xs) else None)
    return {"studies": len(studies), "experiments": len(experiments), "comparisons": len(rows),
            "n1i": total(treated), "n2i": total(controls),
            "has_experiments": any(r.get("experiment") for r in rows),
            "shared_controls": sorted({f"{r['study']}/{r['control_group']}" for r in rows if r.get("control_group")})}


def mv_arguments(rows: list[dict], model: dict) -> dict[str, Any]:
    """The arguments of :func:`livingmeta.stats.rma_mv` for ``rows`` (all estimable): yi, V (shared controls
    covary), the study/experiment/comparison ids, the estimator and the test."""
    from livingmeta.stats.multilevel import shared_control_V

    yi = [r["yi"] for r in rows]
    vi = [r["vi"] for r in rows]
    study = [r["study"] for r in rows]
    groups = [r.get("control_group") for r in rows]
    if any(groups):
        for r in rows:
            if r.get("control_group") and (r.get("n1i") is None or r.get("n2i") is None):
                raise ReviewInputError(f"study {r['study']}: a shared control needs the arms' sizes (n)",
                                       file=r["study"], field="outcomes", hint="Give `n` for each arm.")
        V = shared_control_V(vi, study, groups, [r.get("n1i") or 1 for r in rows], [r.get("n2i") or 1 for r in rows])
    else:
        V = vi
    has_exp = any(r.get("experiment") for r in rows)
    method = "ML" if str(model.get("method", "")).upper() == "ML" else "REML"
    knha = model.get("test") == "knha"
    return {"yi": yi, "V": V, "study": study,
            "experiment": [str(r.get("experiment") or "") for r in rows] if has_exp else None,
            "comparison": [str(r.get("comparison") or i) for i, r in enumerate(rows)],
            "method": method, "test": "t" if knha else "z", "dfs": "contain" if knha else "residual",
            "level": model["level"]}


def fit_multilevel(rows: list[dict], model: dict) -> dict[str, Any]:
    """The multilevel fit of an analysis's rows (all rows; not estimable ones shown with weight 0) as the
    keys of a univariate fit (``tau2`` = the sum of the variance components, ``I2`` = I2_total, ``Q`` = QE)
    plus ``sigma2, sigma2_levels, n_levels, I2_levels, QE, QE_df, QE_pval, dfs, model, structure``."""
    import numpy as np

    from livingmeta.analyses import estimable
    from livingmeta.stats import rma_mv

    est = estimable(rows)
    est_ids = {id(r) for r in est}
    args = mv_arguments(est, model)
    res = rma_mv(args.pop("yi"), args.pop("V"), **args)
    d = res.to_dict()
    w = np.diag(res.Mi)
    weights = iter(list(100 * w / w.sum()))
    fit = {key: d.get(key) for key in ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "ddf", "pi_lb", "pi_ub",
                                       "sigma2", "sigma2_levels", "n_levels", "QE", "QE_df", "QE_pval",
                                       "logLik", "converged", "dfs")}
    warnings = list(d.get("warnings") or [])
    method = str(model.get("method", "")).upper()
    if method not in ("REML", "ML"):
        warnings.append(f"the multilevel model is fitted by REML (the analysis's estimator {method} is for "
                        "one comparison per study)")
    levels = "/".join(res.sigma2_levels)
    fit.update({
        "k": len(est), "method": args["method"], "test": model["test"], "level": model["level"],
        "model": "multilevel", "random": f"~ 1 | {levels}",
        "tau2": float(np.sum(res.sigma2)), "I2": d.get("I2_total"), "I2_levels": d.get("I2"),
        "Q": d.get("QE"), "Q_df": d.get("QE_df"), "Q_pval": d.get("QE_pval"), "H2": None,
        "tau2_ci_lb": None, "tau2_ci_ub": None, "se_tau2": None, "I2_ci_lb": None, "I2_ci_ub": None,
        "shared_control": "vcalc" if any(r.get("control_group") for r in est) else None,
        "structure": structure(est), "warnings": warnings,
        "weights": [next(weights) if id(r) in est_ids else 0.0 for r in rows],
    })
    if model.get("robust"):
        fit["robust"] = robust_block(res)
    return fit


def robust_block(res) -> dict[str, Any]:
    """CR2 cluster-robust test of the pooled estimate at the study level (Bell & McCaffrey 2002; Tipton &
    Pustejovsky 2015; Pustejovsky & Tipton 2018), Satterthwaite degrees of freedom: clubSandwich 0.5.8
    ``coef_test(fit, vcov = "CR2", cluster = study)`` / ``conf_int(...)``, metafor 3.8-1
    ``robust(fit, cluster = study, clubSandwich = TRUE)`` (see :func:`livingmeta.stats.robust.robust_cr2`)."""
    from livingmeta.stats.robust import robust_cr2

    r = robust_cr2(res)
    return {key: r[key][0] for key in ("se", "tval", "df", "pval", "ci_lb", "ci_ub")} | {
        "vcov_type": r["vcov_type"], "df_type": r["df_type"], "n_clusters": r["n_clusters"], "cluster": "study"}


def mv_ok(rows: list[dict]) -> bool:
    """Can the multilevel model be fitted (estimable comparisons from at least 2 studies)?"""
    from livingmeta.analyses import estimable

    return len({r["study"] for r in estimable(rows)}) >= 2
