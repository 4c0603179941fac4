"""Load and validate one study file (``review/studies/<study>.yaml``).

The format is documented with a complete annotated example in ``docs/study-file.md``. In short::

    study: liao2021                 # = the file name without .yaml
    citation: {first_author: Liao, year: 2021}
    country: China
    characteristics: {species: SD rats, sex: male, n_animals: 20, ...}   # as the paper reports them
    groups: {hydrogel_type: composite, exosome_source: MSC, ...}         # your subgroup classification
    outcomes:
      - outcome: dhi                # an id from outcomes.yaml
        timepoint: 4 weeks          # one of that outcome's timepoints
        unit: "%"
        higher_is_better: true
        provenance: figure          # text | table | figure | author | illustrative
        source: Fig. 3A
        treatment: {mean: 78.2, sd: 6.1, n: 6}
        control: {mean: 61.0, se: 2.3, n: 6}    # exactly one of sd / se per arm: never guessed
        sham: {mean: 92.0, sd: 3.0, n: 6}       # only for NMD: the sham-operated / normal group

An entry either has numeric data of a kind or, for an outcome DOMAIN of synthesis without meta-analysis
(``domains`` in outcomes.yaml, docs/synthesis.md), only a ``direction`` of effect::

      - outcome: apoptosis          # a domain id from outcomes.yaml
        direction: benefit          # benefit | harm | no_clear_difference | mixed
        provenance: text
        source: "Apoptosis, senescence and proliferation"
        n: 12                       # optional: the sample size, when the paper gives it

Direction entries are never pooled.

Several comparisons of one outcome x timepoint (doses, hydrogels, cohorts) are several entries, each with
its own ``comparison:`` label, optionally an ``experiment:`` id (independent cohorts within the
publication) and either its own ``control:`` or ``control_group: <id>`` naming a control arm shared by
comparisons of that outcome x timepoint, whose data are given under ``control:`` on one of them. A
comparison may carry its own ``groups:`` (``{dose: high}``), which override the study's ``groups:`` for that
comparison in subgroup analyses: two doses of one study in two dose subgroups.

The data kind of a numeric entry follows from its fields: ``mean`` per arm (continuous), ``events`` and
``total`` per arm (dichotomous), or ``estimate`` with ``se`` or ``ci_lb``/``ci_ub`` and ``scale: ratio |
difference`` (a precomputed effect, generic inverse variance; the arms then give only ``n``, optional).

Every problem is reported as a ``ReviewInputError`` naming the file and the field (all problems of one
file at once, as ``ReviewInputErrors``), before anything is pooled.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.outcomes import OutcomeSet
from livingmeta.extraction.yamlio import Problems, join_field, load_yaml, type_name

PROVENANCE = ("text", "table", "figure", "author", "illustrative")
PROVENANCE_HELP = {
    "text": "stated in the paper's text",
    "table": "read from a table of the paper",
    "figure": "digitised from a figure (say which, and the tool, in `source`)",
    "author": "obtained from the authors (say when in `source`)",
    "illustrative": "made up to illustrate the workflow: not real data",
}
STUDY_KEYS = ("study", "citation", "country", "characteristics", "groups", "outcomes", "notes")
CITATION_KEYS = ("first_author", "year", "title", "journal", "doi", "pmid", "label", "reference", "url", "note")
# The characteristics a preclinical review usually extracts (Tables 1 and 2 of the example review).
# Other keys are allowed; values are copied as the paper reports them ("NA" included).
CHARACTERISTICS = {
    "species": "species / strain, e.g. Sprague-Dawley rats",
    "sex": "male | female | both | NA",
    "age": "age of the animals, e.g. 8-week-old",
    "weight": "body weight, e.g. 250-300 g",
    "n_animals": "number of animals used (a number, or NA when not reported)",
    "model": "how the disease was modelled",
    "exosome_source": "cell source of the exosomes",
    "exosome_diameter": "exosome size",
    "hydrogel": "hydrogel composition",
    "hydrogel_thickness": "hydrogel thickness / pore size as reported",
    "route": "route of administration",
    "dose": "dose per administration",
    "frequency": "how often it was given",
    "duration": "for how long",
}
ENTRY_KEYS = ("outcome", "timepoint", "unit", "higher_is_better", "provenance", "source", "treatment",
              "control", "note", "sham", "estimate", "se", "ci_lb", "ci_ub", "scale",
              "comparison", "experiment", "control_group", "groups")
GENERIC_KEYS = ("estimate", "se", "ci_lb", "ci_ub", "scale")
ARM_KEYS = ("mean", "sd", "se", "n", "label", "median", "q1", "q3", "min", "max")
MEDIAN_KEYS = ("median", "q1", "q3", "min", "max")
COUNT_ARM_KEYS = ("events", "total", "label")
SIZE_ARM_KEYS = ("n", "label")
KINDS = ("continuous", "dichotomous", "generic")
DIRECTIONS = ("benefit", "harm", "no_clear_difference", "mixed")
DIRECTION_KEYS = ("outcome", "direction", "provenance", "source", "note", "n")
STUDY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
STUDY_EXTENSIONS = (".yaml", ".yml")
RESERVED_IDS = ("summary",)      # results/rob/summary.json is the risk-of-bias summary
_HINT = "Fix the study file (see docs/study-file.md)."


@dataclass(frozen=True)
class Arm:
    mean: float
    n: int
    sd: float | None = None
    se: float | None = None
    label: str | None = None
    median: dict | None = None      # {median, q1, q3, min, max} as stated, when mean and SD were converted

    @property
    def stated(self) -> str:
        """Which dispersion the file states: ``"sd"`` or ``"se"`` (``"sd"`` for a converted median)."""
        return "sd" if self.sd is not None else "se"

    @property
    def converted(self) -> bool:
        """Mean and SD estimated from the median with IQR and/or range (Luo et al. 2018; Wan et al. 2014)."""
        return self.median is not None

    @property
    def sd_value(self) -> float:
        """The standard deviation (converted from the standard error as sd = se * sqrt(n) if needed)."""
        return self.sd if self.sd is not None else self.se * math.sqrt(self.n)

    def as_stated(self) -> dict[str, Any]:
        if self.median is not None:
            out: dict[str, Any] = {**self.median, "n": self.n}
        else:
            out = {"mean": self.mean, self.stated: getattr(self, self.stated), "n": self.n}
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class CountArm:
    """An arm of a dichotomous outcome: ``events`` of ``total``."""
    events: int
    total: int
    label: str | None = None

    @property
    def n(self) -> int:
        return self.total

    def as_stated(self) -> dict[str, Any]:
        out: dict[str, Any] = {"events": self.events, "total": self.total}
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class SizeArm:
    """An arm of a precomputed (generic) effect: its size only, when the paper gives it."""
    n: int | None = None
    label: str | None = None

    def as_stated(self) -> dict[str, Any]:
        return {k: v for k, v in (("n", self.n), ("label", self.label)) if v is not None}


@dataclass(frozen=True)
class Generic:
    """A precomputed effect as the paper reports it (ratio scale: the ratio itself, not its log)."""
    estimate: float
    scale: str                      # "ratio" | "difference"
    se: float | None = None
    ci_lb: float | None = None
    ci_ub: float | None = None

    def as_stated(self) -> dict[str, Any]:
        return {k: v for k, v in (("estimate", self.estimate), ("se", self.se), ("ci_lb", self.ci_lb),
                                  ("ci_ub", self.ci_ub), ("scale", self.scale)) if v is not None}


@dataclass(frozen=True)
class OutcomeEntry:
    index: int
    outcome: str
    timepoint: str                  # the spelling declared in outcomes.yaml
    analysis: str
    unit: str | None
    higher_is_better: bool
    provenance: str
    source: str
    treatment: Any                  # Arm (continuous) | CountArm (dichotomous) | SizeArm (generic)
    control: Any
    note: str | None = None
    kind: str = "continuous"
    sham: Arm | None = None
    generic: Generic | None = None
    comparison: str | None = None       # label of this comparison when a study reports several per analysis
    experiment: str | None = None       # independent cohort (experiment) within the publication
    control_group: str | None = None    # id of a control arm shared by comparisons of this analysis
    groups: tuple = ()                  # ((variable, value), ...): this comparison's own subgroup values


@dataclass(frozen=True)
class DirectionEntry:
    """A direction of effect for an outcome domain, without data to pool (synthesis without meta-analysis,
    Campbell et al. 2020, BMJ 368:l6890)."""
    index: int
    domain: str
    direction: str                  # one of DIRECTIONS, relative to the review's benefit
    provenance: str
    source: str
    note: str | None = None
    n: int | None = None            # the study's sample size for this domain, when stated

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "direction": self.direction, "provenance": self.provenance,
                "source": self.source, "note": self.note, "n": self.n}


@dataclass
class Study:
    id: str
    file: str
    citation: dict[str, Any]
    country: str | None
    characteristics: dict[str, Any]
    groups: dict[str, Any]
    outcomes: list[OutcomeEntry] = field(default_factory=list)
    notes: str | None = None
    directions: list[DirectionEntry] = field(default_factory=list)

    @property
    def illustrative(self) -> bool:
        return any(e.provenance == "illustrative" for e in [*self.outcomes, *self.directions])

    @property
    def label(self) -> str:
        return self.citation.get("label") or f"{self.citation['first_author']} {self.citation['year']}"

    def analyses(self) -> list[str]:
        return [e.analysis for e in self.outcomes]


def study_id_of(path: str | os.PathLike) -> str:
    """A study's id is its file name without the extension."""
    return Path(path).stem


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _check_scalars(problems: Problems, block: dict, prefix: str) -> dict[str, Any]:
    out = {}
    for key, value in block.items():
        if not _scalar(value):
            problems.add(join_field(prefix, str(key)), f"must be a single value (got {type_name(value)})",
                         "Write the value as text on one line, e.g. `age: 8-week-old` or `age: NA`.")
            continue
        out[str(key)] = value
    return out


