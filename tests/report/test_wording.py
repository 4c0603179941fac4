"""The review's own words: type, unit of analysis and arm names reach every generated sentence, header,
caption and forest-plot label; bad values are refused before any job starts."""
from __future__ import annotations

import re

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.outcomes import parse_outcomes
from livingmeta.extraction.review import check_report_fields, parse_review
from livingmeta.report import wording
from livingmeta.report.render import render_html

CLINICAL = {"type": "clinical", "arms": {"treatment": "Exercise", "control": "Usual care"}}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_defaults_follow_the_review_type():
    assert wording.review_wording({"type": "preclinical"})["unit"] == "animals"
    assert wording.review_wording({"type": "Clinical"})["unit"] == "participants"
    assert wording.review_wording({})["unit"] == "subjects"
    assert wording.review_wording({"type": "clinical", "unit_of_analysis": "eyes"})["unit"] == "eyes"
    assert wording.review_wording({})["arms"] == {"treatment": "treatment", "control": "control"}


@pytest.mark.parametrize("name, shown", [("Usual care", "usual care"), ("MSC-Exos", "MSC-Exos"),
                                         ("IDD control", "IDD control"), ("placebo", "placebo"),
                                         ("Exosome-loaded hydrogel", "exosome-loaded hydrogel")])
def test_arm_names_inside_a_sentence(name, shown):
    assert wording.in_sentence(name) == shown


def test_favours_labels_name_the_arms():
    arms = {"treatment": "Exercise", "control": "Usual care"}
    assert wording.favours_labels(True, arms) == ("Favours usual care", "Favours exercise")
    assert wording.favours_labels(False, arms) == ("Favours exercise", "Favours usual care")
    assert wording.favours_labels(None, arms) == ("Lower with exercise", "Higher with exercise")
    # one arm named: the other keeps its default
    assert wording.favours_labels(True, {"control": "Sham"}) == ("Favours sham", "Favours treatment")


def test_clinical_review_reads_as_clinical(inputs, build):
    inputs["review"].update(CLINICAL)
    results = build(inputs)
    assert results["review"]["type"] == "clinical"
    assert results["review"]["unit_of_analysis"] == "participants"
    assert all(a["arms"] == CLINICAL["arms"] for a in results["analyses"])
    page = _text(render_html(results))
    # generated text only (the fixture's own data and SYRCLE's name keep theirs)
    assert "control animals" not in page and "Animals treated" not in page and "treated group" not in page
    assert "participants in exercise arms and" in page
    assert "Favours usual care" in page and "Favours exercise" in page
    assert "higher with exercise than with usual care" in page
    assert "Characteristics of included studies: participants and condition" in page


def test_an_outcome_names_its_own_arms(inputs, build):
    inputs["review"].update(CLINICAL)
    inputs["pooled"][0]["arms"] = {"control": "Waiting list"}
    results = build(inputs)
    first, second = results["analyses"][0], results["analyses"][1]
    assert first["arms"] == {"treatment": "Exercise", "control": "Waiting list"}
    assert second["arms"] == CLINICAL["arms"]
    page = _text(render_html(results))
    assert "Favours waiting list" in page and "in waiting list arms" in page


def test_preclinical_example_wording(results):
    page = _text(render_html(results))
    assert "animals in treatment arms and" in page
    assert "Characteristics of included studies: animals and disease model" in page


@pytest.mark.parametrize("data, field", [
    ({"type": "animal"}, "type"),
    ({"arms": {"treatment": "A", "comparator": "B"}}, "arms.comparator"),
    ({"arms": "Exercise vs usual care"}, "arms"),
    ({"unit_of_analysis": ["eyes"]}, "unit_of_analysis"),
])
def test_bad_wording_fields_are_named(tmp_path, data, field):
    path = tmp_path / "review.yaml"
    import yaml

    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ReviewInputError) as err:
        check_report_fields(path)
    assert field in err.value.format() and "review.yaml" in err.value.format()
    full = {"title": "t", "question": "q", "registration": "r", **data}
    with pytest.raises(ReviewInputError):
        parse_review(full, path)


def test_outcome_arms_are_validated():
    base = {"id": "pain", "label": "Pain", "higher_is_better": False, "timepoints": ["12 weeks"]}
    ok = parse_outcomes({"outcomes": [{**base, "arms": {"treatment": "Exercise"}}]})
    assert ok["pain"].arms == {"treatment": "Exercise"}
    with pytest.raises(ReviewInputError) as err:
        parse_outcomes({"outcomes": [{**base, "arms": {"treatment": 3, "other": "x"}}]})
    text = err.value.format()
    assert "outcomes[0].arms.other" in text


def test_preflight_reports_a_bad_review_type(tmp_path):
    from livingmeta.plan import scan_review
    from livingmeta.preflight import problems

    (tmp_path / "review.yaml").write_text("title: t\ntype: veterinary\n", encoding="utf-8")
    found = problems(str(tmp_path), scan_review(tmp_path))
    assert any("type" in e.format() and "veterinary" in e.format() for e in found)


def test_weighted_risk_of_bias_summary_per_pooled_analysis(results):
    """robvis ``rob_summary(weighted = TRUE)``: each study counts with its weight in the analysis."""
    page = render_html(results)
    for a in results["analyses"]:
        has = f'id="fig-rob-weighted-{a["analysis"]}"' in page
        assert has == bool(a["pooled"]), a["analysis"]
    from livingmeta.report import svg

    a = next(x for x in results["analyses"] if x["pooled"])
    weights = {s["study"]: s["weight"] for s in a["studies"]}
    chart = svg.rob_summary_chart(results["risk_of_bias"], weights)
    assert "share of the analysis weight" in chart


def test_weighted_summary_counts_each_study_with_its_weight(results):
    from livingmeta.report import svg

    rob = results["risk_of_bias"]
    weights = {"liao2021": 70.0, "liu2023a": 20.0, "luo2021": 10.0}
    chart = svg.rob_summary_chart(rob, weights)
    shown = re.findall(r">([\d.]+%)<", chart)
    # sequence generation: all unclear (100%); baseline: low 70 + 20, high 10; allocation: unclear 70, low 30
    assert shown[:5] == ["100%", "90%", "10%", "30%", "70%"]


def test_forest_plot_overall_risk_of_bias_column(results):
    """robvis rob_append_to_forest: a last column with each study's overall judgement, for tools with one."""
    from livingmeta.report import svg

    a = next(x for x in results["analyses"] if x["pooled"])
    rob = results["risk_of_bias"]
    assert ">RoB<" not in svg.forest_plot(a, rob)          # SYRCLE: no overall judgement
    studies = [s["study"] for s in a["studies"]]
    judged = dict(rob, judgements=[{"id": "low", "label": "Low risk", "fill": "#009E73", "symbol": "+"},
                                   {"id": "high", "label": "High risk", "fill": "#D55E00", "symbol": "x"}],
                  overall={s: {"judgement": "high" if i == 0 else "low"} for i, s in enumerate(studies)})
    plot = svg.forest_plot(a, judged)
    assert ">RoB<" in plot
    assert plot.count('class="rob high"') == 1 and plot.count('class="rob low"') == len(studies) - 1
    assert "overall risk-of-bias judgement (+ low, x high)" in plot
