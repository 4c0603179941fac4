"""RIS exports (Embase, Scopus, Web of Science RIS, Ovid, ProQuest, EndNote, Zotero, Mendeley ...).

Tag lines are read by **rispy** (``rispy.RisParser``, pinned), the maintained RIS reader, so multi-line
fields and repeated tags follow its tested rules. Its known quirks are guarded here:

* a byte-order mark makes rispy skip the first record (``\\ufeffTY`` is not ``TY``): the file is decoded
  as ``utf-8-sig`` by :mod:`livingmeta.records.ingest` and any stray BOM is stripped again here;
* a record without its ``ER`` end tag is silently dropped by rispy at the end of a file, and silently
  merged into the next record elsewhere: records are therefore split here, one ``TY`` ... ``ER`` block
  at a time (which also gives every record its position), and a missing ``ER`` is reported;
* with its default settings rispy keeps only the first value of a repeated non-list tag (``DO``, ``SN``,
  ``N1`` in Ovid/Scopus exports) and renames tags; we use an identity tag mapping and
  ``enforce_list_tags=False`` so nothing is lost, and fix its crash on a continuation line that follows a
  repeated non-list tag;
* text outside ``TY`` ... ``ER`` blocks (Ovid's ``1.`` numbering and "Link to the Ovid Full Text" lines,
  a stray ``NL`` tag after ``ER``) is not part of any record and is skipped.

Which tag is which field differs between databases (e.g. the PubMed id is ``C2`` in Scopus, ``C5`` in
Embase and ``AN`` in EndNote's PubMed import); :func:`ris_values` documents the choices.
"""

from __future__ import annotations

import re

import rispy

from livingmeta.records import normalise as nz
from livingmeta.records.entry import Entry

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")
LIST_TAGS = ["AU", "A1", "A2", "A3", "A4", "KW", "N1", "UR", "L1", "L2", "L3", "L4", "AD", "SN", "DO", "M1",
             "C3", "DB"]


class _IdentityMapping(dict):
    def __missing__(self, key):
        return key


class _Parser(rispy.RisParser):
    """rispy with an identity mapping; repeated tags become lists, continuation lines never crash."""

    def __init__(self):
        super().__init__(mapping=_IdentityMapping(), list_tags=LIST_TAGS, delimiter_tags_mapping={},
                         enforce_list_tags=False)

    def _add_single_value(self, record, name, value, is_multi=False):
        if is_multi and name is not None and isinstance(record.get(name), list):
            # rispy joins a continuation line to a str value; after a repeated tag the value is a list
            current = record[name]
            current[-1] = f"{current[-1]} {value}".strip() if current else value
            return
        if is_multi and name is None:  # continuation line before any tag: keep it as untagged text
            record.setdefault("__untagged__", []).append(value)
            return
        super()._add_single_value(record, name, value, is_multi)


def split_tagged(text: str, tag_re: re.Pattern, start_tag: str, file_end_tag: str | None = None, *,
                 outside_ok: tuple[str, ...] = ("ER",),
                 outside: list[str] | None = None) -> list[tuple[list[str], list[str], int, int]]:
    """The ``<start_tag>`` ... ``ER`` blocks of a tagged export (RIS: TY, Web of Science: PT), each as
    (lines, format problems, first line number, last line number); nothing is dropped: a record without
    its end tag is kept and reported.

    Untagged text between records (Ovid's ``1.`` numbering, notes) is skipped. Tag lines between records
    other than ``outside_ok`` are fields of a record whose start tag is missing or damaged: they are not
    read, and each run of them is reported in ``outside`` (file-level problems), never dropped silently.
    """
    blocks: list[tuple[list[str], list[str], int, int]] = []
    current: list[str] | None = None
    problems: list[str] = []
    start_line = 0
    lineno = 0
    stray: list[tuple[int, str]] = []  # tag lines outside any record, not yet reported

    def report_stray():
        if stray and outside is not None:
            first, last = stray[0][0], stray[-1][0]
            where = f"line {first}" if first == last else f"lines {first}-{last}"
            after = f"after record {len(blocks)}" if blocks else "before the first record"
            outside.append(f"{where} ({after}): {len(stray)} tag line(s) outside any record, starting "
                           f"{stray[0][1][:40]!r}; there is no '{start_tag}' line before them (a record whose "
                           f"first line is damaged?): these fields are not read")
        stray.clear()

    for lineno, line in enumerate(nz.lines_of(text), start=1):
        line = line.lstrip("\ufeff")
        match = tag_re.match(line)
        tag = match.group(1) if match else None
        if current is None:
            if tag == start_tag:
                report_stray()
                current, problems, start_line = [line], [], lineno
            elif tag is not None and tag not in outside_ok:
                stray.append((lineno, line))
            continue
        if tag == start_tag:
            problems.append(f"no end tag 'ER' before the next record starts on line {lineno} "
                            f"(record starts on line {start_line})")
            blocks.append((current, problems, start_line, lineno - 1))
            current, problems, start_line = [line], [], lineno
        elif tag == "ER" or (file_end_tag and tag == file_end_tag):
            if tag != "ER":
                problems.append(f"the file ends ({tag}) inside this record (no 'ER'; record starts on line "
                                f"{start_line})")
            blocks.append((current, problems, start_line, lineno))
            current = None
        else:
            current.append(line)
    if current is not None:
        problems.append(f"the file ends inside this record (no end tag 'ER'; record starts on line {start_line})")
        blocks.append((current, problems, start_line, lineno))
    report_stray()
    return blocks


