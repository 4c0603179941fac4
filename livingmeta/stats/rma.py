"""Random- and common-effect meta-analysis and meta-regression: metafor's ``rma.uni()``.

Validated against metafor 3.8-1: ``rma(yi, vi, method=, test=)``, ``confint()`` (Q-profile CI for
tau^2) and ``predict()`` (prediction interval) for the estimators FE, DL, HE, HS, SJ, ML, REML, EB, PM
and the z and Knapp-Hartung tests, on the published data sets and seeded random data sets in
``validation/metafor/reference/`` (agreement within 1e-6 relative; see tests/stats/test_metafor.py).
"""

from __future__ import annotations

import math

import numpy as np

from livingmeta.errors import ReviewInputError

from . import _core
from ._validate import as_vector, check_yi_vi, fmt_num, study_labels


def _num(x):
    """JSON-safe float: NaN/inf -> None, numpy scalars -> float."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _check_method_test(method, test):
    m = str(method).upper()
    if m not in _core.METHODS:
        raise ReviewInputError(f"unknown tau2 estimator {method!r}", field="method",
                               hint=f"Use one of {', '.join(_core.METHODS)}.")
    t = str(test).lower()
    t = {"hksj": "knha", "hk": "knha", "knapp-hartung": "knha"}.get(t, t)
    if t not in _core.TESTS:
        raise ReviewInputError(f"unknown test {test!r}", field="test", hint="Use 'z' or 'knha'.")
    return m, t


def _design(mods, k, intercept, labels):
    """Model matrix from moderators: array (k,) / (k, q), or dict name -> values (str values -> factor)."""
    if mods is None:
        return None, ["intrcpt"]
    cols, names = [], []
    if intercept:
        cols.append(np.ones(k))
        names.append("intrcpt")
    if isinstance(mods, dict):
        items = list(mods.items())
    else:
        a = np.asarray(mods)
        if a.ndim == 1:
            a = a[:, None]
        items = [(f"mods{j + 1}" if a.shape[1] > 1 else "mods", a[:, j]) for j in range(a.shape[1])]
    for name, vals in items:
        vals = list(vals)
        if len(vals) != k:
            raise ReviewInputError(f"moderator {name!r} has {len(vals)} values for {k} studies",
                                   field=str(name))
        if any(isinstance(x, str) for x in vals):
            levels = sorted(set(str(x) for x in vals))  # R factor(): sorted levels, first = reference
            for lev in levels[1 if intercept or cols else 0:]:
                cols.append(np.array([1.0 if str(x) == lev else 0.0 for x in vals]))
                names.append(f"{name}{lev}")
        else:
            a = as_vector(vals, str(name), k)
            bad = ~np.isfinite(a)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ReviewInputError(f"study {labels[i]!r}: moderator {name!r} is missing", field=str(name),
                                       hint="Fill in the moderator or leave the study out of the meta-regression.")
            cols.append(a)
            names.append(str(name))
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ReviewInputError("the moderators are collinear (model matrix not of full rank)", field="mods",
                               hint="Drop redundant moderators or merge levels.")
    return X, names


class RmaResult:
    """Result of :func:`rma`: attributes use metafor's names (``beta``, ``se``, ``tau2``, ``QE`` ...)."""

    def __init__(self, fit, lane, labels, yi, vi, coef_names, level, omitted=()):
        i = lane
        self.k = int(fit["k"][i])
        self.p = int(fit["p"])
        self.method = fit["method"]
        self.test = fit["test"] if self.k > 1 else "z"  # metafor switches to z when k = 1
        self.level = level
        self.labels = list(labels)
        self.yi = np.asarray(yi, float)
        self.vi = np.asarray(vi, float)
        self.coef_names = list(coef_names)
        self.beta = fit["beta"][i].copy()
        self.vb = fit["vb"][i].copy()
        self.se = fit["se"][i].copy()
        self.zval = fit["zval"][i].copy()
        self.pval = fit["pval"][i].copy()
        self.ci_lb = fit["ci_lb"][i].copy()
        self.ci_ub = fit["ci_ub"][i].copy()
        self.ddf = None if not fit["use_t"][i] else int(self.k - self.p)
        self.s2w = float(fit["s2w"][i])
        self.tau2 = float(fit["tau2"][i])
        self.se_tau2 = float(fit["se_tau2"][i])
        self.QE, self.QEp = float(fit["QE"][i]), float(fit["QEp"][i])
        self.I2, self.H2 = float(fit["I2"][i]), float(fit["H2"][i])
        self.tau2_ci = (float(fit.get("tau2_ci_lb", [np.nan] * (i + 1))[i]),
                        float(fit.get("tau2_ci_ub", [np.nan] * (i + 1))[i]))
        self.I2_ci = (float(fit.get("I2_ci_lb", [np.nan] * (i + 1))[i]),
                      float(fit.get("I2_ci_ub", [np.nan] * (i + 1))[i]))
        self.weights = fit["weights"][i][: self.k].copy()
        self.QM = None if fit["QM"] is None else float(fit["QM"][i])
        qd = fit["QMdf"]
        self.QMdf = None if qd is None else (int(qd[0]), None if qd[1] is None else int(np.asarray(qd[1]).ravel()[i]))
        self.QMp = None if fit["QMp"] is None else float(fit["QMp"][i])
        self.pi = ((float(fit["pi_lb"][i]), float(fit["pi_ub"][i])) if "pi_lb" in fit else (None, None))
        self.converged = bool(fit["converged"][i])
        self.warnings = list(fit["warnings"][i])
        if omitted:
            self.warnings.insert(0, f"{len(omitted)} studies with missing values omitted: {', '.join(omitted)}")

    # intercept-only conveniences
    @property
    def estimate(self):
        return float(self.beta[0])

    def to_dict(self):
        """JSON-safe summary (floats, ints, None, lists, str); I2 and weights are percentages."""
        d = {
            "k": self.k, "method": self.method, "test": self.test, "level": self.level,
            "tau2": _num(self.tau2), "se_tau2": _num(self.se_tau2),
            "tau2_ci_lb": _num(self.tau2_ci[0]), "tau2_ci_ub": _num(self.tau2_ci[1]),
            "I2": _num(self.I2), "I2_ci_lb": _num(self.I2_ci[0]), "I2_ci_ub": _num(self.I2_ci[1]),
            "H2": _num(self.H2),
            "Q": _num(self.QE), "Q_df": int(max(self.k - self.p, 0)), "Q_pval": _num(self.QEp),
            "ddf": self.ddf,
            "weights": [_num(w) for w in self.weights],
            "studies": list(self.labels),
            "converged": self.converged,
            "warnings": list(self.warnings),
        }
        if self.p == 1 and self.QM is None:
            d.update({"estimate": _num(self.beta[0]), "se": _num(self.se[0]), "zval": _num(self.zval[0]),
                      "pval": _num(self.pval[0]), "ci_lb": _num(self.ci_lb[0]), "ci_ub": _num(self.ci_ub[0]),
                      "pi_lb": _num(self.pi[0]), "pi_ub": _num(self.pi[1])})
        else:
            d["coefficients"] = [
                {"name": n, "estimate": _num(self.beta[j]), "se": _num(self.se[j]), "zval": _num(self.zval[j]),
                 "pval": _num(self.pval[j]), "ci_lb": _num(self.ci_lb[j]), "ci_ub": _num(self.ci_ub[j])}
                for j, n in enumerate(self.coef_names)]
            d.update({"QM": _num(self.QM), "QM_df": int(self.QMdf[0]) if self.QMdf else None,
                      "QM_df2": (int(self.QMdf[1]) if self.QMdf and self.QMdf[1] is not None else None),
                      "QM_pval": _num(self.QMp)})
        return d

    def __repr__(self):
        return (f"RmaResult(k={self.k}, method={self.method!r}, test={self.test!r}, "
                f"estimate={self.beta.tolist()}, tau2={self.tau2:.6g}, I2={self.I2:.4g})")


