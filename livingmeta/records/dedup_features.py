"""Comparison features of a record for deduplication (helper of :mod:`livingmeta.records.dedup`).

Titles are split into the article's own title and what databases add to it: Ovid/MEDLINE annotations
(``.[Erratum appears in ...]``, ``[Review] [57 refs]``, ``[Chinese]``), brackets around translated
titles, conference markers (``[Abstract]``, ``[Poster 12]``), and the kind of notice a record is
(erratum, reply, comment, retraction: "Erratum: <title>", "<title> (vol 360, pg 542, 2009)",
"Reply to ..."). Notices and conference abstracts are never merged automatically with a record of
another kind: that is where false merges come from.
"""

from __future__ import annotations

import re

from livingmeta.records import normalise as nz

_TRAILING_BRACKET = re.compile(r"\s*\.?\s*\[([^\[\]]*)\]?\s*\.?\s*$")
_WOS_ERRATUM = re.compile(r"\(\s*vol\.?\s*\d+[^)]*\bpg\.?\s*\w+[^)]*\)?\s*$", re.I)
_EMBASE_ERRATUM = re.compile(r"\((?:[^()]|\([^()]*\))*\((?:19|20)\d\d\)\s*(\d+)\s*(?:\(\d+\)\s*)?\(([a-z]?\d+)[^()]*\)\)?\s*$",
                             re.I)
_NOTICE_PREFIX = [
    ("erratum", re.compile(r"^(?:erratum|errata|correction|corrigendum|corrigenda|published erratum|"
                           r"notice of (?:correction|erratum))\b", re.I)),
    ("retraction", re.compile(r"^(?:retraction|retracted|notice of retraction|withdrawn|"
                              r"expression of concern)\b", re.I)),
    ("reply", re.compile(r"^(?:reply|in reply|authors'? reply|author reply|response|re\s*:|the authors reply)\b",
                         re.I)),
    ("comment", re.compile(r"^(?:comment(?:ary)? on|comments? to|letter to the editor|editorial comment)\b",
                           re.I)),
]
_NOTICE_SUFFIX = re.compile(r"(?:[-:.,]\s*|\s)(?:reply|author'?s? reply|authors' reply|response|"
                            r"in reply|erratum|correction)\s*\.?\s*$", re.I)
_ABSTRACT_MARK = re.compile(r"^(?:abstract|poster\b.*|meeting abstract|conference abstract|abstracts?\s*\d*)$",
                            re.I)
_DIGITS = re.compile(r"\d+")
_MULTIPLE_LETTERS = re.compile(r"\(multiple letters\)", re.I)
# the citation of the corrected article at the end of an Embase erratum title, cut off by the export
# ("Erratum: <title> (The Journal of Pediatrics (M")
_TRUNCATED_CITATION = re.compile(r"\s*\((?:the\s+)?[A-Z][^()]*(?:\([^()]*)?$")
_GROUP = re.compile(r"group|study|trial|investigator|consortium|committee|society|collaborat|network|"
                    r"\binc\b|\bltd\b|pharmaceutical|association|organi[sz]ation|institute", re.I)
_LANGUAGES = {"chinese", "german", "french", "spanish", "polish", "japanese", "russian", "italian", "swedish",
              "romanian", "portuguese", "dutch", "danish", "norwegian", "finnish", "czech", "hungarian", "turkish",
              "korean", "hebrew", "greek", "croatian", "serbian", "slovak", "slovenian", "ukrainian", "persian",
              "arabic", "lithuanian", "bulgarian", "english", "catalan", "icelandic", "estonian", "latvian"}
_LINK = re.compile(r"(?:\b(?:19|20)\d\d\b[^;\]]*;\s*(\d+)\s*(?:\(([^)]*)\))?\s*:\s*([a-z]?\d+))", re.I)
# CINAHL appends notes to titles after "...": "... includes discussion", "... ...including commentary by X",
# "... Proceedings of the 10th Congress ...", or the citation of the article a letter discusses
# ("... N Engl J Med. 2009 Jan 29;360(5):544-6")
_CINAHL_NOTE = re.compile(r"\s*\.\.\.\s*(?:\.\.\.\s*)?(?:includes? discussion\b|including commentary\b|"
                          r"proceedings of\b|[A-Z][A-Za-z. ]{1,60}\.\s+(?:19|20)\d\d\b[^;]*;\s*\d+).*$")
