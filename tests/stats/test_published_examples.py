"""Effect sizes and conversions checked against numbers printed in published sources.

Each test names its source (document, section/table), the input, the printed output, the rounding of the
printed output and the tolerance that rounding implies.  Conversions for which no published numeric
example was found are tested elsewhere (test_effects.py) by exact identities only, and say so.
"""

import math

import numpy as np
import pytest

from livingmeta.stats import (combine_arms, escalc, mean_sd_from_median, rma, sd_from_ci, sd_from_se,
                              split_shared_control)
from livingmeta.stats.effects import _WAN_ETA, _WAN_XI, wan_eta, wan_xi


# --------------------------------------------------------------------------------------------------
# Wan et al. (2014), BMC Med Res Methodol 14:135: SD from the range and/or the IQR
# --------------------------------------------------------------------------------------------------

def _expected_normal_order_statistic(k, n, _grid={}):
    """E(Z_(k:n)) for standard normal Z by numerical integration (trapezoid on [-10, 10])."""
    if not _grid:
        from statistics import NormalDist
        z = np.linspace(-10.0, 10.0, 20001)
        cdf = np.array([NormalDist().cdf(v) for v in z])
        _grid.update(z=z, phi=np.exp(-z * z / 2) / math.sqrt(2 * math.pi),
                     lp=np.log(np.clip(cdf, 1e-300, None)), lq=np.log(np.clip(1 - cdf, 1e-300, None)))
    g = _grid
    c = math.lgamma(n + 1) - math.lgamma(k) - math.lgamma(n - k + 1)
    return float(np.trapezoid(g["z"] * g["phi"] * np.exp(c + (k - 1) * g["lp"] + (n - k) * g["lq"]), g["z"]))


def test_wan_table1_xi_published_values():
    # Wan et al. 2014, Table 1 "Values of xi(n) in the formula (7) and the formula (12) for n <= 50"
    # (bmcmedresmethodol.biomedcentral.com/articles/10.1186/1471-2288-14-135/tables/1), printed to
    # 3 decimals: n = 2: 1.128, 10: 3.078, 11: 3.173, 25: 3.931, 41: 4.341, 50: 4.498.
    printed = {2: 1.128, 10: 3.078, 11: 3.173, 25: 3.931, 41: 4.341, 50: 4.498}
    for n, xi in printed.items():
        assert wan_xi(n) == xi
    # xi(n) = 2 E(Z_(n:n)), the expected range; every tabulated value agrees with the exact expectation
    # within one unit of the last printed digit (the table rounds e.g. 3.2585 (n = 12) up to 3.259).
    for n in range(2, 51):
        assert abs(_WAN_XI[n - 1] - 2 * _expected_normal_order_statistic(n, n)) < 0.001, n
    # beyond the table: formula (7), Blom's approximation 2 Phi^-1((n - 0.375) / (n + 0.25))
    from statistics import NormalDist
    assert wan_xi(51) == pytest.approx(2 * NormalDist().inv_cdf(50.625 / 51.25), rel=1e-12)


def test_wan_table2_eta_values():
    # Wan et al. 2014, Table 2 (eta(n) for n = 4Q + 1, Q <= 50), values as transcribed in R meta's
    # internal option "Wan2014.Table2" (GitHub guido-s/meta, R/zzz.R); Q = 1: 0.990, Q = 10: 1.303,
    # Q = 50: 1.340.  eta(n) = 2 E(Z_(3Q+1:n)), the expected IQR: each value agrees with the exact
    # expectation within one unit of the third decimal (two entries, Q = 12 and 24, are 0.0005 high).
    assert (wan_eta(5), wan_eta(41), wan_eta(201)) == (0.990, 1.303, 1.340)
    for q in range(1, 51):
        n = 4 * q + 1
        assert abs(_WAN_ETA[q - 1] - 2 * _expected_normal_order_statistic(3 * q + 1, n)) < 0.001, q
    # sizes not of the form 4Q + 1 use Q = ceil((n - 1) / 4), as R meta; beyond 201 formula (16)
    assert wan_eta(40) == wan_eta(41) == 1.303 and wan_eta(42) == 1.307
    from statistics import NormalDist
    assert wan_eta(202) == pytest.approx(2 * NormalDist().inv_cdf((0.75 * 202 - 0.125) / 202.25), rel=1e-12)


