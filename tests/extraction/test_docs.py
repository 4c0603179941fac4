"""The annotated examples in docs/study-file.md are valid files (the documentation cannot drift)."""
from __future__ import annotations

import re

import pytest

from livingmeta.extraction.effects import compute_effects
from livingmeta.extraction.outcomes import load_outcomes, parse_outcomes
from livingmeta.extraction.studyfile import load_study
from livingmeta.rob import load_rob


def yaml_blocks(repo):
    text = (repo / "docs" / "study-file.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


def block(repo, start):
    found = [b for b in yaml_blocks(repo) if b.startswith(start)]
    assert len(found) == 1, start
    return found[0]


def test_the_documented_study_file_is_valid(repo, tmp_path):
    path = tmp_path / "studies" / "doe2024.yaml"
    path.parent.mkdir()
    path.write_text(block(repo, "# Free comments"), encoding="utf-8")
    outcomes = load_outcomes(repo / "review" / "outcomes.yaml")
    study = load_study(path, outcomes)
    assert study.label == "Doe 2024a" and len(study.outcomes) == 3
    rows = compute_effects(study, outcomes)
    assert [r["direction_flipped"] for r in rows] == [False, False, True]
    assert rows[2]["yi"] < 0          # a healthier score in the treated arm points "down" like the outcome


def test_the_documented_rob_file_is_valid(repo, tmp_path):
    path = tmp_path / "doe2024.yaml"
    path.write_text(block(repo, "study: doe2024 "), encoding="utf-8")
    rob = load_rob(path)
    assert rob["items"]["other_bias"]["judgement"] == "high"


def test_the_documented_outcomes_are_valid(repo):
    import yaml

    outcomes = parse_outcomes(yaml.safe_load(block(repo, "outcomes:\n  - id: dhi  ")), "doc")
    assert outcomes.ids() == ["dhi", "histological_grade"]


def test_the_documented_error_line_is_what_the_validator_says(repo, tmp_path):
    from livingmeta.errors import ReviewInputError

    text = block(repo, "# Free comments").replace("      se: 2.3\n", "      sd: -1\n")
    path = tmp_path / "review" / "studies" / "doe2024.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReviewInputError) as info:
        load_study(path, load_outcomes(repo / "review" / "outcomes.yaml"))
    documented = re.search(r"livingmeta: error: review/studies/doe2024.yaml: (.*)\n",
                           (repo / "docs" / "study-file.md").read_text(encoding="utf-8")).group(1)
    assert info.value.format() == f"{path}: {documented}"


def test_the_readme_shows_the_same_valid_study_file(repo):
    readme = (repo / "README.md").read_text(encoding="utf-8")
    shown = [b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if b.startswith("# Free comments")]
    assert shown == [block(repo, "# Free comments")]


def test_the_init_template_is_the_documented_study_file(repo):
    template = (repo / "livingmeta" / "templates" / "review" / "studies" / "_template.yaml").read_text(encoding="utf-8")
    assert template.split("\n", 1)[1] == block(repo, "# Free comments")


def test_the_documented_other_kinds_are_valid(repo, tmp_path):
    import math

    import yaml

    outcomes = parse_outcomes(yaml.safe_load(block(repo, "outcomes:\n  - id: mortality")), "outcomes.yaml")
    path = tmp_path / "studies" / "roe2023.yaml"
    path.parent.mkdir()
    path.write_text(block(repo, "# One entry of each other"), encoding="utf-8")
    study = load_study(path, outcomes, "SMD")
    assert [e.kind for e in study.outcomes] == ["dichotomous", "generic", "continuous"]
    rows = compute_effects(study, outcomes, "SMD")
    assert [r["measure"] for r in rows] == ["OR", "HR", "NMD"]
    assert rows[0]["yi"] == pytest.approx(math.log(4 * 39 / (48 * 11)))
    assert rows[1]["yi"] == pytest.approx(math.log(0.72))
    assert rows[2]["yi"] == pytest.approx(100 * (62 - 95) / 92)


def test_the_init_template_has_the_documented_other_kinds(repo):
    template = (repo / "livingmeta" / "templates" / "review" / "studies" / "_other_kinds.yaml").read_text(encoding="utf-8")
    assert template.split("\n", 1)[1] == block(repo, "# One entry of each other")


@pytest.mark.parametrize("start, comparisons", [("study: liao2022", ["10 µg", "50 µg"]),
                                                ("study: xu2021", ["rats GelMA", "rats HA", "rabbits GelMA"])])
def test_the_documented_comparisons_are_valid(repo, tmp_path, start, comparisons):
    text = block(repo, start)
    path = tmp_path / "studies" / f"{start.split()[1]}.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    outcomes = load_outcomes(repo / "review" / "outcomes.yaml")
    rows = compute_effects(load_study(path, outcomes), outcomes)
    assert [r["comparison"] for r in rows] == comparisons
    assert rows[1]["n2i"] == rows[0]["n2i"] and rows[1].get("control_group") == rows[0]["control_group"]


def test_the_init_template_has_the_documented_comparisons(repo):
    template = (repo / "livingmeta" / "templates" / "review" / "studies" / "_several_comparisons.yaml").read_text(
        encoding="utf-8")
    assert template.split("\n", 1)[1] == block(repo, "study: liao2022")
