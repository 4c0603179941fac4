"""PubMed MEDLINE exports (``.nbib``, "Save > Format: PubMed", or ``efetch rettype=medline``).

The MEDLINE tagged format is a tag of up to four letters padded to four columns, ``- `` and the value;
continuation lines are indented by six spaces; records start at ``PMID-`` and are separated by blank
lines. It is small and fully specified by the NLM, so it is read here with the standard library (the
``nbib`` package on PyPI is a one-person project with no release since 2021 and would be a dependency
for ~40 lines).

Field choices: title ``TI`` (else ``BTI`` for books); authors ``FAU`` (full names) else ``AU``; year from
``DP``; journal ``JT`` else ``TA``; volume ``VI``; issue ``IP``; pages ``PG``; DOI from ``LID``/``AID``
values marked ``[doi]``; PMCID ``PMC``; keywords ``OT`` and ``MH``; type ``PT`` (first).
"""

from __future__ import annotations

import re

from livingmeta.records import normalise as nz
from livingmeta.records.entry import Entry

_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3})\s*- ?(.*)$")


def split_records(text: str, file_problems: list[str] | None = None
                  ) -> list[tuple[list[tuple[str, str]], list[str], int, int]]:
    """(tag/value pairs, format problems, first line, last line) of each record. Records start at
    ``PMID-`` or at the first tag line after a blank line. Untagged text before the first record (a note,
    as RIS exports have) is skipped; indented continuation lines there belong to a record whose tag line
    is missing and are reported in ``file_problems``, never dropped silently."""
    records: list[tuple[list[tuple[str, str]], list[str], int, int]] = []
    current: list[tuple[str, str]] | None = None
    problems: list[str] = []
    start = end = 0
    blank_before = True
    outside: list[int] = []

    def report_outside():
        if outside and file_problems is not None:
            where = f"line {outside[0]}" if len(outside) == 1 else f"lines {outside[0]}-{outside[-1]}"
            file_problems.append(f"{where} (before the first record): continuation lines without the tag line "
                                 "they continue (a damaged record?): not read")
        outside.clear()

    for lineno, raw in enumerate(nz.lines_of(text), start=1):
        line = raw.lstrip("\ufeff").rstrip()
        if not line.strip():
            blank_before = True
            continue
        if raw.startswith("      ") or raw.startswith("\t"):
            if current:  # a record always holds its first tag line
                tag, value = current[-1]
                current[-1] = (tag, f"{value} {line.strip()}")
                end = lineno
            else:
                outside.append(lineno)
            blank_before = False
            continue
        match = _TAG.match(line) if len(line) > 4 and line[4] == "-" else None
        if match is None:
            if current is not None:
                problems.append(f"line {lineno} is not a MEDLINE tag line: {line[:50]!r}")
                end = lineno
            blank_before = False
            continue
        tag, value = match.group(1), match.group(2).strip()
        if tag == "PMID" or blank_before or current is None:  # records start at PMID-, after blank lines
            if current is not None:
                records.append((current, problems, start, end))
            report_outside()
            current, problems, start = [], [], lineno
        current.append((tag, value))
        end = lineno
        blank_before = False
    if current is not None:
        records.append((current, problems, start, end))
    report_outside()
    return records


def nbib_values(pairs: list[tuple[str, str]]) -> dict:
    tags: dict[str, list[str]] = {}
    for tag, value in pairs:
        tags.setdefault(tag, []).append(value)

    def get(*names):
        for name in names:
            if tags.get(name):
                return tags[name]
        return None

    doi = [v for v in tags.get("LID", []) + tags.get("AID", []) if v.lower().endswith("[doi]")]
    return {
        "type": get("PT"),
        "database": "PubMed",
        "title": get("TI", "BTI"),
        "authors": get("FAU", "AU") or [],
        "year": get("DP", "DEP", "EDAT"),
        "journal": get("JT", "TA"),
        "volume": get("VI"),
        "issue": get("IP"),
        "pages": get("PG"),
        "abstract": get("AB"),
        "keywords": (tags.get("OT") or []) + (tags.get("MH") or []),
        "doi": [d[: -len("[doi]")].strip() for d in doi] or None,
        "pmid": get("PMID"),
        "pmcid": get("PMC"),
        "language": get("LA"),
    }


def parse(text: str, file_problems: list[str] | None = None) -> list[Entry]:
    """The records of a MEDLINE text; text outside any record is reported in ``file_problems``."""
    entries = []
    for position, (pairs, problems, start, end) in enumerate(split_records(text, file_problems), start=1):
        values = nbib_values(pairs)
        if not any(tag == "PMID" for tag, _ in pairs):
            problems = problems + [f"no PMID- line (record on lines {start}-{end})"]
        entries.append(Entry(position, values, problems, start, end))
    return entries


def looks_like(head: str) -> bool:
    """MEDLINE has 4-letter tags (``PMID-``, ``FAU -``, ``STAT-``) that RIS never has (RIS's ``TI  -`` and
    ``AU  -`` look the same in both formats)."""
    lines = [line.lstrip("\ufeff") for line in head.splitlines()[:400]]
    return any(line.startswith("PMID-") for line in lines) or \
        sum(bool(re.match(r"^(FAU |OWN |STAT|DCOM|LID |EDAT|CRDT|PMC |PST )- ", line)) for line in lines) >= 2
