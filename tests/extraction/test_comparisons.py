"""Several comparisons per outcome x timepoint in a study file: labels, experiments, shared controls."""
from __future__ import annotations

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.effects import compute_effects
from livingmeta.extraction.outcomes import load_outcomes
from livingmeta.extraction.studyfile import load_study

from .helpers import assert_names, make_review

HEAD = """\
study: liao2022
citation: {first_author: Liao, year: 2022}
characteristics: {}
outcomes:
"""


def entry(comparison=None, *, treatment="{mean: 14, sd: 3, n: 8}", control="{mean: 10, sd: 3, n: 9}",
          group=None, experiment=None, timepoint="4 weeks"):
    lines = ["  - outcome: dhi", f"    timepoint: {timepoint}", '    unit: "%"', "    higher_is_better: true",
             "    provenance: table", "    source: Table 1"]
    if comparison is not None:
        lines.append(f"    comparison: {comparison}")
    if experiment is not None:
        lines.append(f"    experiment: {experiment}")
    if group is not None:
        lines.append(f"    control_group: {group}")
    lines.append(f"    treatment: {treatment}")
    if control is not None:
        lines.append(f"    control: {control}")
    return "\n".join(lines) + "\n"


def load(tmp_path, *entries):
    outcomes, path = make_review(tmp_path, HEAD + "".join(entries), sid="liao2022")
    return load_study(path, load_outcomes(outcomes)), path, load_outcomes(outcomes)


def fails(tmp_path, *entries):
    with pytest.raises(ReviewInputError) as info:
        load(tmp_path, *entries)
    outcomes, path = make_review(tmp_path, HEAD + "".join(entries), sid="liao2022")
    return info.value, path


def test_two_doses_share_one_control(tmp_path):
    study, path, outcomes = load(tmp_path, entry("10 µg", group="pbs"),
                                 entry("50 µg", treatment="{mean: 16, sd: 3.5, n: 8}", group="pbs", control=None))
    a, b = study.outcomes
    assert (a.comparison, b.comparison) == ("10 µg", "50 µg")
    assert b.control == a.control and b.control.n == 9 and b.control_group == "pbs"
    rows = compute_effects(study, outcomes, "MD")
    assert [r["comparison"] for r in rows] == ["10 µg", "50 µg"]
    assert [r["control_group"] for r in rows] == ["pbs", "pbs"]
    assert rows[1]["yi"] == pytest.approx(6.0) and rows[1]["n2i"] == 9


def test_experiments_with_their_own_controls(tmp_path):
    study, _, outcomes = load(tmp_path, entry("cohort 1", experiment="E1"),
                              entry("cohort 2", experiment="E2", control="{mean: 11, sd: 2, n: 6}"))
    rows = compute_effects(study, outcomes, "MD")
    assert [r["experiment"] for r in rows] == ["E1", "E2"] and "control_group" not in rows[0]


def test_a_single_entry_has_no_new_keys(tmp_path):
    study, _, outcomes = load(tmp_path, entry())
    row = compute_effects(study, outcomes, "MD")[0]
    assert not {"comparison", "experiment", "control_group"} & set(row)


def test_several_entries_need_labels(tmp_path):
    err, path = fails(tmp_path, entry(), entry("b"))
    assert_names(err, path, "outcomes[0].comparison", contains="each needs a `comparison:` label")


def test_a_label_used_twice(tmp_path):
    err, path = fails(tmp_path, entry("a"), entry("a"))
    assert_names(err, path, "outcomes[1].comparison", contains="comparison 'a' is used twice")


def test_a_shared_control_named_but_not_defined(tmp_path):
    err, path = fails(tmp_path, entry("a", group="pbs", control=None), entry("b", group="pbs", control=None))
    assert_names(err, path, "outcomes[0].control_group", contains="shared control 'pbs' is named but not defined")


def test_a_shared_control_given_twice_differently(tmp_path):
    err, path = fails(tmp_path, entry("a", group="pbs"), entry("b", group="pbs", control="{mean: 1, sd: 3, n: 9}"))
    assert_names(err, path, "outcomes[1].control", contains="different data")


def test_a_shared_control_across_experiments(tmp_path):
    err, path = fails(tmp_path, entry("a", group="pbs", experiment="E1"),
                      entry("b", group="pbs", experiment="E2", control=None))
    assert_names(err, path, "outcomes[0].control_group", contains="different experiments")


def test_dichotomous_comparisons_share_a_control(tmp_path):
    study, _, outcomes = load(tmp_path, entry("low", treatment="{events: 3, total: 10}", control="{events: 6, total: 12}",
                                              group="c"),
                              entry("high", treatment="{events: 2, total: 10}", control=None, group="c"))
    assert study.outcomes[1].control.total == 12 and study.outcomes[1].kind == "dichotomous"
