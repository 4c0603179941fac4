"""A truncated or partly returned EFetch batch never writes a record (issue 13, point 5).

The completeness rule (pubmed.medline_record_problem) is checked against real PubMed exports (the shared
data: 76 records of every status, some without an abstract), then every way of cutting a real answer at a
line boundary is tried, then the fake server returns cut, thinned and mixed-up batches end to end: nothing
is written, and the PMIDs of the refused batch are fetched again by the next run.
"""

from __future__ import annotations

import json

import pytest

from livingmeta.living import pubmed
from livingmeta.living.pubmed import FetchError, medline_record_problem, split_medline
from tests.living.fake_eutils import DATA, RECORDS, Body
from tests.living.test_pubmed import (ORDER, NOW, SINCE, clock, exported_ids, make_client, make_settings,  # noqa: F401
                                      pubmed_files, review, run_fetch, server)

REAL_EXPORTS = ("nbib_pubmed-balloongui-set.nbib", "nbib_single.nbib")

# A book chapter laid out as PubMed's MEDLINE format lays out Bookshelf records (no OWN, no SO; the
# Bookshelf accession instead). Fictitious content.
BOOK_CHAPTER = """PMID- 40000001
STAT- Publisher
DRDT- 20260105
CTDT- 20260105
PB  - Example University Press, Exampletown
DP  - 2026
TI  - Disc degeneration: an example chapter.
BTI - Example Reviews of Spine Biology
AB  - Fictitious abstract of a book chapter, written for this test.
FED - Editor, Example
ED  - Editor E
FAU - Author, Example
AU  - Author E
LA  - eng
PT  - Review
PT  - Book Chapter
PL  - Exampletown
EDAT- 2026/01/05 00:00
CRDT- 2026/01/05 00:00
AID - NBK000001 [bookaccession]
"""


def real_text(shared_data, name):
    return (shared_data / "exports" / name).read_text(encoding="utf-8").replace("\r\n", "\n")


def batch(*pmids):
    """The body EFetch sends for these records (a blank line first, one between records)."""
    return "\n" + "\n".join(RECORDS[p] for p in pmids)


# ---------------------------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("name", REAL_EXPORTS)
def test_every_real_pubmed_record_is_complete(shared_data, name):
    text = real_text(shared_data, name)
    records = split_medline(text, where=name)
    assert len(records) == text.count("\nPMID- ") + text.startswith("PMID- ")
    assert all(medline_record_problem(r) is None for r in records)
    if name == REAL_EXPORTS[0]:  # the rule does not ask for what real records may lack
        statuses = {line[6:].strip() for r in records for line in r.splitlines() if line.startswith("STAT- ")}
        assert statuses == {"MEDLINE", "PubMed-not-MEDLINE", "Publisher", "In-Process", "In-Data-Review"}
        assert sum("\nAB  - " not in r for r in records) == 5


def test_the_test_servers_records_and_a_book_chapter_are_complete():
    assert all(medline_record_problem(r) is None for r in RECORDS.values())
    assert medline_record_problem(BOOK_CHAPTER) is None
    # a book record without its accession (cut before its last line) is not
    assert "SO (source)" in medline_record_problem(BOOK_CHAPTER.rsplit("AID - ", 1)[0])


@pytest.mark.parametrize("record,problem", [
    ("PMID- 41000001\n", "only its PMID line"),
    (RECORDS["41000001"].split("OWN - NLM\n")[0] + RECORDS["41000001"].split("STAT- Publisher\n")[1],
     "no STAT"),
    (RECORDS["41000001"].replace("\nTI  - ", "\nXTI - ").replace("\n      degeneration in a rat", "\nXX  - a"),
     "no title"),
    (RECORDS["41000001"].replace("OWN - NLM\n", ""), "no OWN"),
    (RECORDS["41000001"].split("PST - ")[0], "ends with its AID field"),
    (RECORDS["41000001"].replace("LA  - eng\n", "LA  - eng\n\n"), "empty line"),
    (RECORDS["41000001"].replace("LA  - eng\n", "<html><body>Bad gateway</body></html>\n"), "not a MEDLINE field"),
    (RECORDS["41000001"].replace("LA  - eng\n", "LA - eng\n"), "not a MEDLINE field"),
    (RECORDS["41000001"].replace("      degeneration", "    degeneration"), "not a MEDLINE field"),
])
def test_incomplete_or_malformed_records_are_named(record, problem):
    assert problem in medline_record_problem(record)


