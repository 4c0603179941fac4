"""Effect sizes from per-arm summaries: metafor's ``escalc()`` for SMD, MD and ROM, plus RevMan 5's SMD.

Validated against metafor 3.8-1 ``escalc()`` (SMD with vtype LS/UB/AV, MD, ROM; reference values in
``validation/metafor/reference/*.json``); MD and its common-effect pool also against RevMan 5's own
exported output (tests/stats/test_published_examples.py).  The RevMan 5 SMD formulas (approximate J =
1 - 3/(4N - 9), variance N/(n1 n2) + g^2/(2(N - 3.94)), as in RevMan's statistical-methods document and
R meta's ``metacont(sm="SMD", method.smd="Hedges", exact.smd=FALSE)``) are tested against published
output of R meta computed with them (no SMD printed by RevMan itself was found to test against).  The
bias-corrected ROM is tested against the formulas of Lajeunesse (2015, Ecology 96:2056, eqs. 8-9) written
out by hand.

Arm 1 is the treatment (experimental) arm, arm 2 the control arm, as in metafor.
"""

from __future__ import annotations

import math

import numpy as np

from livingmeta.errors import ReviewInputError

from ._validate import as_vector, check_finite, check_positive, fmt_num, study_labels

MEASURES = ("SMD", "MD", "ROM", "NMD", "OR", "RR", "RD", "PETO")
CONTINUOUS_MEASURES = ("SMD", "MD", "ROM", "NMD")
SMD_VTYPES = ("LS", "UB", "AV", "REVMAN5")


