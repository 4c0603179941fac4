"""GRADE proposal: each rule at the boundary of its threshold, on constructed analyses; decisions."""
from __future__ import annotations

import math

import pytest

from livingmeta.certainty import grade
from livingmeta.certainty.decisions import assess, parse_decisions
from livingmeta.errors import ReviewInputError

ROB = {"studies": {s: {"d1": {"judgement": j1}, "d2": {"judgement": j2}} for s, j1, j2 in
                   [("a", "low", "low"), ("b", "low", "unclear"), ("c", "high", "low"), ("d", "low", "low")]}}


def analysis(**kw):
    base = {"analysis": "pain__12_weeks", "outcome": "pain", "k": 4, "I2": 10.0, "pi_lb": 0.1, "pi_ub": 0.9,
            "estimate": 0.5, "ci_lb": 0.2, "ci_ub": 0.8, "kinds": ["continuous"], "small_study": {"assessed": False},
            "studies": [{"study": s, "weight": 25.0, "n1i": 60, "n2i": 60, "ci_lb": 0.0, "ci_ub": 1.0}
                        for s in "abcd"]}
    base.update(kw)
    return base


def weights(**w):
    return [{"study": s, "weight": x, "n1i": 60, "n2i": 60} for s, x in w.items()]


def test_study_risk_uses_overall_else_most_severe_item():
    assert grade.study_risk(ROB, "a") == "low"
    assert grade.study_risk(ROB, "b") == "concerns"
    assert grade.study_risk(ROB, "c") == "high"
    assert grade.study_risk(ROB, "zz") is None
    rob = {"studies": ROB["studies"], "overall": {"c": {"judgement": "some_concerns"}}}
    assert grade.study_risk(rob, "c") == "concerns"       # the tool's overall judgement wins
    assert grade.study_risk({"overall": {"x": {"judgement": "serious"}}}, "x") == "high"   # ROBINS-I


@pytest.mark.parametrize("w, expected", [
    (dict(a=50, c=50), 2),                      # high exactly half the weight
    (dict(a=50.02, c=49.98), 0),                # high just under half, nothing unclear
    (dict(a=50, b=0.01, c=49.99), 1),           # high + unclear exactly half
    (dict(a=50.02, b=0.01, c=49.97), 0),        # high + unclear just under half
])
def test_risk_of_bias_half_of_the_weight(w, expected):
    assert grade.risk_of_bias(analysis(studies=weights(**w)), ROB)["downgrade"] == expected


def test_risk_of_bias_without_assessment():
    assert grade.risk_of_bias(analysis(), None)["downgrade"] == 0
    assert "not assessed" in grade.risk_of_bias(analysis(), None)["reason"]


@pytest.mark.parametrize("i2, pi, expected", [
    (49.99, (-0.5, 1.0), 0), (50.0, (-0.5, 1.0), 1), (50.0, (0.01, 1.0), 0),
    (74.99, (-2.0, 2.0), 1), (75.0, (-2.0, 2.0), 2), (80.0, (0.0, 2.0), 1),
])
def test_inconsistency_thresholds(i2, pi, expected):
    a = analysis(I2=i2, pi_lb=pi[0], pi_ub=pi[1])
    assert grade.inconsistency(a, 0.0)["downgrade"] == expected


def test_inconsistency_with_a_mid_needs_benefit_and_harm():
    a = analysis(I2=80.0, pi_lb=-0.1, pi_ub=1.0)
    assert grade.inconsistency(a, 0.0, (-0.2, 0.2))["downgrade"] == 1   # PI does not reach -MID
    a = analysis(I2=80.0, pi_lb=-0.2, pi_ub=1.0)
    assert grade.inconsistency(a, 0.0, (-0.2, 0.2))["downgrade"] == 2


def test_inconsistency_single_study_and_no_pi():
    assert grade.inconsistency(analysis(k=1), 0.0)["downgrade"] == 0
    rows = [{"study": "a", "ci_lb": 0.1, "ci_ub": 0.5}, {"study": "b", "ci_lb": -0.3, "ci_ub": 0.2}]
    a = analysis(I2=60.0, pi_lb=None, pi_ub=None, studies=rows)
    assert grade.inconsistency(a, 0.0)["downgrade"] == 1


