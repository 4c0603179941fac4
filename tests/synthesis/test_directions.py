"""Direction-only entries (synthesis without meta-analysis): study-file validation, outcome domains, the
review.yaml synthesis block, the parse-time plan (never a pooled analysis), the synthesis document and its
figures."""
from __future__ import annotations

import textwrap

import pytest

from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.extraction.effects import study_document
from livingmeta.extraction.outcomes import load_outcomes, parse_outcomes
from livingmeta.extraction.studyfile import load_study
from livingmeta.plan import scan_review
from livingmeta.report import svg_direction
from livingmeta.report.swim_data import synthesis_files
from livingmeta.report.swim_view import swim_view
from livingmeta.synthesis.build import build_synthesis, size_class
from livingmeta.synthesis.settings import parse_settings

OUTCOMES = """\
outcomes:
  - {id: dhi, label: Disc height index, unit: "%", higher_is_better: true, timepoints: [4 weeks]}
domains:
  - {id: apoptosis, label: Apoptosis}
  - {id: ecm, label: ECM homeostasis}
"""

MIXED = """\
study: {sid}
citation: {{first_author: Doe, year: 2024}}
characteristics: {{exosome_source: BMSCs, cargo: miR-21}}
groups: {{mechanism: {group}}}
outcomes:
  - outcome: dhi
    timepoint: 4 weeks
    unit: "%"
    higher_is_better: true
    provenance: figure
    source: Fig. 3A
    treatment: {{mean: 78.2, sd: 6.1, n: 6}}
    control: {{mean: 61.0, sd: 2.3, n: 6}}
  - {{outcome: apoptosis, direction: {direction}, provenance: text, source: Results, n: 12}}
  - {{outcome: ecm, direction: harm, provenance: text, source: Results, note: MMP-13 up}}
"""


def review(tmp_path, studies: dict[str, str], outcomes: str = OUTCOMES):
    (tmp_path / "studies").mkdir(exist_ok=True)
    (tmp_path / "outcomes.yaml").write_text(outcomes)
    for sid, text in studies.items():
        (tmp_path / "studies" / f"{sid}.yaml").write_text(text)
    return tmp_path


def study_text(sid="doe2024", group="ecm_homeostasis", direction="benefit"):
    return MIXED.format(sid=sid, group=group, direction=direction)


def errors_of(tmp_path, text, outcomes=OUTCOMES):
    review(tmp_path, {"doe2024": text}, outcomes)
    with pytest.raises(ReviewInputError) as info:
        load_study(tmp_path / "studies" / "doe2024.yaml", load_outcomes(tmp_path / "outcomes.yaml"))
    err = info.value
    return list(err.errors) if isinstance(err, ReviewInputErrors) else [err]


def test_a_study_mixes_pooled_and_direction_entries(tmp_path):
    review(tmp_path, {"doe2024": study_text()})
    outcomes = load_outcomes(tmp_path / "outcomes.yaml")
    study = load_study(tmp_path / "studies" / "doe2024.yaml", outcomes)
    assert study.analyses() == ["dhi__4_weeks"]
    assert [(d.domain, d.direction, d.n) for d in study.directions] == [("apoptosis", "benefit", 12), ("ecm", "harm", None)]
    doc = study_document(study, outcomes)
    assert [e["analysis"] for e in doc["effects"]] == ["dhi__4_weeks"]
    assert doc["directions"][1] == {"domain": "ecm", "direction": "harm", "provenance": "text", "source": "Results",
                                    "note": "MMP-13 up", "n": None}


def test_direction_entries_never_make_pooled_analyses(tmp_path):
    only = textwrap.dedent("""\
        study: roe2023
        citation: {first_author: Roe, year: 2023}
        characteristics: {}
        groups: {mechanism: ecm_homeostasis}
        outcomes:
          - {outcome: dhi, direction: benefit, provenance: text, source: Discussion}
        """)
    review(tmp_path, {"doe2024": study_text(), "roe2023": only})
    plan = scan_review(tmp_path)
    assert list(plan.analyses) == ["dhi__4_weeks"] and plan.analyses["dhi__4_weeks"].studies == ["doe2024"]
    assert plan.synthesis_studies == ["doe2024", "roe2023"] and plan.direction_only_studies == ["roe2023"]


