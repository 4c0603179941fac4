"""Vectorised random-effects engine: metafor's ``rma.uni()`` for many meta-analyses at once.

Every function here works on a *batch*: ``y`` and ``v`` are ``(m, K)`` arrays (m meta-analyses, at most K
studies each), ``mask`` says which cells hold a study, and ``X`` is ``None`` (intercept-only model, the
fast path) or an ``(m, K, p)`` design matrix.  Each lane (meta-analysis) is fitted exactly as metafor
3.8-1 fits it on its own: the same estimating equations, the same starting values, the same Fisher
scoring iterations with step-halving and the same stopping rule (absolute change in tau^2 <= 1e-5,
at most 100 iterations), the same ``uniroot()`` iterations for Paule-Mandel and the Q-profile
interval.  Lanes that converge early are frozen, so a lane's result does not depend on the other lanes.

The public entry points are :func:`livingmeta.stats.rma` (one model) and
:func:`livingmeta.stats.rma_batch` (many); this module has no input checking of its own.
"""

from __future__ import annotations

import math

import numpy as np

from livingmeta.errors import ReviewInputError

from . import _dist
from ._validate import fmt_num
from ._zeroin import R_UNIROOT_TOL, zeroin

METHODS = ("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
TESTS = ("z", "knha")
DBL_EPS = np.finfo(float).eps

DEFAULT_CONTROL = {
    "threshold": 1e-5,        # metafor: Fisher scoring stops when |change in tau2| <= threshold
    "maxiter": 100,           # metafor: maximum number of Fisher scoring iterations
    "stepadj": 1.0,           # metafor: step length multiplier
    "tau2_min": 0.0,
    "tol": R_UNIROOT_TOL,     # metafor: uniroot() tolerance (PM estimator, ll0check)
    "ci_maxiter": 1000,       # metafor confint(): uniroot() maxiter
    "ll0check": True,
    "halving_maxiter": 1100,  # step-halving: 1100 halvings take any finite step below the smallest double
    "bisect_maxiter": 200,    # fallback bisection on the estimating equation (bracket doubled <= 60 times)
}

# metafor's ``evtol`` (1e-07): a ratio of largest to smallest sampling variance >= 1/evtol draws its warning
VI_RATIO_WARN = 1e7
VI_RATIO_MESSAGE = ("Ratio of largest to smallest sampling variance extremely large (metafor's warning: "
                    "'May not be able to obtain stable results'); livingmeta computes the traces and weighted "
                    "residuals in a cancellation-free form, but check the study with the smallest variance")


class NotConverged(ReviewInputError):
    """An iterative step of the engine reached its iteration cap without converging.

    A :class:`ReviewInputError` (the engine's error type), so the workflow and the CLI report it as one
    line.  ``lanes`` holds the batch lanes (meta-analyses) concerned, so that batch callers can name them.
    """

    def __init__(self, message, *, lanes=(), hint=None, field="method"):
        self.lanes = [int(i) for i in lanes]
        super().__init__(message, field=field, hint=hint or (
            "Use another tau2 estimator (DL, HE, HS or SJ are not iterative), or raise the iteration cap "
            "(control maxiter / bisect_maxiter)"))


def level_to_alpha(level):
    """metafor's ``.level()``: 95 -> 0.05, 0.95 -> 0.05, 0.05 -> 0.05.

    A level outside (0, 100) (or not a number) has no meaning and is refused (ReviewInputError).
    """
    try:
        level = float(level)
    except (TypeError, ValueError):
        level = math.nan
    if not (0.0 < level < 100.0):
        raise ReviewInputError(f"the confidence level must be between 0 and 100 percent, exclusive "
                               f"(got {fmt_num(level)})", field="level", hint="Give it in percent, e.g. 95")
    if level >= 1:
        return (100.0 - level) / 100.0
    if level > 0.5:
        return 1.0 - level
    return level


# --------------------------------------------------------------------------------------------------
# weighted least squares pieces (P = W - W X (X'WX)^-1 X'W), without forming k x k matrices
# --------------------------------------------------------------------------------------------------

def _wls(w, y, X):
    """Weighted LS fit per lane. Returns beta (m,p), S=(X'WX)^-1 (m,p,p), residuals (m,K)."""
    if X is None:
        sw = w.sum(1)
        b = (w * y).sum(1) / sw
        return b[:, None], (1.0 / sw)[:, None, None], y - b[:, None]
    XtW = np.swapaxes(X, 1, 2) * w[:, None, :]
    A = XtW @ X
    S = np.linalg.inv(A)
    b = (S @ (XtW @ y[..., None]))[..., 0]
    r = y - (X @ b[..., None])[..., 0]
    return b, S, r


def _trace_SXDX(S, X, d):
    """tr(S X' D X) for diagonal D = diag(d), per lane."""
    if X is None:
        return S[:, 0, 0] * d.sum(1)
    B = (np.swapaxes(X, 1, 2) * d[:, None, :]) @ X
    return np.einsum("mij,mji->m", S, B)


def _sum_others(a, total, dom):
    """``sum_{j != i} a[:, j]`` for every cell, without cancellation.

    ``total - a`` is exact to rounding except in a cell that holds most of the row's total (``dom``, at
    most one per row), where it subtracts two nearly equal numbers: there the others are summed directly.
    """
    o = total[:, None] - a
    rows = np.flatnonzero(dom.any(1))
    if rows.size:
        d = dom[rows]
        direct = np.where(d, 0.0, a[rows]).sum(1)
        o[rows] = np.where(d, direct[:, None], o[rows])
    return o


def _p_stats(w, y, X, want_trPP=True):
    """RSS = y'Py, tr(P), tr(PP), y'PPy for P built from weights w (0 on empty cells).

    Intercept-only model (X None): P = W - w w'/s with s = sum(w).  The textbook closed forms
    (tr P = s - sum w^2 / s, tr PP = sum w^2 - 2 sum w^3 / s + (sum w^2 / s)^2, Pu = w (y - b)) subtract
    numbers of the size of the largest weight to get numbers of the size of the others, so with one
    dominant study (v_1 / v_j ~ 1e-10) they keep no correct digit.  Here every term is a sum of
    non-negative parts: with o_i = sum_{j != i} w_j (see _sum_others),
      P_ii = w_i o_i / s,  tr P = sum_i w_i o_i / s,
      tr PP = sum_ij P_ij^2 = [sum_i (w_i o_i)^2 + sum_i w_i^2 sum_{j != i} w_j^2] / s^2,
      (Py)_i = w_i (y_i - b) = w_i o_i (y_i - b_(-i)) / s   (b_(-i): weighted mean without study i),
    which is exact algebra on P (Harville 1977, JASA 72:320 for the REML score and information),
    evaluated without cancellation (Higham 2002, Accuracy and Stability of Numerical Algorithms, ch. 4).
    """
    w2 = w * w
    if X is None:
        sw = w.sum(1)
        wy = w * y
        swy = wy.sum(1)
        b = swy / sw
        dom = w > 0.5 * sw[:, None]
        o = _sum_others(w, sw, dom)
        with np.errstate(divide="ignore", invalid="ignore"):
            b_o = np.where(o > 0, _sum_others(wy, swy, dom) / np.where(o > 0, o, 1.0), b[:, None])
        wo = w * o / sw[:, None]                     # diagonal of P
        r = y - b[:, None]
        wr = wo * (y - b_o)                          # (Py)_i
        S = (1.0 / sw)[:, None, None]
        rss = (wr * r).sum(1)
        ypy2 = (wr * wr).sum(1)
        trP = wo.sum(1)
        trPP = None
        if want_trPP:
            sw2 = w2.sum(1)
            q = _sum_others(w2, sw2, w2 > 0.5 * sw2[:, None])
            trPP = (wo * wo).sum(1) + (w2 * q).sum(1) / (sw * sw)
        return {"beta": b[:, None], "S": S, "r": r, "rss": rss, "trP": trP, "trPP": trPP, "yPPy": ypy2}
    b, S, r = _wls(w, y, X)
    wr = w * r
    rss = (wr * r).sum(1)
    ypy2 = (wr * wr).sum(1)
    XtW2X = (np.swapaxes(X, 1, 2) * w2[:, None, :]) @ X
    trP = w.sum(1) - np.einsum("mij,mji->m", S, XtW2X)
    trPP = None
    if want_trPP:   # tr(PP) = sum(P * P) from the explicit P, as metafor (the closed form cancels)
        Pm = _full_P(w, X, None)
        trPP = (Pm * Pm).sum((1, 2))
    return {"beta": b, "S": S, "r": r, "rss": rss, "trP": trP, "trPP": trPP, "yPPy": ypy2}


def _full_P(w, X, mask):
    """Explicit P matrices (m, K, K); only for the few standard errors of tau^2 that need them."""
    m, K = w.shape
    idx = np.arange(K)
    if X is None:   # P_ij = -w_i w_j / s off the diagonal, P_ii = w_i o_i / s (see _p_stats)
        sw = w.sum(1)
        P = -(w[:, :, None] * w[:, None, :]) / sw[:, None, None]
        P[:, idx, idx] = w * _sum_others(w, sw, w > 0.5 * sw[:, None]) / sw[:, None]
        return P
    XtW = np.swapaxes(X, 1, 2) * w[:, None, :]
    S = np.linalg.inv(XtW @ X)
    WX = np.swapaxes(XtW, 1, 2)
    P = -(WX @ S @ XtW)
    P[:, idx, idx] += w
    return P


def _logdet_XWX(w, X):
    if X is None:
        return np.log(w.sum(1))
    XtW = np.swapaxes(X, 1, 2) * w[:, None, :]
    return np.linalg.slogdet(XtW @ X)[1]


def _loglik(tau2, y, v, mask, X, p, reml):
    """metafor's (restricted) log-likelihood used in the ``ll0check`` (without the REMLf constant)."""
    k = mask.sum(1)
    w = np.where(mask, 1.0 / (v + tau2[:, None]), 0.0)
    st = _p_stats(w, y, X, want_trPP=False)
    logv = np.where(mask, np.log(np.where(mask, v + tau2[:, None], 1.0)), 0.0).sum(1)
    if reml:
        return (-0.5 * (k - p) * math.log(2 * math.pi) - 0.5 * logv
                - 0.5 * _logdet_XWX(w, X) - 0.5 * st["rss"])
    return -0.5 * k * math.log(2 * math.pi) - 0.5 * logv - 0.5 * st["rss"]


def qe_func(tau2, y, v, mask, X):
    """Generalised Q statistic at tau^2 (metafor's ``.QE.func`` without the objective)."""
    w = np.where(mask, 1.0 / (v + tau2[:, None]), 0.0)
    b, S, r = _wls(w, y, X)
    return (w * r * r).sum(1)


# --------------------------------------------------------------------------------------------------
# tau^2 estimators
# --------------------------------------------------------------------------------------------------

def _mad(y, mask):
    """R's ``mad()`` per lane (constant 1.4826)."""
    yy = np.where(mask, y, np.nan)
    med = np.nanmedian(yy, axis=1)
    return 1.4826 * np.nanmedian(np.abs(yy - med[:, None]), axis=1)


def estimate_tau2(method, y, v, mask, X, p, control, warn):
    """tau^2 and its standard error per lane, as metafor's ``rma.uni()`` computes them.

    ``warn(lane_mask, message)`` records warnings.  Returns ``(tau2, se_tau2, converged)``.
    """
    m, K = y.shape
    k = mask.sum(1).astype(float)
    kp = k - p
    # metafor centres yi before estimating tau^2 (Ymc); it changes nothing but rounding
    ybar = np.where(mask, y, 0.0).sum(1) / k
    ymc = np.where(mask, y - ybar[:, None], 0.0)
    vv = np.where(mask, v, 1.0)
    one = mask.astype(float)
    tau2_min = control["tau2_min"]
    conv = np.ones(m, bool)
    se = np.full(m, np.nan)

    if method == "FE":
        return np.zeros(m), se, conv

    if method in ("HE", "ML", "REML", "EB"):
        st0 = _p_stats(one, ymc, X, want_trPP=False)
        # tr(PV) with P = I - X(X'X)^-1 X'
        trPV = (vv * one).sum(1) - _trace_SXDX(st0["S"], X, vv * one)
        tau2 = (st0["rss"] - trPV) / kp
        if method == "HE":
            Pm = _full_P(one, X, mask)
            PV = Pm * vv[:, None, :]
            trPVPV = np.einsum("mij,mji->m", PV, PV)
            t = np.maximum(tau2, 0.0)
            se = np.sqrt(1.0 / kp ** 2 * (2 * trPVPV + 4 * t * trPV + 2 * t ** 2 * kp))
    if method in ("DL", "HS"):
        wi = np.where(mask, 1.0 / vv, 0.0)
        st = _p_stats(wi, ymc, X)
        sw = wi.sum(1)
        t = None
        if method == "DL":
            tau2 = (st["rss"] - kp) / st["trP"]
            t = np.maximum(tau2, 0.0)
            se = np.sqrt(1.0 / st["trP"] ** 2 * (2 * kp + 4 * t * st["trP"] + 2 * t ** 2 * st["trPP"]))
        else:
            tau2 = (st["rss"] - k) / sw
            t = np.maximum(tau2, 0.0)
            se = np.sqrt(1.0 / sw ** 2 * (2 * kp + 4 * t * st["trP"] + 2 * t ** 2 * st["trPP"]))
    if method == "SJ":
        tau20 = (ymc ** 2).sum(1) / k   # var(ymci) * (k-1)/k
        wi = np.where(mask, 1.0 / (vv + tau20[:, None]), 0.0)
        st = _p_stats(wi, ymc, X, want_trPP=False)
        tau2 = tau20 * st["rss"] / kp
        Pm = _full_P(wi, X, mask)
        PV = Pm * vv[:, None, :]
        trPVPV = np.einsum("mij,mji->m", PV, PV)
        sPVP = (PV * Pm).sum((1, 2))
        sPP = (Pm * Pm).sum((1, 2))
        t = np.maximum(tau2, 0.0)
        se = np.sqrt(tau20 ** 2 / kp ** 2 * (2 * trPVPV + 4 * t * sPVP + 2 * t ** 2 * sPP))
    if method == "PM":
        tau2, conv = _pm(y, ymc, vv, mask, X, kp, control, warn)
    if method in ("ML", "REML", "EB"):
        tau2, conv = _fisher_scoring(method, tau2, ymc, y, vv, mask, X, p, k, kp, control, warn)
    tau2 = np.maximum(tau2_min, tau2)
    if method in ("ML", "REML", "EB", "PM"):
        w = np.where(mask, 1.0 / (vv + tau2[:, None]), 0.0)
        if method == "ML":
            se = np.sqrt(2.0 / (w * w).sum(1))
        elif method == "REML":
            se = np.sqrt(2.0 / _p_stats(w, ymc, X)["trPP"])
        else:
            se = np.sqrt(2.0 * k ** 2 / kp / w.sum(1) ** 2)
    return tau2, se, conv


def _pm(y, ymc, vv, mask, X, kp, control, warn):
    m = y.shape[0]
    tau2_max = np.maximum(100.0, 10.0 * _mad(y, mask) ** 2)
    f = lambda t: qe_func(t, ymc, vv, mask, X) - kp  # noqa: E731
    f0 = f(np.full(m, control["tau2_min"]))
    fmax = f(tau2_max)
    tau2 = np.full(m, np.nan)
    conv = np.ones(m, bool)
    at0 = f0 < 0
    tau2[at0] = control["tau2_min"]
    toolow = ~at0 & (fmax > 0)
    if toolow.any():
        conv[toolow] = False
        warn(toolow, "Paule-Mandel: Q(tau2) still exceeds k - p at tau2.max; tau2 not estimated")
    act = ~at0 & ~toolow
    if act.any():
        root, ok = zeroin(f, np.full(m, control["tau2_min"]), tau2_max, f0, fmax,
                          tol=control["tol"], maxiter=control["maxiter"], active=act)
        if not ok[act].all():
            raise NotConverged(f"PM: the root search for tau2 (R's uniroot) did not converge in "
                               f"{control['maxiter']} iterations", lanes=np.flatnonzero(act & ~ok))
        tau2[act] = root[act]
    return tau2, conv


def _fisher_numerator(method, tau2, ymc, vv, mask, X, k, kp):
    w = np.where(mask, 1.0 / (vv + tau2[:, None]), 0.0)
    need_pp = method == "REML"
    st = _p_stats(w, ymc, X, want_trPP=need_pp)
    if method == "ML":
        w2 = (w * w).sum(1)
        return st["yPPy"] - w.sum(1), w2
    if method == "REML":
        return st["yPPy"] - st["trP"], st["trPP"]
    return st["rss"] * k / kp - k, w.sum(1)  # EB


def _fisher_scoring(method, tau2_he, ymc, y, vv, mask, X, p, k, kp, control, warn):
    """metafor's Fisher scoring for ML / REML / EB, lane by lane, then its ll0check."""
    m = ymc.shape[0]
    tmin = control["tau2_min"]
    thr = control["threshold"]
    tau2 = np.maximum(np.maximum(0.0, tau2_he), tmin).astype(float)
    conv = np.ones(m, bool)
    it = 0
    idx = np.arange(m)                         # lanes still iterating (converged lanes are frozen)
    sub = (ymc, vv, mask, X, k, kp)
    while idx.size:
        it += 1
        ys, vs, ms, Xs, ks, kps = sub
        t = tau2[idx]
        num, den = _fisher_numerator(method, t, ys, vs, ms, Xs, ks, kps)
        adj = num / den * control["stepadj"]
        adj = np.where(np.isnan(adj), 0.0, adj)
        neg = t + adj < tmin
        halvings = 0
        while neg.any():                       # step-halving, as metafor (capped: an infinite step never ends)
            halvings += 1
            if halvings > control["halving_maxiter"]:
                stuck = np.zeros(m, bool)
                stuck[idx[neg]] = True
                conv[stuck] = False
                adj = np.where(neg, 0.0, adj)
                break
            adj = np.where(neg, adj / 2.0, adj)
            neg = t + adj < tmin
        new = t + adj
        change = np.abs(t - new)
        tau2[idx] = new
        if it > control["maxiter"]:
            conv[idx] = False
            break
        keep = (change > thr) & conv[idx]
        if not keep.all():
            idx = idx[keep]
            sub = tuple(None if a is None else a[keep] for a in sub)
    if not conv.all():
        bad = ~conv
        warn(bad, f"Fisher scoring for {method} did not converge in {control['maxiter']} iterations; "
                  f"tau2 found instead by bisection on the {method} estimating equation")
        tau2[bad] = _bisect_estimating_equation(method, ymc, y, vv, mask, X, k, kp, bad, control)
        conv[bad] = np.isfinite(tau2[bad])
    if method in ("ML", "REML") and control["ll0check"]:
        z = np.zeros(m)
        ll0 = _loglik(z, ymc, vv, mask, X, p, method == "REML")
        ll = _loglik(tau2, ymc, vv, mask, X, p, method == "REML")
        stuck = conv & (ll0 - ll > control["tol"]) & (tau2 > thr)
        if stuck.any():
            warn(stuck, "Fisher scoring may have stopped at a local maximum; tau2 set to 0 as metafor does")
            tau2[stuck] = 0.0
    return tau2, conv


def _bisect_estimating_equation(method, ymc, y, vv, mask, X, k, kp, lanes, control=None):
    """Fallback when Fisher scoring fails: root of the estimating equation by bisection on [0, hi].

    The ML/REML score (and EB's moment equation) decreases through its root in tau^2; if it is <= 0
    at 0 the estimate is 0.  The bracket is doubled from max(100, 10 mad^2) until the sign changes
    (at most 60 times).  A lane whose bracket never changes sign, or whose bracket is still wide after
    ``bisect_maxiter`` halvings, raises :class:`NotConverged`.
    """
    maxit = int((control or DEFAULT_CONTROL).get("bisect_maxiter", DEFAULT_CONTROL["bisect_maxiter"]))
    sel = np.flatnonzero(lanes)
    args = (ymc[sel], vv[sel], mask[sel], None if X is None else X[sel], k[sel], kp[sel])
    g = lambda t: _fisher_numerator(method, t, *args[:4], args[4], args[5])[0]  # noqa: E731
    lo = np.zeros(sel.size)
    g0 = g(lo)
    hi = np.maximum(100.0, 10.0 * _mad(y[sel], mask[sel]) ** 2)
    for _ in range(60):
        gh = g(hi)
        need = gh > 0
        if not need.any():
            break
        hi = np.where(need, hi * 2.0, hi)
    at0 = ~(g0 > 0)
    nobracket = ~at0 & ~(g(hi) <= 0)
    if nobracket.any():
        raise NotConverged(f"{method}: no root of the estimating equation for tau2 below {fmt_num(hi[nobracket].max())} "
                           "(Fisher scoring did not converge either)", lanes=sel[nobracket])
    done = at0 | (hi - lo <= 1e-12 * np.maximum(1.0, hi))
    for _ in range(maxit):
        if done.all():
            break
        mid = 0.5 * (lo + hi)
        gm = g(mid)
        lo = np.where(gm > 0, mid, lo)
        hi = np.where(gm > 0, hi, mid)
        done = at0 | (hi - lo <= 1e-12 * np.maximum(1.0, hi))
    if not done.all():
        raise NotConverged(f"{method}: Fisher scoring did not converge, and the bisection fallback on the "
                           f"estimating equation did not either ({maxit} halvings)", lanes=sel[~done])
    out = 0.5 * (lo + hi)
    return np.where(at0, 0.0, out)


# --------------------------------------------------------------------------------------------------
# the full fit
# --------------------------------------------------------------------------------------------------

def fit(y, v, mask, X=None, method="REML", test="knha", level=95, control=None, tau2_ci=True,
        btt=None):
    """Fit metafor's ``rma.uni(yi, vi, mods=X, method, test)`` in every lane.

    ``X`` None means intercept only.  ``btt``: indices of the coefficients tested by QM (default: all
    but the intercept when column 0 is an intercept, else all).
    Returns a dict of arrays, one entry per lane, and ``warnings`` (a list of lists of str).
    """
    method = method.upper() if method.upper() in METHODS else method
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose 'z' or 'knha'")
    con = dict(DEFAULT_CONTROL)
    if control:
        con.update(control)
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    m, K = y.shape
    p = 1 if X is None else X.shape[2]
    if X is not None:
        X = np.where(mask[..., None], X, 0.0)
    warnings = [[] for _ in range(m)]

    def warn(lanes, msg):
        for i in np.flatnonzero(lanes):
            if msg not in warnings[i]:
                warnings[i].append(msg)

    y0 = np.where(mask, y, 0.0)
    vv = np.where(mask, v, 1.0)
    k = mask.sum(1)
    kf = k.astype(float)
    alpha = level_to_alpha(level)

    # k = 1 (intercept-only): metafor uses method "k1" (tau2 = 0) and switches the test to z
    k1 = k == 1
    if k1.any():
        warn(k1, "k = 1: no pooling; the estimate is the single study's effect, tau2 = 0 and "
                 "heterogeneity is not estimable" + ("; test switched to z as metafor does" if test == "knha" else ""))
    with np.errstate(divide="ignore", invalid="ignore"):
        vratio = np.where(mask, vv, -np.inf).max(1) / np.where(mask, vv, np.inf).min(1)
    extreme = (k > 0) & np.isfinite(vratio) & (vratio >= VI_RATIO_WARN)
    if extreme.any():
        warn(extreme, VI_RATIO_MESSAGE)
    tau2 = np.zeros(m)
    se_tau2 = np.full(m, np.nan)
    conv = np.ones(m, bool)
    est = ~k1 & (k > 0)
    if est.any():
        sel = np.flatnonzero(est)

        def warn_sub(lanes, msg):
            warn_full = np.zeros(m, bool)
            warn_full[sel[np.asarray(lanes, bool)]] = True
            warn(warn_full, msg)

        t, s, c = estimate_tau2(method, y0[sel], vv[sel], mask[sel], None if X is None else X[sel],
                                p, con, warn_sub)
        tau2[sel], se_tau2[sel], conv[sel] = t, s, c

    w = np.where(mask, 1.0 / (vv + tau2[:, None]), 0.0)
    beta, S, r = _wls(w, y0, X)
    vb = S.copy()
    rss_f = (w * r * r).sum(1)
    ddf = np.where(test == "knha", kf - p, np.nan)
    if test == "knha" and method == "FE":
        warn(np.ones(m, bool), "Knapp & Hartung method is not meant to be used with a common-effect (FE) model")
    if test == "knha":
        s2w = np.where(rss_f <= DBL_EPS, 0.0, rss_f / np.maximum(kf - p, 1))
        s2w = np.where(k1, 1.0, s2w)
        zero = ~k1 & (s2w == 0)
        if zero.any():
            warn(zero, "Knapp-Hartung scale factor is 0 (the studies' residuals are all 0): the CI has zero width")
        vb = vb * s2w[:, None, None]
    else:
        s2w = np.ones(m)
    use_t = (test == "knha") & ~k1
    se = np.sqrt(np.einsum("mii->mi", vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    dfv = np.where(use_t, kf - p, 1.0)
    crit = np.where(use_t, _dist.t_isf(alpha / 2, np.maximum(dfv, 1)), _dist.norm_isf(alpha / 2))
    crit = np.where(use_t & (dfv <= 0), np.nan, crit)
    pval = np.where(use_t[:, None], 2 * _dist.t_sf(np.abs(zval), np.maximum(dfv, 1)[:, None]),
                    2 * _dist.norm_sf(np.abs(zval)))
    pval = np.where((use_t & (dfv <= 0))[:, None], np.nan, pval)
    ci_lb = beta - crit[:, None] * se
    ci_ub = beta + crit[:, None] * se

    # heterogeneity: Q with common-effect weights; I2/H2 from tau2 and the typical variance (i2def "1")
    wfe = np.where(mask, 1.0 / vv, 0.0)
    stfe = _p_stats(wfe, np.where(mask, y - (np.where(mask, y, 0).sum(1) / kf)[:, None], 0.0), X,
                    want_trPP=False)
    QE = np.maximum(0.0, stfe["rss"])
    kp = kf - p
    with np.errstate(divide="ignore", invalid="ignore"):
        QEp = _dist.chi2_sf(QE, np.maximum(kp, 1))
        vt = kp / stfe["trP"]
        if method == "FE":
            I2 = np.maximum(0.0, 100.0 * (QE - kp) / QE)   # metafor: max(0, -Inf) = 0 when QE = 0
            I2 = np.where(QE == 0, 0.0, I2)
            H2 = QE / kp
        else:
            I2 = 100.0 * tau2 / (vt + tau2)
            H2 = tau2 / vt + 1.0
    nohet = kp <= 0
    QE = np.where(nohet, 0.0, QE)
    QEp = np.where(nohet, 1.0, QEp)
    I2 = np.where(nohet, 0.0, I2)
    H2 = np.where(nohet, 1.0, H2)

    # omnibus test of the moderators (QM)
    if btt is None:
        btt = list(range(1, p)) if (X is not None and p > 1 and _has_intercept(X, mask)) else list(range(p))
    QM = QMdf = QMp = None
    if X is not None and len(btt) > 0:
        bsel = beta[:, btt]
        vsel = vb[:, btt][:, :, btt]
        with np.errstate(all="ignore"):
            QM = np.einsum("mi,mi->m", bsel, np.linalg.solve(vsel, bsel[..., None])[..., 0])
        mm = len(btt)
        if test == "knha":
            QM = QM / mm
            QMp = _dist.f_sf(QM, mm, np.maximum(kp, 1))
            QMdf = (mm, kp)
        else:
            QMp = _dist.chi2_sf(QM, mm)
            QMdf = (mm, None)

    out = {
        "k": k, "p": p, "method": method, "test": test, "alpha": alpha,
        "beta": beta, "vb": vb, "se": se, "zval": zval, "pval": pval, "ci_lb": ci_lb, "ci_ub": ci_ub,
        "crit": crit, "ddf": ddf, "s2w": s2w, "use_t": use_t,
        "tau2": tau2, "se_tau2": se_tau2, "converged": conv,
        "QE": QE, "QEp": QEp, "I2": I2, "H2": H2, "vt": vt,
        "QM": QM, "QMdf": QMdf, "QMp": QMp, "btt": btt,
        "weights": 100.0 * w / w.sum(1)[:, None],
        "warnings": warnings,
    }
    # prediction interval for the intercept / average effect (metafor predict(), pi.type "default")
    if X is None:
        pi_se = np.sqrt(se[:, 0] ** 2 + tau2)
        out["pi_lb"] = beta[:, 0] - crit * pi_se
        out["pi_ub"] = beta[:, 0] + crit * pi_se
        if method == "FE":  # metafor's predict() gives no prediction interval for a common-effect model
            out["pi_lb"] = np.full(m, np.nan)
            out["pi_ub"] = np.full(m, np.nan)
    if tau2_ci:
        lb, ub = qprofile_ci(y0, vv, mask, X, p, tau2, alpha, con, warn, method)
        lb = np.where(k1, np.nan, lb)
        ub = np.where(k1, np.nan, ub)
        out["tau2_ci_lb"], out["tau2_ci_ub"] = lb, ub
        with np.errstate(divide="ignore", invalid="ignore"):
            out["I2_ci_lb"] = 100.0 * lb / (vt + lb)
            out["I2_ci_ub"] = 100.0 * ub / (vt + ub)
            out["H2_ci_lb"] = lb / vt + 1.0
            out["H2_ci_ub"] = ub / vt + 1.0
    return out


def _has_intercept(X, mask):
    col = X[:, :, 0]
    return bool(np.all(np.where(mask, col == 1.0, True)))


def qprofile_ci(y, vv, mask, X, p, tau2, alpha, con, warn, method):
    """Q-profile CI for tau^2, as metafor's ``confint()`` (type "QP") computes it, per lane."""
    m = y.shape[0]
    lb = np.full(m, np.nan)
    ub = np.full(m, np.nan)
    if method == "FE":
        return lb, ub
    k = mask.sum(1)
    kp = (k - p).astype(float)
    ok = kp >= 1
    tmin = np.minimum(0.0, tau2)
    tmax = np.maximum(np.maximum(100.0, tau2 * 10.0), tmin * 10.0)
    dfq = np.maximum(kp, 1)
    crit_u = _dist.chi2_isf(alpha / 2, dfq)
    crit_l = _dist.chi2_ppf(alpha / 2, dfq)
    Qmax = qe_func(tmax, y, vv, mask, X)
    Qmin = qe_func(tmin, y, vv, mask, X)
    tol = con["tol"]
    maxit = con["ci_maxiter"]
    # upper bound
    both_min = ok & (Qmin < crit_l)
    lb[both_min] = tmin[both_min]
    ub[both_min] = tmin[both_min]
    if both_min.any():
        warn(both_min, "Q at tau2 = 0 is below the lower critical value: the Q-profile CI for tau2 is "
                       "reported as [0, 0] (metafor: 'null set')")
    ub_max = ok & ~both_min & (Qmax > crit_l)
    ub[ub_max] = tmax[ub_max]
    if ub_max.any():
        warn(ub_max, "upper bound of the tau2 CI is above tau2.max and was set to it")
    act = ok & ~both_min & ~ub_max
    if act.any():
        f = lambda t: qe_func(t, y, vv, mask, X) - crit_l  # noqa: E731
        r, okr = zeroin(f, tmin, tmax, Qmin - crit_l, Qmax - crit_l, tol=tol, maxiter=maxit, active=act)
        if not okr[act].all():
            raise NotConverged(f"the upper bound of the Q-profile CI for tau2: the root search (R's uniroot) "
                               f"did not converge in {maxit} iterations", lanes=np.flatnonzero(act & ~okr), field="tau2_ci",
                               hint="Raise control ci_maxiter, or ask for no CI for tau2 (tau2_ci=False)")
        ub[act] = r[act]
    # lower bound
    both_max = ok & (Qmax > crit_u)
    lb[both_max] = tmax[both_max]
    ub[both_max] = tmax[both_max]
    rest = ok & ~both_max
    lb_min = rest & (Qmin < crit_u)
    lb[lb_min] = tmin[lb_min]
    act = rest & ~lb_min
    if act.any():
        f = lambda t: qe_func(t, y, vv, mask, X) - crit_u  # noqa: E731
        r, okr = zeroin(f, tmin, tmax, Qmin - crit_u, Qmax - crit_u, tol=tol, maxiter=maxit, active=act)
        if not okr[act].all():
            raise NotConverged(f"the lower bound of the Q-profile CI for tau2: the root search (R's uniroot) "
                               f"did not converge in {maxit} iterations", lanes=np.flatnonzero(act & ~okr), field="tau2_ci",
                               hint="Raise control ci_maxiter, or ask for no CI for tau2 (tau2_ci=False)")
        lb[act] = r[act]
    return lb, ub