def _arm_mapping(problems: Problems, entry: dict, key: str, prefix: str, allowed, note: str):
    """An arm's mapping and its field name, its unknown keys reported; (None, field) when it is missing."""
    field_ = join_field(prefix, key)
    arm = problems.mapping(entry, key, prefix)
    if arm is not None:
        problems.unknown_keys(arm, allowed, field_, note)
    return arm, field_


def _arm(problems: Problems, entry: dict, key: str, prefix: str, context: str) -> Arm | None:
    arm, field_ = _arm_mapping(problems, entry, key, prefix, ARM_KEYS,
                               " (`se` is the standard error of the mean, SEM; `sd` the standard deviation.)")
    if arm is None:
        return None
    n_errors = len(problems.errors)
    if "median" in arm:
        return _median_arm(problems, arm, field_, context, n_errors)
    mean = problems.number(arm, "mean", field_, context=context)
    n = problems.integer(arm, "n", field_, minimum=2, context=context,
                         hint_min="Each arm needs at least 2 animals for a standard deviation; check the "
                                  "group size in the paper (or leave the outcome out).")
    has_sd, has_se = arm.get("sd") is not None, arm.get("se") is not None
    sd = se = None
    if has_sd and has_se:
        problems.add(f"{field_}.sd", f"both `sd` and `se` are given{context}",
                     "State the one the paper reports (SD or SEM) and delete the other.")
    elif not has_sd and not has_se:
        problems.add(f"{field_}.sd", f"neither `sd` nor `se` is given{context}",
                     "Add `sd:` (standard deviation) or `se:` (standard error, SEM) as the paper states it; "
                     "check the figure legend or methods for which one error bars show, never guess.")
    elif has_sd:
        sd = problems.number(arm, "sd", field_, positive=True, context=context)
    else:
        se = problems.number(arm, "se", field_, positive=True, context=context)
    label = problems.text(arm, "label", field_, required=False)
    if len(problems.errors) > n_errors or mean is None or n is None or (sd is None and se is None):
        return None
    return Arm(mean=mean, n=n, sd=sd, se=se, label=label)