def _cmi(mi):
    """metafor's exact small-sample correction J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))."""
    from ._dist import gammaln
    mi = np.asarray(mi, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.exp(gammaln(mi / 2) - np.log(np.sqrt(mi / 2)) - gammaln((mi - 1) / 2))
    return np.where(mi <= 1, np.nan, out)


def escalc(measure, m1i=None, sd1i=None, n1i=None, m2i=None, sd2i=None, n2i=None, *, se1i=None,
           se2i=None, vtype="LS", correct=False, labels=None, studies=None, na="raise", sham_mi=None,
           ai=None, bi=None, ci=None, di=None, add=0.5, to="only0", drop00=False):
    """Effect sizes ``yi`` and sampling variances ``vi`` from per-arm means, SDs (or SEs) and sizes.

    ``measure``:
      * ``"SMD"``: Hedges' g. ``vtype="LS"`` (default, metafor's large-sample variance),
        ``"UB"`` (unbiased), ``"AV"`` (uses the sample-size weighted mean of g), all with metafor's
        exact correction J; ``"REVMAN5"``: RevMan 5 / Cochrane formulas (approximate J and its variance).
      * ``"MD"``: raw mean difference m1 - m2, variance sd1^2/n1 + sd2^2/n2.
      * ``"ROM"``: log ratio of means log(m1/m2), variance sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2)
        (metafor "LS"); ``correct=True`` adds Lajeunesse's (2015) bias correction to both.
      * ``"NMD"``: normalised mean difference (Vesterinen et al. 2014, J Neurosci Methods 221:92,
        section 2.5.1), each arm's mean relative to the sham/normal group's mean ``sham_mi``:
        yi = 100 (m1 - m2) / |m2 - ms| (percent of the lesion's effect in the control arm), variance
        (100 / |m2 - ms|)^2 (sd1^2/n1 + sd2^2/n2) (their SD* = 100 SD / |m2 - ms| per arm; the sham
        group's own spread is not used).  Vesterinen et al. write the effect as the improvement
        100 (m_c - m_t) / (m_c - m_sham); here the sign is that of m1 - m2, as every measure's, and
        the workflow flips it when lower values are better, which gives theirs.
      * ``"OR"``, ``"RR"``, ``"RD"``, ``"PETO"``: from events ``ai``/``ci`` and totals ``n1i``/``n2i``
        (or non-events ``bi``/``di``) with the zero-cell options ``add``, ``to``, ``drop00``; see
        :func:`livingmeta.stats.binary.escalc_2x2`.

    Give the spread as SDs (``sd1i``/``sd2i``) or as standard errors of the mean (``se1i``/``se2i``,
    converted with sd = se * sqrt(n)); never both for the same arm.  Inputs are scalars or
    sequences; returns ``(yi, vi)`` as numpy arrays.  Bad input raises ``ReviewInputError`` naming the
    study (``labels=``/``studies=`` give the names).  ``na="keep"`` returns NaN for studies with
    missing (NaN/None) inputs instead of raising, as metafor's ``escalc()`` does; pass the result to
    ``rma(..., na="omit")``.
    """
    if str(measure).upper() in MEASURES and str(measure).upper() not in CONTINUOUS_MEASURES:
        from .binary import escalc_2x2
        return escalc_2x2(measure, ai, ci, n1i=n1i, n2i=n2i, bi=bi, di=di, add=add, to=to, drop00=drop00,
                          labels=labels, studies=studies)
    if na == "keep":
        cols = {"m1i": m1i, "sd1i": sd1i, "n1i": n1i, "m2i": m2i, "sd2i": sd2i, "n2i": n2i,
                "se1i": se1i, "se2i": se2i, "sham_mi": sham_mi}
        sizes = [np.size(x) for x in cols.values() if x is not None]
        n = max(sizes) if sizes else 0
        arrs = {key: (None if x is None else np.broadcast_to(
            np.asarray([np.nan if e is None else e for e in np.atleast_1d(np.asarray(x, dtype=object))],
                       dtype=float), (n,))) for key, x in cols.items()}
        ok = np.ones(n, bool)
        for x in arrs.values():
            if x is not None:
                ok &= np.isfinite(x)
        lab = study_labels(n, labels, studies)
        yi = np.full(n, np.nan)
        vi = np.full(n, np.nan)
        if ok.any():
            sub = {key: (None if x is None else x[ok]) for key, x in arrs.items()}
            yi[ok], vi[ok] = escalc(measure, vtype=vtype, correct=correct,
                                    labels=[lab[i] for i in np.flatnonzero(ok)], **sub)
        return yi, vi
    if na != "raise":
        raise ValueError("na must be 'raise' or 'keep'")
    measure = str(measure).upper()
    if measure not in MEASURES:
        raise ReviewInputError(f"unknown measure {measure!r}", field="measure",
                               hint=f"Use one of {', '.join(MEASURES)}.")
    vtype = str(vtype).upper()
    if measure == "SMD" and vtype not in SMD_VTYPES:
        raise ReviewInputError(f"unknown SMD variance type {vtype!r}", field="vtype",
                               hint=f"Use one of {', '.join(SMD_VTYPES)}.")
    if sd1i is not None and se1i is not None or sd2i is not None and se2i is not None:
        raise ReviewInputError("give the spread of an arm either as SD or as SE, not both",
                               field="sd1i/se1i")
    sizes = [np.size(x) for x in (m1i, sd1i, se1i, n1i, m2i, sd2i, se2i, n2i) if x is not None]
    n = max(sizes) if sizes else 0
    labels = study_labels(n, labels, studies)
    need = {"m1i": m1i, "n1i": n1i, "m2i": m2i, "n2i": n2i,
            "sd1i" if se1i is None else "se1i": sd1i if se1i is None else se1i,
            "sd2i" if se2i is None else "se2i": sd2i if se2i is None else se2i}
    arr = {}
    for name, val in need.items():
        if val is None:
            raise ReviewInputError(f"{name} is required for measure {measure}", field=name)
        arr[name] = as_vector(val, name, n)
        check_finite(arr[name], name, labels)
    for name in ("n1i", "n2i"):
        check_positive(arr[name], name, labels, what="Group sizes must be >= 1.")
    for name in ("sd1i", "sd2i", "se1i", "se2i"):
        if name in arr:
            check_positive(arr[name], name, labels, strict=False,
                           what="A standard deviation or standard error cannot be negative.")
    n1, n2 = arr["n1i"], arr["n2i"]
    s1 = arr["sd1i"] if "sd1i" in arr else arr["se1i"] * np.sqrt(n1)
    s2 = arr["sd2i"] if "sd2i" in arr else arr["se2i"] * np.sqrt(n2)
    m1, m2 = arr["m1i"], arr["m2i"]

    if measure == "MD":
        yi = m1 - m2
        vi = s1 ** 2 / n1 + s2 ** 2 / n2
    elif measure == "NMD":
        if sham_mi is None:
            raise ReviewInputError("sham_mi (the sham/normal group's mean) is required for measure NMD",
                                   field="sham_mi", hint="Give the mean of the sham-operated or normal animals.")
        ms = as_vector(sham_mi, "sham_mi", n)
        check_finite(ms, "sham_mi", labels)
        gap = np.abs(m2 - ms)
        bad = gap == 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ReviewInputError(f"study {labels[i]!r}: the control mean equals the sham mean, so the "
                                   "normalised mean difference is undefined", field="sham_mi",
                                   hint="NMD needs a lesion effect (control != sham); use SMD or MD.")
        yi = 100 * (m1 - m2) / gap
        vi = (100 / gap) ** 2 * (s1 ** 2 / n1 + s2 ** 2 / n2)
    elif measure == "ROM":
        for name, x in (("m1i", m1), ("m2i", m2)):
            bad = x <= 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ReviewInputError(f"study {labels[i]!r}: {name} must be > 0 for the ratio of means "
                                       f"(got {fmt_num(x[i])})", field=name,
                                       hint="ROM needs positive means on a ratio scale; use SMD or MD.")
        yi = np.log(m1 / m2)
        a1 = s1 ** 2 / (n1 * m1 ** 2)
        a2 = s2 ** 2 / (n2 * m2 ** 2)
        vi = a1 + a2
        if correct:
            yi = yi + 0.5 * (a1 - a2)
            vi = vi + 0.5 * (a1 ** 2 + a2 ** 2)
    else:
        N = n1 + n2
        mi = N - 2
        small = mi <= 1
        if small.any():
            i = int(np.flatnonzero(small)[0])
            raise ReviewInputError(f"study {labels[i]!r}: SMD needs n1i + n2i >= 4 (got {N[i]:g})",
                                   field="n1i", hint="Check the group sizes.")
        sdp = np.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / mi)
        zero = sdp == 0
        if zero.any():
            i = int(np.flatnonzero(zero)[0])
            raise ReviewInputError(f"study {labels[i]!r}: the pooled SD is 0, so the SMD is undefined",
                                   field="sd1i", hint="Check the SDs extracted for this study.")
        di = (m1 - m2) / sdp
        if vtype == "REVMAN5":
            yi = di * (1 - 3 / (4 * N - 9))
            vi = N / (n1 * n2) + yi ** 2 / (2 * (N - 3.94))
        else:
            cmi = _cmi(mi)
            yi = cmi * di
            if vtype == "LS":
                vi = 1 / n1 + 1 / n2 + yi ** 2 / (2 * N)
            elif vtype == "UB":
                vi = 1 / n1 + 1 / n2 + (1 - (mi - 2) / (mi * cmi ** 2)) * yi ** 2
            else:  # AV: metafor uses the sample-size weighted mean of g over all studies given
                mnwyi = np.sum(N * yi) / np.sum(N)
                vi = 1 / n1 + 1 / n2 + mnwyi ** 2 / (2 * N)
    return yi, vi


