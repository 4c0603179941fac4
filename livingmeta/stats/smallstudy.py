"""Small-study effects: Egger's regression test, Begg's rank test, trim-and-fill, funnel plot data.

Validated against metafor 3.8-1 ``regtest()`` (models "rma" and "lm", predictors "sei" and
"sqrtninv"), ``ranktest()`` and ``trimfill()`` (estimators L0 and R0); reference values in
``validation/metafor/reference/``.

For SMDs the standard error is correlated with the SMD itself, so Egger's test with the SE as
predictor can be biased; Zwetsloot et al. (2017, eLife 6:e24260) recommend a sample-size based
precision instead: ``predictor="sqrtninv"`` (1/sqrt(n), metafor's name) with ``ni`` the total n.
"""

from __future__ import annotations

import math

import numpy as np

from livingmeta.errors import ReviewInputError

from . import _core
from ._dist import norm_cdf, norm_sf, t_isf, t_sf
from ._validate import as_vector, check_yi_vi, fmt_num, study_labels
from .rma import _check_method_test, _num

PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")


def _prep(yi, vi, labels=None, studies=None):
    y = as_vector(yi, "yi")
    v = as_vector(vi, "vi")
    labels = study_labels(y.shape[0], labels, studies)
    y, v, labels, _ = check_yi_vi(y, v, labels)
    return y, v, labels


