"""Risk-of-bias files validated against the review's tool; overall judgements by the tool's rule, and
reviewer overrides only with their reason."""
from __future__ import annotations

import pytest
import yaml

from livingmeta.errors import ReviewInputError
from livingmeta.rob import load_rob, load_tool, rob_document, summarise

from .helpers import all_domains, fails, one, problems_of, rob_file
from .test_tools import definition


def test_rob2_file_gets_the_overall_judgement_by_the_rule(tmp_path):
    tool = load_tool("rob2")
    path = rob_file(tmp_path, "smith2020", all_domains("rob2", "low", deviations="Some concerns"), tool="RoB 2")
    rob = load_rob(path, tool)
    assert rob["tool"] == "RoB 2" and rob["items"]["deviations"]["judgement"] == "some_concerns"
    assert rob["overall"] == {"judgement": "some_concerns", "rule": "some_concerns", "support": None,
                              "source": "rule"}
    path = rob_file(tmp_path, "jones2021", all_domains("rob2", "low", missing_outcome_data="high"))
    assert load_rob(path, tool)["overall"]["judgement"] == "high"
    path = rob_file(tmp_path, "lee2022", all_domains("rob2", "low"))
    assert load_rob(path, tool)["overall"]["judgement"] == "low"


def test_unknown_judgement_names_file_domain_and_allowed_values(tmp_path):
    tool = load_tool("rob2")
    path = rob_file(tmp_path, "smith2020", all_domains("rob2", "low", randomisation="unclear"))
    problem = one(fails(path, tool), "domains.randomisation.judgement")
    assert problem.file == str(path)
    assert "unknown judgement 'unclear' for domain 1 (Bias arising from the randomisation process)" in problem.message
    assert "low, some_concerns, high" in problem.hint


def test_missing_and_unknown_domains(tmp_path):
    tool = load_tool("robins_i")
    judgements = all_domains("robins_i", "moderate")
    del judgements["confounding"]
    judgements["blinding"] = "low"
    problems = fails(rob_file(tmp_path, "cohort2019", judgements), tool)
    assert "missing judgement for domain 1 (Bias due to confounding)" in one(problems, "domains.confounding").message
    problem = one(problems, "domains.blinding")
    assert "unknown ROBINS-I domain 'blinding'" in problem.message and "participant_selection" in problem.hint


def test_an_override_that_contradicts_the_rule_needs_its_reason(tmp_path):
    tool = load_tool("rob2")
    judgements = all_domains("rob2", "some_concerns", randomisation="low", reported_result="low")
    path = rob_file(tmp_path, "smith2020", judgements, overall="{judgement: high}")
    problem = one(fails(path, tool), "overall.judgement")
    assert "overall judgement 'high' contradicts RoB 2's rule, which gives 'some_concerns'" in problem.message
    assert "support" in problem.hint
    # RoB 2: some concerns in several domains may be judged high, as the reviewers' stated judgement
    path = rob_file(tmp_path, "smith2020", judgements,
                    overall="{judgement: high, support: \"Some concerns in three domains lower confidence.\"}")
    overall = load_rob(path, tool)["overall"]
    assert overall == {"judgement": "high", "rule": "some_concerns", "source": "override",
                       "support": "Some concerns in three domains lower confidence."}
    # agreeing with the rule needs no reason
    path = rob_file(tmp_path, "smith2020", judgements, overall="{judgement: Some concerns}")
    assert load_rob(path, tool)["overall"]["source"] == "rule"


def test_robins_i_no_information_override_when_the_domain_is_not_key(tmp_path):
    tool = load_tool("robins_i")
    judgements = all_domains("robins_i", "low", missing_data="no information", confounding="moderate")
    path = rob_file(tmp_path, "cohort2019", judgements)
    assert load_rob(path, tool)["overall"]["judgement"] == "no_information"
    path = rob_file(tmp_path, "cohort2019", judgements,
                    overall="{judgement: moderate, support: \"Missing data is not a key domain here.\"}")
    assert load_rob(path, tool)["overall"]["source"] == "override"


def test_syrcle_has_no_rule_so_a_reviewer_overall_needs_support(tmp_path):
    tool = load_tool("syrcle")
    judgements = all_domains("syrcle", "unclear")
    path = rob_file(tmp_path, "liao2021", judgements, key="items")
    assert load_rob(path, tool)["overall"] is None
    path = rob_file(tmp_path, "liao2021", judgements, key="items", overall="{judgement: unclear}")
    assert "needs its reason" in one(fails(path, tool), "overall.support").message
    path = rob_file(tmp_path, "liao2021", judgements, key="items",
                    overall="{judgement: unclear, support: Most items not reported.}")
    assert load_rob(path, tool)["overall"]["source"] == "reviewer"


