"""The content of a RevMan review as the importers read it, independent of the file format.

:mod:`livingmeta.interchange.revman_rm5` (RevMan 5 ``.rm5``) and :mod:`livingmeta.interchange.revman_web`
(RevMan Web data package) both return a :class:`RevmanReview`;
:mod:`livingmeta.interchange.review_writer` turns it into a review folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from livingmeta.errors import ReviewInputError

# RevMan's effect measures -> livingmeta's measure names (docs/study-file.md); RevMan 5 writes the short
# codes (EFFECT_MEASURE="OR"), RevMan Web the long names ("Odds Ratio").
MEASURES = {
    "OR": "OR", "ODDS RATIO": "OR",
    "RR": "RR", "RISK RATIO": "RR",
    "RD": "RD", "RISK DIFFERENCE": "RD",
    "PETO_OR": "PETO", "PETO ODDS RATIO": "PETO",
    "MD": "MD", "MEAN DIFFERENCE": "MD",
    "SMD": "SMD", "STD. MEAN DIFFERENCE": "SMD", "STANDARDIZED MEAN DIFFERENCE": "SMD",
    "STANDARDISED MEAN DIFFERENCE": "SMD",
    "HR": "HR", "HAZARD RATIO": "HR",
}
KINDS = ("dichotomous", "continuous", "generic")
RATIO = ("OR", "RR", "PETO", "HR")


@dataclass
class RevmanStudy:
    key: str                       # the file's own study key (rm5 STUDY ID, Web: the study name)
    name: str                      # RevMan's study name, e.g. "Smith 2001a" or "ISIS-2"
    year: str = ""
    characteristics: dict[str, str] = field(default_factory=dict)
    citation: dict[str, Any] = field(default_factory=dict)   # title, journal, doi, pmid


@dataclass
class RevmanRow:
    study: str                     # RevmanStudy.key
    subgroup: str | None
    data: dict[str, Any]           # dichotomous: e1, n1, e2, n2; continuous: m1, sd1, n1, m2, sd2, n2;
                                   # generic: estimate (on the measure's scale), se (of the log for ratios)


@dataclass
class RevmanOutcome:
    number: str                    # "1.1" = comparison 1, outcome 1
    comparison: str
    name: str
    kind: str                      # dichotomous | continuous | generic
    measure: str                   # livingmeta measure name
    method: str                    # MH | IV | PETO
    random: bool
    group_labels: tuple[str, str] = ("", "")
    graph_labels: tuple[str, str] = ("", "")
    level: float = 95.0
    rows: list[RevmanRow] = field(default_factory=list)
    stored: dict[str, float] = field(default_factory=dict)   # RevMan's stored totals, where the file has them
    swap_events: bool = False      # RevMan analysed non-events (SWAP_EVENTS / "Swap event and non-event")
    notes: list[str] = field(default_factory=list)

    def swap(self) -> None:
        """RevMan's 'swap events and non-events': the study files get the counts RevMan analysed."""
        for r in self.rows:
            if "e1" in r.data:
                r.data["e1"], r.data["e2"] = r.data["n1"] - r.data["e1"], r.data["n2"] - r.data["e2"]


@dataclass
class RevmanReview:
    file: str
    format: str                    # "RevMan 5 (.rm5)" | "RevMan Web data package"
    title: str
    studies: dict[str, RevmanStudy] = field(default_factory=dict)
    outcomes: list[RevmanOutcome] = field(default_factory=list)
    rob_domains: list[tuple[str, str]] = field(default_factory=list)          # (id, label)
    # study key -> domain id -> (judgement, support)
    rob: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    not_imported: list[str] = field(default_factory=list)


def unsupported(file: str, what: str, hint: str | None = None) -> ReviewInputError:
    return ReviewInputError(f"not imported: {what}", file=file,
                            hint=hint or "livingmeta imports RevMan 5 .rm5 files and RevMan Web data packages "
                                         "with dichotomous, continuous and generic inverse-variance analyses "
                                         "(docs/interchange.md).")


def measure_of(file: str, where: str, name: str) -> str:
    key = " ".join(str(name or "").upper().split())
    if key not in MEASURES:
        raise unsupported(file, f"{where}: effect measure '{name}' is not supported",
                          hint="Supported: " + ", ".join(sorted(set(MEASURES.values()))) + ".")
    return MEASURES[key]


def number(file: str, where: str, value: Any, *, integer: bool = False) -> float | int:
    text = str(value).strip() if value is not None else ""
    try:
        x = float(text)
    except ValueError:
        raise ReviewInputError(f"{where}: '{text}' is not a number", file=file,
                               hint="Export the review again from RevMan; the file looks damaged.") from None
    if integer:
        if x != int(x):
            raise ReviewInputError(f"{where}: '{text}' is not a whole number", file=file,
                                   hint="Events and totals must be counts.")
        return int(x)
    return x


def slug(text: str, maxlen: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    return s[:maxlen].rstrip("_")
