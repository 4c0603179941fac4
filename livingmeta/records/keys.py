"""Stable record keys: what screening and deduplication decisions name a record by.

A record's position in its export file is not a property of the paper: the same search saved again, in
another sort order, puts every record at another position. Decisions that named ``<source>:<export>:
<position>`` moved onto other papers when an export was re-saved. From the deduplicated library on
(``results/records/dedup.json``) a record is therefore named by a key made of its identifiers and
content (docs/architecture.md, "Records: ids"):

``<source>:<export name>:<key>``, e.g. ``pubmed:2025-06-30:pmid-39912345`` or
``embase:2025-06-30:doi-10.1016/j.actbio.2024.01.002``

The key of a record is, in this order of precedence:

1. ``pmid-<PMID>`` (digits, leading zeros removed) when the record has a PubMed id;
2. ``doi-<DOI>`` when it has a DOI: lower case, without ``https://doi.org/``, ``doi:`` and trailing
   punctuation;
3. ``pmc-<PMCID>`` (``PMC`` + digits, upper case) when it has a PubMed Central id;
4. ``t-<12 hex digits>``: the first 12 hex digits of the SHA-1 of ``<title>|<year>|<first author's
   surname>``, each normalised by :func:`norm_text` (Unicode NFKD, accents removed, lower case, every run of
   characters other than ASCII letters and digits turned into one space, trimmed). A record without
   title, year and author gets the hash of ``||``.

(The record model of the parsers has no other database accession numbers yet (Embase ``AN``, WoS
``UT``, Scopus EID); when it gains them, they slot in after the PMC id, before the hash.)

Collisions. Two records of one export (same source and export name) with the same key are told apart by
appending ``~`` and the first 8 hex digits of the SHA-1 of their whole content (every bibliographic
field of the record model, in JSON with sorted keys; not the position, file or id), so that each keeps
its key when the export is reordered. Records whose content is identical too get ``~<hash>-1``,
``~<hash>-2``, ... in export order: they are the same paper with the same data, so a decision stays on
that paper whichever copy it names (deduplication merges them anyway). A decision that names the plain
key (``pmid-...``) of a record whose key had to be extended is reported as ambiguous, never guessed.

The normalisation here is frozen on purpose (it does not reuse :mod:`livingmeta.records.normalise`,
whose title keys serve deduplication and may improve): a change would rename every record without a
PMID, DOI or PMC id. Change it only together with a converter for decision files.

Aliases. A re-export can add an identifier to a record (a PubMed id to an Embase record indexed since),
which changes its key. A decision naming ``<source>:<export>:<k>`` where ``k`` is any of the record's
keys that would apply (its ``pmid-``, ``doi-``, ``pmc-`` and ``t-`` forms) still finds it, when exactly
one record of that export has that alias (:func:`alias_keys`).

Position ids (``<source>:<export>:<position>``, the ids of decision files written before stable keys)
are not accepted by screening and deduplication: whether position 3 is still the paper the reviewer
saw cannot be known. :func:`convert_decision_file` (``python -m livingmeta.records.keys convert
REVIEW_DIR FILE.csv OUT.csv``) writes a copy of a decision file with stable ids, using the export files
as they are now, and lists each conversion with the record's title for a reviewer to check; the
original file is never modified.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from livingmeta.errors import ReviewInputError

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_POSITION_ID = re.compile(r"^(?P<source>[^:]+):(?P<export>.+):(?P<position>\d+)$")
# the bibliographic fields that make a record's content (livingmeta.records.model.Record, minus
# record_id, file, position and format, which describe where the record was read, not the paper)
CONTENT_FIELDS = ("source", "export", "database", "type", "doi", "pmid", "pmcid", "title", "authors", "year",
                  "journal", "volume", "issue", "pages", "abstract", "keywords", "language")


_KEY_SEGMENT = re.compile(r":(?:pmid|doi|pmc|t)-")


def looks_like_position_id(given: str) -> bool:
    """``<source>:<export>:<digits>`` without a key segment (``:pmid-``, ``:doi-``, ``:pmc-``, ``:t-``)."""
    return bool(_POSITION_ID.match(given)) and not _KEY_SEGMENT.search(given)


def norm_text(value) -> str:
    """Frozen normalisation for hashed keys: NFKD, accents dropped, lower case, non-alphanumerics -> one
    space."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NON_ALNUM.sub(" ", text).strip()


