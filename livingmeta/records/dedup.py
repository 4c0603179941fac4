"""Deduplication of search records into clusters (one cluster = one article), conservative by design.

A false merge loses a study, a missed duplicate costs a reviewer a few seconds; so a pair is merged only
when the evidence leaves no doubt, and a pair that *might* be the same article goes to the review list
(``dedup_review.csv``), where reviewers decide it once, in ``review/screening/duplicates.csv``.

How pairs are found (blocking) and decided
------------------------------------------
Candidate pairs share an exact DOI, PMID or normalised title, or one of the fuzzy blocking keys (title
prefix, title suffix, first-author + year, year + first page, volume + first page). Each pair is decided
by :func:`compare`:

* **same DOI / same PMID** -> merge when the titles agree (or one is missing); different DOIs or PMIDs
  -> never merged automatically (a preprint and its journal version, or an erratum with its own DOI, are
  different records: similar ones go to review).
* **title**: Indel similarity of the normalised titles (case, accents, punctuation, database annotations
  such as ``[Erratum appears in ...]`` / ``[Review] [57 refs]`` / ``[Chinese]`` removed) >= 0.95, first
  author compatible, years equal (or one apart with the same volume and first page), no conflicting
  volume or first page -> merge. Short titles (< 5 words) also need the same volume or first page.
* **bibliographic coordinates**: same first author, year, volume and first page (and last page if both
  have one) and compatible journals -> merge even when the titles differ (the same article indexed under
  its original-language and English titles). Without a first author on one side (or a group author),
  compatible journals take its place, for a page range (not one page, which several meeting abstracts
  share) and titles >= 0.6 similar (a translated title -> review).
* **damaged fields**: pages that disagree under the same long title, first author and co-author, journal,
  volume and year (both ranges, both single pages, or an online-first record without volume paginated
  from 1) -> merge. A one-page item against the full article: printed *before* it in the same volume
  (same page series, same numbers in the titles) -> merge (the paper's meeting abstract: it cannot be an
  erratum, which follows its article); printed after it -> review (an unlabelled erratum). Volume/issue/
  pages shifted left, truncated erratum citations, CINAHL's ``... includes discussion`` notes and parallel
  journal names (``Ai zheng = Aizheng = Chinese journal of cancer``) are handled in :mod:`dedup_features`.
  Embase's ``(multiple letters)`` record absorbs the letter and replies it prints.
* **erratum named by its article**: MEDLINE's ``[Erratum appears in J. 2009;360(23):2487]`` on the article
  and a record of the same title (>= 0.9) at that volume and first page (or a labelled erratum in that
  volume and issue whose page field is damaged), compatible journal and author, years at most one apart
  -> merge: both records agree on the link. An erratum that only names its article (``(vol 360, pg 542,
  2009)``) is linked with ``link_errata`` only.
* **retitled in print**: titles >= 0.75 similar, same journal and year, the same first four or more
  authors in order, one record without volume and pages (the online version) -> merge; with fewer
  authors in common -> review.
* Titles differing in a substituted word (``adult`` / ``adolescent``) without matching volume and pages
  -> review (sibling trial registrations).
* Errata, replies, comments, retraction notices and conference abstracts (``[Abstract]``) are otherwise
  never merged automatically with a record of another kind (``link_errata`` links errata that name their
  article; off by default, see docs/records.md); nor are records whose years differ by more than one.
* **conflicting coordinates** (different issue numbers, non-overlapping page ranges of one page series,
  roman front matter included): two items -- a recurring column ("Editor's Comments") in two issues --
  neither merged nor on the review list, except the damaged-field cases above and one wrong issue number
  under the same long title, author, journal, volume and full page range; a short title (< 4 words) in
  another journal or by another first author is no candidate either (docs/records.md, rule 9).
* **subtitle dropped**: one title is the other's main title (before ``:`` / `` - ``), same first author,
  venue, year and pages -> merge; without pages -> review.
* Anything close but not certain (title similarity >= 0.85, or matching coordinates without compatible
  journals, ...) -> review list, ranked by :func:`review_likelihood`, grouped by cluster and capped at
  ``REVIEW_SHARE`` (2 %) of the records.

Clusters are built from the merges (union-find); a merge that would put two different DOIs or PMIDs,
years more than one apart, or a pair the reviewers marked "different" into one cluster is refused and
goes to review instead, so that transitivity cannot chain a false merge.

Forced decisions: ``review/screening/duplicates.csv``
-----------------------------------------------------
A CSV file with the header ``record_a,record_b,decision,reviewer,note``:

* ``record_a``, ``record_b``: stable record ids (``<source>:<export name>:<key>``, see
  :mod:`livingmeta.records.keys`), as listed in ``dedup_review.csv`` or ``dedup.json``; position ids
  (``<source>:<export>:<position>``) are refused with the way to convert the file;
* ``decision``: ``same`` (merge the two records' clusters) or ``different`` (never put them in one
  cluster, whatever the automatic matching says); empty = not decided yet (the pair stays on the review
  list), so ``dedup_review.csv`` can be copied whole and decided over several sessions;
* ``reviewer``, ``note``: free text, kept for the audit trail.

Decisions are keyed by stable record ids, which do not change when an export is saved again in another
order, so they stick across runs and updates. A decision that names an unknown record id, two rows for
one pair with different decisions, or decisions that contradict each other (A same B, B same C, A
different C), stop the run with a message naming the rows (the file's syntax, header and contradictory
rows are also checked while the job graph is planned: :func:`problems_in_duplicates_file`).

Living updates
--------------
Every run deduplicates the whole library (all exports, old and new) with the same deterministic rules,
so a pair of old records gets the same decision as before; a record keeps its id forever, and the id of
a cluster is its earliest member in the order (export name, source, stable key) (records without a key,
as in ``livingmeta dedup``: position), so an update search (newer export name) never renames an existing
cluster, and neither does a re-saved export: it only adds members to it. Screening decisions
name record ids and apply to the record's cluster. Records of an update search that match an earlier
record are counted as duplicates (PRISMA 2020 for updated reviews); :func:`build_library` reports, per
export, how many of its records are new and how many duplicate an earlier export or the same export.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Indel

from livingmeta.errors import ReviewInputError
from livingmeta.records.dedup_features import Features, journals_compatible

DECISION_COLUMNS = ("record_a", "record_b", "decision", "reviewer", "note")
REVIEW_COLUMNS = ("record_a", "record_b", "score", "reason", "decision", "reviewer", "note",
                  "title_a", "title_b", "authors_a", "authors_b", "year_a", "year_b", "journal_a", "journal_b",
                  "volume_a", "volume_b", "pages_a", "pages_b", "doi_a", "doi_b")

MERGE_TITLE = 0.95     # title similarity for a title-based merge
LINK_ERRATA = False    # = records.link_errata default; the answer keys disagree on errata (docs/records.md)
REVIEW_TITLE = 0.85    # title similarity for the review list
ID_TITLE = 0.80        # titles must agree at least this much for an identifier-based merge
REVIEW_SHARE = 0.02    # the review list holds at most this share of the number of records ...
REVIEW_MIN = 10        # ... but at least this many pairs (small libraries)
BLOCK_CAP = 60         # blocks larger than this are compared within a sliding window
WINDOW = 20


# ------------------------------------------------------------------------------------------ decisions

from livingmeta.records.duplicates_file import (  # noqa: E402,F401 (re-exported)
    Decision, problems_in_duplicates_file, read_decisions)


# ------------------------------------------------------------------------------------------ comparing

def title_similarity(a: Features, b: Features) -> float:
    """Indel similarity of the title keys; a title that defines an abbreviation (``... Syndrome (aHUS)``)
    is also compared in its abbreviated form, so the spelled-out and the abbreviated title match."""
    if not a.tkey or not b.tkey:
        return 0.0
    if a.tkey == b.tkey:
        return 1.0
    best = Indel.normalized_similarity(a.tkey, b.tkey)
    if a.akey or b.akey:
        for x, y in ((a.akey, b.tkey), (a.tkey, b.akey), (a.akey, b.akey)):
            if x and y:
                best = max(best, 1.0 if x == y else Indel.normalized_similarity(x, y))
    return best


def _authors_compatible(a: Features, b: Features) -> bool | None:
    """First authors: None if either is unknown or a group author; True for the same person written
    differently (``Le Quintrec, M.`` / ``Quintrec, M.``, ``Tong, H`` / ``Hua, T``, ``Nürnberger`` /
    ``Nurnberger``); False otherwise."""
    if not a.fa or not b.fa:
        return None
    if a.fa == b.fa or (a.fa_tokens & b.fa_tokens):
        return True
    if a.group_author or b.group_author:
        return None
    short, long_ = (a.fa, b.fa) if len(a.fa) <= len(b.fa) else (b.fa, a.fa)
    if len(short) >= 4 and (long_.startswith(short) or long_.endswith(short)):
        return True
    if Indel.normalized_similarity(a.fa, b.fa) >= 0.8:
        return True
    if (a.fa_initials and b.fa_initials and a.fa[0] == b.fa_initials[0] and b.fa[0] == a.fa_initials[0]
            and (set(a.surnames[1:4]) & set(b.surnames[1:4]) or len(a.surnames) < 2 or len(b.surnames) < 2)):
        return True  # given name and surname swapped (common for Chinese names)
    return False


def _pages(a: Features, b: Features) -> str:
    """``same`` | ``partial`` (one is a fragment of the other) | ``unknown`` | ``conflict``."""
    if not a.ps or not b.ps:
        return "unknown"
    if a.ps == b.ps or (a.pstarts & b.pstarts):
        return "same"
    if a.eloc != b.eloc:
        return "unknown"  # an article number (e12724, a1754) against printed pages
    if a.pe and a.pe == b.pe:
        return "same" if Indel.normalized_similarity(a.ps, b.ps) >= 0.75 else "partial"
    for x, y in ((a, b), (b, a)):
        if not x.pe and y.pe and x.ps == y.pe:
            return "partial"  # only the last page exported ("488" for "487-488")
        if len(x.ps) <= 2 and not x.pe and (y.pe.endswith(x.ps) or y.ps.endswith(x.ps)):
            return "partial"  # "8" for "2665-2668": a fragment exported by some databases
        if len(x.ps) <= 2 and x.pe and len(x.pe) <= 2 and y.pe.endswith(x.pe):
            return "partial"
    return "conflict"


def _coordinates_conflict(a: Features, b: Features, pages: str) -> str:
    """Bibliographic coordinates that exclude one article: different issue numbers, or page ranges of the
    same page series that do not overlap (``iii-v`` / ``vii-ix``, ``100-110`` / ``300-310``; fragments,
    article numbers and supplements' own series are not compared, see :func:`_pages`). A recurring
    column ("Editor's Comments", "Editorial") has the same title, editor, journal, year and volume in
    every issue: only these tell the items apart, so they are a conflict, not missing data. ``""`` when
    there is none."""
    if a.issue and b.issue and a.issue != b.issue:
        return f"issues {a.issue} and {b.issue}"
    if pages != "conflict" and (pages != "unknown" or a.ps or b.ps or not a.pprefix or not b.pprefix):
        return ""   # (roman front matter has no first page "ps", only a prefix: its "unknown" is compared)
    if pages == "conflict" and a.pprefix == b.pprefix and a.ps.isdigit() and b.ps.isdigit():
        # plain arabic ranges (the common case, without building page_range)
        a_end = int(a.pe) if a.pe.isdigit() else int(a.ps)
        b_end = int(b.pe) if b.pe.isdigit() else int(b.ps)
        if not (a_end < int(b.ps) or b_end < int(a.ps)):
            return ""
        if a.pe and b.pe:
            return "pages do not overlap"
        # a single page is confirmed on the plain ranges below ("215 p", a thesis's page count, is no page)
    ra, rb = a.prange, b.prange
    if ra and rb and ra[0] == rb[0] and (pages == "conflict" or ra[0] == "roman"):
        if ra[2] < rb[1] or rb[2] < ra[1]:
            return "pages do not overlap"
    return ""


def _subtitle_dropped(a: Features, b: Features) -> bool:
    """One title is the other's main title, without the subtitle after ``:`` / `` - `` (``Agile teams`` /
    ``Agile teams: coordination in large projects``); at least three words, so that ``Editorial`` is not
    the main title of ``Editorial: ...``."""
    short, long_ = (a, b) if len(a.tkey) <= len(b.tkey) else (b, a)
    if len(short.words) < 3 or not long_.tkey.startswith(short.tkey):
        return False
    return long_.mkey == short.tkey


def _linked_erratum(a: Features, b: Features) -> bool:
    """One record names the other's volume and first page as its erratum / the article it corrects."""
    for x, y in ((a, b), (b, a)):
        if x.links and y.volume and y.ps and (y.volume, y.ps) in x.links:
            return True
    return False


