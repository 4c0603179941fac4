"""outcomes.yaml and review.yaml validation."""
from __future__ import annotations

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.outcomes import load_outcomes
from livingmeta.extraction.review import load_review
from livingmeta.plan import scan_review

from .helpers import OUTCOMES, assert_names, write


def test_outcome_definitions_load_in_protocol_order(tmp_path):
    outcomes = load_outcomes(write(tmp_path / "outcomes.yaml", OUTCOMES))
    assert outcomes.ids() == ["dhi", "mri_grade", "histological_grade"]
    assert outcomes["mri_grade"].higher_is_better is False
    assert outcomes.analyses()[-1] == ("histological_grade__end_of_study", "histological_grade", "end of study")
    assert outcomes["dhi"].timepoint("8 WEEKS") == "8 weeks" and outcomes["dhi"].timepoint("6 weeks") is None


@pytest.mark.parametrize("text,field,contains", [
    ("outcomes:\n  - {id: dhi, label: DHI, timepoints: [4 weeks]}\n", "outcomes[0].higher_is_better",
     "missing required field"),
    ("outcomes:\n  - {id: dhi, label: DHI, higher_is_better: 'yes', timepoints: [4 weeks]}\n",
     "outcomes[0].higher_is_better", "true or false"),
    ("outcomes:\n  - {id: dhi, label: DHI, higher_is_better: true, timepoints: []}\n", "outcomes[0].timepoints",
     "non-empty list"),
    ("outcomes:\n  - {id: dhi, label: DHI, higher_is_better: true, timepoints: [4 weeks]}\n"
     "  - {id: dhi, label: DHI again, higher_is_better: true, timepoints: [8 weeks]}\n", "outcomes[1].id",
     "duplicate outcome id 'dhi'"),
    ("outcomes:\n  - {id: Disc Height, label: DHI, higher_is_better: true, timepoints: [4 weeks]}\n",
     "outcomes[0].id", "not a valid outcome id"),
    ("outcomes:\n  - {id: dhi, label: DHI, higher_is_better: true, timepoints: [4 weeks, 4 Weeks]}\n",
     "outcomes[0].timepoints", "repeats"),
    ("outcomes: []\n", "outcomes", "non-empty list"),
    ("outcomes:\n  - {id: dhi, label: DHI, higher_is_better: true, timepoints: [4 weeks], units: '%'}\n",
     "outcomes[0].units", "unknown field"),
])
def test_bad_outcome_definitions(tmp_path, text, field, contains):
    path = write(tmp_path / "outcomes.yaml", text)
    with pytest.raises(ReviewInputError) as info:
        load_outcomes(path)
    assert_names(info.value, path, field, contains=contains)


def test_invalid_outcomes_yaml_names_the_line(tmp_path):
    path = write(tmp_path / "outcomes.yaml", "outcomes:\n  - {id: dhi, label: DHI\n  - {id: x}\n")
    with pytest.raises(ReviewInputError) as info:
        load_outcomes(path)
    assert info.value.file == str(path) and info.value.field.startswith("line ")


def test_missing_outcomes_file(tmp_path):
    with pytest.raises(ReviewInputError) as info:
        load_outcomes(tmp_path / "outcomes.yaml")
    assert "not found" in info.value.format() and str(tmp_path / "outcomes.yaml") in info.value.format()


def test_the_example_outcomes_match_the_published_review(repo):
    outcomes = load_outcomes(repo / "review" / "outcomes.yaml")
    assert [a for a, _, _ in outcomes.analyses()] == [
        "dhi__4_weeks", "dhi__8_weeks", "mri_grade__8_weeks", "mri_grade__12_weeks",
        "histological_grade__end_of_study", "col2__8_weeks", "col2__12_weeks", "mmp13__8_weeks",
        "mmp13__12_weeks", "p16__8_weeks", "p16__12_weeks", "p21__8_weeks", "p21__12_weeks"]
    assert [o.id for o in outcomes.outcomes.values() if o.higher_is_better] == ["dhi", "col2"]
    # the parse-time plan reads the same file and the study files: every analysis has studies
    plan = scan_review(repo / "review")
    assert list(plan.analyses) == [a for a, _, _ in outcomes.analyses()]


def test_the_example_protocol(repo):
    review = load_review(repo / "review" / "review.yaml")
    assert review["registration"] == "PROSPERO CRD420250649970"
    assert review["published_review"]["doi"] == "10.31083/FBL38302"
    assert review["search"]["databases"] == ["PubMed", "Embase", "Cochrane", "Web of Science"]
    assert len(review["eligibility"]["exclusion"]) == 6
    assert "illustrative" in review["notice"]


def test_bad_protocol(tmp_path):
    path = write(tmp_path / "review.yaml", "title: x\nquestion: y\nsearch: {databases: PubMed}\n")
    with pytest.raises(ReviewInputError) as info:
        load_review(path)
    assert_names(info.value, path, "registration", contains="missing required field")
    assert_names(info.value, path, "search.databases", contains="list of text items")


def test_dependent_is_checked():
    import pytest

    from livingmeta.errors import ReviewInputError
    from livingmeta.extraction.outcomes import parse_outcomes

    ok = parse_outcomes({"outcomes": [{"id": "dhi", "label": "DHI", "higher_is_better": True, "timepoints": ["4 weeks"],
                                       "dependent": "split"}]}, "outcomes.yaml")
    assert ok["dhi"].dependent == "split"
    with pytest.raises(ReviewInputError, match="unknown way to pool dependent comparisons 'merge'"):
        parse_outcomes({"outcomes": [{"id": "dhi", "label": "DHI", "higher_is_better": True,
                                      "timepoints": ["4 weeks"], "dependent": "merge"}]}, "outcomes.yaml")