def norm_pmid(value) -> str:
    digits = re.sub(r"\D", "", str(value or ""))
    return digits.lstrip("0") if digits.strip("0") else ""


def norm_doi(value) -> str:
    text = str(value or "").strip().lower()
    text = re.sub(r"^(?:https?://)?(?:dx\.)?doi\.org/", "", text)
    text = re.sub(r"^doi:\s*", "", text)
    text = re.sub(r"\s+", "", text).rstrip(".,;")
    return text if text.startswith("10.") and "/" in text else ""


def norm_pmcid(value) -> str:
    digits = re.sub(r"\D", "", str(value or ""))
    return f"PMC{digits.lstrip('0')}" if digits.strip("0") else ""


_INITIALS = re.compile(r"(?:[A-Z]\.?-?){1,4}")


def _surname(author) -> str:
    """``Liu, R.`` / ``Liu R`` / ``Adler DG`` -> the surname; ``Waleed Brinjikji`` -> the last word."""
    text = str(author or "").strip()
    if "," in text:
        name = text.split(",", 1)[0]
    else:
        parts = text.split()
        dropped = False
        while len(parts) > 1 and _INITIALS.fullmatch(parts[-1]):
            parts.pop()
            dropped = True
        name = " ".join(parts) if dropped or len(parts) < 2 else parts[-1]
    return norm_text(name).replace(" ", "")


def content_hash(record: dict, length: int = 12) -> str:
    """``t-`` key digest: SHA-1 of normalised title | year | first author's surname."""
    authors = record.get("authors") or []
    first = authors[0] if isinstance(authors, list) and authors else (authors if isinstance(authors, str) else "")
    year = record.get("year")
    basis = f"{norm_text(record.get('title'))}|{'' if year is None else str(year).strip()}|{_surname(first)}"
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:length]


def full_content_hash(record: dict) -> str:
    """Digest of every bibliographic field (collision suffix)."""
    data = {k: record.get(k) for k in CONTENT_FIELDS}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def alias_keys(record: dict) -> list[str]:
    """Every key form of a record, in precedence order (the first is its base key)."""
    out = []
    pmid = norm_pmid(record.get("pmid"))
    if pmid:
        out.append(f"pmid-{pmid}")
    doi = norm_doi(record.get("doi"))
    if doi:
        out.append(f"doi-{doi}")
    pmc = norm_pmcid(record.get("pmcid"))
    if pmc:
        out.append(f"pmc-{pmc}")
    out.append(f"t-{content_hash(record)}")
    return out


def base_key(record: dict) -> str:
    return alias_keys(record)[0]


def stable_id(source: str, export: str, key: str) -> str:
    return f"{source}:{export}:{key}"


def assign_keys(records: list[dict]) -> list[str]:
    """The keys of the records of ONE export (same source and export name), in the given order, with
    collisions resolved as the module docstring says. The result does not depend on the records' order
    except for records with identical content (interchangeable)."""
    base = [base_key(r) for r in records]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(base):
        groups[k].append(i)
    keys = list(base)
    for k, members in groups.items():
        if len(members) < 2:
            continue
        by_hash: dict[str, list[int]] = defaultdict(list)
        for i in members:
            by_hash[full_content_hash(records[i])].append(i)
        for h, same in by_hash.items():
            if len(same) == 1:
                keys[same[0]] = f"{k}~{h}"
            else:
                same.sort(key=lambda i: (int(records[i].get("position") or 0), i))
                for n, i in enumerate(same, start=1):
                    keys[i] = f"{k}~{h}-{n}"
    return keys


