"""PubMed fetching against a fake E-utilities server on 127.0.0.1 (tests/living/fake_eutils.py) serving
hand-written recorded responses (tests/living/data/), including the faults the fetcher must survive or
refuse. Time is a fake clock: rate limits and backoff are checked from the waits requested, never timed."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from livingmeta.errors import ReviewInputError
from livingmeta.living import pubmed
from livingmeta.living.pubmed import (DEFAULTS, EutilsClient, FetchError, crdt_term, export_stem, fetch_pubmed,
                                      last_search_end, pubmed_settings, validate_settings)
from livingmeta.plan import scan_exports
from tests.living.fake_eutils import (RECORDS, Body, Cut, DropLastRecord, FakeEutils, ForeignRecord, Hang,
                                      Status, Truncate)

QUERY = ('("Exosomes"[MeSH] OR "extracellular vesicles") AND "Hydrogels"[MeSH] '
         'AND "Intervertebral Disc Degeneration"[MeSH]')
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)
SINCE = date(2026, 1, 10)
ORDER = ["41000007", "41000006", "41000005", "41000004", "41000003", "41000002", "41000001"]
SECRET = "k3y-0f-th3-r3v13w-t34m-5ecr3t"
DATA = Path(__file__).resolve().parent / "data"
RATE_LIMITED = (DATA / "esearch_rate_limited.json").read_bytes()


class FakeClock:
    """Monotonic time that only moves when the code under test sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def server(clock):
    with FakeEutils(clock=clock) as srv:
        yield srv


@pytest.fixture
def review(tmp_path):
    folder = tmp_path / "review"
    folder.mkdir()
    return folder


def make_settings(server, **overrides):
    return validate_settings({**DEFAULTS, "query": QUERY, "base_url": server.base_url, "batch_size": 3,
                              "backoff_base": 0.5, "backoff_max": 30.0, "timeout": 5.0, **overrides})


def make_client(settings, clock, environ=None):
    return EutilsClient.from_settings(settings, environ=environ or {}, clock=clock, sleep=clock.sleep,
                                      rng=lambda: 0.5)


def run_fetch(review, server, clock, environ=None, since=SINCE, **overrides):
    settings = make_settings(server, **overrides)
    return fetch_pubmed(review, settings, since=since, now=NOW, client=make_client(settings, clock, environ))


def pubmed_files(review):
    folder = review / "searches" / "pubmed"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def exported_ids(path):
    return [line.split("-", 1)[1].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("PMID-")]


# ---------------------------------------------------------------------------------------------- happy path


def test_fetch_windows_on_crdt_uses_history_and_batches(review, server, clock):
    result = run_fetch(review, server, clock)

    (search,) = server.of("esearch")
    assert search.method == "POST"
    assert search.params["db"] == "pubmed"
    assert search.params["usehistory"] == "y"
    assert search.params["retmode"] == "json"
    assert search.params["term"] == f'({QUERY}) AND ("2026/01/10"[crdt] : "2026/03/01"[crdt])'
    assert "[edat]" not in search.params["term"] and "[dp]" not in search.params["term"]
    assert search.params["tool"] == "livingmeta"

    fetches = server.of("efetch")
    assert [(r.params["retstart"], r.params["retmax"]) for r in fetches] == [("0", "3"), ("3", "3"), ("6", "1")]
    for r in fetches:
        assert r.params["WebEnv"] == "MCID_67b0c2f1a8e9d4412c3b5e70"
        assert r.params["query_key"] == "1"
        assert (r.params["rettype"], r.params["retmode"], r.params["db"]) == ("medline", "text", "pubmed")

    assert pubmed_files(review) == ["2026-03-01.nbib", "2026-03-01.search.yaml"]
    export = review / "searches" / "pubmed" / "2026-03-01.nbib"
    assert result.export == export
    assert exported_ids(export) == ORDER
    text = export.read_text(encoding="utf-8")
    assert "Müller A" in text  # UTF-8 kept
    assert text == "\n".join(RECORDS[p] for p in ORDER)  # records verbatim, one blank line between
    assert (result.count, result.fetched, result.written, result.already_exported) == (7, 7, 7, 0)


