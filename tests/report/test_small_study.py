"""Small-study effects in the report (PRISMA 2020 items 14 and 21): the methods sentences, results.json's
small_study block, the funnel plot with Egger's and Begg's tests and trim-and-fill when assessed, one line
when not."""
from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import markupsafe
import pytest

from livingmeta.analyses import small_study_effects
from livingmeta.report import fmt, pdf, svg
from livingmeta.report.render import render_html

SVG = "{http://www.w3.org/2000/svg}"
HISTO = "histological_grade__end_of_study"


def _assessed(a: dict) -> dict:
    """The small_study block the analysis job writes for analysis ``a`` with small_study_min_k = 3."""
    model = {k: a[k] for k in ("measure", "method", "test", "level")}
    return small_study_effects(a["studies"], {**model, "small_study_min_k": 3})


def _section(page: str, aid: str) -> str:
    start = page.index(f'<section class="analysis" id="analysis-{aid}">')
    return page[start:page.index("</section>", start)]


def _with_block(results: dict, index: int, block: dict) -> dict:
    data = copy.deepcopy(results)
    data["analyses"][index]["small_study"] = block
    return data


def _methods_text(results: dict) -> str:
    return next(p["text"] for p in results["methods"]["text"] if p["heading"] == "Small-study effects")


def _funnel(section: str) -> ET.Element:
    svgs = re.findall(r'<svg\b[^>]*class="figure-svg funnel".*?</svg>', section, re.S)
    assert len(svgs) == 1
    return ET.fromstring(svgs[0])


def _circles(root: ET.Element, cls: str) -> list[ET.Element]:
    return [c for c in root.iter(f"{SVG}circle") if c.get("class") == cls]


def test_small_study_block_is_copied_from_pooled_json(inputs, build):
    block = {"assessed": False, "min_k": 10, "reason": "fewer than 10 studies (k = 4)"}
    inputs["pooled"][0]["small_study"] = block
    results = build(inputs)
    assert results["analyses"][0]["small_study"] == block
    assert results["analyses"][1]["small_study"] is None  # a pooled.json without the block


def test_methods_say_how_small_study_effects_were_assessed(results, inputs, build):
    text = next(p["text"] for p in results["methods"]["text"] if p["heading"] == "Small-study effects")
    assert "Egger's regression test" in text and "funnel plot" in text
    assert "at least 10 studies" in text and "Zwetsloot" in text and "1/\u221an" in text
    assert results["methods"]["small_study_min_k"] == 10
    config = copy.deepcopy(inputs["config"])
    config["analysis"].update(measure="MD", small_study_min_k=5)
    text = next(p["text"] for p in build(inputs, config=config)["methods"]["text"]
                if p["heading"] == "Small-study effects")
    assert "at least 5 studies" in text and "Zwetsloot" not in text  # the 1/sqrt(n) predictor is for SMDs


def test_assessed_analysis_gets_a_funnel_plot_and_egger_line(results):
    a = results["analyses"][0]  # DHI 4 weeks, k = 4
    block = _assessed(a)
    page = render_html(_with_block(results, 0, block))
    dhi = _section(page, a["analysis"])
    assert "<h4>Small-study effects</h4>" in dhi and "not assessed" not in dhi
    root = _funnel(dhi)
    assert root.find(f"{SVG}title").text == "Funnel plot: Disc height index (DHI), 4 weeks"
    dots = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "study"]
    assert len(dots) == a["k"] == 4
    # SE axis inverted: the most precise study is drawn highest
    sei = {p["study"]: p["sei"] for p in block["funnel"]["studies"]}
    by_y = sorted(dots, key=lambda c: float(c.get("cy")))
    assert by_y[0].find(f"{SVG}title").text.startswith(
        next(s["label"] for s in a["studies"] if s["study"] == min(sei, key=sei.get)))
    se, sq = block["egger_se"], block["egger_sqrtninv"]
    line = svg.egger_text({**a, "small_study": block})
    assert line == (f"Egger's regression test: SE as predictor t = {fmt.num(se['zval'])}, df = 2 "
                    f"({fmt.p_eq(se['pval'])}); 1/\u221an as predictor t = {fmt.num(sq['zval'])}, df = 2 "
                    f"({fmt.p_eq(sq['pval'])})")
    assert f'<p class="egger">{markupsafe.escape(line)}.</p>' in dhi
    # the other analyses (no block) get neither a funnel nor a line
    assert "Small-study effects" not in _section(page, HISTO)


