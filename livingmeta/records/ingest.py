"""Read one search export into normalised records: format detection, decoding, problems.

:func:`parse_export` returns the content of ``results/records/parsed/<source>/<name>.json``
(docs/architecture.md)::

    {file, source, export, format, n_records, n_problem_records, records: [Record],
     problems: [{record, message}]}

* The format is detected from the content, not the extension (Web of Science's RIS export is a ``.txt``
  file, and so is its tagged plain-text export): PubMed XML, EndNote XML, MEDLINE/.nbib, Web of Science
  tagged text, Cochrane Library plain text, RIS, BibTeX, CSV.
* Text is decoded as UTF-8 with an optional byte-order mark (a BOM would otherwise make rispy skip the
  first record); UTF-16 and UTF-32 with a BOM are accepted. Bytes that are not valid UTF-8 are decoded
  **where they are**, each run of them as Windows-1252 (the usual cause: one record pasted from an older
  EndNote/Ovid export), and reported as a problem of the record they fall in, with its byte offset and
  line; the rest of the file keeps its correct UTF-8 characters. Only a file that is clearly not UTF-8 as a
  whole (not one UTF-8 multi-byte character, and at least :data:`LEGACY_MIN_BYTES` bytes above 0x7F) is
  read as Windows-1252 as a whole, and that is reported as a problem of the file (``record: null``).
* A malformed record is kept, with one problem per thing wrong (``record`` = its position); text that
  belongs to no record (tag lines before a damaged start tag, rows swallowed by an unbalanced quote) is
  reported too. The number of records with problems is ``n_problem_records``. Nothing is dropped silently.
* A file that is not an export at all (binary, empty, no record of any supported format) raises
  :class:`livingmeta.errors.ReviewInputError`, which stops the run with one clear line. No input raises
  anything else (tests/records/test_fuzz_parsers.py fuzzes every format).

:func:`search_folder_problems` checks the names of the files in ``searches/`` without reading them
(unsupported files, two exports that would get the same record ids).
"""

from __future__ import annotations

import bisect
import codecs
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.plan import EXPORT_EXTENSIONS
from livingmeta.records import bibtex, cochrane, csvfile, endnote_xml, nbib, pubmed_xml, ris, wos
from livingmeta.records import normalise as nz
from livingmeta.records.entry import Entry, to_record

SUPPORTED = ("RIS (.ris, or .txt from Web of Science/EndNote), PubMed MEDLINE (.nbib/.txt), PubMed XML, "
             "Web of Science tagged text (.txt), Cochrane Library plain text (.txt), BibTeX (.bib), EndNote XML "
             "(.xml), CSV with documented columns (.csv)")
NOT_AN_EXPORT_HINT = (f"Save the search results in one of the supported formats: {SUPPORTED}; "
                      "see docs/records.md")
LEGACY_MIN_BYTES = 4
"""A file without any UTF-8 multi-byte character is read as Windows-1252 as a whole only if it has at least
this many bytes above 0x7F; fewer are decoded and reported one by one (they may be damage in a UTF-8 file)."""
_ESCAPED = re.compile("[\udc80-\udcff]+")
_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


@dataclass
class BadBytes:
    """A run of bytes that are not valid in the file's encoding, and what they were decoded as."""
    index: int          # character offset in the decoded text
    offset: int         # byte offset in the file
    raw: bytes
    decoded: str


@dataclass
class Decoded:
    text: str
    encoding: str
    problems: list[dict] = field(default_factory=list)   # file-level problems ({record: None, message})
    bad: list[BadBytes] = field(default_factory=list)     # to be reported per record after parsing
    legacy: bool = False                                  # read as Windows-1252 as a whole


def _hex(raw: bytes, limit: int = 8) -> str:
    text = " ".join(f"0x{b:02X}" for b in raw[:limit])
    return text + (" ..." if len(raw) > limit else "")


