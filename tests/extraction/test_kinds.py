"""Study files and outcome definitions for every data kind: dichotomous, precomputed (generic) and continuous
(NMD with a sham group); the measure of an outcome and the checks that refuse data of the wrong kind."""
from __future__ import annotations

import math

import pytest
import yaml

from livingmeta.analyses import check_units, pool_analysis
from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.extraction.effects import compute_effects
from livingmeta.extraction.outcomes import parse_outcomes
from livingmeta.extraction.studyfile import parse_study

OUTCOMES = """\
outcomes:
  - {id: death, label: Death, higher_is_better: false, timepoints: [30 days], measure: OR}
  - {id: death_mh, label: Death (MH), higher_is_better: false, timepoints: [30 days], measure: RR, method: MH}
  - {id: survival, label: Survival, higher_is_better: true, timepoints: [end], measure: HR}
  - {id: volume, label: Infarct volume, higher_is_better: false, timepoints: [day 3], measure: NMD}
  - {id: stay, label: Length of stay, higher_is_better: false, timepoints: [discharge], measure: MD}
  - {id: score, label: Score, higher_is_better: true, timepoints: [end]}
"""


def outcomes():
    return parse_outcomes(yaml.safe_load(OUTCOMES), "outcomes.yaml")


def study(*entries):
    base = {"study": "smith2020", "citation": {"first_author": "Smith", "year": 2020}, "characteristics": {}}
    common = {"unit": "n", "higher_is_better": False, "provenance": "table", "source": "Table 2"}
    return {**base, "outcomes": [{**common, **e} for e in entries]}


def parsed(*entries, default_measure="SMD"):
    return parse_study(study(*entries), "studies/smith2020.yaml", outcomes(), default_measure)


def messages(err):
    errs = err.errors if isinstance(err, ReviewInputErrors) else [err]
    return [f"{e.field}: {e.message}" for e in errs]


DEATH = {"outcome": "death", "timepoint": "30 days", "treatment": {"events": 3, "total": 50},
         "control": {"events": 9, "total": 48}}


def test_dichotomous_entry_gives_log_odds_ratio():
    s = parsed(DEATH)
    assert s.outcomes[0].kind == "dichotomous"
    (row,) = compute_effects(s, outcomes())
    a, b, c, d = 3, 47, 9, 39
    assert row["measure"] == "OR" and row["scale"] == "log" and row["kind"] == "dichotomous"
    assert row["yi"] == pytest.approx(math.log(a * d / (b * c)))
    assert row["vi"] == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d)
    assert (row["ai"], row["n1i"], row["ci"], row["n2i"]) == (3, 50, 9, 48)


def test_double_zero_study_is_kept_as_not_estimable():
    s = parsed({**DEATH, "treatment": {"events": 0, "total": 20}, "control": {"events": 0, "total": 21}})
    (row,) = compute_effects(s, outcomes())
    assert row["yi"] is None and row["vi"] is None and row["estimable"] is False


@pytest.mark.parametrize("arm, match", [
    ({"events": 60, "total": 50}, "more than the arm's total"),
    ({"events": -1, "total": 50}, "must be >= 0"),
    ({"events": 2.5, "total": 50}, "whole number"),
    ({"events": 3, "total": 50, "mean": 2}, "unknown field 'mean'"),
])
def test_bad_counts_name_the_field(arm, match):
    with pytest.raises(ReviewInputError) as err:
        parsed({**DEATH, "treatment": arm})
    assert any(match in m and m.startswith("outcomes[0].treatment") for m in messages(err.value)), messages(err.value)


HR = {"outcome": "survival", "timepoint": "end", "estimate": 0.75, "ci_lb": 0.6, "ci_ub": 0.94, "scale": "ratio",
      "higher_is_better": True}


def test_generic_hazard_ratio_from_ci():
    s = parsed(HR)
    (row,) = compute_effects(s, outcomes())
    assert row["kind"] == "generic" and row["measure"] == "HR"
    assert row["yi"] == pytest.approx(math.log(0.75))
    assert math.sqrt(row["vi"]) == pytest.approx((math.log(0.94) - math.log(0.6)) / (2 * 1.959963984540054))


