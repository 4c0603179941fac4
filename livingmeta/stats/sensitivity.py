"""Sensitivity analyses: leave-one-out, cumulative meta-analysis, influence diagnostics.

All refits run as one vectorised batch (one lane per refit).  Validated against metafor 3.8-1
``leave1out()``, ``cumul()`` and ``influence()`` (reference values in
``validation/metafor/reference/``).
"""

from __future__ import annotations

import math

import numpy as np

from livingmeta.errors import ReviewInputError

from . import _core
from ._dist import chi2_sf
from ._validate import as_vector, check_yi_vi, study_labels
from .rma import _check_method_test, _num


def _prep(yi, vi, labels, studies):
    y = as_vector(yi, "yi")
    v = as_vector(vi, "vi")
    labels = study_labels(y.shape[0], labels, studies)
    y, v, labels, _ = check_yi_vi(y, v, labels)
    return y, v, labels


def leave_one_out(yi, vi, *, method="REML", test="knha", level=95, labels=None, studies=None, control=None):
    """metafor's ``leave1out()``: the model refitted k times, each time without one study.

    Returns a list in input order: ``[{omitted (0-based index), study, k, estimate, se, zval, pval,
    ci_lb, ci_ub, tau2, I2, H2, Q, Q_pval, warnings}]``.  With k = 1 the single entry has k = 0 and
    no estimates (metafor stops with an error there).
    """
    method, test = _check_method_test(method, test)
    y, v, labels = _prep(yi, vi, labels, studies)
    k = y.shape[0]
    if k == 1:
        return [{"omitted": 0, "study": labels[0], "k": 0, "estimate": None, "se": None, "zval": None,
                 "pval": None, "ci_lb": None, "ci_ub": None, "tau2": None, "I2": None, "H2": None, "Q": None,
                 "Q_pval": None, "warnings": ["k = 1: nothing left after omitting the only study"]}]
    mask = ~np.eye(k, dtype=bool)
    Y = np.broadcast_to(y, (k, k)).copy()
    V = np.broadcast_to(v, (k, k)).copy()
    fit = _core.fit(Y, V, mask, None, method=method, test=test, level=level, control=control, tau2_ci=False)
    out = []
    for i in range(k):
        out.append({"omitted": i, "study": labels[i], "k": k - 1, "estimate": _num(fit["beta"][i, 0]),
                    "se": _num(fit["se"][i, 0]), "zval": _num(fit["zval"][i, 0]), "pval": _num(fit["pval"][i, 0]),
                    "ci_lb": _num(fit["ci_lb"][i, 0]), "ci_ub": _num(fit["ci_ub"][i, 0]),
                    "tau2": _num(fit["tau2"][i]), "I2": _num(fit["I2"][i]), "H2": _num(fit["H2"][i]),
                    "Q": _num(fit["QE"][i]), "Q_pval": _num(fit["QEp"][i]), "warnings": list(fit["warnings"][i])})
    return out


def cumulative(yi, vi, *, order=None, method="REML", test="knha", level=95, labels=None, studies=None,
               control=None):
    """metafor's ``cumul()``: the model refitted adding one study at a time.

    ``order``: a sort key per study (e.g. publication year; ties keep input order, as R's ``order()``)
    or None for input order.  Returns a list of steps ``[{step, added (0-based input index), study, k,
    estimate, se, zval, pval, ci_lb, ci_ub, tau2, I2, H2, Q, Q_pval, warnings}]``.
    """
    method, test = _check_method_test(method, test)
    y, v, labels = _prep(yi, vi, labels, studies)
    k = y.shape[0]
    if order is None:
        perm = np.arange(k)
    else:
        keys = list(order)
        if len(keys) != k:
            raise ReviewInputError(f"order has {len(keys)} values for {k} studies", field="order")
        perm = np.array(sorted(range(k), key=lambda i: keys[i]))
    ys, vs = y[perm], v[perm]
    mask = np.tril(np.ones((k, k), bool))
    fit = _core.fit(np.broadcast_to(ys, (k, k)).copy(), np.broadcast_to(vs, (k, k)).copy(), mask, None,
                    method=method, test=test, level=level, control=control, tau2_ci=False)
    out = []
    for j in range(k):
        out.append({"step": j + 1, "added": int(perm[j]), "study": labels[perm[j]], "k": j + 1,
                    "estimate": _num(fit["beta"][j, 0]), "se": _num(fit["se"][j, 0]),
                    "zval": _num(fit["zval"][j, 0]), "pval": _num(fit["pval"][j, 0]),
                    "ci_lb": _num(fit["ci_lb"][j, 0]), "ci_ub": _num(fit["ci_ub"][j, 0]),
                    "tau2": _num(fit["tau2"][j]), "I2": _num(fit["I2"][j]), "H2": _num(fit["H2"][j]),
                    "Q": _num(fit["QE"][j]), "Q_pval": _num(fit["QEp"][j]), "warnings": list(fit["warnings"][j])})
    return out


