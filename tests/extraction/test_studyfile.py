"""Study-file validation: every kind of bad input stops with a message naming the file and field."""
from __future__ import annotations

import math

import pytest

from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.extraction.outcomes import load_outcomes
from livingmeta.extraction.studyfile import load_studies, load_study

from .helpers import STUDY, assert_names, make_review, problems_of, write


def load(tmp_path, text=None, **kw):
    outcomes_path, study_path = make_review(tmp_path, text, **kw)
    return load_study(study_path, load_outcomes(outcomes_path)), study_path


def fails(tmp_path, text, **kw):
    outcomes_path, study_path = make_review(tmp_path, text, **kw)
    with pytest.raises(ReviewInputError) as info:
        load_study(study_path, load_outcomes(outcomes_path))
    return info.value, study_path


def edit(old, new, count=1):
    assert old in STUDY.format(sid="liao2021"), old
    return STUDY.format(sid="liao2021").replace(old, new, count)


def test_a_valid_study_file_loads(tmp_path):
    study, path = load(tmp_path)
    assert study.id == "liao2021" and study.file == str(path)
    assert study.label == "Liao 2021"
    assert study.characteristics == {"species": "SD rats", "sex": "male", "n_animals": 20, "weight": "NA"}
    assert study.groups["hydrogel_type"] == "composite"
    assert study.analyses() == ["dhi__4_weeks", "mri_grade__8_weeks"]
    dhi = study.outcomes[0]
    assert (dhi.treatment.stated, dhi.control.stated) == ("sd", "se")
    assert dhi.treatment.sd_value == 6.1
    assert dhi.control.sd_value == pytest.approx(2.3 * math.sqrt(6))
    assert dhi.control.as_stated() == {"mean": 61.0, "se": 2.3, "n": 6}
    assert not study.illustrative


def test_timepoints_match_like_analysis_ids(tmp_path):
    study, _ = load(tmp_path, edit("timepoint: 4 weeks", "timepoint: 4 Weeks"))
    assert study.outcomes[0].timepoint == "4 weeks" and study.outcomes[0].analysis == "dhi__4_weeks"


@pytest.mark.parametrize("old,new,field,contains", [
    ("    unit: \"%\"\n", "", "outcomes[0].unit", "missing required field"),
    ("citation: {first_author: Liao, year: 2021, label: Liao 2021}\n", "", "citation", "missing required field"),
    ("first_author: Liao, ", "", "citation.first_author", "missing required field"),
    ("    treatment: {mean: 78.2, sd: 6.1, n: 6}\n", "", "outcomes[0].treatment", "missing required field"),
    ("control: {mean: 61.0, se: 2.3, n: 6}", "control: {se: 2.3, n: 6}", "outcomes[0].control.mean",
     "missing required field"),
    ("    source: Fig. 3A\n", "", "outcomes[0].source", "missing required field"),
])
def test_missing_required_field(tmp_path, old, new, field, contains):
    err, path = fails(tmp_path, edit(old, new))
    assert_names(err, path, field, contains=contains)


@pytest.mark.parametrize("old,new,field,contains", [
    ("sd: 6.1, n: 6}", "sd: 6.1, n: six}", "outcomes[0].treatment.n", "must be a whole number (got text ('six'))"),
    ("n: 6}\n    control", "n: 6.5}\n    control", "outcomes[0].treatment.n", "whole number"),
    ("mean: 78.2", "mean: '78,2'", "outcomes[0].treatment.mean", "must be a number"),
    ("sd: 6.1", "sd: true", "outcomes[0].treatment.sd", "must be a number"),
    ("higher_is_better: true\n    provenance: figure", "higher_is_better: 'maybe'\n    provenance: figure",
     "outcomes[0].higher_is_better", "must be true or false"),
    ("year: 2021", "year: twenty", "citation.year", "whole number"),
    ("n_animals: 20", "n_animals: [10, 10]", "characteristics.n_animals", "single value"),
    ("outcomes:\n", "outcomes: dhi\nx_outcomes:\n", "outcomes", "non-empty list"),
])
def test_wrong_type(tmp_path, old, new, field, contains):
    err, path = fails(tmp_path, edit(old, new))
    assert_names(err, path, field, contains=contains)


