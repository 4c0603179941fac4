"""Risk-of-bias tools as data: a tool is a definition file (domains, signalling questions where the tool
has them, allowed judgements with their colours and symbols, and the rule for the overall judgement).

Shipped definitions (``livingmeta/rob/tools/``):

* ``syrcle``: SYRCLE's tool for animal studies, 10 items, no overall judgement (Hooijmans et al. 2014,
  BMC Med Res Methodol 14:43: the authors advise against a summary score);
* ``rob2``: RoB 2 for randomised trials, 5 domains, low / some concerns / high; overall low if all domains
  are low, high if any is high, some concerns otherwise (Sterne et al. 2019, BMJ 366:l4898);
* ``robins_i``: ROBINS-I for non-randomised studies of interventions, 7 domains, low / moderate / serious /
  critical / no information; overall = the most severe domain judgement, no information when a domain
  lacks information and none is serious or critical (Sterne et al. 2016, BMJ 355:i4919).

A review's own tool is a YAML file in the same format, named by ``risk_of_bias: {tool: <path>}`` in
config.yaml (see docs/risk-of-bias.md). :func:`load_tool` reads and validates any of them, with a
``ReviewInputError`` naming the file, the field and what to do.

The overall rule is an ordered list of conditions on the domain judgements; the first that holds gives
the overall judgement, and the last entry has no condition (``otherwise``)::

    overall:
      rule:
        - {judgement: high, if_any: [high]}           # at least one domain judged high
        - {judgement: low, if_all: [low]}             # every domain judged low
        - {judgement: high, if_at_least: {count: 3, of: [some_concerns]}}
        - {judgement: some_concerns}                  # otherwise

``overall: none`` (or no ``overall``) means the tool has no overall judgement.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.yamlio import Problems, load_yaml, type_name

TOOLS_DIR = Path(__file__).resolve().parent / "tools"
BUILTIN = ("syrcle", "rob2", "robins_i")
DEFAULT_TOOL = "syrcle"
_HINT = "Fix the tool definition (see docs/risk-of-bias.md, section 'A review's own tool')."
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]*$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEF_KEYS = ("id", "name", "title", "reference", "term", "judgements", "count_order", "default_judgement",
            "answers", "domains", "overall")
CONDITIONS = ("if_any", "if_all", "if_at_least")


@dataclass(frozen=True)
class Judgement:
    id: str
    label: str
    fill: str
    symbol: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label, "fill": self.fill, "symbol": self.symbol, "text": self.text}


@dataclass(frozen=True)
class Domain:
    id: str
    number: int
    label: str
    group: str | None = None
    question: str | None = None
    signalling_questions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Condition:
    judgement: str
    kind: str | None = None            # if_any | if_all | if_at_least | None (otherwise)
    levels: tuple[str, ...] = ()
    count: int = 1

    def holds(self, judgements: Sequence[str]) -> bool:
        if self.kind is None:
            return True
        if self.kind == "if_any":
            return any(j in self.levels for j in judgements)
        if self.kind == "if_all":
            return bool(judgements) and all(j in self.levels for j in judgements)
        return sum(j in self.levels for j in judgements) >= self.count

    def describe(self, labels: dict[str, str]) -> str:
        names = " or ".join(labels.get(level, level).lower() for level in self.levels)
        what = labels.get(self.judgement, self.judgement).lower()
        if self.kind == "if_any":
            return f"{what} if any domain is {names}"
        if self.kind == "if_all":
            return f"{what} if every domain is {names}"
        if self.kind == "if_at_least":
            return f"{what} if at least {self.count} domains are {names}"
        return f"{what} otherwise"


@dataclass(frozen=True)
class RobTool:
    id: str
    name: str
    title: str
    reference: str | None
    term: str                                   # "item" or "domain"
    judgements: tuple[Judgement, ...]
    domains: tuple[Domain, ...]
    rule: tuple[Condition, ...] = ()            # empty: no overall judgement
    count_order: tuple[str, ...] = ()
    default_judgement: str | None = None
    answers: tuple[str, ...] = ()
    file: str | None = None
    aliases: tuple[str, ...] = field(default=())

    @property
    def judgement_ids(self) -> tuple[str, ...]:
        return tuple(j.id for j in self.judgements)

    @property
    def domain_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.domains)

    @property
    def has_overall_rule(self) -> bool:
        return bool(self.rule)

    def counted(self) -> tuple[str, ...]:
        """The judgement ids in the order of the count tables (``summary.json``)."""
        return self.count_order or self.judgement_ids

    def label(self, judgement: str) -> str:
        return next((j.label for j in self.judgements if j.id == judgement), judgement)

    def normalise(self, value: str) -> str | None:
        """A judgement as written in a file (``Some concerns``, ``some-concerns``) -> its id, or None."""
        key = _key(value)
        for j in self.judgements:
            if key in (_key(j.id), _key(j.label)):
                return j.id
        return None

    def overall(self, judgements: Sequence[str]) -> str | None:
        """The overall judgement by the tool's rule (None when the tool has no rule)."""
        for condition in self.rule:
            if condition.holds(judgements):
                return condition.judgement
        return None

    def rule_text(self) -> str | None:
        """The rule in words: "high if any domain is high; low if every domain is low; ..."."""
        if not self.rule:
            return None
        labels = {j.id: j.label.replace(" risk", "") for j in self.judgements}
        return "; ".join(c.describe(labels) for c in self.rule)

    def matches(self, name: str) -> bool:
        """Whether ``name`` (a file's ``tool:`` field) names this tool."""
        return _key(name) in {_key(self.id), _key(self.name), *(_key(a) for a in self.aliases)}

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "title": self.title, "reference": self.reference,
                "term": self.term, "judgements": [j.as_dict() for j in self.judgements],
                "overall_rule": self.rule_text()}


