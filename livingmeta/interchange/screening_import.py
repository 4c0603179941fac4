"""Import screening decisions made in Rayyan, ASReview or Covidence as a livingmeta decision file.

``livingmeta import_screening --from rayyan|asreview|covidence FILE --out OUT.csv`` reads the tool's
standard export, finds each exported record in the review's library (the records of
``review/searches/``, named by their stable ids, :mod:`livingmeta.records.keys`) and writes the decisions
in the format of ``review/screening/*.csv`` (docs/screening.md): ``record_id,reviewer,decision,reason,
role,note``.

Formats read (one CSV file each, UTF-8, first line the header; column names case-insensitive):

* **Rayyan** -- the ``articles`` CSV of a Rayyan export (columns ``key, title, authors, journal, issn,
  volume, issue, pages, year, publisher, url, abstract, notes, doi, keywords ...``). Rayyan writes its own
  data into ``notes`` as ``|``-separated parts: ``RAYYAN-INCLUSION: {"Alice"=>"Included", "Bob"=>
  "Excluded"}`` (each member's decision: Included, Excluded or Maybe), ``RAYYAN-LABELS: a, b``,
  ``RAYYAN-EXCLUSION-REASONS: wrong population`` and ``USER-NOTES: ...`` (help.rayyan.ai, "Understanding
  your Rayyan export files"). Each member's Included/Excluded becomes one row; the exclusion reasons (kept
  per article by Rayyan, not per member) are the reason of the excluding members' rows; labels go to the
  ``note``. Maybe and undecided articles are counted, not imported (not a decision). ``--reviewer``
  imports one member's decisions only.
* **ASReview** -- the dataset exported by ASReview LAB (CSV): the imported columns (``title``, ``abstract``,
  ``authors``, ``doi`` ...) plus ``included`` (1 relevant, 0 irrelevant, empty not screened), rows in
  screening order (labelled records first, in the order they were labelled). ASReview's export names no
  reviewer: ``--reviewer`` is required. The screening order is kept in the ``note``.
* **Covidence** -- the CSV reference export of one Covidence list (``Title, Authors, Abstract, Published
  Year, Published Month, Journal, Volume, Issue, Pages, Accession Number, DOI, Ref, Covidence #, Study,
  Notes, Tags``). That export has no decision column: the list that was exported is the decision
  ("Irrelevant"/"Excluded" or the studies moved on), so ``--decision include|exclude`` is required, and
  ``--reason`` gives the exclusion reason of a full-text "Excluded" list (a row whose ``Notes`` say
  ``Exclusion reason: <reason>;``, as the full-text "Excluded" export writes them, keeps its own reason);
  ``--reviewer`` names who decided
  (default ``Covidence``, the team's consensus list).

Two further forms (not CSV):

* **ASReview project file** (``.asreview``, a zip archive; any zip given with ``--from asreview``): the labels
  of the project's ``results`` table in labelling order, joined to the project's records, project file
  versions 1-3 (ASReview LAB 1.x and 2.x; :mod:`livingmeta.interchange.asreview_project`, which cites
  the layout's source). ``--reviewer`` is required.
* **Covidence RIS export** (``.ris`` or a file starting ``TY  -``, given with ``--from covidence``): the
  same list export as RIS, read with :mod:`livingmeta.records.ris`; ``--decision`` is required as for the
  CSV, an ``N1`` note ``Exclusion reason: <reason>;`` keeps its reason.

Matching an exported record to the library, in this order:

1. **DOI** (normalised as in :func:`livingmeta.records.keys.norm_doi`), 2. **PMID**, then
3. the **deduplication rules**: the pair (exported record, library record) is decided by
   :func:`livingmeta.records.dedup.compare` on the candidate pairs of
   :func:`livingmeta.records.dedup.candidate_pairs`, exactly as deduplication decides whether two search
   records are one article; ``merge`` is a match, ``review`` a possible match.

The library is deduplicated first (:func:`livingmeta.records.dedup.deduplicate`), and a decision names the
record's cluster id (a stable record id; decisions apply to the whole cluster anyway), so a DOI found in
both the PubMed and the Embase export is one match, not two. A record that matches records of more than
one cluster, or only possibly matches (``review``), is **ambiguous**; a record that matches nothing is
**unmatched**; a full-text exclusion without a reason, and one reviewer deciding differently on one
cluster through two exported records, are **conflicts**. None of them is written to OUT and none is
dropped silently: all are printed and written to ``OUT.unmatched.csv`` with the exported row, its title,
identifiers and the candidate records, for a reviewer to decide by hand.

The command refuses to write OUT into the review's ``screening/`` folder: the list of records not imported
would be read as a decision file there; write OUT elsewhere and move it in after checking the list.

Nothing is written unless the whole import succeeds: both files are written to temporary files in the
target folder and renamed at the end; an existing OUT or ``OUT.unmatched.csv`` is never overwritten.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.records.keys import norm_doi, norm_pmid

TOOLS = ("rayyan", "asreview", "covidence")
STAGES = ("title_abstract", "full_text")
OUT_COLUMNS = ("record_id", "reviewer", "decision", "reason", "role", "note")
UNMATCHED_COLUMNS = ("row", "problem", "reviewer", "decision", "reason", "title", "year", "first_author",
                     "doi", "pmid", "candidates")


@dataclass
class Exported:
    """One record of a tool's export with the decisions it carries."""
    row: int                                       # line of the export file (header = 1)
    record: dict                                   # title, authors, year, journal, volume, issue, pages, doi, pmid
    decisions: list[tuple[str, str, str]] = field(default_factory=list)   # (reviewer, decision, reason)
    note: str = ""