# --------------------------------------------------------------------------------------------------
# conversions of reported summaries
# --------------------------------------------------------------------------------------------------

def sd_from_se(se, n):
    """SD from the standard error of a mean: sd = se * sqrt(n) (Cochrane Handbook 6.5.2.2)."""
    return np.asarray(se, float) * np.sqrt(np.asarray(n, float))


def _z(p):
    from ._dist import norm_isf
    return float(norm_isf(p))


def sd_from_ci(lower, upper, n, level=95, t_dist=None):
    """SD of a single group from a CI for its mean (Cochrane Handbook 6.5.2.2).

    sd = sqrt(n) * (upper - lower) / (2 * crit), with crit = z (e.g. 3.92/2 for 95%) for large samples
    and t with n - 1 df for small ones; by default t is used when n < 60, as the Handbook advises.
    """
    from ._dist import t_isf
    n = float(n)
    alpha = (100 - level) / 100 if level > 1 else 1 - level
    use_t = n < 60 if t_dist is None else t_dist
    crit = float(t_isf(alpha / 2, n - 1)) if use_t else _z(alpha / 2)
    return math.sqrt(n) * (upper - lower) / (2 * crit)


# Wan et al. (2014) Table 1: xi(n) = 2 E(Z_(n)), the expected range of n standard normal values, for
# n = 1..50 (3 decimals, as published; bmcmedresmethodol.biomedcentral.com/articles/10.1186/
# 1471-2288-14-135/tables/1).  Table 2: eta(n) = 2 E(Z_(3Q+1)), the expected interquartile range, for
# n = 4Q + 1, Q = 1..50 (as transcribed in R meta, option "Wan2014.Table2").  Wan et al. use the tables for
# n <= 50 and n <= 201 and their formulas (7) and (16) (Blom's approximation) beyond; R meta does the same.
_WAN_XI = (0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
           3.173, 3.259, 3.336, 3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735,
           3.778, 3.819, 3.858, 3.895, 3.931, 3.964, 3.997, 4.027, 4.057, 4.086,
           4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301, 4.322,
           4.341, 4.361, 4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498)