@pytest.mark.parametrize("old,new,field,contains", [
    ("direction: benefit", "direction: positive", "outcomes[1].direction", "unknown direction 'positive'"),
    ("outcome: apoptosis", "outcome: apoptsis", "outcomes[1].outcome", "unknown outcome domain 'apoptsis'"),
    ("outcome: apoptosis", "outcome: dhi", "outcomes[1].outcome", "unknown outcome domain 'dhi'"),
    ("provenance: text, source: Results, n: 12", "provenance: guess, source: Results", "outcomes[1].provenance",
     "unknown provenance"),
    (", n: 12}", ", n: 12, unit: '%'}", "outcomes[1].direction", "either numeric data or a `direction`"),
    (", n: 12}", ", n: 0}", "outcomes[1].n", ">= 1"),
    (", n: 12}", ", sauce: 1}", "outcomes[1].sauce", ""),
    ("source: Results, n: 12", "n: 12", "outcomes[1].source", "missing"),
])
def test_bad_direction_entries_name_file_field_and_values(tmp_path, old, new, field, contains):
    text = study_text()
    assert old in text
    errors = errors_of(tmp_path, text.replace(old, new, 1))
    found = [e for e in errors if e.field == field]
    assert found, [(e.field, e.message) for e in errors]
    assert contains in found[0].message and found[0].file.endswith("doe2024.yaml")
    if "direction '" in contains:
        assert "benefit, harm, no_clear_difference, mixed" in found[0].hint


def test_a_domain_reported_twice_is_an_error(tmp_path):
    text = study_text().replace("outcome: ecm, direction: harm", "outcome: apoptosis, direction: harm")
    errors = errors_of(tmp_path, text)
    assert any(e.field == "outcomes[2]" and "already reported" in e.message for e in errors)


def test_outcome_domains_are_validated():
    with pytest.raises(ReviewInputError) as info:
        parse_outcomes({"outcomes": [], "domains": [{"id": "Bad id", "label": "x"}]}, "outcomes.yaml")
    assert "domains[0].id" in info.value.format()
    with pytest.raises(ReviewInputError) as info:
        parse_outcomes({"outcomes": [{"id": "ecm", "label": "E", "higher_is_better": True, "timepoints": ["1"]}],
                        "domains": [{"id": "ecm", "label": "ECM"}]}, "outcomes.yaml")
    assert "both an outcome and a domain" in info.value.format()
    ok = parse_outcomes({"outcomes": [], "domains": [{"id": "ecm", "label": "ECM"}]}, "outcomes.yaml")
    assert list(ok.domains) == ["ecm"] and not ok.outcomes
    with pytest.raises(ReviewInputError):  # without domains, outcomes must not be empty (as before)
        parse_outcomes({"outcomes": []}, "outcomes.yaml")


def test_synthesis_settings_are_validated():
    assert parse_settings({"title": "x"}) is None
    s = parse_settings({"synthesis": {"group_by": "mechanism", "characteristics": ["cargo", "model"],
                                      "groups": [{"id": "ecm", "label": "ECM"}]}})
    assert s["map"] == ["cargo", "model"] and s["group_label"] == "mechanism" and s["groups"][0]["label"] == "ECM"
    with pytest.raises(ReviewInputError) as info:
        parse_settings({"synthesis": {"characteristics": "cargo", "map": ["x"], "colour": 1}}, "review.yaml")
    text = info.value.format()
    for part in ("synthesis.group_by", "synthesis.characteristics", "synthesis.colour"):
        assert part in text, text


def _synthesis(tmp_path):
    review(tmp_path, {"doe2024": study_text(), "poe2022": study_text("poe2022", "ecm_homeostasis", "harm"),
                      "moe2021": study_text("moe2021", "apoptosis", "no_clear_difference")})
    outcomes = load_outcomes(tmp_path / "outcomes.yaml")
    docs = [study_document(load_study(p, outcomes), outcomes) for p in sorted((tmp_path / "studies").iterdir())]
    settings = parse_settings({"synthesis": {"group_by": "mechanism", "characteristics": ["exosome_source", "cargo", "model"],
                                             "groups": [{"id": "apoptosis", "label": "Apoptosis"},
                                                        {"id": "ecm_homeostasis", "label": "ECM"}]}})
    domains = [{"id": d.id, "label": d.label} for d in outcomes.domains.values()]
    return build_synthesis(docs, settings, domains)