def _key(value: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(value)).lower()


def _ids(problems: Problems, value: Any, field_name: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.add(field_name, f"must be a list of judgement ids (got {type_name(value)})",
                     f"Write e.g. `[{allowed[0] if allowed else 'low'}]`.")
        return ()
    unknown = [v for v in value if v not in allowed]
    if unknown:
        problems.add(field_name, f"unknown judgement {', '.join(repr(u) for u in unknown)} in {what}",
                     f"Use the ids listed under `judgements:`: {', '.join(allowed)}.")
        return ()
    return tuple(value)


def parse_tool(data: Any, file: str | os.PathLike) -> RobTool:
    """Validate a tool definition (a mapping read from ``file``)."""
    file = str(file)
    problems = Problems(file, _HINT)
    problems.top_level(data, "a risk-of-bias tool definition",
                       "livingmeta/rob/tools/rob2.yaml (see docs/risk-of-bias.md)", DEF_KEYS)
    name = problems.text(data, "name", "")
    tool_id = problems.text(data, "id", "", required=False) or (name or "")
    title = problems.text(data, "title", "", required=False) or name
    reference = problems.text(data, "reference", "", required=False)
    term = problems.text(data, "term", "", required=False) or "domain"
    if term not in ("domain", "item"):
        problems.add("term", f"must be domain or item (got {term!r})",
                     "Write `term: domain` (files list `domains:`) or `term: item` (files list `items:`).")
    judgements: list[Judgement] = []
    raw = data.get("judgements")
    if not isinstance(raw, list) or len(raw) < 2:
        problems.add("judgements", f"must be a list of at least two judgements (got {type_name(raw)})",
                     "Write e.g. `judgements: [{id: low, label: Low risk, fill: \"#009E73\", symbol: \"+\"}, ...]`.")
        raw = []
    for n, entry in enumerate(raw):
        prefix = f"judgements[{n}]"
        if not isinstance(entry, dict):
            problems.add(prefix, f"must be a mapping with id, label, fill and symbol (got {type_name(entry)})")
            continue
        problems.unknown_keys(entry, ("id", "label", "fill", "symbol", "text"), prefix)
        jid = problems.text(entry, "id", prefix)
        label = problems.text(entry, "label", prefix)
        fill = problems.text(entry, "fill", prefix)
        symbol = entry.get("symbol", "")
        text = problems.text(entry, "text", prefix, required=False) or "#000000"
        for key, colour in (("fill", fill), ("text", text)):
            if colour is not None and not _COLOUR.match(colour):
                problems.add(f"{prefix}.{key}", f"must be a colour as #RRGGBB (got {colour!r})",
                             "Write e.g. `fill: \"#009E73\"` (in quotes: # starts a YAML comment).")
        if not isinstance(symbol, str) or len(symbol) > 2:
            problems.add(f"{prefix}.symbol", f"must be one or two characters (got {type_name(symbol)})",
                         "Write e.g. `symbol: \"+\"`; the symbol keeps the figure readable without colour.")
            symbol = ""
        if jid is not None and not _ID.match(jid):
            problems.add(f"{prefix}.id", f"must be a short id of letters, digits and _ (got {jid!r})",
                         "Write e.g. `id: some_concerns`.")
            jid = None
        if jid is not None and jid in [j.id for j in judgements]:
            problems.add(f"{prefix}.id", f"judgement '{jid}' is listed twice", "Give each judgement once.")
            jid = None
        if jid and label and fill:
            judgements.append(Judgement(jid, label, fill, symbol, text))
    allowed = tuple(j.id for j in judgements)
    domains: list[Domain] = []
    raw = data.get("domains")
    if not isinstance(raw, list) or not raw:
        problems.add("domains", f"must be a list of at least one domain (got {type_name(raw)})",
                     "Write e.g. `domains: [{id: randomisation, label: Bias arising from the randomisation process}]`.")
        raw = []
    for n, entry in enumerate(raw):
        prefix = f"domains[{n}]"
        if not isinstance(entry, dict):
            problems.add(prefix, f"must be a mapping with id and label (got {type_name(entry)})")
            continue
        problems.unknown_keys(entry, ("id", "label", "group", "question", "signalling_questions"), prefix)
        did = problems.text(entry, "id", prefix)
        label = problems.text(entry, "label", prefix)
        group = problems.text(entry, "group", prefix, required=False)
        question = problems.text(entry, "question", prefix, required=False)
        questions: list[tuple[str, str]] = []
        sq = entry.get("signalling_questions")
        if sq is not None:
            if not isinstance(sq, list):
                problems.add(f"{prefix}.signalling_questions", f"must be a list (got {type_name(sq)})",
                             "Write e.g. `signalling_questions: [{id: \"1.1\", text: Was the allocation sequence random?}]`.")
                sq = []
            for m, q in enumerate(sq):
                qprefix = f"{prefix}.signalling_questions[{m}]"
                if not isinstance(q, dict):
                    problems.add(qprefix, f"must be a mapping with id and text (got {type_name(q)})")
                    continue
                problems.unknown_keys(q, ("id", "text"), qprefix)
                qid = problems.text(q, "id", qprefix, allow_number=True)
                qtext = problems.text(q, "text", qprefix)
                if qid and qtext:
                    questions.append((qid, qtext))
        if did is not None and not _ID.match(did):
            problems.add(f"{prefix}.id", f"must be a short id of letters, digits and _ (got {did!r})",
                         "Write e.g. `id: missing_outcome_data`.")
            did = None
        if did is not None and did in [d.id for d in domains]:
            problems.add(f"{prefix}.id", f"domain '{did}' is listed twice", "Give each domain once.")
            did = None
        if did and label:
            domains.append(Domain(did, len(domains) + 1, label, group, question, tuple(questions)))
    count_order: tuple[str, ...] = ()
    if data.get("count_order") is not None:
        count_order = _ids(problems, data["count_order"], "count_order", allowed, "count_order")
        if count_order and sorted(count_order) != sorted(allowed):
            problems.add("count_order", "must list every judgement once", f"List: {', '.join(allowed)}.")
    default = problems.text(data, "default_judgement", "", required=False)
    if default is not None and allowed and default not in allowed:
        problems.add("default_judgement", f"unknown judgement {default!r}", f"Use one of: {', '.join(allowed)}.")
    answers: tuple[str, ...] = ()
    if data.get("answers") is not None:
        raw_answers = data["answers"]
        if not isinstance(raw_answers, list) or not all(isinstance(a, str) and a.strip() for a in raw_answers):
            problems.add("answers", f"must be a list of answer codes (got {type_name(raw_answers)})",
                         "Write e.g. `answers: [Y, PY, PN, N, NI]`.")
        else:
            answers = tuple(raw_answers)
    rule = _parse_rule(problems, data.get("overall"), allowed)
    problems.raise_if_any()
    return RobTool(tool_id, name, title, reference, term, tuple(judgements), tuple(domains), rule,
                   count_order, default, answers, file)


def _parse_rule(problems: Problems, overall: Any, allowed: tuple[str, ...]) -> tuple[Condition, ...]:
    if overall is None or overall == "none":
        return ()
    hint = ("Write `overall: none`, or `overall: {rule: [{judgement: high, if_any: [high]}, ..., "
            "{judgement: some_concerns}]}` (see docs/risk-of-bias.md).")
    if not isinstance(overall, dict) or set(overall) != {"rule"}:
        problems.add("overall", f"must be `none` or a mapping with `rule:` (got {type_name(overall)})", hint)
        return ()
    raw = overall["rule"]
    if not isinstance(raw, list) or not raw:
        problems.add("overall.rule", f"must be a list of conditions (got {type_name(raw)})", hint)
        return ()
    rule: list[Condition] = []
    for n, entry in enumerate(raw):
        prefix = f"overall.rule[{n}]"
        if not isinstance(entry, dict):
            problems.add(prefix, f"must be a mapping (got {type_name(entry)})", hint)
            continue
        problems.unknown_keys(entry, ("judgement", *CONDITIONS), prefix)
        judgement = problems.text(entry, "judgement", prefix)
        if judgement is not None and allowed and judgement not in allowed:
            problems.add(f"{prefix}.judgement", f"unknown judgement {judgement!r}", f"Use one of: {', '.join(allowed)}.")
            judgement = None
        kinds = [k for k in CONDITIONS if k in entry]
        if len(kinds) > 1:
            problems.add(prefix, f"has more than one condition ({', '.join(kinds)})",
                         "Give one condition per entry; list entries in the order they are tried.")
            continue
        last = n == len(raw) - 1
        if not kinds:
            if not last:
                problems.add(prefix, "an entry without a condition (otherwise) must be the last one",
                             "Move it to the end: the entries are tried in order and it always holds.")
                continue
            if judgement:
                rule.append(Condition(judgement))
            continue
        if last:
            problems.add(prefix, "the last entry must have no condition (the judgement otherwise)",
                         "Add a final entry such as `{judgement: some_concerns}` so that every study gets one.")
        kind = kinds[0]
        if kind == "if_at_least":
            spec = entry[kind]
            if not isinstance(spec, dict) or set(spec) != {"count", "of"}:
                problems.add(f"{prefix}.if_at_least", f"must be `{{count: N, of: [judgements]}}` (got {type_name(spec)})",
                             "Write e.g. `if_at_least: {count: 3, of: [some_concerns]}`.")
                continue
            count = spec["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                problems.add(f"{prefix}.if_at_least.count", f"must be a whole number >= 1 (got {type_name(count)})")
                continue
            levels = _ids(problems, spec["of"], f"{prefix}.if_at_least.of", allowed, "the rule")
        else:
            count = 1
            levels = _ids(problems, entry[kind], f"{prefix}.{kind}", allowed, "the rule")
        if judgement and levels:
            rule.append(Condition(judgement, kind, levels, count))
    return tuple(rule)


@lru_cache(maxsize=None)
def _builtin(tool_id: str) -> RobTool:
    path = TOOLS_DIR / f"{tool_id}.yaml"
    return parse_tool(load_yaml(path, what="risk-of-bias tool definition"), path)


def builtin_tools() -> list[RobTool]:
    return [_builtin(t) for t in BUILTIN]


def find_builtin(name: str) -> RobTool | None:
    """The built-in tool ``name`` names (``RoB 2``, ``rob2``, ``ROBINS-I``, ``SYRCLE``, any case), or None."""
    return next((t for t in builtin_tools() if t.matches(name)), None)


def load_tool(spec: str | None = None, base_dir: str | os.PathLike | None = None, *,
              source: str = "config.yaml") -> RobTool:
    """The tool named by config.yaml's ``risk_of_bias.tool``: a built-in id (``syrcle``, ``rob2``,
    ``robins_i``; default ``syrcle``) or the path of a review's own definition file (relative paths are
    resolved against ``base_dir``, the config file's folder)."""
    spec = DEFAULT_TOOL if spec is None or not str(spec).strip() else str(spec).strip()
    tool = find_builtin(spec)
    if tool is not None:
        return tool
    path = Path(os.path.expanduser(spec))
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        raise ReviewInputError(
            f"unknown risk-of-bias tool '{spec}'" + (f" (no file {path})" if path.suffix else ""),
            file=source, field="risk_of_bias.tool",
            hint=f"Use one of {', '.join(BUILTIN)}, or the path of a tool definition file (.yaml) relative "
                 "to the config file (see docs/risk-of-bias.md).")
    return parse_tool(load_yaml(path, what="risk-of-bias tool definition"), path)
