"""Small-study effects in the report (PRISMA 2020 items 14 and 21): the methods sentence, results.json's
small_study block, the funnel plot with Egger's test when assessed, one line when not."""
from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import markupsafe

from livingmeta.analyses import small_study_effects
from livingmeta.report import fmt, pdf, svg
from livingmeta.report.render import render_html

SVG = "{http://www.w3.org/2000/svg}"
HISTO = "histological_grade__end_of_study"


def _assessed(a: dict) -> dict:
    """The small_study block the pool job writes for analysis ``a`` with small_study_min_k = 3."""
    model = {k: a[k] for k in ("measure", "method", "test", "level")}
    return small_study_effects(a["studies"], {**model, "small_study_min_k": 3})


def _section(page: str, aid: str) -> str:
    start = page.index(f'<section class="analysis" id="analysis-{aid}">')
    return page[start:page.index("</section>", start)]


def _with_block(results: dict, index: int, block: dict) -> dict:
    data = copy.deepcopy(results)
    data["analyses"][index]["small_study"] = block
    return data


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
    funnels = [ET.fromstring(s) for s in re.findall(r'<svg\b[^>]*class="figure-svg funnel".*?</svg>', dhi, re.S)]
    assert len(funnels) == 1
    root = funnels[0]
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


def test_not_assessed_analysis_gets_one_line(results):
    block = {"assessed": False, "min_k": 10, "reason": "fewer than 10 studies (k = 4)"}
    page = render_html(_with_block(results, 0, block))
    dhi = _section(page, results["analyses"][0]["analysis"])
    assert '<p class="empty">Small-study effects not assessed: fewer than 10 studies (k = 4).</p>' in dhi
    assert "funnel" not in dhi and "Egger" not in dhi


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