def assign_stable_ids(parsed: Iterable[dict]) -> dict[str, str]:
    """Give every record of the parsed exports (``results/records/parsed/*.json`` documents, changed in
    place) its stable id: ``record["position_id"]`` keeps the parser's ``<source>:<export>:<position>``
    id, ``record["key"]`` is the key and ``record["record_id"]`` becomes ``<source>:<export>:<key>``.
    Returns {position id: stable id}."""
    mapping: dict[str, str] = {}
    for export in parsed:
        recs = export.get("records") or []
        by_export: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in recs:
            by_export[(str(r.get("source") or export.get("source") or ""),
                       str(r.get("export") or export.get("export") or ""))].append(r)
        for (source, name), members in by_export.items():
            for r, key in zip(members, assign_keys(members)):
                old = str(r.get("position_id") or r.get("record_id") or "")
                r["position_id"] = old
                r["key"] = key
                r["record_id"] = stable_id(source, name, key)
                if old:
                    mapping[old] = r["record_id"]
    return mapping


# --------------------------------------------------------------------------------------------------
# resolving ids named in decision files


class IdResolver:
    """Finds the record a decision names: its stable id, or an alias key within the same export.

    ``records``: dicts with ``record_id`` (stable), ``source``, ``export`` and optionally
    ``position_id`` (dedup.json records)."""

    def __init__(self, records: Iterable[dict]):
        self.ids: set[str] = set()
        self.alias: dict[str, list[str]] = defaultdict(list)
        self.base: dict[str, list[str]] = defaultdict(list)
        self.position: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        for r in records:
            rid = str(r["record_id"])
            self.ids.add(rid)
            self.titles[rid] = str(r.get("title") or "")
            src, exp = r.get("source"), r.get("export")
            if src is None or exp is None:
                continue
            prefix = f"{src}:{exp}:"
            for k in alias_keys(r):
                self.alias[prefix + k].append(rid)
            key = str(r.get("key") or "")
            if "~" in key:
                self.base[prefix + key.split("~", 1)[0]].append(rid)
            pos = r.get("position_id")
            if pos and pos != rid:
                self.position[str(pos)] = rid

    def resolve(self, given: str) -> tuple[str | None, str]:
        """(stable id or None, problem text when None)."""
        if given in self.ids:
            return given, ""
        if len(self.base.get(given, [])) > 1:
            return None, (f"'{given}' names {len(self.base[given])} records of that export (they share this key); "
                          f"name one of them: {', '.join(sorted(self.base[given]))}")
        hits = sorted(set(self.alias.get(given, [])))
        if len(hits) == 1:
            return hits[0], ""
        if len(hits) > 1:
            return None, f"'{given}' matches {len(hits)} records of that export: {', '.join(hits)}"
        if given in self.position or looks_like_position_id(given):
            return None, (f"'{given}' is a position id (<source>:<export>:<position>); positions change when an "
                          f"export is saved again in another order, so they are no longer accepted")
        return None, f"unknown record '{given}' (no record of any search export has this id)"

    def is_position_id(self, given: str) -> bool:
        return given not in self.ids and (given in self.position or looks_like_position_id(given))


CONVERT_HINT = ("Convert the file once with `python -m livingmeta.records.keys convert <review folder> <file> "
                "<new file>` (it writes a copy with stable ids and lists each record's title to check), then "
                "replace the file with the copy; copy new ids from results/records/screening_queue.csv.")
UNKNOWN_HINT = ("Record ids are <source>:<export name>:<key> (e.g. pubmed:2025-06-30:pmid-39912345); copy them "
                "from results/records/screening_queue.csv (or dedup_review.csv / dedup.json).")


def position_id_error(given: str, *, file: str, field: str) -> ReviewInputError:
    return ReviewInputError(
        f"'{given}' is a position id (<source>:<export>:<position>); positions change when an export is saved "
        f"again in another order, so decisions name records by a stable key", file=file, field=field,
        hint=CONVERT_HINT)


def resolve_or_error(resolver: IdResolver, given: str, *, file: str, field: str) -> str:
    found, problem = resolver.resolve(given)
    if found is not None:
        return found
    hint = CONVERT_HINT if resolver.is_position_id(given) else UNKNOWN_HINT
    raise ReviewInputError(problem, file=file, field=field, hint=hint)


# --------------------------------------------------------------------------------------------------
# converting decision files written with position ids