@pytest.mark.parametrize("ci, n, expected", [
    ((0.01, 0.8), 200, 0), ((0.0, 0.8), 200, 1), ((-0.1, 0.8), 199, 2), ((0.2, 0.8), 199, 1),
])
def test_imprecision_null_and_information_size(ci, n, expected):
    rows = [{"study": "a", "n1i": n // 2, "n2i": n - n // 2}, {"study": "b", "n1i": 100, "n2i": 100}]
    a = analysis(ci_lb=ci[0], ci_ub=ci[1], studies=rows)
    assert grade.imprecision(a, 0.0)["downgrade"] == expected   # 200 + n units against 400


def test_imprecision_dichotomous_counts_events_and_ois_is_configurable():
    rows = [{"study": "a", "ai": 100, "ci": 99, "n1i": 1000, "n2i": 1000},
            {"study": "b", "ai": 50, "ci": 50, "n1i": 1000, "n2i": 1000}]
    a = analysis(kinds=["dichotomous"], ci_lb=math.log(0.5), ci_ub=math.log(0.9), studies=rows)
    assert grade.imprecision(a, 0.0)["downgrade"] == 1               # 299 events < 300
    rows[0]["ai"] = 101
    assert grade.imprecision(a, 0.0)["downgrade"] == 0               # 300 events
    assert grade.imprecision(a, 0.0, ois={"events": 301})["downgrade"] == 1


def test_imprecision_against_a_ratio_mid():
    band = grade.thresholds(1.25, ratio=True)
    assert band == pytest.approx((-math.log(1.25), math.log(1.25)))
    assert grade.thresholds(0.8, ratio=True) == pytest.approx(band)
    big = [{"study": "a", "ai": 400, "ci": 400, "n1i": 9000, "n2i": 9000}]
    a = analysis(kinds=["dichotomous"], ci_lb=math.log(0.7), ci_ub=math.log(0.85), studies=big)
    assert grade.imprecision(a, 0.0, band)["downgrade"] == 1   # crosses 0.8
    a = analysis(kinds=["dichotomous"], ci_lb=math.log(0.6), ci_ub=math.log(0.79), studies=big)
    assert grade.imprecision(a, 0.0, band)["downgrade"] == 0


@pytest.mark.parametrize("k, p, expected", [(9, 0.001, 0), (10, 0.0999, 1), (10, 0.10, 0)])
def test_publication_bias_needs_ten_studies(k, p, expected):
    a = analysis(k=k, small_study={"assessed": True, "egger_se": {"pval": p}})
    assert grade.publication_bias(a)["downgrade"] == expected


def test_rating_floor_and_levels():
    assert grade.rating([0, 0, 0, 0, 0]) == "high"
    assert grade.rating([1, 0, 0, 0, 0]) == "moderate"
    assert grade.rating([1, 1, 0, 0, 0]) == "low"
    assert grade.rating([2, 2, 2, 0, 0]) == "very low"


def test_absolute_effect_for_a_risk_ratio():
    rows = [{"study": "a", "ai": 10, "ci": 20, "n1i": 100, "n2i": 100}]
    a = analysis(kinds=["dichotomous"], estimate=math.log(0.5), ci_lb=math.log(0.25), ci_ub=math.log(1.0),
                 studies=rows)
    out = grade.absolute_effect(a, "RR")
    assert out == {"control_per_1000": 200, "treatment_per_1000": 100, "difference_per_1000": -100,
                   "difference_lb": -150, "difference_ub": 0}
    odds = grade.absolute_effect(a, "OR")   # OR 0.5 at a 20 % risk: 0.5*0.2/(0.8+0.1) = 0.111
    assert odds["treatment_per_1000"] == 111
    assert grade.absolute_effect(analysis(), "SMD") is None


DECISIONS = {"assessments": [
    {"outcome": "pain", "decided_by": "AB", "domains": {"indirectness": {"downgrade": 1, "reason": "Older adults only."}}},
    {"analysis": "pain__12_weeks", "decided_by": "CD", "date": __import__("datetime").date(2026, 11, 30),
     "domains": {name: {"downgrade": 0, "reason": "checked"} for name in grade.DOMAINS if name != "indirectness"}},
]}


def test_decisions_confirm_and_override():
    decisions = parse_decisions(DECISIONS, "certainty.yaml", {"pain__12_weeks": "pain"})
    a = analysis(I2=60.0, pi_lb=-0.1)   # inconsistency proposed -1, decided 0
    c = assess(a, ROB, decisions)
    assert c["status"] == "confirmed" and c["decided_by"] == "AB; CD" and c["date"] == "2026-11-30"
    assert c["domains"]["inconsistency"]["proposed"] == 1 and c["domains"]["inconsistency"]["downgrade"] == 0
    assert c["domains"]["indirectness"]["downgrade"] == 1
    assert c["rating"] == "moderate"
    partial = assess(a, ROB, decisions[:1])
    # -1 indirectness (decided), -1 inconsistency and -1 risk of bias (half the weight high or unclear)
    assert partial["status"] == "proposed" and partial["rating"] == "very low"
    assert partial["proposed_rating"] == "low"


@pytest.mark.parametrize("entry, field", [
    ({"analysis": "nope", "decided_by": "x", "domains": {}}, "assessments[0].analysis"),
    ({"analysis": "pain__12_weeks", "outcome": "pain", "decided_by": "x", "domains": {}}, "assessments[0]"),
    ({"analysis": "pain__12_weeks", "domains": {}}, "assessments[0].decided_by"),
    ({"analysis": "pain__12_weeks", "decided_by": "x", "domains": {"bias": {"downgrade": 1, "reason": "r"}}},
     "assessments[0].domains.bias"),
    ({"analysis": "pain__12_weeks", "decided_by": "x", "domains": {"imprecision": {"downgrade": 3, "reason": "r"}}},
     "assessments[0].domains.imprecision.downgrade"),
    ({"analysis": "pain__12_weeks", "decided_by": "x", "domains": {"imprecision": {"downgrade": 1}}},
     "assessments[0].domains.imprecision.reason"),
])
def test_bad_decisions_name_the_field(entry, field):
    with pytest.raises(ReviewInputError) as err:
        parse_decisions({"assessments": [entry]}, "review/certainty.yaml", {"pain__12_weeks": "pain"})
    text = err.value.format()
    assert field in text and "review/certainty.yaml" in text


def test_risk_of_bias_sums_the_weights_of_a_studys_comparisons():
    rows = [{"study": "c", "weight": 30.0}, {"study": "c", "weight": 25.0}, {"study": "a", "weight": 45.0}]
    out = grade.risk_of_bias(analysis(studies=rows), ROB)
    assert out["basis"]["high_share"] == 0.55 and out["downgrade"] == 2


def test_a_bad_certainty_file_stops_the_run_before_any_job(tmp_path):
    """review/certainty.yaml is checked while the job graph is planned (every run, until fixed)."""
    from livingmeta.plan import scan_review
    from livingmeta.preflight import problems

    (tmp_path / "outcomes.yaml").write_text(
        "outcomes:\n  - {id: pain, label: Pain, higher_is_better: false, timepoints: [12 weeks]}\n", encoding="utf-8")
    (tmp_path / "certainty.yaml").write_text(
        "assessments:\n  - {outcome: pain, decided_by: AB, domains: {imprecision: {downgrade: 3, reason: r}}}\n"
        "  - {analysis: pain__12_weeks, decided_by: AB, domains: {}}\n", encoding="utf-8")
    found = problems(str(tmp_path), scan_review(tmp_path))
    texts = [e.format() for e in found]
    assert len(texts) == 1 and "assessments[0].domains.imprecision.downgrade" in texts[0]   # the declared
    # analysis without data yet is accepted; a malformed file is one clear message naming it
    (tmp_path / "certainty.yaml").write_text("assessments: [unclosed\n", encoding="utf-8")
    found = problems(str(tmp_path), scan_review(tmp_path))
    assert len(found) == 1 and "certainty.yaml" in found[0].format()
