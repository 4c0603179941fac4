"""The shipped tool definitions and the overall-judgement rules (Sterne et al. 2019 BMJ 366:l4898,
Table 2, for RoB 2; Sterne et al. 2016 BMJ 355:i4919, Table 3, for ROBINS-I)."""
from __future__ import annotations

import itertools

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.rob import ITEMS, find_builtin, load_tool, parse_tool


def test_syrcle_is_the_ten_items_without_an_overall_rule():
    tool = load_tool("syrcle")
    assert tool.name == "SYRCLE" and tool.term == "item" and len(tool.domains) == 10
    assert [d.id for d in tool.domains] == [i.id for i in ITEMS]
    assert [d.group for d in tool.domains][:3] == ["Selection bias"] * 3
    assert tool.judgement_ids == ("low", "unclear", "high") and tool.counted() == ("low", "high", "unclear")
    assert not tool.has_overall_rule and tool.overall(["high"] * 10) is None
    assert load_tool() is tool and load_tool("SYRCLE") is tool


def test_rob2_domains_judgements_and_signalling_questions():
    tool = load_tool("rob2")
    assert tool.name == "RoB 2" and len(tool.domains) == 5
    assert tool.judgement_ids == ("low", "some_concerns", "high")
    assert [len(d.signalling_questions) for d in tool.domains] == [3, 7, 4, 5, 3]
    assert tool.domains[0].signalling_questions[0][0] == "1.1"
    assert "l4898" in tool.reference
    assert tool.normalise("Some concerns") == "some_concerns" and tool.normalise("medium") is None
    for name in ("RoB 2", "rob2", "RoB-2", "ROB2"):
        assert find_builtin(name) is tool


def test_rob2_overall_rule_over_every_combination():
    tool = load_tool("rob2")
    levels = tool.judgement_ids
    for combo in itertools.product(levels, repeat=5):
        expected = "high" if "high" in combo else "low" if set(combo) == {"low"} else "some_concerns"
        assert tool.overall(list(combo)) == expected, combo
    # several domains with some concerns stay "some concerns" by the rule (high only by a reviewer's override)
    assert tool.overall(["some_concerns"] * 5) == "some_concerns"


def test_robins_i_overall_rule_over_every_combination():
    tool = load_tool("ROBINS-I")
    assert len(tool.domains) == 7
    assert tool.judgement_ids == ("low", "moderate", "serious", "critical", "no_information")
    for combo in itertools.product(tool.judgement_ids, repeat=4):
        judgements = list(combo) + ["low"] * 3
        if "critical" in combo:
            expected = "critical"
        elif "serious" in combo:
            expected = "serious"
        elif "no_information" in combo:
            expected = "no_information"
        elif "moderate" in combo:
            expected = "moderate"
        else:
            expected = "low"
        assert tool.overall(judgements) == expected, combo
    assert "critical if any domain is critical" in tool.rule_text()


def definition(**overrides) -> dict:
    data = {
        "name": "Our tool", "term": "domain",
        "judgements": [{"id": "low", "label": "Low risk", "fill": "#009E73", "symbol": "+"},
                       {"id": "some_concerns", "label": "Some concerns", "fill": "#F0E442", "symbol": "-"},
                       {"id": "high", "label": "High risk", "fill": "#D55E00", "symbol": "x"}],
        "domains": [{"id": f"d{i}", "label": f"Domain {i}"} for i in range(1, 5)],
        "overall": {"rule": [{"judgement": "high", "if_any": ["high"]},
                             {"judgement": "high", "if_at_least": {"count": 3, "of": ["some_concerns"]}},
                             {"judgement": "low", "if_all": ["low"]},
                             {"judgement": "some_concerns"}]},
    }
    data.update(overrides)
    return data


def test_a_reviews_own_tool_with_a_counting_rule(tmp_path):
    tool = parse_tool(definition(), tmp_path / "tool.yaml")
    assert tool.overall(["some_concerns"] * 2 + ["low"] * 2) == "some_concerns"
    assert tool.overall(["some_concerns"] * 3 + ["low"]) == "high"
    assert tool.overall(["low"] * 4) == "low"
    assert tool.overall(["high"] + ["low"] * 3) == "high"
    assert tool.rule_text().startswith("high if any domain is high; high if at least 3 domains are some concerns")


