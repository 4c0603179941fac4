"""Each analysis's figures drawn once per content (livingmeta/report/analysis_figures.py): the same HTML from
the cache as drawn afresh, and a change to one analysis (or to one of its studies' risk of bias) draws that
analysis's figures again and no other's."""
from __future__ import annotations

import copy
import json

import pytest

from livingmeta.report import analysis_figures
from livingmeta.report.render import render_html
from tests.report.conftest import CONFIG, WHEN, fixture_paths


@pytest.fixture(scope="module")
def document():
    from livingmeta.jsonio import dumps
    from livingmeta.report.results_json import load_and_build

    return json.loads(dumps(load_and_build(**fixture_paths(), config=CONFIG, reports_dir="/nonexistent", when=WHEN)))


def drawn(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = analysis_figures.draw

    def counting(a, *args):
        calls.append(a["analysis"])
        return real(a, *args)

    monkeypatch.setattr(analysis_figures, "draw", counting)
    return calls


@pytest.mark.parametrize("pages", [False, True])
def test_the_html_from_the_cache_is_the_html_drawn_afresh(document, tmp_path, monkeypatch, pages):
    fresh = render_html(document, pages=pages)
    calls = drawn(monkeypatch)
    assert render_html(document, pages=pages, cache_dir=str(tmp_path)) == fresh
    assert len(calls) == len(document["analyses"])
    assert render_html(document, pages=pages, cache_dir=str(tmp_path)) == fresh
    assert len(calls) == len(document["analyses"])  # the second time: every analysis from the cache
    assert len(list((tmp_path / "report-figures").rglob("*.json"))) == len(document["analyses"])


def test_a_changed_analysis_or_risk_of_bias_draws_only_its_own_figures(document, tmp_path, monkeypatch):
    render_html(document, pages=True, cache_dir=str(tmp_path))
    calls = drawn(monkeypatch)
    changed = copy.deepcopy(document)
    dhi = next(a for a in changed["analyses"] if a["analysis"] == "dhi__4_weeks")
    dhi["estimate"] += 0.01
    assert render_html(changed, pages=True, cache_dir=str(tmp_path)) == render_html(changed, pages=True)
    assert calls[0] == "dhi__4_weeks" and len(calls) == 1 + len(changed["analyses"])  # the second render: uncached
    # the entry of the old estimate was not used: removed
    assert len(list((tmp_path / "report-figures").rglob("*.json"))) == len(document["analyses"])
    # one study's risk of bias: the analyses that include it, only
    calls.clear()
    study = dhi["studies"][0]["study"]
    item = next(iter(changed["risk_of_bias"]["studies"][study]))
    changed["risk_of_bias"]["studies"][study][item]["judgement"] = "high"
    render_html(changed, pages=True, cache_dir=str(tmp_path))
    including = {a["analysis"] for a in changed["analyses"] if any(s["study"] == study for s in a["studies"])}
    assert set(calls) == including and "dhi__4_weeks" in including
    assert len(including) < len(changed["analyses"])


def test_the_review_wide_counts_are_not_part_of_an_analysis_key(document):
    a = document["analyses"][0]
    rob = document["risk_of_bias"]
    shown = analysis_figures.rob_for(a, rob)
    assert "summary" not in shown and set(shown["studies"]) <= {s["study"] for s in a["studies"]}
    assert shown["items"] == rob["items"] and shown.get("judgements") == rob.get("judgements")


def test_a_damaged_or_half_written_entry_is_drawn_again(document, tmp_path):
    fresh = render_html(document, pages=True)
    render_html(document, pages=True, cache_dir=str(tmp_path))
    entries = sorted((tmp_path / "report-figures").rglob("*.json"))
    entries[0].write_text('{"forest": "<svg', encoding="utf-8")  # e.g. a disk filled while writing
    entries[1].write_text("", encoding="utf-8")
    assert render_html(document, pages=True, cache_dir=str(tmp_path)) == fresh
    assert render_html(document, pages=True, cache_dir=str(tmp_path)) == fresh  # and repaired for the next run