def test_wan_sd_scenarios_use_the_published_constants():
    # S1 (formula 7): SD = range / xi(n); S2 (formula 16): SD = IQR / eta(n); S3 (formula 12): the mean
    # of the two.  With n = 10 (Table 1: 3.078) and n = 41 (Table 2: 1.303) the results are exact.
    assert mean_sd_from_median(50, 10, minimum=30, maximum=30 + 3 * 3.078)[1] == pytest.approx(3.0, rel=1e-13)
    assert mean_sd_from_median(50, 41, q1=45, q3=45 + 2 * 1.303)[1] == pytest.approx(2.0, rel=1e-13)
    sd3 = mean_sd_from_median(50, 41, q1=45, q3=47, minimum=40, maximum=60)[1]
    assert sd3 == pytest.approx(0.5 * (20 / 4.341 + 2 / 1.303), rel=1e-13)


# --------------------------------------------------------------------------------------------------
# Cochrane Handbook v6.4 (2023), section 6.5.2.2: SD from a CI for a group mean
# --------------------------------------------------------------------------------------------------

def test_sd_from_ci_handbook_divisors():
    # Handbook 6.5.2.2: SD = sqrt(N) x (upper - lower) / 3.92 for a 95% CI from a large sample;
    # "for 90% confidence intervals 3.92 should be replaced by 3.29, and for 99% ... by 5.15" (printed
    # to 2 decimals: tolerance 0.005 / 3.29 ~ 1.5e-3 relative).  Small samples: t with N - 1 df; the
    # Handbook's example: "the t value for a 95% confidence interval from a sample size of 25 ... 2.0639",
    # so 3.92 "would be replaced by 2 x 2.0639 = 4.128" (printed to 4 decimals: 0.00005 / 2.0639).
    lo, hi, n = 3.0, 5.0, 400
    for level, divisor in ((95, 3.92), (90, 3.29), (99, 5.15)):
        assert sd_from_ci(lo, hi, n, level=level) == pytest.approx(math.sqrt(n) * (hi - lo) / divisor, rel=1.5e-3)
    assert sd_from_ci(lo, hi, 25) == pytest.approx(5 * (hi - lo) / (2 * 2.0639), rel=3e-5)
    assert sd_from_ci(lo, hi, 25, t_dist=False) == pytest.approx(5 * (hi - lo) / 3.92, rel=1e-4)


# --------------------------------------------------------------------------------------------------
# RevMan 5 output: mean differences, inverse-variance common-effect meta-analysis
# --------------------------------------------------------------------------------------------------