def _named_erratum(a: Features, b: Features) -> bool:
    """The article's own record names the other record as its erratum: MEDLINE's ``[Erratum appears in
    J. 2009 Jun 4;360(23):2487]`` on the article, and the other record sits at that volume and first page
    (or, when it is labelled as an erratum, in that volume and issue: erratum records often carry no usable
    page). Two records agree on the link, not just the erratum's own citation of the article."""
    for x, y in ((a, b), (b, a)):
        if not x.erratum_at or x.notice or x.abstract_mark or y.notice not in (None, "erratum") or not y.volume:
            continue
        if y.ps and y.ps in x.pstarts:
            continue  # y is at the article's own place: not its erratum
        for volume, issue, page in x.erratum_at:
            if volume != y.volume:
                continue
            if page and page in y.pstarts:
                return True
            # a labelled erratum in the named issue whose page field is missing or damaged (a 2-digit
            # "19", the day of the citation, for page 10749): the issue stands in for the page
            damaged = not y.ps or (len(y.ps) <= 2 and len(page) >= 4)
            if y.notice == "erratum" and issue and issue == y.issue and damaged:
                return True
    return False


def _online_first(a: Features, b: Features) -> bool:
    """One record is the online-first version: no volume, its own pages numbered from 1."""
    for x, y in ((a, b), (b, a)):
        if not x.volume and y.volume and x.ps == "1" and y.ps != "1":
            return True
    return False


