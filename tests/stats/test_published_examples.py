"""Effect sizes and conversions checked against numbers printed in published sources.

Each test names its source (document, section/table), the input, the printed output, the rounding of the
printed output and the tolerance that rounding implies.  Conversions for which no published numeric
example was found are tested elsewhere (test_effects.py) by exact identities only, and say so.
"""

import math

import numpy as np
import pytest

from livingmeta.stats import escalc, mean_sd_from_median, rma, sd_from_ci
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