ID_COLUMNS = ("record_id", "record_a", "record_b")


def library_of_review(review_dir: str | os.PathLike) -> list[dict]:
    """Parse every export of ``<review_dir>/searches`` and give the records stable ids (slow: parses)."""
    from livingmeta.plan import scan_exports
    from livingmeta.records.ingest import parse_export

    parsed = [parse_export(e.path, source=e.source) for e in scan_exports(Path(review_dir) / "searches")]
    assign_stable_ids(parsed)
    return [r for export in parsed for r in export["records"]]


def convert_decision_file(path: str | os.PathLike, out_path: str | os.PathLike, records: list[dict]) -> list[dict]:
    """Write a copy of a decision file (screening ``record_id`` or duplicates.csv ``record_a,record_b``)
    whose position ids are replaced by stable ids, taking the positions as the export files are NOW.
    Comments, other columns and rows are copied unchanged. Never touches ``path``; refuses to overwrite
    an existing ``out_path``. Returns one ``{row, column, old, new, title}`` per converted id, for a
    reviewer to check that each title is the paper that was decided on."""
    src, dst = Path(path), Path(out_path)
    if dst.exists() or (src.exists() and dst.resolve() == src.resolve()):
        raise ReviewInputError("the output file exists already", file=str(dst),
                               hint="Give a new file name; the original decision file is never modified.")
    from livingmeta.records.csvrows import read_rows

    rows = read_rows(src, str(src))
    resolver = IdResolver(records)
    by_position = {str(r.get("position_id")): r for r in records if r.get("position_id")}
    header_cols = [c.strip().lower() for c in rows.header]
    id_cols = [i for i, c in enumerate(header_cols) if c in ID_COLUMNS]
    if not id_cols:
        raise ReviewInputError("no record_id (or record_a, record_b) column", file=str(src), field="header")
    changes = []
    replaced: dict[int, list[str]] = {}
    for row in rows.rows:
        values = list(row.values)
        for i in id_cols:
            if i >= len(values):
                continue
            given = values[i].strip()
            if not given or given in resolver.ids:
                continue
            rec = by_position.get(given)
            if rec is None:
                found, problem = resolver.resolve(given)
                if found is None:
                    raise ReviewInputError(problem, file=str(src), field=f"row {row.line}: {header_cols[i]}",
                                           hint="Correct or remove this row before converting.")
                continue
            values[i] = rec["record_id"]
            changes.append({"row": row.line, "column": header_cols[i], "old": given, "new": rec["record_id"],
                            "title": rec.get("title") or ""})
        replaced[row.line] = values
    # rewrite line by line: comments and blank lines as they were, data rows re-quoted
    with open(src, encoding="utf-8-sig", newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    out, skip_until = [], 0
    starts = {row.line: row.end_line for row in rows.rows}
    for number, line in enumerate(lines, start=1):
        if number <= skip_until:
            continue
        if number in starts:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(replaced[number])
            out.append(buf.getvalue())
            skip_until = starts[number]
        else:
            out.append(line if line.endswith(("\n", "\r")) else line + "\n")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "x", encoding="utf-8", newline="") as handle:
        handle.write("".join(out))
    return changes


def main(argv: list[str] | None = None) -> int:
    """``python -m livingmeta.records.keys convert REVIEW_DIR FILE.csv OUT.csv``"""
    from livingmeta.scripting import ERROR_PREFIX

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 4 or args[0] != "convert":
        print("usage: python -m livingmeta.records.keys convert REVIEW_DIR DECISIONS.csv NEW.csv", file=sys.stderr)
        return 2
    _, review_dir, path, out = args
    try:
        changes = convert_decision_file(path, out, library_of_review(review_dir))
    except ReviewInputError as err:
        for line in err.format().splitlines():
            print(ERROR_PREFIX + line, file=sys.stderr)
        return 1
    for c in changes:
        print(f"row {c['row']}: {c['old']} -> {c['new']}: {c['title'][:90]}")
    print(f"livingmeta: {len(changes)} id(s) converted -> {out}. Check that each title is the paper that was "
          f"decided on before replacing {path} with it.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