def _median_arm(problems: Problems, arm: dict, field_: str, context: str, n_errors: int) -> Arm | None:
    """An arm reported as a median with its IQR (``q1``, ``q3``) and/or range (``min``, ``max``): mean and SD
    estimated with Luo et al. (2018) and Wan et al. (2014) (``livingmeta.stats.mean_sd_from_median``)."""
    from livingmeta.stats import mean_sd_from_median

    for key in ("mean", "sd", "se"):
        if key in arm:
            problems.add(f"{field_}.{key}", f"`{key}` and `median` are both given{context}",
                         "Give the mean with its SD/SE, or the median with its IQR and/or range, as the paper does.")
    median = problems.number(arm, "median", field_, context=context)
    values = {key: problems.number(arm, key, field_, required=False, context=context) for key in ("q1", "q3", "min", "max")}
    n = problems.integer(arm, "n", field_, minimum=2, context=context)
    label = problems.text(arm, "label", field_, required=False)
    has_q = values["q1"] is not None and values["q3"] is not None
    has_r = values["min"] is not None and values["max"] is not None
    if not has_q and not has_r:
        problems.add(f"{field_}.median", f"a median needs its IQR (`q1`, `q3`) or range (`min`, `max`){context}",
                     "Add the quartiles or the range the paper reports with the median.")
    order = [(k, values[k]) for k in ("min", "q1")] + [("median", median)] + [(k, values[k]) for k in ("q3", "max")]
    known = [(k, v) for k, v in order if v is not None]
    for (k1, v1), (k2, v2) in zip(known, known[1:]):
        if v1 > v2:
            problems.add(f"{field_}.{k2}", f"{k2} = {v2:g} is below {k1} = {v1:g}{context}",
                         "Check the median, quartiles and range: min <= q1 <= median <= q3 <= max.")
            break
    if len(problems.errors) > n_errors or median is None or n is None or not (has_q or has_r):
        return None
    mean, sd = mean_sd_from_median(median, n, q1=values["q1"] if has_q else None, q3=values["q3"] if has_q else None,
                                   minimum=values["min"] if has_r else None, maximum=values["max"] if has_r else None)
    if not sd > 0:
        problems.add(f"{field_}.median", f"the IQR/range is 0, so no SD can be estimated{context}",
                     "Check the quartiles/range, or leave the outcome out.")
        return None
    stated = {"median": median, **{k: v for k, v in values.items() if v is not None}}
    return Arm(mean=float(mean), n=n, sd=float(sd), label=label, median=stated)