def influence(yi, vi, *, method="REML", test="knha", level=95, labels=None, studies=None, control=None):
    """Case-deletion influence diagnostics of metafor's ``influence()`` for the intercept-only model.

    Per study: externally studentised residual ``rstudent``, ``dffits``, Cook's distance ``cook_d``,
    covariance ratio ``cov_r``, ``tau2_del`` and ``QE_del`` (tau^2 and Q without the study), ``hat``,
    ``weight`` (percent), ``dfbs`` (DFBETAS of the intercept) and metafor's flag ``is_infl``:
    |dffits| > 3 sqrt(p/(k-p)), or P(chi^2_p <= cook_d) > 0.5, or hat > 3p/k, or |dfbs| > 1.
    Returns ``{studies: [...], k, tau2, QE, thresholds}``.
    """
    method, test = _check_method_test(method, test)
    y, v, labels = _prep(yi, vi, labels, studies)
    k = y.shape[0]
    if k < 2:
        raise ReviewInputError("influence diagnostics need at least 2 studies", field="yi")
    full = _core.fit(y[None], v[None], np.ones((1, k), bool), None, method=method, test=test, level=level,
                     control=control, tau2_ci=False)
    mask = ~np.eye(k, dtype=bool)
    dele = _core.fit(np.broadcast_to(y, (k, k)).copy(), np.broadcast_to(v, (k, k)).copy(), mask, None,
                     method=method, test=test, level=level, control=control, tau2_ci=False)
    beta = float(full["beta"][0, 0])
    vb = float(full["vb"][0, 0, 0])
    w = 1.0 / (v + full["tau2"][0])
    hat = w / w.sum()
    weight = 100.0 * hat
    t2d = dele["tau2"]
    s2wd = dele["s2w"]
    bd = dele["beta"][:, 0]
    vbd = dele["vb"][:, 0, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        dffits = (beta - bd) / np.sqrt(s2wd * hat * (t2d + v))
        vb_del = 1.0 / np.sum(1.0 / (v[None, :] + t2d[:, None]), axis=1)
        dfbs = (beta - bd) / np.sqrt(s2wd * vb_del)
        cook = (beta - bd) ** 2 / vb
        covr = vbd / vb
        resid = y - bd
        resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
        rstud = resid / np.sqrt(v * s2wd + vbd + t2d * s2wd)
    p = 1
    cook_p = 1.0 - chi2_sf(cook, p)
    infl = (np.abs(dffits) > 3 * math.sqrt(p / (k - p))) | (cook_p > 0.5) | (hat > 3 * p / k) | (np.abs(dfbs) > 1)
    rows = []
    for i in range(k):
        rows.append({"study": labels[i], "rstudent": _num(rstud[i]), "dffits": _num(dffits[i]),
                     "cook_d": _num(cook[i]), "cov_r": _num(covr[i]), "tau2_del": _num(t2d[i]),
                     "QE_del": _num(dele["QE"][i]), "hat": _num(hat[i]), "weight": _num(weight[i]),
                     "dfbs": _num(dfbs[i]), "is_infl": bool(infl[i])})
    return {"studies": rows, "k": k, "tau2": _num(full["tau2"][0]), "QE": _num(full["QE"][0]),
            "thresholds": {"dffits": 3 * math.sqrt(p / (k - p)), "cook_d_chisq_prob": 0.5, "hat": 3 * p / k,
                           "dfbs": 1.0}}
