"""Cleaning of exported field values (used by every parser) and comparison keys (used by dedup).

Cleaning keeps what the export says but in one shape (a DOI without resolver prefix, an int year,
``first-last`` pages); comparison keys throw away what differs between databases for the same article
(case, accents, punctuation, HTML tags, language tags such as ``[Chinese]``).
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from urllib.parse import unquote

_WS = re.compile(r"\s+")
_DOI = re.compile(r"10\.\d{4,9}/\S+", re.I)
_DOI_PREFIX = re.compile(r"^(?:(?:https?://)?(?:www\.|dx\.)?doi\.org/|(?:https?://)?(?:dx\.)?doi\.org/|"
                         r"doi\s*:\s*|doi\s+|info:doi/)", re.I)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_PMCID = re.compile(r"\bPMC\d{3,}\b", re.I)
_TAGS = re.compile(r"<[^<>]{1,40}>")


def clean_text(value) -> str | None:
    """Collapse whitespace; ``None`` for empty values."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value if v is not None)
    text = _WS.sub(" ", str(value)).strip()
    return text or None


def first(value):
    """The first non-empty value of a str-or-list field."""
    if isinstance(value, (list, tuple)):
        for item in value:
            text = clean_text(item)
            if text:
                return text
        return None
    return clean_text(value)


def as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [t for t in (clean_text(v) for v in value) if t]
    text = clean_text(value)
    return [text] if text else []


def find_doi(value) -> str | None:
    """A DOI found in a field value, lower-cased, in one form whatever the export wrote: resolver URLs
    (``https://doi.org/``, ``http://dx.doi.org/``, ``https://www.doi.org/``), ``doi:`` / ``DOI `` /
    ``info:doi/`` prefixes removed, percent escapes decoded (``10.1016/S0025-7753%2817%2930624-3`` is
    ``10.1016/s0025-7753(17)30624-3``: DOI Handbook 2.5.2.4, URL encoding of DOIs in resolver links),
    trailing punctuation and MEDLINE's ``[doi]`` removed (a closing bracket only when it is unbalanced)."""
    for item in as_list(value):
        item = html.unescape(item).strip()
        if "%" in item:
            item = unquote(item)
        item = _DOI_PREFIX.sub("", item)
        match = _DOI.search(item)
        if match:
            return _trim_doi(match.group(0)).lower()
    return None


def _trim_doi(doi: str) -> str:
    doi = re.sub(r"\[doi\]$", "", doi, flags=re.I)
    while doi and doi[-1] in ".,;:'\"]})>":
        last = doi[-1]
        pair = {")": "(", "]": "[", "}": "{"}.get(last)
        if pair and doi.count(pair) >= doi.count(last):
            break  # "10.1016/0140-6736(90)90001-(" ... "(17)": a balanced bracket is part of the DOI
        doi = doi[:-1]
    return doi


def find_pmid(value) -> str | None:
    for item in as_list(value):
        match = re.fullmatch(r"(?:PMID:?\s*)?(\d{1,9})(?:\s*\[pubmed\])?", item.strip(), flags=re.I)
        if match:
            return str(int(match.group(1)))
    return None


def find_pmcid(value) -> str | None:
    for item in as_list(value):
        match = _PMCID.search(item)
        if match:
            return match.group(0).upper()
    return None


def find_year(value) -> int | None:
    """The first plausible 4-digit year in a date-like field (``2019//``, ``2018 Apr``, ``2019-05-03``)."""
    for item in as_list(value):
        match = _YEAR.search(item)
        if match:
            return int(match.group(1))
    return None


def join_pages(start, end=None) -> str | None:
    """``first-last`` pages; an abbreviated last page is expanded (``349``, ``69`` -> ``349-369``).

    Values without any digit (Ovid's ``No`` / ``Specified`` placeholders) are dropped.
    """
    start = clean_text(start)
    end = clean_text(end)
    if start and not end and re.search(r"\s*[-\u2010-\u2015]\s*", start):
        start, _, end = re.split(r"\s*([-\u2010-\u2015]+)\s*", start, maxsplit=1)
        start, end = clean_text(start), clean_text(end)
    if start and not re.search(r"\d", start):
        start = None
    if end and not re.search(r"\d", end):
        end = None
    if not start:
        return end
    if not end or end == start:
        return start
    if start.isdigit() and end.isdigit() and len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return f"{start}-{end}"