def entry_kind(entry: dict) -> str:
    """The data kind of a study file's outcome entry, from its fields."""
    if any(key in entry for key in ("estimate", "ci_lb", "ci_ub", "scale")) or "se" in entry:
        return "generic"
    for arm in ("treatment", "control"):
        if isinstance(entry.get(arm), dict) and ("events" in entry[arm] or "total" in entry[arm]):
            return "dichotomous"
    return "continuous"


def _count_arm(problems: Problems, entry: dict, key: str, prefix: str, context: str) -> CountArm | None:
    arm, field_ = _arm_mapping(problems, entry, key, prefix, COUNT_ARM_KEYS,
                               " (A dichotomous outcome gives `events` and `total` per arm.)")
    if arm is None:
        return None
    n_errors = len(problems.errors)
    hint = "Give counts (whole numbers) of participants/animals with the event and in the arm, not percentages."
    events = problems.integer(arm, "events", field_, minimum=0, context=context, hint_min=hint)
    total = problems.integer(arm, "total", field_, minimum=1, context=context,
                             hint_min="An arm has at least one participant/animal.")
    label = problems.text(arm, "label", field_, required=False)
    if events is not None and total is not None and events > total:
        problems.add(f"{field_}.events", f"{events} events is more than the arm's total of {total}{context}",
                     "Check the events and the total of this arm against the paper.")
    if len(problems.errors) > n_errors or events is None or total is None:
        return None
    return CountArm(events, total, label)


def _size_arm(problems: Problems, entry: dict, key: str, prefix: str, context: str) -> SizeArm | None:
    if entry.get(key) is None:
        return SizeArm()
    field_ = join_field(prefix, key)
    arm = problems.mapping(entry, key, prefix)
    if arm is None:
        return None
    problems.unknown_keys(arm, SIZE_ARM_KEYS, field_,
                          " (With a precomputed `estimate` an arm only gives its size `n`, if the paper does.)")
    n = problems.integer(arm, "n", field_, required=False, minimum=1, context=context)
    return SizeArm(n, problems.text(arm, "label", field_, required=False))


def _generic(problems: Problems, entry: dict, prefix: str, context: str) -> Generic | None:
    from livingmeta.errors import ReviewInputError
    from livingmeta.stats.measures import generic_effect

    n_errors = len(problems.errors)
    est = problems.number(entry, "estimate", prefix, context=context)
    se = problems.number(entry, "se", prefix, required=False, positive=True, context=context)
    lb = problems.number(entry, "ci_lb", prefix, required=False, context=context)
    ub = problems.number(entry, "ci_ub", prefix, required=False, context=context)
    scale = problems.text(entry, "scale", prefix)
    if scale is not None and scale not in ("ratio", "difference"):
        problems.add(join_field(prefix, "scale"), f"unknown scale '{scale}'{context}",
                     "Write `scale: ratio` for OR, RR, HR ... (as printed, not logs) or `scale: difference` "
                     "for MD, SMD, RD ...")
        scale = None
    if len(problems.errors) > n_errors or est is None or scale is None:
        return None
    try:
        generic_effect(est, se=se, ci_lb=lb, ci_ub=ub, scale=scale, where=f"the estimate{context}")
    except ReviewInputError as err:
        problems.add(join_field(prefix, err.field or "estimate"), err.message, err.hint)
        return None
    return Generic(est, scale, se, lb, ub)


