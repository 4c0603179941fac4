"""BibTeX / BibLaTeX exports (``.bib``).

Read with a small brace-matching reader here rather than ``bibtexparser``: bibtexparser 1.x silently
skips an entry it cannot parse (the review would lose a record without a word) and 2.x is still a
pre-release; neither is a dependency yet. The reader handles ``@string`` macros, ``#`` concatenation,
``{...}`` and ``"..."`` values, ``@comment``/``@preamble``, entries in ``(...)``, and turns the common
LaTeX accents and escapes into Unicode. An entry with unbalanced braces is reported with its line.

Field choices: title ``title``; authors ``author`` split at top-level `` and ``; year ``year`` else
``date``; journal ``journal`` / ``journaltitle`` / ``booktitle``; ``volume``; issue ``number`` / ``issue``;
``pages``; ``abstract``; ``keywords`` split at ``,`` or ``;``; ``doi``; ``pmid``; ``pmcid``; type = entry type.
"""

from __future__ import annotations

import re
import unicodedata

from livingmeta.records import normalise as nz
from livingmeta.records.entry import Entry

_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_NEXT_ENTRY = re.compile(r"(?:^|(?<=[\r\n]))[ \t]*@\s*[A-Za-z]+\s*[{(]")   # an entry at the start of a line
_STRAY_FIELD = re.compile(r"(?:^|(?<=[\r\n]))[ \t]*((?:title|author|year|journal|doi|abstract)\s*=\s*[{\"]\S*)",
                          re.I)
_BARE = re.compile(r"[^\s,#}]+")
_MONTHS = {m: m.capitalize() for m in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec")}
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "r": "\u030a",
            "k": "\u0328"}
_SPECIAL = {"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "aa": "å", "AA": "Å", "l": "ł", "L": "Ł",
            "oe": "œ", "OE": "Œ", "i": "ı"}


def latex_to_text(value: str) -> str:
    text = value
    text = re.sub(r"\\([`'^\"~=.])\s*\{?\\?([A-Za-z])\}?",
                  lambda m: m.group(2) + _ACCENTS[m.group(1)], text)
    text = re.sub(r"\\([uvHcrk])\s*\{\\?([A-Za-z])\}|\\([uvHcrk])\s+\\?([A-Za-z])",
                  lambda m: (m.group(2) or m.group(4)) + _ACCENTS[m.group(1) or m.group(3)], text)
    text = re.sub(r"\\(ss|ae|AE|aa|AA|oe|OE|[oOlLi])(?![A-Za-z])\s*", lambda m: _SPECIAL[m.group(1)], text)
    text = re.sub(r"\\([&%$#_{}])", r"\1", text)
    text = text.replace("---", "\u2014").replace("--", "\u2013").replace("~", " ")
    text = re.sub(r"\\[A-Za-z]+\s*", "", text)  # other commands (\textit, \emph): keep their argument
    text = text.replace("{", "").replace("}", "")
    return unicodedata.normalize("NFC", text)


