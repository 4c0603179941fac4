"""Mantel-Haenszel and Peto common-effect meta-analysis of 2x2 tables: metafor's ``rma.mh()`` and ``rma.peto()``.

Mantel-Haenszel (Mantel & Haenszel 1959, J Natl Cancer Inst 22:719): odds ratio ``sum(a d / N) / sum(b c / N)``
with the Robins, Breslow & Greenland (1986, Biometrics 42:311) variance of its log; risk ratio
``sum(a n2 / N) / sum(c n1 / N)`` with Greenland & Robins' (1985, Biometrics 41:55) variance; risk
difference ``sum(a n2 / N - c n1 / N) / sum(n1 n2 / N)`` with Sato, Greenland & Robins' (1989,
Biometrics 45:1323) variance.  Peto (Yusuf et al. 1985, Prog Cardiovasc Dis 27:335): log odds ratio
``sum(a - E) / sum(V)``, variance ``1 / sum(V)``.  Both as metafor 3.8-1 computes them: the pooled estimate
from the raw tables (metafor's ``add = c(1/2, 0)``, ``to = c("only0", "none")``, ``drop00 = c(TRUE,
FALSE)``: the second values apply to the pooling and leave the tables as they are); the heterogeneity
statistics Q, I^2 and H^2 from the studies' inverse-variance effect sizes (``escalc()`` with the first
values) around the pooled estimate; for the odds ratio also the Cochran-Mantel-Haenszel test (``MH``,
``correct`` continuity correction), Cochran's (``CO``), Breslow-Day (``BD``) and Tarone's (``TA``) tests.
Weights (percent) as metafor's ``weights()``.  Validated against metafor 3.8-1
(``validation/metafor/reference/binary_*.json``).
"""

from __future__ import annotations

import math

import numpy as np

from livingmeta.errors import ReviewInputError

from ._core import level_to_alpha
from .binary import escalc_2x2, tables

MH_MEASURES = ("OR", "RR", "RD")


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _z_p(est, se, level):
    from ._dist import norm_isf, norm_sf

    crit = float(norm_isf(level_to_alpha(level) / 2))
    z = est / se
    return z, 2 * float(norm_sf(abs(z))), est - crit * se, est + crit * se


def _chisq_p(x, df):
    from ._dist import chi2_sf
    return float(chi2_sf(x, df))


def _heterogeneity(yi, vi, beta):
    ok = np.isfinite(yi) & np.isfinite(vi)
    y, v = yi[ok], vi[ok]
    k = int(ok.sum())
    if k > 1 and beta is not None and math.isfinite(beta):
        w = 1 / v
        Q = max(0.0, float(np.sum(w * (y - beta) ** 2)))
        Qp = _chisq_p(Q, k - 1)
        I2 = max(0.0, 100 * (Q - (k - 1)) / Q) if Q > 0 else 0.0
        H2 = Q / (k - 1)
    elif k > 1:
        Q = Qp = I2 = H2 = float("nan")
    else:
        Q, Qp, I2, H2 = 0.0, 1.0, 0.0, 1.0
    return k, Q, Qp, I2, H2


def _result(method, measure, labels, k, k_yi, beta, se, level, Q, Qp, I2, H2, weights, yi, vi, warnings, extra=None):
    if beta is not None and math.isfinite(beta) and se is not None and math.isfinite(se) and se > 0:
        z, p, lb, ub = _z_p(beta, se, level)
    else:
        z = p = lb = ub = float("nan")
        warnings.append("the pooled estimate cannot be computed from these tables")
    out = {
        "k": int(k), "k_yi": int(k_yi), "method": method, "measure": measure, "test": "z", "level": level,
        "estimate": _num(beta), "se": _num(se), "zval": _num(z), "pval": _num(p), "ci_lb": _num(lb),
        "ci_ub": _num(ub), "pi_lb": None, "pi_ub": None,
        "tau2": 0.0, "se_tau2": None, "tau2_ci_lb": None, "tau2_ci_ub": None,
        "I2": _num(I2), "I2_ci_lb": None, "I2_ci_ub": None, "H2": _num(H2),
        "Q": _num(Q), "Q_df": int(max(k_yi - 1, 0)), "Q_pval": _num(Qp), "ddf": None,
        "weights": [_num(w) for w in weights], "studies": list(labels),
        "yi": [_num(y) for y in yi], "vi": [_num(v) for v in vi],
        "converged": True, "warnings": warnings,
    }
    out.update(extra or {})
    return out