@pytest.mark.parametrize("change, match", [
    ({"estimate": 1.2}, "does not contain the estimate"),
    ({"estimate": -0.2, "ci_lb": -0.5}, "must be > 0"),
    ({"se": 0.5}, "disagrees with the CI"),
    ({"scale": "difference"}, "whose measure HR is a ratio"),
    ({"scale": "logs"}, "unknown scale"),
])
def test_bad_generic_estimates(change, match):
    with pytest.raises(ReviewInputError) as err:
        parsed({**HR, **change})
    assert any(match in m for m in messages(err.value)), messages(err.value)


def test_data_kind_must_match_the_outcome_measure():
    means = {"treatment": {"mean": 5, "sd": 1, "n": 10}, "control": {"mean": 6, "sd": 1, "n": 10}}
    with pytest.raises(ReviewInputError) as err:
        parsed({"outcome": "death", "timepoint": "30 days", **means})
    assert any("continuous data for outcome 'death', whose measure is OR" in m for m in messages(err.value))
    with pytest.raises(ReviewInputError) as err:   # events for the review's default SMD
        parsed({**DEATH, "outcome": "score", "timepoint": "end"})
    assert any("dichotomous data for outcome 'score', whose measure is SMD" in m for m in messages(err.value))
    # a precomputed OR is fine for an OR outcome
    s = parsed({"outcome": "death", "timepoint": "30 days", "estimate": 0.5, "se": 0.3, "scale": "ratio"})
    assert compute_effects(s, outcomes())[0]["yi"] == pytest.approx(math.log(0.5))


def test_nmd_needs_the_sham_group_and_uses_it():
    arms = {"treatment": {"mean": 70, "sd": 20, "n": 10}, "control": {"mean": 100, "sd": 25, "n": 12}}
    with pytest.raises(ReviewInputError) as err:
        parsed({"outcome": "volume", "timepoint": "day 3", **arms})
    assert any("needs the sham/normal group" in m for m in messages(err.value))
    s = parsed({"outcome": "volume", "timepoint": "day 3", **arms, "sham": {"mean": 0, "sd": 1, "n": 6}})
    (row,) = compute_effects(s, outcomes())
    # lower is better (higher_is_better false in the study and the outcome): no flip; -30 % of the lesion
    assert row["yi"] == pytest.approx(-30.0) and row["msi"] == 0
    with pytest.raises(ReviewInputError) as err:
        parsed({"outcome": "stay", "timepoint": "discharge", **arms, "sham": {"mean": 0, "sd": 1, "n": 6}})
    assert any("only used by the measure NMD" in m for m in messages(err.value))


def test_outcome_measure_and_method_are_checked():
    with pytest.raises(ReviewInputError, match="unknown effect measure 'XX'"):
        parse_outcomes({"outcomes": [{"id": "a", "label": "A", "higher_is_better": True, "timepoints": ["t"],
                                      "measure": "XX"}]})
    with pytest.raises(ReviewInputError, match="method PETO cannot pool the odds ratio"):
        parse_outcomes({"outcomes": [{"id": "a", "label": "A", "higher_is_better": True, "timepoints": ["t"],
                                      "measure": "OR", "method": "PETO"}]})
    o = outcomes()
    assert (o["death_mh"].measure, o["death_mh"].method) == ("RR", "MH")


MODEL = {"measure": "MD", "method": "REML", "test": "knha", "level": 95, "prediction_interval": True}


def _md_row(study, unit):
    return {"study": study, "label": study, "yi": 1.0, "vi": 0.5, "unit": unit, "kind": "continuous",
            "n1i": 10, "n2i": 10}


def test_md_across_units_is_refused_unless_harmonised():
    rows = [_md_row("a", "days"), _md_row("b", "hours"), _md_row("c", "days")]
    with pytest.raises(ReviewInputError, match="different units") as err:
        check_units(rows, {"analysis": "stay__discharge", "outcome": "stay"}, MODEL)
    assert "'hours': b" in err.value.message and err.value.field == "stay.units_harmonised"
    check_units(rows, {"analysis": "x"}, {**MODEL, "units_harmonised": True})
    check_units(rows, {"analysis": "x"}, {**MODEL, "measure": "SMD"})