def test_the_export_is_read_by_the_workflows_parser_with_stable_ids(review, server, clock):
    from livingmeta.records.ingest import parse_export

    result = run_fetch(review, server, clock)
    parsed = parse_export(result.export, "pubmed")
    assert parsed["format"] == "nbib" and parsed["problems"] == []
    assert [r["record_id"] for r in parsed["records"]] == [f"pubmed:2026-03-01:{i}" for i in range(1, 8)]
    assert [r["pmid"] for r in parsed["records"]] == ORDER
    assert parsed["records"][5]["authors"][0].startswith("Müller")


def test_search_record_holds_what_prisma_s_needs(review, server, clock):
    result = run_fetch(review, server, clock)
    meta = yaml.safe_load(result.record.read_text(encoding="utf-8"))
    assert result.record.name == "2026-03-01.search.yaml"
    assert meta["query"] == QUERY
    assert meta["database"] == "pubmed"
    assert meta["window"] == {"field": "crdt", "from": "2026-01-10", "to": "2026-03-01"}
    assert meta["search_term"].endswith('("2026/01/10"[crdt] : "2026/03/01"[crdt])')
    assert "[crdt]" in meta["query_translation"]
    assert (meta["count"], meta["fetched"], meta["written"], meta["already_exported"]) == (7, 7, 7, 0)
    assert meta["export"] == "2026-03-01.nbib"
    assert meta["searched_at"] == "2026-03-01T06:00:00+00:00"
    assert meta["tool"]["name"] == "livingmeta" and meta["tool"]["version"] not in ("", None)
    assert meta["api_key_used"] is False


def test_next_window_starts_where_the_last_search_ended(review, server, clock):
    run_fetch(review, server, clock)
    assert last_search_end(review) == date(2026, 3, 1)
    server.esearch_file = "esearch_empty.json"
    later = datetime(2026, 3, 8, 6, tzinfo=timezone.utc)
    settings = make_settings(server)
    result = fetch_pubmed(review, settings, now=later, client=make_client(settings, clock))
    term = server.of("esearch")[-1].params["term"]
    # the last day of the previous window is searched again (records created later that day)
    assert term.endswith('("2026/03/01"[crdt] : "2026/03/08"[crdt])')
    assert (result.window_from, result.window_to) == (date(2026, 3, 1), date(2026, 3, 8))
    # nothing new: only the search record is written, and the window end moves on
    assert result.export is None and result.written == 0
    assert pubmed_files(review) == ["2026-03-01.nbib", "2026-03-01.search.yaml", "2026-03-08.search.yaml"]
    assert len(server.of("efetch")) == 3  # none for the empty search
    assert last_search_end(review) == date(2026, 3, 8)
    assert "outputmessages: No items found." in result.warnings


def test_first_window_starts_at_previous_version_search_date(review, server, clock):
    (review / "previous_version.yaml").write_text("search_date: 2025-12-31\nrecords_identified: 1844\n")
    settings = make_settings(server)
    result = fetch_pubmed(review, settings, now=NOW, client=make_client(settings, clock))
    assert result.window_from == date(2025, 12, 31)
    assert '"2025/12/31"[crdt]' in server.of("esearch")[0].params["term"]


def test_an_export_made_by_hand_counts_as_a_search_on_its_date(review, server, clock):
    (review / "previous_version.yaml").write_text("search_date: 2025-12-31\n")
    folder = review / "searches" / "pubmed"
    folder.mkdir(parents=True)
    (folder / "2026-02-10.nbib").write_text(RECORDS["41000004"], encoding="utf-8")  # no .search.yaml
    assert last_search_end(review) == date(2026, 2, 10)
    # a back-fill search run on 2026-02-20 for an old window: its window end counts, not its name
    (folder / "2026-02-20.nbib").write_text(RECORDS["41000005"], encoding="utf-8")
    (folder / "2026-02-20.search.yaml").write_text("window: {field: crdt, from: 2024-01-01, to: 2024-06-30}\n")
    assert last_search_end(review) == date(2026, 2, 10)
    (folder / "2026-02-10.nbib").unlink()
    assert last_search_end(review) == date(2024, 6, 30)


