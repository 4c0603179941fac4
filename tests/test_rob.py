"""SYRCLE risk of bias: item table, file validation, summary, and the example's consistency with the paper."""
from __future__ import annotations

from pathlib import Path

import pytest

from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.rob import ITEM_IDS, ITEMS, item_table, load_rob, load_tool, rob_document, summarise


def rob_text(sid="liao2021", skip=(), override=None):
    override = override or {}
    lines = [f"study: {sid}", "tool: SYRCLE", "assessors: [BW, DX]", "items:"]
    for item in ITEM_IDS:
        if item in skip:
            continue
        lines.append(override.get(item, f"  {item}: {{judgement: unclear, support: \"Not reported.\"}}"))
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name="liao2021") -> Path:
    path = tmp_path / "risk_of_bias" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def fails(tmp_path, text, name="liao2021") -> tuple[ReviewInputError, Path]:
    path = write(tmp_path, text, name)
    with pytest.raises(ReviewInputError) as info:
        load_rob(path)
    return info.value, path


def named(err, path, field, contains=""):
    problems = err.errors if isinstance(err, ReviewInputErrors) else [err]
    lines = [p.format() for p in problems if p.file == str(path) and p.field == field]
    assert lines, err.format()
    assert lines[0].startswith(f"{path}: {field}: ") and contains in lines[0], lines[0]
    return problems[[p.field for p in problems].index(field)]


def test_the_ten_syrcle_items():
    assert len(ITEMS) == 10 and [i.number for i in ITEMS] == list(range(1, 11))
    domains = [i.domain for i in ITEMS]
    assert domains == ["Selection bias"] * 3 + ["Performance bias"] * 2 + ["Detection bias"] * 2 + [
        "Attrition bias", "Reporting bias", "Other"]
    assert item_table()[4]["label"] == "Blinding of caregivers and investigators"


def test_a_valid_file(tmp_path):
    text = rob_text(override={"allocation_concealment":
                              "  allocation_concealment: {judgement: Low, support: \"Sealed envelopes.\"}"})
    doc = rob_document(load_rob(write(tmp_path, text)))
    assert doc["study"] == "liao2021" and doc["tool"] == "SYRCLE" and doc["assessors"] == ["BW", "DX"]
    assert doc["items"]["allocation_concealment"] == {"judgement": "low", "support": "Sealed envelopes."}
    assert set(doc["items"]) == set(ITEM_IDS)


def test_missing_item(tmp_path):
    err, path = fails(tmp_path, rob_text(skip=("blinding_assessors",)))
    problem = named(err, path, "items.blinding_assessors", "missing judgement for item 7")
    assert "unclear" in problem.hint


def test_unknown_judgement(tmp_path):
    err, path = fails(tmp_path, rob_text(override={"random_housing":
                                                   "  random_housing: {judgement: medium, support: x}"}))
    problem = named(err, path, "items.random_housing.judgement", "unknown judgement 'medium'")
    assert "low, high, unclear" in problem.hint


def test_support_is_required(tmp_path):
    err, path = fails(tmp_path, rob_text(override={"other_bias": "  other_bias: {judgement: low}"}))
    named(err, path, "items.other_bias.support", "missing required field")
    err, path = fails(tmp_path, rob_text(override={"other_bias": "  other_bias: {judgement: low, support: ''}"}))
    named(err, path, "items.other_bias.support", "must not be empty")


def test_unknown_item_lists_the_items(tmp_path):
    text = rob_text() + "  blinding: {judgement: unclear, support: x}\n"
    err, path = fails(tmp_path, text)
    problem = named(err, path, "items.blinding", "unknown SYRCLE item 'blinding'")
    assert "blinding_caregivers" in problem.hint


def test_item_not_a_mapping(tmp_path):
    err, path = fails(tmp_path, rob_text(override={"random_housing": "  random_housing: unclear"}))
    named(err, path, "items.random_housing", "must be a mapping")


def test_study_id_must_match_the_file_name(tmp_path):
    err, path = fails(tmp_path, rob_text(sid="liao2022"))
    named(err, path, "study", "does not match the file name 'liao2021.yaml'")


def test_missing_study_and_items(tmp_path):
    err, path = fails(tmp_path, "tool: SYRCLE\n")
    named(err, path, "study", "missing required field")
    named(err, path, "items", "missing required field")


