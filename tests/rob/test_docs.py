"""The examples in docs/risk-of-bias.md are valid, and the template is a valid SYRCLE file."""
from __future__ import annotations

import re

from livingmeta.rob import load_rob, load_tool


def blocks(repo) -> list[str]:
    text = (repo / "docs" / "risk-of-bias.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


def test_documented_rob2_file_and_own_tool_are_valid(repo, tmp_path):
    found = blocks(repo)
    study = next(b for b in found if b.startswith("study: smith2020"))
    path = tmp_path / "smith2020.yaml"
    path.write_text(study, encoding="utf-8")
    rob = load_rob(path, load_tool("rob2"))
    assert rob["items"]["deviations"]["judgement"] == "some_concerns"
    assert rob["items"]["randomisation"]["answers"] == {"1.1": "Y", "1.2": "Y", "1.3": "N"}
    assert rob["overall"]["source"] == "rule" and rob["overall"]["judgement"] == "some_concerns"
    own = next(b for b in found if b.startswith("name: Our appraisal tool"))
    (tmp_path / "our_tool.yaml").write_text(own, encoding="utf-8")
    tool = load_tool("our_tool.yaml", tmp_path)
    assert tool.domain_ids == ("recruitment", "attrition")
    assert tool.overall(["some_concerns", "some_concerns"]) == "high"
    assert tool.overall(["some_concerns", "low"]) == "some_concerns"


def test_template_is_a_valid_syrcle_file(repo, tmp_path):
    text = (repo / "livingmeta" / "templates" / "review" / "risk_of_bias" / "_template.yaml").read_text(encoding="utf-8")
    path = tmp_path / "doe2024.yaml"
    path.write_text(text, encoding="utf-8")
    rob = load_rob(path, load_tool("syrcle"))
    assert len(rob["items"]) == 10 and rob["overall"] is None
