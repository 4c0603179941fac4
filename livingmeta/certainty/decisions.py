"""The reviewers' GRADE decisions: ``review/certainty.yaml``.

::

    assessments:
      - analysis: dhi__4_weeks        # an analysis id, or `outcome: dhi` for every time point of an outcome
        decided_by: BW, DX            # REQUIRED: who decided
        date: 2026-11-20              # optional
        illustrative: true            # optional: decisions made for the demonstration only
        domains:                      # any of the five; a domain left out stays as proposed
          risk_of_bias: {downgrade: 1, reason: "Most weight from studies with unclear randomisation."}
          indirectness: {downgrade: 1, reason: "Rat needle-puncture model; human IDD is degenerative."}

``downgrade`` is 0, 1 or 2 levels; ``reason`` is required (the summary-of-findings table prints it as the
footnote of the domain). A rating is *confirmed* when every domain has a decision, otherwise *proposed*
(decided domains applied). An analysis entry beats an outcome entry for the same domain.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from livingmeta.certainty.grade import DOMAINS, propose, rating
from livingmeta.extraction.yamlio import Problems, load_yaml, type_name

_HINT = "Fix certainty.yaml (see docs/certainty.md)."
ENTRY_KEYS = ("analysis", "outcome", "decided_by", "date", "illustrative", "domains", "note")


def parse_decisions(data: Any, file: str | os.PathLike = "certainty.yaml",
                    analyses: dict[str, str] | None = None) -> list[dict]:
    """Validate the content of certainty.yaml. ``analyses``: analysis id -> outcome id, to check that each
    entry names a real analysis or outcome (not checked when None)."""
    problems = Problems(file, _HINT)
    items = data.get("assessments") if isinstance(data, dict) else data
    if isinstance(data, dict):
        problems.unknown_keys(data, ("assessments",), "")
    if data is None:
        return []
    if not isinstance(items, list):
        problems.add("assessments", f"must be a list of assessments (got {type_name(items)})",
                     "Write `assessments:` followed by one `- {analysis: ..., decided_by: ..., domains: {...}}` "
                     "per analysis.")
        problems.raise_if_any()
    out = []
    outcomes = set((analyses or {}).values())
    for i, item in enumerate(items):
        prefix = f"assessments[{i}]"
        if not isinstance(item, dict):
            problems.add(prefix, f"must be a mapping (got {type_name(item)})")
            continue
        problems.unknown_keys(item, ENTRY_KEYS, prefix)
        analysis = problems.text(item, "analysis", prefix, required=False)
        outcome = problems.text(item, "outcome", prefix, required=False)
        if (analysis is None) == (outcome is None):
            problems.add(prefix, "must name exactly one of `analysis` or `outcome`",
                         "Give the analysis id (e.g. `analysis: dhi__4_weeks`) or an outcome id for all its "
                         "time points.")
        elif analyses is not None and analysis is not None and analysis not in analyses:
            problems.add(f"{prefix}.analysis", f"no analysis '{analysis}' in outcomes.yaml",
                         f"Use one of: {', '.join(sorted(analyses)) or '(none yet)'}.")
        elif analyses is not None and outcome is not None and outcome not in outcomes:
            problems.add(f"{prefix}.outcome", f"no outcome '{outcome}' in outcomes.yaml",
                         f"Use one of: {', '.join(sorted(outcomes)) or '(none yet)'}.")
        decided_by = problems.text(item, "decided_by", prefix)
        if isinstance(item.get("date"), datetime.date):   # YAML reads 2026-11-20 as a date
            item = {**item, "date": item["date"].isoformat()}
        problems.text(item, "date", prefix, required=False)
        illustrative = problems.boolean(item, "illustrative", prefix, required=False)
        domains = problems.mapping(item, "domains", prefix) or {}
        parsed: dict[str, dict] = {}
        for name, decision in domains.items():
            field = f"{prefix}.domains.{name}"
            if name not in DOMAINS:
                problems.add(field, f"unknown GRADE domain '{name}'", f"Use one of {', '.join(DOMAINS)}.")
                continue
            if not isinstance(decision, dict):
                problems.add(field, f"must be a mapping {{downgrade, reason}} (got {type_name(decision)})")
                continue
            problems.unknown_keys(decision, ("downgrade", "reason"), field)
            level = decision.get("downgrade")
            if isinstance(level, bool) or level not in (0, 1, 2):
                problems.add(f"{field}.downgrade", f"must be 0, 1 or 2 levels (got {level!s})",
                             "Write how many levels this domain lowers the certainty: 0, 1 or 2.")
                continue
            reason = problems.text(decision, "reason", field)
            if reason is not None:
                parsed[name] = {"downgrade": int(level), "reason": reason}
        out.append({"analysis": analysis, "outcome": outcome, "decided_by": decided_by,
                    "date": str(item["date"]) if item.get("date") is not None else None,
                    "illustrative": bool(illustrative), "domains": parsed})
    problems.raise_if_any()
    return out


def load_decisions(path: str | os.PathLike | None, analyses: dict[str, str] | None = None) -> list[dict]:
    """certainty.yaml's assessments; [] when the file does not exist."""
    if not path or not os.path.isfile(path):
        return []
    return parse_decisions(load_yaml(path, what="certainty decisions"), path, analyses)


def assess(analysis: dict, rob: dict | None, decisions: list[dict], *, ratio: bool = False,
           mid: float | None = None, ois: dict | None = None, unit: str = "participants") -> dict[str, Any]:
    """The ``certainty`` block of one results.json analysis: the proposal, the reviewers' decisions and
    the resulting rating.

    ``{proposed_rating, rating, status (confirmed|proposed), decided_by, date, illustrative, domains: {name:
    {proposed, proposed_reason, basis, downgrade, reason, decided (bool)}}}``."""
    proposal = propose(analysis, rob, ratio=ratio, mid=mid, ois=ois, unit=unit)
    aid, oid = analysis.get("analysis"), analysis.get("outcome")
    chosen: dict[str, dict] = {}
    who: list[dict] = []
    # outcome entries first, analysis entries over them
    for entry in [d for d in decisions if d["outcome"] == oid and d["analysis"] is None] + \
            [d for d in decisions if d["analysis"] == aid]:
        if entry["domains"]:
            who.append(entry)
        for name, decision in entry["domains"].items():
            chosen[name] = decision
    domains = {}
    for name in DOMAINS:
        p = proposal["domains"][name]
        d = chosen.get(name)
        domains[name] = {"proposed": p["downgrade"], "proposed_reason": p["reason"], "basis": p["basis"],
                         "downgrade": d["downgrade"] if d else p["downgrade"],
                         "reason": d["reason"] if d else p["reason"], "decided": d is not None}
    return {
        "proposed_rating": proposal["rating"],
        "rating": rating(v["downgrade"] for v in domains.values()),
        "status": "confirmed" if all(v["decided"] for v in domains.values()) else "proposed",
        "decided_by": "; ".join(dict.fromkeys(e["decided_by"] for e in who if e["decided_by"])) or None,
        "date": max((e["date"] for e in who if e["date"]), default=None),
        "illustrative": any(e["illustrative"] for e in who),
        "domains": domains,
    }
