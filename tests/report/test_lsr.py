"""PRISMA-LSR reporting: living-mode parameters from review.yaml, what triggered a version, the checklist."""
from __future__ import annotations

import copy

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.review import check_report_fields
from livingmeta.report import lsr
from livingmeta.report.render import render_html

LIVING = {"status": "active", "justification": "New animal studies appear every few months",
          "search_schedule": {"pubmed": "monthly", "embase": "every 3 months"},
          "other_steps": "screening within two weeks of each search", "retirement": "when 30 studies are included",
          "next_update": "2027-01-15"}


def test_living_block_and_methods_paragraph(inputs, build):
    inputs["review"]["living"] = dict(LIVING)
    results = build(inputs)
    living = results["review"]["living"]
    assert living["status"] == "active" and living["search_schedule"]["embase"] == "every 3 months"
    text = next(p["text"] for p in results["methods"]["text"] if p["heading"] == "Living mode")
    assert "pubmed, monthly; embase, every 3 months" in text and "when 30 studies are included" in text
    page = render_html(results)
    assert "next planned update 2027-01-15" in page and 'id="prisma-lsr"' in page
    assert all(row["reported"] for row in lsr.checklist(results) if row["section"].startswith("L1"))


def test_checklist_says_what_is_missing(results):
    rows = lsr.checklist(results)
    missing = {r["element"]: r["todo"] for r in rows if not r["reported"]}
    assert "Add living.search_schedule to review.yaml." in missing.values()
    assert all(r["todo"] is None for r in rows if r["reported"])


def test_triggers():
    prev = {"version": "2026-10-01", "methods": {"measure": "SMD", "method": "REML"}}
    cur = {"methods": {"measure": "SMD", "method": "REML"}}
    changes = {"records": {"records_screened": {"previous": 100, "current": 120}}, "studies_added": ["x"],
               "studies_corrected": [], "studies_removed": []}
    assert lsr.triggers(changes, None, cur) == ["first version"]
    assert lsr.triggers(changes, prev, cur) == ["new records", "new studies"]
    cur2 = copy.deepcopy(cur)
    cur2["methods"]["method"] = "DL"
    none = {"records": {}, "studies_added": [], "studies_corrected": ["y"], "studies_removed": []}
    assert lsr.triggers(none, prev, cur2) == ["corrected data", "changed methods"]
    assert lsr.triggers({"records": {}}, prev, cur) == ["re-rendered report"]


def test_second_version_states_its_trigger(inputs, build, tmp_path):
    from livingmeta.jsonio import write_json

    first = build(inputs)
    write_json(tmp_path / "reports" / "2026-11-01" / "results.json", {**first, "version": "2026-11-01"})
    second = build(inputs, reports_dir=str(tmp_path / "reports"))
    assert second["what_changed"]["triggers"] == ["re-rendered report"]
    page = render_html(second)
    assert 'preceding version <a href="../2026-11-01/report.html">2026-11-01</a>' in page
    assert "Triggered by:</span> re-rendered report; conclusions unchanged" in page


@pytest.mark.parametrize("living, field", [({"status": "dormant"}, "living.status"),
                                           ({"cadence": "monthly"}, "living.cadence"),
                                           ({"search_schedule": {"pubmed": 4}}, "living.search_schedule.pubmed")])
def test_bad_living_block(tmp_path, living, field):
    import yaml

    path = tmp_path / "review.yaml"
    path.write_text(yaml.safe_dump({"living": living}), encoding="utf-8")
    with pytest.raises(ReviewInputError) as err:
        check_report_fields(path)
    assert field in err.value.format()