@dataclass
class ImportResult:
    rows: list[dict]                               # OUT rows (OUT_COLUMNS)
    problems: list[dict]                           # UNMATCHED_COLUMNS rows
    n_exported: int = 0
    n_undecided: int = 0                           # records without an include/exclude (Maybe, unscreened)
    n_matched: int = 0


# ------------------------------------------------------------------------------------------ reading

def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """(lower-case header, [(line, {column: value})]); one ReviewInputError for unreadable files."""
    if not path.is_file():
        raise ReviewInputError("file not found", file=str(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as err:
        raise ReviewInputError(f"not UTF-8 (byte {err.start})", file=str(path),
                               hint="Export the file again as CSV (UTF-8).") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader, None)
        if not header:
            raise ReviewInputError("the file is empty (no header line)", file=str(path))
        header = [h.strip().lower() for h in header]
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise ReviewInputError(f"{len(values)} values but the header has {len(header)} columns",
                                       file=str(path), field=f"row {reader.line_num}",
                                       hint="Export the file again; do not edit it in a spreadsheet.")
            rows.append((reader.line_num, dict(zip(header, (v.strip() for v in values)))))
    except csv.Error as err:
        raise ReviewInputError(f"not a readable CSV file ({err})", file=str(path),
                               field=f"row {reader.line_num}") from None
    return header, rows


def _require(path: Path, header: list[str], tool: str, needed: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """{role: column name found}; one error naming every missing column."""
    found, missing = {}, []
    for role, names in needed.items():
        name = next((n for n in names if n in header), None)
        if name is None:
            missing.append(" or ".join(names))
        else:
            found[role] = name
    if missing:
        raise ReviewInputError(
            f"missing column(s) {', '.join(missing)}: this is not a {tool} export as livingmeta reads it "
            f"(columns found: {', '.join(header) or 'none'})", file=str(path), field="header",
            hint=f"Export the screening results from {tool} as CSV (docs/screening.md, 'Importing decisions').")
    return found


def _column(header: list[str], *names: str) -> str | None:
    return next((n for n in names if n in header), None)


_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_SURNAME_INITIALS = re.compile(r"^[^\d,;]+\s[A-Z]{1,4}\.?$")


def split_authors(text: str) -> list[str]:
    """``A, B; C`` / ``Smith, J. and Jones, A.`` / ``Smith J, Jones A`` -> list of names."""
    text = (text or "").strip()
    if not text:
        return []
    parts = [p.strip() for p in re.split(r";|\s+and\s+", text) if p.strip()]
    if len(parts) == 1 and "," in text:
        pieces = [p.strip() for p in text.split(",") if p.strip()]
        if len(pieces) > 1 and all(_SURNAME_INITIALS.match(p) for p in pieces):
            parts = pieces  # "Smith J, Jones A" (Vancouver style, one author per comma)
    return parts


def _record(values: dict, cols: dict[str, str | None]) -> dict:
    def get(role):
        name = cols.get(role)
        return values.get(name, "").strip() if name else ""

    match = _YEAR.search(get("year"))
    return {"title": get("title") or None, "authors": split_authors(get("authors")),
            "year": int(match.group(1)) if match else None, "journal": get("journal") or None,
            "volume": get("volume") or None, "issue": get("issue") or None, "pages": get("pages") or None,
            "doi": norm_doi(get("doi")) or None, "pmid": norm_pmid(get("pmid")) or None}


def _bibliographic_columns(header: list[str], **extra) -> dict[str, str | None]:
    cols = {"title": _column(header, "title", "primary_title"),
            "authors": _column(header, "authors", "author"),
            "year": _column(header, "year", "published year", "publication_year"),
            "journal": _column(header, "journal", "secondary_title", "journal_name"),
            "volume": _column(header, "volume"), "issue": _column(header, "issue", "number"),
            "pages": _column(header, "pages"),
            "doi": _column(header, "doi"), "pmid": _column(header, "pmid", "pubmed_id", "pubmed id")}
    cols.update(extra)
    return cols


_RAYYAN_PART = re.compile(r"(RAYYAN-[A-Z-]+|USER-NOTES):\s*")
_RAYYAN_VOTE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*"((?:[^"\\]|\\.)*)"')
RAYYAN_DECISIONS = {"included": "include", "excluded": "exclude", "maybe": None}


