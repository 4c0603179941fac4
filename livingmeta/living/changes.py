"""What changed between two versions of a living review, and how each analysis moved across versions.

Both work on ``results.json`` documents (the machine-readable twin of each published report), so they
compare exactly what readers saw. The null value is 0 for every measure livingmeta pools (SMD, MD and
ROM on the log scale).
"""

from __future__ import annotations

import json
from typing import Any

NULL_VALUE = 0.0
_PRISMA_KEYS = ("records_screened", "records_excluded", "reports_assessed", "new_studies", "total_studies")


def _analysis_key(a: dict) -> str:
    return a.get("analysis") or f"{a.get('outcome')}__{a.get('timepoint')}"


def excludes_null(a: dict | None) -> bool | None:
    """Whether the CI of ``a`` (an analysis or a leave-one-out row, on the model's scale) excludes the null;
    None without a CI."""
    if not a or a.get("ci_lb") is None or a.get("ci_ub") is None:
        return None
    return a["ci_lb"] > NULL_VALUE or a["ci_ub"] < NULL_VALUE


def _summary(a: dict | None) -> dict | None:
    if not a:
        return None
    return {k: a.get(k) for k in ("k", "estimate", "ci_lb", "ci_ub", "I2", "pval")}


def _proposed_rating(a: dict | None) -> str | None:
    """The GRADE rating proposed from the data (results.json ``certainty.proposed_rating``), or None."""
    return ((a or {}).get("certainty") or {}).get("proposed_rating")


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def what_changed(previous: dict | None, current: dict) -> dict:
    """Differences between the previous published results.json and the current one.

    Returns ``{previous_version, studies_added, studies_removed, studies_corrected, records,
    analyses: [{analysis, outcome, timepoint, status (new|removed|changed|unchanged), previous, current,
    conclusion_changed, note, certainty_previous, certainty_current, certainty_changed}]}``: the GRADE
    rating proposed from the data in each version, changed when both exist and differ (the reviewers
    must look at it again). With no previous version everything is new.
    """
    prev_studies = {s.get("study"): s for s in (previous or {}).get("studies") or []}
    cur_studies = {s.get("study"): s for s in current.get("studies") or []}
    added = sorted(set(cur_studies) - set(prev_studies))
    removed = sorted(set(prev_studies) - set(cur_studies))
    corrected = sorted(s for s in set(cur_studies) & set(prev_studies)
                       if _canonical(cur_studies[s]) != _canonical(prev_studies[s]))

    prev_prisma = (previous or {}).get("prisma") or {}
    cur_prisma = current.get("prisma") or {}
    records = {k: {"previous": prev_prisma.get(k), "current": cur_prisma.get(k)} for k in _PRISMA_KEYS}

    prev_analyses = {_analysis_key(a): a for a in (previous or {}).get("analyses") or []}
    cur_analyses = {_analysis_key(a): a for a in current.get("analyses") or []}
    rows = []
    for key in list(cur_analyses) + [k for k in prev_analyses if k not in cur_analyses]:
        old, new = prev_analyses.get(key), cur_analyses.get(key)
        if old is None:
            status = "new"
        elif new is None:
            status = "removed"
        elif _summary(old) != _summary(new):
            status = "changed"
        else:
            status = "unchanged"
        before, after = excludes_null(old), excludes_null(new)
        changed = before is not None and after is not None and before != after
        note = None
        if changed:
            note = "the CI now excludes the null" if after else "the CI now includes the null"
        ref = new or old
        grade_before, grade_after = _proposed_rating(old), _proposed_rating(new)
        rows.append({"analysis": key, "outcome": ref.get("outcome"), "timepoint": ref.get("timepoint"),
                     "status": status, "previous": _summary(old), "current": _summary(new),
                     "conclusion_changed": changed, "note": note,
                     "certainty_previous": grade_before, "certainty_current": grade_after,
                     "certainty_changed": grade_before is not None and grade_after is not None
                     and grade_before != grade_after})
    return {
        "previous_version": (previous or {}).get("version"),
        "studies_added": added,
        "studies_removed": removed,
        "studies_corrected": corrected,
        "records": records,
        "analyses": rows,
    }


def history(versions: list[dict], current: dict | None = None) -> dict[str, list[dict]]:
    """For each analysis, its estimate and CI at every version (oldest first), ``current`` last.

    ``versions`` are results.json documents of the published versions, oldest first. A version's own
    ``history`` block already holds the points of every version up to it, so the newest version that has
    one is where the history starts: the versions before it need not be read (at 1,000 studies each
    results.json is megabytes, and a living review publishes many).
    """
    out: dict[str, list[dict]] = {}
    docs = list(versions) + ([current] if current is not None else [])
    seen_versions = set()
    base = next((i for i in range(len(versions) - 1, -1, -1) if isinstance(versions[i].get("history"), dict)), None)
    if base is not None:
        for key, points in versions[base]["history"].items():
            out[key] = [dict(p) for p in points or [] if isinstance(p, dict)]
            seen_versions.update(p.get("version") for p in out[key])
        docs = docs[base + 1:]
    for doc in docs:
        version = doc.get("version")
        if version in seen_versions:  # the current run re-rendering an already published version
            continue
        seen_versions.add(version)
        for a in doc.get("analyses") or []:
            out.setdefault(_analysis_key(a), []).append({
                "version": version, "k": a.get("k"), "estimate": a.get("estimate"),
                "ci_lb": a.get("ci_lb"), "ci_ub": a.get("ci_ub")})
    return out