def test_every_cut_at_a_line_boundary_is_refused(shared_data):
    """Cut each real record after each of its lines: every cut is refused - except the one the rule
    cannot see, after the first line of an SO field that continues on a second line (documented). Cuts
    between records leave whole records only, fewer than asked for: fetch_pubmed refuses those (tests
    below)."""
    records = split_medline(real_text(shared_data, REAL_EXPORTS[0]))
    refused = undetectable = 0
    for record in records:
        lines = record.splitlines(keepends=True)
        for n in range(1, len(lines)):
            cut = "".join(lines[:n])
            if medline_record_problem(cut) is not None:
                refused += 1
                continue
            assert lines[n - 1].startswith("SO  - ") or lines[n - 1].startswith("      ")
            assert all(line.startswith("      ") for line in lines[n:]), (cut, lines[n:])
            assert any(line.startswith("SO  - ") for line in lines[:n])
            undetectable += 1
    assert refused > 3000 and undetectable <= sum(r.count("\n      ", r.index("\nSO  - ")) for r in records)
    # and the same through split_medline, on whole answers cut in a record
    text = "\n" + "\n".join(records[:5])
    for end in (i + 1 for i, ch in enumerate(text) if ch == "\n"):
        cut = text[:end]
        try:
            got = split_medline(cut)
        except FetchError:
            continue
        assert all(medline_record_problem(r) is None for r in got)
        assert got == records[:len(got)] or not cut.endswith("\n\n") and cut.rstrip("\n").splitlines()[-1][:6] in (
            "SO  - ", "      ")


# ---------------------------------------------------------------------------------------------- end to end


FIRST = ORDER[:3]  # the first batch (batch_size 3)


@pytest.mark.parametrize("body,message", [
    # cut at a line boundary inside the third record (before its SO line)
    (batch(*FIRST).rsplit("PST - aheadofprint\nSO  - ", 1)[0] + "PST - aheadofprint\n",
     "record 3 of 3 \\(PMID 41000005\\) ends with its PST field"),
    # cut at a line boundary inside the third record, just after its PMID line
    (batch(*FIRST[:2]) + "\nPMID- 41000005\n", "record 3 of 3 \\(PMID 41000005\\) has only its PMID line"),
    # a record cut down to its PMID line in the middle of the batch
    ("\n" + RECORDS[FIRST[0]] + "\nPMID- 41000006\n\n" + RECORDS[FIRST[2]],
     "record 2 of 3 \\(PMID 41000006\\) has only its PMID line"),
    # a record cut short in the middle of the batch, the next one glued on
    (batch(*FIRST).replace("AB  - Hand-written", "PMID- 41000099\nAB  - Hand-written", 1), "\\(PMID 41000007\\)"),
    # the same record twice instead of two different ones
    (batch(FIRST[0], FIRST[1], FIRST[1]), "returned twice 1, e.g. 41000006"),
    # an HTML page appended by a proxy
    (batch(*FIRST) + "<html><body>Proxy error</body></html>\n", "not a MEDLINE field"),
    # a control character
    (batch(*FIRST).replace("OWN - NLM", "OWN - N\x00LM", 1), "control character \\(U\\+0000\\)"),
])
def test_a_partial_batch_writes_nothing_and_is_fetched_again(review, server, clock, body, message):
    server.fault("efetch", Body(body.encode("utf-8")))
    with pytest.raises(FetchError, match=message) as err:
        run_fetch(review, server, clock)
    assert "\n" not in str(err.value) and "nothing was written" in str(err.value)
    assert pubmed_files(review) == []
    assert pubmed.exported_pmids(review) == set()
    # the next run fetches every record, those of the refused batch included
    result = run_fetch(review, server, clock)
    assert exported_ids(result.export) == ORDER
    assert all(medline_record_problem(r) is None for r in split_medline(result.export.read_text("utf-8")))


def test_real_records_without_abstracts_are_written_verbatim(review, server, clock, shared_data):
    """Seven real records (some without AB) served by the fake server go through unchanged."""
    records = split_medline(real_text(shared_data, REAL_EXPORTS[0]))
    records = [r for r in records if "\nAB  - " not in r][:3] + [r for r in records if "\nAB  - " in r][:4]
    pmids = [pubmed.record_pmid(r) for r in records]
    search = json.loads((DATA / "esearch_history.json").read_text(encoding="utf-8"))
    search["esearchresult"]["idlist"] = pmids
    server.fault("esearch", Body(json.dumps(search).encode(), "application/json"))
    server.fault("efetch", Body(("\n" + "\n".join(records)).encode("utf-8")))
    settings = make_settings(server, batch_size=10)
    result = pubmed.fetch_pubmed(review, settings, since=SINCE, now=NOW, client=make_client(settings, clock))
    assert result.written == 7 and exported_ids(result.export) == pmids
    assert result.export.read_text(encoding="utf-8") == "\n".join(records)
