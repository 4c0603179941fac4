"""A malformed E-utilities answer of any shape is one clear FetchError, never a traceback (issue 13,
point 5): a parametrised list of the shapes seen or imaginable, then the issue's case (``errorlist`` given
as a list) end to end. test_fetch_fuzz.py adds a bounded hypothesis run over generated answers."""

from __future__ import annotations

import json

import pytest

from livingmeta.cli import main
from livingmeta.config import load
from livingmeta.living import session as session_module
from livingmeta.living import update as update_module
from livingmeta.living.runner import RunResult
from livingmeta.living.pubmed import FetchError, SearchResult, parse_efetch, parse_esearch
from tests.living.fake_eutils import DATA, RECORDS, Body, FakeEutils
from tests.living.test_pubmed import clock, pubmed_files, review, run_fetch  # noqa: F401
from tests.living.test_pubmed_cli import files, write_review

GOOD = json.loads((DATA / "esearch_history.json").read_text(encoding="utf-8"))


def with_result(**changes) -> bytes:
    data = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is KeyError:
            data["esearchresult"].pop(key)
        else:
            data["esearchresult"][key] = value
    return json.dumps(data).encode("utf-8")


def assert_clear(err: FetchError, fragment: str = "") -> None:
    text = str(err)
    assert text and "\n" not in text and "\r" not in text and len(text) < 600
    assert "nothing was written" in text
    assert fragment in text, text


# ---------------------------------------------------------------------------------------------- ESearch

