"""The Cochrane Library's plain-text export (CENTRAL trials, Cochrane reviews): "Export selected
citation(s)" as "Plain text".

Each record starts with a ``Record #N of M`` line and holds ``TAG: value`` lines; a tag may repeat (one
``AU`` line per author) and a line without a tag continues the field above it (a long abstract). Field
choices (the accession ``ID``, ``CN-01234567``, is not kept): authors ``AU``; title ``TI``; journal ``SO``; year ``YR``;
volume ``VL``; issue ``NO``; pages ``PG``; DOI ``DOI``; abstract ``AB``; keywords ``KY`` (split at
``;``); PubMed id ``PM`` (``PUBMED 12345678``: the digits); type ``PT``; language ``LA``. Other tags (the
record's URL ``US``, cross-references ``XR``, Cochrane groups ``CC`` ...) are kept out of the record.

Like the other tagged formats (RIS, MEDLINE), a record is read one block at a time: a block without a
title, a tag line that cannot be read, or text before the first record are reported, never dropped.
The Cochrane Library also exports RIS; this reader serves teams that chose plain text.
"""

from __future__ import annotations

import re

from livingmeta.records import normalise as nz
from livingmeta.records.entry import Entry

RECORD_START = re.compile(r"^\s*Record\s+#\s*(\d+)\s+of\s+(\d+)\s*$", flags=re.I)
TAG_LINE = re.compile(r"^([A-Z]{2,3}):(?:\s(.*)|)$")
KNOWN_TAGS = {"ID", "AU", "TI", "SO", "YR", "VL", "NO", "PG", "DOI", "AB", "KY", "PM", "PT", "LA", "US", "XR",
              "CC", "EM", "CR", "IS", "SN", "CN", "DT", "PY", "DE", "IN", "AD", "PD", "ED", "CD", "FT", "MH"}


def looks_like(head: str) -> bool:
    """A ``Record #1 of N`` line first, then ``TAG: value`` lines with a Cochrane tag (``ID``, ``TI``,
    ``SO``, ``YR``): RIS exports that carry the same header line have RIS tags (``TY  -``) instead."""
    lines = [line.lstrip("\ufeff").rstrip() for line in head.splitlines()[:40] if line.strip()]
    if not lines or not RECORD_START.match(lines[0]):
        return False
    tags = {m.group(1) for m in (TAG_LINE.match(line) for line in lines[1:]) if m}
    return len(tags & {"ID", "TI", "SO", "YR", "AU"}) >= 2


def split_records(text: str, outside: list[str] | None = None) -> list[tuple[list[str], int, int]]:
    """The blocks of lines from one ``Record #N of M`` line to the next: (lines, first line, last line).
    Non-blank text before the first record is reported in ``outside``."""
    blocks: list[tuple[list[str], int, int]] = []
    current: list[str] | None = None
    first = last = 0
    for number, line in enumerate(nz.lines_of(text), start=1):
        if RECORD_START.match(line.lstrip("\ufeff")):
            if current is not None:
                blocks.append((current, first, last))
            current, first, last = [], number, number
            continue
        if current is None:
            if line.strip() and outside is not None:
                outside.append(f"line {number}: text before the first record ({line.strip()[:40]!r}) is not read")
            continue
        current.append(line)
        if line.strip():
            last = number
    if current is not None:
        blocks.append((current, first, last))
    return blocks


def _fields(lines: list[str], first: int, problems: list[str]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    tag = None
    for offset, line in enumerate(lines, start=1):
        if not line.strip():
            if tag != "AB":  # a blank line may part an abstract's paragraphs; it ends any other field
                tag = None
            continue
        match = TAG_LINE.match(line.rstrip())
        if match and (match.group(1) in KNOWN_TAGS or tag is None):
            tag = match.group(1)
            fields.setdefault(tag, []).append((match.group(2) or "").strip())
        elif tag is not None:
            joiner = "\n" if tag == "AB" else " "
            fields[tag][-1] = f"{fields[tag][-1]}{joiner}{line.strip()}".strip()
        else:
            problems.append(f"line {first + offset}: not a 'TAG: value' line ({line.strip()[:40]!r}), not read")
    return fields


def _one(fields: dict[str, list[str]], tag: str) -> str | None:
    values = [v for v in fields.get(tag) or [] if v]
    return values[0] if values else None


def cochrane_values(fields: dict[str, list[str]]) -> dict:
    pmid = re.search(r"\d+", _one(fields, "PM") or "")
    keywords = [k.strip() for value in fields.get("KY") or [] for k in value.split(";") if k.strip()]
    return {
        "type": _one(fields, "PT"),
        "database": "Cochrane Library",
        "title": _one(fields, "TI"),
        "authors": [a for a in fields.get("AU") or [] if a],
        "year": _one(fields, "YR"),
        "journal": _one(fields, "SO"),
        "volume": _one(fields, "VL"),
        "issue": _one(fields, "NO"),
        "pages": _one(fields, "PG"),
        "abstract": "\n".join(v for v in fields.get("AB") or [] if v) or None,
        "keywords": keywords,
        "doi": _one(fields, "DOI"),
        "pmid": pmid.group(0) if pmid else None,
        "language": _one(fields, "LA"),
    }


def parse(text: str, file_problems: list[str] | None = None) -> list[Entry]:
    """The records of a Cochrane Library plain-text export; problems outside any record go to
    ``file_problems``."""
    entries = []
    for position, (lines, first, last) in enumerate(split_records(text, file_problems), start=1):
        problems: list[str] = []
        values = cochrane_values(_fields(lines, first, problems))
        entries.append(Entry(position, values, problems, first, last))
    return entries