def _printed_before(a: Features, b: Features) -> bool:
    """One record is a one-page item printed earlier in the same volume than the other's page range
    (same page series): the meeting abstract or preview of the paper, not its erratum (an erratum is
    printed after the article it corrects)."""
    item, article = (a, b) if _one_page(a) else (b, a)
    if not _one_page(item) or _one_page(article) or item.pprefix != article.pprefix:
        return False
    if not item.volume or item.volume != article.volume:
        return False
    first, last = _page_numbers(item), _page_numbers(article)
    return bool(first and last) and first[0] < last[0] and _numbers(a) == _numbers(b)


_NUMBER = re.compile(r"^(?:\d+|[ivx]{1,4})$")


def _numbers(f: Features) -> list[str]:
    """Numbers and roman numerals of a title ("part ii", "phase 3", "type 1"): titles that differ only
    there are two articles, however similar."""
    return sorted(w for w in f.words if _NUMBER.match(w))


def _journals(a: Features, b: Features) -> bool | None:
    """:func:`journals_compatible`, also across the parallel names of ``Title = Title = English title``."""
    same = journals_compatible(a.jkey, b.jkey)
    if same is False and (a.jalts or b.jalts):
        return any(journals_compatible(x, y) for x in (a.jkey,) + a.jalts for y in (b.jkey,) + b.jalts) or False
    return same


def _same_team(a: Features, b: Features, authors: bool | None) -> bool:
    """Same first author and at least one of the next five authors in common."""
    return bool(authors) and bool(a.coauthors & b.coauthors)


def _substituted_words(a: Features, b: Features) -> tuple[str, str]:
    """A word of each title (4+ letters) that is no spelling variant, fragment or joined form of any word
    of the other title: ``adult`` / ``adolescent``, ``sensitive`` / ``resistant`` (sibling trial
    registrations, part I / part II). ``("", "")`` when the titles differ only in spelling."""
    sa, sb = set(a.words), set(b.words)
    joined_a, joined_b = "".join(a.words), "".join(b.words)

    def unmatched(own, other, joined_other):
        for w in own:
            if len(w) < 4 or w in other or w in joined_other:
                continue
            if not any(Indel.normalized_similarity(w, o) >= 0.75 or (len(o) >= 4 and o in w) for o in other):
                return w
        return ""

    x, y = unmatched(a.words, sb, joined_b), unmatched(b.words, sa, joined_a)
    return (x, y) if x and y else ("", "")


def _retitled_in_print(a: Features, b: Features) -> bool:
    """One record is the online version (no volume, no pages) and the other the printed one, and both list
    the same first four or more authors in the same order (as far as the shorter list goes): an article
    retitled between its online and print versions (NEJM's ``Eculizumab in severe Shiga-toxin-associated
    HUS`` / ``Complement blockade in severe Shiga-toxin-associated HUS``). Two papers of one team in one
    journal and year are printed both, or have different author lists."""
    if bool(a.volume or a.ps) == bool(b.volume or b.ps):
        return False
    n = min(len(a.surnames), len(b.surnames))
    return n >= 4 and a.surnames[:n] == b.surnames[:n]