# RevMan 5 "Data and analyses" export of the Fleiss (1993) mental-health example (outcome 1.2,
# "Mental Health Treatment versus Control", CON / IV / MD / Fixed), shipped with R meta as
# inst/extdata/Fleiss93_CR.csv (GitHub guido-s/meta, commit ba13d7db).  Columns: Mean 1, SD 1, Total 1,
# Mean 2, SD 2, Total 2 (input) and Effect Estimate, SE, CI Start, CI End, Weight (RevMan's output),
# printed to 8 decimals, so agreement is expected to ~1e-8 absolute.
FLEISS_REVMAN = [
    # study, m1, sd1, n1, m2, sd2, n2, MD, SE, CI start, CI end, weight %
    ("Davis", 5.0, 4.7, 13, 6.5, 3.8, 13, -1.5, 1.67630546, -4.78549833, 1.78549833, 2.79315513),
    ("Florell", 4.9, 1.71, 30, 6.1, 2.3, 50, -1.2, 0.45085474, -2.08365906, -0.31634094, 38.61251498),
    ("Gruen", 22.5, 3.44, 35, 24.9, 10.65, 35, -2.4, 1.89175731, -6.10777619, 1.30777619, 2.19316111),
    ("Hart", 12.5, 1.47, 20, 12.3, 1.66, 20, 0.2, 0.49580742, -0.77176469, 1.17176469, 31.92826572),
    ("Wilson", 6.5, 0.76, 8, 7.38, 1.41, 8, -0.88, 0.56631484, -1.98995669, 0.22995669, 24.47290305),
]
# pooled row: Effect Estimate -0.70938839, CI -1.25848502 to -0.16029176, Q 5.66012379, P(Q) 0.22600895,
# I2 29.33016758, Tau2 0, Z 2.53211477, P(Z) 0.01133769, df 4
FLEISS_REVMAN_POOLED = dict(estimate=-0.70938839, ci_lb=-1.25848502, ci_ub=-0.16029176, Q=5.66012379,
                            Q_pval=0.22600895, I2=29.33016758, zval=-2.53211477, pval=0.01133769)


def test_md_and_common_effect_match_revman5_export():
    cols = list(zip(*FLEISS_REVMAN))
    m1, sd1, n1, m2, sd2, n2 = (np.array(c, float) for c in cols[1:7])
    yi, vi = escalc("MD", m1i=m1, sd1i=sd1, n1i=n1, m2i=m2, sd2i=sd2, n2i=n2)
    np.testing.assert_allclose(yi, cols[7], atol=1e-12)
    np.testing.assert_allclose(np.sqrt(vi), cols[8], atol=6e-9)
    np.testing.assert_allclose(yi - 1.959963984540054 * np.sqrt(vi), cols[9], atol=6e-9)
    np.testing.assert_allclose(yi + 1.959963984540054 * np.sqrt(vi), cols[10], atol=6e-9)
    res = rma(yi, vi, method="FE", test="z").to_dict()
    np.testing.assert_allclose(res["weights"], cols[11], atol=6e-8)
    for key, printed in FLEISS_REVMAN_POOLED.items():
        ours = abs(res[key]) if key == "zval" else res[key]   # RevMan prints |Z|
        assert ours == pytest.approx(abs(printed) if key == "zval" else printed, abs=6e-8), key


# --------------------------------------------------------------------------------------------------
# RevMan 5 SMD (Hedges' adjusted g, J = 1 - 3/(4N - 9), var = N/(n1 n2) + g^2/(2(N - 3.94))), as printed
# by R meta, whose metacont(sm = "SMD") used exactly these RevMan 5 formulas (method.smd = "Hedges",
# exact.smd = FALSE) in the versions below.  No SMD printed by RevMan itself, with its inputs, was found
# in reach: the only RevMan files seen (R meta inst/extdata/Fleiss1993.rm5 and Fleiss93_CR.csv, GitHub
# guido-s/meta) either leave the SMD outcome uncalculated (EFFECT_SIZE="" in the .rm5) or hold MD only.
# --------------------------------------------------------------------------------------------------