def _direction_entry(problems: Problems, entry: dict, i: int, outcomes: OutcomeSet,
                     seen: dict[str, int]) -> DirectionEntry | None:
    """An outcome entry with a ``direction`` and no numeric data (a domain of synthesis without
    meta-analysis)."""
    prefix = f"outcomes[{i}]"
    numeric = [k for k in entry if k not in DIRECTION_KEYS and k in ENTRY_KEYS]
    if numeric:
        problems.add(f"{prefix}.direction", "an entry has either numeric data or a `direction`, not both "
                     f"(it also gives {', '.join(numeric)})",
                     "Keep the numbers (to pool them) and remove `direction:`, or keep only the direction "
                     "(outcome, direction, provenance, source, note, n).")
        return None
    problems.unknown_keys(entry, DIRECTION_KEYS, prefix)
    n_errors = len(problems.errors)
    domain = problems.text(entry, "outcome", prefix)
    domains = getattr(outcomes, "domains", {}) or {}
    if domain is not None and domain not in domains:
        known = ", ".join(domains) or "none defined"
        hint = (f"A direction-only entry names an outcome domain from {outcomes.file} (`domains:`): {known}."
                if domain not in outcomes else
                f"'{domain}' is a pooled outcome: give its numbers (and timepoint), or report the direction under "
                f"a domain from `domains:` in {outcomes.file} ({known}).")
        problems.add(f"{prefix}.outcome", f"unknown outcome domain '{domain}'", hint)
    direction = problems.text(entry, "direction", prefix)
    if direction is not None and direction not in DIRECTIONS:
        problems.add(f"{prefix}.direction", f"unknown direction '{direction}'",
                     f"Use one of: {', '.join(DIRECTIONS)} (relative to the review's benefit, as the paper "
                     "states it; never from p-values alone).")
    provenance = problems.text(entry, "provenance", prefix)
    if provenance is not None and provenance not in PROVENANCE:
        problems.add(f"{prefix}.provenance", f"unknown provenance '{provenance}'",
                     f"Use one of: {', '.join(PROVENANCE)}.")
    source = problems.text(entry, "source", prefix)
    note = problems.text(entry, "note", prefix, required=False)
    n = problems.integer(entry, "n", prefix, required=False, minimum=1)
    if domain is not None and domain in seen:
        problems.add(prefix, f"domain {domain} is already reported in outcomes[{seen[domain]}]",
                     "Keep one direction per domain (`mixed` when the study's results point both ways).")
        return None
    if len(problems.errors) > n_errors:
        return None
    seen[domain] = i
    return DirectionEntry(i, domain, direction, provenance, source, note, n)


def check_entry_measure(entry: OutcomeEntry, measure: str, file: str) -> None:
    """A study's data kind must fit its outcome's measure (e.g. events for OR, means for SMD; a
    precomputed estimate on the measure's scale; NMD needs the sham group)."""
    from livingmeta.errors import ReviewInputError
    from livingmeta.stats.measures import get

    m = get(measure)
    where = f"outcomes[{entry.index}]"
    if not m.accepts(entry.kind):
        need = {"continuous": "`mean`, `sd` or `se` and `n` per arm", "dichotomous": "`events` and `total` per arm",
                "generic": "a precomputed `estimate` with `se` or `ci_lb`/`ci_ub`"}[m.kind]
        raise ReviewInputError(
            f"{entry.kind} data for outcome '{entry.outcome}', whose measure is {m.name} ({m.label})",
            file=file, field=where,
            hint=f"{m.name} needs {need} (or a precomputed estimate); or set the outcome's `measure:` in "
                 "outcomes.yaml to one that fits these data.")
    if entry.kind == "generic":
        want = "ratio" if m.ratio else "difference"
        if entry.generic.scale != want:
            raise ReviewInputError(
                f"a precomputed estimate on the {entry.generic.scale} scale for outcome '{entry.outcome}', "
                f"whose measure {m.name} is a {want}", file=file, field=f"{where}.scale",
                hint=f"Give the study's {m.label} (`scale: {want}`), or change the outcome's measure.")
    if m.name == "NMD" and entry.kind == "continuous" and entry.sham is None:
        raise ReviewInputError(f"the normalised mean difference (NMD) of outcome '{entry.outcome}' needs the "
                               "sham/normal group", file=file, field=f"{where}.sham",
                               hint="Add `sham: {mean: ..., sd: ..., n: ...}` as the paper reports it.")
    if m.name != "NMD" and entry.sham is not None:
        raise ReviewInputError(f"`sham` is only used by the measure NMD (outcome '{entry.outcome}' uses {m.name})",
                               file=file, field=f"{where}.sham", hint="Remove `sham:` or use measure NMD.")


