"""Brent's root finder exactly as R's ``uniroot()`` runs it (R's ``R_zeroin2``, src/library/stats/src/zeroin.c).

metafor finds the Paule-Mandel estimate and the Q-profile confidence limits for tau^2 with
``uniroot(..., tol = .Machine$double.eps^0.25)``, a loose tolerance (1.2e-4).  To reproduce
metafor's numbers to 1e-6 rather than to 1e-4, this module follows the same iterations step by step
(same bracket, same interpolation rules, same stopping rule), vectorised over many problems at once:
every lane runs its own Brent iteration and stops on its own.
"""

from __future__ import annotations

import numpy as np

DBL_EPSILON = np.finfo(float).eps
R_UNIROOT_TOL = DBL_EPSILON ** 0.25


def zeroin(f, ax, bx, fa, fb, tol=R_UNIROOT_TOL, maxiter=1000, active=None):
    """Vectorised ``R_zeroin2``.

    ``f`` maps an array of abscissae (one per lane) to an array of function values.  ``ax``/``bx``
    bracket the root and ``fa``/``fb`` are ``f`` there (the caller checks the signs, as uniroot does).
    Returns ``(root, converged)``; lanes where ``active`` is False get NaN.
    """
    a = np.array(ax, dtype=float, copy=True)
    b = np.array(bx, dtype=float, copy=True)
    fa = np.array(fa, dtype=float, copy=True)
    fb = np.array(fb, dtype=float, copy=True)
    n = a.shape[0]
    done = np.zeros(n, bool) if active is None else ~np.asarray(active, bool)
    root = np.full(n, np.nan)
    conv = np.zeros(n, bool)
    m0 = ~done & (fa == 0.0)
    root[m0] = a[m0]; conv[m0] = True; done |= m0
    m0 = ~done & (fb == 0.0)
    root[m0] = b[m0]; conv[m0] = True; done |= m0
    c = a.copy()
    fc = fa.copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(int(maxiter) + 1):
            act = ~done
            if not act.any():
                break
            prev_step = b - a
            swap = act & (np.abs(fc) < np.abs(fb))
            a = np.where(swap, b, a)
            b = np.where(swap, c, b)
            c = np.where(swap, a, c)
            fa = np.where(swap, fb, fa)
            fb = np.where(swap, fc, fb)
            fc = np.where(swap, fa, fc)
            tol_act = 2.0 * DBL_EPSILON * np.abs(b) + tol / 2.0
            new_step = (c - b) / 2.0
            stop = act & ((np.abs(new_step) <= tol_act) | (fb == 0.0))
            root[stop] = b[stop]
            conv[stop] = True
            done |= stop
            upd = act & ~stop
            if not upd.any():
                break
            interp = upd & (np.abs(prev_step) >= tol_act) & (np.abs(fa) > np.abs(fb))
            if interp.any():
                cb = c - b
                lin = a == c
                t1l = fb / fa
                p_l = cb * t1l
                q_l = 1.0 - t1l
                q0 = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p_q = t2 * (cb * q0 * (q0 - t1) - (b - a) * (t1 - 1.0))
                q_q = (q0 - 1.0) * (t1 - 1.0) * (t2 - 1.0)
                p = np.where(lin, p_l, p_q)
                q = np.where(lin, q_l, q_q)
                pos = p > 0
                q = np.where(pos, -q, q)
                p = np.where(pos, p, -p)
                accept = interp & (p < (0.75 * cb * q - np.abs(tol_act * q) / 2.0)) & (
                    p < np.abs(prev_step * q / 2.0))
                new_step = np.where(accept, p / q, new_step)
            small = np.abs(new_step) < tol_act
            new_step = np.where(small, np.where(new_step > 0, tol_act, -tol_act), new_step)
            a = np.where(upd, b, a)
            fa = np.where(upd, fb, fa)
            b = np.where(upd, b + new_step, b)
            fnew = np.asarray(f(b), dtype=float)
            fb = np.where(upd, fnew, fb)
            adj = upd & (((fb > 0) & (fc > 0)) | ((fb < 0) & (fc < 0)))
            c = np.where(adj, a, c)
            fc = np.where(adj, fa, fc)
    left = ~done
    root[left] = b[left]  # R returns the last iterate with a warning
    return root, conv