def parse_rayyan_notes(notes: str) -> dict[str, str]:
    """``... | RAYYAN-INCLUSION: {...} | RAYYAN-LABELS: x`` -> {prefix: text}; text before the first
    Rayyan prefix (notes the record had when it was imported) is under ``""``."""
    out: dict[str, str] = {}
    matches = list(_RAYYAN_PART.finditer(notes or ""))
    out[""] = (notes[:matches[0].start()] if matches else (notes or "")).strip(" |")
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(notes)
        out[m.group(1)] = notes[m.end():end].strip().rstrip("|").strip()
    return out


def read_rayyan(path: Path, *, reviewer: str | None = None) -> list[Exported]:
    header, rows = _read_csv(path)
    _require(path, header, "Rayyan", {"title": ("title",), "notes": ("notes",)})
    cols = _bibliographic_columns(header)
    out = []
    for line, values in rows:
        parts = parse_rayyan_notes(values.get("notes", ""))
        item = Exported(line, _record(values, cols))
        inclusion = parts.get("RAYYAN-INCLUSION", "")
        if inclusion and not _RAYYAN_VOTE.search(inclusion):
            raise ReviewInputError(f"cannot read the decisions in RAYYAN-INCLUSION: {inclusion[:80]!r}",
                                   file=str(path), field=f"row {line}: notes",
                                   hint='Rayyan writes them as {"Name"=>"Included", "Other"=>"Excluded"}.')
        reasons = "; ".join(r.strip() for r in parts.get("RAYYAN-EXCLUSION-REASONS", "").split(",") if r.strip())
        for name, vote in _RAYYAN_VOTE.findall(inclusion):
            if reviewer is not None and name != reviewer:
                continue
            key = vote.strip().lower()
            if key not in RAYYAN_DECISIONS:
                raise ReviewInputError(f"unknown Rayyan decision {vote!r} of {name!r}", file=str(path),
                                       field=f"row {line}: notes",
                                       hint="Rayyan decisions are Included, Excluded or Maybe.")
            decision = RAYYAN_DECISIONS[key]
            if decision:
                item.decisions.append((name, decision, reasons if decision == "exclude" else ""))
        labels = parts.get("RAYYAN-LABELS", "")
        item.note = f"Rayyan labels: {labels}" if labels else ""
        out.append(item)
    return out