def parse_study(data: Any, file: str | os.PathLike, outcomes: OutcomeSet,
                default_measure: str | None = None) -> Study:
    """Validate the content of a study file; ``file`` names it in messages and gives the expected id."""
    file = str(file)
    problems = Problems(file, _HINT)
    problems.top_level(data, "a study file", "the example in docs/study-file.md", STUDY_KEYS)

    expected = study_id_of(file)
    sid = problems.text(data, "study", "", allow_number=False)
    if sid is not None:
        if not STUDY_ID.match(sid):
            problems.add("study", f"'{sid}' is not a valid study id",
                         "Use letters, digits, '-' and '_' only (e.g. liao2021, liu2023a), as in the file name.")
        elif sid.lower() in RESERVED_IDS:
            problems.add("study", f"'{sid}' is reserved and cannot be a study id",
                         "Name the study after its first author and year (e.g. smith2024), file name included.")
        elif sid != expected:
            problems.add("study", f"study id '{sid}' does not match the file name '{Path(file).name}'",
                         f"A study's id is its file name: rename the file to {sid}{Path(file).suffix} "
                         f"or set `study: {expected}` (each study id must be unique).")

    citation: dict[str, Any] = {}
    block = problems.mapping(data, "citation", "")
    if block is not None:
        problems.unknown_keys(block, CITATION_KEYS, "citation")
        citation["first_author"] = problems.text(block, "first_author", "citation")
        citation["year"] = problems.integer(block, "year", "citation")
        if citation["year"] is not None and not 1800 <= citation["year"] <= 2200:
            problems.add("citation.year", f"implausible year {citation['year']}")
        for key in ("title", "journal", "label", "reference", "url", "note"):
            citation[key] = problems.text(block, key, "citation", required=False)
        citation["doi"] = problems.text(block, "doi", "citation", required=False)
        if citation["doi"] is not None and not citation["doi"].startswith("10."):
            problems.add("citation.doi", f"'{citation['doi']}' is not a DOI",
                         "Give the bare DOI starting with '10.' (e.g. 10.31083/FBL38302), or leave it out "
                         "when it cannot be verified.")
        citation["pmid"] = problems.text(block, "pmid", "citation", required=False, allow_number=True)
        if citation["pmid"] is not None and not citation["pmid"].isdigit():
            problems.add("citation.pmid", f"'{citation['pmid']}' is not a PubMed id",
                         "A PMID is digits only; leave it out when it cannot be verified.")

    country = problems.text(data, "country", "", required=False)
    notes = problems.text(data, "notes", "", required=False)
    chars = problems.mapping(data, "characteristics", "")
    characteristics = _check_scalars(problems, chars, "characteristics") if chars is not None else {}
    grp = problems.mapping(data, "groups", "", required=False)
    groups = _check_scalars(problems, grp, "groups") if grp is not None else {}

    entries: list[OutcomeEntry] = []
    raw = data.get("outcomes")
    if raw is None:
        problems.add("outcomes", "missing required field",
                     "List the study's results under `outcomes:` (one entry per outcome and timepoint).")
        raw = []
    elif not isinstance(raw, list) or not raw:
        problems.add("outcomes", f"must be a non-empty list of results (got {type_name(raw)})",
                     "Write one `- outcome: ...` entry per outcome and timepoint (see docs/study-file.md).")
        raw = []
    seen: dict[str, list] = {}
    seen_domains: dict[str, int] = {}
    directions: list[DirectionEntry] = []
    for i, entry in enumerate(raw):
        prefix = f"outcomes[{i}]"
        if not isinstance(entry, dict):
            problems.add(prefix, f"must be a mapping (got {type_name(entry)})")
            continue
        if "direction" in entry:
            item = _direction_entry(problems, entry, i, outcomes, seen_domains)
            if item is not None:
                directions.append(item)
            continue
        problems.unknown_keys(entry, ENTRY_KEYS, prefix)
        n_errors = len(problems.errors)
        oid = problems.text(entry, "outcome", prefix)
        tp_raw = problems.text(entry, "timepoint", prefix, allow_number=True)
        definition = timepoint = None
        if oid is not None:
            if oid not in outcomes:
                problems.add(f"{prefix}.outcome", f"unknown outcome '{oid}'",
                             f"Use one of the outcomes defined in {outcomes.file}: {', '.join(outcomes.ids())} "
                             "(or define the new outcome there first).")
            else:
                definition = outcomes[oid]
        if definition is not None and tp_raw is not None:
            timepoint = definition.timepoint(tp_raw)
            if timepoint is None:
                problems.add(f"{prefix}.timepoint", f"unknown timepoint '{tp_raw}' for outcome '{oid}'",
                             f"Use one of the timepoints of '{oid}' in {outcomes.file}: "
                             f"{', '.join(definition.timepoints)} (or add the timepoint there first).")
        context = f" ({oid or '?'}, {timepoint or tp_raw or '?'})"
        # the unit matters for means (MD pools only one unit); for events and ratios it is optional
        unit = problems.text(entry, "unit", prefix, required=entry_kind(entry) == "continuous")
        hib = problems.boolean(entry, "higher_is_better", prefix)
        provenance = problems.text(entry, "provenance", prefix)
        if provenance is not None and provenance not in PROVENANCE:
            problems.add(f"{prefix}.provenance", f"unknown provenance '{provenance}'",
                         f"Use one of: {', '.join(PROVENANCE)}.")
            provenance = None
        source = problems.text(entry, "source", prefix)
        note = problems.text(entry, "note", prefix, required=False)
        comparison = problems.text(entry, "comparison", prefix, required=False, allow_number=True)
        experiment = problems.text(entry, "experiment", prefix, required=False, allow_number=True)
        control_group = problems.text(entry, "control_group", prefix, required=False, allow_number=True)
        own_groups = problems.mapping(entry, "groups", prefix, required=False)
        own_groups = _check_scalars(problems, own_groups, f"{prefix}.groups") if own_groups is not None else {}
        kind = entry_kind(entry)
        sham = generic = None
        shared_later = control_group is not None and entry.get("control") is None
        if kind == "generic":
            generic = _generic(problems, entry, prefix, context)
            treatment = _size_arm(problems, entry, "treatment", prefix, context)
            control = _size_arm(problems, entry, "control", prefix, context)
            if control_group is not None:
                problems.add(f"{prefix}.control_group", f"a precomputed estimate cannot share a control arm{context}",
                             "Remove `control_group:` (comparisons with precomputed estimates are modelled with "
                             "their own controls), or give the arms' data instead of the estimate.")
        elif kind == "dichotomous":
            treatment = _count_arm(problems, entry, "treatment", prefix, context)
            control = None if shared_later else _count_arm(problems, entry, "control", prefix, context)
        else:
            treatment = _arm(problems, entry, "treatment", prefix, context)
            control = None if shared_later else _arm(problems, entry, "control", prefix, context)
        if "sham" in entry:
            if kind != "continuous":
                problems.add(f"{prefix}.sham", f"a sham group is only used with means (NMD){context}",
                             "Remove `sham:` from this entry.")
            else:
                sham = _arm(problems, entry, "sham", prefix, context)
        if definition is not None and timepoint is not None:
            seen.setdefault(definition.analysis(timepoint), []).append((i, comparison, experiment, control_group,
                                                                        entry.get("control") is not None))
        if len(problems.errors) > n_errors:
            continue
        item = OutcomeEntry(i, oid, timepoint, definition.analysis(timepoint), unit, hib,
                            provenance, source, treatment, control, note, kind, sham, generic,
                            comparison, experiment, control_group, tuple(own_groups.items()))
        measure = definition.measure or default_measure
        if measure is not None:
            try:
                check_entry_measure(item, measure, file)
            except ReviewInputError as err:
                problems.add(err.field, err.message, err.hint)
                continue
        entries.append(item)
    entries = _check_comparisons(problems, seen, entries)
    problems.raise_if_any()
    return Study(sid, file, citation, country, characteristics, groups, entries, notes, directions)