def _escalc_first(measure, a, b, c, d, add, to, drop00):
    return escalc_2x2(measure, a, c, bi=b, di=d, add=add, to=to, drop00=drop00)


def rma_mh(ai, ci, *, n1i=None, n2i=None, bi=None, di=None, measure="OR", add=0.5, to="only0", drop00=True,
           correct=True, level=95, labels=None, studies=None):
    """Mantel-Haenszel pooled OR, RR or RD as metafor's ``rma.mh()`` (its defaults).  ``add``, ``to`` and
    ``drop00`` are the zero-cell options of the studies' own effect sizes (used for Q and the forest plot);
    the pooled estimate uses the tables as they are.  Returns a JSON-safe dict: ``estimate, se, zval,
    pval, ci_lb, ci_ub`` on the model scale (log for OR and RR), ``Q, Q_df, Q_pval, I2, H2``, ``k``
    (tables), ``k_yi`` (studies with an effect size), ``weights`` (percent), ``yi, vi`` per study and,
    for OR, ``MH, MH_pval, CO, CO_pval, BD, BD_pval, TA, TA_pval``."""
    measure = str(measure).upper()
    if measure not in MH_MEASURES:
        raise ReviewInputError(f"the Mantel-Haenszel method is for OR, RR and RD (got {measure!r})",
                               field="measure", hint="Use measure OR, RR or RD with method MH.")
    a, b, c, d, labels = tables(ai, ci, bi=bi, di=di, n1i=n1i, n2i=n2i, labels=labels, studies=studies)
    if a.size == 0:
        raise ReviewInputError("no studies to pool (k = 0)", field="ai")
    yi, vi = _escalc_first(measure, a, b, c, d, add, to, drop00)
    n1, n2 = a + b, c + d
    N = n1 + n2
    warnings: list[str] = []
    extra: dict = {}
    beta = se = float("nan")
    if measure == "OR":
        P = a / N + d / N
        Qm = b / N + c / N
        R_i = (a / N) * d
        S_i = (b / N) * c
        R, S = R_i.sum(), S_i.sum()
        if R > 0 and S > 0:
            beta = math.log(R / S)
            se = math.sqrt(0.5 * (np.sum(P * R_i) / R ** 2 + np.sum(P * S_i + Qm * R_i) / (R * S)
                                  + np.sum(Qm * S_i) / S ** 2))
        xt, yt = a + c, b + d
        if xt.sum() > 0 and yt.sum() > 0:
            num_ = (abs(np.sum(a - (n1 / N) * xt)) - (0.5 if correct else 0.0)) ** 2
            CO = num_ / np.sum((n1 / N) * (n2 / N) * (xt * (yt / N)))
            MH = num_ / np.sum((n1 / N) * (n2 / N) * (xt * (yt / (N - 1))))
            extra.update({"CO": _num(CO), "CO_pval": _num(_chisq_p(CO, 1)),
                          "MH": _num(MH), "MH_pval": _num(_chisq_p(MH, 1))})
        else:
            extra.update({"CO": None, "CO_pval": None, "MH": None, "MH_pval": None})
        extra.update(_breslow_day(a, n1, N, xt, yt, beta))
        w = (b / N) * c
    elif measure == "RR":
        R = np.sum(a * (n2 / N))
        S = np.sum(c * (n1 / N))
        if a.sum() > 0 and c.sum() > 0:
            beta = math.log(R / S)
            se = math.sqrt(np.sum((n1 / N) * (n2 / N) * (a + c) - (a / N) * c) / (R * S))
        w = (c / N) * (a + b)
    else:
        den = np.sum(n1 * (n2 / N))
        beta = float(np.sum(a * (n2 / N) - c * (n1 / N)) / den)
        se = math.sqrt((beta * np.sum(c * (n1 / N) ** 2 - a * (n2 / N) ** 2 + (n1 / N) * (n2 / N) * (n2 - n1) / 2)
                        + np.sum(a * (n2 - c) / N + c * (n1 - a) / N) / 2) / den ** 2)
        w = (n1 / N) * (c + d)
    weights = w / w.sum() * 100 if w.sum() > 0 else np.full(w.shape, np.nan)
    k_yi, Q, Qp, I2, H2 = _heterogeneity(yi, vi, beta)
    return _result("MH", measure, labels, a.size, k_yi, beta, se, level, Q, Qp, I2, H2, weights, yi, vi,
                   warnings, extra)