def rma(yi, vi=None, *, sei=None, mods=None, intercept=True, method="REML", test="knha", level=95,
        labels=None, studies=None, na="raise", control=None, tau2_ci=True):
    """Fit a meta-analysis (or meta-regression with ``mods``) as metafor's ``rma.uni()`` does.

    ``yi``/``vi`` (or ``sei``): effect sizes and sampling variances (standard errors).  ``method``:
    FE, DL, HE, HS, SJ, ML, REML (default), EB, PM.  ``test``: "knha" (Knapp-Hartung, default) or "z".
    ``mods``: None, an array (k,) or (k, q) of moderators, or a dict name -> values (string values
    are coded as a factor with R's default treatment contrasts, levels sorted).  ``na``: "raise"
    (default) rejects missing values naming the study; "omit" drops them with a warning, as
    metafor's ``na.action="na.omit"``.  ``control``: metafor's control options (threshold,
    maxiter, stepadj, tol, ci_maxiter) and the caps of the fallback (bisect_maxiter, halving_maxiter).
    Every iteration is capped: a root search or fallback that reaches its cap raises
    ``_core.NotConverged`` (a ``ReviewInputError``) saying what did not converge and what to do; a
    confidence ``level`` outside (0, 100) is refused.  One study whose variance is 1e7 times smaller
    than another's draws metafor's warning ("Ratio of largest to smallest sampling variance extremely
    large"); the intercept-only fit stays exact there (see ``_core._p_stats``).

    k = 1: no pooling; as metafor, tau2 = 0 and the z test is used (metafor switches
    test="knha" to "z" when k = 1), so the result is the study's own estimate and Wald CI; a warning
    says so.  REML/ML/EB use metafor's Fisher scoring; if it fails to converge (metafor stops with an
    error) the estimating equation is solved by bisection instead and a warning says so.
    """
    method, test = _check_method_test(method, test)
    yi_a = as_vector(yi, "yi")
    n = yi_a.shape[0]
    if vi is None and sei is None:
        raise ReviewInputError("give the sampling variances (vi) or standard errors (sei)", field="vi")
    if vi is not None:
        vi_a = as_vector(vi, "vi")
    else:
        vi_a = as_vector(sei, "sei") ** 2
    labels = study_labels(n, labels, studies)
    if vi_a.shape[0] != n:
        raise ReviewInputError(f"yi has {n} values but vi has {vi_a.shape[0]}", field="vi",
                               hint="Give one effect size and one sampling variance per study.")
    keep = np.ones(n, bool)
    if na == "omit":
        keep = np.isfinite(yi_a) & np.isfinite(vi_a)
    yi_a, vi_a, labels, omitted = check_yi_vi(yi_a, vi_a, labels, na=na)
    k = yi_a.shape[0]
    X = None
    names = ["intrcpt"]
    if mods is not None:
        if isinstance(mods, dict):
            mods = {key: [val for val, kk in zip(vals, keep) if kk] for key, vals in mods.items()}
        else:
            mods = np.asarray(mods)[keep]
        X, names = _design(mods, k, intercept, labels)
        p = X.shape[1]
        if method == "FE" and p > k or method != "FE" and p + 1 > k:
            raise ReviewInputError(f"{p} coefficients cannot be estimated from {k} studies",
                                   field="mods", hint="Use fewer moderators or more studies.")
    fit = _core.fit(yi_a[None, :], vi_a[None, :], np.ones((1, k), bool),
                    None if X is None else X[None], method=method, test=test, level=level,
                    control=control, tau2_ci=tau2_ci)
    return RmaResult(fit, 0, labels, yi_a, vi_a, names, level, omitted)


