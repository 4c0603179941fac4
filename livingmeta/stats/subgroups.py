"""Subgroup analysis: separate tau^2 per subgroup with a Wald-type test, or a common tau^2 with QM.

* ``tau2="separate"`` (the RevMan / R ``meta`` default): each subgroup is pooled on its own with the
  chosen estimator and test; the test for subgroup differences is the Wald-type (common-effect) test on
  the subgroup estimates and their standard errors: ``Q_between = sum w_j (b_j - b_w)^2``,
  ``w_j = 1/se_j^2``, chi-squared with L - 1 df.  Validated against metafor 3.8-1: per level
  ``rma(yi, vi, subset = g == level, method, test)`` and ``rma(b, sei = se, mods = ~ level,
  method = "FE")`` on the subgroup estimates (metafor's documented way to compare subgroups fitted
  separately; ``QM`` of that model is Q_between).
* ``tau2="common"``: one model with a common tau^2, metafor ``rma(yi, vi, mods = ~ factor(g), method,
  test)``; Q_between is its omnibus moderator test ``QM`` (chi-squared with L - 1 df for test "z", an
  F statistic with (L - 1, k - L) df for "knha"); level estimates from ``mods = ~ factor(g) - 1``.
  Per-level I2 uses the common tau^2 and the level's own typical within-study variance (metafor's
  I2 definition applied within the level).
"""

from __future__ import annotations

import numpy as np

from livingmeta.errors import ReviewInputError

from . import _core
from ._dist import chi2_sf
from ._validate import as_vector, check_yi_vi, study_labels
from .rma import _check_method_test, _num


def _levels_in_order(groups):
    seen = []
    for g in groups:
        if g not in seen:
            seen.append(g)
    try:
        return sorted(seen)
    except TypeError:
        return seen