def test_bad_overall_judgement_and_shape(tmp_path):
    tool = load_tool("rob2")
    path = rob_file(tmp_path, "smith2020", all_domains("rob2", "low"), overall="{judgement: moderate, support: x}")
    problem = one(fails(path, tool), "overall.judgement")
    assert "unknown judgement 'moderate'" in problem.message and "some_concerns" in problem.hint
    path = rob_file(tmp_path, "smith2020", all_domains("rob2", "low"), overall="[high]")
    one(fails(path, tool), "overall")


def test_signalling_question_answers_are_checked(tmp_path):
    tool = load_tool("rob2")
    path = rob_file(tmp_path, "smith2020", all_domains("rob2", "low"))
    text = path.read_text().replace(
        'randomisation: {judgement: low, support: "Reason for randomisation."}',
        'randomisation: {judgement: low, support: "x", answers: {1.1: Y, 1.2: PY, 1.3: maybe, 2.1: N}}')
    path.write_text(text)
    problems = fails(path, tool)
    assert "unknown answer 'maybe'" in one(problems, "domains.randomisation.answers.1.3").message
    assert "unknown signalling question '2.1'" in one(problems, "domains.randomisation.answers.2.1").message
    path.write_text(text.replace(", 1.3: maybe, 2.1: N", ""))
    assert load_rob(path, tool)["items"]["randomisation"]["answers"] == {"1.1": "Y", "1.2": "PY"}


def test_a_reviews_own_tool_end_to_end(tmp_path):
    (tmp_path / "tool.yaml").write_text(yaml.safe_dump(definition()), encoding="utf-8")
    tool = load_tool("tool.yaml", tmp_path)
    docs = []
    for sid, judgement in (("a2020", "low"), ("b2021", "some_concerns"), ("c2022", "high")):
        path = rob_file(tmp_path, sid, {f"d{i}": judgement for i in range(1, 5)}, tool="Our tool")
        # without the configured tool (planning-time checks), a file naming an unknown tool is not judged
        assert load_rob(path)["items"] == {}
        docs.append(rob_document(load_rob(path, tool)))
    summary = summarise(docs, ["a2020", "b2021", "c2022"], tool)
    assert summary["tool"] == "Our tool" and summary["term"] == "domain"
    assert {s: o["judgement"] for s, o in summary["overall"].items()} == {
        "a2020": "low", "b2021": "high", "c2022": "high"}       # 4 x some concerns >= 3 -> high
    assert summary["overall_summary"] == {"low": 1, "some_concerns": 0, "high": 2}
    assert summary["summary"]["d1"] == {"low": 1, "some_concerns": 1, "high": 1}
    assert [j["id"] for j in summary["judgements"]] == ["low", "some_concerns", "high"]


def test_summary_rejects_a_document_assessed_with_another_tool(tmp_path):
    syrcle_doc = rob_document(load_rob(rob_file(tmp_path, "a2020", all_domains("syrcle", "low"), key="items")))
    rob2_doc = rob_document(load_rob(rob_file(tmp_path, "b2021", all_domains("rob2", "low")), load_tool("rob2")))
    with pytest.raises(ReviewInputError) as info:
        summarise([syrcle_doc, rob2_doc], ["a2020", "b2021"], load_tool("rob2"))
    problem = problems_of(info.value)[0]
    assert problem.file.endswith("a2020.yaml") and "assessed with SYRCLE, but the review uses RoB 2" in problem.message


def test_without_a_configured_tool_the_file_is_checked_against_the_builtin_tool_it_uses(tmp_path):
    # the planning-time checks call load_rob(path) without the config: a RoB 2 file without `tool:`
    path = rob_file(tmp_path, "smith2020", all_domains("rob2", "low"))
    assert load_rob(path)["tool"] == "RoB 2"
    path = rob_file(tmp_path, "smith2020", all_domains("rob2", "low", deviations="moderate"))
    problems = fails(path, None)
    assert "unknown judgement 'moderate'" in one(problems, "domains.deviations.judgement").message
    # a file using none of the built-in tools' domains is left to the rob job (the configured tool)
    path = rob_file(tmp_path, "smith2020", {"d1": "low"})
    assert load_rob(path)["items"] == {} and load_rob(path)["tool"] is None