def _read_value(body: str, i: int, macros: dict) -> tuple[str, int]:
    """One value (with ``#`` concatenation) starting at ``body[i]``; returns (raw text, next index)."""
    parts = []
    n = len(body)
    while True:
        while i < n and body[i].isspace():
            i += 1
        if i >= n:
            break
        ch = body[i]
        if ch == "{":
            depth, j = 0, i
            while j < n:
                if body[j] == "\\":
                    j += 2
                    continue
                if body[j] == "{":
                    depth += 1
                elif body[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            parts.append(body[i + 1:j])
            i = j + 1
        elif ch == '"':
            depth, j = 0, i + 1
            while j < n and not (body[j] == '"' and depth == 0 and body[j - 1] != "\\"):
                depth += body[j] == "{"
                depth -= body[j] == "}"
                j += 1
            parts.append(body[i + 1:j])
            i = j + 1
        else:
            match = _BARE.match(body, i)
            token = match.group(0) if match else ""
            i += len(token)
            low = token.lower()
            parts.append(macros.get(low, _MONTHS.get(low, token)))
        while i < n and body[i].isspace():
            i += 1
        if i < n and body[i] == "#":
            i += 1
            continue
        break
    return "".join(parts), i


_FIELD = re.compile(r"\s*,?\s*([A-Za-z][\w\-:.]*)\s*=\s*")


def _fields(body: str, macros: dict, problems: list[str] | None = None) -> dict[str, str]:
    """``name = value`` pairs of an entry body; what cannot be read (and a repeated field) is reported in
    ``problems``."""
    out: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        match = _FIELD.match(body, i)
        if not match:
            rest = body[i:].strip()
            if rest and problems is not None:
                after = f"after field {name!r}" if out else "at the start of the entry"
                problems.append(f"text {after} is not a 'name = value' field: {rest[:40]!r} "
                                "(it and any field after it are not read)")
            break
        name = match.group(1).lower()
        value, i = _read_value(body, match.end(), macros)
        if name in out:
            if problems is not None:
                problems.append(f"field {name!r} is given twice (the first value is used)")
        else:
            out[name] = value
        while i < n and body[i] in ", \t\r\n":
            i += 1
    return out


def split_entries(text: str, file_problems: list[str] | None = None
                  ) -> list[tuple[str, str, int, list[str], int]]:
    """(entry type, body, first line, problems, last line) for each ``@type{...}`` in the text (``@string``
    etc. included). Text between entries is a comment in BibTeX; if it holds ``name = {value}`` fields (an
    entry whose ``@type{key,`` line is damaged), they are reported in ``file_problems``."""
    out = []
    pos = 0
    starts = nz.line_starts(text)

    def check_between(begin: int, end: int):
        if file_problems is None:
            return
        gap = text[begin:end]
        match = _STRAY_FIELD.search(gap)
        if match:
            line = nz.line_at(starts, begin + match.start(1))
            after = f"after entry on line {out[-1][2]}" if out else "before the first entry"
            file_problems.append(f"line {line} ({after}): {match.group(1).strip()[:40]!r} looks like a field "
                                 "outside any entry (a damaged '@type{key,' line?): not read")

    while True:
        match = _ENTRY_START.search(text, pos)
        if not match:
            check_between(pos, len(text))
            break
        check_between(pos, match.start())
        kind, opener = match.group(1).lower(), match.group(2)
        # an entry ends at its closing brace; one that is not closed before the next entry that starts a
        # line runs up to it (so that one unbalanced brace costs one entry, and reading stays linear)
        nxt = _NEXT_ENTRY.search(text, match.end())
        n = nxt.start() if nxt else len(text)
        brace, j, closed = 0, match.end(), False
        while j < n:
            ch = text[j]
            if ch == "\\":
                j += 2
                continue
            if ch == "{":
                brace += 1
            elif ch == "}":
                if brace == 0 and opener == "{":
                    closed = True
                    break
                brace -= 1
            elif ch == ")" and brace == 0 and opener == "(":
                closed = True
                break
            j += 1
        problems = []
        if closed:
            body, pos = text[match.end():j], j + 1
        else:
            body, pos = text[match.end():n], n
            problems.append(f"unbalanced braces in the entry starting on line {nz.line_at(starts, match.start())}"
                            " (it is read up to the next entry or the end of the file)")
        out.append((kind, body, nz.line_at(starts, match.start()), problems,
                    nz.line_at(starts, max(pos - 1, match.start()))))
    return out


def bibtex_values(kind: str, fields: dict[str, str]) -> dict:
    f = {k: latex_to_text(v).strip() for k, v in fields.items()}
    authors = [a.strip() for a in re.split(r"\s+and\s+", _protect_and(fields.get("author", "")))
               if a.strip()]
    authors = [latex_to_text(a.replace("\x00", " and ")).strip() for a in authors]
    keywords = [k.strip() for k in re.split(r"[;,]", f.get("keywords", f.get("keyword", ""))) if k.strip()]
    return {
        "type": kind,
        "title": f.get("title"),
        "authors": authors,
        "year": f.get("year") or f.get("date"),
        "journal": f.get("journal") or f.get("journaltitle") or f.get("booktitle"),
        "volume": f.get("volume"),
        "issue": f.get("number") or f.get("issue"),
        "pages": f.get("pages"),
        "abstract": f.get("abstract"),
        "keywords": keywords,
        "doi": f.get("doi") or (f.get("url") if "doi.org/10." in f.get("url", "") else None),
        "pmid": f.get("pmid"),
        "pmcid": f.get("pmcid"),
        "language": f.get("language"),
    }


def _protect_and(value: str) -> str:
    """Hide `` and `` inside braces (``{Smith and Sons}`` is one corporate author)."""
    out, depth = [], 0
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if depth > 0 and value[i:i + 5].lower() == " and ":
            out.append("\x00")
            i += 5
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse(text: str, file_problems: list[str] | None = None) -> list[Entry]:
    """The entries of a BibTeX text (``@string`` macros applied); problems outside any entry (and in
    ``@string`` definitions) go to ``file_problems``."""
    macros: dict[str, str] = {}
    entries = []
    position = 0
    for kind, body, line, problems, end_line in split_entries(text, file_problems):
        if kind == "comment" or kind == "preamble":
            continue
        if kind == "string":
            string_problems = list(problems)
            macros.update({k: latex_to_text(v) for k, v in _fields(body, macros, string_problems).items()})
            if file_problems is not None:
                file_problems.extend(f"@string on line {line}: {p}" for p in string_problems)
            continue
        position += 1
        problems = list(problems)
        key, comma, rest = body.partition(",")
        if not comma or "=" in key:
            problems.append(f"entry on line {line} has no citation key")
            rest = body if "=" in key else rest
        fields = _fields(rest, macros, problems)
        if not fields:
            problems.append(f"entry on line {line} has no fields")
        entries.append(Entry(position, bibtex_values(kind, fields), problems, line, end_line))
    return entries


def looks_like(head: str) -> bool:
    return bool(re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", head, re.M))