def test_the_protocols_query_is_used_when_the_settings_have_none(review, server, clock):
    (review / "review.yaml").write_text(yaml.safe_dump({"search": {"pubmed": {"query": "exosome AND hydrogel"}}}))
    settings = {"enabled": True, "base_url": server.base_url, "backoff_base": 0.01}  # a raw fetch.pubmed block
    result = fetch_pubmed(review, settings, since=SINCE, now=NOW, client=make_client(make_settings(server), clock))
    assert result.query == "exosome AND hydrogel"
    assert server.of("esearch")[0].params["term"].startswith("(exosome AND hydrogel) AND ")


def test_without_any_earlier_search_since_is_required(review, server, clock):
    settings = make_settings(server)
    with pytest.raises(ReviewInputError, match="--since"):
        fetch_pubmed(review, settings, now=NOW, client=make_client(settings, clock))
    assert server.requests == []


@pytest.mark.parametrize("since,until,message", [
    (date(2026, 3, 2), None, "starts after it ends"),
    (SINCE, date(2026, 3, 2), "in the future"),
])
def test_bad_windows_are_refused_before_any_request(review, server, clock, since, until, message):
    settings = make_settings(server)
    with pytest.raises(ReviewInputError, match=message):
        fetch_pubmed(review, settings, since=since, until=until, now=NOW, client=make_client(settings, clock))
    assert server.requests == [] and pubmed_files(review) == []


def test_second_fetch_the_same_day_never_overwrites_and_sorts_after(review, server, clock):
    folder = review / "searches" / "pubmed"
    folder.mkdir(parents=True)
    earlier = "\n".join(RECORDS[p] for p in ("41000001", "41000002"))  # an export made by hand that morning
    (folder / "2026-03-01.nbib").write_text(earlier, encoding="utf-8")

    result = run_fetch(review, server, clock)

    assert (folder / "2026-03-01.nbib").read_text(encoding="utf-8") == earlier
    assert result.export.name == "2026-03-01_02.nbib"
    assert result.record.name == "2026-03-01_02.search.yaml"
    # records already exported are counted, not exported twice
    assert (result.count, result.already_exported, result.written) == (7, 2, 5)
    assert exported_ids(result.export) == ORDER[:5]
    # the new export comes after the first one both as a file name and as an export name (record ids)
    exports = scan_exports(review / "searches")
    assert [e.name for e in exports] == ["2026-03-01", "2026-03-01_02"]
    assert sorted(e.name for e in exports) == ["2026-03-01", "2026-03-01_02"]
    assert export_stem(folder, date(2026, 3, 1)) == "2026-03-01_03"


def test_dry_run_counts_and_writes_nothing(review, server, clock):
    settings = make_settings(server)
    result = fetch_pubmed(review, settings, since=SINCE, now=NOW, dry_run=True,
                          client=make_client(settings, clock))
    assert result.count == 7 and result.dry_run and result.export is None and result.record is None
    (search,) = server.requests
    assert search.params["retmax"] == "0" and "usehistory" not in search.params
    assert pubmed_files(review) == []
    assert "dry run" in result.summary()


# ---------------------------------------------------------------------------------------------- politeness


def test_requests_are_spaced_to_three_per_second_without_a_key(review, server, clock):
    run_fetch(review, server, clock)
    times = [r.clock for r in server.requests]
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap >= 1 / 3 - 1e-9 for gap in gaps), gaps


