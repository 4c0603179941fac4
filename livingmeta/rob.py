"""SYRCLE's risk of bias tool for animal studies (Hooijmans et al. 2014, BMC Med Res Methodol 14:43).

One file per included study, ``review/risk_of_bias/<study>.yaml``::

    study: liao2021                       # = the file name, and the id of a study file
    tool: SYRCLE                          # optional; only SYRCLE is supported
    assessors: [BW, DX]                   # optional
    items:                                # all 10 items, each judged low | high | unclear, with support
      sequence_generation: {judgement: unclear, support: "Animals 'randomly divided'; method not described."}
      ...

Functions: :func:`load_rob` (load + validate, ``ReviewInputError`` naming file and field),
:func:`rob_document` (``results/rob/<study>.json``) and :func:`summarise` (``results/rob/summary.json``:
per item and per study counts, checked against the list of included studies).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.extraction.yamlio import Problems, load_yaml, type_name

TOOL = "SYRCLE"
JUDGEMENTS = ("low", "high", "unclear")


@dataclass(frozen=True)
class Item:
    id: str
    number: int
    label: str
    domain: str
    question: str


ITEMS: tuple[Item, ...] = (
    Item("sequence_generation", 1, "Random sequence generation", "Selection bias",
         "Was the allocation sequence adequately generated and applied?"),
    Item("baseline_characteristics", 2, "Baseline characteristics", "Selection bias",
         "Were the groups similar at baseline or were they adjusted for confounders in the analysis?"),
    Item("allocation_concealment", 3, "Allocation concealment", "Selection bias",
         "Was the allocation adequately concealed?"),
    Item("random_housing", 4, "Random housing", "Performance bias",
         "Were the animals randomly housed during the experiment?"),
    Item("blinding_caregivers", 5, "Blinding of caregivers and investigators", "Performance bias",
         "Were the caregivers and/or investigators blinded from knowledge of which intervention each "
         "animal received?"),
    Item("random_outcome_assessment", 6, "Random outcome assessment", "Detection bias",
         "Were animals selected at random for outcome assessment?"),
    Item("blinding_assessors", 7, "Blinding of outcome assessors", "Detection bias",
         "Was the outcome assessor blinded?"),
    Item("incomplete_outcome_data", 8, "Incomplete outcome data", "Attrition bias",
         "Were incomplete outcome data adequately addressed?"),
    Item("selective_reporting", 9, "Selective outcome reporting", "Reporting bias",
         "Are reports of the study free of selective outcome reporting?"),
    Item("other_bias", 10, "Other sources of bias", "Other",
         "Was the study apparently free of other problems that could result in high risk of bias?"),
)
ITEM_IDS = tuple(item.id for item in ITEMS)
ROB_KEYS = ("study", "tool", "assessors", "items", "notes")
_HINT = "Fix the risk-of-bias file (see docs/study-file.md, section 'Risk of bias')."


def item_table() -> list[dict[str, Any]]:
    """The items as ``[{id, number, label, domain, question}]`` in SYRCLE's order."""
    return [{"id": i.id, "number": i.number, "label": i.label, "domain": i.domain, "question": i.question}
            for i in ITEMS]


