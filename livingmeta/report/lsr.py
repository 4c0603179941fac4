"""Reporting a living systematic review: PRISMA-LSR (Akl et al. 2024, BMJ 387:e079183).

* :func:`living_block`: the living-mode parameters of review.yaml (PRISMA-LSR item L1) for results.json::

      living:
        status: active                # active | paused | retired
        justification: text           # why the review is kept living (rationale element)
        search_schedule: {pubmed: monthly, embase: every 3 months}   # or one text for every source
        other_steps: text             # screening, extraction, risk of bias, analysis, GRADE, publication
        retirement: text              # the plan for retirement from the living mode (or that there is none)
        next_update: 2027-01-15       # the next planned update

* :func:`triggers`: what triggered this version (new records, new studies, corrected data, changed methods)
  from ``what_changed`` and the previous version's methods;
* :func:`checklist`: the PRISMA-LSR items and elements a living review adds to PRISMA 2020, each mapped to
  the part of this report that reports it, and whether this version does.
"""

from __future__ import annotations

import datetime
from typing import Any

STATUSES = ("active", "paused", "retired")
LIVING_KEYS = ("status", "justification", "search_schedule", "other_steps", "retirement", "next_update")
# methods keys that define the analysis (a change is a "changed methods" trigger); text, software and
# screening agreement change with every version and are not compared
METHOD_KEYS = ("measure", "smd_variance", "method", "test", "level", "prediction_interval", "subgroup_tau2",
               "subgroups", "leave_one_out", "small_study_min_k", "risk_of_bias_tool")


def _text(value: Any) -> str | None:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).strip() if isinstance(value, (str, int, float)) and str(value).strip() else None


def living_block(raw: dict | None) -> dict[str, Any]:
    """review.yaml's ``living`` block normalised (validated by ``livingmeta.extraction.review``)."""
    block = (raw or {}).get("living") if isinstance((raw or {}).get("living"), dict) else {}
    schedule = block.get("search_schedule")
    if isinstance(schedule, dict):
        schedule = {str(k): _text(v) for k, v in schedule.items() if _text(v)}
    else:
        schedule = _text(schedule)
    status = _text(block.get("status"))
    return {"status": status.lower() if status else "active", "status_stated": status is not None,
            "justification": _text(block.get("justification")), "search_schedule": schedule or None,
            "other_steps": _text(block.get("other_steps")), "retirement": _text(block.get("retirement")),
            "next_update": _text(block.get("next_update"))}


def _methods_key(methods: dict | None) -> dict:
    return {k: (methods or {}).get(k) for k in METHOD_KEYS}


def triggers(changes: dict, previous: dict | None, current: dict) -> list[str]:
    """What triggered this version, from ``what_changed`` and both versions' methods: "first version", or
    any of "new records", "new studies", "corrected data", "removed studies", "changed methods", else
    "re-rendered report" (nothing a reader's numbers depend on changed)."""
    if previous is None:
        return ["first version"]
    out = []
    identified = (changes.get("records") or {})
    screened = identified.get("records_screened") or {}
    if isinstance(screened.get("current"), (int, float)) and isinstance(screened.get("previous"), (int, float)) \
            and screened["current"] > screened["previous"]:
        out.append("new records")
    if changes.get("studies_added"):
        out.append("new studies")
    if changes.get("studies_corrected"):
        out.append("corrected data")
    if changes.get("studies_removed"):
        out.append("removed studies")
    if _methods_key(previous.get("methods")) != _methods_key(current.get("methods")):
        out.append("changed methods")
    return out or ["re-rendered report"]


def _item(section: str, element: str, where: str, reported: bool, todo: str | None = None) -> dict:
    return {"section": section, "element": element, "where": where, "reported": bool(reported),
            "todo": None if reported else todo}


def checklist(results: dict) -> list[dict]:
    """The PRISMA-LSR additions to PRISMA 2020 (Akl et al. 2024, Table 1; new items L1-L4 and new elements
    of existing items), each with where this report gives it and whether this version does."""
    review = results.get("review") or {}
    living = review.get("living") or {}
    changes = results.get("what_changed") or {}
    first = changes.get("previous_version") is None
    schedule = living.get("search_schedule")
    return [
        _item("Title", "Identify the report as living; give the version number", "Title page",
              "living" in str(review.get("title") or "").lower() and bool(results.get("version")),
              "Put 'living' in the title in review.yaml."),
        _item("Abstract", "Say whether the review is retired from the living mode with this version",
              "Title page: status", living.get("status_stated"), "Add living.status to review.yaml."),
        _item("Rationale", "Justify the living mode", "Methods: Living mode", living.get("justification"),
              "Add living.justification to review.yaml."),
        _item("Rationale", "Cite the preceding version", "Title page: preceding version", True),
        _item("L1 Living mode parameters", "Schedule of the search per source", "Methods: Living mode",
              schedule, "Add living.search_schedule to review.yaml."),
        _item("L1 Living mode parameters", "Schedules of the other steps (screening to publication)",
              "Methods: Living mode", living.get("other_steps"), "Add living.other_steps to review.yaml."),
        _item("L1 Living mode parameters", "Plan for retirement from the living mode (or that there is none)",
              "Methods: Living mode", living.get("retirement"), "Add living.retirement to review.yaml."),
        _item("Information sources", "Date of the last search of each source", "Section 3: searches",
              bool(results.get("searches")), "Name search exports by date (searches/<source>/<date>.<ext>)."),
        _item("L2 Changes to the methods", "Changes to the methods since the preceding version",
              "What changed: trigger", True),
        _item("Results", "What triggered this version", "What changed: trigger", True),
        _item("L3 Changes to the results", "Studies added, corrected and removed; changes in each analysis and "
              "in its conclusion", "What changed" if not first else "What changed (first version)", True),
        _item("Study selection", "Flow of records of this version beside the preceding ones (PRISMA-LSR flow "
              "diagram)", "Section 3: PRISMA flow diagram", True),
        _item("Certainty of evidence", "Certainty per outcome at this version, changes flagged",
              "Section 1: summary of findings",
              any(a.get("certainty") for a in results.get("analyses") or []), "Pool at least one analysis."),
        _item("L4 Authors and their roles", "The authors of this version", "Title page: authors",
              bool(review.get("authors")), "Add authors to review.yaml."),
        _item("Other information", "The next planned update", "Title page: next update",
              living.get("next_update"), "Add living.next_update to review.yaml."),
    ]


def methods_text(living: dict) -> str | None:
    """The "Living mode" paragraph of Methods (PRISMA-LSR item L1), or None when nothing is stated."""
    parts = []
    if living.get("justification"):
        parts.append(f"The review is kept living because {living['justification'].rstrip('.')[:1].lower()}"
                     f"{living['justification'].rstrip('.')[1:]}.")
    schedule = living.get("search_schedule")
    if isinstance(schedule, dict):
        parts.append("Searches are scheduled per source: " + "; ".join(f"{k}, {v}" for k, v in schedule.items()) + ".")
    elif schedule:
        parts.append(f"Searches are scheduled: {schedule.rstrip('.')}.")
    if living.get("other_steps"):
        parts.append(f"Other steps: {living['other_steps'].rstrip('.')}.")
    parts.append("Every run re-analyses what new or corrected evidence affects and publishes a new version "
                 "only when a result a reader sees has changed; each version states what triggered it.")
    if living.get("retirement"):
        parts.append(f"Retirement from the living mode: {living['retirement'].rstrip('.')}.")
    return " ".join(parts) if len(parts) > 1 else None