_PAGE_TOKEN = re.compile(r"[a-z]*(\d+)[a-z]?$", re.I)


def _page_token(token: str) -> str:
    token = token.strip().lower().strip(".")
    if not token:
        return ""
    match = _PAGE_TOKEN.match(token)  # "c37", "s33", "viii108", "e12724", "811a"
    if match:
        return str(int(match.group(1)))
    return token


def page_parts(pages: str) -> tuple[str, str, frozenset]:
    """(first page, last page, all start pages) of a pages string; multi-range strings such as
    ``230-5, 246-51`` or ``233-238+230-235`` give several start pages."""
    if not pages:
        return "", "", frozenset()
    ranges = [r for r in re.split(r"[,;+]|\band\b", pages) if re.search(r"\d", r)]
    starts, first, last = set(), "", ""
    for k, rng in enumerate(ranges):
        parts = re.split(r"\s*[-\u2010-\u2015]+\s*", rng.strip(), maxsplit=1)
        start = _page_token(parts[0].split()[0] if parts[0].split() else "")
        end = _page_token(parts[1].split()[0]) if len(parts) == 2 and parts[1].split() else ""
        if end and start.isdigit() and end.isdigit() and len(end) < len(start):
            end = start[: len(start) - len(end)] + end
        if start and any(ch.isdigit() for ch in start):
            starts.add(start)
        if k == 0:
            first, last = start, end
    return first, last, frozenset(starts)


class Features:
    __slots__ = ("index", "tkey", "akey", "words", "year", "surnames", "fa", "volume", "ps", "pe",
                 "jkey", "doi", "pmid", "notice", "abstract_mark", "translated", "has_title", "pstarts",
                 "fa_tokens", "fa_initials", "group_author", "links", "eloc", "letters", "coauthors",
                 "has_coordinates", "erratum_at", "issue", "pprefix", "jalts", "record", "_mkey", "_prange")

    def __init__(self, index: int, record: dict):
        self.index = index
        title = record.get("title")
        core, notice, abstract_mark, translated, links, erratum_at = split_title(title)
        self.links = links
        self.erratum_at = erratum_at
        # Embase's "(multiple letters)": one record for a letter and the replies printed after it
        self.letters = bool(title) and bool(_MULTIPLE_LETTERS.search(title))
        self.tkey = nz.title_key(core)
        self.akey = abbreviated_key(core)
        self.words = self.tkey.split()
        self.has_title = bool(self.tkey)
        self.notice = notice
        self.abstract_mark = abstract_mark
        self.translated = translated
        year = record.get("year")
        self.year = int(year) if isinstance(year, int) or (isinstance(year, str) and year.isdigit()) else None
        self.surnames = [s for s in (nz.surname(a) for a in (record.get("authors") or [])[:12]) if s]
        self.fa = self.surnames[0] if self.surnames else ""
        first_author = nz.fold((record.get("authors") or [""])[0] or "")
        self.fa_tokens = {t for t in re.split(r"[^a-z]+", first_author) if len(t) >= 3}
        given = first_author.split(",", 1)[1] if "," in first_author else ""
        self.fa_initials = "".join(t[0] for t in re.split(r"[^a-z]+", given) if t)
        self.group_author = bool(_GROUP.search(first_author))
        self.coauthors = frozenset(self.surnames[1:6])
        self.record = record          # for the features computed on demand (mkey, prange)
        self._mkey = self._prange = None
        # damaged volume fields ("1)", "3 SUPPL. 1", "12(3)") compare as the clean volume; an issue number
        # found in the volume field stands in for a missing issue
        vol = record.get("volume") or ""
        if vol.isdigit():
            self.volume, vol_issue = str(int(vol)), ""
        else:
            self.volume, vol_issue = nz.volume_parts(vol)
        pages = record.get("pages") or ""
        issue = str(record.get("issue") or "").strip() or vol_issue
        if not self.volume and issue.isdigit() and re.fullmatch(r"[1-9]\d?", pages.strip()):
            # Fields shifted left (some Embase conference records): volume empty, the volume in the issue
            # field and the issue in the pages field ("", "26", "9" for volume 26, issue 9, page 1746).
            self.volume, issue, pages = str(int(issue)), pages.strip(), ""
            self._prange = ()
        self.ps, self.pe, self.pstarts = page_parts(pages)
        # the letters before the first page ("S" of a supplement, "e" of an e-page): page numbers are
        # comparable only within one series
        self.pprefix = (re.match(r"\s*([a-z]*)", pages, re.I).group(1) or "").lower()
        self.issue = str(int(issue)) if issue.isdigit() else ""   # "Suppl. 1", "1-2": not comparable
        self.eloc = bool(re.match(r"\s*[a-z]\d{3,}", pages, re.I))  # e12724, a1754, c1804
        self.jkey = journal_tokens(record.get("journal"))
        self.jalts = journal_alternatives(record.get("journal"))
        doi = record.get("doi") or ""
        if doi and (not doi.startswith("10.") or "%" in doi or doi != doi.lower() or not doi[-1].isalnum()):
            doi = nz.find_doi(doi) or doi   # records not read by livingmeta's parsers: one form of the DOI
        self.doi = doi
        self.pmid = record.get("pmid") or ""
        self.has_coordinates = bool(self.jkey or self.volume or self.ps)

    @property
    def mkey(self) -> str:
        """The title key of the part before a subtitle (``:``, `` - ``), to match a record that dropped the
        subtitle; ``""`` when there is none (computed on demand: rarely needed)."""
        if self._mkey is None:
            self._mkey = main_title_key(split_title(self.record.get("title"))[0]) if self.tkey else ""
        return self._mkey

    @property
    def prange(self) -> tuple[str, int, int] | None:
        """:func:`page_range` of the record's pages (computed on demand)."""
        if self._prange is None:
            pages = self.record.get("pages") or ""
            self._prange = page_range(pages) or ()
        return self._prange or None