def test_assessed_analysis_gets_begg_and_trim_and_fill_lines_and_open_circles(results):
    a = results["analyses"][0]  # DHI 4 weeks: trim-and-fill imputes one study on the left
    block = _assessed(a)
    rank, tf = block["rank_test"], block["trim_and_fill"]
    assert tf["k0"] == 1 and tf["side"] == "left" and len(tf["imputed"]) == 1
    dhi = _section(render_html(_with_block(results, 0, block)), a["analysis"])
    begg = (f"Begg's rank correlation: Kendall's \u03c4 = {fmt.num(rank['tau'])}, {fmt.p_eq(rank['pval'])}")
    fill = (f"Trim-and-fill (L0): 1 study imputed on the left; adjusted SMD {fmt.num(tf['estimate'])} "
            f"(95% CI {fmt.num(tf['ci_lb'])} to {fmt.num(tf['ci_ub'])})")
    assert svg.rank_test_text({**a, "small_study": block}) == begg
    assert svg.trim_and_fill_text({**a, "small_study": block}) == fill
    egger_at = dhi.index('<p class="egger">')
    assert egger_at < dhi.index(f'<p class="rank-test">{markupsafe.escape(begg)}.</p>') < dhi.index(
        f'<p class="trim-and-fill">{markupsafe.escape(fill)}.</p>')
    root = _funnel(dhi)
    dots, opens = _circles(root, "study"), _circles(root, "imputed")
    assert len(dots) == 4 and len(opens) == 1
    # open: white inside, drawn with a stroke; the same outer size as the dots (radius + half the stroke)
    assert opens[0].get("fill") == "#FFFFFF" and opens[0].get("stroke")
    outer = float(opens[0].get("r")) + float(opens[0].get("stroke-width")) / 2
    assert outer == float(dots[0].get("r")) and dots[0].get("stroke") is None
    assert opens[0].find(f"{SVG}title").text == (f"Imputed by trim-and-fill: SMD {fmt.num(tf['imputed'][0]['yi'])}, "
                                                 f"SE {fmt.num(tf['imputed'][0]['sei'])}")
    assert "open circles: studies imputed by trim-and-fill" in dhi
    # drawn at its yi and SE on the observed studies' axes (dots in the funnel block's order)
    observed = block["funnel"]["studies"]
    i, j = min(range(4), key=lambda n: observed[n]["yi"]), max(range(4), key=lambda n: observed[n]["yi"])
    per_unit = (float(dots[j].get("cx")) - float(dots[i].get("cx"))) / (observed[j]["yi"] - observed[i]["yi"])
    expected = float(dots[i].get("cx")) + per_unit * (tf["imputed"][0]["yi"] - observed[i]["yi"])
    assert float(opens[0].get("cx")) == pytest.approx(expected, abs=0.02)
    same_se = next(n for n in range(4) if observed[n]["sei"] == pytest.approx(tf["imputed"][0]["sei"], rel=1e-12))
    assert opens[0].get("cy") == dots[same_se].get("cy")
    # the adjusted estimate: a dotted vertical line at its x, named in the caption
    [dotted] = [ln for ln in root.iter(f"{SVG}line") if ln.get("stroke-dasharray") == "1 2"]
    x_adjusted = float(dots[i].get("cx")) + per_unit * (tf["estimate"] - observed[i]["yi"])
    assert dotted.get("x1") == dotted.get("x2") and float(dotted.get("x1")) == pytest.approx(x_adjusted, abs=0.02)
    assert "dotted line: trim-and-fill adjusted estimate" in dhi


def test_nothing_imputed_gives_one_line_and_no_open_circles(results):
    a = results["analyses"][1]  # histological grade: trim-and-fill imputes no study
    block = _assessed(a)
    assert block["trim_and_fill"]["k0"] == 0 and block["trim_and_fill"]["imputed"] == []
    histo = _section(render_html(_with_block(results, 1, block)), HISTO)
    assert '<p class="trim-and-fill">Trim-and-fill (L0): no studies imputed.</p>' in histo
    assert '<p class="rank-test">Begg&#39;s rank correlation: Kendall&#39;s \u03c4 = ' in histo
    root = _funnel(histo)
    assert len(_circles(root, "study")) == 4 and _circles(root, "imputed") == []
    assert "open circles" not in histo and "imputed by trim-and-fill" not in root.find(f"{SVG}desc").text
    assert "dotted line" not in histo
    assert [ln for ln in root.iter(f"{SVG}line") if ln.get("stroke-dasharray") == "1 2"] == []


