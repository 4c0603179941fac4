"""Vote counting on the direction of effect: the sign test and the Clopper-Pearson interval against R's
binom.test (validation/swim/binom_test.json, written by validation/swim/binom_test.R) and scipy."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy.stats import binomtest

from livingmeta.synthesis.vote import clopper_pearson, overall_direction, sign_test, vote

REFERENCE = Path(__file__).resolve().parents[2] / "validation" / "swim" / "binom_test.json"
CASES = json.loads(REFERENCE.read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['x']}of{c['n']}")
def test_sign_test_and_interval_match_r_binom_test(case):
    x, n = case["x"], case["n"]
    assert sign_test(x, n - x) == pytest.approx(case["p_value"], rel=1e-12, abs=1e-15)
    lb, ub = clopper_pearson(x, n)
    assert lb == pytest.approx(case["ci_lb"], rel=1e-9, abs=1e-12)
    assert ub == pytest.approx(case["ci_ub"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("x,n", [(0, 1), (2, 7), (9, 13), (15, 15), (33, 60)])
def test_sign_test_and_interval_match_scipy(x, n):
    ref = binomtest(x, n, 0.5)
    ci = ref.proportion_ci(0.95, method="exact")
    assert sign_test(x, n - x) == pytest.approx(ref.pvalue, rel=1e-12)
    assert clopper_pearson(x, n) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)


def test_vote_counts_only_benefit_and_harm():
    v = vote(["benefit"] * 7 + ["harm"] * 3 + ["no_clear_difference", "mixed", "mixed"])
    assert (v["k"], v["benefit"], v["harm"], v["no_clear_difference"], v["mixed"], v["voting"]) == (13, 7, 3, 1, 2, 10)
    assert v["proportion"] == 0.7
    assert v["sign_test_p"] == pytest.approx(0.34375000000000011)   # binom.test(7, 10)
    assert v["ci_lb"] == pytest.approx(0.34754714994000269)


def test_no_votes_gives_no_test():
    v = vote(["no_clear_difference", "mixed"])
    assert v["voting"] == 0 and v["proportion"] is None and v["sign_test_p"] is None and v["ci_lb"] is None


def test_overall_direction_of_a_study():
    assert overall_direction(["benefit", "benefit", "no_clear_difference"]) == "benefit"
    assert overall_direction(["harm"]) == "harm"
    assert overall_direction(["benefit", "harm"]) == "mixed"
    assert overall_direction(["benefit", "mixed"]) == "mixed"
    assert overall_direction(["no_clear_difference"]) == "no_clear_difference"
