"""PRISMA 2020 flow counts for new and updated reviews, with consistency checks.

The counts of the current version come from the deduplicated library (records identified per source,
duplicates removed) and the screening result (screened, excluded, reports sought / not retrieved /
assessed / excluded with reasons, included); the previous version's own flow comes from
``review/previous_version.yaml`` (format in docs/screening.md). The result is ``results/records/prisma.json``
whose keys follow the ``prisma`` block of results.json (docs/architecture.md), plus ``previous``,
``agreement`` and the counts of records still in the screening queue.

Every box must add up (:func:`check_flow`); a mismatch is a ReviewInputError that names the numbers.
Imports: stdlib + PyYAML only.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

from livingmeta.errors import ReviewInputError, ReviewInputErrors

# flow counts (integers) in PRISMA 2020 order; identified and reports_excluded are {name: n}
COUNT_KEYS = (
    "duplicates_removed", "automation_removed", "other_removed",
    "records_screened", "records_excluded", "records_awaiting_screening",
    "reports_sought", "reports_not_retrieved", "reports_awaiting_assessment", "reports_assessed",
    "new_reports", "new_studies",
    "previous_studies", "previous_reports", "total_studies", "total_reports",
)
LABELS = {
    "identified": "records identified",
    "duplicates_removed": "duplicate records removed",
    "automation_removed": "records marked ineligible by automation tools",
    "other_removed": "records removed for other reasons",
    "records_screened": "records screened",
    "records_excluded": "records excluded",
    "records_awaiting_screening": "records awaiting screening",
    "reports_sought": "reports sought for retrieval",
    "reports_not_retrieved": "reports not retrieved",
    "reports_awaiting_assessment": "reports awaiting assessment",
    "reports_assessed": "reports assessed for eligibility",
    "reports_excluded": "reports excluded",
    "new_reports": "reports of new included studies",
    "new_studies": "new studies included",
    "previous_studies": "studies included in the previous version",
    "previous_reports": "reports of studies in the previous version",
    "total_studies": "total studies included",
    "total_reports": "reports of total included studies",
}
PREVIOUS_META_KEYS = ("version", "label", "citation", "doi", "search_date", "search_date_approximate",
                      "search_date_note", "databases", "studies", "note")
NOT_ITEMISED = "reasons not itemised in the publication"


class PrismaConsistencyError(ReviewInputErrors):
    """One or more PRISMA boxes do not add up."""


# --------------------------------------------------------------------------------------------------
# consistency


def _total(mapping: dict | None) -> int:
    return sum(int(v) for v in (mapping or {}).values())


def check_flow(flow: dict, *, file: str | None = None, what: str = "PRISMA counts") -> list[dict]:
    """Check that every box adds up; returns the list of checks; raises PrismaConsistencyError naming
    the numbers of every failed check."""
    g = {k: int(flow.get(k) or 0) for k in COUNT_KEYS}
    identified = _total(flow.get("identified"))
    excluded = _total(flow.get("reports_excluded"))
    checks = [
        ("records_screened",
         g["records_screened"] + g["records_awaiting_screening"],
         identified - g["duplicates_removed"] - g["automation_removed"] - g["other_removed"],
         f"records screened ({g['records_screened']}) + awaiting screening ({g['records_awaiting_screening']})",
         f"records identified ({identified}) - duplicates removed ({g['duplicates_removed']}) - removed by "
         f"automation ({g['automation_removed']}) - removed for other reasons ({g['other_removed']})"),
        ("records_excluded",
         g["records_excluded"] + g["reports_sought"], g["records_screened"],
         f"records excluded ({g['records_excluded']}) + reports sought for retrieval ({g['reports_sought']})",
         f"records screened ({g['records_screened']})"),
        ("reports_assessed",
         g["reports_not_retrieved"] + g["reports_assessed"] + g["reports_awaiting_assessment"], g["reports_sought"],
         f"reports not retrieved ({g['reports_not_retrieved']}) + assessed ({g['reports_assessed']}) + awaiting "
         f"assessment ({g['reports_awaiting_assessment']})",
         f"reports sought for retrieval ({g['reports_sought']})"),
        ("reports_excluded",
         excluded + g["new_reports"], g["reports_assessed"],
         f"reports excluded ({excluded}) + reports of new included studies ({g['new_reports']})",
         f"reports assessed for eligibility ({g['reports_assessed']})"),
        ("total_studies",
         g["total_studies"], g["previous_studies"] + g["new_studies"],
         f"total studies ({g['total_studies']})",
         f"studies in the previous version ({g['previous_studies']}) + new studies ({g['new_studies']})"),
        ("total_reports",
         g["total_reports"], g["previous_reports"] + g["new_reports"],
         f"reports of total included studies ({g['total_reports']})",
         f"reports of previous studies ({g['previous_reports']}) + reports of new studies ({g['new_reports']})"),
    ]
    results, errors = [], []
    for name, lhs, rhs, lhs_text, rhs_text in checks:
        ok = lhs == rhs
        results.append({"check": name, "ok": ok, "left": lhs, "right": rhs, "rule": f"{lhs_text} = {rhs_text}"})
        if not ok:
            errors.append(ReviewInputError(
                f"{what} do not add up: {lhs_text} = {lhs}, but {rhs_text} = {rhs}", file=file, field=name,
                hint="Correct the counts so that every PRISMA box adds up."))
    if g["new_studies"] > g["new_reports"]:
        errors.append(ReviewInputError(
            f"{what}: new studies ({g['new_studies']}) cannot exceed reports of new included studies "
            f"({g['new_reports']})", file=file, field="new_studies",
            hint="Every study has at least one report."))
        results.append({"check": "new_studies", "ok": False, "left": g["new_studies"], "right": g["new_reports"],
                        "rule": "new studies <= reports of new included studies"})
    if errors:
        raise PrismaConsistencyError(errors)
    return results


# --------------------------------------------------------------------------------------------------
# previous version


def _int_field(data: dict, key: str, file: str, default: int | None = 0) -> int:
    value = data.get(key, default)
    if value is None:
        if default is None:
            raise ReviewInputError("is missing", file=file, field=key,
                                   hint=f"Give the previous version's {LABELS.get(key, key)} as a whole number.")
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReviewInputError(f"must be a whole number >= 0 (got {value!r})", file=file, field=key)
    return value


def _count_map(data: dict, key: str, file: str) -> dict[str, int]:
    value = data.get(key) or {}
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"total": value}
    if not isinstance(value, dict):
        raise ReviewInputError(f"must be a mapping of name: count (got {type(value).__name__})", file=file,
                               field=key, hint="e.g. identified: {pubmed: 600, embase: 900}")
    out = {}
    for name, n in value.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ReviewInputError(f"count must be a whole number >= 0 (got {n!r})", file=file,
                                   field=f"{key}.{name}")
        out[str(name)] = n
    return out


def parse_previous(data: Any, file: str = "previous_version.yaml") -> dict:
    """Validate the previous version's flow (a mapping, as read from previous_version.yaml)."""
    if not isinstance(data, dict):
        raise ReviewInputError("must be a mapping of PRISMA counts", file=file,
                               hint="See docs/screening.md for the format of previous_version.yaml.")
    known = set(COUNT_KEYS) | {"identified", "reports_excluded"} | set(PREVIOUS_META_KEYS)
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise ReviewInputError(f"unknown key(s) {', '.join(unknown)}", file=file,
                               hint=f"Known keys: {', '.join(sorted(known))}.")
    flow: dict[str, Any] = {"identified": _count_map(data, "identified", file)}
    if not flow["identified"]:
        raise ReviewInputError("is missing", file=file, field="identified",
                               hint="Give the records identified per database, or {total: n} when not itemised.")
    flow["reports_excluded"] = _count_map(data, "reports_excluded", file)
    required = ("duplicates_removed", "records_screened", "records_excluded", "reports_assessed", "new_studies")
    for key in COUNT_KEYS:
        flow[key] = _int_field(data, key, file, None if key in required else 0)
    # sensible defaults for the optional boxes
    if "reports_sought" not in data:
        flow["reports_sought"] = flow["records_screened"] - flow["records_excluded"]
    if "new_reports" not in data:
        flow["new_reports"] = flow["new_studies"]
    if "total_studies" not in data:
        flow["total_studies"] = flow["previous_studies"] + flow["new_studies"]
    if "previous_reports" not in data:
        flow["previous_reports"] = flow["previous_studies"]
    if "total_reports" not in data:
        flow["total_reports"] = flow["previous_reports"] + flow["new_reports"]
    for key in PREVIOUS_META_KEYS:
        if key in data:
            value = data[key]
            flow[key] = value.isoformat() if isinstance(value, (_dt.date, _dt.datetime)) else value
    if "search_date" in flow and flow["search_date"] is not None:
        try:
            _dt.date.fromisoformat(str(flow["search_date"]))
        except ValueError:
            raise ReviewInputError(f"not a date (got {flow['search_date']!r})", file=file, field="search_date",
                                   hint="Write the date of the previous search as YYYY-MM-DD.") from None
    if "studies" in flow and not (isinstance(flow["studies"], list) and all(isinstance(s, str) for s in flow["studies"])):
        raise ReviewInputError("must be a list of study ids", file=file, field="studies")
    flow["checks"] = check_flow(flow, file=file, what="the previous version's PRISMA counts")
    return flow


