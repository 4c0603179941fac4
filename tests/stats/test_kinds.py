"""Measures beyond continuous arms: the measure table, NMD, generic inverse variance, 2x2 input checks.

metafor comparisons of OR/RR/RD/PETO, rma.mh() and rma.peto() are in test_metafor.py (binary_*.json)."""

import math

import numpy as np
import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.stats import escalc, generic_effect, measures, rma_mh, rma_peto
from livingmeta.stats.binary import escalc_2x2


def test_measure_table_scales_and_nulls():
    assert measures.get("or").scale == "log" and measures.get("OR").null == 1.0
    assert measures.get("RD").scale == "raw" and measures.get("RD").null == 0.0
    assert measures.get("ROM").ratio and measures.get("HR").kind == "generic"
    assert measures.get("OR").accepts("generic") and not measures.get("OR").accepts("continuous")
    with pytest.raises(ReviewInputError, match="unknown effect measure"):
        measures.get("XYZ")


def test_mh_and_peto_need_their_measures():
    measures.check_method(measures.get("RR"), "MH")
    measures.check_method(measures.get("PETO"), "PETO")
    measures.check_method(measures.get("SMD"), "REML")
    with pytest.raises(ReviewInputError, match="cannot pool"):
        measures.check_method(measures.get("SMD"), "MH")
    with pytest.raises(ReviewInputError, match="cannot pool"):
        measures.check_method(measures.get("OR"), "PETO")


def test_back_transform_adds_exp_keys_for_ratios_only():
    doc = {"estimate": math.log(0.5), "ci_lb": math.log(0.25), "ci_ub": 0.0, "pi_lb": None, "pi_ub": None}
    measures.back_transform(doc, "OR")
    assert doc["scale"] == "log" and doc["estimate_exp"] == pytest.approx(0.5)
    assert doc["ci_lb_exp"] == pytest.approx(0.25) and doc["ci_ub_exp"] == 1.0 and doc["pi_lb_exp"] is None
    raw = measures.back_transform({"estimate": 0.1}, "RD")
    assert raw["scale"] == "raw" and "estimate_exp" not in raw


def test_nmd_by_hand():
    # Vesterinen et al. (2014) eq.: yi = 100 (m1 - m2) / |m2 - ms|, vi = (100/|m2 - ms|)^2 (sd1^2/n1 + sd2^2/n2)
    # infarct volume: sham 0, control 100, treatment 70 -> -30 % (30 % improvement once flipped)
    yi, vi = escalc("NMD", 70, 20, 10, 100, 25, 12, sham_mi=0)
    assert yi[0] == pytest.approx(-30.0)
    assert vi[0] == pytest.approx(1.0 * (20 ** 2 / 10 + 25 ** 2 / 12))
    # disc height: sham 90, control 60, treatment 75 (higher is better): +50 % of the lesion's effect
    yi, vi = escalc("NMD", 75, 6, 8, 60, 5, 8, sham_mi=90)
    assert yi[0] == pytest.approx(50.0)
    assert vi[0] == pytest.approx((100 / 30) ** 2 * (36 / 8 + 25 / 8))
    with pytest.raises(ReviewInputError, match="sham_mi"):
        escalc("NMD", 75, 6, 8, 60, 5, 8)
    with pytest.raises(ReviewInputError, match="control mean equals the sham mean"):
        escalc("NMD", 75, 6, 8, 60, 5, 8, sham_mi=60)


def test_generic_from_ci_ratio_and_difference():
    # HR 0.75 (95% CI 0.60 to 0.94): SE of log HR = (log 0.94 - log 0.60) / (2 * 1.959964)
    yi, vi = generic_effect(0.75, ci_lb=0.60, ci_ub=0.94, scale="ratio")
    assert yi == pytest.approx(math.log(0.75))
    assert math.sqrt(vi) == pytest.approx((math.log(0.94) - math.log(0.60)) / (2 * 1.959963984540054))
    yi, vi = generic_effect(-2.5, ci_lb=-4.1, ci_ub=-0.9, scale="difference")
    assert yi == -2.5 and math.sqrt(vi) == pytest.approx(3.2 / (2 * 1.959963984540054))
    yi, vi = generic_effect(1.2, se=0.3, scale="difference")
    assert vi == pytest.approx(0.09)


@pytest.mark.parametrize("kwargs, match", [
    ({"estimate": 0.0, "se": 0.2, "scale": "ratio"}, "must be > 0"),
    ({"estimate": 2.0, "ci_lb": 0.5, "ci_ub": 1.5, "scale": "ratio"}, "does not contain"),
    ({"estimate": 1.0, "ci_lb": 1.5, "ci_ub": 0.5, "scale": "difference"}, "not below"),
    ({"estimate": 0.75, "se": 0.17, "ci_lb": 0.60, "ci_ub": 0.94, "scale": "ratio"}, "disagrees"),
    ({"estimate": 1.0, "scale": "difference"}, "standard error"),
    ({"estimate": 1.0, "se": 0.1, "scale": "log"}, "unknown scale"),
])
def test_generic_bad_input(kwargs, match):
    with pytest.raises(ReviewInputError, match=match):
        generic_effect(**kwargs)


def test_generic_se_and_ci_that_agree_are_accepted():
    se_ci = (math.log(0.94) - math.log(0.60)) / (2 * 1.959963984540054)
    yi, vi = generic_effect(0.75, se=round(se_ci, 3), ci_lb=0.60, ci_ub=0.94, scale="ratio")
    assert math.sqrt(vi) == round(se_ci, 3)


@pytest.mark.parametrize("ai, n1i, match", [
    (12, 10, "more than"), (-1, 10, ">= 0"), (2.5, 10, "whole number"), (float("nan"), 10, "missing"),
])
def test_2x2_bad_counts(ai, n1i, match):
    with pytest.raises(ReviewInputError, match=match):
        escalc_2x2("OR", [ai, 3], [4, 5], n1i=[n1i, 20], n2i=[20, 20], labels=["Smith 2001", "Jones 2002"])


def test_double_zero_dropped_for_ratio_kept_for_rd():
    yi, vi = escalc_2x2("OR", [0, 3], [0, 5], n1i=[10, 20], n2i=[12, 20], drop00=True)
    assert math.isnan(yi[0]) and np.isfinite(yi[1])
    yi, vi = escalc_2x2("RD", [0, 3], [0, 5], n1i=[10, 20], n2i=[12, 20], drop00=False)
    # kept, with 1/2 added to every cell as metafor does: p1 = 0.5/11, p2 = 0.5/13
    assert yi[0] == pytest.approx(0.5 / 11 - 0.5 / 13)
    assert vi[0] == pytest.approx(0.5 / 11 * (1 - 0.5 / 11) / 11 + 0.5 / 13 * (1 - 0.5 / 13) / 13)


def test_mh_rejects_continuous_measure_and_peto_without_events():
    with pytest.raises(ReviewInputError, match="Mantel-Haenszel"):
        rma_mh([1, 2], [2, 3], n1i=[10, 10], n2i=[10, 10], measure="SMD")
    with pytest.raises(ReviewInputError, match="never occurred"):
        rma_peto([0, 0], [0, 0], n1i=[10, 10], n2i=[10, 10])
