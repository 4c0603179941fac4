"""Cluster-robust (sandwich) inference for a fitted multilevel model: CR2 with Satterthwaite degrees of freedom.

Bell & McCaffrey (2002, Survey Methodology 28:169) bias-reduced linearisation (CR2), generalised to
working-model weights by Pustejovsky & Tipton (2018, J Bus Econ Stat 36:672) and Tipton & Pustejovsky
(2015, J Educ Behav Stat 40:604) for meta-analysis; the same numbers as R clubSandwich 0.5.8
``coef_test(fit, vcov = "CR2")`` / ``conf_int(fit, vcov = "CR2")`` and metafor 3.8-1
``robust(fit, cluster = study, clubSandwich = TRUE)`` for an ``rma.mv`` fit (working weights W = M^-1,
target variance Phi = M, the model's marginal covariance).

  V_CR2 = B [sum_j X_j' W_j A_j e_j e_j' A_j W_j X_j] B,    B = (X' W X)^-1,
  A_j = D_j' (D_j (Phi_j - X_j B X_j') D_j')^(-1/2) D_j,    D_j the upper Cholesky factor of Phi_j,
and for coefficient c the Satterthwaite df = (tr Omega)^2 / sum(Omega^2), Omega_ij = g_i' Phi g_j,
g_j = (I - H)_j' A_j W_j X_j B c.
"""

from __future__ import annotations

import math

import numpy as np

from ._core import level_to_alpha


def _inv_sqrt_sym(A):
    w, Q = np.linalg.eigh((A + A.T) / 2)
    w = np.where(w > 1e-12 * max(w.max(), 1e-300), w, np.inf)
    return (Q / np.sqrt(w)) @ Q.T


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def robust_cr2(fit, cluster=None, level=None, btt=None, _general=False):
    """CR2 cluster-robust tests for a :class:`~livingmeta.stats.multilevel.MultilevelResult`.

    ``cluster``: cluster ids per row (default: the model's outermost level, the study).  Returns a dict
    with ``vcov`` (p x p), and per coefficient ``beta, se, tval, df, pval, ci_lb, ci_ub`` (lists; t
    distribution with Satterthwaite df), ``n_clusters``, ``vcov_type`` "CR2", ``df_type`` "Satterthwaite",
    and ``wald``: the HTZ Wald test of the coefficients ``btt`` (default all but the intercept; None for an
    intercept-only model) with ``Q, F, df_num, df_denom, pval``.
    """
    from ._dist import t_isf, t_sf

    X, y, Phi = fit.X, fit.y, fit.M
    k, p = X.shape
    if cluster is None:
        cl = np.asarray(fit.cluster)
    else:
        index = {}
        cl = np.array([index.setdefault(str(c), len(index)) for c in cluster])
    groups = [np.flatnonzero(cl == c) for c in np.unique(cl)]
    others = cl[:, None] != cl[None, :]
    blockdiag = not _general and not np.any(Phi[others] != 0)   # clusters independent under the working model
    W = fit.Mi
    WX = W @ X
    B = np.linalg.inv(X.T @ WX)
    beta = B @ (WX.T @ y)
    e = y - X @ beta
    IH = None if blockdiag else np.eye(k) - X @ (B @ WX.T)     # I - H
    meat = np.zeros((p, p))
    U = []                                      # per cluster: (rows, A_j (W X)_j B)
    for g in groups:
        Pg = Phi[np.ix_(g, g)]
        D = np.linalg.cholesky(Pg).T            # upper: Phi_j = D' D
        if blockdiag:                           # (I - H)_j Phi (I - H)_j' = Phi_j - X_j B X_j' when W = Phi^-1
            S = Pg - X[g] @ B @ X[g].T
        else:
            S = IH[g] @ Phi @ IH[g].T
        A = D.T @ _inv_sqrt_sym(D @ S @ D.T) @ D
        u = A @ WX[g]
        v = u.T @ e[g]
        meat += np.outer(v, v)
        U.append((g, u @ B))
    vcov = B @ meat @ B
    se = np.sqrt(np.diag(vcov))
    tval = beta / se
    J = len(U)

    if blockdiag:
        # with g_j = (I - H)_j' u_j:  g_i' Phi g_j = [i = j] u_i' Phi_i u_i - (X_i' u_i)' B (X_j' u_j)
        Aby = [np.column_stack([X[g].T @ uB[:, c] for g, uB in U]) for c in range(p)]

        def pair(c, d):
            diag = np.array([uB[:, c] @ Phi[np.ix_(g, g)] @ uB[:, d] for g, uB in U])
            return np.diag(diag) - Aby[c].T @ B @ Aby[d]
    else:
        G = []                                  # per coefficient: k x J, column j = (I - H)_j' A_j W_j X_j B e_c
        for c in range(p):
            Gc = np.zeros((k, J))
            for j, (g, uB) in enumerate(U):
                Gc[:, j] = IH[g].T @ uB[:, c]
            G.append(Gc)

        def pair(c, d):
            return G[c].T @ (Phi @ G[d])
    df = np.empty(p)
    for c in range(p):
        Om = pair(c, c)
        df[c] = np.trace(Om) ** 2 / np.sum(Om * Om)
    alpha = level_to_alpha(fit.level if level is None else level)
    pval = 2 * t_sf(np.abs(tval), df)
    crit = t_isf(alpha / 2, df)
    # Wald test of the moderators (all coefficients but the intercept), Hotelling's T^2 approximation
    # "HTZ" (Tipton & Pustejovsky 2015, J Educ Behav Stat 40:604; clubSandwich Wald_test(test = "HTZ"))
    btt = [j for j, n in enumerate(fit.coef_names) if n != "intrcpt"] if btt is None else list(btt)
    wald = None
    if btt:
        from ._dist import f_sf
        q = len(btt)
        Pa = np.empty((q, q, J, J))
        for a, ca in enumerate(btt):
            for b, cb in enumerate(btt):
                Pa[a, b] = pair(ca, cb)
        Omega = np.einsum("stjj->st", Pa)
        Ons = _inv_sqrt_sym(Omega)
        Bk = np.einsum("sa,abij,bt->stij", Ons, Pa, Ons)
        var = np.empty((q, q))
        for a in range(q):
            for b in range(q):
                var[a, b] = np.sum(Bk[a, b] * Bk[b, a]) + np.sum(Bk[a, a] * Bk[b, b])
        nu = q * (q + 1) / np.sum(var)
        bs = beta[btt]
        Q = float(bs @ np.linalg.solve(vcov[np.ix_(btt, btt)], bs))
        delta = max((nu - q + 1) / nu, 0.0)
        F = delta * Q / q
        df2 = nu - q + 1
        wald = {"test": "HTZ", "coefficients": [fit.coef_names[j] for j in btt], "Q": Q, "F": float(F),
                "df_num": q, "df_denom": float(df2),
                "pval": float(f_sf(F, q, df2)) if df2 > 0 else None}
    return {"vcov_type": "CR2", "df_type": "Satterthwaite", "n_clusters": len(groups), "wald": wald,
            "coef_names": list(fit.coef_names), "vcov": vcov,
            "beta": [float(b) for b in beta], "se": [float(s) for s in se], "tval": [float(t) for t in tval],
            "df": [float(d) for d in df], "pval": [float(x) for x in np.atleast_1d(pval)],
            "ci_lb": [float(x) for x in beta - crit * se], "ci_ub": [float(x) for x in beta + crit * se]}