def load_previous(path: str | os.PathLike | None, display: str | None = None) -> dict | None:
    if not path:
        return None
    import yaml

    from livingmeta.yamlsafe import safe_load

    shown = display or str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = safe_load(handle)
    except yaml.YAMLError as err:
        raise ReviewInputError(f"not valid YAML ({str(err).splitlines()[0]})", file=shown) from None
    return parse_previous(data, shown)


def problems_in_previous_version(path: str | os.PathLike | None, display: str | None = None) -> list[ReviewInputError]:
    """Planning-time PRISMA check (milliseconds: one YAML read): ``review/previous_version.yaml`` is valid
    and every box of the previous version's flow adds up (:func:`check_flow`). One error per problem;
    none when ``path`` is None or the file does not exist (a review without a previous version).

    The current version's flow is built from the deduplicated library and the final screening decisions
    (which need every export parsed and deduplicated), so its boxes, and the report's comparison of the
    total of included studies with the study files, are checked by the prisma and report jobs."""
    if not path or not os.path.exists(path):
        return []
    try:
        load_previous(path, display)
    except ReviewInputErrors as err:
        return list(err.errors)
    except ReviewInputError as err:
        return [err]
    return []


# --------------------------------------------------------------------------------------------------
# current version


def compute_prisma(dedup: dict, screening: dict, previous: dict | None = None) -> dict:
    """The prisma.json document of the current version (see docs/screening.md)."""
    counts = screening.get("counts") or {}
    identified = {str(k): int(v) for k, v in (dedup.get("identified") or {}).items()}
    n_records = int(dedup.get("n_records") or sum(identified.values()))
    duplicates = int(dedup.get("duplicates_removed") or 0)
    if sum(identified.values()) != n_records:
        raise PrismaConsistencyError([ReviewInputError(
            f"records identified per source add up to {sum(identified.values())} "
            f"({', '.join(f'{k}: {v}' for k, v in identified.items())}) but the library holds {n_records} records",
            file="results/records/dedup.json", field="identified",
            hint="Re-run the deduplicate job; if it persists, report it as a bug.")])
    n_clusters = counts.get("n_clusters")
    if n_clusters is not None and n_records - duplicates != int(n_clusters):
        raise PrismaConsistencyError([ReviewInputError(
            f"records identified ({n_records}) - duplicates removed ({duplicates}) = {n_records - duplicates}, "
            f"but the screening library holds {n_clusters} unique records",
            file="results/records/screening.json", field="counts.n_clusters",
            hint="Re-run the deduplicate and screening jobs; if it persists, report it as a bug.")])

    previous_ids = set((previous or {}).get("studies") or [])
    included = screening.get("included") or []
    labels = [(i.get("study") or i["cluster_id"]) for i in included]
    new_study_labels = sorted({s for s in labels if s not in previous_ids})
    previous_studies = int((previous or {}).get("total_studies") or 0)
    previous_reports = int((previous or {}).get("total_reports") or previous_studies)

    flow = {
        "identified": identified,
        "identified_total": n_records,
        "duplicates_removed": duplicates,
        "automation_removed": int(counts.get("automation_removed") or 0),
        "other_removed": 0,
        "records_screened": int(counts.get("records_screened") or 0),
        "records_excluded": int(counts.get("records_excluded") or 0),
        "records_awaiting_screening": int(counts.get("records_awaiting_screening") or 0),
        "reports_sought": int(counts.get("reports_sought") or 0),
        "reports_not_retrieved": int(counts.get("reports_not_retrieved") or 0),
        "reports_awaiting_assessment": int(counts.get("reports_awaiting_assessment") or 0),
        "reports_assessed": int(counts.get("reports_assessed") or 0),
        "reports_excluded": dict(counts.get("reports_excluded") or {}),
        "new_reports": int(counts.get("reports_included") or 0),
        "new_studies": len(new_study_labels),
        "previous_studies": previous_studies,
        "previous_reports": previous_reports,
        "total_studies": previous_studies + len(new_study_labels),
        "total_reports": previous_reports + int(counts.get("reports_included") or 0),
    }
    flow["checks"] = check_flow(flow, file="results/records/prisma.json", what="this version's PRISMA counts")
    flow["update"] = previous is not None
    flow["awaiting"] = counts.get("awaiting") or {}
    flow["conflicts"] = counts.get("conflicts") or {}
    flow["conflicts_total"] = sum(int(v) for v in flow["conflicts"].values())
    flow["new_study_ids"] = new_study_labels
    flow["searches"] = _searches(dedup)
    flow["agreement"] = {stage: _agreement_summary(stats)
                         for stage, stats in (screening.get("agreement") or {}).items()}
    stop = screening.get("stopping") or None
    flow["stopping"] = ({k: stop.get(k) for k in ("recall_target", "confidence", "p_value", "may_stop", "stopped",
                                                  "stop_requested", "n_screened", "n_unscreened", "methods_text")}
                        if stop else None)
    flow["previous"] = _previous_block(previous) if previous is not None else None
    # what the parsers could not read cleanly (bad bytes, damaged records), for the report's notices
    flow["record_problems"] = [{"file": p.get("file"), "record": p.get("record"), "message": p.get("message")}
                               for p in dedup.get("problems") or []]
    return flow


def _agreement_summary(stats: dict) -> dict:
    keep = ("n", "n_agree", "percent_agreement", "kappa", "kappa_se", "kappa_ci_lb", "kappa_ci_ub", "pabak",
            "categories", "table", "basis")
    return {k: stats.get(k) for k in keep}


def _previous_block(previous: dict) -> dict:
    out = {k: v for k, v in previous.items() if k != "checks"}
    out["identified_total"] = _total(previous.get("identified"))
    return out


def _searches(dedup: dict) -> dict:
    """The export names (by convention search dates) per source, and the latest one."""
    per: dict[str, set] = {}
    for rec in dedup.get("records") or []:
        src, exp = rec.get("source"), rec.get("export")
        if src is None or exp is None:
            parts = str(rec.get("record_id", "")).split(":")
            if len(parts) >= 3:
                src, exp = parts[0], ":".join(parts[1:-1])
        if src is not None and exp is not None:
            per.setdefault(str(src), set()).add(str(exp))
    exports = {s: sorted(v) for s, v in sorted(per.items())}
    names = sorted({e for v in exports.values() for e in v})
    return {"exports": exports, "latest": names[-1] if names else None}
