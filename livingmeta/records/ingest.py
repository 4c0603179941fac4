"""Read one search export into normalised records: format detection, decoding, problems.

:func:`parse_export` returns the content of ``results/records/parsed/<source>/<name>.json``
(docs/architecture.md)::

    {file, source, export, format, n_records, records: [Record], problems: [{record, message}]}

* The format is detected from the content, not the extension (Web of Science's RIS export is a ``.txt``
  file, and so is its tagged plain-text export): PubMed XML, EndNote XML, MEDLINE/.nbib, Web of Science
  tagged text, RIS, BibTeX, CSV.
* Text is decoded as UTF-8 with an optional byte-order mark (``utf-8-sig``, which also guards rispy's
  BOM quirk); UTF-16 with a BOM is accepted; anything else falls back to Windows-1252 (older EndNote and
  Ovid exports), and that fallback is reported as a problem of the file (``record: null``).
* A malformed record is kept, with one problem per thing wrong (``record`` = its position); the number
  of records with problems is ``n_problem_records``. Nothing is dropped silently.
* A file that is not an export at all (binary, empty, no record of any supported format) raises
  :class:`livingmeta.errors.ReviewInputError`, which stops the run with one clear line.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.records import bibtex, csvfile, endnote_xml, nbib, pubmed_xml, ris, wos
from livingmeta.records.entry import to_record

SUPPORTED = ("RIS (.ris, or .txt from Web of Science/EndNote), PubMed MEDLINE (.nbib/.txt), PubMed XML, "
             "Web of Science tagged text (.txt), BibTeX (.bib), EndNote XML (.xml), CSV with documented "
             "columns (.csv)")
NOT_AN_EXPORT_HINT = (f"Save the search results in one of the supported formats: {SUPPORTED}; "
                      "see docs/records.md")


def read_text(path: str | os.PathLike) -> tuple[str, list[dict]]:
    """The decoded text of an export and file-level problems (e.g. an encoding fallback)."""
    data = Path(path).read_bytes()
    problems: list[dict] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), problems
    if b"\x00" in data[:4096]:
        raise ReviewInputError("this is a binary file, not a search export", file=str(path),
                               hint=NOT_AN_EXPORT_HINT)
    try:
        return data.decode("utf-8-sig"), problems
    except UnicodeDecodeError as err:
        problems.append({"record": None, "message": f"not valid UTF-8 (byte {err.start}); read as Windows-1252"})
        return data.decode("cp1252", errors="replace"), problems


def detect_format(text: str, path: str | os.PathLike = "") -> str:
    head = text[:50000].lstrip("\ufeff \t\r\n")
    if not head:
        raise ReviewInputError("the file is empty", file=str(path), hint=NOT_AN_EXPORT_HINT)
    if head.startswith("<"):
        if pubmed_xml.looks_like(head):
            return "pubmed_xml"
        if endnote_xml.looks_like(head):
            return "endnote_xml"
        raise ReviewInputError("an XML file that is neither PubMed (efetch) XML nor EndNote XML",
                               file=str(path), hint=NOT_AN_EXPORT_HINT)
    if wos.looks_like(head):
        return "wos"
    if ris.looks_like(head):
        return "ris"
    if nbib.looks_like(head):
        return "nbib"
    if bibtex.looks_like(head):
        return "bibtex"
    if str(path).lower().endswith((".csv", ".tsv")) or csvfile.looks_like(head):
        if csvfile.looks_like(head):
            return "csv"
        raise ReviewInputError("a CSV file without a title, doi or pmid column", file=str(path),
                               hint="Name the columns as documented in docs/records.md")
    raise ReviewInputError("not a search export: no record in any supported format was found",
                           file=str(path), hint=NOT_AN_EXPORT_HINT)


def _parse_xml(text: str, path) -> ET.Element:
    try:
        return ET.fromstring(text.lstrip("\ufeff"))
    except ET.ParseError as err:
        line, col = getattr(err, "position", (None, None))
        raise ReviewInputError(f"the XML cannot be read (line {line}, column {col}: {err})", file=str(path),
                               hint="Export the search again; the file looks truncated or edited") from None


def parse_entries(text: str, fmt: str, path: str | os.PathLike = ""):
    """(entries, ids given in the file or None) for a decoded export of a known format."""
    if fmt == "ris":
        return ris.parse(text), None
    if fmt == "nbib":
        return nbib.parse(text), None
    if fmt == "wos":
        return wos.parse(text), None
    if fmt == "bibtex":
        return bibtex.parse(text), None
    if fmt == "pubmed_xml":
        return pubmed_xml.parse_root(_parse_xml(text, path)), None
    if fmt == "endnote_xml":
        return endnote_xml.parse_root(_parse_xml(text, path)), None
    if fmt == "csv":
        return csvfile.parse(text, file=str(path))
    raise ValueError(f"unknown format {fmt!r}")


def export_name(path: str | os.PathLike) -> str:
    name = Path(path).name
    stem, dot, _ext = name.rpartition(".")
    return stem if dot else name


def parse_export(path: str | os.PathLike, source: str, name: str | None = None, *,
                 keep_ids: bool = False) -> dict:
    """Parse one export file; see the module docstring for the returned dict.

    ``keep_ids``: for CSV files with a ``record_id``/``ID`` column, use those ids (``livingmeta dedup``);
    otherwise ids are ``<source>:<name>:<position>``.
    """
    path_str = str(path)
    name = name or export_name(path)
    text, problems = read_text(path)
    fmt = detect_format(text, path)
    entries, given_ids = parse_entries(text, fmt, path)
    if not entries:
        raise ReviewInputError(f"no records found in this {fmt} file", file=path_str, hint=NOT_AN_EXPORT_HINT)
    records = []
    seen_ids: set[str] = set()
    for i, entry in enumerate(entries):
        rid = None
        if keep_ids and given_ids is not None and given_ids[i]:
            rid = given_ids[i]
            if rid in seen_ids:
                raise ReviewInputError(f"record_id {rid!r} appears twice", file=path_str,
                                       field=f"record {entry.position}", hint="Record ids must be unique")
            seen_ids.add(rid)
        record, record_problems = to_record(entry, source=source, export=name, file=path_str, fmt=fmt,
                                            record_id=rid)
        records.append(record.to_dict())
        problems.extend({"record": entry.position, "message": msg} for msg in record_problems)
    return {
        "file": path_str,
        "source": source,
        "export": name,
        "format": fmt,
        "n_records": len(records),
        "n_problem_records": len({p["record"] for p in problems if p["record"] is not None}),
        "records": records,
        "problems": problems,
    }


def format_problem(file: str, problem: dict) -> str:
    """``<file>: record N: <message>`` (the one-line shape used in logs)."""
    where = f"record {problem['record']}" if problem.get("record") is not None else "file"
    return f"{file}: {where}: {problem['message']}"