def _check_comparisons(problems: Problems, seen: dict[str, list], entries: list[OutcomeEntry]) -> list[OutcomeEntry]:
    """Several entries of one outcome x timepoint are comparisons: each needs its own ``comparison`` label
    (unique within the outcome x timepoint). A ``control_group`` id names a control arm shared by the
    comparisons of one outcome x timepoint (and one experiment): its data are given under ``control:`` on
    one of them (on more, identical) and copied to the others."""
    from dataclasses import replace

    for analysis, items in seen.items():
        if len(items) > 1:
            labels: dict[str, int] = {}
            for i, comparison, *_ in items:
                if comparison is None:
                    problems.add(f"outcomes[{i}].comparison",
                                 f"{analysis} has {len(items)} entries in this study (outcomes"
                                 f"[{', '.join(str(j) for j, *_ in items)}]): each needs a `comparison:` label",
                                 "Label each comparison, e.g. `comparison: 10 µg` (the dose, hydrogel, cohort ...); "
                                 "or keep one entry per outcome and timepoint.")
                elif comparison in labels:
                    problems.add(f"outcomes[{i}].comparison",
                                 f"comparison '{comparison}' is used twice for {analysis} (also outcomes[{labels[comparison]}])",
                                 "Give each comparison of one outcome and timepoint its own label.")
                else:
                    labels[comparison] = i
        groups: dict[str, list] = {}
        for i, _, experiment, group, has_control in items:
            if group is not None:
                groups.setdefault(group, []).append((i, experiment, has_control))
        for group, members in groups.items():
            where = f"outcomes[{members[0][0]}].control_group"
            if not any(has for *_, has in members):
                problems.add(where, f"shared control '{group}' is named but not defined for {analysis}",
                             f"Give the shared control arm's data as `control:` on one entry naming "
                             f"`control_group: {group}` (outcome and timepoint as here).")
            if len({exp for _, exp, _ in members}) > 1:
                problems.add(where, f"shared control '{group}' is used by comparisons of different experiments "
                             f"({', '.join(sorted(str(e) for e in {exp for _, exp, _ in members}))})",
                             "Experiments are independent cohorts and cannot share a control arm: give each "
                             "experiment its own control_group (or correct the `experiment:` ids).")
    by_index = {e.index: e for e in entries}
    out = []
    for e in entries:
        if e.control_group is not None:
            defined = [by_index[i] for i, _, _, g, has in seen.get(e.analysis, [])
                       if g == e.control_group and has and i in by_index]
            arms = {repr(d.control) for d in defined}
            if len(arms) > 1 and e.index == defined[0].index:
                problems.add(f"outcomes[{defined[1].index}].control",
                             f"shared control '{e.control_group}' is given with different data on "
                             f"outcomes[{', '.join(str(d.index) for d in defined)}]",
                             "Give the shared control's data once (on one entry) or identically.")
            if e.control is None:
                if not defined:
                    continue
                e = replace(e, control=defined[0].control)
        out.append(e)
    return out


