"""Screening: reviewers' decisions joined to the deduplicated library, final decisions, conflicts,
agreement and the queue of records still to screen.

Inputs (formats in docs/screening.md):

* the deduplicated library ``results/records/dedup.json`` (docs/architecture.md);
* decision files in ``review/screening/``: ``title_abstract*.csv`` and ``full_text*.csv`` with the
  columns ``record_id, reviewer, decision`` and optionally ``reason, role, study, note``.

A decision names a record by its stable id ``<source>:<export>:<key>`` (livingmeta.records.keys: PMID,
DOI, PMC id, else a hash of title, year and first author; never the position in the export, which changes
when an export is saved again in another order); position ids are refused with the way to convert the
file. It may name any record of a duplicate cluster and applies to the whole cluster, but decisions on
merged records that contradict each other (include vs exclude by the same role, different study ids)
stop the job, listed (:func:`merged_conflicts`), never folded into one.

Decision files are read strictly (:mod:`livingmeta.records.csvrows`): non-UTF-8 bytes, an unbalanced
quote, more values than columns or a missing required value are errors naming the file and row.
:func:`problems_in_decision_files` makes every check that needs no records, for the planning of the job
graph (milliseconds).

Final decision rules, per cluster and stage:

* rows with ``role = arbiter`` (a third reviewer) decide, whatever the screeners said;
* otherwise the stage is decided when at least ``reviewers_required`` (default 2) different screeners
  decided and all of them agree (so "include" needs two includes);
* screeners who disagree make a *conflict*, listed for resolution until an arbiter row resolves it;
* at title/abstract, ``role = automation`` rows with ``exclude`` remove a record before screening
  (PRISMA 2020 "records marked as ineligible by automation tools") unless people decided on it;
* at full text, ``not_retrieved`` (by anyone) means the report was sought but not retrieved, unless a
  screener assessed it; an exclusion needs a reason; when screeners agree to exclude but give different
  reasons the first screener's reason counts (an arbiter's reason overrides) and the difference is listed.

Public functions: :func:`read_decisions`, :func:`screen` (the whole job, returns the screening.json
document), :func:`write_queue_csv`, :func:`problems_in_decision_files` (planning-time check).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.records.agreement import agreement
from livingmeta.records.csvrows import CsvRows, read_rows
from livingmeta.records.keys import IdResolver, looks_like_position_id, position_id_error, resolve_or_error

TITLE_ABSTRACT = "title_abstract"
FULL_TEXT = "full_text"
STAGES = (TITLE_ABSTRACT, FULL_TEXT)
STAGE_LABELS = {TITLE_ABSTRACT: "title/abstract", FULL_TEXT: "full text"}

INCLUDE, EXCLUDE, NOT_RETRIEVED = "include", "exclude", "not_retrieved"
SCREENER, ARBITER, AUTOMATION = "screener", "arbiter", "automation"

_DECISION_WORDS = {
    "include": INCLUDE, "included": INCLUDE, "incl": INCLUDE,
    "exclude": EXCLUDE, "excluded": EXCLUDE, "excl": EXCLUDE,
    "not_retrieved": NOT_RETRIEVED, "not retrieved": NOT_RETRIEVED, "not-retrieved": NOT_RETRIEVED,
    "notretrieved": NOT_RETRIEVED,
}
_ROLE_WORDS = {
    "": SCREENER, "screener": SCREENER, "reviewer": SCREENER,
    "arbiter": ARBITER, "third": ARBITER, "third reviewer": ARBITER, "resolver": ARBITER,
    "resolution": ARBITER, "automation": AUTOMATION, "automatic": AUTOMATION,
}
REQUIRED_COLUMNS = ("record_id", "reviewer", "decision")
OPTIONAL_COLUMNS = ("reason", "role", "study", "note")

DEFAULT_SETTINGS = {
    "reviewers_required": 2,     # independent screeners whose agreement makes a decision final
    "ranking": "relevance",      # relevance | plain
    # the relevance model (livingmeta.records.ranking.MODELS; default ASReview's ELAS u4, chosen by the worst
    # of five labelled sets: docs/screening.md, "Prioritisation and stopping")
    "ranking_model": "elas_u4",
    "ranking_min_includes": 1,   # fewer final title/abstract includes than this -> plain order
    "ranking_min_excludes": 1,
    # the hypergeometric stopping rule (livingmeta.records.stopping): its recall target and confidence, and
    # whether the reviewers have decided to stop screening by it (then, once the test allows it, the records
    # left unscreened at title/abstract count as removed by automation tools, PRISMA 2020)
    "stopping": {"recall": 0.95, "confidence": 0.95, "stop": False},
}

# queue ordering
_STATUS_ORDER = {"conflict": 0, "awaiting_reviewer": 1, "unscreened": 2, "unassessed": 2}
# the models a review may choose (livingmeta.records.ranking.MODELS: the default, the runner-up and the
# previous default; the module is imported only when the job ranks, so the names are listed here and a test
# checks they are models of ranking.py)
RANKING_MODELS = ("elas_u4", "union_svm", "ensemble_svm")
QUEUE_COLUMNS = ("rank", "stage", "status", "record_id", "other_record_ids", "score", "strongest_terms", "decided_by",
                 "conflict_decisions", "export", "year", "title", "authors", "journal", "doi", "pmid",
                 "abstract")


# --------------------------------------------------------------------------------------------------
# settings and library


def screening_settings(records_settings: dict | None) -> dict:
    """Screening settings from the config's ``records:`` block (``records.screening.*``) with defaults."""
    given = dict((records_settings or {}).get("screening") or {})
    unknown = sorted(set(given) - set(DEFAULT_SETTINGS))
    if unknown:
        raise ReviewInputError(f"unknown setting(s) {', '.join(unknown)}", file="config.yaml",
                               field="records.screening",
                               hint=f"Known settings: {', '.join(sorted(DEFAULT_SETTINGS))}.")
    settings = {**DEFAULT_SETTINGS, **given}
    stopping = dict(settings.get("stopping") or {})
    unknown = sorted(set(stopping) - set(DEFAULT_SETTINGS["stopping"]))
    if unknown:
        raise ReviewInputError(f"unknown setting(s) {', '.join(unknown)}", file="config.yaml",
                               field="records.screening.stopping", hint="Known settings: confidence, recall, stop.")
    settings["stopping"] = {**DEFAULT_SETTINGS["stopping"], **stopping}
    for key in ("recall", "confidence"):
        value = settings["stopping"][key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ReviewInputError(f"must be a number between 0 and 1 (got {value!r})", file="config.yaml",
                                   field=f"records.screening.stopping.{key}", hint="Use e.g. 0.95.")
    if not isinstance(settings["stopping"]["stop"], bool):
        raise ReviewInputError("must be true or false", file="config.yaml", field="records.screening.stopping.stop")
    req = settings["reviewers_required"]
    if not isinstance(req, int) or isinstance(req, bool) or req < 1:
        raise ReviewInputError(f"must be a whole number >= 1 (got {req!r})", file="config.yaml",
                               field="records.screening.reviewers_required",
                               hint="Use 2 for dual independent screening, 1 for single screening.")
    if settings["ranking_model"] not in RANKING_MODELS:
        raise ReviewInputError(f"unknown ranking model {settings['ranking_model']!r}", file="config.yaml",
                               field="records.screening.ranking_model",
                               hint=f"Use one of {', '.join(RANKING_MODELS)} (docs/screening.md).")
    if settings["ranking"] not in ("relevance", "plain"):
        raise ReviewInputError(f"must be 'relevance' or 'plain' (got {settings['ranking']!r})",
                               file="config.yaml", field="records.screening.ranking")
    return settings


_ID_RE = re.compile(r"^(?P<source>[^:]+):(?P<export>.+):(?P<position>\d+)$")


def record_sort_key(record_id: str):
    """Order of position ids by (export name, source, position); other ids sort by their text."""
    m = _ID_RE.match(record_id)
    if not m:
        parts = record_id.split(":", 2)
        if len(parts) == 3:
            return (parts[1], parts[0], 0, parts[2])
        return (record_id, "", 0, "")
    return (m.group("export"), m.group("source"), int(m.group("position")), "")


@dataclass
class Library:
    """The deduplicated library, indexed for screening."""

    records: dict[str, dict]                 # record_id -> record
    cluster_of: dict[str, str]               # record_id -> cluster_id
    clusters: dict[str, list[str]]           # cluster_id -> record ids (ordered), clusters in order
    n_records: int = 0
    resolver: IdResolver | None = None

    @classmethod
    def from_dedup(cls, dedup: dict) -> "Library":
        records = {}
        cluster_of = {}
        for rec in dedup.get("records") or []:
            rid = str(rec["record_id"])
            records[rid] = rec
            cluster_of[rid] = str(rec.get("cluster_id") or rid)
        members: dict[str, list[str]] = defaultdict(list)
        for cl in dedup.get("clusters") or []:
            cid = str(cl["cluster_id"])
            for rid in cl.get("record_ids") or []:
                cluster_of.setdefault(str(rid), cid)
        for rid, cid in cluster_of.items():
            members[cid].append(rid)

        def order(rid: str):
            rec = records.get(rid)
            if rec is not None and rec.get("export") is not None and rec.get("position") is not None:
                return (str(rec["export"]), str(rec.get("source") or ""), int(rec["position"]), rid)
            return record_sort_key(rid)

        clusters = {cid: sorted(set(ids), key=order)
                    for cid, ids in sorted(members.items(), key=lambda kv: order(kv[0]))}
        return cls(records, cluster_of, clusters, int(dedup.get("n_records") or len(records)),
                   IdResolver(records.values()))

    def resolve(self, given: str, *, file: str, field: str) -> str:
        """The record id a decision row names (stable id or alias; see livingmeta.records.keys)."""
        if given in self.cluster_of:
            return given
        return resolve_or_error(self.resolver or IdResolver(self.records.values()), given, file=file, field=field)

    def representative(self, cluster_id: str) -> dict:
        """The member with the most complete title/abstract (ties: earliest), for display and ranking."""
        best, best_score = None, -1
        for rid in self.clusters.get(cluster_id, [cluster_id]):
            rec = self.records.get(rid) or {}
            score = len(rec.get("abstract") or "") + len(rec.get("title") or "")
            if score > best_score:
                best, best_score = rec, score
        return best or {"record_id": cluster_id}

    def text(self, cluster_id: str) -> str:
        rec = self.representative(cluster_id)
        parts = [rec.get("title") or "", rec.get("abstract") or ""]
        kw = rec.get("keywords") or []
        if isinstance(kw, list):
            parts.append(" ".join(str(k) for k in kw))
        return " ".join(p for p in parts if p)

    def export_of(self, cluster_id: str) -> str:
        rec = self.records.get(cluster_id) or {}
        return str(rec["export"]) if rec.get("export") is not None else record_sort_key(cluster_id)[0]


# --------------------------------------------------------------------------------------------------
# decision files


@dataclass
class Decision:
    stage: str
    file: str
    row: int                 # line number in the file (1-based, header = its own line)
    record_id: str           # the record's stable id (the one named, or found by an alias)
    cluster_id: str
    reviewer: str
    role: str
    decision: str
    reason: str = ""
    study: str = ""
    note: str = ""
    given_id: str = ""       # the id as written in the file


def stage_of_file(path: str | os.PathLike) -> str | None:
    name = Path(path).name.lower()
    for stage in STAGES:
        if name.startswith(stage) and name.endswith(".csv"):
            return stage
    return None


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").strip())


NOT_A_DECISION_FILE_HINT = ("Name title/abstract decisions title_abstract*.csv and full-text decisions full_text*.csv "
                            "(see docs/screening.md); duplicates.csv holds deduplication decisions.")


def _header_columns(rows: CsvRows, shown: str) -> dict[str, int]:
    header = [h.strip().lower() for h in rows.header]
    where = "header"
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReviewInputError(
            f"missing column(s) {', '.join(missing)} in the header, line {rows.header_line} (found: "
            f"{', '.join(h for h in header if h) or 'none'})",
            file=shown, field=where,
            hint="The first line that is not a comment must name the columns "
                 "record_id,reviewer,decision[,reason,role,study,note].")
    unknown = [h for h in header if h and h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ReviewInputError(
            f"unknown column(s) {', '.join(unknown)}", file=shown, field=where,
            hint=f"Allowed columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}.")
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise ReviewInputError(f"column(s) {', '.join(twice)} named twice", file=shown, field=where,
                               hint="Name each column once.")
    return {name: header.index(name) for name in header if name}


def _row_fields(values: list[str], col: dict[str, int], stage: str, line: int, shown: str) -> dict:
    """Validate one data row's values (everything that needs no library); returns its fields."""
    where = f"row {line}"

    def get(name: str) -> str:
        i = col.get(name)
        return _norm(values[i]) if i is not None and i < len(values) else ""

    rid = get("record_id")
    if not rid:
        raise ReviewInputError("record_id is empty", file=shown, field=f"{where}: record_id",
                               hint="Copy the record id from screening_queue.csv, e.g. pubmed:2025-06-30:pmid-39912345.")
    reviewer = get("reviewer")
    role_word = get("role").lower()
    if role_word not in _ROLE_WORDS:
        raise ReviewInputError(f"unknown role '{get('role')}'", file=shown, field=f"{where}: role",
                               hint="Leave it empty for a screener, or write arbiter (third reviewer resolving a conflict) or automation.")
    role = _ROLE_WORDS[role_word]
    if not reviewer:
        raise ReviewInputError("reviewer is empty", file=shown, field=f"{where}: reviewer",
                               hint="Write the reviewer's initials or name (for automation rows, the tool's name).")
    word = get("decision").lower()
    decision = _DECISION_WORDS.get(word)
    allowed = "include or exclude" if stage == TITLE_ABSTRACT else "include, exclude or not_retrieved"
    if decision is None or (stage == TITLE_ABSTRACT and decision == NOT_RETRIEVED):
        hint = f"Write {allowed}."
        if word in ("maybe", "unsure", "?"):
            hint = f"Write {allowed}; when unsure at title/abstract, include (the full text decides)."
        raise ReviewInputError(f"invalid decision '{get('decision')}' (allowed: {allowed})",
                               file=shown, field=f"{where}: decision", hint=hint)
    if role == AUTOMATION and (stage != TITLE_ABSTRACT or decision != EXCLUDE):
        raise ReviewInputError("automation rows can only exclude at title/abstract",
                               file=shown, field=f"{where}: role",
                               hint="Record an automation tool's exclusions in title_abstract.csv with decision exclude.")
    reason = get("reason")
    if stage == FULL_TEXT and decision == EXCLUDE and not reason and role != AUTOMATION:
        raise ReviewInputError("a full-text exclusion needs a reason", file=shown, field=f"{where}: reason",
                               hint="Write the exclusion reason (e.g. in vitro study only); PRISMA 2020 reports reports excluded with reasons.")
    study = get("study")
    return {"record_id": rid, "reviewer": reviewer, "role": role, "decision": decision,
            "reason": reason if decision == EXCLUDE else "", "study": study, "note": get("note")}


def _file_stage(path, stage, shown) -> str:
    stage = stage or stage_of_file(path)
    if stage not in STAGES:
        raise ReviewInputError("not a screening decision file", file=shown, hint=NOT_A_DECISION_FILE_HINT)
    return stage


def read_decisions(path: str | os.PathLike, library: Library, stage: str | None = None,
                   display_path: str | None = None) -> list[Decision]:
    """Read one decision file; every problem is a ReviewInputError naming file, row and field."""
    shown = display_path or str(path)
    stage = _file_stage(path, stage, shown)
    rows = read_rows(path, shown, required=REQUIRED_COLUMNS)
    if not rows.header_line:
        return []
    col = _header_columns(rows, shown)
    decisions: list[Decision] = []
    for row in rows.rows:
        f = _row_fields(row.values, col, stage, row.line, shown)
        rid = library.resolve(f["record_id"], file=shown, field=f"row {row.line}: record_id")
        decisions.append(Decision(stage, shown, row.line, rid, library.cluster_of[rid], f["reviewer"], f["role"],
                                  f["decision"], f["reason"], f["study"], f["note"], given_id=f["record_id"]))
    _check_same_record_rows(decisions)
    return decisions


def _check_same_record_rows(rows: list[Decision]) -> None:
    """One reviewer (same role) deciding differently twice on the same named record: an error (rows
    naming different records of one cluster are checked after the join, see _check_merged)."""
    seen: dict[tuple, Decision] = {}
    for d in rows:
        key = (d.record_id, d.role, d.reviewer.lower())
        prev = seen.setdefault(key, d)
        if prev is not d and (prev.decision, prev.reason.lower(), prev.study) != (d.decision, d.reason.lower(), d.study):
            raise ReviewInputError(
                f"reviewer '{d.reviewer}' decided twice on record {d.given_id or d.record_id} ({_desc(prev)} at row "
                f"{prev.row}; {_desc(d)} here)", file=d.file, field=f"row {d.row}: decision",
                hint="Keep one row per reviewer and record; a third reviewer resolving a conflict writes role arbiter.")


def _desc(d: Decision) -> str:
    text = d.decision + (f" ({d.reason})" if d.reason else "")
    return text + (f", study {d.study}" if d.study else "")


# --------------------------------------------------------------------------------------------------
# planning-time checks (no exports parsed)


def problems_in_decision_files(screening_dir: str | os.PathLike,
                               display_root: str | os.PathLike | None = None) -> list[ReviewInputError]:
    """Everything about ``review/screening/*.csv`` that can be checked without the library, for the
    planning of the job graph (standard library only; milliseconds): file names, encoding, CSV syntax
    (unbalanced quotes, value counts), headers, every row's record id form (position ids are refused),
    reviewer, decision, role, reason and study, the same reviewer deciding differently twice on one
    record id, and ``duplicates.csv`` (its syntax, header, decisions and contradictory rows for one pair).
    One error per file at most for the CSV syntax, one per bad row otherwise. A missing folder has no
    problems. Checks that need the records (unknown ids, duplicate clusters, the title/abstract ->
    full-text order) are made by the jobs."""
    folder = Path(screening_dir)
    if not folder.is_dir():
        return []
    problems: list[ReviewInputError] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"):
        shown = _display(path, display_root)
        if path.name.lower() == "duplicates.csv":
            from livingmeta.records.duplicates_file import problems_in_duplicates_file

            problems.extend(problems_in_duplicates_file(path, shown))
            continue
        stage = stage_of_file(path)
        if stage is None:
            problems.append(ReviewInputError("not a screening decision file", file=shown,
                                             hint=NOT_A_DECISION_FILE_HINT))
            continue
        try:
            rows = read_rows(path, shown, required=REQUIRED_COLUMNS)
            if not rows.header_line:
                continue
            col = _header_columns(rows, shown)
        except ReviewInputError as err:
            problems.append(err)
            continue
        seen: dict[tuple, tuple[int, tuple]] = {}
        for row in rows.rows:
            try:
                f = _row_fields(row.values, col, stage, row.line, shown)
                if looks_like_position_id(f["record_id"]):
                    raise position_id_error(f["record_id"], file=shown, field=f"row {row.line}: record_id")
            except ReviewInputError as err:
                problems.append(err)
                continue
            key = (f["record_id"], f["role"], f["reviewer"].lower())
            verdict = (f["decision"], f["reason"].lower(), f["study"])
            if key in seen and seen[key][1] != verdict:
                problems.append(ReviewInputError(
                    f"reviewer '{f['reviewer']}' decided twice on record {f['record_id']} (row {seen[key][0]}: "
                    f"{seen[key][1][0]}; here: {verdict[0]})", file=shown, field=f"row {row.line}: decision",
                    hint="Keep one row per reviewer and record; a third reviewer resolving a conflict writes role arbiter."))
            seen.setdefault(key, (row.line, verdict))
    return problems


# --------------------------------------------------------------------------------------------------
# final decisions


@dataclass
class StageResult:
    status: str                  # final | resolved | automation | conflict | awaiting_reviewer | unscreened
    decision: str | None = None  # include | exclude | not_retrieved | None
    reason: str = ""
    reviewers: dict[str, str] = field(default_factory=dict)     # screener -> decision
    reasons: dict[str, str] = field(default_factory=dict)       # screener -> reason
    arbiters: dict[str, str] = field(default_factory=dict)
    reason_disagreement: bool = False
    first_two: tuple[str, str] | None = None                    # first two screeners' decisions
    rows: list[Decision] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {"status": self.status, "decision": self.decision, "reviewers": dict(self.reviewers)}
        if self.reason:
            out["reason"] = self.reason
        if self.reasons:
            out["reasons"] = dict(self.reasons)
        if self.arbiters:
            out["arbiters"] = dict(self.arbiters)
        return out


def _check_duplicates(rows: list[Decision]) -> None:
    seen: dict[tuple[str, str], Decision] = {}
    for d in rows:
        key = (d.role, d.reviewer.lower())
        prev = seen.get(key)
        if prev is None:
            seen[key] = d
        elif (prev.decision, prev.reason.lower()) != (d.decision, d.reason.lower()):
            raise ReviewInputError(
                f"reviewer '{d.reviewer}' decided twice on the same record cluster {d.cluster_id} "
                f"({prev.decision} at {prev.file} row {prev.row}; {d.decision} here)",
                file=d.file, field=f"row {d.row}: decision",
                hint="Keep one row per reviewer and record (ids of duplicate records count as the same record); "
                     "a third reviewer resolving a conflict writes role arbiter.")


def decide_stage(rows: list[Decision], stage: str, reviewers_required: int) -> StageResult:
    """Apply the final decision rules to one cluster's rows of one stage (rows in file order)."""
    if not rows:
        return StageResult("unscreened")
    _check_duplicates(rows)
    screeners: dict[str, Decision] = {}
    arbiters: dict[str, Decision] = {}
    automation = [d for d in rows if d.role == AUTOMATION]
    for d in rows:
        if d.role == SCREENER:
            screeners.setdefault(d.reviewer.lower(), d)
        elif d.role == ARBITER:
            arbiters.setdefault(d.reviewer.lower(), d)
    res = StageResult("unscreened", rows=list(rows))
    res.reviewers = {d.reviewer: d.decision for d in screeners.values()}
    res.reasons = {d.reviewer: d.reason for d in screeners.values() if d.reason}
    res.arbiters = {d.reviewer: d.decision for d in arbiters.values()}
    assessed = [d for d in screeners.values() if d.decision != NOT_RETRIEVED]
    ordered = list(screeners.values())
    if len(ordered) >= 2 and ordered[0].decision != NOT_RETRIEVED and ordered[1].decision != NOT_RETRIEVED:
        res.first_two = (ordered[0].decision, ordered[1].decision)

    if arbiters:
        verdicts = {(d.decision, d.reason.lower()) for d in arbiters.values()}
        if len({v[0] for v in verdicts}) > 1:
            first = list(arbiters.values())
            raise ReviewInputError(
                f"arbiters disagree on record cluster {first[0].cluster_id} "
                f"({', '.join(f'{d.reviewer}: {d.decision}' for d in first)})",
                file=first[-1].file, field=f"row {first[-1].row}: decision",
                hint="Keep one arbiter decision per record.")
        final = next(iter(arbiters.values()))
        res.status, res.decision = "resolved", final.decision
        res.reason = final.reason or (_first_reason(screeners.values()) if final.decision == EXCLUDE else "")
        return res

    if stage == FULL_TEXT and screeners and not assessed:
        res.status, res.decision = "final", NOT_RETRIEVED
        return res
    if not assessed:
        if automation:
            res.status, res.decision = "automation", EXCLUDE
            res.reviewers = {}
            res.reason = automation[0].reason
        return res
    decisions = {d.decision for d in assessed}
    if len(decisions) > 1:
        res.status = "conflict"
        return res
    if len(assessed) < reviewers_required:
        res.status = "awaiting_reviewer"
        return res
    res.status, res.decision = "final", assessed[0].decision
    if res.decision == EXCLUDE:
        res.reason = _first_reason(assessed)
        res.reason_disagreement = len({d.reason.lower() for d in assessed if d.reason}) > 1
    return res


def merged_conflicts(rows: list[Decision], library: Library, cluster_id: str, stage: str) -> list[ReviewInputError]:
    """Decisions on different records that deduplication merged into one cluster, which contradict each
    other: include vs exclude by the same role (screeners, or arbiters), or different study ids of the
    included report at full text (also on one record, unless one arbiter row names the study).
    They are never folded into one decision: either the records are different papers (deduplication was
    wrong: mark them ``different`` in duplicates.csv) or a decision is wrong."""
    named = {d.record_id for d in rows}
    out: list[ReviewInputError] = []
    if not rows:
        return out
    listing = "; ".join(f"{d.given_id or d.record_id}: {d.reviewer}{'' if d.role == SCREENER else ' (' + d.role + ')'} "
                        f"{_desc(d)} ({d.file} row {d.row})" for d in rows)
    members = ", ".join(library.clusters.get(cluster_id, sorted(named)))
    hint = ("If these are different papers, write `different` for them in review/screening/duplicates.csv; "
            "if they are one paper, correct the decisions so that they agree.")
    for role in (SCREENER, ARBITER) if len(named) > 1 else ():
        per_record: dict[str, set[str]] = defaultdict(set)
        for d in rows:
            if d.role == role and d.decision != NOT_RETRIEVED:  # not an eligibility decision (rule 6)
                per_record[d.record_id].add(d.decision)
        decided = [r for r in per_record if per_record[r]]
        clash = any(per_record[a] != per_record[b] for a in decided for b in decided if a < b)
        if clash:
            last = rows[-1]
            out.append(ReviewInputError(
                f"records merged as duplicates (cluster {cluster_id}: {members}) have conflicting "
                f"{STAGE_LABELS[stage]} decisions by {role}s: {listing}", file=last.file, field=f"row {last.row}",
                hint=hint))
            break
    if stage == FULL_TEXT:
        studies = {d.study for d in rows if d.study and d.decision == INCLUDE}
        arbiter_study = {d.study for d in rows if d.study and d.role == ARBITER}
        if len(studies) > 1 and len(arbiter_study) != 1:
            last = rows[-1]
            out.append(ReviewInputError(
                (f"records merged as duplicates (cluster {cluster_id}: {members}) are" if len(named) > 1 else
                 f"record {rows[0].given_id or rows[0].record_id} is") + " tied to different studies "
                f"({', '.join(sorted(studies))}): {listing}", file=last.file, field=f"row {last.row}: study",
                hint=hint.replace("correct the decisions so that they agree", "give them one study id")))
    return out


def _first_reason(decisions: Iterable[Decision]) -> str:
    for d in decisions:
        if d.decision == EXCLUDE and d.reason:
            return d.reason
    return ""


# --------------------------------------------------------------------------------------------------
# the whole job


def screen(dedup: dict, decision_files: Sequence[str | os.PathLike], settings: dict | None = None,
           display_root: str | os.PathLike | None = None) -> dict:
    """Join decisions to the library; returns the screening.json document (see docs/screening.md).

    ``settings`` are the ``records.screening`` settings of the config (defaults in DEFAULT_SETTINGS).
    """
    settings = screening_settings({"screening": settings or {}})
    library = Library.from_dedup(dedup)
    files = []
    by_stage: dict[str, dict[str, list[Decision]]] = {s: defaultdict(list) for s in STAGES}
    decision_files = [p for p in decision_files if Path(p).name.lower() != "duplicates.csv"]  # deduplication's
    for path in sorted(decision_files, key=lambda p: (STAGES.index(stage_of_file(p)) if stage_of_file(p) else -1,
                                                      str(p))):
        shown = _display(path, display_root)
        rows = read_decisions(path, library, display_path=shown)
        stage = stage_of_file(path)
        files.append({"file": shown, "stage": stage, "rows": len(rows)})
        for d in rows:
            by_stage[stage][d.cluster_id].append(d)

    merged_problems = [p for cid in library.clusters for stage in STAGES
                       for p in merged_conflicts(by_stage[stage].get(cid, []), library, cid, stage)]
    if merged_problems:
        raise ReviewInputErrors(merged_problems)

    required = settings["reviewers_required"]
    results: dict[str, dict[str, StageResult | None]] = {}
    for cid in library.clusters:
        ta = decide_stage(by_stage[TITLE_ABSTRACT].get(cid, []), TITLE_ABSTRACT, required)
        ft_rows = by_stage[FULL_TEXT].get(cid, [])
        if ta.decision != INCLUDE:
            if ft_rows:
                d = ft_rows[0]
                state = {"exclude": "excluded", None: ta.status.replace("_", " ")}.get(ta.decision, ta.status)
                raise ReviewInputError(
                    f"record {d.record_id} has a full-text decision but is not included at title/abstract "
                    f"(title/abstract status: {state})",
                    file=d.file, field=f"row {d.row}: record_id",
                    hint="Finish or resolve its title/abstract screening first (two includes, or an arbiter row), "
                         "or remove the full-text row.")
            ft = None
        else:
            ft = decide_stage(ft_rows, FULL_TEXT, required)
            if ft.status == "unscreened":
                ft.status = "unassessed"
        results[cid] = {TITLE_ABSTRACT: ta, FULL_TEXT: ft}

    stop = stopping_state_of(results, settings["stopping"])
    if stop is not None and settings["stopping"]["stop"]:
        stop["stop_requested"] = True
        if stop["may_stop"] and stop["n_unscreened"]:
            # the reviewers stopped by the rule: every record not yet screened at title/abstract is removed
            # by the automation tool (the ranking + stopping rule), as PRISMA 2020 counts it
            for res in results.values():
                ta = res[TITLE_ABSTRACT]
                if ta.decision is None and ta.status == "unscreened":
                    ta.status, ta.decision, ta.reason = "automation", EXCLUDE, "not screened: stopping rule"
            stop["stopped"] = True
        else:
            stop["stopped"] = False
    if stop is not None:
        from livingmeta.records.stopping import methods_text

        stop.setdefault("stop_requested", False)
        stop.setdefault("stopped", False)
        stop["methods_text"] = methods_text(stop, stop["stopped"])
    counts = _counts(library, results)
    agreement_stats = {stage: _stage_agreement(results, stage) for stage in STAGES}
    conflicts = _conflicts(library, results)
    included = []
    for cid, res in results.items():
        ft = res[FULL_TEXT]
        if ft is not None and ft.decision == INCLUDE:
            rec = library.representative(cid)
            study = next((d.study for d in ft.rows if d.study and d.role == ARBITER), "") or \
                next((d.study for d in ft.rows if d.study), "")
            included.append({"cluster_id": cid, "record_ids": library.clusters[cid], "study": study or None,
                             "title": rec.get("title"), "year": rec.get("year"), "doi": rec.get("doi"),
                             "pmid": rec.get("pmid"), "first_author": (rec.get("authors") or [None])[0]})
    counts["studies_included"] = len({i["study"] or i["cluster_id"] for i in included})

    queue, ranking = build_queue(library, results, settings)
    reviewers = {stage: sorted({d.reviewer for rows in by_stage[stage].values() for d in rows if d.role == SCREENER})
                 for stage in STAGES}
    return {
        "settings": settings,
        "files": files,
        "reviewers": reviewers,
        "counts": counts,
        "agreement": agreement_stats,
        "conflicts": conflicts,
        "included": included,
        "queue": queue,
        "ranking": ranking,
        "stopping": stop,
        "clusters": [
            {"cluster_id": cid, "record_ids": library.clusters[cid],
             TITLE_ABSTRACT: results[cid][TITLE_ABSTRACT].as_dict(),
             FULL_TEXT: results[cid][FULL_TEXT].as_dict() if results[cid][FULL_TEXT] is not None else None}
            for cid in library.clusters
        ],
    }


def stopping_state_of(results: dict, stopping: dict | None = None) -> dict | None:
    """Where title/abstract screening stands against the hypergeometric stopping rule (Callaghan &
    Mueller-Hansen 2020, :mod:`livingmeta.records.stopping`; ``stopping``: the settings' recall target and
    confidence, default 0.95 and 0.95):
    the final title/abstract decisions in the order they were made (the first row of each record in the
    decision files, file by file: reviewers append rows as they screen the ranked queue) against every
    record to screen at that stage (automation-removed records excluded). None before any decision.
    The rule assumes the records were screened in ranked order; it informs, it never stops screening."""
    decided = sorted((min((d.file, d.row) for d in res[TITLE_ABSTRACT].rows), res[TITLE_ABSTRACT].decision == INCLUDE)
                     for res in results.values()
                     if res[TITLE_ABSTRACT].decision in (INCLUDE, EXCLUDE) and res[TITLE_ABSTRACT].rows
                     and res[TITLE_ABSTRACT].status != "automation")
    if not decided:
        return None
    from livingmeta.records.stopping import stopping_state

    pool = sum(1 for res in results.values() if res[TITLE_ABSTRACT].status != "automation")
    stopping = {**DEFAULT_SETTINGS["stopping"], **(stopping or {})}
    return stopping_state([include for _, include in decided], pool, recall_target=stopping["recall"],
                          confidence=stopping["confidence"])


def _display(path, root) -> str:
    if root is None:
        return str(path)
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return str(path)


def _counts(library: Library, results: dict) -> dict:
    c: Counter = Counter()
    reasons: Counter = Counter()
    for res in results.values():
        ta, ft = res[TITLE_ABSTRACT], res[FULL_TEXT]
        if ta.status == "automation":
            c["automation_removed"] += 1
        elif ta.decision is None:
            c["records_awaiting_screening"] += 1
            c[f"ta_{ta.status}"] += 1
        else:
            c["records_screened"] += 1
            if ta.decision == EXCLUDE:
                c["records_excluded"] += 1
            else:
                c["reports_sought"] += 1
                if ft.decision == NOT_RETRIEVED:
                    c["reports_not_retrieved"] += 1
                elif ft.decision is None:
                    c["reports_awaiting_assessment"] += 1
                    c[f"ft_{ft.status}"] += 1
                else:
                    c["reports_assessed"] += 1
                    if ft.decision == EXCLUDE:
                        reasons[ft.reason or "reason not given"] += 1
                    else:
                        c["reports_included"] += 1
    return {
        "n_records": library.n_records,
        "n_clusters": len(library.clusters),
        "automation_removed": c["automation_removed"],
        "records_screened": c["records_screened"],
        "records_excluded": c["records_excluded"],
        "records_awaiting_screening": c["records_awaiting_screening"],
        "awaiting": {
            TITLE_ABSTRACT: {"unscreened": c["ta_unscreened"], "awaiting_reviewer": c["ta_awaiting_reviewer"],
                             "conflict": c["ta_conflict"]},
            FULL_TEXT: {"unassessed": c["ft_unassessed"], "awaiting_reviewer": c["ft_awaiting_reviewer"],
                        "conflict": c["ft_conflict"]},
        },
        "reports_sought": c["reports_sought"],
        "reports_not_retrieved": c["reports_not_retrieved"],
        "reports_assessed": c["reports_assessed"],
        "reports_awaiting_assessment": c["reports_awaiting_assessment"],
        "reports_excluded": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "reports_included": c["reports_included"],
        "conflicts": {TITLE_ABSTRACT: c["ta_conflict"], FULL_TEXT: c["ft_conflict"]},
    }


def _stage_agreement(results: dict, stage: str) -> dict:
    pairs = []
    for res in results.values():
        r = res[stage]
        if r is not None and r.first_two is not None:
            pairs.append(r.first_two)
    stats = agreement(pairs, [INCLUDE, EXCLUDE])
    stats["stage"] = stage
    stats["basis"] = ("the first two screeners' decisions (file order) on each record decided by at least two "
                      "screeners; arbiter and automation rows are not counted")
    return stats


def _conflicts(library: Library, results: dict) -> list[dict]:
    out = []
    for cid, res in results.items():
        for stage in STAGES:
            r = res[stage]
            if r is None:
                continue
            kind = None
            if r.status == "conflict":
                kind = "decision"
            elif r.status == "resolved" and len(set(r.reviewers.values())) > 1:
                kind = "decision"
            elif r.reason_disagreement:
                kind = "reason"
            if kind is None:
                continue
            rec = library.representative(cid)
            out.append({
                "stage": stage, "cluster_id": cid, "record_ids": library.clusters[cid], "kind": kind,
                "resolved": r.status == "resolved" or kind == "reason",
                "decision": r.decision, "resolved_by": sorted(r.arbiters) or None,
                "decisions": [{"reviewer": d.reviewer, "role": d.role, "decision": d.decision,
                               "reason": d.reason or None, "file": d.file, "row": d.row} for d in r.rows],
                "title": rec.get("title"),
            })
    return out


# --------------------------------------------------------------------------------------------------
# queue


def build_queue(library: Library, results: dict, settings: dict) -> tuple[list[dict], dict]:
    """Clusters still needing a human decision, ranked; returns (queue rows, ranking info)."""
    pending = []
    for cid, res in results.items():
        ta, ft = res[TITLE_ABSTRACT], res[FULL_TEXT]
        if ta.status != "automation" and ta.decision is None:
            pending.append((cid, TITLE_ABSTRACT, ta))
        elif ft is not None and ft.decision is None:
            pending.append((cid, FULL_TEXT, ft))

    ranking = {"method": "plain", "order": "export name, source, position in the export", "n_training": 0,
               "n_training_includes": 0, "note": None}
    scores: dict[str, float] = {}
    strongest: dict[str, list[str]] = {}  # why a record ranks high: the terms that weigh most for it
    if settings["ranking"] == "relevance" and pending:
        train = [(cid, res[TITLE_ABSTRACT].decision) for cid, res in results.items()
                 if res[TITLE_ABSTRACT].decision in (INCLUDE, EXCLUDE) and res[TITLE_ABSTRACT].status != "automation"]
        n_inc = sum(1 for _, d in train if d == INCLUDE)
        n_exc = len(train) - n_inc
        if n_inc < settings["ranking_min_includes"] or n_exc < settings["ranking_min_excludes"] or n_inc == 0 \
                or n_exc == 0:
            ranking["note"] = (f"plain order: ranking needs at least {max(1, settings['ranking_min_includes'])} "
                               f"include(s) and {max(1, settings['ranking_min_excludes'])} exclude(s) at "
                               f"title/abstract (have {n_inc} and {n_exc})")
        else:
            from livingmeta.records import ranking as ranker  # scikit-learn, only when needed

            targets = sorted({cid for cid, _, _ in pending}, key=record_sort_key)
            ranked = ranker.rank_queue([library.text(cid) for cid, _ in train], [d == INCLUDE for _, d in train],
                                       [library.text(cid) for cid in targets], n_terms=5,
                                       model=settings["ranking_model"])
            for cid, score, terms in zip(targets, ranked["scores"], ranked["strongest_terms"]):
                scores[cid] = float(score)
                strongest[cid] = list(terms)
            ranking.update({"method": ranked["method"], "order": "predicted relevance (highest first)",
                            "n_training": len(train), "n_training_includes": n_inc})

    order = {cid: i for i, cid in enumerate(library.clusters)}

    def key(item):
        cid, stage, res = item
        return (STAGES.index(stage), _STATUS_ORDER.get(res.status, 3), -scores.get(cid, 0.0), order[cid])

    rows = []
    for rank, (cid, stage, res) in enumerate(sorted(pending, key=key), start=1):
        rec = library.representative(cid)
        rows.append({
            "rank": rank, "stage": stage, "status": res.status, "record_id": cid,
            "other_record_ids": [r for r in library.clusters[cid] if r != cid],
            "score": round(scores[cid], 6) if cid in scores else None,
            "strongest_terms": strongest.get(cid) or [],
            "decided_by": sorted(list(res.reviewers) + list(res.arbiters)),
            # a conflict's decisions are shown for the arbiter; otherwise screening stays blind
            "conflict_decisions": ({d.reviewer: d.decision + (f" ({d.reason})" if d.reason else "")
                                    for d in res.rows if d.role == SCREENER} if res.status == "conflict" else None),
            "export": library.export_of(cid),
            "year": rec.get("year"), "title": rec.get("title"),
            "authors": rec.get("authors") or [], "journal": rec.get("journal"),
            "doi": rec.get("doi"), "pmid": rec.get("pmid"), "abstract": rec.get("abstract"),
        })
    return rows, ranking


def queue_csv_text(queue: list[dict]) -> str:
    """The screening queue as CSV text (columns QUEUE_COLUMNS)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(QUEUE_COLUMNS)
    for row in queue:
        out = []
        for colname in QUEUE_COLUMNS:
            value = row.get(colname)
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = "; ".join(f"{k}: {v}" for k, v in value.items())
            out.append("" if value is None else value)
        writer.writerow(out)
    return buf.getvalue()


def write_queue_csv(path: str | os.PathLike, queue: list[dict]) -> None:
    from livingmeta.jsonio import write_text_atomic

    write_text_atomic(path, queue_csv_text(queue))
