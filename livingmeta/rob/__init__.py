"""Risk of bias: one code path for every tool (SYRCLE, RoB 2, ROBINS-I, a review's own tool).

The tool is data (:mod:`livingmeta.rob.tool`, definitions in ``livingmeta/rob/tools/``); config.yaml names
it (``risk_of_bias: {tool: syrcle | rob2 | robins_i | <path>}``, default SYRCLE). One file per included
study, ``review/risk_of_bias/<study>.yaml``::

    study: liao2021                       # = the file name, and the id of a study file
    tool: SYRCLE                          # optional; when given it must name the configured tool
    assessors: [BW, DX]                   # optional
    items:                                # (or `domains:`) every item/domain of the tool, with support
      sequence_generation: {judgement: unclear, support: "Animals 'randomly divided'; method not described."}
      ...
    overall: {judgement: high, support: "..."}   # optional: computed by the tool's rule when omitted

An overall judgement that contradicts the tool's rule is a reviewer's override and needs its reason
(``support``); RoB 2's guidance that several domains with some concerns may make a result high risk
(Sterne et al. 2019, BMJ 366:l4898) is such an override.

Functions: :func:`load_rob` (load + validate, ``ReviewInputError`` naming file, domain and the allowed
values), :func:`rob_document` (the per-study document), :func:`summarise`
(``results/rob/summary.json``: per domain and per study counts, overall judgements, checked against the
list of included studies) and :func:`item_table`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.extraction.yamlio import Problems, load_yaml, type_name
from livingmeta.rob.tool import BUILTIN, RobTool, builtin_tools as load_builtins, find_builtin, load_tool, parse_tool

__all__ = ["ITEMS", "ITEM_IDS", "JUDGEMENTS", "TOOL", "RobTool", "find_builtin", "item_table", "load_rob",
           "load_tool", "parse_rob", "parse_tool", "rob_document", "summarise", "syrcle"]

ROB_KEYS = ("study", "tool", "assessors", "items", "domains", "overall", "notes")
_HINT = "Fix the risk-of-bias file (see docs/risk-of-bias.md)."


def syrcle() -> RobTool:
    return load_tool("syrcle")


@dataclass(frozen=True)
class Item:
    id: str
    number: int
    label: str
    domain: str
    question: str


# SYRCLE, the default tool, as constants (read from its definition file)
TOOL = syrcle().name
JUDGEMENTS = syrcle().counted()
ITEMS: tuple[Item, ...] = tuple(Item(d.id, d.number, d.label, d.group or "", d.question or "")
                                for d in syrcle().domains)
ITEM_IDS = tuple(item.id for item in ITEMS)


def item_table(tool: RobTool | None = None) -> list[dict[str, Any]]:
    """The tool's items/domains as ``[{id, number, label, domain, question}]`` in the tool's order
    (``domain`` is SYRCLE's type of bias, the group of a domain)."""
    tool = tool or syrcle()
    return [{"id": d.id, "number": d.number, "label": d.label, "domain": d.group, "question": d.question}
            for d in tool.domains]


def _resolve_tool(problems: Problems, data: dict, tool: RobTool | None) -> tuple[RobTool | None, str | None]:
    """The tool to validate against, and the name the file gives (None when it gives none)."""
    named = problems.text(data, "tool", "", required=False)
    if tool is not None:
        if named is not None and not tool.matches(named):
            problems.add("tool", f"the file names tool '{named}' but the review uses {tool.name}",
                         f"Write `tool: {tool.name}` (or remove the line), or change `risk_of_bias: {{tool: ...}}` "
                         "in config.yaml if the review uses another tool.")
        return tool, named
    if named is None:
        return _guess_tool(data), None
    return find_builtin(named), named   # None: a review's own tool, validated by the rob job


def _guess_tool(data: dict) -> RobTool | None:
    """Without a configured tool (planning-time checks) and without `tool:` in the file: the built-in tool
    whose domain ids the file uses most (SYRCLE when it lists none); None when it uses none of them (a
    review's own tool, validated by the rob job)."""
    keys: set[str] = set()
    for key in ("items", "domains"):
        if isinstance(data.get(key), dict):
            keys |= {str(k) for k in data[key]}
    if not keys:
        return syrcle()
    scores = [(len(keys & set(t.domain_ids)), -n, t) for n, t in enumerate(load_builtins())]
    best = max(scores, key=lambda s: s[:2])
    return best[2] if best[0] else None


def _judgement(problems: Problems, tool: RobTool, entry: dict, prefix: str, what: str) -> str | None:
    judgement = problems.text(entry, "judgement", prefix)
    if judgement is None:
        return None
    value = tool.normalise(judgement)
    if value is None:
        problems.add(f"{prefix}.judgement", f"unknown judgement '{judgement}' for {what} ({tool.name})",
                     f"Use one of: {', '.join(tool.counted())}.")
    return value


def _answers(problems: Problems, tool: RobTool, domain, entry: dict, prefix: str) -> dict[str, str] | None:
    raw = entry.get("answers")
    if raw is None:
        return None
    questions = [q for q, _ in domain.signalling_questions]
    if not isinstance(raw, dict):
        problems.add(f"{prefix}.answers", f"must be a mapping of question: answer (got {type_name(raw)})",
                     f"Write e.g. `answers: {{\"{questions[0] if questions else '1.1'}\": PY}}`.")
        return None
    if not questions:
        problems.add(f"{prefix}.answers", f"{tool.name} lists no signalling questions for this {tool.term}",
                     "Remove `answers:` and give the reasons in `support`.")
        return None
    out: dict[str, str] = {}
    for key, value in raw.items():
        qid = str(key)
        if qid not in questions:
            problems.add(f"{prefix}.answers.{qid}", f"unknown signalling question '{qid}'",
                         f"The questions of this {tool.term} are: {', '.join(questions)}.")
            continue
        if not isinstance(value, str) or (tool.answers and value not in tool.answers):
            problems.add(f"{prefix}.answers.{qid}", f"unknown answer {value!r}",
                         f"Use one of: {', '.join(tool.answers) or 'a short text'}.")
            continue
        out[qid] = value
    return out


def _overall(problems: Problems, tool: RobTool, data: dict, judgements: dict[str, str], complete: bool):
    computed = tool.overall(list(judgements.values())) if complete else None
    raw = data.get("overall")
    if raw is None:
        if computed is None:
            return None
        return {"judgement": computed, "rule": computed, "support": None, "source": "rule"}
    entry = {"judgement": raw} if isinstance(raw, str) else raw
    if not isinstance(entry, dict):
        problems.add("overall", f"must be a mapping with judgement and support (got {type_name(raw)})",
                     "Write `overall: {judgement: high, support: \"...\"}`, or remove it to use the tool's rule.")
        return None
    problems.unknown_keys(entry, ("judgement", "support"), "overall")
    given = _judgement(problems, tool, entry, "overall", "the overall judgement")
    support = problems.text(entry, "support", "overall", required=False)
    if given is None or not complete:
        return None
    if computed is not None and given == computed:
        return {"judgement": given, "rule": computed, "support": support, "source": "rule"}
    if support is None:
        if computed is None:
            problems.add("overall.support", f"an overall judgement needs its reason ({tool.name} has no "
                                            "rule for the overall judgement)",
                         f"Write `overall: {{judgement: {given}, support: \"...\"}}`.")
        else:
            problems.add("overall.judgement",
                         f"overall judgement '{given}' contradicts {tool.name}'s rule, which gives '{computed}' "
                         f"({tool.rule_text()})",
                         f"Give the reason for the override: `overall: {{judgement: {given}, support: \"...\"}}`, "
                         "or remove `overall:` to use the rule.")
        return None
    return {"judgement": given, "rule": computed, "support": support,
            "source": "reviewer" if computed is None else "override"}


def parse_rob(data: Any, file: str | os.PathLike, tool: RobTool | None = None) -> dict[str, Any]:
    """Validate the content of a risk-of-bias file against ``tool`` (None: the tool the file names, a
    built-in one, else SYRCLE); returns ``{study, file, tool, tool_id, assessors, items, overall, notes}``.

    With ``tool`` None and a file naming a tool that is not built in (a review's own tool), only the common
    fields are checked: the rob job validates the judgements against the configured tool."""
    file = str(file)
    problems = Problems(file, _HINT)
    problems.top_level(data, "a risk-of-bias file", "the example in docs/risk-of-bias.md", ROB_KEYS)
    expected = Path(file).stem
    sid = problems.text(data, "study", "")
    if sid is not None and sid != expected:
        problems.add("study", f"study id '{sid}' does not match the file name '{Path(file).name}'",
                     f"Name the file after the study it assesses ({sid}{Path(file).suffix}, like "
                     f"studies/{sid}.yaml) or set `study: {expected}`.")
    tool, named = _resolve_tool(problems, data, tool)
    assessors = data.get("assessors")
    if assessors is not None and (not isinstance(assessors, list)
                                  or not all(isinstance(a, str) and a.strip() for a in assessors)):
        problems.add("assessors", f"must be a list of names or initials (got {type_name(assessors)})",
                     "Write e.g. `assessors: [BW, DX]`.")
        assessors = None
    items_out: dict[str, dict[str, Any]] = {}
    overall = None
    if tool is None:
        problems.raise_if_any()
        return {"study": sid, "file": file, "tool": named, "tool_id": None, "assessors": assessors or [],
                "items": {}, "overall": None, "validated": False,
                "notes": data.get("notes") if isinstance(data.get("notes"), str) else None}
    term, other = ("items", "domains") if tool.term == "item" else ("domains", "items")
    if other in data and term not in data:
        term = other                      # either key is accepted
    elif other in data:
        problems.add(other, f"the file has both `{term}:` and `{other}:`", f"Keep one list, `{term}:`.")
    items = problems.mapping(data, term, "")
    if items is not None:
        for key in items:
            if key not in tool.domain_ids:
                problems.add(f"{term}.{key}", f"unknown {tool.name} {tool.term} '{key}'",
                             f"The {tool.term}s are: {', '.join(tool.domain_ids)}.")
        levels = "|".join(tool.counted())
        for domain in tool.domains:
            prefix = f"{term}.{domain.id}"
            what = f"{tool.term} {domain.number} ({domain.label})"
            if domain.id not in items or items[domain.id] is None:
                hint = f"Add `{domain.id}: {{judgement: {levels}, support: \"...\"}}`"
                hint += (f"; use {tool.default_judgement} when the paper does not report it."
                         if tool.default_judgement else ".")
                problems.add(prefix, f"missing judgement for {what}", hint)
                continue
            entry = items[domain.id]
            if not isinstance(entry, dict):
                example = tool.default_judgement or tool.counted()[0]
                problems.add(prefix, f"must be a mapping with judgement and support (got {type_name(entry)})",
                             f"Write `{domain.id}: {{judgement: {example}, support: \"...\"}}`.")
                continue
            problems.unknown_keys(entry, ("judgement", "support", "answers"), prefix)
            judgement = _judgement(problems, tool, entry, prefix, what)
            support = problems.text(entry, "support", prefix)
            answers = _answers(problems, tool, domain, entry, prefix)
            if judgement is not None and support is not None:
                items_out[domain.id] = {"judgement": judgement, "support": support}
                if answers:
                    items_out[domain.id]["answers"] = answers
        overall = _overall(problems, tool, data, {k: v["judgement"] for k, v in items_out.items()},
                           len(items_out) == len(tool.domains))
    problems.raise_if_any()
    return {"study": sid, "file": file, "tool": tool.name, "tool_id": tool.id, "assessors": assessors or [],
            "items": items_out, "overall": overall,
            "notes": data.get("notes") if isinstance(data.get("notes"), str) else None}


def load_rob(path: str | os.PathLike, tool: RobTool | None = None) -> dict[str, Any]:
    """Load and validate one risk-of-bias file (against ``tool``; see :func:`parse_rob`)."""
    return parse_rob(load_yaml(path, what="risk-of-bias file"), path, tool)


def rob_document(rob: dict[str, Any]) -> dict[str, Any]:
    """The per-study risk-of-bias document (read through livingmeta.extraction.documents):
    ``{study, file, tool, tool_id, assessors, items, overall}``."""
    overall = rob.get("overall")
    return {"study": rob["study"], "file": rob["file"], "tool": rob["tool"], "tool_id": rob.get("tool_id"),
            "assessors": rob["assessors"], "items": {k: dict(v) for k, v in rob["items"].items()},
            "overall": dict(overall) if overall else None}


def _counts(judgements: Iterable[str], levels: Iterable[str]) -> dict[str, int]:
    out = {j: 0 for j in levels}
    for j in judgements:
        out[j] += 1
    return out


def summarise(docs: Iterable[dict[str, Any]], studies: Iterable[str], tool: RobTool | None = None) -> dict[str, Any]:
    """``results/rob/summary.json`` from the per-study documents and the list of included studies.

    Every included study needs a risk-of-bias file and every risk-of-bias file an included study; the
    error names the missing (or orphan) file. ``tool`` None: the built-in tool the documents name (SYRCLE
    when there are none)."""
    docs = list(docs)
    if tool is None:
        tool = find_builtin(docs[0]["tool"]) if docs and docs[0].get("tool") else syrcle()
        if tool is None:
            raise ReviewInputError(f"unknown risk-of-bias tool '{docs[0]['tool']}'", file=docs[0]["file"],
                                   field="tool", hint="Name the tool's definition file in config.yaml "
                                                      "(`risk_of_bias: {tool: <path>}`).")
    by_study = {d["study"]: d for d in docs}
    included = list(studies)
    folder = Path(docs[0]["file"]).parent if docs else Path("risk_of_bias")
    errors = []
    for sid in included:
        if sid not in by_study:
            default = f"; use {tool.default_judgement} where the paper does not report an {tool.term}" \
                if tool.default_judgement else ""
            errors.append(ReviewInputError(
                f"no risk-of-bias file for included study '{sid}'", file=str(folder / f"{sid}.yaml"),
                field="(file)", hint=f"Add the file with the {len(tool.domains)} {tool.name} {tool.term}s "
                                     f"(see docs/risk-of-bias.md){default}."))
    for sid, doc in sorted(by_study.items()):
        if sid not in included:
            errors.append(ReviewInputError(
                f"risk-of-bias file for '{sid}', which is not an included study (no studies/{sid}.yaml)",
                file=doc["file"], field="study",
                hint="Rename it after its study file, or remove it if the study was excluded."))
        elif doc.get("tool") != tool.name or set(doc.get("items") or {}) != set(tool.domain_ids):
            errors.append(ReviewInputError(
                f"assessed with {doc.get('tool')}, but the review uses {tool.name}", file=doc["file"],
                field="tool", hint=f"Assess the study with {tool.name} or change `risk_of_bias: {{tool: ...}}` "
                                   "in config.yaml."))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ReviewInputErrors(errors)
    order = sorted(included)
    levels = tool.counted()
    overall = {sid: (dict(by_study[sid]["overall"]) if by_study[sid].get("overall") else None) for sid in order}
    judged = [o["judgement"] for o in overall.values() if o]
    return {
        "tool": tool.name,
        "tool_id": tool.id,
        "title": tool.title,
        "reference": tool.reference,
        "term": tool.term,
        "judgements": [j.as_dict() for j in tool.judgements],
        "overall_rule": tool.rule_text(),
        "items": [{"id": d.id, "number": d.number, "label": d.label, "domain": d.group} for d in tool.domains],
        "studies": {sid: {k: dict(v) for k, v in by_study[sid]["items"].items()} for sid in order},
        "summary": {item: _counts((by_study[sid]["items"][item]["judgement"] for sid in order), levels)
                    for item in tool.domain_ids},
        "per_study": {sid: _counts((v["judgement"] for v in by_study[sid]["items"].values()), levels)
                      for sid in order},
        "overall": overall,
        "overall_summary": _counts(judged, levels) if judged else None,
        "files": {sid: by_study[sid]["file"] for sid in order},
    }