def rma_batch(yi, vi, mask=None, *, method="REML", test="knha", level=95, control=None, tau2_ci=True):
    """Pool many intercept-only meta-analyses at once (the workflow's batch entry point).

    ``yi``, ``vi``: arrays of shape (analyses, studies); ``mask`` (same shape, bool) marks the cells
    that hold a study (default: every finite ``yi``).  Each row is fitted exactly as :func:`rma`
    fits it alone (same algorithm and stopping rules, rows are independent).  Returns a dict of
    numpy arrays, one value per analysis: ``k, estimate, se, zval, pval, ci_lb, ci_ub, tau2, se_tau2,
    tau2_ci_lb, tau2_ci_ub, I2, H2, Q, Q_df, Q_pval, pi_lb, pi_ub, weights`` (percent, shape like
    ``yi``, 0 outside the mask), and ``warnings`` (list of lists).  Rows with k = 0 give NaN.
    Invalid cells inside the mask (vi <= 0 or non-finite) raise ``ReviewInputError`` naming the
    analysis row and study column.
    """
    method, test = _check_method_test(method, test)
    y = np.atleast_2d(np.asarray(yi, dtype=float))
    v = np.atleast_2d(np.asarray(vi, dtype=float))
    if y.shape != v.shape:
        raise ReviewInputError(f"yi has shape {y.shape} but vi has shape {v.shape}", field="vi")
    mask = np.isfinite(y) if mask is None else np.atleast_2d(np.asarray(mask, dtype=bool))
    if mask.shape != y.shape:
        raise ReviewInputError(f"mask has shape {mask.shape}, expected {y.shape}", field="mask")
    bad = mask & ~(np.isfinite(y) & np.isfinite(v) & (v > 0))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ReviewInputError(f"analysis {r}, study {c}: yi must be finite and vi > 0 "
                               f"(got yi={fmt_num(y[r, c])}, vi={fmt_num(v[r, c])})", field="vi")
    k = mask.sum(1)
    live = k > 0
    m = y.shape[0]
    out_keys = ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2", "se_tau2", "tau2_ci_lb",
                "tau2_ci_ub", "I2", "H2", "Q", "Q_pval", "pi_lb", "pi_ub")
    res = {key: np.full(m, np.nan) for key in out_keys}
    res["k"] = k
    res["Q_df"] = np.maximum(k - 1, 0)
    res["weights"] = np.zeros_like(y)
    res["warnings"] = [[] if kk else ["k = 0: no studies"] for kk in k]
    if not live.any():
        return res
    sel = np.flatnonzero(live)
    try:
        fit = _core.fit(np.where(mask, y, 0.0)[sel], np.where(mask, v, 1.0)[sel], mask[sel], None,
                        method=method, test=test, level=level, control=control, tau2_ci=tau2_ci)
    except _core.NotConverged as exc:   # name the analysis rows (the lanes are positions among the live rows)
        rows = [int(sel[i]) for i in exc.lanes]
        shown = ", ".join(str(r) for r in rows[:10]) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
        raise _core.NotConverged(f"analysis {'rows' if len(rows) > 1 else 'row'} {shown}: {exc.message}",
                                 lanes=rows, hint=exc.hint, field=exc.field) from None
    pairs = {"estimate": fit["beta"][:, 0], "se": fit["se"][:, 0], "zval": fit["zval"][:, 0],
             "pval": fit["pval"][:, 0], "ci_lb": fit["ci_lb"][:, 0], "ci_ub": fit["ci_ub"][:, 0],
             "tau2": fit["tau2"], "se_tau2": fit["se_tau2"], "I2": fit["I2"], "H2": fit["H2"],
             "Q": fit["QE"], "Q_pval": fit["QEp"], "pi_lb": fit["pi_lb"], "pi_ub": fit["pi_ub"]}
    if tau2_ci:
        pairs["tau2_ci_lb"] = fit["tau2_ci_lb"]
        pairs["tau2_ci_ub"] = fit["tau2_ci_ub"]
    for key, val in pairs.items():
        res[key][sel] = val
    res["weights"][sel] = np.where(mask[sel], fit["weights"], 0.0)
    for j, i in enumerate(sel):
        res["warnings"][i] = fit["warnings"][j]
    return res