def test_mh_pooling_refuses_generic_rows_and_flips_or_by_swapping_events():
    rows = [{"study": s, "label": s, "kind": "dichotomous", "ai": a, "n1i": 50, "ci": c, "n2i": 50, "yi": 0.0,
             "vi": 0.1, "unit": "n"} for s, a, c in (("a", 3, 9), ("b", 5, 8), ("c", 2, 6))]
    model = {"measure": "OR", "method": "MH", "test": "z", "level": 95}
    meta = {"analysis": "x"}
    base = pool_analysis(rows, meta, model)
    assert base["measure"] == "OR" and base["scale"] == "log" and base["estimate_exp"] < 1
    # a study whose events point the other way enters with events and non-events swapped
    flipped = [dict(rows[0], ai=47, ci=41, direction_flipped=True)] + rows[1:]
    assert pool_analysis(flipped, meta, model)["estimate"] == pytest.approx(base["estimate"])
    with pytest.raises(ReviewInputError, match="cannot reverse"):
        pool_analysis(flipped, meta, {**model, "measure": "RR"})
    with pytest.raises(ReviewInputError, match="cannot be pooled with the Mantel-Haenszel"):
        pool_analysis(rows + [{"study": "d", "label": "d", "kind": "generic", "yi": 0.1, "vi": 0.2}], meta, model)


def test_median_with_iqr_or_range_is_converted_and_marked():
    from livingmeta.stats import mean_sd_from_median

    entry = {"outcome": "score", "timepoint": "end", "higher_is_better": True,
             "treatment": {"median": 10, "q1": 8, "q3": 13, "n": 20},
             "control": {"median": 7, "min": 2, "max": 15, "n": 18}}
    (row,) = compute_effects(parsed(entry), outcomes(), "MD")
    m1, s1 = mean_sd_from_median(10, 20, q1=8, q3=13)
    m2, s2 = mean_sd_from_median(7, 18, minimum=2, maximum=15)
    assert (row["m1i"], row["sd1i"], row["m2i"], row["sd2i"]) == (m1, s1, m2, s2)
    assert row["converted"] == "treatment, control" and row["stated"]["treatment"]["median"] == 10
    assert row["yi"] == pytest.approx(m1 - m2)
    for bad, match in (({"median": 10, "n": 20}, "needs its IQR"), ({"median": 10, "q1": 11, "q3": 13, "n": 20},
                       "median = 10 is below q1"), ({"median": 10, "q1": 8, "q3": 13, "sd": 2, "n": 20}, "both given")):
        with pytest.raises(ReviewInputError) as err:
            parsed({**entry, "treatment": bad})
        assert any(match in m for m in messages(err.value)), messages(err.value)


def test_an_analysis_of_studies_without_events_is_shown_unpooled():
    from livingmeta.analyses import leave_one_out_for_analysis, subgroups_for_analysis

    rows = [{"study": s, "label": s, "kind": "dichotomous", "ai": 0, "n1i": 20, "ci": 0, "n2i": 20, "yi": None,
             "vi": None, "estimable": False, "unit": "n"} for s in ("a", "b", "c")]
    model = {"measure": "OR", "method": "REML", "test": "knha", "level": 95, "prediction_interval": True}
    doc = pool_analysis(rows, {"analysis": "x"}, model)
    assert doc["k"] == 0 and doc["estimate"] is None and doc["estimate_exp"] is None
    assert [s["estimable"] for s in doc["studies"]] == [False] * 3 and "nothing to pool" in doc["warnings"][0]
    assert doc["small_study"]["assessed"] is False
    assert leave_one_out_for_analysis(rows, {}, model)["leave_one_out"] == []
    groups = {"a": {"g": "x"}, "b": {"g": "y"}, "c": {"g": "y"}}
    sg = subgroups_for_analysis(rows, groups, {}, model, [{"variable": "g"}], "separate")["subgroups"][0]
    assert sg["Q_between"] is None


def test_unit_is_optional_for_events_and_required_for_means():
    entry = {k: v for k, v in DEATH.items()}
    data = study(entry)
    del data["outcomes"][0]["unit"]
    s = parse_study(data, "studies/smith2020.yaml", outcomes())
    assert s.outcomes[0].unit is None
    means = {"outcome": "stay", "timepoint": "discharge", "treatment": {"mean": 5, "sd": 1, "n": 10},
             "control": {"mean": 6, "sd": 1, "n": 10}}
    data = study(means)
    del data["outcomes"][0]["unit"]
    with pytest.raises(ReviewInputError) as err:
        parse_study(data, "studies/smith2020.yaml", outcomes())
    assert any(m.startswith("outcomes[0].unit: missing required field") for m in messages(err.value))