def _one_page(f: Features) -> bool:
    return not f.pe or f.pe == f.ps


def _page_numbers(f: Features) -> tuple[int, int] | None:
    if not f.ps.isdigit():
        return None
    end = f.pe if f.pe.isdigit() else f.ps
    return int(f.ps), int(end)


def _letters_bundle(a: Features, b: Features, tsim: float, year_gap: int | None) -> bool:
    """Embase's ``(multiple letters)`` record covers a letter and the replies printed after it: the other
    record has the same title, volume and year, pages inside the bundle's range, and its first author is
    one of the bundle's authors (the letter's author or the replying author)."""
    bundle, item = (a, b) if a.letters else (b, a)
    if not bundle.letters or item.letters or tsim < 0.95 or year_gap != 0:
        return False
    if not bundle.volume or bundle.volume != item.volume or journals_compatible(a.jkey, b.jkey) is False:
        return False
    outer, inner = _page_numbers(bundle), _page_numbers(item)
    if not outer or not inner or outer[0] == outer[1] or not (outer[0] <= inner[0] <= inner[1] <= outer[1]):
        return False
    return bool(item.fa) and item.fa in bundle.surnames


def compare(a: Features, b: Features, *, link_errata: bool = LINK_ERRATA) -> tuple[str, float, str]:
    """Decide one pair: ``("merge" | "review" | "none", title similarity, reason)``."""
    tsim = title_similarity(a, b)
    year_gap = abs(a.year - b.year) if a.year is not None and b.year is not None else None
    titles_ok = tsim >= ID_TITLE or not a.tkey or not b.tkey
    notice_differs = a.notice != b.notice
    kinds_differ = notice_differs or a.abstract_mark != b.abstract_mark

    # identifiers
    if a.doi and b.doi:
        if a.doi == b.doi:
            if titles_ok and not kinds_differ:
                return "merge", tsim, "same DOI"
            return "review", tsim, "same DOI but different titles or record kinds"
        if tsim >= REVIEW_TITLE and not kinds_differ and not (a.pmid and b.pmid and a.pmid != b.pmid):
            return "review", tsim, "similar titles but different DOIs (preprint/journal version?)"
        return "none", tsim, ""
    if a.pmid and b.pmid:
        if a.pmid == b.pmid:
            if titles_ok and not kinds_differ:
                return "merge", tsim, "same PMID"
            return "review", tsim, "same PMID but different titles or record kinds"
        if tsim >= REVIEW_TITLE and not kinds_differ:
            return "review", tsim, "similar titles but different PMIDs"
        return "none", tsim, ""

    authors = _authors_compatible(a, b)
    pages = _pages(a, b)
    same_vol = bool(a.volume) and a.volume == b.volume
    vol_conflict = bool(a.volume) and bool(b.volume) and not same_vol
    journals = _journals(a, b)
    full_pages = pages == "same" and a.pe and b.pe and a.pe == b.pe

    if (tsim >= 0.9 and year_gap is not None and year_gap <= 1 and journals is not False
            and (authors is not False or a.fa in b.surnames or b.fa in a.surnames) and _numbers(a) == _numbers(b)
            and _named_erratum(a, b)):
        return "merge", tsim, "article and the erratum its record names (volume and page)"

    if link_errata and tsim >= 0.9 and (a.notice == "erratum") != (b.notice == "erratum") and (
            authors is not False or a.fa in b.surnames or b.fa in a.surnames):  # an erratum adding an author
        if _linked_erratum(a, b):
            return "merge", tsim, "erratum notice and the article it names (volume and page)"
        if tsim >= 0.95 and journals and same_vol and year_gap == 0 and _same_team(a, b, authors):
            return "merge", tsim, "erratum notice and the article of the same title, authors, journal and volume"

    if _letters_bundle(a, b, tsim, year_gap):
        return "merge", tsim, "letter or reply inside a '(multiple letters)' record (same title, volume, pages)"

    # different issues or non-overlapping pages: two items (a recurring column in two issues), not a
    # candidate, unless everything else names one article: the same long title, first author and a
    # co-author, journal, volume and year (a database's wrong page or issue; decided below)
    # (an erratum, reply or comment is printed elsewhere than its article by nature: not compared)
    # (for titles < 0.75 similar, conflicting pages lead to no decision but "none" anyway: not computed)
    conflict = "" if notice_differs else _coordinates_conflict(a, b, pages if tsim >= 0.75 else "")
    if conflict:
        long_title = (tsim >= 0.98 and min(len(a.words), len(b.words)) >= 6 and year_gap == 0 and not vol_conflict
                      and journals)
        # one wrong issue number: the same long title, author, journal, volume and full page range, in
        # arabic numerals and not at an issue's first page (where the recurring columns of journals that
        # paginate each issue from 1 are printed): pages that run on through a volume do not repeat
        if not (long_title and (_same_team(a, b, authors) or (
                authors and full_pages and a.ps == b.ps and conflict.startswith("issues")
                and a.pprefix == "" and a.ps.isdigit() and int(a.ps) > 1))):
            return "none", tsim, ""
    if min(len(a.words), len(b.words)) < 4 and not (same_vol and pages == "same" and authors is not False) and (
            journals is False or authors is False):
        return "none", tsim, ""  # a generic short title ("Editorial") in another venue, by another author

    if kinds_differ:
        same_issue = (not notice_differs and tsim >= 0.98 and same_vol and year_gap == 0 and journals
                      and pages != "conflict" and authors)
        if same_issue:  # one database marks the conference abstract, the other does not
            return "merge", tsim, "same conference abstract (title, journal, volume, year)"
        if tsim >= REVIEW_TITLE:
            what = "an erratum/reply/comment/retraction" if notice_differs else "a conference abstract"
            return "review", tsim, f"similar titles but one record is {what}"
        return "none", tsim, ""

    # bibliographic coordinates: the same article under two titles (translations)
    if (authors and year_gap == 0 and same_vol and full_pages and not (a.ps == "1" and a.pe == "1")):
        shorter, longer = sorted((a.tkey, b.tkey), key=len)
        if tsim >= 0.6 or a.translated or b.translated or (len(shorter) >= 20 and longer.startswith(shorter)):
            return "merge", tsim, "same first author, year, volume and page range"
        return "review", tsim, "same first author, year, volume and page range; different titles"

    if (tsim < MERGE_TITLE and year_gap == 0 and journals and not vol_conflict and not conflict
            and (authors or (authors is None and same_vol)) and _subtitle_dropped(a, b)):
        if pages == "same" and authors and (_same_team(a, b, authors) or min(len(a.surnames), len(b.surnames)) < 2):
            return "merge", tsim, "title with and without subtitle, same authors, venue, year and pages"
        if pages != "conflict":
            return "review", tsim, "title with and without subtitle, same authors, venue and year"

    if (0.75 <= tsim < MERGE_TITLE and year_gap == 0 and journals and _retitled_in_print(a, b)
            and _numbers(a) == _numbers(b)):
        return "merge", tsim, "online version retitled in print (same journal, year and first 4+ authors in order)"

    if tsim < REVIEW_TITLE:
        if (authors and same_vol and year_gap == 0 and pages == "same" and a.words and b.words
                and min(len(a.words), len(b.words)) >= 4):
            shorter, longer = sorted((a.tkey, b.tkey), key=len)
            if longer.startswith(shorter):
                return "merge", tsim, "title with and without subtitle, same first author, volume and page"
        if tsim >= 0.75 and year_gap == 0 and journals and not vol_conflict and pages != "conflict" \
                and _same_team(a, b, authors):
            return "review", tsim, "same authors, journal and year; titles differ (retitled online version?)"
        if (authors is None and journals and year_gap == 0 and same_vol and full_pages
                and a.ps != a.pe):
            # no author to compare: the journal vouches for the coordinates instead (a page range, not
            # one page, which several meeting abstracts can share)
            if tsim >= 0.6:
                return "merge", tsim, "same journal, year, volume and page range; titles differ, authors missing"
            if a.translated or b.translated:
                return "review", tsim, "same journal, year, volume and page range; translated title, authors missing"
        return "none", tsim, ""

    # similar titles
    strong = same_vol and pages == "same" and year_gap == 0 and tsim >= 0.98
    # Pages that disagree while everything else agrees (same long title, first author and a co-author,
    # journal, volume, year): wrong pages in one database (678-684 / 676-682), or two one-page items (a
    # meeting abstract printed twice, two corrections without an "Erratum" label): merged. A one-page
    # item against a full article is an unlabelled erratum or the meeting abstract of the article: a
    # separate record, merged only with link_errata when the article names it as its erratum.
    if (pages == "conflict" and tsim >= 0.98 and min(len(a.words), len(b.words)) >= 6 and year_gap == 0
            and not vol_conflict and journals and _same_team(a, b, authors)):
        if _one_page(a) == _one_page(b) or _online_first(a, b):
            pages = "unknown"
        elif same_vol and not kinds_differ and _printed_before(a, b):
            return "merge", tsim, "one-page item printed before the article in the same volume (its meeting abstract)"
        elif link_errata and _linked_erratum(a, b):
            return "merge", tsim, "erratum (named by the article by volume and page) and the article"
    problems = []
    if authors is False and not (strong and full_pages and len(a.words) >= 6):
        problems.append("different first authors")
    if year_gap is not None and year_gap > 1:
        problems.append(f"years {a.year} and {b.year}")
    if vol_conflict:
        problems.append("different volumes")
    if pages == "conflict":
        problems.append("different pages")
    if year_gap == 1 and not (same_vol and pages in ("same", "unknown") and tsim >= 0.98 and journals):
        problems.append(f"years {a.year} and {b.year}")
    if authors is None and not (year_gap == 0 and (same_vol or pages == "same") and tsim >= 0.98):
        problems.append("authors missing")
    if year_gap is None and not (same_vol and pages == "same"):
        problems.append("year missing")
    if min(len(a.words), len(b.words)) < 4 and not (same_vol or pages == "same"):
        problems.append("short title")
    if journals is False and not (same_vol and pages == "same") and not (tsim >= 0.98 and len(a.words) >= 8
                                                                       and authors and year_gap == 0):
        problems.append("different journals")
    if tsim < MERGE_TITLE:
        problems.insert(0, f"title similarity {tsim:.2f}")
    if not problems and tsim < 1.0 and not (same_vol and pages == "same"):
        x, y = _substituted_words(a, b)
        if x:  # "... in adult patients ..." / "... in adolescent patients ...": two registrations or parts
            problems.append(f"titles differ in a word ({x} / {y})")
    if not problems:
        return "merge", tsim, "same title" if tsim == 1.0 else "similar title"
    hard = (authors is False) + (year_gap is not None and year_gap > 1) + vol_conflict + (pages == "conflict")
    if hard >= (3 if tsim >= 0.97 else 2):
        return "none", tsim, ""  # similar titles, but clearly two articles: not worth a reviewer's time
    return "review", tsim, "similar titles; " + ", ".join(problems)