def subgroup_analysis(yi, vi, groups, *, method="REML", test="knha", level=95, tau2="separate",
                      labels=None, studies=None, control=None):
    """Subgroup analysis by the values in ``groups`` (one per study; levels are sorted).

    Returns ``{levels: [{level, k, estimate, se, ci_lb, ci_ub, pval, tau2, I2, studies}], Q_between,
    Q_between_df, Q_between_df2 (F test only), Q_between_pval, Q_between_test ("chisq" | "F"),
    tau2_model, warnings}``.  With one level there is no between-subgroup test (None, with a warning).
    """
    method, test = _check_method_test(method, test)
    if tau2 not in ("separate", "common"):
        raise ReviewInputError(f"unknown tau2 model {tau2!r}", field="tau2", hint="Use 'separate' or 'common'.")
    y = as_vector(yi, "yi")
    v = as_vector(vi, "vi")
    labels = study_labels(y.shape[0], labels, studies)
    groups = list(groups)
    if len(groups) != y.shape[0]:
        raise ReviewInputError(f"groups has {len(groups)} values for {y.shape[0]} studies", field="groups",
                               hint="Give one subgroup value per study.")
    for i, g in enumerate(groups):
        if g is None or (isinstance(g, float) and not np.isfinite(g)) or (isinstance(g, str) and not g.strip()):
            raise ReviewInputError(f"study {labels[i]!r}: subgroup value is missing", field="groups",
                                   hint="Fill in the subgroup variable for every study.")
    y, v, labels, _ = check_yi_vi(y, v, labels)
    levels = _levels_in_order(groups)
    L = len(levels)
    idx = [np.array([i for i, g in enumerate(groups) if g == lev]) for lev in levels]
    ks = np.array([len(ix) for ix in idx])
    warnings = []
    if tau2 == "separate":
        K = int(ks.max())
        Y = np.zeros((L, K))
        V = np.ones((L, K))
        M = np.zeros((L, K), bool)
        for j, ix in enumerate(idx):
            Y[j, : len(ix)] = y[ix]
            V[j, : len(ix)] = v[ix]
            M[j, : len(ix)] = True
        fit = _core.fit(Y, V, M, None, method=method, test=test, level=level, control=control, tau2_ci=False)
        est = fit["beta"][:, 0]
        se = fit["se"][:, 0]
        rows = []
        for j, lev in enumerate(levels):
            rows.append({"level": lev, "k": int(ks[j]), "estimate": _num(est[j]), "se": _num(se[j]),
                         "ci_lb": _num(fit["ci_lb"][j, 0]), "ci_ub": _num(fit["ci_ub"][j, 0]),
                         "pval": _num(fit["pval"][j, 0]), "tau2": _num(fit["tau2"][j]),
                         "I2": _num(fit["I2"][j]), "studies": [labels[i] for i in idx[j]],
                         "warnings": list(fit["warnings"][j])})
            for w in fit["warnings"][j]:
                warnings.append(f"subgroup {lev!r}: {w}")
        out = {"levels": rows, "tau2_model": "separate", "Q_between_test": "chisq", "Q_between_df2": None}
        if L < 2:
            warnings.append("only one subgroup: no test for subgroup differences")
            out.update(Q_between=None, Q_between_df=None, Q_between_pval=None)
        elif np.any(~np.isfinite(se)) or np.any(se <= 0):
            warnings.append("a subgroup estimate has a zero or undefined standard error: "
                            "no test for subgroup differences")
            out.update(Q_between=None, Q_between_df=L - 1, Q_between_pval=None)
        else:
            w = 1.0 / se ** 2
            bw = np.sum(w * est) / np.sum(w)
            Qb = float(np.sum(w * (est - bw) ** 2))
            out.update(Q_between=Qb, Q_between_df=L - 1, Q_between_pval=_num(chi2_sf(Qb, L - 1)))
        out["warnings"] = warnings
        return out

    # common tau^2: rma(yi, vi, mods = ~ factor(g))
    if L < 2:
        raise ReviewInputError("a common-tau2 subgroup model needs at least two subgroups", field="groups")
    k = y.shape[0]
    if k < L + 1 and method != "FE":
        raise ReviewInputError(f"{L} subgroups cannot be compared with a common tau2 from {k} studies",
                               field="groups", hint="Use tau2 = 'separate' or fewer subgroups.")
    G = np.array([[1.0 if g == lev else 0.0 for lev in levels] for g in groups])
    Xint = np.column_stack([np.ones(k), G[:, 1:]])
    fit1 = _core.fit(y[None], v[None], np.ones((1, k), bool), Xint[None], method=method, test=test,
                     level=level, control=control, tau2_ci=False)
    fit0 = _core.fit(y[None], v[None], np.ones((1, k), bool), G[None], method=method, test=test,
                     level=level, control=control, tau2_ci=False)
    t2 = float(fit1["tau2"][0])
    rows = []
    for j, lev in enumerate(levels):
        vj = v[idx[j]]
        kj = len(vj)
        if kj > 1:
            wj = 1.0 / vj
            vt = (kj - 1) / (wj.sum() - (wj ** 2).sum() / wj.sum())
            I2 = 100.0 * t2 / (vt + t2)
        else:
            I2 = None
        rows.append({"level": lev, "k": int(kj), "estimate": _num(fit0["beta"][0, j]),
                     "se": _num(fit0["se"][0, j]), "ci_lb": _num(fit0["ci_lb"][0, j]),
                     "ci_ub": _num(fit0["ci_ub"][0, j]), "pval": _num(fit0["pval"][0, j]),
                     "tau2": _num(t2), "I2": _num(I2), "studies": [labels[i] for i in idx[j]],
                     "warnings": []})
    warnings.extend(fit1["warnings"][0])
    df1, df2 = fit1["QMdf"]
    return {"levels": rows, "tau2_model": "common", "Q_between": _num(fit1["QM"][0]),
            "Q_between_df": int(df1), "Q_between_df2": None if df2 is None else int(np.asarray(df2).ravel()[0]),
            "Q_between_pval": _num(fit1["QMp"][0]), "Q_between_test": "F" if test == "knha" else "chisq",
            "tau2": _num(t2), "I2_residual": _num(fit1["I2"][0]), "warnings": warnings}
