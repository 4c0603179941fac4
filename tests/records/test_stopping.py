"""The hypergeometric stopping rule (Callaghan & Müller-Hansen 2020) against hand-computed values."""
from math import comb

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.records.stopping import (h0_pvalues, k_tar, remaining_upper_bound, simulate_stopping,
                                         stopping_state)


def test_k_tar_by_hand():
    # 10 includes seen, all before the sample, target 0.8: recall < 0.8 needs > 10/0.8 = 12.5 includes
    # in total, i.e. at least 3 more in the urn: floor(12.5 - 10 + 1) = 3
    assert k_tar(10, 10, 0.8) == 3
    # 19 seen, 17 before the sample, target 0.95: 19/0.95 = 20 -> floor(20 - 17 + 1) = 4 (recall 19/21)
    assert k_tar(19, 17, 0.95) == 4


def test_pvalue_of_a_window_by_hand():
    # 10 includes then 10 excludes, 50 records, target 0.8. The last 10 records as the sample: k = 0,
    # urn = 50 - 10 = 40 records holding K = 3 includes under H0:
    # P(X = 0) = C(37, 10) / C(40, 10) = (30 * 29 * 28) / (40 * 39 * 38)
    pv = dict(h0_pvalues([True] * 10 + [False] * 10, 50, 0.8))
    assert pv[10] == pytest.approx(comb(37, 10) / comb(40, 10))
    assert pv[10] == pytest.approx(30 * 29 * 28 / (40 * 39 * 38))
    # the last record alone: urn of 31 records with 3 includes, P(X = 0) = 28/31
    assert pv[1] == pytest.approx(28 / 31)
    # a window reaching into the includes: k = 1, r_before = 9, K = floor(12.5 - 9 + 1) = 4, urn 41, n = 11
    p11 = (comb(37, 11) + comb(4, 1) * comb(37, 10)) / comb(41, 11)
    assert pv[11] == pytest.approx(p11)


def test_state_may_not_stop_early_but_may_after_a_long_run_of_excludes():
    st = stopping_state(["include"] * 10 + ["exclude"] * 10, 50, recall_target=0.8, confidence=0.95)
    assert st["sample_size"] == 10 and st["p_value"] == pytest.approx(30 * 29 * 28 / (40 * 39 * 38))
    assert st["may_stop"] is False
    # 60 excludes after the 10 includes, 100 records: last 60 as sample, urn 90 with 3 includes:
    # C(87, 60) / C(90, 60) = 30 * 29 * 28 / (90 * 89 * 88) = 0.0346 < 0.05
    st = stopping_state([1] * 10 + [0] * 60, 100, recall_target=0.8, confidence=0.95)
    assert st["p_value"] == pytest.approx(30 * 29 * 28 / (90 * 89 * 88))
    assert st["sample_size"] == 60 and st["may_stop"] is True
    assert st["n_unscreened"] == 30 and st["includes_found"] == 10
    # at 99 % confidence the same evidence is not enough
    assert stopping_state([1] * 10 + [0] * 60, 100, recall_target=0.8, confidence=0.99)["may_stop"] is False


def test_upper_bound_on_remaining_includes_by_hand():
    # 0 includes in the last 60 of 90 candidate records (30 unscreened): the bound is the largest R with
    # P(X = 0; 90, R, 60) = C(90 - R, 60) / C(90, 60) >= 0.05
    R = remaining_upper_bound(0, 60, 30, 0.05)
    assert comb(90 - R, 60) / comb(90, 60) >= 0.05
    assert comb(90 - R - 1, 60) / comb(90, 60) < 0.05
    assert remaining_upper_bound(0, 10, 0, 0.05) == 0


def test_everything_screened_may_stop_and_recall_is_one():
    st = stopping_state([1, 0, 1, 0], 4)
    assert st["may_stop"] and st["n_unscreened"] == 0 and st["recall_lower"] == 1.0


def test_bad_input_names_the_field():
    with pytest.raises(ReviewInputError) as e:
        stopping_state(["include", "maybe"], 10)
    assert "decision 2" in str(e.value)
    with pytest.raises(ReviewInputError):
        stopping_state([1, 0, 0], 2)
    with pytest.raises(ReviewInputError):
        stopping_state([1, 0], 10, recall_target=1.5)


def test_simulated_stop_keeps_recall_on_a_well_ranked_order():
    # 500 records, 20 includes all ranked in the first 60: the rule stops after a run of excludes, with
    # every include found and records left unscreened
    labels = [i < 60 and i % 3 == 0 for i in range(500)]
    out = simulate_stopping(list(range(500)), labels, recall_target=0.95, confidence=0.95)
    assert out["recall"] == 1.0
    assert 60 < out["stopped_at"] < 500 and out["unscreened"] == 500 - out["stopped_at"]
    # random-looking order (includes spread evenly): no early stop before most records are screened
    spread = [i % 25 == 0 for i in range(500)]
    out = simulate_stopping(list(range(500)), spread, recall_target=0.95, confidence=0.95)
    assert out["recall"] >= 0.95


def test_methods_text_states_rule_and_unscreened_only_when_stopped():
    from livingmeta.records.stopping import methods_text

    st = stopping_state([1] * 10 + [0] * 60, 100, recall_target=0.8, confidence=0.95)
    stopped = methods_text(st, stopped=True)
    assert "Callaghan & Müller-Hansen (2020)" in stopped and "30 records were left unscreened" in stopped
    assert "at least 80%" in stopped
    going = methods_text(st, stopped=False)
    assert "left unscreened" not in going and "30 records remain" in going