def _decode_bom(data: bytes, bom: bytes, codec: str) -> Decoded:
    """UTF-16/UTF-32 after its BOM (``bom`` may be empty); invalid code units are replaced (U+FFFD) where they
    are and remembered."""
    body = data[len(bom):]
    pieces: list[str] = []
    bad: list[BadBytes] = []
    pos, length = 0, 0
    while True:
        try:
            chunk = body[pos:].decode(codec)
        except UnicodeDecodeError as err:
            good = body[pos:pos + err.start].decode(codec)
            pieces.append(good)
            length += len(good)
            raw = body[pos + err.start:pos + err.end]
            bad.append(BadBytes(length, len(bom) + pos + err.start, raw, "\ufffd"))
            pieces.append("\ufffd")
            length += 1
            pos += err.end
            if len(bad) >= 50:  # a file this damaged is reported by its first problems; decode the rest
                pieces.append(body[pos:].decode(codec, errors="replace"))
                break
            continue
        pieces.append(chunk)
        break
    return Decoded("".join(pieces), codec, [], bad)


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` if the file starts like Latin text in UTF-16 without a BOM: nearly every
    other byte is zero (the high bytes of ASCII characters), the bytes between them are not."""
    head = data[:400]
    head = head[:len(head) - len(head) % 2]
    if len(head) < 8:
        return None
    half = len(head) // 2
    zeros_even, zeros_odd = head[0::2].count(0) / half, head[1::2].count(0) / half
    if zeros_odd >= 0.9 and zeros_even <= 0.1:
        return "utf-16-le"
    if zeros_even >= 0.9 and zeros_odd <= 0.1:
        return "utf-16-be"
    return None


def decode(data: bytes) -> Decoded:
    """Decode an export's bytes; see the module docstring. Never raises."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                       (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _decode_bom(data, bom, codec)
    no_bom = _utf16_without_bom(data)
    if no_bom:
        decoded = _decode_bom(data, b"", no_bom)
        decoded.problems.append({"record": None, "message": f"the file is {no_bom.upper()} without a byte-order "
                                 "mark; it was read as such (check its characters)"})
        return decoded
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return Decoded(data[start:].decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    text = data[start:].decode("utf-8", errors="surrogateescape")
    runs = list(_ESCAPED.finditer(text))
    if not runs:
        return Decoded(text, "utf-8")
    n_bad = sum(len(m.group(0)) for m in runs)
    if _NON_ASCII.search(text) is None and n_bad >= LEGACY_MIN_BYTES:
        legacy = data[start:].decode("cp1252", errors="replace")
        bad = []
        offset, prev = start, 0
        for match in runs:
            offset += len(text[prev:match.start()].encode("utf-8", "surrogateescape"))
            raw = bytes(ord(c) - 0xDC00 for c in match.group(0))
            bad.append(BadBytes(match.start(), offset, raw, legacy[match.start():match.end()]))
            offset += len(raw)
            prev = match.end()
        return Decoded(legacy, "cp1252", [], bad, legacy=True)
    pieces: list[str] = []
    bad = []
    offset, prev = start, 0
    for match in runs:
        pieces.append(text[prev:match.start()])
        offset += len(text[prev:match.start()].encode("utf-8", "surrogateescape"))
        raw = bytes(ord(c) - 0xDC00 for c in match.group(0))
        replacement = raw.decode("cp1252", errors="replace")   # one character per byte: offsets stay
        pieces.append(replacement)
        bad.append(BadBytes(match.start(), offset, raw, replacement))
        offset += len(raw)
        prev = match.end()
    pieces.append(text[prev:])
    return Decoded("".join(pieces), "utf-8", [], bad)


def read_text(path: str | os.PathLike) -> tuple[str, list[dict]]:
    """The decoded text of an export and its file-level encoding problems (compatibility helper: the
    per-record encoding problems need the parsed records, see :func:`parse_export`)."""
    decoded = decode(_read_bytes(path))
    problems = list(decoded.problems)
    if decoded.bad:
        problems.append({"record": None, "message": _bad_bytes_summary(decoded)})
    return decoded.text, problems


def _read_bytes(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise ReviewInputError("this is a folder, not a search export file", file=str(path),
                               hint=NOT_AN_EXPORT_HINT) from None
    except OSError as err:
        raise ReviewInputError(f"the file cannot be read ({err.strerror or err})", file=str(path),
                               hint="Check that the file exists and that you may read it") from None


def _bad_bytes_summary(decoded: Decoded) -> str:
    first = decoded.bad[0]
    n_bytes = sum(len(b.raw) for b in decoded.bad)
    if decoded.legacy:
        return (f"the file is not UTF-8: it has no UTF-8 multi-byte character and {n_bytes} bytes above 0x7F "
                f"(first at byte {first.offset}); the whole file was read as Windows-1252 (older EndNote/Ovid "
                "exports). Check its accented characters, or export it again as UTF-8")
    what = "UTF-8" if decoded.encoding == "utf-8" else decoded.encoding.upper()
    return (f"{len(decoded.bad)} run(s) of bytes that are not valid {what} ({n_bytes} bytes, first at byte "
            f"{first.offset}: {_hex(first.raw)})")


def detect_format(text: str, path: str | os.PathLike = "") -> str:
    head = text[:50000].lstrip("\ufeff \t\r\n")
    if not head:
        raise ReviewInputError("the file is empty", file=str(path), hint=NOT_AN_EXPORT_HINT)
    if head.startswith("<"):
        if pubmed_xml.looks_like(head):
            return "pubmed_xml"
        if endnote_xml.looks_like(head):
            return "endnote_xml"
        if re.search(r"<(!doctype\s+html|html)\b", head[:2000], flags=re.I):
            raise ReviewInputError("a web page (HTML), not a search export: the database's download probably "
                                   "failed or needed a login", file=str(path),
                                   hint="Export the search again and save the file the database gives")
        raise ReviewInputError("an XML file that is neither PubMed (efetch) XML nor EndNote XML",
                               file=str(path), hint=NOT_AN_EXPORT_HINT)
    if wos.looks_like(head):
        return "wos"
    if ris.looks_like(head):
        return "ris"
    if nbib.looks_like(head):
        return "nbib"
    if cochrane.looks_like(head):
        return "cochrane"
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


def _xml_record_lines(text: str, fmt: str, entries: list[Entry]) -> None:
    """Give XML entries their first and last line, found by their start and end tags in the text (the
    element tree has no line numbers); left unset if the tags cannot be matched one to one."""
    if fmt == "pubmed_xml":
        starts = [m.start() for m in re.finditer(r"<(?:PubmedArticle|PubmedBookArticle)[\s>]", text)]
        ends = [m.end() for m in re.finditer(r"</(?:PubmedArticle|PubmedBookArticle)\s*>", text)]
    else:
        starts = [m.start() for m in re.finditer(r"<record[\s>]", text)]
        ends = [m.end() for m in re.finditer(r"</record\s*>", text)]
    if not (len(starts) == len(ends) == len(entries)):
        return
    line_starts = nz.line_starts(text)
    for entry, begin, end in zip(entries, starts, ends):
        entry.line, entry.end_line = nz.line_at(line_starts, begin), nz.line_at(line_starts, end - 1)


def parse_entries(text: str, fmt: str, path: str | os.PathLike = "", file_problems: list[str] | None = None):
    """(entries, ids given in the file or None) for a decoded export of a known format; problems that
    belong to no record (text outside any record) are appended to ``file_problems``."""
    if fmt == "ris":
        return ris.parse(text, file_problems), None
    if fmt == "nbib":
        return nbib.parse(text, file_problems), None
    if fmt == "wos":
        return wos.parse(text, file_problems), None
    if fmt == "cochrane":
        return cochrane.parse(text, file_problems), None
    if fmt == "bibtex":
        return bibtex.parse(text, file_problems), None
    if fmt in ("pubmed_xml", "endnote_xml"):
        root = _parse_xml(text, path)
        if fmt == "pubmed_xml":
            entries = pubmed_xml.parse_root(root, file_problems)
        else:
            entries = endnote_xml.parse_root(root)
        _xml_record_lines(text, fmt, entries)
        return entries, None
    if fmt == "csv":
        return csvfile.parse(text, file=str(path), file_problems=file_problems)
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
    return parse_export_data(_read_bytes(path), str(path), source, name or export_name(path), keep_ids=keep_ids)


def parse_export_data(data: bytes, file: str, source: str, name: str | None = None, *,
                      keep_ids: bool = False) -> dict:
    """:func:`parse_export` of an export's bytes (``file`` names it in records and messages)."""
    path_str = str(file)
    name = name or export_name(path_str)
    decoded = decode(data)
    if decoded.encoding in ("utf-8", "cp1252") and "\x00" in decoded.text[:4096]:
        raise ReviewInputError("this is a binary file, not a search export", file=path_str,
                               hint=NOT_AN_EXPORT_HINT)
    text = decoded.text
    fmt = detect_format(text, path_str)
    file_problems: list[str] = []
    entries, given_ids = parse_entries(text, fmt, path_str, file_problems)
    if not entries:
        details = f" ({'; '.join(file_problems[:3])})" if file_problems else ""
        raise ReviewInputError(f"no records found in this {fmt} file{details}", file=path_str,
                               hint=NOT_AN_EXPORT_HINT)
    problems: list[dict] = list(decoded.problems)
    problems.extend({"record": None, "message": message} for message in file_problems)
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
    problems = _encoding_problems(decoded, text, entries, records) + problems
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


def _encoding_problems(decoded: Decoded, text: str, entries: list[Entry], records: list[dict]) -> list[dict]:
    """One problem per record that holds bytes which are not valid in the file's encoding (naming the
    record's id and title, the byte offset and line), and one for such bytes outside any record; for a file
    read as Windows-1252 as a whole, one problem of the file that lists the records concerned."""
    if not decoded.bad:
        return []
    starts = nz.line_starts(text)
    spans = sorted((e.line, e.end_line if e.end_line is not None else e.line, i)
                   for i, e in enumerate(entries) if e.line is not None)
    firsts = [span[0] for span in spans]
    by_record: dict[int | None, list[tuple[BadBytes, int]]] = {}
    for bad in decoded.bad:
        line = nz.line_at(starts, bad.index)
        k = bisect.bisect_right(firsts, line) - 1        # the last record that starts on or before the line
        owner = spans[k][2] if k >= 0 and line <= spans[k][1] else None
        by_record.setdefault(owner, []).append((bad, line))
    what = "UTF-8" if decoded.encoding in ("utf-8", "cp1252") else decoded.encoding.upper()
    read_as = "read as Windows-1252" if decoded.encoding in ("utf-8", "cp1252") else "replaced by \ufffd"
    if decoded.legacy:
        positions = [entries[i].position for i in by_record if i is not None]
        listed = ", ".join(str(p) for p in positions[:10]) + (" ..." if len(positions) > 10 else "")
        message = _bad_bytes_summary(decoded)
        if positions:
            message += f"; records with such characters: {listed}"
        return [{"record": None, "message": message}]
    out = []
    for owner, items in by_record.items():
        bad, line = items[0]
        shown = ", ".join(repr(b.decoded) for b, _ in items[:5]) + (" ..." if len(items) > 5 else "")
        count = f"{len(items)} runs of bytes that are" if len(items) > 1 else "bytes that are"
        head = f"{count} not valid {what}, first {_hex(bad.raw)} at byte {bad.offset} (line {line}), {read_as}: {shown}"
        if owner is None:
            out.append({"record": None, "message": f"{head}; outside any record"})
            continue
        record = records[owner]
        title = record.get("title")
        title_text = f"title {title[:60]!r}" if title else "no title"
        out.append({"record": entries[owner].position,
                    "message": f"{head}; check this record ({record['record_id']}, {title_text}) against the "
                               "database, or export the search again as UTF-8"})
    return out


def format_problem(file: str, problem: dict) -> str:
    """``<file>: record N: <message>`` (the one-line shape used in logs and on the console)."""
    where = f"record {problem['record']}" if problem.get("record") is not None else "file"
    message = " ".join(str(problem["message"]).split())
    return f"{file}: {where}: {message}"


# ------------------------------------------------------------------------------ the searches folder

ALLOWED_NON_EXPORTS = (".search.yaml", ".md")
"""Files that may sit in a search folder without being an export: the record that ``livingmeta fetch``
writes beside each PubMed export (``<date>.search.yaml``, PRISMA-S) and notes (``README.md``)."""

_UNSUPPORTED_HINTS = {
    "enw": "EndNote's tagged .enw format is not read: in EndNote export the references as RIS "
           "(File > Export, output style 'RefMan (RIS) Export', saved as .ris) or as EndNote XML (.xml)",
    "enl": "an EndNote library is not an export: in EndNote export the references as RIS (.ris) or XML (.xml)",
    "ciw": "Web of Science's .ciw file is its tagged plain text: rename it to .txt",
    "tsv": "save the list as comma-separated values (.csv) with the documented column names",
    "xls": "save the sheet as CSV (.csv) with the documented column names",
    "xlsx": "save the sheet as CSV (.csv) with the documented column names",
    "bibtex": "rename the file to .bib",
    "medline": "rename the file to .nbib",
    "zip": "unpack the archive into this folder and remove the archive",
    "gz": "unpack the archive into this folder and remove the archive",
    "pdf": "a PDF is not a search export: export the search results from the database as RIS",
    "docx": "a document is not a search export: keep search strategies in review.yaml or a README.md",
}


def search_folder_problems(searches_dir: str | os.PathLike) -> list[ReviewInputError]:
    """Problems with the file names in ``searches/``, found without reading any file (cheap enough to run
    while the job graph is planned): one error per file that is not a supported export and would be
    ignored, and one per group of exports in one source folder whose names differ only by case or
    extension (they would get the same record ids). What counts as an export is what
    :func:`livingmeta.plan.scan_exports` takes: a file ``searches/<source>/<name>.<ext>`` with ``ext`` in
    :data:`livingmeta.plan.EXPORT_EXTENSIONS` (any case). Hidden files (``.name``, e.g. a fetch in
    progress) and :data:`ALLOWED_NON_EXPORTS` are allowed."""
    searches_dir = Path(searches_dir)
    errors: list[ReviewInputError] = []
    if not searches_dir.is_dir():
        return errors
    supported = ", ".join(f".{ext}" for ext in EXPORT_EXTENSIONS)
    layout = "Put each export at searches/<source>/<YYYY-MM-DD>.<ext>"
    try:
        top = sorted(searches_dir.iterdir())
    except OSError as err:
        return [ReviewInputError(f"the searches folder cannot be read ({err.strerror or err})",
                                 file=str(searches_dir))]
    for path in top:
        if path.name.startswith("."):
            continue
        if not path.is_dir():
            if path.name.lower().endswith(ALLOWED_NON_EXPORTS):
                continue
            errors.append(ReviewInputError(
                "a file directly in searches/ is not read (exports belong in a folder per source)",
                file=str(path), hint=f"{layout}, e.g. searches/embase/2025-06-30.ris"))
            continue
        try:
            children = sorted(path.iterdir())
        except OSError as err:
            errors.append(ReviewInputError(f"the folder cannot be read ({err.strerror or err})", file=str(path)))
            continue
        stems: dict[str, list[Path]] = {}
        for child in children:
            if child.name.startswith("."):
                continue
            if child.is_dir():
                errors.append(ReviewInputError(
                    "a folder inside a source folder is not read", file=str(child),
                    hint=f"{layout}; move its exports up into {path.name}/ or into a source folder of their own"))
                continue
            stem, dot, ext = child.name.rpartition(".")
            if dot and stem and ext.lower() in EXPORT_EXTENSIONS:
                stems.setdefault(stem.lower(), []).append(child)
                continue
            if child.name.lower().endswith(ALLOWED_NON_EXPORTS):
                continue
            hint = _UNSUPPORTED_HINTS.get(ext.lower()) if dot else None
            errors.append(ReviewInputError(
                f"not a supported export file, so it would be ignored (supported extensions: {supported})",
                file=str(child),
                hint=f"{hint[0].upper()}{hint[1:]}" if hint else
                f"Export the search as one of: {SUPPORTED}; or move the file out of searches/"))
        for group in stems.values():
            if len(group) > 1:
                names = ", ".join(p.name for p in group)
                errors.append(ReviewInputError(
                    f"exports {names} have names that differ only by case or extension: they would get the "
                    f"same record ids ({path.name}:<name>:<position>)", file=str(path),
                    hint="Keep one file per search (remove the copy), or give each search its own date-named "
                         "file"))
    return errors