_SUBTITLE = re.compile(r"\s*(?::|\s[-\u2013\u2014]\s|\?\s)")


def main_title_key(title: str) -> str:
    """The title key of the part before the first subtitle separator (``Title: subtitle``, ``Title - subtitle``,
    ``Title? Subtitle``); ``""`` when the title has none. A record that dropped the subtitle has this as
    its whole title key."""
    match = _SUBTITLE.search(title or "")
    if not match or match.start() == 0:
        return ""
    return nz.title_key(title[: match.start()])


_ROMAN = re.compile(r"^[ivxlc]+$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def _roman(token: str) -> int:
    total, previous = 0, 0
    for ch in reversed(token):
        value = _ROMAN_VALUES[ch]
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    return total


def page_range(pages: str) -> tuple[str, int, int] | None:
    """(page series, first, last) of the first range of a pages field, as numbers: arabic pages with their
    letter prefix as the series (``S12-S15`` -> ("s", 12, 15)), roman pages (the front matter where
    editorials are printed: ``iii-vi`` -> ("roman", 3, 6)); ``None`` when the field is missing or not a
    plain range (article numbers, ``12a``, fragments are judged by :func:`dedup._pages`)."""
    if not pages:
        return None
    parts = re.split(r"\s*[-\u2010-\u2015]+\s*", re.split(r"[,;+]", pages.strip().lower())[0].strip(), maxsplit=1)
    values = []
    series = None
    for part in parts:
        part = part.strip().rstrip(".")
        match = re.fullmatch(r"([a-z]{0,2})(\d{1,6})", part)
        if match:
            kind, value = match.group(1), int(match.group(2))
        elif _ROMAN.match(part) and len(part) <= 8:
            kind, value = "roman", _roman(part)
        else:
            return None
        if series is not None and kind != series and not (kind == "" and series != "roman"):
            return None  # "S12-13" is ("s", 12, 13); "iii-12" is no range
        series = series if series is not None else kind
        values.append(value)
    if len(values) == 2 and values[1] < values[0]:
        low, high = str(values[0]), str(values[1])       # "1234-56": abbreviated last page
        values[1] = int(low[: len(low) - len(high)] + high) if len(high) < len(low) else values[0]
        if values[1] < values[0]:
            return None
    return series, values[0], values[-1]


_ABBREVIATION = re.compile(r"\(([A-Za-z][A-Za-z0-9-]{1,9})\)")
_WORD = re.compile(r"[A-Za-z0-9]+")


def defined_abbreviations(title: str) -> list[tuple[int, int, int, str]]:
    """The abbreviations a title defines, as ``(start of the expansion, start of "(", end of ")",
    abbreviation)``: ``Atypical Hemolytic Uremic Syndrome (aHUS)``. The abbreviation's letters must be the
    initials of the words before it."""
    if not title or "(" not in title:
        return []
    out = []
    for match in _ABBREVIATION.finditer(title):
        letters = match.group(1).replace("-", "").lower()
        starts = [w.start() for w in _WORD.finditer(title, 0, match.start())]
        k = len(letters)
        if len(starts) < k or not letters.isalpha():
            continue
        words = _WORD.findall(title[starts[-k]:match.start()])
        if "".join(w[0].lower() for w in words) == letters:
            out.append((starts[-k], match.start(), match.end(), match.group(1)))
    return out


def abbreviated_key(title: str) -> str:
    """The title key with every abbreviation defined in the title in place of its expansion
    (``... Atypical Hemolytic Uremic Syndrome (aHUS)`` -> ``... ahus``), so that a title that spells the
    term out and defines it compares with one that uses only the abbreviation; ``""`` when the title
    defines none."""
    defined = defined_abbreviations(title)
    if not defined:
        return ""
    out = title
    for start, _, end, abbreviation in reversed(defined):
        out = out[:start] + abbreviation + out[end:]
    return nz.title_key(out)


def strip_annotations(text: str) -> tuple[str, list[str]]:
    """Remove trailing ``[...]`` annotations (nested brackets allowed; a truncated last one too)."""
    notes = []
    for _ in range(6):
        t = text.rstrip().rstrip(".").rstrip()
        if t.endswith("]"):
            depth, k = 0, len(t) - 1
            while k >= 0:
                if t[k] == "]":
                    depth += 1
                elif t[k] == "[":
                    depth -= 1
                    if depth == 0:
                        break
                k -= 1
            if k <= 0:
                break
            notes.append(t[k + 1:-1])
            text = t[:k]
        else:
            k = t.rfind("[")
            if k > 0 and "]" not in t[k:] and t[k - 1] in ". " and len(t) - k < 80:
                notes.append(t[k + 1:])
                text = t[:k]
            else:
                break
    return text.rstrip(" ."), notes


def split_title(title: str | None) -> tuple[str, str | None, bool, bool, tuple, tuple]:
    """(title without annotations, notice kind, conference-abstract marker, title is a translation,
    links, erratum_at) where links are the (volume, first page) of errata named in the title: MEDLINE's
    ``[Erratum appears in J. 2009 Jun 4;360(23):2487]`` on the article, or an erratum's
    ``(vol 360, pg 542, 2009)`` / ``(Journal (2009) 360 (542-544))`` naming the article it corrects;
    erratum_at are the (volume, issue, first page) of the errata the article's own record names
    (MEDLINE's annotation only; issue ``""`` when not given)."""
    if not title:
        return "", None, False, False, (), ()
    links, erratum_at = [], []
    text = title.strip().strip('"').strip()
    notice = None
    abstract_mark = False
    translated = False
    text, notes = strip_annotations(text)
    text = _CINAHL_NOTE.sub("", text)
    for note in notes:
        note = note.strip().lower()
        if _ABSTRACT_MARK.match(note):
            abstract_mark = True
        elif set(re.split(r"[^a-z]+", note)) & _LANGUAGES:
            translated = True
        elif "erratum" in note:
            for vol, issue, page in _LINK.findall(note):
                links.append((str(int(vol)), _page_token(page)))
                issue = issue.strip()
                if "appears in" not in note:
                    continue  # "[Erratum for: ...]" is on the erratum and names the article
                erratum_at.append((str(int(vol)), str(int(issue)) if issue.isdigit() else "", _page_token(page)))
    text = re.sub(r"\s*\((?:multiple letters|letter|abstract|structured abstract)\)\s*(\[\d+\])?\s*$", "", text,
                  flags=re.I)
    text = re.sub(r"\s*\((?:struct|structured)[^()]*$", "", text, flags=re.I)  # truncated "(Structured abstract)"
    wos = _WOS_ERRATUM.search(text)
    if wos:
        notice = "erratum"
        vp = re.search(r"vol\.?\s*(\d+)\D+pg\.?\s*([a-z]?\d+)", wos.group(0), re.I)
        if vp:
            links.append((str(int(vp.group(1))), _page_token(vp.group(2))))
        text = text[: wos.start()].rstrip()
    embase = _EMBASE_ERRATUM.search(text)
    if embase:
        notice = "erratum"
        links.append((str(int(embase.group(1))), _page_token(embase.group(2))))
        text = text[: embase.start()].rstrip()
    if text.startswith("[") and text.rstrip(".").endswith("]"):
        translated = True
        text = text.rstrip(".")[1:-1]
    for kind, pattern in _NOTICE_PREFIX:
        match = pattern.match(text)
        if match:
            notice = notice or kind
            if kind in ("erratum", "retraction"):  # "Erratum: <title of the article>"
                text = text[match.end():].lstrip(" :.-–") or text
                cut = _TRUNCATED_CITATION.search(text)
                if cut and cut.start() > 20:
                    text = text[: cut.start()]
            break
    if notice is None and _NOTICE_SUFFIX.search(text):
        notice = "reply" if re.search(r"reply|response", text[-20:], re.I) else "erratum"
    return text, notice, abstract_mark, translated, tuple(links), tuple(erratum_at)


_J_STOP = {"the", "of", "and", "for", "in", "on", "a", "an", "de", "la", "le", "et", "und", "der", "das", "y",
           "d", "l"}


def journal_tokens(journal: str | None) -> tuple[str, ...]:
    if not journal:
        return ()
    text = nz.fold(journal).replace("&", " ")
    text = re.sub(r"\[[^\]]*\]", " ", text)                            # [Electronic Resource]
    text = re.split(r"\bconference\b|\bmeeting\b|\bcongress\b|\bsymposium\b|\(|=|:", text)[0]
    text = re.sub(r"\..*$", "", text) if re.search(r"[a-z]{3}\.[a-z]{3}", text) else text  # "x.journal y"
    tokens = [t for t in re.split(r"[^a-z0-9]+", text) if t and t not in _J_STOP]
    return tuple(tokens)


def journal_alternatives(journal: str | None) -> tuple[tuple[str, ...], ...]:
    """The other names of a journal given as ``Title = Title = English title`` (MEDLINE's parallel titles:
    ``Ai zheng = Aizheng = Chinese journal of cancer``), as tokens; ``()`` for a single name."""
    if not journal or "=" not in journal:
        return ()
    names = (journal_tokens(part) for part in journal.split("=")[1:])
    return tuple(n for n in names if n)


def _abbreviates(x: str, y: str) -> bool:
    """One journal-title word abbreviates the other: truncation (``Med`` / ``Medizinische``) or, as ISO 4
    also allows, contraction (``Dtsch`` / ``Deutsche``, ``Natl`` / ``National``): the same first letter,
    then the letters of the short word in order."""
    if x.startswith(y) or y.startswith(x):
        return True
    short, long_ = (x, y) if len(x) < len(y) else (y, x)
    if len(short) < 3 or short[0] != long_[0] or short.isdigit() or long_.isdigit():
        return False
    letters = iter(long_[1:])
    return all(c in letters for c in short[1:])


def journals_compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool | None:
    """True if one journal name is the other or its abbreviation (``N Engl J Med`` ~ ``New England
    Journal of Medicine``); None when either is unknown."""
    if not a or not b:
        return None
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    # every token of the short form abbreviates a token of the long form, in order
    j = 0
    for tok in short:
        while j < len(long_) and not _abbreviates(tok, long_[j]):
            j += 1
        if j == len(long_):
            break
        j += 1
    else:
        return True
    return "".join(a) == "".join(b)
