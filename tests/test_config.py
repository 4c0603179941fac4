import os

import pytest
import yaml

from livingmeta.config import resolve_paths, validate_config
from livingmeta.errors import ReviewInputError


def test_example_config_is_valid_and_gets_defaults(repo):
    cfg = validate_config(yaml.safe_load((repo / "config.yaml").read_text()))
    assert cfg["analysis"]["method"] == "REML"
    assert cfg["analysis"]["test"] == "knha"
    assert cfg["publish"]["enabled"] is True
    assert [s["variable"] for s in cfg["analysis"]["subgroups"]][:2] == ["hydrogel_type", "exosome_source"]


def test_empty_config_gets_every_default():
    cfg = validate_config({})
    assert cfg["review_dir"] == "review"
    assert cfg["analysis"]["measure"] == "SMD"
    assert cfg["analysis"]["smd_variance"] == "LS"
    assert cfg["analysis"]["level"] == 95
    assert cfg["analysis"]["small_study_min_k"] == 10


@pytest.mark.parametrize("config, field, words", [
    ({"analysis": {"method": "REM"}}, "analysis.method", "'REM' is not one of"),
    ({"analysis": {"level": 120}}, "analysis.level", "120"),
    ({"analysis": {"subgroups": [{"label": "x"}]}}, "analysis.subgroups[0]", "'variable' is a required property"),
    ({"analysis": {"small_study_min_k": 1}}, "analysis.small_study_min_k", "1 is less than the minimum of 3"),
    ({"analysis": {"small_study_min_k": "ten"}}, "analysis.small_study_min_k", "'ten' is not of type 'integer'"),
    ({"analysis": {"small_study_min_k": 7.5}}, "analysis.small_study_min_k", "7.5 is not of type 'integer'"),
    ({"reviewdir": "x"}, "(top level)", "reviewdir"),
])
def test_bad_config_names_the_key(config, field, words):
    with pytest.raises(ReviewInputError) as info:
        validate_config(config, source="my/config.yaml")
    text = info.value.format()
    assert text.startswith(f"my/config.yaml: {field}: ")
    assert words in text


def test_paths_are_resolved_against_the_config_folder(tmp_path):
    cfg = validate_config({"review_dir": ".", "results_dir": "out", "reports_dir": "/abs/reports"})
    resolved = resolve_paths(cfg, tmp_path / "myreview", cwd=tmp_path)
    assert resolved["review_dir"] == "myreview"
    assert resolved["results_dir"] == os.path.join("myreview", "out")
    assert resolved["reports_dir"] == "/abs/reports"  # outside the working folder: kept absolute