def _predictor(v, ni, predictor, labels):
    if predictor not in PREDICTORS:
        raise ReviewInputError(f"unknown predictor {predictor!r}", field="predictor",
                               hint=f"Use one of {', '.join(PREDICTORS)}.")
    if predictor == "sei":
        return np.sqrt(v)
    if predictor == "vi":
        return v
    if ni is None:
        raise ReviewInputError(f"predictor {predictor!r} needs the sample sizes (ni)", field="ni")
    n = as_vector(ni, "ni", v.shape[0])
    bad = ~np.isfinite(n) | (n <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ReviewInputError(f"study {labels[i]!r}: ni must be > 0 (got {fmt_num(n[i])})", field="ni")
    return {"ni": n, "ninv": 1 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1 / np.sqrt(n)}[predictor]


def regtest(yi, vi, *, model="rma", predictor="sei", ni=None, method="REML", test="knha", level=95,
            labels=None, studies=None):
    """Egger's regression test for funnel plot asymmetry (metafor ``regtest()``).

    ``model="rma"``: the meta-analytic model with the predictor as moderator (same ``method`` and
    ``test``; metafor's default); ``model="lm"``: Egger's original weighted regression (weights 1/vi,
    t test with k - 2 df).  ``predictor``: "sei" (default), "vi", "ni", "ninv", "sqrtni", "sqrtninv"
    (the latter needs ``ni``).  Returns ``{zval, pval, dfs, est, ci_lb, ci_ub, model, predictor}``;
    ``est`` is the limit estimate (intercept) for predictors that vanish as precision grows.
    """
    method, test = _check_method_test(method, test)
    y, v, labels = _prep(yi, vi, labels, studies)
    k = y.shape[0]
    if k < 3:
        raise ReviewInputError(f"Egger's test needs at least 3 studies (got {k})", field="yi")
    x = _predictor(v, ni, predictor, labels)
    X = np.column_stack([np.ones(k), x])
    alpha = _core.level_to_alpha(level)
    if model == "rma":
        fit = _core.fit(y[None], v[None], np.ones((1, k), bool), X[None], method=method, test=test,
                        level=level, tau2_ci=False, btt=[1])
        zval, pval = float(fit["zval"][0, 1]), float(fit["pval"][0, 1])
        dfs = float(k - 2) if fit["use_t"][0] else None
        est, lb, ub = float(fit["beta"][0, 0]), float(fit["ci_lb"][0, 0]), float(fit["ci_ub"][0, 0])
    elif model == "lm":
        w = 1 / v
        XtW = X.T * w
        S = np.linalg.inv(XtW @ X)
        b = S @ (XtW @ y)
        r = y - X @ b
        s2 = float(np.sum(w * r * r) / (k - 2))
        se = np.sqrt(np.diag(S) * s2)
        zval = float(b[1] / se[1])
        pval = float(2 * t_sf(abs(zval), k - 2))
        dfs = float(k - 2)
        crit = float(t_isf(alpha / 2, k - 2))
        est, lb, ub = float(b[0]), float(b[0] - crit * se[0]), float(b[0] + crit * se[0])
    else:
        raise ReviewInputError(f"unknown model {model!r}", field="model", hint="Use 'rma' or 'lm'.")
    if predictor not in ("sei", "vi", "ninv", "sqrtninv"):
        est = lb = ub = None
    return {"model": model, "predictor": predictor, "zval": _num(zval), "pval": _num(pval), "dfs": dfs,
            "est": _num(est), "ci_lb": _num(lb), "ci_ub": _num(ub), "k": k}


# --------------------------------------------------------------------------------------------------
# Begg and Mazumdar's rank correlation test
# --------------------------------------------------------------------------------------------------

def _kendall_counts(x, y):
    n = x.shape[0]
    i, j = np.triu_indices(n, 1)
    s = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
    return int(np.sum(s > 0)), int(np.sum(s < 0))


def _pkendall(q, n):
    """P(T <= q), T = number of concordant pairs among n untied pairs (R's ckendall/pkendall)."""
    if q < 0:
        return 0.0
    maxq = n * (n - 1) // 2
    if q >= maxq:
        return 1.0
    # Mahonian numbers: permutations of n with j inversions (exact with Python ints)
    counts = [1]
    for m in range(2, n + 1):
        new = [0] * (len(counts) + m - 1)
        acc = 0
        for j in range(len(new)):
            acc += counts[j] if j < len(counts) else 0
            if j - m >= 0:
                acc -= counts[j - m]
            new[j] = acc
        counts = new
    return sum(counts[: int(q) + 1]) / math.factorial(n)


def _tie_groups(a):
    _, c = np.unique(a, return_counts=True)
    return c[c > 1].astype(float)


def kendall_test(x, y):
    """Kendall's tau-b and its two-sided p-value as R's ``cor.test(method="kendall")`` computes them."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.shape[0]
    nc, nd = _kendall_counts(x, y)
    tx, ty = _tie_groups(x), _tie_groups(y)
    T0 = n * (n - 1) / 2
    T1 = float(np.sum(tx * (tx - 1)) / 2)
    T2 = float(np.sum(ty * (ty - 1)) / 2)
    tau = (nc - nd) / math.sqrt((T0 - T1) * (T0 - T2))
    ties = tx.size > 0 or ty.size > 0
    if n < 50 and not ties:
        q = round((tau + 1) * n * (n - 1) / 4)
        if q > n * (n - 1) / 4:
            p = 1 - _pkendall(q - 1, n)
        else:
            p = _pkendall(q, n)
        return tau, min(2 * p, 1.0)
    S = tau * math.sqrt((T0 - T1) * (T0 - T2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt = float(np.sum(tx * (tx - 1) * (2 * tx + 5)))
    vu = float(np.sum(ty * (ty - 1) * (2 * ty + 5)))
    v1 = float(np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1)))
    v2 = float(np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2)))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = S / math.sqrt(var_s)
    p = 2 * min(float(norm_cdf(z)), float(norm_sf(z)))
    return tau, p


def ranktest(yi, vi, *, method="REML", test="knha", labels=None, studies=None):
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest()``).

    Kendall's tau between the standardised deviations from the common-effect estimate and the
    sampling variances; exact p-value for k < 50 without ties, else the normal approximation (as R's
    ``cor.test``).  ``method``/``test`` are accepted for symmetry; the test does not depend on them.
    Returns ``{tau, pval, k}``.
    """
    y, v, labels = _prep(yi, vi, labels, studies)
    if y.shape[0] < 3:
        raise ReviewInputError(f"the rank test needs at least 3 studies (got {y.shape[0]})", field="yi")
    w = 1 / v
    theta = np.sum(w * y) / np.sum(w)
    vstar = v - 1 / np.sum(w)
    ystar = (y - theta) / np.sqrt(vstar)
    tau, p = kendall_test(ystar, v)
    return {"tau": _num(tau), "pval": _num(p), "k": int(y.shape[0])}


# --------------------------------------------------------------------------------------------------
# trim-and-fill
# --------------------------------------------------------------------------------------------------

def _rank_first(a):
    """R's rank(ties.method = "first"), 1-based."""
    order = np.argsort(a, kind="stable")
    r = np.empty(a.shape[0], dtype=float)
    r[order] = np.arange(1, a.shape[0] + 1)
    return r


def _beta(y, v, method):
    fit = _core.fit(y[None], v[None], np.ones((1, y.shape[0]), bool), None, method=method, test="z",
                    tau2_ci=False)
    return float(fit["beta"][0, 0])


def trimfill(yi, vi, *, estimator="L0", side=None, method="REML", test="knha", level=95, maxiter=100,
             labels=None, studies=None):
    """Duval and Tweedie's trim-and-fill (metafor ``trimfill()``), estimators "L0" and "R0".

    ``side`` ("left"/"right", default: estimated from the sign of the slope in a regression of yi on
    sqrt(vi), as metafor).  As metafor 3.8-1, the model refitted to the filled data uses ``method``
    and the z test (metafor does not pass ``test`` on); with k0 = 0 the original model is returned.
    Returns ``{k0, se_k0, side, estimator, estimate, se, ci_lb, ci_ub, pval, tau2, yi, vi, fill}``
    (``yi``/``vi``/``fill`` include the filled studies, after the observed ones).
    """
    method, test = _check_method_test(method, test)
    if estimator not in ("L0", "R0"):
        raise ReviewInputError(f"unknown trim-and-fill estimator {estimator!r}", field="estimator",
                               hint="Use 'L0' or 'R0'.")
    y0, v0, labels = _prep(yi, vi, labels, studies)
    k = y0.shape[0]
    if k < 3:
        raise ReviewInputError(f"trim-and-fill needs at least 3 studies (got {k})", field="yi")
    if side is None:
        X = np.column_stack([np.ones(k), np.sqrt(v0)])
        fit = _core.fit(y0[None], v0[None], np.ones((1, k), bool), X[None], method=method, test="z",
                        tau2_ci=False)
        side = "right" if fit["beta"][0, 1] < 0 else "left"
    elif side not in ("left", "right"):
        raise ReviewInputError(f"unknown side {side!r}", field="side", hint="Use 'left' or 'right'.")
    y = -y0 if side == "right" else y0.copy()
    ix = np.argsort(y, kind="stable")
    y, v = y[ix], v0[ix]
    k0_sav, k0, it = -1, 0, 0
    se_k0 = math.nan
    beta = math.nan
    yc = y
    warnings = []
    while abs(k0 - k0_sav) > 0:
        k0_sav = k0
        it += 1
        if it > maxiter:
            warnings.append(f"trim-and-fill did not converge in {maxiter} iterations")
            break
        beta = _beta(y[: k - k0], v[: k - k0], method)
        yc = y - beta
        r = _rank_first(np.abs(yc))
        rs = np.sign(yc) * r
        if estimator == "R0":
            neg = rs[rs < 0]
            k0f = (k - (np.max(-neg) if neg.size else 0)) - 1
            se_k0 = math.sqrt(2 * max(0, k0f) + 2)
        else:
            Sr = float(np.sum(rs[rs > 0]))
            k0f = (4 * Sr - k * (k + 1)) / (2 * k - 1)
            var_sr = 1 / 24 * (k * (k + 1) * (2 * k + 1) + 10 * k0f ** 3 + 27 * k0f ** 2 + 17 * k0f
                               - 18 * k * k0f ** 2 - 18 * k * k0f + 6 * k ** 2 * k0f)
            se_k0 = 4 * math.sqrt(max(var_sr, 0.0)) / (2 * k - 1)
        k0 = int(max(0, np.round(k0f)))
        k0 = min(k0, k - 1)
        se_k0 = max(0.0, se_k0)
    if k0 > 0:
        if side == "right":
            yc2 = -1 * (yc - beta)
        else:
            yc2 = yc - beta
        y_fill = np.concatenate([y0, -1 * yc2[k - k0:]])
        v_fill = np.concatenate([v0, v[k - k0:]])
        test_used = "z"
    else:
        y_fill, v_fill = y0, v0
        test_used = test
    kk = y_fill.shape[0]
    fit = _core.fit(y_fill[None], v_fill[None], np.ones((1, kk), bool), None, method=method, test=test_used,
                    level=level, tau2_ci=False)
    return {"k0": int(k0), "se_k0": _num(se_k0), "side": side, "estimator": estimator, "k": int(kk),
            "estimate": _num(fit["beta"][0, 0]), "se": _num(fit["se"][0, 0]), "pval": _num(fit["pval"][0, 0]),
            "ci_lb": _num(fit["ci_lb"][0, 0]), "ci_ub": _num(fit["ci_ub"][0, 0]), "tau2": _num(fit["tau2"][0]),
            "test": test_used, "yi": [float(a) for a in y_fill], "vi": [float(a) for a in v_fill],
            "fill": [False] * k + [True] * (kk - k),
            "studies": list(labels) + [f"Filled {i + 1}" for i in range(kk - k)],
            "warnings": warnings + list(fit["warnings"][0])}


def funnel_data(yi, vi, *, ni=None, method="REML", test="knha", level=95, labels=None, studies=None):
    """Data for a funnel plot: per study yi, sei (and 1/sqrt(n) when ``ni`` is given), plus the pooled
    estimate and the pseudo-confidence region ``estimate +/- z * se`` drawn for se from 0 to max(sei)
    (metafor ``funnel()``'s default region, z from the normal distribution at ``level``)."""
    from ._dist import norm_isf
    y, v, labels = _prep(yi, vi, labels, studies)
    res = _core.fit(y[None], v[None], np.ones((1, y.shape[0]), bool), None, method=method, test=test,
                    level=level, tau2_ci=False)
    est = float(res["beta"][0, 0])
    z = float(norm_isf(_core.level_to_alpha(level) / 2))
    sei = np.sqrt(v)
    out = {"estimate": est, "z": z, "se_max": float(sei.max()),
           "region": [{"se": 0.0, "lb": est, "ub": est},
                      {"se": float(sei.max()), "lb": est - z * float(sei.max()), "ub": est + z * float(sei.max())}],
           "studies": [{"study": lab, "yi": float(a), "sei": float(s)} for lab, a, s in zip(labels, y, sei)]}
    if ni is not None:
        n = as_vector(ni, "ni", y.shape[0])
        for row, nn in zip(out["studies"], n):
            row["ni"] = float(nn)
            row["sqrtninv"] = float(1 / math.sqrt(nn))
    return out
