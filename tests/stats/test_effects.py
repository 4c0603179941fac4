"""Effect sizes and conversions (metafor's escalc() is checked in test_metafor.py; these are the rest)."""

import math

import numpy as np
import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.stats import (combine_arms, escalc, mean_sd_from_median, sd_from_ci, sd_from_se,
                              split_shared_control)

ARMS = dict(m1i=[10.0, 12.0], sd1i=[2.0, 3.0], n1i=[8, 10], m2i=[8.0, 9.0], sd2i=[2.0, 2.5], n2i=[8, 9])


def test_se_input_equals_sd_input():
    se = dict(ARMS)
    se["se1i"] = [s / math.sqrt(n) for s, n in zip(se.pop("sd1i"), ARMS["n1i"])]
    se["se2i"] = [s / math.sqrt(n) for s, n in zip(se.pop("sd2i"), ARMS["n2i"])]
    for measure in ("SMD", "MD", "ROM"):
        a = escalc(measure, **ARMS)
        b = escalc(measure, **se)
        np.testing.assert_allclose(a, b, rtol=1e-13)
    with pytest.raises(ReviewInputError, match="either as SD or as SE"):
        escalc("MD", se1i=[1, 1], **ARMS)


def test_revman5_smd_formulas():
    # RevMan 5 statistical methods: g = d (1 - 3/(4N - 9)), SE^2 = N/(n1 n2) + g^2/(2 (N - 3.94)).
    # Checked here against the formulas; against published R meta output computed with these RevMan 5
    # formulas (statsmodels' recorded metacont values; meta 4.0-1 printout for Fleiss93cont) in
    # test_published_examples.py.  No SMD printed by RevMan itself, with its inputs, was found.
    yi, vi = escalc("SMD", vtype="REVMAN5", **ARMS)
    n1, n2 = 8, 8
    N = n1 + n2
    s = math.sqrt(((n1 - 1) * 4 + (n2 - 1) * 4) / (N - 2))
    g = (10 - 8) / s * (1 - 3 / (4 * N - 9))
    assert yi[0] == pytest.approx(g, rel=1e-14)
    assert vi[0] == pytest.approx(N / (n1 * n2) + g ** 2 / (2 * (N - 3.94)), rel=1e-14)
    exact, _ = escalc("SMD", **ARMS)   # exact J differs slightly from the approximation
    assert abs(exact[0] - yi[0]) < 1e-3 and exact[0] != yi[0]


def test_rom_bias_correction_lajeunesse_2015():
    yi, vi = escalc("ROM", correct=True, **ARMS)
    m1, s1, n1, m2, s2, n2 = 10.0, 2.0, 8, 8.0, 2.0, 8
    y = math.log(m1 / m2) + 0.5 * (s1 ** 2 / (n1 * m1 ** 2) - s2 ** 2 / (n2 * m2 ** 2))
    v = (s1 ** 2 / (n1 * m1 ** 2) + s2 ** 2 / (n2 * m2 ** 2)
         + 0.5 * (s1 ** 4 / (n1 ** 2 * m1 ** 4) + s2 ** 4 / (n2 ** 2 * m2 ** 4)))
    assert yi[0] == pytest.approx(y, rel=1e-14) and vi[0] == pytest.approx(v, rel=1e-14)
    with pytest.raises(ReviewInputError, match="study 'B': m2i must be > 0"):
        escalc("ROM", m1i=[1, 2], sd1i=[1, 1], n1i=[5, 5], m2i=[1, -2], sd2i=[1, 1], n2i=[5, 5], labels=["A", "B"])


def test_escalc_input_errors_name_the_study():
    with pytest.raises(ReviewInputError, match="study 'B': n1i must be > 0"):
        escalc("SMD", m1i=[1, 2], sd1i=[1, 1], n1i=[5, 0], m2i=[1, 2], sd2i=[1, 1], n2i=[5, 5], labels=["A", "B"])
    with pytest.raises(ReviewInputError, match="study 'A': sd1i is missing"):
        escalc("SMD", m1i=[1], sd1i=[float("nan")], n1i=[5], m2i=[1], sd2i=[1], n2i=[5], labels=["A"])
    with pytest.raises(ReviewInputError, match="m2i has 1 values but there are 2 studies"):
        escalc("MD", m1i=[1, 2], sd1i=[1, 1], n1i=[5, 5], m2i=[1], sd2i=[1, 1], n2i=[5, 5])
    with pytest.raises(ReviewInputError, match="unknown measure"):
        escalc("XYZ", **ARMS)
    with pytest.raises(ReviewInputError, match="needs its events"):   # OR from means: no events given
        escalc("OR", **ARMS)
    yi, vi = escalc("SMD", na="keep", m1i=[1, None], sd1i=[1, 1], n1i=[5, 5], m2i=[0, 2], sd2i=[1, 1], n2i=[5, 5])
    assert np.isfinite(yi[0]) and np.isnan(yi[1]) and np.isnan(vi[1])


