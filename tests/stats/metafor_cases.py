"""Comparisons of livingmeta.stats with the recorded metafor 3.8-1 reference values.

``iter_checks(case)`` yields ``(label, ours, theirs)`` triples for one reference file; the tests
assert every pair agrees within ``RTOL`` (relative) with an absolute floor ``ATOL`` for values near 0,
and ``validation/metafor/compare.py`` prints the largest deviation per data set.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from livingmeta import stats

REF_DIR = Path(__file__).resolve().parents[2] / "validation" / "metafor" / "reference"
RTOL = 1e-6     # relative tolerance, as the issue asks
ATOL = 1e-10    # absolute floor for values that are 0 in exact arithmetic (tau2 = 0, residuals ...)


def reference_files():
    """The univariate rma() reference files (multilevel.json, for rma.mv, has its own test and format)."""
    return sorted(p for p in REF_DIR.glob("*.json") if not p.name.startswith("multilevel"))


def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _f(x):
    if x is None:
        return float("nan")
    return float(x)


def _vec(x):
    if x is None:
        return []
    if not isinstance(x, list):
        x = [x]
    return [_f(v) for v in x]


def deviation(ours, theirs):
    """Relative deviation beyond the absolute floor (0 when both are missing)."""
    a, b = _f(ours), _f(theirs)
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    d = abs(a - b)
    if d <= ATOL:
        return 0.0
    return d / max(abs(b), ATOL)


def _pairs(prefix, ours, theirs):
    ours, theirs = _vec(ours), _vec(theirs)
    if len(ours) != len(theirs):
        yield f"{prefix} (length {len(ours)} vs {len(theirs)})", math.nan, 0.0
        return
    for i, (a, b) in enumerate(zip(ours, theirs)):
        yield f"{prefix}[{i}]" if len(ours) > 1 else prefix, a, b


def _data(case):
    y = np.array(_vec(case["data"]["yi"]))
    v = np.array(_vec(case["data"]["vi"]))
    return y, v


def _mods(case, formula):
    """Moderators for the formulas used in make_reference.R."""
    terms = [t.strip() for t in formula.replace("~", "").split("+")]
    mods = {}
    for t in terms:
        if t.startswith("factor("):
            name = t[len("factor("):-1]
            mods[name] = list(case["groups"][name])
        else:
            mods[t] = _vec(case["mods"][t])
    return mods


def iter_checks(case):
    y, v = _data(case)
    keep = np.isfinite(y) & np.isfinite(v)
    na = "omit" if not keep.all() else "raise"
    name = case["dataset"]
    for blk in case["rma"]:
        res = stats.rma(y, v, method=blk["method"], test=blk["test"], na=na)
        d = res.to_dict()
        tag = f"{name} rma {blk['method']}/{blk['test']}"
        yield from _pairs(f"{tag} estimate", d["estimate"], blk["beta"])
        for ours, ref in (("se", "se"), ("zval", "zval"), ("pval", "pval"), ("ci_lb", "ci_lb"),
                          ("ci_ub", "ci_ub"), ("tau2", "tau2"), ("se_tau2", "se_tau2"), ("I2", "I2"),
                          ("H2", "H2"), ("Q", "QE"), ("Q_pval", "QEp"), ("pi_lb", "pi_lb"), ("pi_ub", "pi_ub"),
                          ("tau2_ci_lb", "tau2_ci_lb"), ("tau2_ci_ub", "tau2_ci_ub"),
                          ("I2_ci_lb", "I2_ci_lb"), ("I2_ci_ub", "I2_ci_ub")):
            if ref in blk:
                yield from _pairs(f"{tag} {ours}", d[ours], blk[ref])
        yield from _pairs(f"{tag} weights", d["weights"], blk["weights"])
        yield f"{tag} k", d["k"], blk["k"]
    for blk in case.get("metareg", []):
        formula = blk["call"].split("mods=")[1].rsplit("); ci", 1)[0]
        res = stats.rma(y, v, mods=_mods(case, formula), method=blk["method"], test=blk["test"], na=na)
        tag = f"{name} metareg {formula} {blk['method']}/{blk['test']}"
        for ours, ref in (("beta", "beta"), ("se", "se"), ("zval", "zval"), ("pval", "pval"),
                          ("ci_lb", "ci_lb"), ("ci_ub", "ci_ub")):
            yield from _pairs(f"{tag} {ours}", getattr(res, ours).tolist(), blk[ref])
        for ours, ref in (("tau2", "tau2"), ("se_tau2", "se_tau2"), ("I2", "I2"), ("H2", "H2"), ("QE", "QE"),
                          ("QEp", "QEp"), ("QM", "QM"), ("QMp", "QMp")):
            yield from _pairs(f"{tag} {ours}", getattr(res, ours), blk[ref])
        yield from _pairs(f"{tag} tau2_ci", list(res.tau2_ci), [blk["tau2_ci_lb"], blk["tau2_ci_ub"]])
        yield from _pairs(f"{tag} weights", res.weights.tolist(), blk["weights"])
    for blk in case.get("l1o", []):
        out = stats.leave_one_out(y[keep], v[keep], method=blk["method"], test=blk["test"])
        tag = f"{name} leave1out {blk['method']}/{blk['test']}"
        for ours, ref in (("estimate", "estimate"), ("se", "se"), ("pval", "pval"), ("ci_lb", "ci_lb"),
                          ("ci_ub", "ci_ub"), ("Q", "Q"), ("Q_pval", "Qp"), ("tau2", "tau2"), ("I2", "I2"),
                          ("H2", "H2")):
            yield from _pairs(f"{tag} {ours}", [r[ours] for r in out], blk[ref])
    for blk in case.get("cumul", []):
        order = _vec(blk["order"])
        out = stats.cumulative(y, v, order=order, method=blk["method"], test=blk["test"])
        tag = f"{name} cumul {blk['method']}/{blk['test']}"
        for ours, ref in (("estimate", "estimate"), ("se", "se"), ("pval", "pval"), ("ci_lb", "ci_lb"),
                          ("ci_ub", "ci_ub"), ("Q", "Q"), ("tau2", "tau2"), ("I2", "I2")):
            yield from _pairs(f"{tag} {ours}", [r[ours] for r in out], blk[ref])
    for blk in case.get("subgroups", []):
        groups = case["groups"][blk["group"]]
        for model in ("separate", "common"):
            ref = blk[model]
            out = stats.subgroup_analysis(y, v, groups, method=blk["method"], test=blk["test"], tau2=model)
            tag = f"{name} subgroups[{blk['group']}] {model} {blk['method']}/{blk['test']}"
            yield f"{tag} levels", float([r["level"] for r in out["levels"]] == list(ref["levels"])), 1.0
            for key in ("estimate", "se", "ci_lb", "ci_ub") + (("pval", "tau2", "I2") if model == "separate" else ()):
                yield from _pairs(f"{tag} {key}", [r[key] for r in out["levels"]], ref[key])
            if model == "separate":
                if "Q_between" in ref:
                    yield f"{tag} Q_between", out["Q_between"], ref["Q_between"]
                    yield f"{tag} Q_between_pval", out["Q_between_pval"], ref["Q_between_p"]
            else:
                yield f"{tag} tau2", out["tau2"], ref["tau2"]
                yield f"{tag} Q_between", out["Q_between"], ref["QM"]
                yield f"{tag} Q_between_pval", out["Q_between_pval"], ref["QMp"]
    for blk in case.get("escalc", []):
        arms = case.get("arms")
        if arms is None or "same arms" in blk["call"] and "arms" not in case:
            continue
        a = {key: np.array(_vec(val)) for key, val in arms.items()}
        yi, vi = stats.escalc(blk["measure"], vtype=blk["vtype"], na="keep", **a)
        tag = f"{name} escalc {blk['measure']}/{blk['vtype']}"
        yield from _pairs(f"{tag} yi", yi.tolist(), blk["yi"])
        yield from _pairs(f"{tag} vi", vi.tolist(), blk["vi"])
    yield from _extra_checks(case, y, v, keep)
    yield from _binary_checks(case)


def _binary_checks(case):
    """Dichotomous data: escalc() for OR/RR/RD/PETO with zero-cell options, rma.mh(), rma.peto(), and
    rma() with predict(transf=exp) through the measure table's back-transformation."""
    if "tables" not in case:
        return
    from livingmeta.stats import measures, mh
    name = case["dataset"]
    t = {key: np.array(_vec(case["tables"][key])) for key in ("ai", "n1i", "ci", "n2i")}
    for blk in case.get("escalc2x2", []):
        yi, vi = stats.escalc(blk["measure"], ai=t["ai"], n1i=t["n1i"], ci=t["ci"], n2i=t["n2i"],
                              add=blk["add"], to=blk["to"], drop00=blk["drop00"])
        tag = f"{name} escalc {blk['measure']} add={blk['add']} to={blk['to']} drop00={blk['drop00']}"
        ref_y = [math.nan if not math.isfinite(x) else x for x in _vec(blk["yi"])]
        ref_v = [math.nan if not math.isfinite(x) or not math.isfinite(y) else x for x, y in zip(_vec(blk["vi"]), ref_y)]
        yield from _pairs(f"{tag} yi", yi.tolist(), ref_y)
        yield from _pairs(f"{tag} vi", vi.tolist(), ref_v)
    keys = ("k", "k_yi", "estimate", "se", "zval", "pval", "ci_lb", "ci_ub", ("Q", "QE"), ("Q_pval", "QEp"), "I2",
            "H2", "weights", "yi", "vi", "estimate_exp", "ci_lb_exp", "ci_ub_exp")
    for blk in case.get("mh", []):
        out = mh.rma_mh(t["ai"], t["ci"], n1i=t["n1i"], n2i=t["n2i"], measure=blk["measure"], correct=blk["correct"])
        measures.back_transform(out, blk["measure"])
        tag = f"{name} rma.mh {blk['measure']} correct={blk['correct']}"
        for key in keys + ("MH", ("MH_pval", "MHp"), "CO", ("CO_pval", "COp"), "BD", ("BD_pval", "BDp"), "TA",
                           ("TA_pval", "TAp")):
            ours, ref = key if isinstance(key, tuple) else (key, key)
            if ref in blk:
                yield from _pairs(f"{tag} {ours}", out.get(ours), blk[ref])
    for blk in case.get("peto", []):
        out = measures.back_transform(mh.rma_peto(t["ai"], t["ci"], n1i=t["n1i"], n2i=t["n2i"]), "PETO")
        tag = f"{name} rma.peto"
        for key in keys:
            ours, ref = key if isinstance(key, tuple) else (key, key)
            yield from _pairs(f"{tag} {ours}", out.get(ours), blk[ref])
    for blk in case.get("rma_exp", []):
        yi, vi = stats.escalc(blk["measure"], ai=t["ai"], n1i=t["n1i"], ci=t["ci"], n2i=t["n2i"], drop00=blk["drop00"])
        d = measures.back_transform(stats.rma(yi, vi, method=blk["method"], test=blk["test"], na="omit").to_dict(),
                                    blk["measure"])
        tag = f"{name} rma {blk['measure']} {blk['method']}/{blk['test']}"
        yield f"{tag} scale", float(d["scale"] == ("raw" if blk["measure"] == "RD" else "log")), 1.0
        for ours, ref in (("k", "k"), ("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci_lb"), ("ci_ub", "ci_ub"),
                          ("pi_lb", "pi_lb"), ("pi_ub", "pi_ub"), ("tau2", "tau2"), ("I2", "I2"), ("Q", "QE"),
                          ("weights", "weights")):
            yield from _pairs(f"{tag} {ours}", d[ours], blk[ref])
        sfx = "" if blk["measure"] == "RD" else "_exp"
        for ours, ref in (("estimate", "pred"), ("ci_lb", "pred_ci_lb"), ("ci_ub", "pred_ci_ub"),
                          ("pi_lb", "pred_pi_lb"), ("pi_ub", "pred_pi_ub")):
            yield from _pairs(f"{tag} {ours}{sfx}", d[ours + sfx], blk[ref])