# ------------------------------------------------------------------------------------------ blocking

def _blocks(feats: list[Features]):
    exact: dict[tuple, list[int]] = defaultdict(list)
    fuzzy: dict[tuple, list[int]] = defaultdict(list)
    for f in feats:
        i = f.index
        if f.doi:
            exact[("doi", f.doi)].append(i)
        if f.pmid:
            exact[("pmid", f.pmid)].append(i)
        if f.tkey:
            exact[("t", f.tkey)].append(i)
            if len(f.tkey) >= 12:
                fuzzy[("tp", f.tkey[:18])].append(i)
                fuzzy[("ts", f.tkey[-18:])].append(i)
        if f.fa and f.year:
            fuzzy[("ay", f.fa, f.year)].append(i)
        if f.ps and f.year:
            fuzzy[("yp", f.year, f.ps)].append(i)
        if f.ps and f.volume:
            fuzzy[("vp", f.volume, f.ps)].append(i)
    return exact, fuzzy


def candidate_pairs(feats: list[Features]) -> set[tuple[int, int]]:
    exact, fuzzy = _blocks(feats)
    pairs: set[tuple[int, int]] = set()
    for members in list(exact.values()) + list(fuzzy.values()):
        m = len(members)
        if m < 2:
            continue
        if m <= BLOCK_CAP:
            for x in range(m):
                mx = members[x]
                for y in range(x + 1, m):
                    pairs.add((mx, members[y]))
        else:
            ordered = sorted(members, key=lambda k: feats[k].tkey)
            for x in range(m):
                for y in range(x + 1, min(m, x + 1 + WINDOW)):
                    p, q = ordered[x], ordered[y]
                    pairs.add((p, q) if p < q else (q, p))
    return pairs


