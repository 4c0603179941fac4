"""The one normalised record model that every export parser produces.

A record is written to JSON as a flat object with these fields (absent values are ``null`` or ``[]``):

===============  ===========================================================================
``record_id``    ``<source>:<export name>:<position>``; stable forever (raw exports never change)
``source``       the search source, i.e. the folder under ``searches/`` (``pubmed``, ``embase``)
``export``       the export's name (its file name without the extension, by convention the search date)
``file``         the export file as given to the parser
``position``     1-based position of the record in the export file
``format``       ``ris``, ``nbib``, ``pubmed_xml``, ``wos``, ``bibtex``, ``endnote_xml``, ``csv``
``database``     the database named inside the export (RIS ``DB``/``DP``, e.g. ``Embase``), if any
``type``         the publication type as exported (``JOUR``, ``Journal Article``, ``article`` ...)
``doi``          lower-case DOI without resolver prefix (``10.1000/xyz``)
``pmid``         PubMed id (digits)
``pmcid``        PubMed Central id (``PMC1234567``)
``title``        title (whitespace collapsed)
``authors``      list of author names as exported, ``Surname, Given`` where the export says so
``year``         publication year (int)
``journal``      journal (or book / proceedings) name, full form when the export has one
``volume``       volume
``issue``        issue
``pages``        ``first-last`` with abbreviated last pages expanded (``349-69`` -> ``349-369``)
``abstract``     abstract
``keywords``     list of keywords / subject headings
``language``     language as exported
===============  ===========================================================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

FORMATS = ("ris", "nbib", "pubmed_xml", "wos", "bibtex", "endnote_xml", "csv")


def make_record_id(source: str, export: str, position: int) -> str:
    """The record id contract of docs/architecture.md: ``<source>:<export name>:<position>``."""
    return f"{source}:{export}:{int(position)}"


@dataclass
class Record:
    record_id: str
    source: str
    export: str
    file: str
    position: int
    format: str
    database: str | None = None
    type: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    abstract: str | None = None
    keywords: list[str] = field(default_factory=list)
    language: str | None = None

    @property
    def first_author(self) -> str | None:
        return self.authors[0] if self.authors else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Record":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


RECORD_FIELDS = tuple(f.name for f in fields(Record))
