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