@pytest.mark.parametrize("old,new,field,contains", [
    ("sd: 6.1", "sd: -1", "outcomes[0].treatment.sd", "must be > 0 (got -1)"),
    ("se: 2.3", "se: 0", "outcomes[0].control.se", "must be > 0 (got 0)"),
    ("sd: 0.6", "sd: .nan", "outcomes[1].control.sd", "finite"),
])
def test_non_positive_sd_or_se(tmp_path, old, new, field, contains):
    err, path = fails(tmp_path, edit(old, new))
    assert_names(err, path, field, contains=contains)


def test_message_matches_the_architecture_example(tmp_path):
    err, path = fails(tmp_path, edit("se: 2.3", "sd: -1"))
    assert err.format() == (f"{path}: outcomes[0].control.sd: must be > 0 (got -1) (dhi, 4 weeks). "
                            "Fix the value in the study file: a standard deviation or standard error is positive.")


def test_n_below_two(tmp_path):
    err, path = fails(tmp_path, edit("se: 2.3, n: 6", "se: 2.3, n: 1"))
    problem = assert_names(err, path, "outcomes[0].control.n", contains="must be >= 2 (got 1)")
    assert "at least 2 animals" in problem.hint


def test_unknown_outcome_lists_the_known_ones(tmp_path):
    err, path = fails(tmp_path, edit("outcome: dhi", "outcome: pain"))
    problem = assert_names(err, path, "outcomes[0].outcome", contains="unknown outcome 'pain'")
    assert "dhi, mri_grade, histological_grade" in problem.hint and "outcomes.yaml" in problem.hint


def test_unknown_timepoint_lists_the_outcomes_timepoints(tmp_path):
    err, path = fails(tmp_path, edit("timepoint: 4 weeks", "timepoint: 6 weeks"))
    problem = assert_names(err, path, "outcomes[0].timepoint", contains="unknown timepoint '6 weeks'")
    assert "4 weeks, 8 weeks" in problem.hint


def test_study_id_must_match_the_file_name(tmp_path):
    err, path = fails(tmp_path, None, sid="liao2021", name="liao2022")
    problem = assert_names(err, path, "study", contains="does not match the file name 'liao2022.yaml'")
    assert "unique" in problem.hint


def test_missing_study_id(tmp_path):
    err, path = fails(tmp_path, edit("study: liao2021\n", ""))
    assert_names(err, path, "study", contains="missing required field")


def test_duplicate_study_id_yaml_and_yml(tmp_path):
    outcomes_path, study_path = make_review(tmp_path)
    write(tmp_path / "studies" / "liao2021.yml", STUDY.format(sid="liao2021"))
    with pytest.raises(ReviewInputError) as info:
        load_study(study_path, load_outcomes(outcomes_path))
    assert_names(info.value, study_path, "study", contains="duplicate study id 'liao2021': also claimed by liao2021.yml")


def test_load_studies_validates_a_folder(tmp_path):
    outcomes_path, _ = make_review(tmp_path)
    write(tmp_path / "studies" / "xing2021.yaml", STUDY.format(sid="xing2021"))
    write(tmp_path / "studies" / "_draft.yaml", "not: a study")
    studies = load_studies(tmp_path / "studies", load_outcomes(outcomes_path))
    assert list(studies) == ["liao2021", "xing2021"]
    write(tmp_path / "studies" / "zhan2025.yaml", STUDY.format(sid="liao2021"))
    with pytest.raises(ReviewInputError) as info:
        load_studies(tmp_path / "studies", load_outcomes(outcomes_path))
    assert_names(info.value, tmp_path / "studies" / "zhan2025.yaml", "study", contains="study id 'liao2021'")