# ------------------------------------------------------------------------------------------ clustering

@dataclass
class DedupResult:
    record_ids: list[str]                  # in input order
    cluster_ids: list[str]                 # cluster id of each record, in input order
    clusters: list[dict]                   # {cluster_id, record_ids, reason}, earliest first
    review_pairs: list[dict]               # {a, b, score, title_similarity, reason}, ranked (_rank_review)
    merges: list[dict] = field(default_factory=list)  # {a, b, score, reason} of the accepted merges
    review_withheld: int = 0               # uncertain pairs left off the review list (least likely ones)


def sort_key(record: dict, index: int = 0):
    """Order of records for cluster ids: (export name, source, stable key) for records that carry a
    ``key`` (the workflow's, see livingmeta.records.keys: the order, and so every cluster id, does not
    change when an export is saved again in another order), else (export name, source, position)."""
    return (str(record.get("export") or ""), str(record.get("source") or ""), str(record.get("key") or ""),
            int(record.get("position") or 0), index)


def _drop_unreliable_issues(feats: list[Features]) -> None:
    """Issue numbers are compared only in exports whose issue field holds issues: in some exports it holds
    the database's record number (``number`` = 1426, 1425, ... in EndNote-made CSV files), which differs
    between any two records. An export (source and export name) with 20+ numeric issues of which more
    than half exceed 100 is such a field (journal issues rarely exceed 100; weeklies that number issues
    in thousands are a minority of any search)."""
    groups: dict[tuple, list[Features]] = defaultdict(list)
    for f in feats:
        if f.issue:
            groups[(f.record.get("export"), f.record.get("source"))].append(f)
    for members in groups.values():
        if len(members) >= 20 and sum(len(f.issue) > 2 and int(f.issue) > 100 for f in members) * 2 > len(members):
            for f in members:
                f.issue = ""


# merges of items printed in different issues of one volume (an article and its erratum or meeting
# abstract): exempt from the clusters' different-issues check
_ACROSS_ISSUES = ("article and the erratum", "erratum", "one-page item printed before")


class _Clusters:
    def __init__(self, feats: list[Features]):
        n = len(feats)
        self.parent = list(range(n))
        self.dois = [{f.doi} if f.doi else set() for f in feats]
        self.pmids = [{f.pmid} if f.pmid else set() for f in feats]
        self.years = [(f.year, f.year) if f.year is not None else None for f in feats]
        self.issues = [{(f.volume, f.issue)} if f.issue and f.volume else set() for f in feats]
        self.members = [[i] for i in range(n)]

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def conflict(self, ra: int, rb: int, issues: bool = True) -> str:
        if self.dois[ra] and self.dois[rb] and not (self.dois[ra] & self.dois[rb]):
            return "would join records with different DOIs"
        if self.pmids[ra] and self.pmids[rb] and not (self.pmids[ra] & self.pmids[rb]):
            return "would join records with different PMIDs"
        ya, yb = self.years[ra], self.years[rb]
        if ya and yb and max(ya[1], yb[1]) - min(ya[0], yb[0]) > 1:
            return "would join records more than one year apart"
        ia, ib = self.issues[ra], self.issues[rb]
        if issues and ia and ib and not (ia & ib) and {v for v, _ in ia} & {v for v, _ in ib}:
            return "would join records of different issues of one volume"
        return ""

    def union(self, ra: int, rb: int) -> int:
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.dois[ra] |= self.dois[rb]
        self.pmids[ra] |= self.pmids[rb]
        self.issues[ra] |= self.issues[rb]
        ya, yb = self.years[ra], self.years[rb]
        self.years[ra] = (min(ya[0], yb[0]), max(ya[1], yb[1])) if ya and yb else (ya or yb)
        self.members[ra].extend(self.members[rb])
        self.members[rb] = []
        return ra


def review_likelihood(a: Features, b: Features, tsim: float) -> float:
    """How likely an uncertain pair is one article, for ranking the review list (0..1): the title similarity
    plus agreement weights for the fields that agree and minus disagreement weights for those that
    conflict (first author, year, volume, pages, journal; a short title counts against), in the manner of
    the Fellegi-Sunter agreement weights (Fellegi & Sunter 1969, J Am Stat Assoc 64:1183-1210). Used for
    the order only: the decision is the reviewers'."""
    score = tsim
    authors = _authors_compatible(a, b)
    score += 0.1 if authors else (-0.1 if authors is False else 0.0)
    if a.year is not None and b.year is not None:
        gap = abs(a.year - b.year)
        score += 0.05 if gap == 0 else (0.0 if gap == 1 else -0.15)
    if a.volume and b.volume:
        score += 0.05 if a.volume == b.volume else -0.1
    pages = _pages(a, b)
    score += {"same": 0.05, "partial": 0.02, "conflict": -0.1}.get(pages, 0.0)
    journals = _journals(a, b)
    score += 0.05 if journals else (-0.05 if journals is False else 0.0)
    if min(len(a.words), len(b.words)) < 4:
        score -= 0.1
    if a.doi and b.doi and a.doi == b.doi or a.pmid and b.pmid and a.pmid == b.pmid:
        score += 0.1
    return max(0.0, min(1.0, score / 1.3))


