"""The hand-written SVG figures: well-formed XML, the right number of marks, text kept as text,
escaping, clipping, orientation of the "Favours" labels and determinism."""
from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest

from livingmeta.report import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)  # raises on malformed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width")) <= svg.WIDTH and float(root.get("height")) > 0
    return root


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [el for el in root.iter() if cls in (el.get("class") or "").split()]


def visible(t: ET.Element) -> str:
    """The text of a <text> element without its tooltip (<title> child)."""
    title = t.find("s:title", NS)
    return (title.tail or "") if title is not None else "".join(t.itertext())


def texts(root: ET.Element) -> list[str]:
    return [visible(t) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_forest_plot_rows_and_diamond(results):
    a = results["analyses"][0]  # DHI 4 weeks, k = 4
    root = parse(svg.forest_plot(a))
    assert len(by_class(root, "study")) == a["k"] == 4
    assert len(by_class(root, "pooled")) == 1
    assert len(by_class(root, "pi")) == 1
    words = texts(root)
    for row in a["studies"]:
        assert row["label"] in words
    assert "Total (k = 4)" in words
    assert "2.16 [0.86, 3.46]" in words  # pooled estimate printed with its CI
    assert "100.0%" in words and "30.8%" in words  # weights
    assert "Heterogeneity: \u03c4\u00b2 = 0.24; Q = 4.04, df = 3 (p = 0.26); I\u00b2 = 31%" in words
    assert any(w.startswith("Test for overall effect: t = ") and "df = 3" in w for w in words)
    assert words.count("illus.") == 4  # provenance of every row


def test_square_area_follows_weight(results):
    a = results["analyses"][0]
    root = parse(svg.forest_plot(a))
    sides = [float(r.get("width")) for r in by_class(root, "study")]
    weights = [r["weight"] for r in a["studies"]]
    heaviest = max(range(4), key=lambda i: weights[i])
    lightest = min(range(4), key=lambda i: weights[i])
    assert sides[heaviest] == max(sides) and sides[lightest] == min(sides)
    assert (sides[heaviest] / sides[lightest]) ** 2 == pytest.approx(
        ((4 + 10) / (4 + 10 * (weights[lightest] / weights[heaviest]) ** 0.5)) ** 2, rel=0.02)


def test_single_study_plot_has_no_diamond(results):
    a = results["analyses"][2]  # MMP13, k = 1
    root = parse(svg.forest_plot(a))
    assert len(by_class(root, "study")) == 1
    assert by_class(root, "diamond") == [] and by_class(root, "pi") == []
    assert "Single study: no pooled estimate (k = 1)." in texts(root)
    assert not any(w.startswith("Heterogeneity") for w in texts(root))


def test_wide_intervals_are_clipped_with_arrows(results):
    a = copy.deepcopy(results["analyses"][0])
    a["studies"][0]["ci_lb"], a["studies"][0]["ci_ub"] = -40.0, 45.0
    root = parse(svg.forest_plot(a))
    assert len(by_class(root, "clip")) == 2
    # the axis is stretched by at most half the core span, so the squares keep most of their spread
    xs = [float(r.get("x")) for r in by_class(root, "study")]
    before = [float(r.get("x")) for r in by_class(parse(svg.forest_plot(results["analyses"][0])), "study")]
    assert max(xs) - min(xs) > 0.6 * (max(before) - min(before))
    assert all(svg._Cols("continuous").plot0 <= x <= svg._Cols.plot1 for x in xs)


@pytest.mark.parametrize("higher_is_better, left, right", [
    (True, "Favours control", "Favours treatment"),
    (False, "Favours treatment", "Favours control"),
    (None, "Lower with treatment", "Higher with treatment"),
])
def test_favours_labels_follow_direction(results, higher_is_better, left, right):
    a = dict(results["analyses"][0], higher_is_better=higher_is_better)
    root = parse(svg.forest_plot(a))
    labels = {visible(t): t for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert labels[left].get("text-anchor") == "end" and labels[right].get("text-anchor") is None
    assert float(labels[left].get("x")) < float(labels[right].get("x"))


def test_subgroup_plot(results):
    a = results["analyses"][0]
    sg = a["subgroups"][0]  # hydrogel type: 3 levels
    root = parse(svg.subgroup_forest_plot(a, sg))
    assert len(by_class(root, "subtotal")) == len(sg["levels"]) == 3
    assert len(by_class(root, "pooled")) == 1  # the overall estimate
    assert len(by_class(root, "study")) == sum(len(level["studies"]) for level in sg["levels"])
    words = texts(root)
    assert "Test for subgroup differences: Q = 0.54, df = 2 (p = 0.76)" in words
    for level in sg["levels"]:
        assert level["level"] in words


def test_text_is_escaped():
    a = {"analysis": "x", "label": "A <b>&</b>", "timepoint": "4 weeks", "k": 2, "pooled": True,
         "measure": "SMD", "method": "REML", "test": "z", "level": 95, "estimate": 0.5, "ci_lb": 0.1,
         "ci_ub": 0.9, "pval": 0.01, "tau2": 0.0, "I2": 0.0, "Q": 0.3, "Q_df": 1, "Q_pval": 0.6,
         "pi_lb": None, "pi_ub": None, "higher_is_better": True, "stat": {"name": "z", "value": 2.5, "df": None},
         "studies": [{"study": "s1", "label": "O'Brien & <Smith> 2020", "yi": 0.4, "vi": 0.04, "ci_lb": 0.0,
                      "ci_ub": 0.8, "weight": 50.0, "n1i": 5, "n2i": 5, "provenance": "table"},
                     {"study": "s2", "label": "\"Quoted\" 2021", "yi": 0.6, "vi": 0.04, "ci_lb": 0.2,
                      "ci_ub": 1.0, "weight": 50.0, "n1i": 5, "n2i": 5, "provenance": "text"}]}
    text = svg.forest_plot(a)
    root = parse(text)
    assert "O'Brien & <Smith> 2020" in texts(root)
    assert "<Smith>" not in text and "&amp;" in text
    assert root.find("s:title", NS).text == "Forest plot: A <b>&</b>, 4 weeks"


def test_prisma_flow_updated_review(results):
    root = parse(svg.prisma_flow(results["prisma"]))
    words = " ".join(texts(root))  # wrapped lines joined again
    for expected in ("Previous studies", "Identification of new studies via databases and registers",
                     "Studies included in previous version of review (n = 3)", "Databases (n = 533)",
                     "PubMed (n = 212)", "Web of Science (n = 157)", "Duplicate records removed (n = 131)",
                     "Records screened (n = 402)", "Records excluded (n = 388)",
                     "Reports sought for retrieval (n = 14)", "Reports not retrieved (n = 1)",
                     "Reports assessed for eligibility (n = 13)", "Reports excluded (n = 11):",
                     "outcome not reported (n = 5)", "New studies included in review (n = 2)",
                     "Total studies included in review (n = 5)",
                     # the previous version's own counts
                     "Original review: its own flow", "Searched 2025-01-10", "Records identified: 303",
                     "Studies included: 3", "Identification", "Screening", "Included"):
        assert expected in words, expected


def test_prisma_flow_new_review(results):
    prisma = dict(results["prisma"], previous=None, previous_studies=0)
    root = parse(svg.prisma_flow(prisma))
    words = " ".join(texts(root))
    assert "Previous studies" not in words and "Total studies included" not in words
    assert "New studies included in review (n = 2)" in words


def test_rob_traffic_light_and_summary(results):
    rob = results["risk_of_bias"]
    labels = {s["study"]: s["label"] for s in results["studies"]}
    root = parse(svg.rob_traffic_light(rob, labels))
    circles = by_class(root, "rob")
    assert len(circles) == len(rob["studies"]) * len(rob["items"]) == 50
    judgements = [c.get("class").split()[1] for c in circles]
    assert judgements.count("high") == sum(s["high"] for s in rob["summary"].values())
    words = texts(root)
    assert {"+", "?", "\u2212"} <= set(words)  # symbols, not only colours
    assert "Low risk" in words and "D10" in words and "Zhan 2025" in words

    root = parse(svg.rob_summary_chart(rob))
    bars = by_class(root, "bar")
    assert {b.get("class") for b in bars} == {"bar low", "bar unclear", "bar high"}
    assert "100%" in texts(root) and "80%" in texts(root)
    # each item's segments fill the same width
    widths: dict[float, float] = {}
    for b in bars:
        widths[float(b.get("y"))] = widths.get(float(b.get("y")), 0) + float(b.get("width"))
    assert len(set(round(w, 1) for w in widths.values())) == 1


def test_figures_are_deterministic(results):
    a = results["analyses"][1]
    assert svg.forest_plot(a) == svg.forest_plot(copy.deepcopy(a))
    assert svg.prisma_flow(results["prisma"]) == svg.prisma_flow(copy.deepcopy(results["prisma"]))


def test_axis_range_includes_zero_and_room_on_both_sides():
    lo, hi, ticks = svg.axis_range([1.5, 2.0, 3.2], [0.8, 4.0])
    assert lo < 0 < hi and ticks[0] == lo and ticks[-1] == hi
    assert -lo / (hi - lo) >= 0.2
    lo, hi, ticks = svg.axis_range([-14.2, -12.0], [-60.0, 1.0])
    assert lo >= -30  # a very wide interval does not squash the plot


def test_tall_forest_plot_is_split_into_parts_on_one_scale(results):
    a = copy.deepcopy(results["analyses"][0])
    base = a["studies"][0]
    a["studies"] = [dict(base, study=f"s{i}", label=f"Study {i:02d}", yi=base["yi"] + i / 50) for i in range(70)]
    a["k"] = 70
    text = svg.forest_plot(a)
    parts = [ET.fromstring(p + "</svg>") for p in text.split("</svg>")[:-1]]
    assert len(parts) == 2
    assert all(float(p.get("height")) < 1000 for p in parts)  # each part fits an A4 page (~980 px)
    assert sum(len(by_class(p, "study")) for p in parts) == 70
    assert len(by_class(parts[0], "pooled")) == 0 and len(by_class(parts[1], "pooled")) == 1
    assert "(continued in part 2 of 2)" in texts(parts[0])
    # same axis in both parts
    ticks = [[w for w in texts(p) if w.replace("\u2212", "").isdigit()] for p in parts]
    assert ticks[0][-5:] == ticks[1][-5:] and len(ticks[0][-5:]) == 5


def test_many_studies_split_the_traffic_light_table(results):
    rob = copy.deepcopy(results["risk_of_bias"])
    one = next(iter(rob["studies"].values()))
    rob["studies"] = {f"s{i:02d}": one for i in range(50)}
    text = svg.rob_traffic_light(rob)
    parts = [ET.fromstring(p + "</svg>") for p in text.split("</svg>")[:-1]]
    assert len(parts) == 2 and sum(len(by_class(p, "rob")) for p in parts) == 500
    assert "Low risk" in texts(parts[1]) and "Low risk" not in texts(parts[0])


def _ratio_analysis():
    """A dichotomous analysis on the log scale (odds ratios), with a study without events in either arm."""
    import math

    studies = []
    for sid, a, n1, c, n2, w in (("s1", 4, 50, 9, 48, 40.0), ("s2", 10, 80, 15, 82, 60.0), ("s3", 0, 20, 0, 21, 0.0)):
        est = sid != "s3"
        yi = math.log((a / (n1 - a)) / (c / (n2 - c))) if est else None
        se = math.sqrt(1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)) if est else None
        studies.append({"study": sid, "label": f"Study {sid}", "yi": yi, "vi": se ** 2 if est else None,
                        "ci_lb": yi - 1.96 * se if est else None, "ci_ub": yi + 1.96 * se if est else None,
                        "weight": w, "n1i": n1, "n2i": n2, "ai": a, "ci": c, "kind": "dichotomous",
                        "estimable": est, "provenance": "table"})
    return {"analysis": "death__30_days", "label": "Death", "timepoint": "30 days", "k": 2, "pooled": True,
            "measure": "OR", "scale": "log", "method": "MH", "test": "z", "level": 95,
            "estimate": math.log(0.5), "ci_lb": math.log(0.3), "ci_ub": math.log(0.83), "pval": 0.01, "tau2": 0.0,
            "I2": 0.0, "Q": 0.3, "Q_df": 1, "Q_pval": 0.6, "pi_lb": None, "pi_ub": None, "higher_is_better": False,
            "stat": {"name": "z", "value": -2.6, "df": None}, "studies": studies}


def test_ratio_measures_are_drawn_on_a_log_axis_through_1():
    import re

    a = _ratio_analysis()
    root = parse(svg.forest_plot(a))
    shown = texts(root)
    assert "0.50 [0.30, 0.83]" in shown                      # back-transformed pooled OR
    assert "OR [95% CI]" in shown and "Odds ratio (log scale)" in shown
    assert "4/50" in shown and "9/48" in shown and "14/150" in shown and "24/151" in shown  # per arm; totals
    assert "not estimable" in shown and "M-H, common effect, 95% CI" in shown
    ticks = [t for t in shown if re.fullmatch(r"[0-9.]+", t)]
    assert "1" in ticks and "0.5" in ticks                   # round ratios, 1 among them
    assert not any(re.fullmatch("\u2212[0-9.]+", t) for t in shown)   # no negative logs on the axis
    assert "\u03c4\u00b2" not in " ".join(shown)               # no tau2 for a common-effect 2x2 method


def test_ratio_ticks_are_round_ratios():
    import math

    ticks = [round(math.exp(t), 6) for t in svg.ratio_ticks(math.log(0.08), math.log(12))]
    assert 1.0 in ticks and all(t in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0) for t in ticks)
    narrow = [round(math.exp(t), 6) for t in svg.ratio_ticks(math.log(0.8), math.log(1.3))]
    assert 1.0 in narrow and len(narrow) >= 3
