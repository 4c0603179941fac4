"""``review/screening/duplicates.csv``: reviewers' forced deduplication decisions (format in
:mod:`livingmeta.records.dedup` and docs/records.md). Standard library only, so that the planning-time
check (:func:`problems_in_duplicates_file`) stays cheap; :func:`read_decisions` resolves the ids against
the records (stable ids, livingmeta.records.keys)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from livingmeta.errors import ReviewInputError


@dataclass
class Decision:
    record_a: str
    record_b: str
    decision: str   # "same" | "different"
    reviewer: str = ""
    note: str = ""
    row: int = 0


def _decision_rows(path: str | os.PathLike, shown: str):
    """(line, row dict) of the decided rows of duplicates.csv; syntax, header and decision words checked."""
    from livingmeta.records.csvrows import read_rows

    rows = read_rows(path, shown, required=("record_a", "record_b", "decision"))
    header = [h.strip().lower() for h in rows.header]
    if not rows.header_line:
        return
    missing = [c for c in ("record_a", "record_b", "decision") if c not in header]
    if missing:
        raise ReviewInputError(f"missing column(s) {', '.join(missing)} in the header, line {rows.header_line}",
                               file=shown, field="header",
                               hint="The header must be record_a,record_b,decision,reviewer,note")
    for row in rows.rows:
        values = {name: (row.values[i].strip() if i < len(row.values) else "") for i, name in enumerate(header)
                  if name}
        decision = values.get("decision", "").lower()
        if not decision:
            continue  # a pair copied from dedup_review.csv and not decided yet: it stays on the review list
        where = f"row {row.line}"
        if decision not in ("same", "different"):
            raise ReviewInputError(f"decision must be 'same' or 'different' (got {values.get('decision')!r})",
                                   file=shown, field=f"{where}: decision")
        a, b = values.get("record_a", ""), values.get("record_b", "")
        if not a or not b:
            raise ReviewInputError("record_a and record_b are both required", file=shown, field=where)
        if a == b:
            raise ReviewInputError("record_a and record_b are the same record", file=shown, field=where)
        values["decision"] = decision
        yield row.line, values


def _contradiction(prev: Decision, d: Decision, shown: str) -> ReviewInputError:
    return ReviewInputError(
        f"contradictory decisions for the pair {d.record_a} / {d.record_b}: {prev.decision} at row {prev.row}, "
        f"{d.decision} here", file=shown, field=f"row {d.row}: decision",
        hint="Keep one decision per pair (delete or correct one of the rows).")


def problems_in_duplicates_file(path: str | os.PathLike, shown: str | None = None) -> list[ReviewInputError]:
    """Planning-time check of ``duplicates.csv`` without the records: syntax, header, decision words,
    position ids and contradictory rows for one pair (milliseconds; the ids themselves are checked by
    the deduplicate job)."""
    from livingmeta.records.keys import looks_like_position_id, position_id_error

    shown = shown or str(path)
    problems: list[ReviewInputError] = []
    seen: dict[frozenset, Decision] = {}
    try:
        for line, values in _decision_rows(path, shown):
            a, b = values["record_a"], values["record_b"]
            bad = next((r for r in (a, b) if looks_like_position_id(r)), None)
            if bad:
                problems.append(position_id_error(bad, file=shown, field=f"row {line}"))
                continue
            d = Decision(a, b, values["decision"], values.get("reviewer", ""), values.get("note", ""), line)
            prev = seen.setdefault(frozenset((a, b)), d)
            if prev is not d and prev.decision != d.decision:
                problems.append(_contradiction(prev, d, shown))
    except ReviewInputError as err:
        problems.append(err)
    return problems


def read_decisions(path: str | os.PathLike, known_ids=None, *, records=None,
                   display_path: str | None = None) -> list[Decision]:
    """Read ``duplicates.csv`` (see the module docstring). ``known_ids`` checks the record ids;
    ``records`` (with stable ids, see livingmeta.records.keys) also resolves alias keys and explains
    position ids. Two rows for one pair with different decisions are an error."""
    from livingmeta.records.keys import IdResolver, resolve_or_error

    shown = display_path or str(path)
    resolver = IdResolver(records) if records is not None else None
    out: list[Decision] = []
    seen: dict[frozenset, Decision] = {}
    for line, values in _decision_rows(path, shown):
        ids = []
        for column in ("record_a", "record_b"):
            rid = values[column]
            if resolver is not None:
                rid = resolve_or_error(resolver, rid, file=shown, field=f"row {line}: {column}")
            elif known_ids is not None and rid not in known_ids:
                raise ReviewInputError(f"unknown record id {rid!r}", file=shown, field=f"row {line}: {column}",
                                       hint="Copy the ids from dedup_review.csv or dedup.json")
            ids.append(rid)
        if ids[0] == ids[1]:
            raise ReviewInputError(f"record_a and record_b name the same record ({ids[0]})", file=shown,
                                   field=f"row {line}")
        d = Decision(ids[0], ids[1], values["decision"], values.get("reviewer", ""), values.get("note", ""), line)
        prev = seen.setdefault(frozenset(ids), d)
        if prev is not d:
            if prev.decision != d.decision:
                raise _contradiction(prev, d, shown)
            continue
        out.append(d)
    return out