def _rank_review(review: dict, head: list[int], feats: list[Features], ids: list[str],
                 limit: int) -> tuple[list[dict], int]:
    """The review list: pairs still in two clusters, grouped by cluster (the pairs that connect the same
    clusters together, so a reviewer decides one group at a time), groups in the order of their most
    likely pair, pairs in a group most likely first; at most ``limit`` pairs (issue 14: a list a reviewer
    can finish, <= 2 % of the records), the least likely ones withheld. Returns (pairs, number withheld)."""
    rows = []
    for (p, q), (tsim, reason) in review.items():
        if head[p] == head[q]:
            continue
        rows.append((review_likelihood(feats[p], feats[q], tsim), tsim, p, q, reason))
    parent: dict[int, int] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for _, _, p, q, _ in rows:
        ra, rb = find(head[p]), find(head[q])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    best: dict[int, tuple] = {}
    for likelihood, _, p, q, _ in rows:
        g = find(head[p])
        best[g] = min(best.get(g, (0.0, p, q)), (-likelihood, p, q))
    rows.sort(key=lambda r: (best[find(head[r[2]])], find(head[r[2]]), -r[0], r[2], r[3]))
    out = [{"a": ids[p], "b": ids[q], "score": round(likelihood, 4), "title_similarity": round(tsim, 4),
            "reason": reason} for likelihood, tsim, p, q, reason in rows[:limit]]
    return out, max(0, len(rows) - limit)


def deduplicate(records: list[dict], decisions: list[Decision] | tuple = (), *,
                decisions_file: str = "", link_errata: bool = LINK_ERRATA) -> DedupResult:
    """Cluster records (dicts with ``record_id`` and the Record fields).

    ``link_errata``: merge an erratum notice with the article it names by volume and first page (or that
    names it in MEDLINE's ``[Erratum appears in ...]``), so the erratum follows the article's screening
    decision (config ``records: {link_errata: false}`` keeps them apart).
    """
    n = len(records)
    order = sorted(range(n), key=lambda i: sort_key(records[i], i))
    recs = [records[i] for i in order]                       # sorted: index 0 is the earliest record
    ids = [str(r["record_id"]) for r in recs]
    pos = {rid: k for k, rid in enumerate(ids)}
    if len(pos) != n:
        dup = next(rid for rid in ids if ids.count(rid) > 1)
        raise ReviewInputError(f"record id {dup!r} occurs more than once",
                               hint="Give every input record a unique id")
    feats = [Features(k, r) for k, r in enumerate(recs)]
    _drop_unreliable_issues(feats)

    forced: dict[tuple[int, int], Decision] = {}
    for d in decisions:
        if d.record_a not in pos or d.record_b not in pos:
            missing = d.record_a if d.record_a not in pos else d.record_b
            raise ReviewInputError(f"unknown record id {missing!r}", file=decisions_file or None,
                                   field=f"row {d.row}", hint="Copy the ids from dedup_review.csv or dedup.json")
        p, q = sorted((pos[d.record_a], pos[d.record_b]))
        prev = forced.setdefault((p, q), d)
        if prev is not d and prev.decision != d.decision:
            raise ReviewInputError(
                f"contradictory decisions for the pair {d.record_a} / {d.record_b}: {prev.decision} at row "
                f"{prev.row}, {d.decision} at row {d.row}", file=decisions_file or None, field=f"row {d.row}",
                hint="Keep one decision per pair (delete or correct one of the rows).")
    different: dict[int, set[int]] = defaultdict(set)
    for (p, q), d in forced.items():
        if d.decision == "different":
            different[p].add(q)
            different[q].add(p)

    merges: list[tuple[int, float, int, int, str]] = []   # (priority, -score, p, q, reason)
    review: dict[tuple[int, int], tuple[float, str]] = {}
    for p, q in candidate_pairs(feats):
        if (p, q) in forced:
            continue
        decision, score, reason = compare(feats[p], feats[q], link_errata=link_errata)
        if decision == "merge":
            priority = 1 if reason.startswith("same DOI") or reason.startswith("same PMID") else 2
            merges.append((priority, -score, p, q, reason))
        elif decision == "review":
            review[(p, q)] = (score, reason)
    for (p, q), d in forced.items():
        if d.decision == "same":
            merges.append((0, -1.0, p, q, "reviewers: same" + (f" ({d.reviewer})" if d.reviewer else "")))
    merges.sort()

    cl = _Clusters(feats)
    reasons: dict[int, set[str]] = defaultdict(set)
    accepted = []
    for priority, neg_score, p, q, reason in merges:
        ra, rb = cl.find(p), cl.find(q)
        if ra == rb:
            continue
        block = ""
        members_b = set(cl.members[rb])
        if any(different[m] & members_b for m in cl.members[ra]):
            block = "would join records the reviewers marked different"
        elif priority > 0:
            # an erratum is printed in a later issue than its article: the link names both
            # (a pair whose own issues were compared by compare() is not checked again: only a record
            # without an issue must not chain two issues together)
            block = cl.conflict(ra, rb, issues=not (feats[p].issue and feats[q].issue)
                                and not reason.startswith(_ACROSS_ISSUES))
        if block:
            if priority == 0:
                d = forced[(p, q)]
                raise ReviewInputError(
                    f"'same' for {d.record_a} and {d.record_b} contradicts a 'different' decision "
                    f"(their clusters are linked by other 'same' decisions)", file=decisions_file or None,
                    field=f"row {d.row}", hint="Correct one of the contradicting rows")
            review[(p, q)] = (-neg_score, f"{reason}, but {block}")
            continue
        root = cl.union(ra, rb)
        reasons[root] |= reasons.pop(rb if root == ra else ra, set())
        reasons[root].add(reason.split(" (")[0])
        accepted.append({"a": ids[p], "b": ids[q], "score": round(-neg_score, 4), "reason": reason})

    head = [cl.find(k) for k in range(n)]
    clusters = []
    for root in range(n):
        if cl.find(root) != root:
            continue
        members = sorted(cl.members[root])
        clusters.append({"cluster_id": ids[members[0]], "record_ids": [ids[m] for m in members],
                         "reason": "; ".join(sorted(reasons.get(root, ()))) if len(members) > 1 else "unique"})
    review_pairs, withheld = _rank_review(review, head, feats, ids, max(REVIEW_MIN, int(REVIEW_SHARE * n)))

    cluster_of_sorted = [ids[min(cl.members[head[k]])] for k in range(n)]
    cluster_ids = [""] * n
    for k, original in enumerate(order):
        cluster_ids[original] = cluster_of_sorted[k]
    return DedupResult([str(r["record_id"]) for r in records], cluster_ids, clusters, review_pairs, accepted,
                       withheld)