_VOLUME = re.compile(r"^\s*(?:vol(?:ume)?\.?\s*)?(\d+)\s*(?:\(\s*(\d+)\s*\)|\)|[.,;:]|(?=\s|$))", re.I)


def volume_parts(volume) -> tuple[str, str]:
    """(volume number, issue number) of a volume field as exported, for comparison: ``12`` -> ("12", ""),
    damaged or compound fields ``1)``, ``Vol. 12``, ``3 SUPPL. 1``, ``12(3)`` -> ("1", ""), ("12", ""),
    ("3", ""), ("12", "3"); leading zeros dropped; ("", "") when no volume number starts the field
    (``Suppl``, ``e-pub``). A supplement's number is not an issue number."""
    text = clean_text(volume)
    if not text:
        return "", ""
    match = _VOLUME.match(text)
    if not match:
        digits = re.search(r"\d+", text)
        return (str(int(digits.group(0))), "") if digits else ("", "")
    issue = match.group(2)
    return str(int(match.group(1))), str(int(issue)) if issue else ""


def clean_title(value) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    text = _TAGS.sub("", text)            # <i>, <sup> in PubMed XML / Scopus titles
    return clean_text(text)


# ---------------------------------------------------------------------------------- comparison keys

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_LANG_TAG = re.compile(r"\[(?:[a-z]+(?:\s+[a-z]+)?)\]\s*\.?\s*$", re.I)
_BRACKETED = re.compile(r"^\s*\[(.*)\]\s*\.?\s*$")
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "μ": "mu", "ω": "omega",
          "ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"}


def fold(text: str) -> str:
    """Lower case ASCII: accents removed, Greek letters spelled out, HTML entities decoded."""
    text = html.unescape(text).lower()
    if not text.isascii():
        text = "".join(_GREEK.get(ch, ch) for ch in text)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text


def title_key(title: str | None) -> str:
    """Lower-case alphanumeric words of a title, without trailing language tags (``[Chinese]``) or
    the square brackets that MEDLINE puts around translated titles."""
    if not title:
        return ""
    text = _TAGS.sub(" ", title)
    match = _BRACKETED.match(text)
    if match:
        text = match.group(1)
    for _ in range(2):
        text = _LANG_TAG.sub("", text)
    text = fold(text)
    return _NON_ALNUM.sub(" ", text).strip()


def surname(author: str | None) -> str:
    """Folded surname of an author string in any of the usual export shapes.

    ``Liu R.``, ``Adler D.G.``, ``Brinjikji W``, ``Parkes-Loach, PS``, ``Zhai, Q. J.``, ``Waleed Brinjikji``.
    """
    if not author:
        return ""
    text = author.strip()
    if "," in text:
        name = text.split(",", 1)[0]
    else:
        parts = text.split()
        if len(parts) >= 2 and _INITIALS.fullmatch(parts[-1]):
            while len(parts) > 1 and _INITIALS.fullmatch(parts[-1]):
                parts.pop()
            name = " ".join(parts)
        elif len(parts) >= 2:
            name = parts[-1]
        else:
            name = text
    return _NON_ALNUM.sub("", fold(name))


_INITIALS = re.compile(r"(?:[A-Z]\.?-?){1,4}")


def journal_key(journal: str | None) -> str:
    if not journal:
        return ""
    text = fold(journal).replace("&", " and ")
    text = re.sub(r"\bthe\b|\band\b|\bof\b|\bjournal\b|\bj\b", " ", text)
    return _NON_ALNUM.sub("", text)


def page_start(pages: str | None) -> str:
    """The first page as a comparable token (digits without leading zeros, or the raw e-page)."""
    if not pages:
        return ""
    token = re.split(r"[-\u2010-\u2015\s,;]+", pages.strip(), maxsplit=1)[0].lower()
    digits = re.sub(r"\D", "", token)
    if digits and token.lstrip("e").isdigit():
        return str(int(digits))
    return token


def lines_of(text: str) -> list[str]:
    """Lines split at CR LF, CR or LF only (``str.splitlines`` also splits at U+2028 and friends, which
    PubMed abstracts contain)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets at which the lines of ``text`` start (line breaks as in :func:`lines_of`)."""
    return [0] + [m.end() for m in _LINE_BREAK.finditer(text)]


def line_at(starts: list[int], index: int) -> int:
    """The 1-based line of character ``index``, given :func:`line_starts` of the text."""
    return bisect.bisect_right(starts, index)
