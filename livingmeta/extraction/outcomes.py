"""Outcome definitions: ``review/outcomes.yaml``.

::

    outcomes:
      - id: dhi                       # used by study files (`outcome: dhi`) and in analysis ids
        label: Disc height index      # shown in the report
        unit: "%"                     # optional: the usual unit (studies state their own)
        higher_is_better: true        # direction: studies pointing the other way are flipped
        timepoints: [4 weeks, 8 weeks]
        measure: SMD                  # optional: the effect measure of this outcome (default: config's
                                      #   analysis.measure); SMD MD ROM NMD | OR RR RD PETO | HR
        method: REML                  # optional: estimator (FE DL ... REML; MH or PETO for 2x2 data)
        test: knha                    # optional: z | knha
        units_harmonised: false       # optional: true = MD may pool studies whose `unit` differs
        arms: {treatment: Exercise, control: Usual care}   # optional: names of the compared arms, for
                                      #   "Favours exercise" / "Favours usual care" (default: review.yaml's)
        dependent: multilevel         # optional: studies with several comparisons of this outcome are pooled
                                      #   by a multilevel model | combine (arms combined) | split (shared
                                      #   control's n divided); default: config's analysis.dependent
        robust: true                  # optional: a multilevel analysis also reports a CR2 cluster-robust test
                                      #   at the study level; default: config's analysis.robust

    domains:                          # optional: outcome DOMAINS of synthesis without meta-analysis (SWiM):
      - id: apoptosis                 #   study files report only a direction of effect for them
        label: Cell apoptosis         #   (`direction: benefit`, docs/synthesis.md); never pooled
        description: optional text

A review with domains may have no pooled outcomes (``outcomes: []``).

An analysis is one outcome x timepoint; its id is ``livingmeta.plan.analysis_id(outcome, timepoint)``.
The parse-time plan (``livingmeta.plan``) reads the same file leniently; this module validates it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from livingmeta.extraction.yamlio import Problems, load_yaml, type_name
from livingmeta.plan import analysis_id, slug

_HINT = "Fix outcomes.yaml (see docs/study-file.md, section 'Outcome definitions')."
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
OUTCOME_KEYS = ("id", "label", "unit", "higher_is_better", "timepoints", "description", "measure", "method", "test",
                "units_harmonised", "arms", "dependent", "robust")
METHODS = ("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "MH", "PETO")
TESTS = ("z", "knha")
DEPENDENT = ("multilevel", "combine", "split")


@dataclass(frozen=True)
class Outcome:
    id: str
    label: str
    higher_is_better: bool
    timepoints: tuple[str, ...]
    unit: str | None = None
    description: str | None = None
    measure: str | None = None          # None: the config's analysis.measure
    method: str | None = None
    test: str | None = None
    units_harmonised: bool = False
    arms: dict | None = None            # {treatment, control} names; None: review.yaml's
    dependent: str | None = None        # several comparisons per study: multilevel | combine | split (None: config's)
    robust: bool | None = None          # CR2 cluster-robust test of a multilevel analysis (None: config's)

    def timepoint(self, value: str) -> str | None:
        """The declared spelling of ``value`` (matched as analysis ids are: case and punctuation
        insensitive), or None."""
        wanted = slug(value)
        for tp in self.timepoints:
            if slug(tp) == wanted:
                return tp
        return None

    def analysis(self, timepoint: str) -> str:
        return analysis_id(self.id, timepoint)


@dataclass(frozen=True)
class Domain:
    """An outcome domain reported as a direction of effect only (synthesis without meta-analysis)."""
    id: str
    label: str
    description: str | None = None


@dataclass
class OutcomeSet:
    file: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)

    def __contains__(self, outcome_id: str) -> bool:
        return outcome_id in self.outcomes

    def __getitem__(self, outcome_id: str) -> Outcome:
        return self.outcomes[outcome_id]

    def ids(self) -> list[str]:
        return list(self.outcomes)

    def analyses(self) -> list[tuple[str, str, str]]:
        """(analysis id, outcome id, timepoint) in protocol order."""
        return [(o.analysis(tp), o.id, tp) for o in self.outcomes.values() for tp in o.timepoints]


def arm_names(problems: Problems, block: dict, prefix: str) -> dict | None:
    """Validate an optional ``arms: {treatment: ..., control: ...}`` mapping (names of the compared arms)."""
    arms = problems.mapping(block, "arms", prefix, required=False)
    if arms is None:
        return None
    field = f"{prefix}.arms" if prefix else "arms"
    problems.unknown_keys(arms, ("treatment", "control"), field)
    out = {}
    for key in ("treatment", "control"):
        value = problems.text(arms, key, field, required=False)
        if value is not None:
            out[key] = value
    return out or None


def parse_outcomes(data, file: str | os.PathLike = "outcomes.yaml") -> OutcomeSet:
    """Validate the content of ``outcomes.yaml`` (a mapping with an ``outcomes`` list, or a bare list)."""
    problems = Problems(file, _HINT)
    items = data.get("outcomes") if isinstance(data, dict) else data
    if isinstance(data, dict):
        problems.unknown_keys(data, ("outcomes", "domains"), "")
    result = OutcomeSet(str(file))
    has_domains = isinstance(data, dict) and data.get("domains") is not None
    if has_domains:
        _domains(problems, data.get("domains"), result)
        if items is None:
            items = []
    if not isinstance(items, list) or (not items and not has_domains):
        problems.add("outcomes", f"must be a non-empty list of outcome definitions (got {type_name(items)})",
                     "Write `outcomes:` followed by one `- {id: ..., label: ..., higher_is_better: ..., "
                     "timepoints: [...]}` per outcome.")
        problems.raise_if_any()
    seen_analyses: dict[str, str] = {}
    for i, item in enumerate(items):
        prefix = f"outcomes[{i}]"
        if not isinstance(item, dict):
            problems.add(prefix, f"must be a mapping (got {type_name(item)})")
            continue
        problems.unknown_keys(item, OUTCOME_KEYS, prefix)
        oid = problems.text(item, "id", prefix)
        label = problems.text(item, "label", prefix)
        unit = problems.text(item, "unit", prefix, required=False)
        description = problems.text(item, "description", prefix, required=False)
        hib = problems.boolean(item, "higher_is_better", prefix)
        tps = item.get("timepoints")
        timepoints: list[str] = []
        if not isinstance(tps, list) or not tps:
            problems.add(f"{prefix}.timepoints", f"must be a non-empty list (got {type_name(tps)})",
                         "List the timepoints, e.g. `timepoints: [4 weeks, 8 weeks]` or `[end of study]`.")
        else:
            for j, tp in enumerate(tps):
                if isinstance(tp, bool) or not isinstance(tp, (str, int, float)) or not str(tp).strip():
                    problems.add(f"{prefix}.timepoints[{j}]", f"must be text (got {type_name(tp)})")
                    continue
                timepoints.append(str(tp).strip())
        if oid is not None and not _ID.match(oid):
            problems.add(f"{prefix}.id", f"'{oid}' is not a valid outcome id",
                         "Use lower-case letters, digits and underscores, starting with a letter (e.g. `col2`).")
            oid = None
        if oid is not None and oid in result.domains:
            problems.add(f"{prefix}.id", f"'{oid}' is both an outcome and a domain",
                         "An id names either a pooled outcome or a direction-only domain: rename one.")
            oid = None
        if oid is not None and oid in result.outcomes:
            problems.add(f"{prefix}.id", f"duplicate outcome id '{oid}'", "Give each outcome its own id.")
            oid = None
        measure = problems.text(item, "measure", prefix, required=False)
        if measure is not None:
            from livingmeta.stats.measures import MEASURES
            if measure.upper() not in MEASURES:
                problems.add(f"{prefix}.measure", f"unknown effect measure '{measure}'",
                             f"Use one of {', '.join(MEASURES)} (or leave it out for the config's analysis.measure).")
                measure = None
            else:
                measure = measure.upper()
        method = problems.text(item, "method", prefix, required=False)
        if method is not None:
            if method.upper() not in METHODS:
                problems.add(f"{prefix}.method", f"unknown method '{method}'", f"Use one of {', '.join(METHODS)}.")
                method = None
            else:
                method = method.upper()
                if measure is not None:
                    from livingmeta.errors import ReviewInputError
                    from livingmeta.stats.measures import check_method, get
                    try:
                        check_method(get(measure), method)
                    except ReviewInputError as err:
                        problems.add(f"{prefix}.method", err.message, err.hint)
        test = problems.text(item, "test", prefix, required=False)
        if test is not None and test not in TESTS:
            problems.add(f"{prefix}.test", f"unknown test '{test}'", "Use z or knha (Knapp-Hartung).")
            test = None
        harmonised = problems.boolean(item, "units_harmonised", prefix, required=False)
        dependent = problems.text(item, "dependent", prefix, required=False)
        if dependent is not None and dependent not in DEPENDENT:
            problems.add(f"{prefix}.dependent", f"unknown way to pool dependent comparisons '{dependent}'",
                         "Use multilevel (three-level model), combine (arms combined per study) or split "
                         "(shared control's n divided); see docs/study-file.md.")
            dependent = None
        robust = problems.boolean(item, "robust", prefix, required=False)
        arms = arm_names(problems, item, prefix)
        if oid is None or label is None or hib is None or not timepoints:
            continue
        for tp in timepoints:
            aid = analysis_id(oid, tp)
            if aid in seen_analyses:
                problems.add(f"{prefix}.timepoints", f"timepoint '{tp}' repeats '{seen_analyses[aid]}' "
                             f"(both are analysis {aid})", "List each timepoint once.")
            seen_analyses[aid] = tp
        result.outcomes[oid] = Outcome(oid, label, hib, tuple(dict.fromkeys(timepoints)), unit, description,
                                       measure, method, test, bool(harmonised), arms, dependent,
                                       robust)
    problems.raise_if_any()
    return result


def _domains(problems: Problems, items, result: OutcomeSet) -> None:
    """The ``domains`` list: outcome domains reported as a direction of effect only (docs/synthesis.md)."""
    if not isinstance(items, list) or not items:
        problems.add("domains", f"must be a non-empty list of outcome domains (got {type_name(items)})",
                     "Write `domains:` followed by one `- {id: apoptosis, label: Cell apoptosis}` per domain.")
        return
    for i, item in enumerate(items):
        prefix = f"domains[{i}]"
        if not isinstance(item, dict):
            problems.add(prefix, f"must be a mapping (got {type_name(item)})")
            continue
        problems.unknown_keys(item, ("id", "label", "description"), prefix)
        did = problems.text(item, "id", prefix)
        label = problems.text(item, "label", prefix)
        description = problems.text(item, "description", prefix, required=False)
        if did is not None and not _ID.match(did):
            problems.add(f"{prefix}.id", f"'{did}' is not a valid domain id",
                         "Use lower-case letters, digits and underscores, starting with a letter (e.g. `apoptosis`).")
            continue
        if did is not None and did in result.domains:
            problems.add(f"{prefix}.id", f"duplicate domain id '{did}'", "Give each domain its own id.")
            continue
        if did is not None and label is not None:
            result.domains[did] = Domain(did, label, description)


def load_outcomes(path: str | os.PathLike) -> OutcomeSet:
    """Load and validate ``outcomes.yaml``; raises ``ReviewInputError`` naming the file and field."""
    return parse_outcomes(load_yaml(path, what="outcome definitions file"), path)
