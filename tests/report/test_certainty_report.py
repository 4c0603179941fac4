"""GRADE in the living cycle: results.json carries each pooled analysis's certainty; a new version whose
proposed rating differs says so in what_changed, in the report and in the update's one-line summary."""
from __future__ import annotations

import copy
import re

from livingmeta.living.changes import what_changed
from livingmeta.report.render import render_html


def test_results_json_certainty_block(results):
    for a in results["analyses"]:
        if a["pooled"]:
            c = a["certainty"]
            assert set(c["domains"]) == {"risk_of_bias", "inconsistency", "indirectness", "imprecision",
                                         "publication_bias"}
            assert c["status"] == "proposed" and c["rating"] in ("high", "moderate", "low", "very low")
        else:
            assert a["certainty"] is None
    page = render_html(results)
    assert 'id="summary-of-findings"' in page and "Certainty of evidence" in page
    # every downgrade has its footnote with its reason
    sof = page[page.index('id="summary-of-findings"'):]
    sof = sof[:sof.index("</p>")]
    downgrades = sum(1 for a in results["analyses"] if a["certainty"]
                     for d in a["certainty"]["domains"].values() if d["downgrade"])
    assert len(re.findall(r"<sup>[a-z]</sup> ", sof)) == downgrades


def test_a_changed_proposal_is_flagged(results):
    previous = copy.deepcopy(results)
    previous["version"] = "2026-10-01"
    a = next(x for x in results["analyses"] if x["pooled"])
    previous_rating = "high" if a["certainty"]["proposed_rating"] != "high" else "low"
    next(x for x in previous["analyses"] if x["analysis"] == a["analysis"])["certainty"]["proposed_rating"] = \
        previous_rating
    diff = what_changed(previous, results)
    row = next(r for r in diff["analyses"] if r["analysis"] == a["analysis"])
    assert row["certainty_changed"] and row["certainty_previous"] == previous_rating
    assert sum(r["certainty_changed"] for r in diff["analyses"]) == 1
    results["what_changed"] = diff
    assert "certainty proposed: " + previous_rating in render_html(results)