def test_api_key_is_sent_allows_ten_per_second_and_is_never_logged(review, server, clock, caplog):
    caplog.set_level(logging.DEBUG, logger="livingmeta")
    # NCBI's 429 body echoes the key; a 500 and the retries make the client log warnings
    server.fault("esearch", Status(429, retry_after="1", body=RATE_LIMITED))
    server.fault("efetch", Status(500, body=b'{"error": "internal"}'))
    result = run_fetch(review, server, clock, environ={"NCBI_API_KEY": SECRET})

    assert all(r.params.get("api_key") == SECRET for r in server.requests)
    assert all(SECRET not in r.raw.split("\n", 1)[0] for r in server.requests)  # never in the URL
    times = [r.clock for r in server.requests]
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.1 - 1e-9
    assert any("HTTP 429" in m for m in caplog.messages) and any("HTTP 500" in m for m in caplog.messages)
    assert caplog.records and all(SECRET not in m for m in caplog.messages)
    assert SECRET not in result.record.read_text(encoding="utf-8")
    assert SECRET not in result.summary()
    assert yaml.safe_load(result.record.read_text())["api_key_used"] is True


def test_api_key_env_names_the_variable(server):
    settings = make_settings(server, api_key_env="MY_NCBI_KEY")
    assert EutilsClient.from_settings(settings, environ={"MY_NCBI_KEY": SECRET}).api_key == SECRET
    assert EutilsClient.from_settings(settings, environ={"NCBI_API_KEY": SECRET}).api_key is None
    assert EutilsClient.from_settings(settings, environ={"MY_NCBI_KEY": "  "}).api_key is None
    with_key = EutilsClient.from_settings(settings, environ={"MY_NCBI_KEY": SECRET})
    assert with_key.min_interval == pytest.approx(0.105)
    # a configured rate can only be lower than NCBI's limit
    assert EutilsClient.from_settings(make_settings(server, requests_per_second=50), environ={}).min_interval \
        == pytest.approx(1.05 / 3)
    assert EutilsClient.from_settings(make_settings(server, requests_per_second=1), environ={}).min_interval \
        == pytest.approx(1.05)


# ---------------------------------------------------------------------------------------------- retries


def test_429_is_retried_after_the_servers_retry_after(review, server, clock):
    server.fault("esearch", Status(429, retry_after="7", body=RATE_LIMITED))
    result = run_fetch(review, server, clock)
    assert len(server.of("esearch")) == 2
    assert 7.0 in clock.sleeps  # Retry-After (7 s) beats the first backoff (0.375 s)
    assert result.written == 7


def test_5xx_are_retried_with_exponential_backoff_and_jitter(review, server, clock):
    server.fault("efetch", None, Status(500), Status(503), Status(502))  # the 2nd batch fails three times
    result = run_fetch(review, server, clock)
    assert [r.params["retstart"] for r in server.of("efetch")] == ["0", "3", "3", "3", "3", "6"]
    backoffs = [s for s in clock.sleeps if s > 0.35 + 1e-9]
    # base 0.5 s doubling, 'equal jitter' with rng 0.5: 3/4 of 0.5, 1, 2
    assert backoffs == pytest.approx([0.375, 0.75, 1.5])
    assert result.written == 7 and exported_ids(result.export) == ORDER


def test_backoff_is_capped_and_jittered_within_bounds(server):
    for r in (0.0, 0.999):
        client = EutilsClient(server.base_url, backoff_base=1.0, backoff_max=10.0, rng=lambda r=r: r)
        for retry in range(8):
            ceiling = min(10.0, 2.0 ** retry)
            assert ceiling / 2 <= client.backoff(retry) <= ceiling


def test_timeout_is_retried(review, server, clock):
    server.fault("esearch", Hang(10))
    result = run_fetch(review, server, clock, timeout=0.2)
    assert len(server.of("esearch")) == 2
    assert result.written == 7


def test_truncated_transfer_is_retried(review, server, clock):
    server.fault("efetch", Truncate(0.5))
    result = run_fetch(review, server, clock)
    assert len(server.of("efetch")) == 4
    assert exported_ids(result.export) == ORDER


