"""Multilevel (nested random-effects) meta-analysis: metafor's ``rma.mv(yi, V, random = ~ 1 | study/comparison)``.

Model (Konstantopoulos 2011, Res Synth Methods 2:61; Cheung 2014, Psychol Methods 19:211; Van den
Noortgate et al. 2013, Behav Res Methods 45:576): y = X b + u_1 + ... + u_L + e, where level l's random
effect u_l is shared by all rows of one cluster at that level (clusters nested: study, study/experiment,
study/experiment/comparison), u_l ~ N(0, sigma2_l), and e ~ N(0, V) with V the (block-diagonal) sampling
covariance.  The marginal covariance is M = V + sum_l sigma2_l Z_l Z_l'.

Estimation: REML (default) or ML by Fisher scoring on sigma2 (analytic score and expected information,
Harville 1977, JASA 72:320; nonnegativity by projection onto sigma2 >= 0, step halving while the
log-likelihood falls), then Newton steps with the analytic observed information once the relative step
is below 1e-3 (or after 10 iterations), until the relative step is below 1e-10.  A level with as many
clusters as the level above it is not identifiable separately and is fixed at 0 with a warning.  metafor 3.8-1 maximises the same likelihood with
``nlminb`` on log(sigma2); the two agree within 1e-6 relative on every reference data set in
validation/metafor/reference/multilevel.json (the residual difference is metafor's own optimiser
tolerance; see tests/stats/test_multilevel.py).

Tests: ``test="z"`` or ``test="t"`` with ``dfs="residual"`` (k - p) or ``dfs="contain"`` (metafor's
``.ddf.calc``: for each coefficient, the number of levels of the coarsest random factor within whose
levels the coefficient's column is constant, minus p; for the intercept: number of studies - p);
``dfs="contain"`` implies ``test="t"`` as in metafor.  QM: Wald chi-square (z) or F = QM/m with
df = (m, min ddf of the tested coefficients) (t).  Q_E: residual heterogeneity r' V^-1 r of the
common-effect fit.  I2 per level: the metafor FAQ "I^2 for multilevel and multivariate models"
(Cheung 2014), 100 sigma2_l / (sum sigma2 + (k - p) / tr(P)) with P = W - W X (X'WX)^-1 X'W, W = V^-1.
Prediction interval (intercept-only models): estimate +/- crit sqrt(se^2 + sum sigma2), as metafor's
``predict.rma.mv`` for nested ``~ 1 | ...`` terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from livingmeta.errors import ReviewInputError

from ._core import level_to_alpha


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------------------------------
# structure
# --------------------------------------------------------------------------------------------------

def nested_levels(study, experiment=None, comparison=None):
    """Cluster ids per level, outermost first: study, study/experiment, study/experiment/comparison.

    Returns ``(names, ids)`` where ``ids`` is a list of integer arrays (cluster index per row, per level).
    Without ``comparison`` each row is its own comparison (metafor's ``~ 1 | study/id`` with a row id).
    """
    k = len(study)
    study = [str(s) for s in study]
    paths = [[s] for s in study]
    names = ["study"]
    cols = []
    if experiment is not None:
        if len(experiment) != k:
            raise ReviewInputError(f"experiment has {len(experiment)} values for {k} rows", field="experiment")
        cols.append(("experiment", [str(e) for e in experiment]))
    if comparison is None:
        comparison = [str(i) for i in range(k)]
    if len(comparison) != k:
        raise ReviewInputError(f"comparison has {len(comparison)} values for {k} rows", field="comparison")
    cols.append(("comparison", [str(c) for c in comparison]))
    levels = [[tuple(p) for p in paths]]
    for name, vals in cols:
        paths = [p + [v] for p, v in zip(paths, vals)]
        names.append(name)
        levels.append([tuple(p) for p in paths])
    ids = []
    for lev in levels:
        index = {}
        ids.append(np.array([index.setdefault(v, len(index)) for v in lev], dtype=int))
    return names, ids


def _ddf_contain(X, ids, k, p):
    """metafor 3.8-1 ``.ddf.calc(dfs="contain")`` for ``~ 1 | a/b/...`` random terms."""
    nlev = [int(i.max()) + 1 for i in ids]
    ddf = np.full(p, float(k))
    for j in range(p):
        cand = []
        for lev, idx in enumerate(ids):
            # column j constant within every cluster of this level
            ok = True
            for c in range(nlev[lev]):
                vals = X[idx == c, j]
                if np.unique(vals).size != 1:
                    ok = False
                    break
            if ok:
                cand.append(nlev[lev])
        if cand:
            ddf[j] = min(cand)
    ddf = ddf - p
    ddf[ddf < 1] = 1
    return ddf


# --------------------------------------------------------------------------------------------------
# likelihood pieces
# --------------------------------------------------------------------------------------------------

class _Blocks:
    """Rows grouped into the diagonal blocks of M (the studies when V has no covariance across studies,
    else one block of all rows), with the within-block same-cluster pattern of every level."""

    def __init__(self, V, ids):
        k = V.shape[0]
        study = ids[0]
        groups = [np.flatnonzero(study == c) for c in range(int(study.max()) + 1)]
        same = study[:, None] == study[None, :]
        if np.any(V[~same] != 0):
            groups = [np.arange(k)]
        self.k = k
        self.groups = groups
        self.Vb = [V[np.ix_(g, g)] for g in groups]
        self.E = [[(lev[g][:, None] == lev[g][None, :]).astype(float) for lev in ids] for g in groups]
        self.R = np.concatenate([np.repeat(g, g.size) for g in groups])
        self.S = np.concatenate([np.tile(g, g.size) for g in groups])
        self.ids = ids
        self.n = [int(lev.max()) + 1 for lev in ids]
        self.pair = {}
        for a in range(len(ids)):
            for b in range(len(ids)):
                self.pair[a, b] = ids[a][self.R] * self.n[b] + ids[b][self.S]

    def inv(self, s2=None, base=None):
        """Blockwise inverse of V + sum s2_l Z_l Z_l' (or of ``base`` blocks): (list of blocks, logdet)."""
        inv, logdet = [], 0.0
        for j, g in enumerate(self.groups):
            A = self.Vb[j].copy() if base is None else base[j]
            if s2 is not None:
                for s, E in zip(s2, self.E[j]):
                    A += s * E
            L = np.linalg.cholesky(A)
            logdet += 2.0 * np.log(np.diag(L)).sum()
            Li = np.linalg.inv(L)
            inv.append(Li.T @ Li)
        return inv, logdet

    def dense(self, blocks):
        out = np.zeros((self.k, self.k))
        for g, B in zip(self.groups, blocks):
            out[np.ix_(g, g)] = B
        return out

    def matmul(self, blocks, A):
        out = np.empty((self.k,) + A.shape[1:])
        for g, B in zip(self.groups, blocks):
            out[g] = B @ A[g]
        return out

    def agg(self, lev, A):
        """Z_lev' A: sum the rows of A within each cluster of level ``lev``."""
        idx = self.ids[lev]
        if A.ndim == 1:
            return np.bincount(idx, weights=A, minlength=self.n[lev])
        return np.column_stack([np.bincount(idx, weights=A[:, j], minlength=self.n[lev]) for j in range(A.shape[1])])

    def ZAZ(self, vals, a, b):
        """Z_a' A Z_b for block-diagonal A given by its within-block entries ``vals`` (order R, S)."""
        return np.bincount(self.pair[a, b], weights=vals, minlength=self.n[a] * self.n[b]).reshape(self.n[a], self.n[b])


def _pieces(s2, y, X, blk, reml, logdetXX):
    """Log-likelihood, score and expected information at sigma2 = s2 (Harville 1977)."""
    Mi, logdetM = blk.inv(s2)
    vals = np.concatenate([B.ravel() for B in Mi])
    MiX = blk.matmul(Mi, X)
    Miy = blk.matmul(Mi, y)
    C = X.T @ MiX
    Ci = np.linalg.inv(C)
    Ci = (Ci + Ci.T) / 2
    Py = Miy - MiX @ (Ci @ (MiX.T @ y))
    rss = float(y @ Py)
    k, p = X.shape
    if reml:
        ll = -0.5 * ((k - p) * math.log(2 * math.pi) + logdetM + np.linalg.slogdet(C)[1] + rss) + 0.5 * logdetXX
    else:
        ll = -0.5 * (k * math.log(2 * math.pi) + logdetM + rss)
    L = len(s2)
    F = [blk.agg(a, MiX) for a in range(L)]
    u = [blk.agg(a, Py) for a in range(L)]
    score = np.empty(L)
    info = np.empty((L, L))
    obs = np.empty((L, L))
    for a in range(L):
        for b in range(a, L):
            Q = blk.ZAZ(vals, a, b)
            QP = Q - F[a] @ Ci @ F[b].T          # Z_a' P Z_b
            if reml:
                Q = QP
            if a == b:
                score[a] = -0.5 * np.trace(Q) + 0.5 * float(u[a] @ u[a])
            info[a, b] = info[b, a] = 0.5 * float(np.sum(Q * Q))
            # observed information: y'P G_a P G_b P y - 1/2 tr(A G_a A G_b)
            obs[a, b] = obs[b, a] = float(u[a] @ QP @ u[b]) - info[a, b]
    info = (info, obs)
    return ll, score, info, Mi, Ci


def _fit_sigma2(y, V, X, blk, reml, logdetXX, s2_init=None, maxiter=500, tol=1e-10):
    L = len(blk.ids)
    if s2_init is None:
        b = np.linalg.lstsq(X, y, rcond=None)[0]
        r = y - X @ b
        tot = max(float(r @ r) / max(len(y) - X.shape[1], 1) - float(np.mean(np.diag(V))), 0.01)
        s2 = np.full(L, tot / L)
    else:
        s2 = np.asarray(s2_init, dtype=float).copy()
    ll, score, info, *_ = _pieces(s2, y, X, blk, reml, logdetXX)
    it = 0
    converged = False
    newton = False
    for it in range(1, maxiter + 1):
        free = ~((s2 <= 0) & (score <= 0))
        step = np.zeros(L)
        if free.any():
            # Fisher scoring (expected information) far from the optimum, Newton (observed) near it
            Fi = info[1 if newton else 0][np.ix_(free, free)]
            if newton and np.any(np.linalg.eigvalsh(Fi) <= 0):
                Fi = info[0][np.ix_(free, free)]
            try:
                step[free] = np.linalg.solve(Fi, score[free])
            except np.linalg.LinAlgError:
                step[free] = score[free] / np.maximum(np.diag(Fi), 1e-12)
        rel_step = float(np.max(np.abs(step) / np.maximum(s2, 1e-12 + 1e-10 * float(np.sum(s2))))) if L else 0.0
        lam = 1.0
        while True:
            new = np.maximum(s2 + lam * step, 0.0)
            ll_new, score_new, info_new, *_ = _pieces(new, y, X, blk, reml, logdetXX)
            # the log-likelihood is only accurate to ~1e-10 relative: near the optimum take the full step
            if ll_new >= ll - 1e-9 * max(1.0, abs(ll)) or rel_step < 1e-6 or lam < 1e-6:
                break
            lam /= 2
        s2, ll, score, info = new, ll_new, score_new, info_new
        newton = newton or rel_step < 1e-3 or it >= 10
        if rel_step < tol:
            converged = True
            break
    return s2, ll, it, converged


# --------------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------------

@dataclass
class MultilevelResult:
    """Fit of :func:`rma_mv`; ``to_dict()`` gives the JSON-ready fields."""
    k: int
    p: int
    coef_names: list
    beta: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    ddf: np.ndarray
    sigma2: np.ndarray
    sigma2_levels: list
    s_nlevels: list
    I2: np.ndarray
    I2_total: float
    QE: float
    QE_df: int
    QE_pval: float
    QM: float | None
    QM_df: tuple | None
    QM_pval: float | None
    pi_lb: float | None
    pi_ub: float | None
    method: str
    test: str
    dfs: str
    level: float
    logLik: float
    iterations: int
    converged: bool
    M: np.ndarray = field(repr=False)
    Mi: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    cluster: np.ndarray = field(repr=False)
    warnings: list = field(default_factory=list)

    def to_dict(self):
        d = {"k": self.k, "p": self.p, "method": self.method, "test": self.test, "dfs": self.dfs,
             "level": self.level}
        if self.p == 1 and self.coef_names == ["intrcpt"]:
            d.update(estimate=_num(self.beta[0]), se=_num(self.se[0]), zval=_num(self.zval[0]),
                     pval=_num(self.pval[0]), ci_lb=_num(self.ci_lb[0]), ci_ub=_num(self.ci_ub[0]),
                     ddf=_num(self.ddf[0]) if self.test == "t" else None)
        d["coefficients"] = [{"name": n, "estimate": _num(b), "se": _num(s), "zval": _num(z), "pval": _num(pv),
                              "ci_lb": _num(lo), "ci_ub": _num(hi),
                              "ddf": _num(df) if self.test == "t" else None}
                             for n, b, s, z, pv, lo, hi, df in zip(self.coef_names, self.beta, self.se, self.zval,
                                                                    self.pval, self.ci_lb, self.ci_ub, self.ddf)]
        d.update(sigma2=[_num(s) for s in self.sigma2], sigma2_levels=list(self.sigma2_levels),
                 n_levels=list(self.s_nlevels), I2=[_num(i) for i in self.I2], I2_total=_num(self.I2_total),
                 QE=_num(self.QE), QE_df=self.QE_df, QE_pval=_num(self.QE_pval))
        if self.QM is not None:
            d.update(QM=_num(self.QM), QM_df=list(self.QM_df), QM_pval=_num(self.QM_pval))
        d.update(pi_lb=_num(self.pi_lb), pi_ub=_num(self.pi_ub), logLik=_num(self.logLik),
                 iterations=self.iterations, converged=self.converged, warnings=list(self.warnings))
        return d


def _as_V(V, k):
    V = np.asarray(V, dtype=float)
    if V.ndim == 1:
        if V.size != k:
            raise ReviewInputError(f"vi has {V.size} values for {k} rows", field="vi")
        V = np.diag(V)
    if V.shape != (k, k):
        raise ReviewInputError(f"V must be a {k} x {k} matrix (got {V.shape})", field="V")
    if not np.all(np.isfinite(V)):
        raise ReviewInputError("the sampling variances/covariances contain missing or infinite values", field="vi")
    if np.any(np.diag(V) <= 0):
        i = int(np.flatnonzero(np.diag(V) <= 0)[0])
        raise ReviewInputError(f"row {i + 1}: sampling variance must be positive (got {V[i, i]!r})", field="vi")
    if not np.allclose(V, V.T, rtol=1e-10, atol=1e-14):
        raise ReviewInputError("V is not symmetric", field="V")
    return V


def _design(mods, k, intercept):
    """The model matrix: the intercept and/or the moderators, built as ``rma()`` builds it
    (:func:`livingmeta.stats.rma._design`: numeric columns, text values as an R factor)."""
    from livingmeta.stats.rma import _design as rma_design

    if mods is None:
        if not intercept:
            raise ReviewInputError("the model has no coefficients (no intercept and no moderators)", field="mods")
        return np.ones((k, 1)), ["intrcpt"]
    if not intercept and isinstance(mods, dict) and not mods:
        raise ReviewInputError("the model has no coefficients (no intercept and no moderators)", field="mods")
    return rma_design(mods, k, intercept, [f"row {i + 1}" for i in range(k)])


def rma_mv(yi, V, *, study, experiment=None, comparison=None, mods=None, intercept=True, method="REML",
           test="z", dfs="residual", level=95, btt=None, sigma2=None, sigma2_init=None):
    """Nested multilevel random-effects model, metafor 3.8-1 ``rma.mv(yi, V, mods, random = ~ 1 | study/comparison)``.

    ``yi``: effect sizes (k); ``V``: sampling variances (k) or a full k x k sampling covariance matrix (e.g.
    from :func:`vcalc_shared_group`).  ``study`` (k ids), optional ``experiment`` (k ids, nested in study)
    and ``comparison`` (k ids; default: one per row) give ``random = ~ 1 | study/experiment/comparison``.
    ``mods``: array (k,) / (k, q) or dict name -> values (string values -> factor with the first sorted
    level as reference); ``btt``: indices of the coefficients QM tests (default all but the intercept).
    ``method``: "REML" or "ML"; ``test``: "z" or "t"; ``dfs``: "residual" or "contain" (implies "t").
    ``sigma2``: fix the variance components (list, outermost first; as metafor's ``sigma2=`` argument)
    instead of estimating them; ``sigma2_init``: starting values.
    Returns :class:`MultilevelResult`.  Cites: Konstantopoulos (2011); Cheung (2014); metafor (Viechtbauer
    2010, J Stat Softw 36(3)).
    """
    from ._dist import chi2_sf, f_sf, norm_isf, norm_sf, t_isf, t_sf

    y = np.asarray(yi, dtype=float)
    if y.ndim != 1:
        raise ReviewInputError("yi must be a 1-d sequence", field="yi")
    k = y.size
    if not np.all(np.isfinite(y)):
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ReviewInputError(f"row {i + 1}: yi is missing or not finite", field="yi")
    if len(study) != k:
        raise ReviewInputError(f"study has {len(study)} values for {k} rows", field="study")
    Vm = _as_V(V, k)
    method = str(method).upper()
    if method not in ("REML", "ML"):
        raise ReviewInputError(f"unknown estimator {method!r} for the multilevel model", field="method",
                               hint="Use REML or ML.")
    dfs = str(dfs).lower()
    if dfs not in ("residual", "contain"):
        raise ReviewInputError(f"unknown dfs {dfs!r}", field="dfs", hint="Use 'residual' or 'contain'.")
    test = str(test).lower()
    if test not in ("z", "t"):
        raise ReviewInputError(f"unknown test {test!r} for the multilevel model", field="test", hint="Use 'z' or 't'.")
    if dfs == "contain":
        test = "t"
    names, ids = nested_levels(study, experiment, comparison)
    nlev = [int(i.max()) + 1 for i in ids]
    if nlev[0] < 2:
        raise ReviewInputError(f"a multilevel model needs at least 2 studies (got {nlev[0]})", field="study",
                               hint="Add studies, or pool the comparisons of the single study another way.")
    X, coef_names = _design(mods, k, intercept)
    p = X.shape[1]
    if k <= p:
        raise ReviewInputError(f"{k} rows are too few for {p} coefficients", field="mods")
    warnings = []
    # a level whose clusters are all single rows of the level above adds nothing separate: metafor keeps
    # it (sigma2 not identifiable vs the level below); we fit it as given, as metafor does.
    blk = _Blocks(Vm, ids)
    logdetXX = float(np.linalg.slogdet(X.T @ X)[1])
    if sigma2 is not None:
        s2 = np.asarray(sigma2, dtype=float).ravel()
        if s2.size != len(ids) or np.any(~np.isfinite(s2)) or np.any(s2 < 0):
            raise ReviewInputError(f"sigma2 needs {len(ids)} nonnegative values (levels {', '.join(names)})",
                                   field="sigma2")
        iters, conv = 0, True
    else:
        # a level with as many clusters as the level above it (e.g. one experiment per study, one comparison
        # per experiment) has the same clusters: its variance is not identifiable separately from the outer
        # level's, so it is fixed at 0 (the outer level carries their sum) and a warning says so.
        keep = [0] + [lev for lev in range(1, len(ids)) if nlev[lev] != nlev[lev - 1]]
        for lev in range(len(ids)):
            if lev not in keep:
                warnings.append(f"level {names[lev]!r} has one cluster per {names[lev - 1]}: its variance cannot be "
                                f"separated from the {names[lev - 1]} level's and is set to 0")
        init = None if sigma2_init is None else np.asarray(sigma2_init, dtype=float)[keep]
        fit_blk = blk if len(keep) == len(ids) else _Blocks(Vm, [ids[lev] for lev in keep])
        s2k, ll, iters, conv = _fit_sigma2(y, Vm, X, fit_blk, method == "REML", logdetXX, s2_init=init)
        s2 = np.zeros(len(ids))
        s2[keep] = s2k
    if not conv:
        warnings.append("the variance components did not converge")
    ll, score, _, Mi_b, vb = _pieces(s2, y, X, blk, method == "REML", logdetXX)
    MiX = blk.matmul(Mi_b, X)
    beta = vb @ (MiX.T @ y)
    M = Vm.copy()
    for s, lev in zip(s2, ids):
        M += s * (lev[:, None] == lev[None, :])
    se = np.sqrt(np.diag(vb))
    zval = beta / se
    alpha = level_to_alpha(level)
    if test == "t":
        ddf = _ddf_contain(X, ids, k, p) if dfs == "contain" else np.full(p, float(max(k - p, 1)))
        pval = 2 * t_sf(np.abs(zval), ddf)
        crit = t_isf(alpha / 2, ddf)
    else:
        ddf = np.full(p, np.nan)
        pval = 2 * norm_sf(np.abs(zval))
        crit = np.full(p, float(norm_isf(alpha / 2)))
    ci_lb, ci_ub = beta - crit * se, beta + crit * se
    # QM
    if btt is None:   # metafor: all coefficients but the intercept (the intercept alone if it is the only one)
        btt = [j for j, n in enumerate(coef_names) if n != "intrcpt"] or [0]
    btt = list(btt)
    m = len(btt)
    bsub = beta[btt]
    QM = float(bsub @ np.linalg.solve(vb[np.ix_(btt, btt)], bsub))
    if test == "t":
        QM = QM / m
        QM_df = (m, float(min(ddf[btt])))
        QM_pval = float(f_sf(QM, QM_df[0], QM_df[1]))
    else:
        QM_df = (m, None)
        QM_pval = float(chi2_sf(QM, m))
    # QE and I2 from the common-effect (V-weighted) fit
    Wb, _ = blk.inv(None)
    WX = blk.matmul(Wb, X)
    Wy = blk.matmul(Wb, y)
    CW = np.linalg.inv(X.T @ WX)
    QE = float(y @ Wy - (WX.T @ y) @ CW @ (WX.T @ y))
    trPV = sum(float(np.trace(B)) for B in Wb) - float(np.sum((WX.T @ WX) * CW))
    QE_df = k - p
    QE_pval = float(chi2_sf(QE, QE_df)) if QE_df > 0 else float("nan")
    denom = float(np.sum(s2)) + (k - p) / trPV
    I2 = 100 * s2 / denom
    I2_total = 100 * float(np.sum(s2)) / denom
    pi_lb = pi_ub = None
    if p == 1 and intercept:
        pse = math.sqrt(se[0] ** 2 + float(np.sum(s2)))
        pi_lb, pi_ub = float(beta[0] - crit[0] * pse), float(beta[0] + crit[0] * pse)
    return MultilevelResult(k=k, p=p, coef_names=coef_names, beta=beta, se=se, zval=zval, pval=np.asarray(pval),
                            ci_lb=ci_lb, ci_ub=ci_ub, vb=vb, ddf=ddf, sigma2=s2, sigma2_levels=names,
                            s_nlevels=nlev, I2=I2, I2_total=I2_total, QE=QE, QE_df=QE_df, QE_pval=QE_pval,
                            QM=QM, QM_df=QM_df, QM_pval=QM_pval,
                            pi_lb=pi_lb, pi_ub=pi_ub, method=method, test=test, dfs=dfs, level=level,
                            logLik=ll, iterations=iters, converged=conv, M=M, Mi=blk.dense(Mi_b), X=X, y=y,
                            cluster=ids[0], warnings=warnings)


# --------------------------------------------------------------------------------------------------
# sampling covariance of comparisons sharing a group
# --------------------------------------------------------------------------------------------------

def vcalc_shared_group(vi, cluster, grp1, grp2, w1, w2=None):
    """Sampling covariance matrix for estimates that share groups, metafor 3.8-1 ``vcalc(vi, cluster, grp1=,
    grp2=, w1=, w2=)``.

    Within a cluster, estimates i and j (each a contrast grp1 - grp2 with group weights, usually sample
    sizes, w1, w2) are correlated as
    r_ij = ([g1i=g1j]/sqrt(w1i w1j) - [g1i=g2j]/sqrt(w1i w2j) - [g2i=g1j]/sqrt(w2i w1j) + [g2i=g2j]/sqrt(w2i w2j))
           / (sqrt(1/w1i + 1/w2i) sqrt(1/w1j + 1/w2j)),
    and V_ij = r_ij sqrt(vi vj) (metafor ``vcalc`` documentation; Gleser & Olkin 2009, in Cooper, Hedges &
    Valentine, The handbook of research synthesis and meta-analysis, 2nd ed., ch. 19).  For two treatment
    arms against one control of size n_c: r = (1/n_c) / sqrt((1/n_1i + 1/n_c)(1/n_1j + 1/n_c)).
    """
    vi = np.asarray(vi, dtype=float)
    k = vi.size
    w1 = np.asarray(w1, dtype=float)
    w2 = w1 if w2 is None else np.asarray(w2, dtype=float)
    cl = [str(c) for c in cluster]
    g1 = [str(g) for g in grp1]
    g2 = [str(g) for g in grp2]
    for name, a in (("cluster", cl), ("grp1", g1), ("grp2", g2), ("w1", w1), ("w2", w2)):
        if len(a) != k:
            raise ReviewInputError(f"{name} has {len(a)} values for {k} estimates", field=name)
    R = np.eye(k)
    den = np.sqrt(1 / w1 + 1 / w2 - 2 * np.array([a == b for a, b in zip(g1, g2)]) / np.sqrt(w1 * w2))
    for i in range(k):
        for j in range(i):
            if cl[i] != cl[j]:
                continue
            num = ((g1[i] == g1[j]) / math.sqrt(w1[i] * w1[j]) - (g1[i] == g2[j]) / math.sqrt(w1[i] * w2[j])
                   - (g2[i] == g1[j]) / math.sqrt(w2[i] * w1[j]) + (g2[i] == g2[j]) / math.sqrt(w2[i] * w2[j]))
            R[i, j] = R[j, i] = num / (den[i] * den[j])
    s = np.sqrt(vi)
    return R * np.outer(s, s)


def shared_control_covariance(measure, *, n1i, n1j, n2, m2=None, sd2=None, yi=None, yj=None, c2=None,
                              n_total=None):
    """Exact large-sample covariance of two effect sizes whose comparisons share one control arm.

    Gleser & Olkin (2009, Handbook of research synthesis and meta-analysis, 2nd ed., ch. 19, section
    19.3.1 "multiple-treatment studies"): the shared arm contributes its own sampling variance term.
      * MD:  sd2^2 / n2
      * SMD: 1/n2 + yi yj / (2 N), N = ``n_total`` (all arms of the study; default n1i + n1j + n2)
      * ROM: sd2^2 / (n2 m2^2)
      * OR (log): 1/c2 + 1/(n2 - c2);  RR (log): 1/c2 - 1/n2;  RD: p2 (1 - p2) / n2, p2 = c2/n2
    (``c2``: events in the shared control arm).
    """
    meas = str(measure).upper()
    if meas == "MD":
        return sd2 ** 2 / n2
    if meas == "SMD":
        return 1.0 / n2 + yi * yj / (2.0 * (n_total if n_total is not None else n1i + n1j + n2))
    if meas == "ROM":
        return sd2 ** 2 / (n2 * m2 ** 2)
    if meas == "OR":
        return 1.0 / c2 + 1.0 / (n2 - c2)
    if meas == "RR":
        return 1.0 / c2 - 1.0 / n2
    if meas == "RD":
        p2 = c2 / n2
        return p2 * (1 - p2) / n2
    raise ReviewInputError(f"no shared-control covariance for measure {measure!r}", field="measure",
                           hint="Use MD, SMD, ROM, OR, RR or RD.")


def shared_control_V(vi, study, control_group, n1i, n2i):
    """Sampling covariance matrix of comparisons, rows of one study with the same non-empty ``control_group``
    id sharing that control arm (metafor ``vcalc(vi, cluster = study, grp1 = <row>, grp2 = control_group,
    w1 = n1i, w2 = n2i)``; each row's treatment arm is its own).  Rows without a control_group id have
    their own control.  Returns a k x k array (diagonal = ``vi``).
    """
    k = len(vi)
    for name, a in (("study", study), ("control_group", control_group), ("n1i", n1i), ("n2i", n2i)):
        if len(a) != k:
            raise ReviewInputError(f"{name} has {len(a)} values for {k} comparisons", field=name)
    grp1 = [("treatment", i) for i in range(k)]
    grp2 = [("control", str(s), str(c)) if c not in (None, "") else ("own control", i)
            for i, (s, c) in enumerate(zip(study, control_group))]
    return vcalc_shared_group(vi, study, grp1, grp2, n1i, n2i)


def split_shared_controls(n2i, study, control_group, *, min_n=2, labels=None):
    """Control-arm sizes after dividing each shared control's n among the comparisons that use it
    (Cochrane Handbook 23.3.4; :func:`livingmeta.stats.split_shared_control` per group).

    Rows of one study with the same non-empty ``control_group`` share the control; their ``n2i`` must be
    the shared group's n.  Raises ReviewInputError when a split leaves fewer than ``min_n`` per comparison.
    Returns a list of sizes (rows without a shared control keep theirs).
    """
    from .effects import split_shared_control

    out = [float(n) for n in n2i]
    groups = {}
    for i, (s, c) in enumerate(zip(study, control_group)):
        if c not in (None, ""):
            groups.setdefault((str(s), str(c)), []).append(i)
    for (s, c), idx in groups.items():
        if len(idx) < 2:
            continue
        n_c = int(out[idx[0]])
        if n_c // len(idx) < min_n:
            raise ReviewInputError(f"study {s!r}: shared control {c!r} (n = {n_c}) split over {len(idx)} comparisons "
                                   f"leaves fewer than {min_n} per comparison", field="n2i",
                                   hint="Model the shared control's covariance instead of splitting it.")
        for i, n in zip(idx, split_shared_control(n_c, len(idx))):
            out[i] = n
    return out
