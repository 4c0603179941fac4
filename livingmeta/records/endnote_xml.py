"""EndNote XML exports (File > Export > XML): ``<xml><records><record>...``.

Read with ``xml.etree.ElementTree``; EndNote wraps text in ``<style>`` elements, which are flattened.
Field choices: title ``titles/title``; authors ``contributors/authors/author``; year ``dates/year``;
journal ``periodical/full-title`` else ``titles/secondary-title`` else ``periodical/abbr-1``; ``volume``;
issue ``number``; ``pages``; ``abstract``; ``keywords/keyword``; DOI ``electronic-resource-num``;
PubMed id ``accession-num`` when the remote database is PubMed/MEDLINE/NLM; database
``remote-database-name`` / ``remote-database-provider``; type ``ref-type/@name``.
"""

from __future__ import annotations

import re

from livingmeta.records.entry import Entry


def _text(el) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    return text or None


def _first(rec, *paths):
    for path in paths:
        value = _text(rec.find(path))
        if value:
            return value
    return None


def record_values(rec) -> dict:
    database = _first(rec, "remote-database-name", "remote-database-provider")
    accession = _first(rec, "accession-num")
    pmid = accession if accession and database and re.search(r"pubmed|medline|nlm", database, re.I) else None
    ref_type = rec.find("ref-type")
    return {
        "type": ref_type.get("name") if ref_type is not None and ref_type.get("name") else _text(ref_type),
        "database": database,
        "title": _first(rec, "titles/title"),
        "authors": [a for a in (_text(a) for a in rec.findall("contributors/authors/author")) if a],
        "year": _first(rec, "dates/year", "dates/pub-dates/date"),
        "journal": _first(rec, "periodical/full-title", "titles/secondary-title", "periodical/abbr-1",
                          "alt-periodical/full-title"),
        "volume": _first(rec, "volume"),
        "issue": _first(rec, "number", "issue"),
        "pages": _first(rec, "pages"),
        "abstract": _first(rec, "abstract"),
        "keywords": [k for k in (_text(k) for k in rec.findall("keywords/keyword")) if k],
        "doi": _first(rec, "electronic-resource-num"),
        "pmid": pmid,
        "language": _first(rec, "language"),
    }


def parse_root(root) -> list[Entry]:
    records = root.findall("./records/record") if root.tag != "records" else root.findall("./record")
    return [Entry(i, record_values(rec), []) for i, rec in enumerate(records, start=1)]


def looks_like(head: str) -> bool:
    return bool(re.search(r"<xml>\s*<records>|<records>\s*<record>", head))
