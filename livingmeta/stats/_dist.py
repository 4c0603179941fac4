"""Distribution functions used by the statistics engine (thin, lazy wrappers around scipy.special).

``scipy.stats`` costs ~0.6 s to import and the workflow runs many small jobs, so only
``scipy.special`` is used, and only when a function is first called: ``import livingmeta.stats``
itself needs numpy alone.  Names follow R (``pnorm``/``qnorm``/``pt``/``qt``/``pchisq``/``qchisq``/
``pf``) because the numbers are checked against R ``metafor``.
"""

from __future__ import annotations

import numpy as np

_sp = None


def _special():
    global _sp
    if _sp is None:
        import scipy.special as sp  # lazy: ~0.1 s, only paid by jobs that compute p-values
        _sp = sp
    return _sp


def norm_sf(x):
    """Upper tail of the standard normal (R ``pnorm(x, lower.tail=FALSE)``)."""
    return _special().ndtr(-np.asarray(x, dtype=float))


def norm_cdf(x):
    return _special().ndtr(np.asarray(x, dtype=float))


def norm_isf(p):
    """Upper-tail quantile of the standard normal (R ``qnorm(p, lower.tail=FALSE)``)."""
    return -_special().ndtri(np.asarray(p, dtype=float))


def t_sf(x, df):
    """Upper tail of Student's t (R ``pt(x, df, lower.tail=FALSE)``)."""
    return _special().stdtr(df, -np.asarray(x, dtype=float))


def t_cdf(x, df):
    return _special().stdtr(df, np.asarray(x, dtype=float))


def t_isf(p, df):
    """Upper-tail quantile of Student's t (R ``qt(p, df, lower.tail=FALSE)``)."""
    return -_special().stdtrit(df, np.asarray(p, dtype=float))


def chi2_sf(x, df):
    """Upper tail of the chi-squared distribution (R ``pchisq(x, df, lower.tail=FALSE)``)."""
    return _special().chdtrc(df, np.asarray(x, dtype=float))


def chi2_isf(p, df):
    """Upper-tail quantile of chi-squared (R ``qchisq(p, df, lower.tail=FALSE)``)."""
    return _special().chdtri(df, np.asarray(p, dtype=float))


def chi2_ppf(p, df):
    """Lower-tail quantile of chi-squared (R ``qchisq(p, df)``)."""
    return _special().chdtri(df, 1.0 - np.asarray(p, dtype=float))


def f_sf(x, df1, df2):
    """Upper tail of the F distribution (R ``pf(x, df1, df2, lower.tail=FALSE)``)."""
    return _special().fdtrc(df1, df2, np.asarray(x, dtype=float))


def gammaln(x):
    return _special().gammaln(np.asarray(x, dtype=float))
