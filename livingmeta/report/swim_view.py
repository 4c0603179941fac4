"""The view of the synthesis-without-meta-analysis section (templates/swim.html.j2), from results.json's
``synthesis`` block (livingmeta.synthesis.build) and ``risk_of_bias`` only: per group the evidence table,
the effect direction plot (Thomson and Thomas 2013) and the vote counts; the evidence maps; the SWiM text."""

from __future__ import annotations

from typing import Any

from livingmeta.report import svg_direction

NOT_REPORTED = "not reported"   # livingmeta.synthesis.build.NOT_REPORTED

DIRECTION_SYMBOL = {"benefit": "\u25B2", "harm": "\u25BC", "no_clear_difference": "\u25C4\u25BA",
                    "mixed": "\u25B2\u25BC"}


def _markup(text: str):
    import markupsafe

    return markupsafe.Markup(text)


def _p(p: float | None) -> str:
    if p is None:
        return "\u2014"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _prop(v: dict) -> str:
    if v.get("proportion") is None:
        return "\u2014"
    return f"{v['proportion']:.2f} [{v['ci_lb']:.2f}, {v['ci_ub']:.2f}]"


def swim_view(results: dict) -> dict[str, Any] | None:
    """None when the review has no direction-only entries (the section is then not shown)."""
    block = results.get("synthesis")
    if not block or not block.get("groups"):
        return None
    rob = results.get("risk_of_bias") or {}
    labels = {d["id"]: d["label"] for d in block.get("domains") or []}
    changed = results.get("what_changed") or {}
    previous = changed.get("previous_version")   # "what changed": new studies per group since that version
    added = set(changed.get("studies_added") or []) if previous else set()
    groups = []
    for g in block["groups"]:
        if not g.get("studies"):
            continue
        rows = []
        for s in g["studies"]:
            cells = []
            for dom in g["domains"]:
                cell = (s.get("directions") or {}).get(dom)
                if cell:
                    cells.append({"symbol": DIRECTION_SYMBOL.get(cell["direction"], "?"), "domain": labels.get(dom, dom),
                                  "text": svg_direction.DIRECTION_TEXT.get(cell["direction"], ""),
                                  "note": cell.get("note")})
            rows.append({"label": s.get("label"), "study": s.get("study"),
                         "characteristics": ["NR" if s["characteristics"].get(c) in (None, NOT_REPORTED)
                                             else s["characteristics"][c] for c in block.get("characteristics") or []],
                         "cells": cells, "sources": "; ".join(s.get("sources") or [])})
        votes = [{"domain": labels.get(dom, dom), **g["votes"][dom], "p": _p(g["votes"][dom]["sign_test_p"]),
                  "prop": _prop(g["votes"][dom])} for dom in g["domains"]]
        ov = g["overall_vote"]
        votes.append({"domain": "Study overall", **ov, "p": _p(ov["sign_test_p"]), "prop": _prop(ov), "overall": True})
        groups.append({"id": g["id"], "label": g["label"], "k": g["k"], "rows": rows,
                       "new": sum(1 for st in g["studies"] if st.get("study") in added) if previous else None,
                       "domains": [labels.get(d, d) for d in g["domains"]], "votes": votes,
                       "plot": _markup(svg_direction.effect_direction_plot(g, block.get("domains") or [], rob))})
    maps = []
    for m in block.get("evidence_map") or []:
        info = dict(m)
        info["_groups"] = [{"id": g["id"], "label": g["label"], "k": g["k"]} for g in block["groups"] if g.get("studies")]
        maps.append({"characteristic": m["characteristic"].replace("_", " "), "slug": m["characteristic"].replace("_", "-"),
                     "svg": _markup(svg_direction.evidence_map(info, block.get("group_label") or "Group",
                                                               m["characteristic"]))})
    return {"groups": groups, "maps": maps, "text": block.get("text") or {},
            "characteristics": [c.replace("_", " ") for c in block.get("characteristics") or []],
            "previous_version": previous,
            "group_label": block.get("group_label"), "k": block.get("k"), "level": block.get("level")}
