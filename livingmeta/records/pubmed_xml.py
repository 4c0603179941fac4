"""PubMed E-utilities ``efetch`` XML (``db=pubmed&retmode=xml``): ``<PubmedArticleSet>`` of
``<PubmedArticle>`` and ``<PubmedBookArticle>`` elements.

Read with the standard library's ``xml.etree.ElementTree`` (expat does not fetch the external DTD that
the files declare). Inline markup in titles and abstracts (``<i>``, ``<sup>``) is flattened to text.

Field choices: title ``ArticleTitle`` (else ``VernacularTitle``, ``BookTitle``); authors ``LastName,
ForeName`` or ``CollectiveName``; year from ``JournalIssue/PubDate`` (``Year`` or ``MedlineDate``), else
``ArticleDate``; journal ``Journal/Title`` else ``ISOAbbreviation``; volume, issue; pages ``MedlinePgn``
(else the ``StartPage``/``EndPage`` pair); DOI/PMCID from ``ArticleIdList`` (else ``ELocationID``);
keywords ``Keyword`` and MeSH ``DescriptorName``.
"""

from __future__ import annotations


from livingmeta.records.entry import Entry

ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")


def _text(el) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    return text or None


def _find_text(root, *paths) -> str | None:
    for path in paths:
        value = _text(root.find(path))
        if value:
            return value
    return None


def article_values(art) -> dict:
    authors = []
    for au in art.iter("Author"):
        last, fore = _text(au.find("LastName")), _text(au.find("ForeName")) or _text(au.find("Initials"))
        collective = _text(au.find("CollectiveName"))
        if last:
            authors.append(f"{last}, {fore}" if fore else last)
        elif collective:
            authors.append(collective)
    ids = {}
    for aid in art.iter("ArticleId"):
        ids.setdefault((aid.get("IdType") or "").lower(), _text(aid))
    doi = ids.get("doi")
    if not doi:
        for loc in art.iter("ELocationID"):
            if (loc.get("EIdType") or "").lower() == "doi":
                doi = _text(loc)
                break
    pages = _find_text(art, ".//Pagination/MedlinePgn")
    if not pages:
        start, end = _find_text(art, ".//Pagination/StartPage"), _find_text(art, ".//Pagination/EndPage")
        pages = f"{start}-{end}" if start and end else start
    abstract = " ".join(filter(None, (
        (f"{t.get('Label')}: " if t.get("Label") else "") + (_text(t) or "")
        for t in art.iter("AbstractText")))) or None
    year = _find_text(art, ".//JournalIssue/PubDate/Year", ".//JournalIssue/PubDate/MedlineDate",
                      ".//ArticleDate/Year", ".//PubDate/Year", ".//PubDate/MedlineDate")
    return {
        "type": [_text(p) for p in art.iter("PublicationType")] or art.tag,
        "database": "PubMed",
        "title": _find_text(art, ".//ArticleTitle", ".//VernacularTitle", ".//BookTitle"),
        "authors": authors,
        "year": year,
        "journal": _find_text(art, ".//Journal/Title", ".//Journal/ISOAbbreviation", ".//MedlineTA"),
        "volume": _find_text(art, ".//JournalIssue/Volume"),
        "issue": _find_text(art, ".//JournalIssue/Issue"),
        "pages": pages,
        "abstract": abstract,
        "keywords": [k for k in (_text(k) for k in art.iter("Keyword")) if k]
        + [d for d in (_text(d) for d in art.iter("DescriptorName")) if d],
        "doi": doi,
        "pmid": _find_text(art, "./MedlineCitation/PMID", "./BookDocument/PMID", ".//PMID") or ids.get("pubmed"),
        "pmcid": ids.get("pmc"),
        "language": _find_text(art, ".//Language"),
    }


def parse_root(root, file_problems: list[str] | None = None) -> list[Entry]:
    """The articles of a ``<PubmedArticleSet>``; ``<DeleteCitation>`` is skipped, any other element is not
    an article and is reported in ``file_problems`` (a damaged start tag would otherwise lose a record)."""
    entries = []
    position = 0
    for child in root:
        if child.tag not in ARTICLE_TAGS:
            if child.tag != "DeleteCitation" and file_problems is not None:
                after = f"after article {position}" if position else "before the first article"
                file_problems.append(f"<{str(child.tag)[:40]}> ({after}) is not a PubmedArticle or "
                                     "PubmedBookArticle: not read")
            continue
        position += 1
        values = article_values(child)
        problems = [] if values["pmid"] else ["no PMID element"]
        entries.append(Entry(position, values, problems))
    return entries


def looks_like(head: str) -> bool:
    return "<PubmedArticleSet" in head or "<PubmedArticle>" in head or "<PubmedBookArticle" in head