def test_both_sd_and_se(tmp_path):
    err, path = fails(tmp_path, edit("sd: 6.1, n: 6", "sd: 6.1, se: 2.5, n: 6"))
    problem = assert_names(err, path, "outcomes[0].treatment.sd", contains="both `sd` and `se`")
    assert "delete the other" in problem.hint


def test_neither_sd_nor_se(tmp_path):
    err, path = fails(tmp_path, edit("se: 2.3, n: 6", "n: 6"))
    problem = assert_names(err, path, "outcomes[0].control.sd", contains="neither `sd` nor `se`")
    assert "never guess" in problem.hint


def test_invalid_yaml_names_the_line(tmp_path):
    text = edit("    source: Fig. 3A\n", "    source: [Fig. 3A\n")
    err, path = fails(tmp_path, text)
    assert err.file == str(path) and err.field.startswith("line ")
    assert "invalid YAML" in err.format() and "column" in err.message
    assert not isinstance(err, ReviewInputErrors)


def test_invalid_yaml_bad_indentation(tmp_path):
    err, path = fails(tmp_path, "study: liao2021\ncitation:\n  first_author: Liao\n year: 2021\n")
    assert err.field == "line 4", err.format()
    assert err.format().startswith(f"{path}: line 4: invalid YAML")


def test_unknown_provenance(tmp_path):
    err, path = fails(tmp_path, edit("provenance: figure", "provenance: guessed"))
    problem = assert_names(err, path, "outcomes[0].provenance", contains="unknown provenance 'guessed'")
    assert "text, table, figure, author, illustrative" in problem.hint


def test_unknown_field_catches_typos(tmp_path):
    err, path = fails(tmp_path, edit("se: 2.3, n: 6", "sem: 2.3, n: 6"))
    problems = problems_of(err)
    assert_names(err, path, "outcomes[0].control.sem", contains="unknown field 'sem'")
    assert_names(err, path, "outcomes[0].control.sd", contains="neither")
    assert len(problems) == 2


def test_the_same_analysis_twice(tmp_path):
    err, path = fails(tmp_path, edit("timepoint: 8 weeks\n    unit: Pfirrmann grade\n    higher_is_better: false",
                                     "timepoint: 8 weeks\n    unit: Pfirrmann grade\n    higher_is_better: false")
                      .replace("outcome: mri_grade", "outcome: dhi").replace("timepoint: 8 weeks", "timepoint: 4 weeks"))
    assert_names(err, path, "outcomes[1].comparison", contains="each needs a `comparison:` label")


def test_all_problems_of_a_file_are_reported_at_once(tmp_path):
    text = edit("sd: 6.1, n: 6", "sd: -6.1, n: six").replace("provenance: table", "provenance: tabel")
    err, path = fails(tmp_path, text)
    assert isinstance(err, ReviewInputErrors)
    fields = [p.field for p in problems_of(err)]
    assert fields == ["outcomes[0].treatment.n", "outcomes[0].treatment.sd", "outcomes[1].provenance"]
    assert len(err.format().splitlines()) == 3


def test_not_a_mapping(tmp_path):
    err, path = fails(tmp_path, "- just\n- a list\n")
    assert_names(err, path, "(top level)", contains="must be a mapping")


def test_doi_and_pmid_are_checked_not_invented(tmp_path):
    err, path = fails(tmp_path, edit("label: Liao 2021}", "label: Liao 2021, doi: 'https://doi.org/x', pmid: PM123}"))
    assert_names(err, path, "citation.doi", contains="not a DOI")
    assert_names(err, path, "citation.pmid", contains="not a PubMed id")
    study, _ = load(tmp_path / "ok", edit("label: Liao 2021}", "label: Liao 2021, doi: 10.1000/xyz, pmid: 12345}"))
    assert (study.citation["doi"], study.citation["pmid"]) == ("10.1000/xyz", "12345")


def test_reserved_study_id(tmp_path):
    err, path = fails(tmp_path, None, sid="summary")
    assert_names(err, path, "study", contains="reserved")