ESEARCH_SHAPES = [
    (b"", "not valid JSON (the body is empty)"),
    (b"   \n", "not valid JSON (the body is empty)"),
    (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad</h1></body></html>",
     "an HTML page: 502 Bad Gateway"),
    (b"<html><body>Service temporarily unavailable</body></html>", "an HTML page: Service temporarily"),
    (b'\xff\xfe{"esearchresult": {}}', "not UTF-8 text (invalid byte at offset 0)"),
    (b'{"esearchresult": {"count": "7", "x": "\xe9"}}', "not UTF-8 text"),
    (b'{"header":{"type":"esearch"},"esearchresult":{"count":"7","idli', "not valid JSON (it begins"),
    (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
    (b"[]", "a JSON list, not an object"),
    (b'["esearchresult"]', "a JSON list, not an object"),
    (b'"esearchresult"', "a JSON string, not an object"),
    (b"42", "a JSON number, not an object"),
    (b"null", "a JSON null, not an object"),
    (b"true", "a JSON true/false, not an object"),
    (b"{}", "no 'esearchresult' object"),
    (b'{"esearchresult": []}', "no 'esearchresult' object"),
    (b'{"esearchresult": "7"}', "no 'esearchresult' object"),
    (b'{"esearchresult": null}', "no 'esearchresult' object"),
    (b'{"error": "API key invalid"}', "the server reported an error: API key invalid"),
    (b'{"error": {"code": 3, "message": "too\\nmany\\r\\nrequests"}}', 'the server reported an error: {"code": 3, '
                                                                       '"message": "too\\nmany\\r\\nrequests"}'),
    (b'{"error": ["a", "b"]}', 'the server reported an error: ["a", "b"]'),
    (b'{"esearchresult": {"ERROR": ["Invalid", "query"]}}', 'PubMed reported an error: ["Invalid", "query"]'),
    (b'{"esearchresult": {"ERROR": {"reason": "x"}}}', 'PubMed reported an error: {"reason": "x"}'),
    (b'{"esearchresult": {"ERROR": "' + b"x" * 5000 + b'"}}', "PubMed reported an error: xxxx"),
    (with_result(count=KeyError), "no valid 'count' (got null)"),
    (with_result(count=None), "no valid 'count' (got null)"),
    (with_result(count="seven"), "no valid 'count' (got seven)"),
    (with_result(count="-7"), "no valid 'count'"),
    (with_result(count=-7), "no valid 'count'"),
    (with_result(count=7.5), "no valid 'count' (got 7.5)"),
    (with_result(count="7.0"), "no valid 'count'"),
    (with_result(count=True), "no valid 'count' (got true)"),
    (with_result(count=[7]), "no valid 'count' (got [7])"),
    (with_result(count={"n": 7}), "no valid 'count'"),
    (with_result(count="9" * 5000), "no valid 'count'"),
    (b'{"esearchresult": {"count": NaN}}', "no valid 'count' (got NaN)"),
    (with_result(idlist="41000007"), "'idlist' is a JSON string, not a list"),
    (with_result(idlist={"a": "41000007"}), "'idlist' is a JSON object, not a list"),
    (with_result(idlist=7), "'idlist' is a JSON number, not a list"),
    (with_result(idlist=[None]), "'idlist' holds null, not a PMID"),
    (with_result(idlist=["abc"]), "'idlist' holds abc, not a PMID"),
    (with_result(idlist=[True]), "'idlist' holds true, not a PMID"),
    (with_result(idlist=["0"]), "'idlist' holds 0, not a PMID"),
    (with_result(idlist=[-5]), "'idlist' holds -5, not a PMID"),
    (with_result(idlist=[["41000007"]]), "'idlist' holds [\"41000007\"], not a PMID"),
    (with_result(webenv=5), "'webenv' is not a history key"),
    (with_result(webenv=["MCID"]), "'webenv' is not a history key"),
    (with_result(webenv=""), "'webenv' is not a history key"),
    (with_result(webenv=KeyError), "no history (WebEnv/query_key)"),
    (with_result(querykey=KeyError), "no history (WebEnv/query_key)"),
    (with_result(querykey="one"), "'querykey' is not a number"),
    (with_result(querykey=[1]), "'querykey' is not a number"),
]


@pytest.mark.parametrize("body,fragment", ESEARCH_SHAPES)
def test_malformed_esearch_answers_are_one_clear_error(body, fragment):
    with pytest.raises(FetchError) as err:
        parse_esearch(body, history=True)
    assert_clear(err.value, fragment)


@pytest.mark.parametrize("changes,warnings", [
    # the case: errorlist given as a list gave a traceback
    ({"errorlist": ["phrase not found: exosome*"]}, ["phrase not found: exosome*"]),
    ({"errorlist": "fieldsnotfound: xyz"}, ["fieldsnotfound: xyz"]),
    ({"errorlist": None, "warninglist": None}, []),
    ({"errorlist": {"phrasesnotfound": "hydrogelz"}}, ["phrasesnotfound: hydrogelz"]),
    ({"errorlist": {"phrasesnotfound": ["a", 3, None, {"b": ["c"]}]}},
     ["phrasesnotfound: a", "phrasesnotfound: 3", "phrasesnotfound.b: c"]),
    ({"warninglist": [["deep", ["deeper", ["deepest", ["bottom"]]]]]},
     ["deep", "deeper", "deepest", '["bottom"]']),
    ({"warninglist": {"outputmessages": ["line one\nline two\ttab"]}}, ["outputmessages: line one line two tab"]),
    ({"warninglist": {"outputmessages": [f"m{i}" for i in range(60)]}},
     [f"outputmessages: m{i}" for i in range(50)] + ["... and 10 more message(s)"]),
])
def test_informational_lists_of_any_shape_become_warnings(changes, warnings):
    result = parse_esearch(with_result(**changes))
    assert isinstance(result, SearchResult) and result.count == 7 and len(result.ids) == 7
    assert result.warnings == warnings


@pytest.mark.parametrize("translation,expected", [
    (None, ""), (KeyError, ""), ("a AND b", "a AND b"), (["a", "b"], '["a", "b"]'), (7, "7"),
])
def test_the_translation_is_always_text(translation, expected):
    assert parse_esearch(with_result(querytranslation=translation)).query_translation == expected


def test_numbers_may_be_json_numbers_or_strings():
    result = parse_esearch(with_result(count=7, idlist=[41000007, "41000006", " 41000005 ", 41000004, 41000003,
                                                        41000002, 41000001], querykey=1))
    assert result.count == 7 and result.ids[:3] == ["41000007", "41000006", "41000005"] and result.query_key == "1"
    # a dry run (no history asked for) needs no WebEnv
    assert parse_esearch(with_result(webenv=KeyError, querykey=KeyError, idlist=[]), history=False).count == 7


# ---------------------------------------------------------------------------------------------- EFetch

EFETCH_SHAPES = [
    (b"\xff\xfeP\x00M\x00", "not UTF-8 text (invalid byte at offset 0)"),
    (("\n" + RECORDS["41000001"]).encode("utf-8").replace("Hand".encode(), b"H\xe4nd"), "not UTF-8 text"),
    (b"<html><head><title>504 Gateway Time-out</title></head></html>", "an HTML page: 504 Gateway Time-out"),
    (b'{"error": "efetch failed"}', "not MEDLINE text (it begins '{\"error\": \"efetch failed\"}')"),
    (b"<?xml version='1.0'?><eFetchResult><ERROR>Unable to obtain\nquery #1</ERROR></eFetchResult>",
     "EFetch reported an error: Unable to obtain query #1"),
    (b"PMID- abc\nTI  - x\n", "not MEDLINE text"),
    (b"Some text\nPMID- 41000001\n", "not MEDLINE text (it begins 'Some text')"),
    (("\n" + RECORDS["41000001"]).replace("\n", "\r").encode(), "control character (U+000D)"),
    (("\n" + RECORDS["41000001"]).replace("Hand", "\x1b[31mHand").encode(), "control character (U+001B)"),
    (("\n" + RECORDS["41000001"]).rstrip("\n").encode(), "ends in the middle of a line"),
    (("\n" + RECORDS["41000001"]).replace("\nSO  - ", "\n\tSO  - ").encode(), "not a MEDLINE field"),
    (("\n" + RECORDS["41000001"]).replace("AU  - Zhang W\n", "AU  - Zhang W\n" + "x" * 10 + "\n").encode(),
     "line 14: 'xxxxxxxxxx'"),
]


@pytest.mark.parametrize("body,fragment", EFETCH_SHAPES)
def test_malformed_efetch_answers_are_one_clear_error(body, fragment):
    with pytest.raises(FetchError) as err:
        parse_efetch(body, where="efetch (records 1-1)")
    assert_clear(err.value, fragment)
    assert str(err.value).startswith("efetch (records 1-1): ")


def test_windows_line_endings_are_accepted():
    body = ("\n" + "\n".join(RECORDS[p] for p in ("41000001", "41000002"))).replace("\n", "\r\n").encode()
    assert parse_efetch(body) == [RECORDS["41000001"], RECORDS["41000002"]]


# ---------------------------------------------------------------------------------------------- end to end


@pytest.fixture
def server():
    with FakeEutils() as srv:
        yield srv


def test_errorlist_as_a_list_is_kept_as_a_warning_end_to_end(tmp_path, server, capsys):
    config = write_review(tmp_path, server)
    server.fault("esearch", Body(with_result(errorlist=["phrase not found: exosomez"]), "application/json"))
    assert main(["fetch", "pubmed", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "esearch warning: phrase not found: exosomez" in err
    assert "7 new written" in out
    record = next(n for n in files(config) if n.endswith(".search.yaml"))
    text = (config.parent / "myreview" / "searches" / "pubmed" / record).read_text(encoding="utf-8")
    assert "phrase not found: exosomez" in text


@pytest.mark.parametrize("body", [b"[]", b"<html><title>Down for maintenance</title></html>", b'{"esearchresult": 7}'])
def test_a_malformed_answer_is_one_error_line_from_the_command_and_from_update(tmp_path, server, capsys,
                                                                              monkeypatch, body):
    config = write_review(tmp_path, server)
    server.fault("esearch", Body(body, "application/json"))
    assert main(["fetch", "pubmed", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("livingmeta: error: esearch: ")
    assert files(config) == []
    # the same answer during `livingmeta update`: reported, status says failed (not "running" forever)
    server.fault("esearch", Body(body, "application/json"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(session_module, "run_snakemake",
                        lambda cmd, **kw: RunResult(0, "Nothing to be done (all requested files are present and up to date)."))
    outcome = update_module.update(load(config), configfile=str(config))
    assert outcome.status == 1 and "PubMed fetch FAILED (esearch: " in outcome.summary
    (status,) = list(tmp_path.rglob("status.json"))
    state = json.loads(status.read_text(encoding="utf-8"))
    assert state["state"] != "running" and any("esearch: " in p for p in state.get("problems", []))


def test_an_unexpected_error_inside_the_fetch_is_a_fetch_error(review, server, clock, monkeypatch):
    """Even a bug (any exception) leaves fetch_pubmed as one FetchError, never a traceback in cron."""
    from livingmeta.living import pubmed

    monkeypatch.setattr(pubmed, "exported_pmids", lambda review_dir: 1 / 0)
    with pytest.raises(FetchError) as err:
        run_fetch(review, server, clock)
    assert "unexpected ZeroDivisionError" in str(err.value) and "report it" in str(err.value)
    assert pubmed_files(review) == []


def test_an_unwritable_review_folder_is_a_fetch_error(review, server, clock, monkeypatch):
    from livingmeta.living import pubmed

    def refuse(folder, name, text):
        raise PermissionError(13, "Permission denied", str(folder / name))

    monkeypatch.setattr(pubmed, "_write_hidden_temp", refuse)
    with pytest.raises(FetchError, match="Permission denied; nothing was written. Check the review folder"):
        run_fetch(review, server, clock)
    assert pubmed_files(review) == []