def test_own_tool_loaded_from_the_path_in_the_config(tmp_path):
    import yaml
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "tool.yaml").write_text(yaml.safe_dump(definition()), encoding="utf-8")
    assert load_tool("review/tool.yaml", tmp_path).name == "Our tool"
    with pytest.raises(ReviewInputError) as info:
        load_tool("review/other.yaml", tmp_path, source="cfg.yaml")
    err = info.value
    assert err.file == "cfg.yaml" and err.field == "risk_of_bias.tool" and "syrcle, rob2, robins_i" in err.hint


@pytest.mark.parametrize("overrides, field, message", [
    ({"judgements": [{"id": "low", "label": "Low", "fill": "green", "symbol": "+"},
                     {"id": "high", "label": "High", "fill": "#D55E00", "symbol": "x"}]},
     "judgements[0].fill", "must be a colour as #RRGGBB"),
    ({"judgements": [{"id": "low", "label": "Low", "fill": "#009E73"}]}, "judgements", "at least two"),
    ({"domains": []}, "domains", "at least one domain"),
    ({"domains": [{"id": "d1", "label": "A"}, {"id": "d1", "label": "B"}]}, "domains[1].id", "listed twice"),
    ({"overall": {"rule": [{"judgement": "high", "if_any": ["severe"]}, {"judgement": "low"}]}},
     "overall.rule[0].if_any", "unknown judgement 'severe'"),
    ({"overall": {"rule": [{"judgement": "low"}, {"judgement": "high", "if_any": ["high"]}]}},
     "overall.rule[0]", "must be the last one"),
    ({"overall": {"rule": [{"judgement": "high", "if_any": ["high"]}]}},
     "overall.rule[0]", "the last entry must have no condition"),
    ({"overall": {"rule": [{"judgement": "high", "if_at_least": {"count": 0, "of": ["high"]}},
                           {"judgement": "low"}]}},
     "overall.rule[0].if_at_least.count", "whole number >= 1"),
    ({"overall": "worst"}, "overall", "must be `none` or a mapping"),
    ({"term": "question"}, "term", "must be domain or item"),
    ({"colour": "red"}, "colour", ""),
])
def test_bad_definitions_name_the_field(tmp_path, overrides, field, message):
    with pytest.raises(ReviewInputError) as info:
        parse_tool(definition(**overrides), tmp_path / "tool.yaml")
    problems = getattr(info.value, "errors", [info.value])
    found = [p for p in problems if p.field == field]
    assert found and message in found[0].message, "\n".join(p.format() for p in problems)
    assert found[0].file == str(tmp_path / "tool.yaml") and found[0].hint


def test_signalling_questions_keep_their_commas():
    # a comma inside an unquoted flow mapping would cut the text (YAML); the definitions quote them
    tool = load_tool("rob2")
    texts = {q: text for d in tool.domains for q, text in d.signalling_questions}
    assert texts["3.1"] == "Were data for this outcome available for all, or nearly all, participants randomised?"
    assert all(text.endswith("?") for text in texts.values())


def test_the_methods_name_any_tool_from_its_definition():
    from livingmeta.report.methods import _rob_tool_text
    from livingmeta.rob.tool import load_tool

    tool = load_tool("rob2")
    rob = {"title": tool.title, "reference": tool.reference, "term": tool.term,
           "items": [{"id": d} for d in tool.domain_ids], "judgements": [{"label": j.label} for j in tool.judgements],
           "overall_rule": tool.rule_text()}
    text = _rob_tool_text("RoB 2", rob)
    assert text.startswith("Revised Cochrane risk-of-bias tool for randomised trials (Sterne JAC")
    assert "5 domains, each judged low risk, some concerns or high risk" in text
    assert "overall judgement of a study follows the tool's rule (high if any domain is high" in text