# ------------------------------------------------------------------------------------------ outputs

def identified(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        counts[str(r.get("source"))] += 1
    return dict(sorted(counts.items()))


def per_export(records: list[dict], cluster_ids: list[str]) -> list[dict]:
    """Per export file: records, new clusters, duplicates of an earlier export, duplicates within it."""
    by_id = {str(r["record_id"]): r for r in records}
    out: dict[tuple, dict] = {}
    for r, cid in zip(records, cluster_ids):
        key = (str(r.get("export")), str(r.get("source")))
        row = out.setdefault(key, {"export": key[0], "source": key[1], "file": r.get("file"), "n_records": 0,
                                   "new_records": 0, "duplicates_of_earlier": 0, "duplicates_within": 0})
        row["n_records"] += 1
        head = by_id[cid]
        if cid == r["record_id"]:
            row["new_records"] += 1
        elif (str(head.get("export")), str(head.get("source"))) == key:
            row["duplicates_within"] += 1
        else:
            row["duplicates_of_earlier"] += 1
    return [out[k] for k in sorted(out)]


def build_library(parsed: list[dict], decisions: list[Decision] | tuple = (), *, decisions_file: str = "",
                  link_errata: bool = LINK_ERRATA) -> dict:
    """The content of ``results/records/dedup.json`` from the parsed exports (see docs/architecture.md):
    ``{n_records, n_clusters, duplicates_removed, identified{<source>: n}, searches[...], records: [Record +
    {cluster_id}], clusters: [{cluster_id, record_ids, reason}], review_pairs: [{a, b, score, reason}],
    problems: [{file, record, message}]}``. ``searches`` (one row per export: ``n_records``,
    ``new_records``, ``duplicates_of_earlier``, ``duplicates_within``) serves PRISMA for updated reviews."""
    records, problems = [], []
    for export in sorted(parsed, key=lambda e: (str(e.get("export") or ""), str(e.get("source") or ""))):
        records.extend(export["records"])
        problems.extend({"file": export["file"], "record": p.get("record"), "message": p["message"]}
                        for p in export.get("problems", []))
    result = deduplicate(records, decisions, decisions_file=decisions_file, link_errata=link_errata)
    out_records = [dict(r, cluster_id=cid) for r, cid in zip(records, result.cluster_ids)]
    return {
        "n_records": len(records),
        "n_clusters": len(result.clusters),
        "duplicates_removed": len(records) - len(result.clusters),
        "identified": identified(records),
        "searches": per_export(records, result.cluster_ids),
        "records": out_records,
        "clusters": result.clusters,
        "review_pairs": result.review_pairs,
        "review_pairs_withheld": result.review_withheld,
        "problems": problems,
    }


def write_review_csv(path: str | os.PathLike, review_pairs: list[dict], records: list[dict]) -> None:
    """``dedup_review.csv``: one row per uncertain pair, with both records side by side and empty
    ``decision,reviewer,note`` cells; copy decided rows (or the whole file) into
    ``review/screening/duplicates.csv``."""
    from livingmeta.jsonio import write_text_atomic
    import io

    by_id = {str(r["record_id"]): r for r in records}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REVIEW_COLUMNS)
    for pair in review_pairs:
        a, b = by_id.get(pair["a"], {}), by_id.get(pair["b"], {})

        def both(name, fmt=lambda v: "" if v is None else str(v)):
            return [fmt(a.get(name)), fmt(b.get(name))]

        authors = lambda v: "; ".join((v or [])[:3]) + (" et al." if v and len(v) > 3 else "")  # noqa: E731
        writer.writerow([pair["a"], pair["b"], f"{pair['score']:.3f}", pair["reason"], "", "", ""]
                        + both("title") + both("authors", authors) + both("year") + both("journal")
                        + both("volume") + both("pages") + both("doi"))
    write_text_atomic(path, buffer.getvalue())


def write_clusters_csv(path: str | os.PathLike, record_ids: list[str], cluster_ids: list[str]) -> None:
    """``record_id,cluster_id`` for every record (``livingmeta dedup --out``)."""
    from livingmeta.jsonio import write_text_atomic
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("record_id", "cluster_id"))
    writer.writerows(zip(record_ids, cluster_ids))
    write_text_atomic(Path(path), buffer.getvalue())