def test_sd_from_se_identity():
    # Cochrane Handbook 6.5.2.2: SD = SE x sqrt(N), an identity, checked as such here (and against the CI
    # route with z = 1.96); the StatsToDo worked example (printed SEs and SDs) is in
    # test_published_examples.py.
    assert sd_from_se(2.4, 25) == pytest.approx(2.4 * 5, rel=1e-15)
    np.testing.assert_allclose(sd_from_se([1.0, 0.5], [16, 100]), [4.0, 5.0], rtol=1e-15)
    se, n = 0.7, 400
    assert sd_from_ci(10 - 1.959963984540054 * se, 10 + 1.959963984540054 * se, n) == pytest.approx(
        sd_from_se(se, n), rel=1e-12)
    # the CI route's published divisors (3.92, 3.29, 5.15, t for small n) are in test_published_examples.py


def test_mean_sd_from_median_luo_weights_and_large_sample_recovery():
    # Luo et al. (2018) weights for S1, S2, S3 as written in the paper (and in R meta's mean.sd.range(),
    # mean.sd.iqr(), mean.sd.iqr.range()).  Published numeric examples were found for S1 (metaBLUE's
    # Luo.mean example output) and S2 (R meta output printed in a published analysis), both in
    # test_published_examples.py; none for S3, which is checked here against the formulas.  The SD
    # constants are checked against Wan et al.'s tables there too.
    n = 40
    mean, sd = mean_sd_from_median(20.0, n, q1=15.0, q3=27.0)
    w = 0.7 + 0.39 / n
    assert mean == pytest.approx(w * 21.0 + (1 - w) * 20.0, rel=1e-12)
    assert sd == pytest.approx(12.0 / 1.303, rel=1e-12)   # Wan Table 2, Q = ceil(39/4) = 10
    m1, _ = mean_sd_from_median(20.0, n, minimum=5.0, maximum=50.0)
    w1 = 4 / (4 + n ** 0.75)
    assert m1 == pytest.approx(w1 * 27.5 + (1 - w1) * 20.0, rel=1e-12)
    m3, _ = mean_sd_from_median(20.0, n, q1=15.0, q3=27.0, minimum=5.0, maximum=50.0)
    a, b = 2.2 / (2.2 + n ** 0.75), 0.7 - 0.72 / n ** 0.55
    assert m3 == pytest.approx(a * 27.5 + b * 21.0 + (1 - a - b) * 20.0, rel=1e-12)
    # the estimators recover the mean and SD of a large normal sample (all three scenarios)
    rng = np.random.default_rng(3)
    x = rng.normal(50, 10, 20001)
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    for kw in ({"q1": q1, "q3": q3}, {"minimum": x.min(), "maximum": x.max()},
               {"q1": q1, "q3": q3, "minimum": x.min(), "maximum": x.max()}):
        m, s = mean_sd_from_median(med, x.size, **kw)
        assert m == pytest.approx(50, abs=0.3) and s == pytest.approx(10, rel=0.06)
    with pytest.raises(ReviewInputError):
        mean_sd_from_median(20.0, 10)
    with pytest.raises(ReviewInputError, match="at least 2"):
        mean_sd_from_median(20.0, 1, minimum=1, maximum=30)


def test_combine_arms_equals_pooling_the_raw_data():
    # Cochrane Handbook Table 6.5.a.  The formula is exact (it is the mean and SD of the pooled raw data),
    # so it is checked against pooling raw data; the StatsToDo worked example (three groups, printed
    # combined mean and SD) is in test_published_examples.py.
    rng = np.random.default_rng(5)
    a, b = rng.normal(10, 2, 13), rng.normal(12, 3, 9)
    n, m, s = combine_arms(a.size, a.mean(), a.std(ddof=1), b.size, b.mean(), b.std(ddof=1))
    both = np.concatenate([a, b])
    assert n == 22 and m == pytest.approx(both.mean(), rel=1e-13) and s == pytest.approx(both.std(ddof=1), rel=1e-12)


def test_split_shared_control():
    # Cochrane Handbook 23.3.4 (split the shared group's n, keep its mean and SD).  The published example
    # (Harrer et al., Doing Meta-Analysis in R: N = 50 -> 25 + 25) is in test_published_examples.py; the
    # rounding of odd sizes below is this library's convention (no published rule found), and the split is
    # exercised on dat.haeuser2009 against metafor in test_metafor.py.
    assert split_shared_control(10, 3) == [4, 3, 3]
    assert split_shared_control(12, 2) == [6, 6]
    with pytest.raises(ReviewInputError, match="cannot split"):
        split_shared_control(2, 3)