def test_gives_up_after_max_retries_and_writes_nothing(review, server, clock):
    server.fault("efetch", None, *[Status(503)] * 3)
    with pytest.raises(FetchError, match="gave up after 3 attempts"):
        run_fetch(review, server, clock, max_retries=2)
    assert len(server.of("efetch")) == 4  # the first batch, then the second three times
    assert pubmed_files(review) == []


def test_too_long_retry_after_aborts(review, server, clock):
    server.fault("esearch", Status(429, retry_after="3600"))
    with pytest.raises(FetchError, match="wait 3600 s"):
        run_fetch(review, server, clock)
    assert pubmed_files(review) == [] and 3600 not in clock.sleeps


def test_client_errors_are_not_retried(review, server, clock):
    server.fault("esearch", Status(400, body=b'{"error": "Invalid query"}'))
    with pytest.raises(FetchError, match="HTTP 400.*Invalid query"):
        run_fetch(review, server, clock)
    assert len(server.requests) == 1 and pubmed_files(review) == []


# ---------------------------------------------------------------------------------------------- refusals


def _with_earlier_export(review):
    folder = review / "searches" / "pubmed"
    folder.mkdir(parents=True)
    (folder / "2026-01-10.nbib").write_text(RECORDS["41000001"], encoding="utf-8")
    (folder / "2026-01-10.search.yaml").write_text("window: {field: crdt, from: 2025-12-01, to: 2026-01-10}\n")
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("endpoint,fault,message", [
    ("esearch", Body(b'{"header":{"type":"esearch"},"esearchresult":{"count":"7","retmax":"7","idli',
                     "application/json"), "not valid JSON"),
    ("esearch", Body((DATA / "esearch_error.json").read_bytes()),
     "PubMed reported an error: Empty term"),
    ("esearch", Body(b'{"header":{"type":"esearch"},"esearchresult":{"count":"7","retmax":"2",'
                     b'"querykey":"1","webenv":"W","idlist":["41000007","41000006"]}}'), "id list has 2 PMIDs"),
    ("efetch", DropLastRecord(), "0 record\\(s\\) returned, 1 expected"),
    ("efetch", ForeignRecord(), "not the 7 found by esearch"),
    ("efetch", Body((DATA / "efetch_error.xml").read_bytes()),
     "EFetch reported an error: Unable to obtain query #1"),
    ("efetch", Cut(0.6), "middle of a line"),
])
def test_malformed_responses_abort_without_leaving_files(review, server, clock, endpoint, fault, message):
    before = _with_earlier_export(review)
    # the fault hits the last batch, after two good ones: nothing of them may be left behind either
    server.fault(endpoint, *([None, None, fault] if endpoint == "efetch" else [fault]))
    with pytest.raises(FetchError, match=message):
        run_fetch(review, server, clock)
    assert pubmed_files(review) == before
    if endpoint == "efetch":
        assert len(server.of("efetch")) == 3  # not retried: a malformed answer is refused
    assert last_search_end(review) == date(2026, 1, 10)


def test_efetch_must_follow_the_search_history(review, server, clock, monkeypatch):
    # EFetch answers an unknown WebEnv with an XML error (HTTP 200): refused, nothing written
    real = EutilsClient.efetch_medline
    monkeypatch.setattr(EutilsClient, "efetch_medline",
                        lambda self, webenv, *a, **k: real(self, "MCID_other", *a, **k))
    with pytest.raises(FetchError, match="Unable to obtain query"):
        run_fetch(review, server, clock)
    assert pubmed_files(review) == []


def test_more_records_than_max_records_is_refused(review, server, clock):
    with pytest.raises(FetchError, match="more than max_records \\(5\\).*--since/--until"):
        run_fetch(review, server, clock, max_records=5)
    assert server.of("efetch") == [] and pubmed_files(review) == []