def _extra_checks(case, y, v, keep):
    """Influence diagnostics and small-study tests (only when the engine provides them)."""
    name = case["dataset"]
    if hasattr(stats, "influence"):
        for blk in case.get("influence", []):
            out = stats.influence(y, v, method=blk["method"], test=blk["test"])
            tag = f"{name} influence {blk['method']}/{blk['test']}"
            for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "QE_del", "hat", "weight", "dfbs"):
                yield from _pairs(f"{tag} {key}", [r[key] for r in out["studies"]], blk[key])
            yield f"{tag} is_infl", float([r["is_infl"] for r in out["studies"]] == blk["is_infl"]), 1.0
    if hasattr(stats, "regtest"):
        ni = np.array(_vec(case["ni"])) if "ni" in case else None
        for blk in case.get("smallstudy", []):
            tag = f"{name} {blk['method']}/{blk['test']}"
            for key, model, pred in (("regtest_rma_sei", "rma", "sei"), ("regtest_lm_sei", "lm", "sei"),
                                     ("regtest_rma_sqrtninv", "rma", "sqrtninv"),
                                     ("regtest_lm_sqrtninv", "lm", "sqrtninv")):
                if key not in blk:
                    continue
                r = stats.regtest(y, v, model=model, predictor=pred, ni=ni, method=blk["method"], test=blk["test"])
                for field in ("zval", "pval", "dfs", "est"):
                    yield f"{tag} {key} {field}", r[field], blk[key][field]
            r = stats.ranktest(y, v, method=blk["method"], test=blk["test"])
            yield f"{tag} ranktest tau", r["tau"], blk["ranktest"]["tau"]
            yield f"{tag} ranktest pval", r["pval"], blk["ranktest"]["pval"]
            for est in ("L0", "R0"):
                ref = blk[f"trimfill_{est}"]
                r = stats.trimfill(y, v, estimator=est, method=blk["method"], test=blk["test"])
                t = f"{tag} trimfill {est}"
                yield f"{t} k0", r["k0"], ref["k0"]
                yield f"{t} side", float(r["side"] == ref["side"]), 1.0
                for field in ("estimate", "se", "ci_lb", "ci_ub", "tau2"):
                    yield f"{t} {field}", r[field], ref[field]
                yield from _pairs(f"{t} yi", r["yi"], ref["yi"])
                yield from _pairs(f"{t} vi", r["vi"], ref["vi"])