def test_a_file_naming_another_tool_is_checked_against_that_tool_or_the_configured_one(tmp_path):
    err, path = fails(tmp_path, rob_text().replace("tool: SYRCLE", "tool: RoB2"))
    problem = named(err, path, "items.random_housing", "unknown RoB 2 domain 'random_housing'")
    assert "randomisation, deviations" in problem.hint
    path = write(tmp_path, rob_text().replace("tool: SYRCLE", "tool: RoB2"))
    with pytest.raises(ReviewInputError) as info:
        load_rob(path, load_tool("syrcle"))
    named(info.value, path, "tool", "the file names tool 'RoB2' but the review uses SYRCLE")


def test_invalid_yaml_names_the_line(tmp_path):
    err, path = fails(tmp_path, "study: liao2021\nitems:\n  sequence_generation: {judgement: low\n")
    assert err.file == str(path) and err.field.startswith("line ") and "invalid YAML" in err.message


def test_summary_counts_per_item_and_per_study(tmp_path):
    docs = []
    for sid, judgement in (("a2020", "low"), ("b2021", "high"), ("c2022", "unclear")):
        text = rob_text(sid, override={"sequence_generation":
                                       f"  sequence_generation: {{judgement: {judgement}, support: x}}"})
        docs.append(rob_document(load_rob(write(tmp_path, text, sid))))
    summary = summarise(docs, ["c2022", "a2020", "b2021"])
    assert summary["tool"] == "SYRCLE" and [i["id"] for i in summary["items"]] == list(ITEM_IDS)
    assert summary["summary"]["sequence_generation"] == {"low": 1, "high": 1, "unclear": 1}
    assert summary["summary"]["random_housing"] == {"low": 0, "high": 0, "unclear": 3}
    assert summary["per_study"]["a2020"] == {"low": 1, "high": 0, "unclear": 9}
    assert list(summary["studies"]) == ["a2020", "b2021", "c2022"]
    assert summary["studies"]["b2021"]["sequence_generation"]["judgement"] == "high"


def test_summary_needs_a_file_for_every_included_study_and_a_study_for_every_file(tmp_path):
    docs = [rob_document(load_rob(write(tmp_path, rob_text(sid), sid))) for sid in ("a2020", "b2021")]
    with pytest.raises(ReviewInputError) as info:
        summarise(docs, ["a2020", "b2021", "c2022"])
    named(info.value, tmp_path / "risk_of_bias" / "c2022.yaml", "(file)",
          "no risk-of-bias file for included study 'c2022'")
    with pytest.raises(ReviewInputError) as info:
        summarise(docs, ["a2020"])
    named(info.value, tmp_path / "risk_of_bias" / "b2021.yaml", "study", "not an included study")


# -- the example: consistent with the published review's text ---------------------------------------

def test_example_judgements_follow_the_published_text(repo):
    folder = repo / "review" / "risk_of_bias"
    docs = [rob_document(load_rob(p)) for p in sorted(folder.glob("*.yaml"))]
    studies = sorted(p.stem for p in (repo / "review" / "studies").glob("*.yaml"))
    summary = summarise(docs, studies)
    counts = summary["summary"]
    assert len(studies) == 10
    assert counts["sequence_generation"]["low"] <= 1                     # 90% did not report it
    assert counts["allocation_concealment"] == {"low": 1, "high": 0, "unclear": 9}
    assert counts["baseline_characteristics"] == {"low": 3, "high": 1, "unclear": 6}
    for item in ("blinding_caregivers", "blinding_assessors"):           # no study reported blinding
        assert counts[item] == {"low": 0, "high": 0, "unclear": 10}
    for item in ("incomplete_outcome_data", "selective_reporting"):       # all low
        assert counts[item] == {"low": 10, "high": 0, "unclear": 0}
    # the two studies that did not report the number of animals (Table 1: NA) carry a higher risk
    high_other = {s for s, items in summary["studies"].items() if items["other_bias"]["judgement"] == "high"}
    assert high_other == {"guan2023", "peng2023"}
    # "most studies displayed an uncertain risk of bias"
    assert sum(c["unclear"] for c in summary["per_study"].values()) > 50
    for items in summary["studies"].values():
        for entry in items.values():
            assert "reconstructed from the published review's text" in entry["support"].lower()
