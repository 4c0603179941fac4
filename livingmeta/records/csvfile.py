"""CSV (or tab-separated) record lists with documented column names.

One row per record, a header row first. Column names are matched case-insensitively, ignoring spaces,
``_``, ``-`` and ``/``; the first column found in each list below is used. Authors and keywords are
split at ``;`` (or at `` and `` for BibTeX-style author lists).

=============  =======================================================================================
field          accepted column names
=============  =======================================================================================
record_id      ``record_id``, ``ID`` (bib-dedupe / CoLRev files); used as the id only by
               ``livingmeta dedup`` (ids kept as given); in the workflow ids are ``<source>:<name>:<row>``
title          ``title``, ``TI``, ``article_title``, ``primary_title``
authors        ``authors``, ``author``, ``AU``, ``author_names`` (Embase)
year           ``year``, ``publication_year``, ``PY``, ``date``, ``publication_date``
journal        ``journal``, ``journal/book`` (PubMed CSV), ``source_title`` (Scopus), ``secondary_title``,
               ``journal_name``, ``T2``, ``SO``, ``publication_title`` (Zotero); when the row has no journal:
               ``booktitle``, ``book_title``,
               ``proceedings_title``, ``conference_name`` (conference papers: the proceedings are the venue)
volume         ``volume``, ``VL``
issue          ``issue``, ``number``, ``IS``
pages          ``pages``, ``page``, ``page_start`` + ``page_end`` (Scopus), ``start_page`` + ``end_page``,
               ``BP`` + ``EP`` (Web of Science tab-delimited), ``first_page`` + ``last_page`` (Embase)
abstract       ``abstract``, ``AB``, ``abstract_note`` (Zotero)
keywords       ``keywords``, ``author_keywords``, ``KW``, ``manual_tags`` (Zotero)
doi            ``doi``, ``DO``, ``DI``
pmid           ``pmid``, ``pubmed_id``, ``PM``, ``medline_pmid`` (Embase)
pmcid          ``pmcid``
type           ``type``, ``document_type``, ``ENTRYTYPE``, ``publication_type``, ``item_type`` (Zotero)
language       ``language``, ``language_of_original_document``, ``LA``
database       ``database``, ``DB``
=============  =======================================================================================

A file without volume, issue or pages columns but with PubMed's ``Citation`` column (PubMed's "Save as
CSV": ``Bioact Mater. 2024 Jan;31(2):1-12. doi: ...``) takes them from it. PubMed's ``Authors`` cell lists
the authors separated by commas (``Li X, Wang Y, Chen Z.``): a comma-separated list whose every item is a
surname with initials is split there (``Li, Xin`` stays one author).

A file is accepted as a record list if it has at least a title, DOI or PMID column; otherwise it is
not an export and the run stops with a message that lists the columns above.
"""

from __future__ import annotations

import csv
import io
import re

from livingmeta.errors import ReviewInputError
from livingmeta.records import normalise as nz
from livingmeta.records.entry import Entry

csv.field_size_limit(2**31 - 1)

COLUMNS: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "id"),
    "title": ("title", "ti", "article_title", "primary_title"),
    "authors": ("authors", "author", "au", "author_names"),
    "year": ("year", "publication_year", "py", "date", "publication_date"),
    "journal": ("journal", "journal/book", "source_title", "secondary_title", "journal_name", "t2",
                "so", "publication_title"),
    "booktitle": ("booktitle", "book_title", "proceedings_title", "conference_name"),
    "volume": ("volume", "vl"),
    "issue": ("issue", "number", "is"),
    "pages": ("pages", "page", "page_start", "start_page", "bp", "first_page"),
    "end_page": ("page_end", "end_page", "ep", "last_page"),
    "abstract": ("abstract", "ab", "abstract_note"),
    "keywords": ("keywords", "author_keywords", "kw", "manual_tags"),
    "doi": ("doi", "do", "di"),
    "pmid": ("pmid", "pubmed_id", "pm", "medline_pmid"),
    "pmcid": ("pmcid",),
    "type": ("type", "document_type", "entrytype", "publication_type", "item_type"),
    "language": ("language", "language_of_original_document", "la"),
    "database": ("database", "db"),
    "citation": ("citation",),  # PubMed CSV: "Bioact Mater. 2024 Jan;31(2):1-12. doi: ..." (volume, issue, pages)
}
FROM_CITATION = ("volume", "issue", "pages")
IDENTIFYING = ("title", "doi", "pmid")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-/]+", "", name.strip().lstrip("\ufeff").lower())


def column_map(header: list[str]) -> dict[str, int]:
    """field -> column index for a header row."""
    index = {}
    for i, name in enumerate(header):
        index.setdefault(_key(name), i)
    out = {}
    for fieldname, names in COLUMNS.items():
        for name in names:
            if _key(name) in index:
                out[fieldname] = index[_key(name)]
                break
    return out


def _first_line(text: str) -> str:
    """The first line of ``text``, ended by CR LF, CR or LF (old Mac exports end lines with CR only)."""
    return nz.lines_of(text[:20000].lstrip("\ufeff"))[0]


def sniff_dialect(text: str):
    first_line = _first_line(text)
    delimiter = max([",", ";", "\t"], key=first_line.count)
    return delimiter