def split_records(text: str, outside: list[str] | None = None) -> list[tuple[list[str], list[str], int, int]]:
    """The ``TY`` ... ``ER`` blocks of a RIS text: (lines, format problems, first line, last line).
    Ovid puts an ``NL`` tag after ``ER``: allowed between records."""
    return split_tagged(text, _TAG_LINE, "TY", outside_ok=("ER", "NL"), outside=outside)


def parse_block(lines: list[str]) -> dict:
    parsed = _Parser().parse_lines(iter(lines + ["ER  - "]))
    return parsed[0] if parsed else {}


def _digits(value) -> str | None:
    for item in nz.as_list(value):
        if re.fullmatch(r"\d{1,9}", item):
            return item
    return None


def ris_values(tags: dict) -> dict:
    """Map the tags of one RIS record to record fields.

    title: ``TI``, else ``T1``, else ``ST`` (short title), else ``TT``; authors: ``AU`` + ``A1``;
    year: ``PY``, ``Y1``, ``DA``; journal: ``JF``, ``T2``, ``JO``, ``JA``, ``J2``, ``J1``; volume ``VL``/``VO``;
    issue ``IS``; pages ``SP``-``EP``; abstract ``AB``/``N2``; keywords ``KW``; DOI ``DO``, else a doi.org
    link in ``UR``/``L2``/``L1``; PubMed id ``C2`` (Scopus), ``C5`` (Embase with Medline), ``AN``
    (EndNote/Ovid from NLM/MEDLINE), ``PM``; PMCID: a ``PMC...`` value in ``C2``/``C6``/``N1``.
    """
    def get(*names):
        for name in names:
            value = tags.get(name)
            if nz.as_list(value):
                return value
        return None

    databases = " ".join(nz.as_list(tags.get("DB")) + nz.as_list(tags.get("DP"))).lower()
    pmid = tags.get("PM")
    if not _digits(pmid):
        pmid = None
        if "scopus" in databases:
            pmid = _digits(tags.get("C2"))
        if pmid is None and "embase" in databases:
            pmid = _digits(tags.get("C5"))
        if pmid is None and re.search(r"nlm|pubmed|medline", databases) and "embase" not in databases:
            pmid = _digits(tags.get("AN"))
    doi = get("DO")
    if doi is None:
        links = [u for u in nz.as_list(tags.get("UR")) + nz.as_list(tags.get("L2")) + nz.as_list(tags.get("L1"))
                 if "doi.org/10." in u]
        doi = links or None
    authors = nz.as_list(tags.get("AU")) + [a for a in nz.as_list(tags.get("A1"))
                                            if a not in nz.as_list(tags.get("AU"))]
    keywords = []
    for kw in nz.as_list(tags.get("KW")):
        keywords.extend(k.strip() for k in kw.split(";") if k.strip())
    pmcid = None
    for name in ("C2", "C6", "N1", "M2"):
        pmcid = nz.find_pmcid(tags.get(name))
        if pmcid:
            break
    return {
        "type": tags.get("TY"),
        "database": get("DB", "DP"),
        "title": get("TI", "T1", "ST", "TT"),
        "authors": authors,
        "year": get("PY", "Y1", "DA"),
        "journal": get("JF", "T2", "JO", "JA", "J2", "J1"),
        "volume": get("VL", "VO"),
        "issue": get("IS", "CP"),
        "pages": get("SP"),
        "end_page": get("EP"),
        "abstract": get("AB", "N2"),
        "keywords": keywords,
        "doi": doi,
        "pmid": pmid,
        "pmcid": pmcid,
        "language": get("LA"),
    }


def parse(text: str, file_problems: list[str] | None = None) -> list[Entry]:
    """The records of a RIS text; problems outside any record are appended to ``file_problems``."""
    entries = []
    for position, (lines, problems, first, last) in enumerate(split_records(text, file_problems), start=1):
        try:
            tags = parse_block(lines)
        except Exception as err:  # rispy should not fail on one block; if it does, report the record
            entries.append(Entry(position, {}, problems + [f"could not be read as RIS ({err}; lines {first}-{last})"],
                                 first, last))
            continue
        untagged = tags.pop("__untagged__", None)
        if untagged:
            problems = problems + [f"text without a tag at the start of the record: {untagged[0][:60]!r}"]
        entries.append(Entry(position, ris_values(tags), problems, first, last))
    return entries


def looks_like(head: str) -> bool:
    return any(_TAG_LINE.match(line.lstrip("\ufeff")) and line.lstrip("\ufeff").startswith("TY")
               for line in head.splitlines()[:200])