def check_unique_id(path: str | os.PathLike) -> None:
    """A study id is claimed by one file only: ``liao2021.yaml`` and ``liao2021.yml`` side by side
    is an error."""
    path = Path(path)
    stem = path.stem
    twins = sorted(p.name for p in path.parent.glob(f"{stem}.*")
                   if p.suffix.lower() in STUDY_EXTENSIONS and p.name != path.name)
    if twins:
        raise ReviewInputError(f"duplicate study id '{stem}': also claimed by {', '.join(twins)}",
                               file=str(path), field="study",
                               hint="Each study id must be unique: merge the files or rename one of them.")


def load_study(path: str | os.PathLike, outcomes: OutcomeSet, default_measure: str | None = None, *,
               check_twins: bool = True) -> Study:
    """Load and validate ``path`` against the outcome definitions (and, when given, the review's default
    measure for outcomes that do not name theirs). ``check_twins`` False: the caller checked that no other
    file of the folder claims the same study id (a folder's check lists the folder once, not once per file)."""
    if check_twins:
        check_unique_id(path)
    return parse_study(load_yaml(path, what="study file"), path, outcomes, default_measure)


def load_studies(folder: str | os.PathLike, outcomes: OutcomeSet,
                 default_measure: str | None = None) -> dict[str, Study]:
    """Validate every study file of a folder (ids unique across files); for checks outside the workflow."""
    folder = Path(folder)
    studies: dict[str, Study] = {}
    if not folder.is_dir():
        return studies
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in STUDY_EXTENSIONS and not path.name.startswith((".", "_")):
            study = load_study(path, outcomes, default_measure)
            if study.id in studies:
                raise ReviewInputError(f"duplicate study id '{study.id}' (also in {studies[study.id].file})",
                                       file=str(path), field="study",
                                       hint="Each study id must be unique: merge the files or rename one.")
            studies[study.id] = study
    return studies


def problems_in_folder(folder: str | os.PathLike, outcomes_path: str | os.PathLike,
                       default_measure: str | None = None, *, skip=None) -> list[ReviewInputError]:
    """Every problem of every study file of a folder (and of the outcome definitions), without stopping at
    the first bad file. The workflow calls this when it plans the run, so that a bad study file stops the
    run before any job, pooling included, starts. ``skip(path)`` True: the file is known to be valid
    (``livingmeta.plancache``: unchanged since it was last found valid); duplicate ids are always checked."""
    from livingmeta.errors import ReviewInputErrors
    from livingmeta.extraction.outcomes import load_outcomes

    def flat(err: ReviewInputError) -> list[ReviewInputError]:
        return list(err.errors) if isinstance(err, ReviewInputErrors) else [err]

    try:
        outcomes = load_outcomes(outcomes_path)
    except ReviewInputError as err:
        return flat(err)
    problems: list[ReviewInputError] = []
    seen: dict[str, str] = {}
    folder = Path(folder)
    if not folder.is_dir():
        return problems
    listing = sorted(folder.iterdir())
    stems: dict[str, list[str]] = {}
    for path in listing:   # the twins check of load_study, from one listing of the folder
        if path.suffix.lower() in STUDY_EXTENSIONS:
            stems.setdefault(path.stem, []).append(path.name)
    for path in listing:
        if not (path.is_file() and path.suffix.lower() in STUDY_EXTENSIONS and not path.name.startswith((".", "_"))):
            continue
        twins = [name for name in stems.get(path.stem, []) if name != path.name]
        if twins:
            problems.append(ReviewInputError(
                f"duplicate study id '{path.stem}': also claimed by {', '.join(twins)}", file=str(path),
                field="study", hint="Each study id must be unique: merge the files or rename one of them."))
            continue
        if skip is not None and skip(path):
            continue
        try:
            study = load_study(path, outcomes, default_measure, check_twins=False)
        except ReviewInputError as err:
            problems.extend(flat(err))
            continue
        if study.id in seen:
            problems.append(ReviewInputError(f"duplicate study id '{study.id}' (also in {seen[study.id]})",
                                             file=str(path), field="study",
                                             hint="Each study id must be unique: merge the files or rename one."))
        seen.setdefault(study.id, str(path))
    return problems