def parse_rob(data: Any, file: str | os.PathLike) -> dict[str, Any]:
    """Validate the content of a risk-of-bias file; returns ``{study, file, tool, assessors, items}``."""
    file = str(file)
    problems = Problems(file, _HINT)
    if not isinstance(data, dict):
        problems.add(None, f"a risk-of-bias file must be a mapping of fields (got {type_name(data)})",
                     "Start from the example in docs/study-file.md.")
        problems.raise_if_any()
    problems.unknown_keys(data, ROB_KEYS, "")
    expected = Path(file).stem
    sid = problems.text(data, "study", "")
    if sid is not None and sid != expected:
        problems.add("study", f"study id '{sid}' does not match the file name '{Path(file).name}'",
                     f"Name the file after the study it assesses ({sid}{Path(file).suffix}, like "
                     f"studies/{sid}.yaml) or set `study: {expected}`.")
    tool = problems.text(data, "tool", "", required=False) or TOOL
    if tool.upper() != TOOL:
        problems.add("tool", f"unsupported tool '{tool}'", "Only SYRCLE is supported: write `tool: SYRCLE`.")
    assessors = data.get("assessors")
    if assessors is not None and (not isinstance(assessors, list)
                                  or not all(isinstance(a, str) and a.strip() for a in assessors)):
        problems.add("assessors", f"must be a list of names or initials (got {type_name(assessors)})",
                     "Write e.g. `assessors: [BW, DX]`.")
        assessors = None
    items_out: dict[str, dict[str, str]] = {}
    items = problems.mapping(data, "items", "")
    if items is not None:
        for key in items:
            if key not in ITEM_IDS:
                problems.add(f"items.{key}", f"unknown SYRCLE item '{key}'",
                             f"The items are: {', '.join(ITEM_IDS)}.")
        for item in ITEMS:
            prefix = f"items.{item.id}"
            if item.id not in items or items[item.id] is None:
                problems.add(prefix, f"missing judgement for item {item.number} ({item.label})",
                             f"Add `{item.id}: {{judgement: low|high|unclear, support: \"...\"}}`; "
                             "use unclear when the paper does not report it.")
                continue
            entry = items[item.id]
            if not isinstance(entry, dict):
                problems.add(prefix, f"must be a mapping with judgement and support (got {type_name(entry)})",
                             f"Write `{item.id}: {{judgement: unclear, support: \"Not reported.\"}}`.")
                continue
            problems.unknown_keys(entry, ("judgement", "support"), prefix)
            judgement = problems.text(entry, "judgement", prefix)
            if judgement is not None and judgement.lower() not in JUDGEMENTS:
                problems.add(f"{prefix}.judgement", f"unknown judgement '{judgement}'",
                             f"Use one of: {', '.join(JUDGEMENTS)}.")
                judgement = None
            support = problems.text(entry, "support", prefix)
            if judgement is not None and support is not None:
                items_out[item.id] = {"judgement": judgement.lower(), "support": support}
    problems.raise_if_any()
    return {"study": sid, "file": file, "tool": TOOL, "assessors": assessors or [], "items": items_out,
            "notes": data.get("notes") if isinstance(data.get("notes"), str) else None}


def load_rob(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate one risk-of-bias file."""
    return parse_rob(load_yaml(path, what="risk-of-bias file"), path)


def rob_document(rob: dict[str, Any]) -> dict[str, Any]:
    """The ``results/rob/<study>.json`` document: ``{study, file, tool, assessors, items}``."""
    return {"study": rob["study"], "file": rob["file"], "tool": rob["tool"], "assessors": rob["assessors"],
            "items": {k: dict(v) for k, v in rob["items"].items()}}


def _counts(judgements: Iterable[str]) -> dict[str, int]:
    out = {j: 0 for j in JUDGEMENTS}
    for j in judgements:
        out[j] += 1
    return out


def summarise(docs: Iterable[dict[str, Any]], studies: Iterable[str]) -> dict[str, Any]:
    """``results/rob/summary.json`` from the per-study documents and the list of included studies.

    Every included study needs a risk-of-bias file and every risk-of-bias file an included study; the
    error names the missing (or orphan) file.
    """
    docs = list(docs)
    by_study = {d["study"]: d for d in docs}
    included = list(studies)
    folder = Path(docs[0]["file"]).parent if docs else Path("risk_of_bias")
    errors = []
    for sid in included:
        if sid not in by_study:
            errors.append(ReviewInputError(
                f"no risk-of-bias file for included study '{sid}'", file=str(folder / f"{sid}.yaml"),
                field="(file)", hint="Add the file with the 10 SYRCLE items (see docs/study-file.md); use "
                                     "unclear where the paper does not report an item."))
    for sid, doc in sorted(by_study.items()):
        if sid not in included:
            errors.append(ReviewInputError(
                f"risk-of-bias file for '{sid}', which is not an included study (no studies/{sid}.yaml)",
                file=doc["file"], field="study",
                hint="Rename it after its study file, or remove it if the study was excluded."))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ReviewInputErrors(errors)
    order = sorted(included)
    return {
        "tool": TOOL,
        "items": [{"id": i.id, "number": i.number, "label": i.label, "domain": i.domain} for i in ITEMS],
        "studies": {sid: {k: dict(v) for k, v in by_study[sid]["items"].items()} for sid in order},
        "summary": {item: _counts(by_study[sid]["items"][item]["judgement"] for sid in order)
                    for item in ITEM_IDS},
        "per_study": {sid: _counts(v["judgement"] for v in by_study[sid]["items"].values()) for sid in order},
        "files": {sid: by_study[sid]["file"] for sid in order},
    }