def test_revman5_smd_matches_r_meta_full_precision_statsmodels():
    # statsmodels test suite, statsmodels/stats/tests/test_meta.py (GitHub statsmodels/statsmodels,
    # commit 0d34d1f6), class TestEffSmdMeta: data of the example in "Applied Meta-Analysis with R"
    # (Chen & Peace; the Carroll ... Young data of Borenstein et al. 2009, ch. 14) and the output of
    # R meta's `metacont(n.t, m.t, sd.t, n.c, m.c, sd.c, sm = "SMD")`, `rm$TE` and `rm$seTE**2`, printed
    # to 16-17 significant digits, so agreement is expected to ~1e-14 relative.  metafor's exact J
    # differs by ~5e-6 relative here, so this separates the RevMan formula from metafor's.
    data = [  # study, mean_t, sd_t, n_t, mean_c, sd_c, n_c
        ("Carroll", 94, 22, 60, 92, 20, 60), ("Grant", 98, 21, 65, 92, 22, 65),
        ("Peck", 98, 28, 40, 88, 26, 40), ("Donat", 94, 19, 200, 82, 17, 200),
        ("Stewart", 98, 21, 50, 88, 22, 45), ("Young", 96, 21, 85, 92, 22, 85),
    ]
    te = [0.09452437336063831, 0.27735640148036095, 0.36654634845797818, 0.66438509989113559,
          0.46180797677414176, 0.18516464424648887]
    se2 = [0.03337182573880991, 0.03107434965484927, 0.05088322525353587, 0.01055724834741877,
           0.04339324466573324, 0.02363264537147130]
    m1, s1, n1, m2, s2, n2 = (np.array(c, float) for c in list(zip(*data))[1:])
    yi, vi = escalc("SMD", vtype="REVMAN5", m1i=m1, sd1i=s1, n1i=n1, m2i=m2, sd2i=s2, n2i=n2)
    np.testing.assert_allclose(yi, te, rtol=1e-13)
    np.testing.assert_allclose(vi, se2, rtol=1e-13)
    exact, _ = escalc("SMD", m1i=m1, sd1i=s1, n1i=n1, m2i=m2, sd2i=s2, n2i=n2)
    assert np.max(np.abs(exact / np.array(te) - 1)) > 1e-6   # the exact J would not pass the line above


def test_revman5_smd_and_common_effect_match_printed_r_meta_fleiss1993cont():
    # Printed R output of meta 4.0-1, `metacont(n.e, mean.e, sd.e, n.c, mean.c, sd.c, sm = "SMD",
    # data = Fleiss93cont)`, reproduced in GitHub psygrammer/dsur, sp_meta/meta.md (commit 4adf929d),
    # section "3. 평균의 비교": SMD and 95%-CI to 4 decimals (tolerance 5e-5), %W(fixed) to 2 decimals
    # (5e-3), pooled "Fixed effect model -0.3434 [-0.6068; -0.08] z -2.555 p 0.0106" and "Q 3.68
    # d.f. 4 p 0.4515".  At 4 decimals these CIs also tell RevMan's variance from metafor's LS/UB ones
    # (Wilson: LS gives [-1.7469; 0.2780], UB [-1.7566; 0.2877], printed [-1.7575; 0.2883]).
    m1, s1, n1 = [5.0, 4.9, 22.5, 12.5, 6.5], [4.7, 1.71, 3.44, 1.47, 0.76], [13, 30, 35, 20, 8]
    m2, s2, n2 = [6.5, 6.1, 24.9, 12.3, 7.38], [3.8, 2.3, 10.65, 1.66, 1.41], [13, 50, 35, 20, 8]
    printed = [  # SMD, CI lower, CI upper, %W(fixed); Davis, Florell, Gruen, Hart, Wilson
        (-0.3399, -1.1152, 0.4354, 11.54), (-0.5659, -1.0274, -0.1044, 32.58),
        (-0.2999, -0.7712, 0.1714, 31.23), (0.1250, -0.4954, 0.7455, 18.02),
        (-0.7346, -1.7575, 0.2883, 6.63)]
    smd, lo, hi, w = (np.array(c) for c in zip(*printed))
    yi, vi = escalc("SMD", vtype="REVMAN5", m1i=m1, sd1i=s1, n1i=n1, m2i=m2, sd2i=s2, n2i=n2)
    z = 1.959963984540054
    np.testing.assert_allclose(yi, smd, atol=5e-5)
    np.testing.assert_allclose(yi - z * np.sqrt(vi), lo, atol=5e-5)
    np.testing.assert_allclose(yi + z * np.sqrt(vi), hi, atol=5e-5)
    res = rma(yi, vi, method="FE", test="z").to_dict()
    np.testing.assert_allclose(res["weights"], w, atol=5e-3)
    assert res["estimate"] == pytest.approx(-0.3434, abs=5e-5)
    assert (res["ci_lb"], res["ci_ub"]) == (pytest.approx(-0.6068, abs=5e-5), pytest.approx(-0.08, abs=5e-5))
    assert res["zval"] == pytest.approx(-2.555, abs=5e-4) and res["pval"] == pytest.approx(0.0106, abs=5e-5)
    assert res["Q"] == pytest.approx(3.68, abs=5e-3) and res["Q_pval"] == pytest.approx(0.4515, abs=5e-5)
    for vtype in ("LS", "UB"):   # metafor's J and variances would fail the 5e-5 tolerance above
        y, v = escalc("SMD", vtype=vtype, m1i=m1, sd1i=s1, n1i=n1, m2i=m2, sd2i=s2, n2i=n2)
        assert np.max(np.abs(y - z * np.sqrt(v) - lo)) > 5e-4