ASREVIEW_LABELS = {"1": "include", "1.0": "include", "0": "exclude", "0.0": "exclude", "": None,
                   "-1": None, "nan": None}


def read_asreview_project(path: Path, *, reviewer: str | None) -> list[Exported]:
    """The labels of an ``.asreview`` project file (:mod:`livingmeta.interchange.asreview_project`); the
    "row" of each record is its labelling order (the project has no file lines)."""
    from livingmeta.interchange.asreview_project import read_project

    if not reviewer:
        raise ReviewInputError("ASReview's project file does not name the reviewer", file=str(path),
                               hint="Give the screener's initials or name with --reviewer.")
    version, labelled = read_project(path)
    header = sorted({c for _o, values, _d in labelled for c in values})
    cols = _bibliographic_columns(header)
    out = []
    for order, values, decision in labelled:
        item = Exported(order, _record(values, cols))
        item.decisions.append((reviewer, decision, ""))
        item.note = f"ASReview screening order {order}"
        out.append(item)
    return out


def _is_asreview_project(path: Path) -> bool:
    import zipfile
    return path.suffix.lower() == ".asreview" or (path.is_file() and zipfile.is_zipfile(path))


def read_asreview(path: Path, *, reviewer: str | None) -> list[Exported]:
    if _is_asreview_project(path):
        return read_asreview_project(path, reviewer=reviewer)
    header, rows = _read_csv(path)
    _require(path, header, "ASReview", {"title": ("title", "primary_title"), "included": ("included",)})
    if not reviewer:
        raise ReviewInputError("ASReview's export does not name the reviewer", file=str(path),
                               hint="Give the screener's initials or name with --reviewer.")
    cols = _bibliographic_columns(header)
    out = []
    order = 0
    for line, values in rows:
        label = values.get("included", "").strip().lower()
        if label not in ASREVIEW_LABELS:
            raise ReviewInputError(f"included is {values.get('included')!r}", file=str(path),
                                   field=f"row {line}: included",
                                   hint="ASReview writes 1 (relevant), 0 (irrelevant) or nothing (not screened).")
        item = Exported(line, _record(values, cols))
        decision = ASREVIEW_LABELS[label]
        if decision:
            order += 1
            item.decisions.append((reviewer, decision, ""))
            item.note = f"ASReview screening order {order}"
        out.append(item)
    return out


_COVIDENCE_REASON = re.compile(r"Exclusion reason:\s*([^;|\n]+)", re.I)


def _need_decision(path: Path, decision: str | None) -> None:
    if decision not in ("include", "exclude"):
        raise ReviewInputError("Covidence's reference export has no decision column", file=str(path),
                               hint="Say which list the file was exported from: --decision include (studies "
                                    "moved on / included) or --decision exclude (irrelevant / excluded).")


def _is_ris(path: Path) -> bool:
    if path.suffix.lower() == ".ris":
        return True
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            head = handle.read(2000)
    except OSError:
        return False
    return bool(re.match(r"\s*TY  -", head))