_WAN_ETA = (0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303,
            1.307, 1.311, 1.313, 1.316, 1.318, 1.320, 1.322, 1.323, 1.324, 1.326,
            1.327, 1.328, 1.329, 1.330, 1.330, 1.331, 1.332, 1.332, 1.333, 1.333,
            1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337, 1.337,
            1.338, 1.338, 1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340)


def wan_xi(n):
    """Wan et al.'s xi(n): Table 1 for integer n <= 50, else 2 Phi^-1((n - 0.375) / (n + 0.25)) (eq. 7)."""
    if float(n).is_integer() and 2 <= n <= 50:
        return _WAN_XI[int(n) - 1]
    return 2 * _z(1 - (n - 0.375) / (n + 0.25))


def wan_eta(n):
    """Wan et al.'s eta(n): Table 2 (n = 4Q + 1, Q = ceil((n - 1) / 4), as R meta) for n <= 201, else
    2 Phi^-1((0.75 n - 0.125) / (n + 0.25)) (eq. 16)."""
    if n <= 201:
        return _WAN_ETA[math.ceil((n - 1) / 4) - 1]
    return 2 * _z(1 - (0.75 * n - 0.125) / (n + 0.25))


def mean_sd_from_median(median, n, q1=None, q3=None, minimum=None, maximum=None):
    """Mean and SD from the median and the IQR and/or range.

    Mean: Luo et al. (2018, Stat Methods Med Res 27:1785), optimal weights for scenario S1 (min,
    median, max), S2 (q1, median, q3) and S3 (all five).  SD: Wan et al. (2014, BMC Med Res Methodol
    14:135), eqs. (7), (16) and (12), with xi(n) and eta(n) from the paper's Tables 1 and 2 for
    n <= 50 and n <= 201 and from its formulas beyond (``wan_xi``, ``wan_eta``), as current R meta's
    ``metacont(..., method.mean = "Luo")`` does for S1 and S2 (R meta 4.x read Table 2 at n instead of
    Q = ceil((n - 1) / 4); see tests/stats/test_published_examples.py).  For S3, R meta's default SD is
    Shi et al. (2020) (``method.sd = "Shi"``); here it is Wan et al.'s eq. (12).  Returns ``(mean, sd)``.
    """
    n = float(n)
    has_r = minimum is not None and maximum is not None
    has_q = q1 is not None and q3 is not None
    if not (has_r or has_q):
        raise ReviewInputError("need the IQR (q1, q3) or the range (min, max) with the median",
                               field="median")
    if not n >= 2:
        raise ReviewInputError(f"need a sample size of at least 2 to estimate an SD (got n = {n:g})", field="n")
    if has_r and has_q:  # S3
        w1 = 2.2 / (2.2 + n ** 0.75)
        w2 = 0.7 - 0.72 / n ** 0.55
        mean = w1 * (minimum + maximum) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
        sd = (maximum - minimum) / (2 * wan_xi(n)) + (q3 - q1) / (2 * wan_eta(n))
    elif has_r:  # S1
        w = 4 / (4 + n ** 0.75)
        mean = w * (minimum + maximum) / 2 + (1 - w) * median
        sd = (maximum - minimum) / wan_xi(n)
    else:  # S2
        w = 0.7 + 0.39 / n
        mean = w * (q1 + q3) / 2 + (1 - w) * median
        sd = (q3 - q1) / wan_eta(n)
    return mean, sd


def combine_arms(n1, m1, sd1, n2, m2, sd2):
    """Combine two arms into one (Cochrane Handbook 6.5.2.10, Table 6.5.a). Returns (n, mean, sd)."""
    n = n1 + n2
    mean = (n1 * m1 + n2 * m2) / n
    var = ((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2 + n1 * n2 / n * (m1 - m2) ** 2) / (n - 1)
    return n, mean, math.sqrt(var)


def split_shared_control(n_control, n_comparisons):
    """Split a shared control group's n evenly across the comparisons that use it.

    Cochrane Handbook 23.3.4: divide the shared group's sample size (mean and SD unchanged) so each
    control participant is counted once.  Integer sizes are kept: the remainder goes to the first
    comparisons, e.g. 10 over 3 -> [4, 3, 3].
    """
    n_control = int(n_control)
    k = int(n_comparisons)
    if k < 1 or n_control < k:
        raise ReviewInputError(f"cannot split a control group of n = {n_control} over {k} comparisons",
                               field="n2i", hint="Each comparison needs at least one control animal/patient.")
    base, extra = divmod(n_control, k)
    return [base + (1 if i < extra else 0) for i in range(k)]