# --------------------------------------------------------------------------------------------------
# Luo et al. (2018), Stat Methods Med Res 27:1785: mean from the median and the range
# --------------------------------------------------------------------------------------------------

def test_luo_mean_from_median_and_range_metablue_example():
    # R package metaBLUE 1.0.0, help page Luo.mean ("Luo et al.'s mean estimators", citing Luo et al.,
    # arXiv:1505.05687), example `Luo.mean(X = c(1, 4, 10), n = 30, type = "S1")` (min, median, max),
    # with its example output "$muhat [1] 4.356748" as rendered on rdrr.io/cran/metaBLUE/man/Luo.mean.html;
    # source cran/metaBLUE R/BLUE.R (commit 796708a5): w = 4 / (4 + n^0.75), Luo et al. eq. (7).
    # Printed to 7 significant digits: tolerance 5e-7.  (metaBLUE's Wan.std example is not used: it
    # takes Blom's formula for xi(n) at n = 30, where Wan et al. and R meta use Table 1.)
    mean, _ = mean_sd_from_median(4.0, 30, minimum=1.0, maximum=10.0)
    assert mean == pytest.approx(4.356748, abs=5e-7)
    # No published numeric example was found for the S3 (five-number) weights; they are checked against the
    # formulas in test_effects.py.  S2 (quartiles): the next test.


# R meta 4.x output printed in a published analysis: GitHub ElenaShekhova/Meta-anlaysis, meta_analysis1.md
# (commit 193b36fc), "Age as a risk factor for IA": metacont(n.e, mean.e, sd.e, n.c, mean.c, sd.c,
# median.e, q1.e, q3.e, median.c, q1.c, q3.c, method.mean = "Luo", method.sd = "Shi", sm = "SMD",
# method.smd = "Hedges").  Inputs from the document's str() printout (n_IA, md/R1/R2 = median, q1, q3;
# m_age/SD) and its table of total sample sizes (n_noIA = total - n_IA); outputs: the printed SMD and
# 95% CI, to 4 decimals.  That version of R meta took the SD from the IQR as IQR / eta with eta =
# 2 qnorm((0.75 n - 0.125) / (n + 0.25)) for n > 50 and its Wan2014.Table2 vector indexed by n itself
# below (mean.sd.iqr: `.settings$Wan2014.Table2[n]`); current R meta (and this library) index Wan et al.'s
# Table 2 by Q = ceiling((n - 1) / 4), as the table is laid out (n = 4Q + 1).  The SD rule of that version is
# therefore written out here; the means are this library's Luo et al. (2018) S2 estimates, and the SMD is
# this library's RevMan 5 SMD (R meta's method.smd = "Hedges" with its default exact.smd = FALSE).
SHEKHOVA_META = [
    # study, (n, median, q1, q3) or (n, mean, sd) per arm: IA (arm 1), no IA (arm 2); printed SMD, CI
    ("Razazi, K", (24, 68, 59, 74), (148, 60, 52, 69), 0.5219, 0.0870, 0.9568),
    ("Bellelli, V", (5, 59, 58, 71), (72, 53, 26.5, 75), 0.3283, -0.5797, 1.2363),
    ("Chen, L", (21, 67, 61, 82), (672, 60, 36, 76), 0.4428, 0.0079, 0.8778),
    ("Seok, H", (26, 58, 54, 62), (52, 50, 38, 56), 0.8523, 0.3619, 1.3427),
    ("Chauvet, P", (6, 66.5, 6.78), (40, 66, 55.5, 70), 0.2636, -0.5963, 1.1236),
]