def read_covidence_ris(path: Path, *, reviewer: str | None, decision: str | None,
                       reason: str | None) -> list[Exported]:
    """Covidence's RIS reference export of one list, read with livingmeta's RIS reader
    (:mod:`livingmeta.records.ris`); like the CSV export it carries no decision, so ``--decision`` is
    required. A note (``N1``) ``Exclusion reason: <reason>;`` keeps its own reason; the Covidence number
    (``Covidence #`` in the CSV export) is kept in the note when the record has one (``ID``/``AN`` tag
    ``#123``)."""
    from livingmeta.records import normalise as nz
    from livingmeta.records.ris import parse_block, ris_values, split_records

    _need_decision(path, decision)
    if not path.is_file():
        raise ReviewInputError("file not found", file=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ReviewInputError(f"not UTF-8 (byte {err.start})", file=str(path),
                               hint="Export the references from Covidence again as RIS.") from None
    blocks = split_records(text, [])
    if not blocks:
        raise ReviewInputError("no RIS record (no line 'TY  - ')", file=str(path),
                               hint="Export the list from Covidence as RIS (or CSV).")
    out = []
    for lines, _problems, first, _last in blocks:
        try:
            tags = parse_block(lines)
        except Exception as err:   # one record rispy cannot read: name it, no traceback
            raise ReviewInputError(f"not readable as RIS ({err})", file=str(path), field=f"line {first}",
                                   hint="Export the list from Covidence again as RIS.") from None
        v = ris_values(tags)
        pages = nz.join_pages(v.get("pages"), v.get("end_page"))
        record = {"title": nz.first(v.get("title")) or None, "authors": nz.as_list(v.get("authors")),
                  "year": nz.find_year(v.get("year")), "journal": nz.first(v.get("journal")) or None,
                  "volume": nz.first(v.get("volume")) or None, "issue": nz.first(v.get("issue")) or None,
                  "pages": pages, "doi": norm_doi(nz.find_doi(v.get("doi")) or "") or None,
                  "pmid": norm_pmid(nz.find_pmid(v.get("pmid")) or "") or None}
        item = Exported(first, record)
        notes = " ".join(nz.as_list(tags.get("N1")))
        found = _COVIDENCE_REASON.search(notes)
        why = found.group(1).strip() if found else (reason or "")
        item.decisions.append((reviewer or "Covidence", decision, why if decision == "exclude" else ""))
        number = next((x for x in nz.as_list(tags.get("ID")) + nz.as_list(tags.get("AN")) if x.startswith("#")), "")
        item.note = f"Covidence {number}".strip()
        out.append(item)
    return out


def read_covidence(path: Path, *, reviewer: str | None, decision: str | None, reason: str | None) -> list[Exported]:
    if path.is_file() and _is_ris(path):
        return read_covidence_ris(path, reviewer=reviewer, decision=decision, reason=reason)
    header, rows = _read_csv(path)
    _require(path, header, "Covidence", {"title": ("title",), "covidence #": ("covidence #", "covidence id")})
    _need_decision(path, decision)
    cols = _bibliographic_columns(header)
    number = _column(header, "covidence #", "covidence id")
    out = []
    for line, values in rows:
        item = Exported(line, _record(values, cols))
        found = _COVIDENCE_REASON.search(values.get("notes", ""))
        why = found.group(1).strip() if found else (reason or "")
        item.decisions.append((reviewer or "Covidence", decision, why if decision == "exclude" else ""))
        item.note = f"Covidence {values.get(number, '')}".strip()
        out.append(item)
    return out


def read_export(tool: str, path: str | os.PathLike, *, reviewer: str | None = None, decision: str | None = None,
                reason: str | None = None) -> list[Exported]:
    path = Path(path)
    if tool == "rayyan":
        return read_rayyan(path, reviewer=reviewer)
    if tool == "asreview":
        return read_asreview(path, reviewer=reviewer)
    if tool == "covidence":
        return read_covidence(path, reviewer=reviewer, decision=decision, reason=reason)
    raise ReviewInputError(f"unknown export format {tool!r}", file=str(path),
                           hint=f"Give --from {', '.join(TOOLS)}.")


# ------------------------------------------------------------------------------------------ matching

class Library:
    """The review's records with their duplicate clusters (dedup's rules), for matching."""

    def __init__(self, records: list[dict], cluster_of: dict[str, str] | None = None):
        self.records = records
        if cluster_of is None:
            from livingmeta.records.dedup import deduplicate
            result = deduplicate(records)
            cluster_of = dict(zip(result.record_ids, result.cluster_ids))
        self.cluster_of = cluster_of
        self.by_doi: dict[str, list[int]] = defaultdict(list)
        self.by_pmid: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(records):
            if norm_doi(r.get("doi")):
                self.by_doi[norm_doi(r.get("doi"))].append(i)
            if norm_pmid(r.get("pmid")):
                self.by_pmid[norm_pmid(r.get("pmid"))].append(i)

    def cluster(self, i: int) -> str:
        rid = str(self.records[i]["record_id"])
        return self.cluster_of.get(rid, rid)


def match(items: list[Exported], library: Library) -> list[tuple[str | None, str, list[str]]]:
    """Per exported record: (cluster id or None, problem, candidate cluster ids)."""
    from livingmeta.records.dedup import candidate_pairs, compare
    from livingmeta.records.dedup_features import Features

    n_lib = len(library.records)
    results: list[tuple[str | None, str, list[str]] | None] = [None] * len(items)
    rest = []
    for k, item in enumerate(items):
        for how, index in (("DOI", library.by_doi.get(norm_doi(item.record.get("doi")))),
                           ("PMID", library.by_pmid.get(norm_pmid(item.record.get("pmid"))))):
            if index:
                clusters = sorted({library.cluster(i) for i in index})
                results[k] = ((clusters[0], "", clusters) if len(clusters) == 1 else
                              (None, f"ambiguous: the {how} names records of {len(clusters)} different "
                                     f"clusters", clusters))
                break
        if results[k] is None:
            rest.append(k)
    if rest:
        feats = [Features(i, r) for i, r in enumerate(library.records)]
        feats += [Features(n_lib + j, items[k].record) for j, k in enumerate(rest)]
        merged: dict[int, set[str]] = defaultdict(set)
        possible: dict[int, set[str]] = defaultdict(set)
        for p, q in candidate_pairs(feats):
            if (p < n_lib) == (q < n_lib):
                continue                       # library-library and export-export pairs are not wanted
            lib, exp = (p, q) if p < n_lib else (q, p)
            decision, _score, _reason = compare(feats[lib], feats[exp])
            if decision == "merge":
                merged[exp - n_lib].add(library.cluster(lib))
            elif decision == "review":
                possible[exp - n_lib].add(library.cluster(lib))
        for j, k in enumerate(rest):
            sure, maybe = sorted(merged[j]), sorted(possible[j] - merged[j])
            if len(sure) == 1 and not maybe:
                results[k] = (sure[0], "", sure)
            elif len(sure) == 1:
                results[k] = (None, "ambiguous: matches one record by the deduplication rules and possibly "
                                    f"{len(maybe)} other(s)", sure + maybe)
            elif sure:
                results[k] = (None, f"ambiguous: matches records of {len(sure)} different clusters by the "
                                    "deduplication rules", sure + maybe)
            elif maybe:
                results[k] = (None, "ambiguous: possibly the same article as the candidate(s) (the "
                                    "deduplication rules would send the pair to review)", maybe)
            else:
                results[k] = (None, "unmatched: no record of the review's searches has this DOI, PMID or "
                                    "title", [])
    return results  # type: ignore[return-value]


def import_decisions(items: list[Exported], library: Library, *, stage: str) -> ImportResult:
    if stage not in STAGES:
        raise ReviewInputError(f"unknown stage {stage!r}", field="--stage", hint=f"Give one of {', '.join(STAGES)}.")
    matches = match([i for i in items if i.decisions], library)
    decided = [i for i in items if i.decisions]
    result = ImportResult(rows=[], problems=[], n_exported=len(items), n_undecided=len(items) - len(decided))

    def problem(item: Exported, text: str, candidates: list[str], who=("", "", "")):
        rec = item.record
        result.problems.append({
            "row": item.row, "problem": text, "reviewer": who[0], "decision": who[1], "reason": who[2],
            "title": rec.get("title") or "", "year": rec.get("year") or "",
            "first_author": (rec.get("authors") or [""])[0], "doi": rec.get("doi") or "",
            "pmid": rec.get("pmid") or "", "candidates": " ".join(candidates)})

    seen: dict[tuple[str, str], tuple[Exported, tuple[str, str, str]]] = {}
    clashes: set[tuple[str, str]] = set()
    for item, (cluster, text, candidates) in zip(decided, matches):
        if cluster is None:
            for who in item.decisions:
                problem(item, text, candidates, who)
            continue
        result.n_matched += 1
        for who in item.decisions:
            reviewer, decision, reason = who
            if stage == "full_text" and decision == "exclude" and not reason:
                problem(item, "conflict: a full-text exclusion needs a reason and the export gives none",
                        [cluster], who)
                continue
            key = (cluster, reviewer.lower())        # the screening reader compares reviewers so
            if key in seen:
                first_item, first_who = seen[key]
                if (first_who[1], first_who[2].lower()) != (decision, reason.lower()):
                    clashes.add(key)
                    problem(item, f"conflict: {reviewer} decided '{first_who[1]}' on this record at row "
                                  f"{first_item.row} and '{decision}' here (two exported records of one "
                                  f"article)", [cluster], who)
                continue
            seen[key] = (item, who)
    for key, (item, who) in seen.items():
        cluster = key[0]
        if key in clashes:
            problem(item, "conflict: see the other row of this reviewer on this record", [cluster], who)
            continue
        result.rows.append({"record_id": cluster, "reviewer": who[0], "decision": who[1], "reason": who[2],
                            "role": "", "note": item.note})
    result.problems.sort(key=lambda p: int(p["row"]))
    return result


# ------------------------------------------------------------------------------------------ writing

def unmatched_path(out: str | os.PathLike) -> Path:
    out = Path(out)
    stem = out.name[:-4] if out.name.lower().endswith(".csv") else out.name
    return out.with_name(stem + ".unmatched.csv")


def _write_temp(folder: Path, columns, rows: list[dict]) -> str:
    fd, tmp = tempfile.mkstemp(prefix=".import-", suffix=".csv", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return tmp


def _place(tmp: str, target: Path) -> None:
    """Put ``tmp`` at ``target`` without overwriting: a hard link fails if ``target`` appeared meanwhile;
    on file systems without hard links, a checked rename."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        if target.exists():
            raise FileExistsError(17, "exists", str(target)) from None
        shutil.copyfile(tmp, target)


def write_result(result: ImportResult, out: str | os.PathLike) -> Path | None:
    """Write OUT (and OUT.unmatched.csv when there are problems) atomically; never overwrite."""
    out = Path(out)
    side = unmatched_path(out)
    for target in (out, side):
        if target.exists():
            raise ReviewInputError("the output file exists already", file=str(target),
                                   hint="Give a new --out file name; livingmeta never overwrites a decision file.")
    if not out.parent.is_dir():
        raise ReviewInputError("the output folder does not exist", file=str(out.parent))
    temps, placed = [], []
    try:
        temps.append((_write_temp(out.parent, OUT_COLUMNS, result.rows), out))
        if result.problems:
            temps.append((_write_temp(out.parent, UNMATCHED_COLUMNS, result.problems), side))
        for tmp, target in temps:
            _place(tmp, target)
            placed.append(target)
    except FileExistsError as err:
        for target in placed:                   # all or nothing
            target.unlink(missing_ok=True)
        raise ReviewInputError("the output file exists already", file=str(err.filename)) from None
    finally:
        for tmp, _target in temps:
            Path(tmp).unlink(missing_ok=True)
    return side if result.problems else None


def import_screening(tool: str, path: str | os.PathLike, out: str | os.PathLike, *, records: list[dict],
                     stage: str = "title_abstract", reviewer: str | None = None, decision: str | None = None,
                     reason: str | None = None, cluster_of: dict[str, str] | None = None) -> ImportResult:
    """Read ``path`` (a ``tool`` export), match it to ``records`` (the review's library with stable ids,
    :func:`livingmeta.records.keys.library_of_review`) and write ``out``; returns what was imported."""
    out = Path(out)
    for target in (out, unmatched_path(out)):
        if target.exists():
            raise ReviewInputError("the output file exists already", file=str(target),
                                   hint="Give a new --out file name; livingmeta never overwrites a decision file.")
    items = read_export(tool, path, reviewer=reviewer, decision=decision, reason=reason)
    result = import_decisions(items, Library(records, cluster_of), stage=stage)
    write_result(result, out)
    return result