def looks_like(text: str) -> bool:
    """True if the first line is a header with a title, DOI or PMID column. Never raises: any text can be
    asked (format detection tries it last, on whatever the file holds)."""
    first_line = _first_line(text)
    delimiter = sniff_dialect(text)
    try:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
    except csv.Error:
        return False
    cols = column_map(header)
    return any(f in cols for f in IDENTIFYING)


SURNAME_INITIALS = re.compile(r"^[^\d,;()]+\s[A-Z]{1,4}$")  # "Li X", "van der Berg JH", "O'Neil-Smith AB"
CITATION_NUMBERS = re.compile(r";\s*(?P<volume>[^;:()\s]+)?\s*(?:\((?P<issue>[^()]+)\))?\s*:\s*(?P<pages>[A-Za-z]?\d[\w-]*)")


def _split_people(value: str) -> list[str]:
    if not value:
        return []
    if ";" in value:
        parts = value.split(";")
    elif re.search(r"\s+and\s+", value):
        parts = re.split(r"\s+and\s+", value)
    else:
        parts = [value]
        items = [p.strip().rstrip(".").strip() for p in value.split(",")]
        if len(items) > 1 and all(SURNAME_INITIALS.match(p) for p in items):  # PubMed CSV: "Li X, Wang Y."
            parts = items
    return [p.strip() for p in parts if p.strip()]


def citation_numbers(citation: str | None) -> dict[str, str]:
    """Volume, issue and pages of a PubMed citation line (``Bioact Mater. 2024 Jan;31(2):1-12. doi: ...``);
    empty when it has none (``... 2024 Jan 5. doi: ...``: epub ahead of print)."""
    match = CITATION_NUMBERS.search(citation or "")
    if not match:
        return {}
    return {key: value.strip() for key, value in match.groupdict().items() if value and value.strip()}


def _row_like_lines(value: str, delimiter: str, width: int) -> list[str]:
    """The lines after the first of a cell that parse as a full row of ``width`` cells (``width`` >= 3)."""
    if width < 3 or "\n" not in value and "\r" not in value:
        return []
    out = []
    for line in nz.lines_of(value)[1:]:
        if line.count(delimiter) >= width - 1:
            try:
                cells = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error:
                continue
            if len(cells) == width:
                out.append(line)
    return out


def parse(text: str, *, file: str = "",
          file_problems: list[str] | None = None) -> tuple[list[Entry], list[str | None]]:
    """Entries and, per entry, the ``record_id``/``ID`` cell (or ``None``).

    A row with another number of cells than the header is kept and reported; a cell that runs over
    several lines and holds what look like further rows (an unbalanced quote swallows the rows after it)
    is reported as well, naming its lines, since those rows are not records of their own.
    """
    delimiter = sniff_dialect(text)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise ReviewInputError(f"the CSV header row cannot be read ({err})", file=file,
                               hint="Export the search again as CSV") from None
    cols = column_map(header or [])
    if not header or not any(f in cols for f in IDENTIFYING):
        raise ReviewInputError(
            f"a CSV file without a title, doi or pmid column (columns: {', '.join((header or [])[:8])})",
            file=file, hint="Name the columns as documented in docs/records.md (title, authors, year, "
            "journal, volume, issue, pages, abstract, keywords, doi, pmid, record_id)")
    entries, ids = [], []
    width = len(header)
    last_line = reader.line_num
    while True:
        try:
            row = next(reader, None)
        except csv.Error as err:  # e.g. a NUL character; the rest of the file cannot be read
            if file_problems is not None:
                file_problems.append(f"line {reader.line_num + 1}: the CSV cannot be read from here on ({err}); "
                                     f"the rows after record {len(entries)} are not read")
            break
        if row is None:
            break
        first, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        problems = []
        where = f"line {first}" if first == last_line else f"lines {first}-{last_line}"
        if len(row) != width:
            problems.append(f"row has {len(row)} cells but the header has {width} ({where})")
        for i, value in enumerate(row):
            swallowed = _row_like_lines(value, delimiter, width)
            if swallowed:
                column = header[i] if i < len(header) else f"cell {i + 1}"
                problems.append(f"the {column!r} cell runs over {where} and holds {len(swallowed)} line(s) that "
                                f"look like rows, e.g. {swallowed[0][:40]!r}: an unbalanced quote? Those rows "
                                "are not read as records")
                break

        def cell(fieldname):
            i = cols.get(fieldname)
            return row[i].strip() if i is not None and i < len(row) and row[i].strip() else None

        values = {f: cell(f) for f in COLUMNS
                  if f not in ("authors", "keywords", "record_id", "booktitle", "citation")}
        if not any(values[f] for f in FROM_CITATION):
            values.update(citation_numbers(cell("citation")))
        values["journal"] = values["journal"] or cell("booktitle")   # a conference paper's venue
        values["authors"] = _split_people(cell("authors") or "")
        values["keywords"] = [k.strip() for k in re.split(r";", cell("keywords") or "") if k.strip()]
        entries.append(Entry(len(entries) + 1, values, problems, first, last_line))
        ids.append(cell("record_id"))
    return entries, ids
