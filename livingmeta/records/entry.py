"""What a format parser hands to ingestion: one ``Entry`` per record found in the export, in file order.

``values`` uses the field names of :class:`livingmeta.records.model.Record` with values as exported
(strings or lists, not yet cleaned); ``problems`` are format-level problems of this record (a missing end
tag, an unbalanced brace); ``line``/``end_line`` are the record's first and last line in the decoded text
(lines split at CR LF, CR or LF, as :func:`livingmeta.records.normalise.lines_of` does), used to name the
record that an encoding problem falls in (``None`` where a parser cannot tell). :func:`to_record` cleans
the values and adds content problems (no title, a year that is not a year, a DOI that is not a DOI). A
malformed record is kept and reported, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livingmeta.records import normalise as nz
from livingmeta.records.model import Record, make_record_id


@dataclass
class Entry:
    position: int
    values: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    line: int | None = None
    end_line: int | None = None


def to_record(entry: Entry, *, source: str, export: str, file: str, fmt: str,
              record_id: str | None = None) -> tuple[Record, list[str]]:
    v = entry.values
    problems = list(entry.problems)

    raw_doi = v.get("doi")
    doi = nz.find_doi(raw_doi)
    if raw_doi and nz.as_list(raw_doi) and doi is None:
        problems.append(f"DOI {nz.first(raw_doi)!r} is not a DOI (ignored)")
    raw_year = v.get("year")
    year = nz.find_year(raw_year)
    if year is None and nz.as_list(raw_year):
        problems.append(f"year {nz.first(raw_year)!r} is not a 4-digit year (left empty)")
    raw_pmid = v.get("pmid")
    pmid = nz.find_pmid(raw_pmid)
    if raw_pmid and nz.as_list(raw_pmid) and pmid is None:
        problems.append(f"PMID {nz.first(raw_pmid)!r} is not a PubMed id (ignored)")

    record = Record(
        record_id=record_id or make_record_id(source, export, entry.position),
        source=source,
        export=export,
        file=file,
        position=entry.position,
        format=fmt,
        database=nz.first(v.get("database")),
        type=nz.first(v.get("type")),
        doi=doi,
        pmid=pmid,
        pmcid=nz.find_pmcid(v.get("pmcid")),
        title=nz.clean_title(nz.first(v.get("title"))),
        authors=nz.as_list(v.get("authors")),
        year=year,
        journal=nz.first(v.get("journal")),
        volume=nz.first(v.get("volume")),
        issue=nz.first(v.get("issue")),
        pages=nz.join_pages(nz.first(v.get("pages")), nz.first(v.get("end_page"))),
        abstract=nz.clean_text(v.get("abstract")),
        keywords=_dedup_list(nz.as_list(v.get("keywords"))),
        language=nz.first(v.get("language")),
    )
    if not record.title:
        if record.doi or record.pmid:
            problems.append("no title (the record is kept; it can be matched by its identifiers only)")
        else:
            problems.append("no title and no DOI or PMID (the record is kept but cannot be deduplicated)")
    return record, problems


def _dedup_list(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
