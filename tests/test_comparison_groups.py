"""A comparison's own ``groups:`` (docs/study-file.md): the two doses of one study in two dose subgroups.

The multi-arm fixture (tests/fixtures/multiarm_review/) with a subgroup variable ``dose``: liao2022's
comparisons say ``groups: {dose: low}`` / ``{dose: high}`` on each entry, the other studies one dose for
the study. Multilevel and split analyses put each comparison in its own subgroup; analyses that combine a
study's comparisons into one row (Mantel-Haenszel, ``dependent: combine``) say why they have no subgroup
analysis. The multilevel subgroups are checked against metafor 3.8-1 (validation/metafor/comparison_groups.json,
written by validation/metafor/make_comparison_groups_reference.R beside the R calls), the split ones against the
model fitted directly on the rows of each level.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml

from livingmeta import analyses, config as cfgmod
from livingmeta.errors import ReviewInputError
from livingmeta.extraction.effects import study_document
from livingmeta.extraction.outcomes import load_outcomes
from livingmeta.extraction.studyfile import load_studies
from livingmeta.plan import scan_review
from livingmeta.stats import rma
from tests.workflow.helpers import REPO

FIXTURE = REPO / "tests" / "fixtures" / "multiarm_review"
DOSES = {"10 µg": "low", "50 µg": "high"}
STUDY_DOSE = {"chen2020": "low", "wang2019": "high", "zhao2018": "low", "xu2021": "high"}
SUBGROUPS = [{"variable": "dose", "label": "Dose"}]
REFERENCE = json.loads((REPO / "validation" / "metafor" / "comparison_groups.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    folder = tmp_path_factory.mktemp("groups") / "review"
    shutil.copytree(FIXTURE, folder)
    for path in (folder / "studies").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc["study"] == "liao2022":
            for entry in doc["outcomes"]:
                entry["groups"] = {"dose": DOSES[entry["comparison"]]}
        else:
            doc.setdefault("groups", {})["dose"] = STUDY_DOSE[doc["study"]]
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def documents(folder, outcome):
    cfg = cfgmod.load(folder / "config.yaml")
    a = cfg["analysis"]
    outcomes = load_outcomes(folder / "outcomes.yaml")
    docs = [study_document(s, outcomes, a["measure"], a["smd_variance"], a.get("zero_cells"))
            for s in load_studies(folder / "studies", outcomes, a["measure"]).values()]
    aid, analysis = next((k, v) for k, v in scan_review(folder).analyses.items() if v.outcome == outcome)
    return analyses.analysis_documents(docs, [], {"analysis": aid, "outcome": outcome}, analysis.model(a),
                                       subgroups=SUBGROUPS, subgroup_tau2="separate", leave_one_out=False)


def dose_subgroups(docs):
    (entry,) = docs["subgroups"]["subgroups"]
    return entry, {level["level"]: level for level in entry["levels"]}


def test_the_study_file_takes_a_comparisons_own_groups(review):
    outcomes = load_outcomes(review / "outcomes.yaml")
    liao = load_studies(review / "studies", outcomes, "SMD")["liao2022"]
    assert {e.comparison: dict(e.groups) for e in liao.outcomes if e.outcome == "score"} == {
        "10 µg": {"dose": "low"}, "50 µg": {"dose": "high"}}
    bad = review.parent / "bad"
    shutil.copytree(review, bad)
    path = bad / "studies" / "liao2022.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["outcomes"][0]["groups"] = {"dose": ["low", "high"]}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ReviewInputError) as err:
        load_studies(bad / "studies", outcomes, "SMD")
    assert "outcomes[0].groups.dose: must be a single value" in str(err.value.format())


def test_multilevel_subgroups_put_each_comparison_in_its_own(review):
    docs = documents(review, "score")
    entry, levels = dose_subgroups(docs)
    assert entry["note"] is None and set(levels) == {"low", "high"}
    assert ["liao2022", "10 µg"] in levels["low"]["comparisons"] and ["liao2022", "50 µg"] in levels["high"]["comparisons"]
    assert ["liao2022", "50 µg"] not in levels["low"]["comparisons"]
    assert "liao2022" in levels["low"]["studies"] and "liao2022" in levels["high"]["studies"]
    # the moderator is the comparison's dose: the rows of each level, as pooled
    rows = docs["pooled"]["studies"]
    dose = {(r["study"], r.get("comparison")): (DOSES[r["comparison"]] if r["study"] == "liao2022"
                                                 else STUDY_DOSE[r["study"]]) for r in rows}
    for level, info in levels.items():
        assert sorted(map(tuple, info["comparisons"])) == sorted(k for k, v in dose.items() if v == level)
        assert info["k"] == sum(1 for v in dose.values() if v == level)


def test_multilevel_subgroups_of_comparisons_as_metafor(review):
    """rma.mv(yi, V, mods = ~ factor(dose) - 1, random = ~ 1 | study/experiment/comparison) with liao2022's
    dose per comparison: the levels' estimates, SEs and CIs, and the moderator test QM (F, df 1 and 6)."""
    entry, levels = dose_subgroups(documents(review, "score"))
    for ref in REFERENCE["levels"]:
        ours = levels[ref["level"]]
        for key in ("estimate", "se", "ci_lb", "ci_ub"):
            assert ours[key] == pytest.approx(ref[key], rel=1e-5, abs=1e-6), (ref["level"], key)
    assert entry["Q_between"] == pytest.approx(REFERENCE["QM"], rel=1e-5)
    assert [entry["Q_between_df"], entry["Q_between_df2"]] == REFERENCE["QM_df"] and entry["Q_between_test"] == "F"
    assert entry["Q_between_pval"] == pytest.approx(REFERENCE["QM_pval"], rel=1e-5)


def test_split_subgroups_pool_each_level_on_its_own_rows(review):
    docs = documents(review, "score_split")
    entry, levels = dose_subgroups(docs)
    assert entry["note"] is None and set(levels) == {"low", "high"}
    rows = docs["pooled"]["studies"]
    for level, info in levels.items():
        chosen = {tuple(c) for c in info["comparisons"]}
        members = [r for r in rows if (r["study"], r.get("comparison")) in chosen]
        assert len(members) == info["k"] >= 2
        fit = rma([r["yi"] for r in members], [r["vi"] for r in members], method="REML", test="knha")
        assert info["estimate"] == pytest.approx(float(np.ravel(fit.beta)[0]), rel=1e-10)


@pytest.mark.parametrize("outcome", ["healed_mh", "score_combine"])
def test_analyses_that_combine_a_studys_comparisons_say_why_there_is_no_subgroup_analysis(review, outcome):
    entry, levels = dose_subgroups(documents(review, outcome))
    assert not levels and "liao2022 has comparisons in different subgroups" in entry["note"]
    assert "dependent: multilevel or split" in entry["note"]


def test_the_subgroup_forest_plot_draws_each_comparison_under_its_own_subgroup(review):
    from livingmeta.report import svg

    docs = documents(review, "score")
    entry, _ = dose_subgroups(docs)
    a = {"studies": [{**r, "label": f"{r['study']} {r.get('comparison') or ''}".strip()}
                     for r in docs["pooled"]["studies"]], "pooled": False}
    drawn = svg.subgroup_forest_plot(a, entry)
    high, low = drawn.index(">high<"), drawn.index(">low<")   # the levels in order: high, then low
    sections = {"high": drawn[high:low], "low": drawn[low:]}
    assert "liao2022 10 µg" in sections["low"] and "liao2022 50 µg" not in sections["low"]
    assert "liao2022 50 µg" in sections["high"] and "liao2022 10 µg" not in sections["high"]