def _breslow_day(a, n1, N, xt, yt, beta):
    """Breslow-Day test (and Tarone's correction) of homogeneity of odds ratios, as metafor."""
    none = {"BD": None, "BD_pval": None, "TA": None, "TA_pval": None, "k_pos": 0}
    if not math.isfinite(beta):
        return none
    psi = math.exp(beta)
    n2 = N - n1
    if psi == 1:
        N11 = (n1 / N) * xt
    else:
        A = psi * (n1 + xt) + (n2 - xt)
        B = np.sqrt(A ** 2 - 4 * n1 * xt * psi * (psi - 1))
        N11 = (A - B) / (2 * (psi - 1))
    pos = (N11 > 0) & (xt > 0) & (yt > 0)
    k_pos = int(pos.sum())
    N11 = N11[pos]
    N12 = n1[pos] - N11
    N21 = xt[pos] - N11
    N22 = N11 - n1[pos] - xt[pos] + N[pos]
    inv = 1 / N11 + 1 / N12 + 1 / N21 + 1 / N22
    BD = max(0.0, float(np.sum((a[pos] - N11) ** 2 / inv ** -1)))
    TA = max(0.0, BD - float(np.sum(a[pos] - N11)) ** 2 / float(np.sum(inv ** -1)))
    out = {"BD": _num(BD), "TA": _num(TA), "k_pos": k_pos, "BD_pval": None, "TA_pval": None}
    if k_pos > 1:
        out["BD_pval"] = _num(_chisq_p(BD, k_pos - 1))
        out["TA_pval"] = _num(_chisq_p(TA, k_pos - 1))
    return out


def rma_peto(ai, ci, *, n1i=None, n2i=None, bi=None, di=None, add=0.5, to="only0", drop00=True, level=95,
             labels=None, studies=None):
    """Peto's pooled log odds ratio as metafor's ``rma.peto()`` (its defaults); the same dict as
    :func:`rma_mh` (``measure`` "PETO")."""
    a, b, c, d, labels = tables(ai, ci, bi=bi, di=di, n1i=n1i, n2i=n2i, labels=labels, studies=studies)
    if a.size == 0:
        raise ReviewInputError("no studies to pool (k = 0)", field="ai")
    yi, vi = _escalc_first("PETO", a, b, c, d, add, to, drop00)
    n1, n2 = a + b, c + d
    N = n1 + n2
    xt, yt = a + c, b + d
    E = xt * n1 / N
    with np.errstate(invalid="ignore", divide="ignore"):
        V = np.where(N > 1, xt * yt * (n1 / N) * (n2 / N) / (N - 1), 0.0)
    sV = float(V.sum())
    if sV == 0:
        raise ReviewInputError("Peto's method cannot be used: one of the two outcomes never occurred in any study",
                               field="ai", hint="Check the events; with no events at all nothing can be pooled.")
    beta = float(np.sum(a - E)) / sV
    se = math.sqrt(1 / sV)
    weights = V / sV * 100
    # Peto's heterogeneity statistic from the raw tables (Yusuf et al. 1985; metafor rma.peto()):
    # Q = sum((a - E)^2 / V) - sum(a - E)^2 / sum(V) over tables with V > 0; df from the studies with an
    # effect size
    k_yi = int((np.isfinite(yi) & np.isfinite(vi)).sum())
    pos = V > 0
    Q = max(0.0, float(np.sum((a[pos] - E[pos]) ** 2 / V[pos])) - float(np.sum(a - E)) ** 2 / sV)
    if int(pos.sum()) > 1:
        Qp = _chisq_p(Q, k_yi - 1)
        I2 = max(0.0, 100 * (Q - (k_yi - 1)) / Q) if Q > 0 else 0.0
        H2 = Q / (k_yi - 1)
    else:
        Qp, I2, H2 = 1.0, 0.0, 1.0
    return _result("PETO", "PETO", labels, a.size, k_yi, beta, se, level, Q, Qp, I2, H2, weights, yi, vi, [])