def test_the_synthesis_document(tmp_path):
    doc = _synthesis(tmp_path)
    assert [(g["id"], g["k"]) for g in doc["groups"]] == [("apoptosis", 1), ("ecm_homeostasis", 2)]
    ecm = doc["groups"][1]
    assert ecm["votes"]["apoptosis"]["benefit"] == 1 and ecm["votes"]["apoptosis"]["harm"] == 1
    assert ecm["votes"]["ecm"]["harm"] == 2 and ecm["votes"]["ecm"]["sign_test_p"] == 0.5
    assert [r["overall"] for r in ecm["studies"]] == ["mixed", "harm"]
    assert ecm["studies"][0]["characteristics"]["model"] == "not reported"
    assert ecm["studies"][0]["size"] == "small"   # n = 12 < 50 (Thomson and Thomas 2013)
    m = doc["evidence_map"][0]
    assert m["characteristic"] == "exosome_source" and m["counts"]["ecm_homeostasis"]["BMSCs"] == 2
    assert "Item 1" in doc["text"]["methods"][0] and "Item 8" in doc["text"]["results"][0]
    assert (size_class(None), size_class(49), size_class(50), size_class(300)) == ("unknown", "small", "medium", "large")


def test_a_study_outside_the_declared_groups_is_named(tmp_path):
    review(tmp_path, {"doe2024": study_text(group="angiogenesis")})
    outcomes = load_outcomes(tmp_path / "outcomes.yaml")
    doc = study_document(load_study(tmp_path / "studies" / "doe2024.yaml", outcomes), outcomes)
    settings = parse_settings({"synthesis": {"group_by": "mechanism", "groups": [{"id": "ecm"}]}})
    with pytest.raises(ReviewInputError) as info:
        build_synthesis([doc], settings, [{"id": "apoptosis", "label": "A"}, {"id": "ecm", "label": "E"}])
    assert info.value.field == "groups.mechanism" and "angiogenesis" in info.value.message
    assert info.value.file.endswith("doe2024.yaml")


def test_figures_are_well_formed_svg_and_tables_csv(tmp_path):
    doc = _synthesis(tmp_path)
    rob = {"studies": {"doe2024": {"a": {"judgement": "low"}, "b": {"judgement": "high"}}}}
    plot = svg_direction.effect_direction_plot(doc["groups"][1], doc["domains"], rob)
    root = svg_direction.svg_check(plot)
    assert root.tag.endswith("svg")
    assert "Doe 2024" in plot and "high risk of bias" in plot and "risk of bias not assessed" in plot
    assert svg_direction.rob_level(rob, "doe2024") == "high" and svg_direction.rob_level(rob, "x") == "not_assessed"
    view = swim_view({"synthesis": doc, "risk_of_bias": rob})
    assert len(view["groups"]) == 2 and len(view["maps"]) == 3
    for m in view["maps"]:
        svg_direction.svg_check(str(m["svg"]))
    files = synthesis_files({"synthesis": doc})
    votes = files["synthesis_votes.csv"][1].splitlines()
    assert votes[0].startswith("group,domain,k,benefit,harm")
    row = next(line.split(",") for line in votes if line.startswith("ecm_homeostasis,ecm,"))
    assert row[2:10] == ["2", "0", "2", "0", "0", "2", "0.0", "0.0"] and row[11:] == ["95.0", "0.5"]
    assert float(row[10]) == pytest.approx(1 - 0.025 ** 0.5, rel=1e-12)   # binom.test(0, 2)$conf.int[2]
    assert swim_view({"synthesis": None}) is None
    assert [g["new"] for g in view["groups"]] == [None, None]       # first version: no "new since"
    changed = {"previous_version": "2026-01-01", "studies_added": ["doe2024"]}
    view = swim_view({"synthesis": doc, "risk_of_bias": rob, "what_changed": changed})
    assert [g["new"] for g in view["groups"]] == [0, 1] and view["previous_version"] == "2026-01-01"


def test_preflight_names_missing_or_unknown_groups(tmp_path):
    from livingmeta import preflight

    review(tmp_path, {"doe2024": study_text(group="angiogenesis"),
                      "poe2022": study_text("poe2022").replace("groups: {mechanism: ecm_homeostasis}\n", "")})
    (tmp_path / "review.yaml").write_text("title: t\nquestion: q\nregistration: r\n"
                                          "synthesis: {group_by: mechanism, groups: [{id: ecm_homeostasis}]}\n")
    found = preflight.synthesis_problems(str(tmp_path), scan_review(tmp_path))
    assert sorted((e.file.rsplit("/", 1)[-1], e.field) for e in found) == [
        ("doe2024.yaml", "groups.mechanism"), ("poe2022.yaml", "groups.mechanism")]
    assert "unknown mechanism group 'angiogenesis'" in " ".join(e.message for e in found)
    (tmp_path / "review.yaml").write_text("title: t\nquestion: q\nregistration: r\n")
    found = preflight.synthesis_problems(str(tmp_path), scan_review(tmp_path))
    assert len(found) == 1 and found[0].field == "synthesis" and "no `synthesis:` block" in found[0].message
