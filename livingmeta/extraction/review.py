"""The review protocol: ``review/review.yaml``.

Required: ``title``, ``question`` and ``registration`` (text). Recommended: ``pico`` (population,
intervention, comparator, outcomes), ``eligibility`` (``inclusion`` and ``exclusion`` lists), ``search``
(``databases`` list and ``strategy`` text), ``citation`` (of the published review being kept alive) and
``notice`` (shown on the report, e.g. that per-study numbers are illustrative). Other keys are kept as
they are, for the report.

Wording (``livingmeta.report.wording``): ``type`` (preclinical | clinical), ``unit_of_analysis`` (a plural
noun: animals, participants, eyes, ...) and ``arms`` (``{treatment: ..., control: ...}``, the names of the
compared arms; an outcome in outcomes.yaml may name its own).
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from livingmeta.extraction.outcomes import arm_names
from livingmeta.extraction.yamlio import Problems, load_yaml, type_name
from livingmeta.report.lsr import LIVING_KEYS, STATUSES
from livingmeta.report.wording import REVIEW_TYPES

_HINT = "Fix review.yaml (see docs/study-file.md, section 'The review protocol')."


def _text_list(problems: Problems, block: dict, key: str, prefix: str) -> None:
    value = block.get(key)
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add(f"{prefix}.{key}", f"must be a list of text items (got {type_name(value)})",
                     f"Write one `- ...` line per item under `{key}:`.")


def _wording(problems: Problems, data: dict) -> None:
    kind = problems.text(data, "type", "", required=False)
    if kind is not None and kind.strip().lower() not in REVIEW_TYPES:
        problems.add("type", f"unknown review type '{kind}'",
                     f"Use one of {', '.join(REVIEW_TYPES)} (it sets the wording: animals or participants).")
    problems.text(data, "unit_of_analysis", "", required=False)
    arm_names(problems, data, "")
    _living(problems, data)


def _living(problems: Problems, data: dict) -> None:
    """review.yaml's ``living`` block (PRISMA-LSR living-mode parameters, livingmeta.report.lsr)."""
    living = problems.mapping(data, "living", "", required=False)
    if living is None:
        return
    problems.unknown_keys(living, LIVING_KEYS, "living")
    status = problems.text(living, "status", "living", required=False)
    if status is not None and status.strip().lower() not in STATUSES:
        problems.add("living.status", f"unknown status '{status}'", f"Use one of {', '.join(STATUSES)}.")
    for key in ("justification", "other_steps", "retirement"):
        problems.text(living, key, "living", required=False)
    if isinstance(living.get("next_update"), (datetime.date, datetime.datetime)):
        living = {**living, "next_update": living["next_update"].isoformat()}
    problems.text(living, "next_update", "living", required=False)
    schedule = living.get("search_schedule")
    if isinstance(schedule, dict):
        for source, when in schedule.items():
            if not isinstance(when, str) or not when.strip():
                problems.add(f"living.search_schedule.{source}", "must be text (e.g. monthly)",
                             "Write when this source is searched, e.g. `pubmed: monthly`.")
    elif schedule is not None and not (isinstance(schedule, str) and schedule.strip()):
        problems.add("living.search_schedule", "must be text or a mapping of source: schedule",
                     "Write e.g. `search_schedule: monthly` or `search_schedule: {pubmed: monthly}`.")


def check_report_fields(path: str | os.PathLike) -> None:
    """Check only the fields of review.yaml that generated sentences use (``type``, ``unit_of_analysis``,
    ``arms``, ``living``), as the run does before any job starts; a missing review.yaml is not a problem
    here."""
    if not os.path.isfile(path):
        return
    data = load_yaml(path, what="review protocol")
    problems = Problems(path, _HINT)
    if isinstance(data, dict):
        _wording(problems, data)
    problems.raise_if_any()


def parse_review(data: Any, file: str | os.PathLike = "review.yaml") -> dict[str, Any]:
    """Validate the content of ``review.yaml``; returns it unchanged when valid."""
    problems = Problems(file, _HINT)
    if not isinstance(data, dict):
        problems.add(None, f"review.yaml must be a mapping of fields (got {type_name(data)})")
        problems.raise_if_any()
    for key in ("title", "question", "registration"):
        problems.text(data, key, "")
    for key in ("citation", "notice", "registration_url"):
        problems.text(data, key, "", required=False)
    _wording(problems, data)
    pico = problems.mapping(data, "pico", "", required=False)
    if pico is not None:
        for key in ("population", "intervention", "comparator"):
            problems.text(pico, key, "pico", required=False)
    elig = problems.mapping(data, "eligibility", "", required=False)
    if elig is not None:
        _text_list(problems, elig, "inclusion", "eligibility")
        _text_list(problems, elig, "exclusion", "eligibility")
    search = problems.mapping(data, "search", "", required=False)
    if search is not None:
        _text_list(problems, search, "databases", "search")
        problems.text(search, "strategy", "search", required=False)
    problems.raise_if_any()
    return data


def load_review(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate ``review.yaml``."""
    return parse_review(load_yaml(path, what="review protocol"), path)