def test_luo_mean_from_median_and_quartiles_in_printed_r_meta_output():
    from statistics import NormalDist

    def arm(values):
        if len(values) == 3:  # reported as mean and SD
            return values
        n, median, q1, q3 = values
        mean, _ = mean_sd_from_median(median, n, q1=q1, q3=q3)  # Luo et al. (2018) S2
        eta = 2 * NormalDist().inv_cdf((0.75 * n - 0.125) / (n + 0.25)) if n > 50 else _WAN_ETA[n - 1]
        return n, mean, (q3 - q1) / eta

    def smd_ci(arm1, arm2):
        (n1, m1, sd1), (n2, m2, sd2) = arm1, arm2
        yi, vi = escalc("SMD", vtype="REVMAN5", m1i=np.array([m1]), sd1i=np.array([sd1]), n1i=np.array([n1]),
                        m2i=np.array([m2]), sd2i=np.array([sd2]), n2i=np.array([n2]))
        half = 1.959963984540054 * math.sqrt(vi[0])
        return yi[0], yi[0] - half, yi[0] + half

    for study, arm1, arm2, smd, lo, hi in SHEKHOVA_META:
        assert smd_ci(arm(arm1), arm(arm2)) == pytest.approx((smd, lo, hi), abs=5.1e-5), study
    # the check tells the mean estimators apart: with Wan et al.'s (q1 + median + q3) / 3 for the means,
    # Razazi's SMD would be 0.5293, not the printed 0.5219
    study, arm1, arm2, smd, _, _ = SHEKHOVA_META[0]
    (n1, _, sd1), (n2, _, sd2) = arm(arm1), arm(arm2)
    wan = smd_ci((n1, sum(arm1[1:]) / 3, sd1), (n2, sum(arm2[1:]) / 3, sd2))[0]
    assert abs(wan - smd) > 0.007


# --------------------------------------------------------------------------------------------------
# SE to SD, and combining groups (Cochrane Handbook 6.5.2.2 and Table 6.5.a): StatsToDo worked example
# --------------------------------------------------------------------------------------------------

# StatsToDo, "Combine Means and SDs Into One Group Program" (www.statstodo.com/CombineMeansSDs.php and
# CombineMeansSDs_Pgm.php; the page cites Cochrane Handbook chapter 6, section 6.5.2): example groups
# (n, mean, SD) and its printed results, 4 decimals.
STATSTODO_GROUPS = [(10, 11.8, 2.4), (20, 15.3, 3.2), (15, 8.4, 4.1)]


def test_combine_groups_statstodo_worked_example():
    # "Combined 45 12.2222 4.5028", by the sums of x and x^2 and, identically, by "Cochrane's formula"
    # (Handbook Table 6.5.a) applied to groups 1 and 2, then the result with group 3.  Printed to 4
    # decimals: tolerance 5e-5.  Both orders of combination give the same result.
    (na, ma, sa), (nb, mb, sb), (nc, mc, sc) = STATSTODO_GROUPS
    n, m, s = combine_arms(*combine_arms(na, ma, sa, nb, mb, sb), nc, mc, sc)
    assert n == 45 and m == pytest.approx(12.2222, abs=5e-5) and s == pytest.approx(4.5028, abs=5e-5)
    n, m, s = combine_arms(nc, mc, sc, *combine_arms(nb, mb, sb, na, ma, sa))
    assert n == 45 and m == pytest.approx(12.2222, abs=5e-5) and s == pytest.approx(4.5028, abs=5e-5)
    # the same page's intermediate sums: sum x = 550, sum x^2 = 7614.34 (exact decimal inputs)
    assert sum(k * mu for k, mu, _ in STATSTODO_GROUPS) == pytest.approx(550, abs=1e-9)
    assert sum(sd ** 2 * (k - 1) + k * mu ** 2 for k, mu, sd in STATSTODO_GROUPS) == pytest.approx(7614.34, abs=1e-9)