def test_methods_name_begg_and_trim_and_fill_only_when_an_analysis_is_assessed(inputs, build):
    assert "Begg" not in _methods_text(build(inputs))  # no analysis assessed
    inputs["pooled"][0]["small_study"] = {"assessed": False, "min_k": 10, "reason": "fewer than 10 studies (k = 4)"}
    assert "Begg" not in _methods_text(build(inputs))
    inputs["pooled"][0]["small_study"] = _assessed(inputs["pooled"][0])
    results = build(inputs)
    text = _methods_text(results)
    assert "Begg and Mazumdar's rank correlation test" in text and "Duval and Tweedie's trim-and-fill" in text
    assert "L0 estimator" in text and "sensitivity analysis" in text and "not a corrected estimate" in text
    # the refit: same tau2 estimator, a z-based CI instead of Knapp-Hartung (metafor 3.8-1)
    assert "same estimator of \u03c4\u00b2" in text and "normal distribution (z test" in text
    assert "not the Knapp\u2013Hartung adjustment" in text
    assert str(markupsafe.escape(text)) in render_html(results)
    config = copy.deepcopy(inputs["config"])
    config["analysis"].update(method="FE", test="z")
    text = _methods_text(build(inputs, config=config))
    assert "same common-effect model" in text and "Knapp" not in text


def test_not_assessed_analysis_gets_one_line(results):
    block = {"assessed": False, "min_k": 10, "reason": "fewer than 10 studies (k = 4)"}
    page = render_html(_with_block(results, 0, block))
    dhi = _section(page, results["analyses"][0]["analysis"])
    assert '<p class="empty">Small-study effects not assessed: fewer than 10 studies (k = 4).</p>' in dhi
    assert "funnel" not in dhi and "Egger" not in dhi
    assert "Begg" not in dhi and "rim-and-fill" not in dhi and "open circles" not in dhi


def test_funnel_text_is_escaped(results):
    data = copy.deepcopy(results)
    a = data["analyses"][0]
    a["studies"][0]["label"] = "Liao <b>& co</b>"
    a["label"] = "DHI <script>"
    a["small_study"] = _assessed(a)
    page = render_html(data)
    assert "<script>" not in page and "<b>&" not in page
    funnel = svg.funnel_plot(a)
    root = ET.fromstring(funnel)  # well-formed despite the markup in the labels
    tips = [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle")]
    assert any(t.startswith("Liao <b>& co</b>:") for t in tips)


def test_funnel_plot_lands_in_its_analysis_pdf_part(results):
    block = _assessed(results["analyses"][1])
    split = pdf.split_report(render_html(_with_block(results, 1, block)))
    parts = {p.name: p.body for p in split.parts}
    assert 'class="figure-svg funnel"' in parts[f"analysis-{HISTO}"]
    assert all('class="figure-svg funnel"' not in body for name, body in parts.items() if name != f"analysis-{HISTO}")


def test_no_funnel_plot_when_not_assessed(results):
    a = copy.deepcopy(results["analyses"][0])
    assert svg.funnel_plot(a) is None  # no block
    a["small_study"] = {"assessed": False, "min_k": 10, "reason": "fewer than 10 studies (k = 4)"}
    assert svg.funnel_plot(a) is None


def test_trim_and_fill_notes_follow_its_line():
    a = {"measure": "SMD", "level": 95, "small_study": {"assessed": True, "trim_and_fill": {
        "estimator": "L0", "k0": 2, "side": "left", "estimate": 0.5, "ci_lb": 0.1, "ci_ub": 0.9,
        "warnings": ["trim-and-fill did not converge in 100 iterations"]}}}
    assert svg.trim_and_fill_text(a) == ("Trim-and-fill (L0): 2 studies imputed on the left; adjusted SMD 0.50 "
                                         "(95% CI 0.10 to 0.90) (note: trim-and-fill did not converge in 100 iterations)")
    a["small_study"]["trim_and_fill"].update(k0=0)
    assert svg.trim_and_fill_text(a) == ("Trim-and-fill (L0): no studies imputed (note: trim-and-fill did not "
                                         "converge in 100 iterations)")