def test_unreachable_server_is_one_clear_error(review, clock):
    settings = validate_settings({**DEFAULTS, "query": QUERY, "base_url": "http://127.0.0.1:9/eutils/",
                                  "max_retries": 1, "backoff_base": 0.01})
    client = EutilsClient.from_settings(settings, environ={}, clock=clock, sleep=clock.sleep)
    with pytest.raises(FetchError, match="esearch: gave up after 2 attempts \\(last: connection failed"):
        fetch_pubmed(review, settings, since=SINCE, now=NOW, client=client)
    assert pubmed_files(review) == []


# ---------------------------------------------------------------------------------------------- settings


def test_settings_come_from_review_yaml_and_the_config_wins(review):
    (review / "review.yaml").write_text(yaml.safe_dump({"title": "T", "search": {"pubmed": {
        "query": "exosome AND hydrogel", "enabled": True}}}))
    settings = pubmed_settings(review, {})
    assert settings["query"] == "exosome AND hydrogel" and settings["enabled"] is True
    assert settings["base_url"] == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    assert settings["api_key_env"] == "NCBI_API_KEY"
    assert pubmed.pubmed_enabled(settings)
    settings = pubmed_settings(review, {"fetch": {"pubmed": {"query": "exosome", "enabled": False,
                                                             "base_url": "http://127.0.0.1:8080/eutils",
                                                             "batch_size": 200}}})
    assert settings["query"] == "exosome" and not pubmed.pubmed_enabled(settings)
    assert settings["base_url"] == "http://127.0.0.1:8080/eutils/" and settings["batch_size"] == 200
    assert not pubmed.pubmed_enabled(pubmed_settings(review / "missing", {}))


@pytest.mark.parametrize("given,field", [
    ({"batch_size": 0}, "fetch.pubmed.batch_size"),
    ({"batch_size": "100"}, "fetch.pubmed.batch_size"),
    ({"max_retries": True}, "fetch.pubmed.max_retries"),
    ({"timeout": 0}, "fetch.pubmed.timeout"),
    ({"base_url": "ftp://x"}, "fetch.pubmed.base_url"),
    ({"query": "  "}, "fetch.pubmed.query"),
    ({"enabled": "yes"}, "fetch.pubmed.enabled"),
    ({"api_key": "abc"}, "fetch.pubmed"),
])
def test_bad_settings_name_the_key(review, given, field):
    with pytest.raises(ReviewInputError) as err:
        pubmed_settings(review, {"fetch": {"pubmed": given}}, config_file="my/config.yaml")
    assert err.value.field == field and err.value.file == "my/config.yaml"


def test_missing_query_is_a_clear_error(review, server, clock):
    settings = make_settings(server, query=None)
    with pytest.raises(ReviewInputError, match="no saved PubMed query"):
        fetch_pubmed(review, settings, since=SINCE, now=NOW, client=make_client(settings, clock))


def test_crdt_term_and_export_names(tmp_path):
    assert crdt_term(" a OR b ", date(2026, 1, 2), date(2026, 1, 3)) == \
        '(a OR b) AND ("2026/01/02"[crdt] : "2026/01/03"[crdt])'
    assert export_stem(tmp_path / "none", date(2026, 1, 2)) == "2026-01-02"
    (tmp_path / "2026-01-02.search.yaml").write_text("")  # a search that found nothing still takes the name
    assert export_stem(tmp_path, date(2026, 1, 2)) == "2026-01-02_02"
    for n in range(2, 12):
        (tmp_path / f"2026-01-02_{n:02d}.nbib").write_text("")
    assert export_stem(tmp_path, date(2026, 1, 2)) == "2026-01-02_12"
    names = [f"2026-01-02_{n:02d}.nbib" for n in range(2, 12)] + ["2026-01-02.nbib", "2026-01-03.nbib"]
    assert sorted(names)[-1] == "2026-01-03.nbib" and sorted(names)[0] == "2026-01-02.nbib"
