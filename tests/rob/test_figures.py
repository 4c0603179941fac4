"""robvis-style figures for any tool: traffic-light table (domains + overall) and the summary bar chart,
unweighted and weighted by the studies' weights in an analysis."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from livingmeta.report import svg
from livingmeta.rob import load_rob, load_tool, rob_document, summarise

from .helpers import all_domains, rob_file

NS = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert float(root.get("width")) <= svg.WIDTH
    return root


def by_class(root, cls):
    return [el for el in root.iter() if cls in (el.get("class") or "").split()]


def visible(t: ET.Element) -> str:
    """The text of a <text> element without its tooltip (<title> child)."""
    title = t.find(f"{NS}title")
    return ((t.text or "") + (title.tail if title is not None and title.tail else "")).strip()


def texts(root) -> list[str]:
    return [visible(t) for t in root.iter(f"{NS}text")]


def fills(root, cls) -> set[str]:
    return {el.get("fill") for el in by_class(root, cls)}


def summary_for(tmp_path, tool_id, rows: dict[str, dict[str, str]], overall: dict[str, str] | None = None):
    tool = load_tool(tool_id)
    docs = []
    for sid, judgements in rows.items():
        path = rob_file(tmp_path, sid, judgements, overall=(overall or {}).get(sid))
        docs.append(rob_document(load_rob(path, tool)))
    return summarise(docs, list(rows), tool)


def rob2_summary(tmp_path):
    return summary_for(tmp_path, "rob2", {
        "a2020": all_domains("rob2", "low"),
        "b2021": all_domains("rob2", "low", deviations="some_concerns"),
        "c2022": all_domains("rob2", "some_concerns", randomisation="high"),
        "d2023": all_domains("rob2", "some_concerns", randomisation="low"),
    }, overall={"d2023": "{judgement: high, support: \"Some concerns in four domains.\"}"})


def test_rob2_traffic_light_has_an_overall_column_in_the_tools_colours(tmp_path):
    rob = rob2_summary(tmp_path)
    root = parse(svg.rob_traffic_light(rob, {"a2020": "Adams 2020"}))
    circles = by_class(root, "rob")
    assert len(circles) == 4 * (5 + 1)
    words = texts(root)
    assert "Overall" in words and "D5" in words and "D6" not in words and "Domains" in words
    assert {"Low risk", "Some concerns", "High risk", "Adams 2020"} <= set(words)
    assert {"+", "\u2212", "\u00d7"} <= set(words)
    tool = load_tool("rob2")
    assert fills(root, "some_concerns") == {next(j.fill for j in tool.judgements if j.id == "some_concerns")}
    # the overall column: the rule for a-c, the reviewers' override for d (its tooltip says so)
    overall = [c for c in circles if c.get("cx") == circles[5].get("cx")]
    assert [c.get("class").split()[1] for c in overall] == ["low", "some_concerns", "high", "high"]
    tip = overall[3].find(f"{NS}title").text
    assert "reviewers' judgement; the tool's rule gives some concerns" in tip and "four domains" in tip
    assert "RoB 2: judgements per study and domain" in root.find(f"{NS}title").text


def test_robins_i_legend_lists_all_five_judgements(tmp_path):
    rob = summary_for(tmp_path, "robins_i", {
        "a2020": all_domains("robins_i", "low", confounding="serious"),
        "b2021": all_domains("robins_i", "moderate", missing_data="no_information"),
        "c2022": all_domains("robins_i", "low", confounding="critical"),
    })
    root = parse(svg.rob_traffic_light(rob))
    assert len(by_class(root, "rob")) == 3 * 8
    words = set(texts(root))
    assert {"Low risk", "Moderate risk", "Serious risk", "Critical risk", "No information", "!"} <= words
    classes = [c.get("class").split()[1] for c in by_class(root, "rob")]
    assert classes[7::8] == ["serious", "no_information", "critical"]    # the overall column


def test_summary_chart_unweighted_and_weighted(tmp_path):
    rob = rob2_summary(tmp_path)
    root = parse(svg.rob_summary_chart(rob))
    assert "proportion of studies" in root.find(f"{NS}title").text
    labels = texts(root)
    assert "Overall" in labels and "Bias arising from the randomisation process" in labels
    bars = by_class(root, "bar")
    rows: dict[str, dict[str, float]] = {}
    for b in bars:
        rows.setdefault(b.get("y"), {})[b.get("class").split()[1]] = float(b.get("width"))
    assert len(rows) == 6                                            # 5 domains + overall
    first = rows[min(rows, key=float)]                               # randomisation: 3 low, 1 high
    total = sum(first.values())
    assert round(first["low"] / total, 3) == 0.75 and round(first["high"] / total, 3) == 0.25
    second = rows[sorted(rows, key=float)[1]]                        # deviations: 1 low, 3 some concerns
    assert round(second["some_concerns"] / sum(second.values()), 3) == 0.75
    # weighted (robvis rob_summary(weighted = TRUE)): a2020 carries 70% of the weight
    weights = {"a2020": 70.0, "b2021": 10.0, "c2022": 10.0, "d2023": 10.0}
    root = parse(svg.rob_summary_chart(rob, weights))
    assert "weight" in root.find(f"{NS}title").text
    rows = {}
    for b in by_class(root, "bar"):
        rows.setdefault(b.get("y"), {})[b.get("class").split()[1]] = float(b.get("width"))
    first = rows[min(rows, key=float)]
    assert round(first["low"] / sum(first.values()), 3) == 0.9      # a2020 + b2021 + d2023
    overall = rows[max(rows, key=float)]
    assert round(overall["low"] / sum(overall.values()), 3) == 0.7 and "90%" in texts(root)


def test_syrcle_figures_drawn_from_the_definition_equal_the_classic_ones(repo, tmp_path):
    folder = repo / "review" / "risk_of_bias"
    docs = [rob_document(load_rob(p)) for p in sorted(folder.glob("*.yaml"))]
    rob = summarise(docs, [d["study"] for d in docs])
    classic = {k: v for k, v in rob.items() if k not in ("judgements", "overall", "overall_rule", "term")}
    assert svg.rob_traffic_light(rob) == svg.rob_traffic_light(classic)
    assert svg.rob_summary_chart(rob) == svg.rob_summary_chart(classic)
    assert "Overall" not in svg.rob_traffic_light(rob)              # SYRCLE has no overall judgement


def test_legend_does_not_cross_the_key_with_few_studies(tmp_path):
    rob = summary_for(tmp_path, "robins_i", {"a2020": all_domains("robins_i", "low")})
    root = parse(svg.rob_traffic_light(rob))
    ys = {visible(t): float(t.get("y")) for t in root.iter(f"{NS}text")}
    key_bottom = max(y for w, y in ys.items() if w.startswith("D7:"))
    assert ys["Judgement:"] > key_bottom and float(root.get("height")) > ys["No information"]