def test_sd_from_se_statstodo_worked_example():
    # Same page, meta-analysis table: per-group SE = SD / sqrt(n) printed as 0.7589, 0.7155, 1.0586, and
    # the pooled results converted back with "SD = SE x sqrt(t_n)", t_n = 45: "Fixed Effect Model 45
    # 12.6299 3.1341 0.4672" and "Random Effect Model 45 11.8975 12.6684 1.8885" (n, mean, SD, SE).
    # The printed SDs are the printed SEs times sqrt(45) (from the full-precision SEs they would be 3.1340
    # and 12.6686), so sd_from_se is applied to the printed SEs: tolerance 5e-5 (SD printed to 4
    # decimals).  Going from a printed SE (error <= 5e-5) back to the group SD allows 5e-5 * sqrt(n).
    assert sd_from_se(0.4672, 45) == pytest.approx(3.1341, abs=5e-5)
    assert sd_from_se(1.8885, 45) == pytest.approx(12.6684, abs=5e-5)
    for (k, _, sd), se in zip(STATSTODO_GROUPS, (0.7589, 0.7155, 1.0586)):
        assert sd_from_se(se, k) == pytest.approx(sd, abs=5e-5 * math.sqrt(k))
        assert round(sd / math.sqrt(k), 4) == se
    # the pooled means and SEs of that table are a common-effect and a DerSimonian-Laird pool of the
    # three group means with variances SE^2 (4 decimals: tolerance 5e-5)
    k, mu, sd = (np.array(c, float) for c in zip(*STATSTODO_GROUPS))
    for method, est, se in (("FE", 12.6299, 0.4672), ("DL", 11.8975, 1.8885)):
        res = rma(mu, sd ** 2 / k, method=method, test="z").to_dict()
        assert res["estimate"] == pytest.approx(est, abs=5e-5) and res["se"] == pytest.approx(se, abs=5e-5)


# --------------------------------------------------------------------------------------------------
# Splitting a shared control group (Cochrane Handbook 23.3.4)
# --------------------------------------------------------------------------------------------------

def test_split_shared_control_harrer_example():
    # Harrer, Cuijpers, Furukawa & Ebert, "Doing Meta-Analysis in R", first online edition, section
    # "Multiple comparisons" (bookdown.org/MathiasHarrer/Doing_Meta_Analysis_in_R/i.html, 15.9; source
    # GitHub MathiasHarrer/Doing-Meta-Analysis-in-R, 13-Effectsizeconverter.Rmd, commit 260f4048):
    # "if your control group has N = 50 participants, you could divide the control group into two
    # control groups with the same mean and standard deviation, and N = 25 participants each."  Exact.
    assert split_shared_control(50, 2) == [25, 25]
    # "same mean and standard deviation": each comparison uses the shared arm's mean and SD with the
    # split n, so the MD is unchanged and its variance uses n = 25 for the control arm
    yi, vi = escalc("MD", m1i=[12.0, 13.0], sd1i=[4.0, 5.0], n1i=[40, 40], m2i=10.0, sd2i=3.0,
                    n2i=split_shared_control(50, 2))
    np.testing.assert_allclose(yi, [2.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(vi, [16 / 40 + 9 / 25, 25 / 40 + 9 / 25], rtol=1e-15)
