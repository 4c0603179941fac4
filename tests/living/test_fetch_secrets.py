"""No secret leaves the PubMed fetcher, whatever the server sends (issue 13, point 5).

A fake E-utilities server on 127.0.0.1 echoes the API key it received - raw, URL-encoded, partially
percent-encoded, JSON-escaped, as HTML entities, in upper case, cut short - in every place an answer can
carry text: the body of an HTTP 200 error, of a 4xx and of a 5xx, ESearch's ``error`` and ``ERROR``,
``warninglist`` and ``errorlist`` (object, list and string forms), ``querytranslation``, an HTML error page,
EFetch's XML error and the MEDLINE records themselves. The key must appear in none of: the FetchError
text, the stdout/stderr of ``livingmeta fetch pubmed`` (a real subprocess, so nothing is redacted by an
earlier test in the same process), the ``.search.yaml`` record, the export, and ``livingmeta update``'s
summary line and ``status.json``.
"""

from __future__ import annotations

import html
import json
import logging
import os
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from livingmeta.config import load
from livingmeta.living import pubmed
from livingmeta.living import session as session_module
from livingmeta.living import update as update_module
from livingmeta.living.runner import RunResult
from livingmeta.living.pubmed import FetchError, redact, register_secret
from tests.living.fake_eutils import DATA, FakeEutils
from tests.living.test_pubmed_cli import write_review

REPO = Path(__file__).resolve().parents[2]
# an NCBI key is 36 hex digits; this one also has characters that every encoder escapes differently
KEY = "9f3c2a7e1b6d4e8f/a0c5+b2d7=e1f3&a9 c"
KEY_ENV = "TEST_ECHO_NCBI_KEY"
EMAIL = "reviewer.team+pubmed@example-university.org"


# ---------------------------------------------------------------------------------------------- echoing server


def key_forms(key: str) -> dict[str, str]:
    """The forms a server might echo ``key`` in (as text to put into a body)."""
    partial = "".join(urllib.parse.quote(c, safe="") if i % 3 == 0 else c for i, c in enumerate(key))
    return {
        "@RAW@": key,
        "@URL@": urllib.parse.quote(key, safe=""),
        "@PLUS@": urllib.parse.quote_plus(key),
        "@LOWERURL@": urllib.parse.quote(key, safe="").lower(),
        "@PARTIAL@": partial,  # partially quoted: every third character percent-encoded
        "@TWICE@": urllib.parse.quote(urllib.parse.quote(key, safe=""), safe=""),
        "@HTML@": "".join(f"&#{ord(c)};" if i % 2 else html.escape(c) for i, c in enumerate(key)),
        "@UPPER@": key.upper(),
        "@HEAD@": key[:-5],   # cut short at the end
        "@TAIL@": key[6:],    # ... and at the start
        # inside a JSON string: the decoder turns it back into the raw key
        "@JSONESC@": "".join(f"\\u{ord(c):04x}" if i % 2 else ("\\/" if c == "/" else c) for i, c in enumerate(key)),
    }


def leaks(text: str, key: str = KEY) -> list[str]:
    """The decodings of ``text`` in which a run of 12 characters of the key (any case) is found."""
    decoded = {"as is": text, "url-decoded": urllib.parse.unquote_plus(text),
               "url-decoded twice": urllib.parse.unquote_plus(urllib.parse.unquote_plus(text)),
               "html-unescaped": html.unescape(text)}
    try:
        decoded["json-unescaped"] = json.loads(f'"{text}"') if '"' not in text else text
    except ValueError:
        pass
    runs = {key[i:i + 12].lower() for i in range(len(key) - 11)}
    return [name for name, value in decoded.items() if any(run in value.lower() for run in runs)]


@dataclass
class Echo:
    """Answer with this status and body, where ``@RAW@``, ``@URL@`` ... (see key_forms) are replaced by the
    key the request sent. ``body=None`` on EFetch: the real batch, with ``@...@`` put into its first title."""
    body: str | None
    code: int = 200
    content_type: str = "application/json; charset=UTF-8"
    inject: str = "@RAW@"


class EchoingEutils(FakeEutils):
    def _respond(self, handler, endpoint, params, fault):
        if not isinstance(fault, Echo):
            return super()._respond(handler, endpoint, params, fault)
        if fault.body is None:
            text = self._efetch(params, None)[1].decode("utf-8").replace("TI  - ", f"TI  - {fault.inject} ", 1)
        else:
            text = fault.body
        for placeholder, form in key_forms(params.get("api_key", "")).items():
            text = text.replace(placeholder, form)
        payload = text.encode("utf-8")
        handler.send_response(fault.code)
        handler.send_header("Content-Type", fault.content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


def esearch_body(**changes) -> str:
    """The recorded ESearch answer with ``changes`` made to its ``esearchresult``."""
    data = json.loads((DATA / "esearch_history.json").read_text(encoding="utf-8"))
    data["esearchresult"].update(changes)
    return json.dumps(data)


ALL = " ".join(key_forms("x"))  # every form at once
SCENARIOS = {
    # name: (endpoint faults, fetch succeeds?)
    "200 error body": ({"esearch": [Echo('{"error":"API key invalid: @RAW@ (' + ALL + ')","api-key":"@RAW@"}')]},
                       False),
    "400 error body": ({"esearch": [Echo('{"error":"Invalid api_key=@URL@ (@PARTIAL@)"}', code=400)]}, False),
    "404 html page": ({"efetch": [Echo("<html><head><title>Not found: key @RAW@</title></head><body>@HTML@ "
                                       "@TWICE@</body></html>", code=404, content_type="text/html")]}, False),
    "503 error body, retried until given up": (
        {"esearch": [Echo('{"error":"busy","api-key":"@RAW@"}', code=503)] * 2}, False),
    "429 then success": ({"esearch": [Echo('{"error":"API rate limit exceeded","api-key":"@RAW@"}', code=429)]},
                         True),
    "ERROR field": ({"esearch": [Echo('{"esearchresult":{"ERROR":"bad key @RAW@ @UPPER@ @HEAD@"}}')]}, False),
    "ERROR field as an object": ({"esearch": [Echo('{"esearchresult":{"ERROR":{"key":"@JSONESC@"}}}')]}, False),
    "html error page at 200": ({"esearch": [Echo("<!DOCTYPE html><html><title>Gateway: @PLUS@</title>"
                                                 "<p>key=@RAW@</p></html>", content_type="text/html")]}, False),
    "warninglist, errorlist, translation (object forms)": ({"esearch": [Echo(esearch_body(
        warninglist={"phrasesignored": ["@RAW@"], "outputmessages": ["key @URL@", "@PARTIAL@"]},
        errorlist={"phrasesnotfound": ["@TAIL@", "@HEAD@"], "fieldsnotfound": ["@LOWERURL@"]},
        querytranslation="(exosome) AND @UPPER@ AND @JSONESC@",
        translationset=[{"from": "@RAW@", "to": "@RAW@"}]))]}, True),
    "warninglist as a string, errorlist as a list": ({"esearch": [Echo(esearch_body(
        warninglist="api_key=@RAW@; @HTML@", errorlist=["@TWICE@", {"x": ["@PLUS@"]}]))]}, True),
    "efetch XML error at 200": ({"efetch": [Echo('<?xml version="1.0"?><eFetchResult><ERROR>Unknown key @RAW@ '
                                                 "@URL@</ERROR></eFetchResult>", content_type="text/xml")]}, False),
    "efetch 500 then success": ({"efetch": [Echo("internal error for api_key=@RAW@", code=500)]}, True),
    "key inside a MEDLINE record": ({"efetch": [Echo(None, inject="@RAW@")]}, False),
    "URL-encoded key inside a MEDLINE record": ({"efetch": [None, Echo(None, inject="@PARTIAL@")]}, False),
}


@pytest.fixture
def server():
    with EchoingEutils() as srv:
        yield srv


def review_files(config: Path) -> dict[str, str]:
    folder = config.parent / "myreview" / "searches" / "pubmed"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------------------------------------- the command


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_key_is_in_no_output_of_the_fetch_command(tmp_path, server, name):
    faults, succeeds = SCENARIOS[name]
    for endpoint, queue in faults.items():
        server.fault(endpoint, *queue)
    config = write_review(tmp_path, server, api_key_env=KEY_ENV, email=EMAIL, max_retries=1)
    env = {**os.environ, KEY_ENV: KEY, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "livingmeta.cli", "fetch", "pubmed", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, env=env)

    # the server did receive the key, and did echo it
    assert server.requests and all(r.params.get("api_key") == KEY for r in server.requests)
    assert "Traceback" not in proc.stderr
    assert leaks(proc.stdout) == [] and leaks(proc.stderr) == [], proc.stderr
    assert EMAIL not in proc.stdout + proc.stderr
    files = review_files(config)
    for text in files.values():
        assert leaks(text) == [] and EMAIL not in text
    if succeeds:
        assert proc.returncode == 0, proc.stderr
        assert any(n.endswith(".search.yaml") for n in files) and any(n.endswith(".nbib") for n in files)
    else:
        assert proc.returncode == 1
        errors = [line for line in proc.stderr.splitlines() if line.startswith("livingmeta: error: ")]
        assert proc.stdout == "" and len(errors) == 1 and proc.stderr.endswith(errors[0] + "\n")
        assert "nothing was written" in errors[0]
        assert files == {}


def test_echoed_messages_are_kept_in_the_search_record_with_the_key_masked(tmp_path, server):
    """The redaction is visible (so the test above can fail): the echoed warnings are in the record, with
    *** where the key was, in every form."""
    faults, _ = SCENARIOS["warninglist, errorlist, translation (object forms)"]
    server.fault("esearch", *faults["esearch"])
    config = write_review(tmp_path, server, api_key_env=KEY_ENV)
    env = {**os.environ, KEY_ENV: KEY, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "livingmeta.cli", "fetch", "pubmed", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    import yaml

    record = yaml.safe_load(next(t for n, t in review_files(config).items() if n.endswith(".search.yaml")))
    assert record["warnings"] == ["phrasesnotfound: ***", "phrasesnotfound: ***", "fieldsnotfound: ***",
                                  "phrasesignored: ***", "outputmessages: key ***", "outputmessages: ***"]
    assert record["query_translation"] == "(exosome) AND *** AND ***"
    assert record["api_key_used"] is True
    # the warnings are printed too (stderr), masked the same way
    assert "livingmeta: pubmed: esearch warning: phrasesignored: ***" in proc.stderr


# ---------------------------------------------------------------------------------------------- update


@pytest.mark.parametrize("name", ["200 error body", "ERROR field", "warninglist as a string, errorlist as a list"])
def test_the_key_is_not_in_updates_summary_or_status(tmp_path, server, monkeypatch, name):
    faults, succeeds = SCENARIOS[name]
    for endpoint, queue in faults.items():
        server.fault(endpoint, *queue)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setattr(session_module, "run_snakemake",
                        lambda cmd, **kw: RunResult(0, "Nothing to be done (all requested files are present and up to date)."))
    config = write_review(tmp_path, server, api_key_env=KEY_ENV, email=EMAIL)
    outcome = update_module.update(load(config), configfile=str(config))
    assert outcome.status == (0 if succeeds else 1), outcome.summary
    if not succeeds:
        assert "PubMed fetch FAILED (esearch: " in outcome.summary
    assert leaks(outcome.summary) == [] and EMAIL not in outcome.summary
    (status,) = list(tmp_path.rglob("status.json"))
    assert leaks(status.read_text(encoding="utf-8")) == []
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".log", ".json", ".yaml", ".nbib", ".txt"):
            assert leaks(path.read_text(encoding="utf-8", errors="replace")) == [], path


# ---------------------------------------------------------------------------------------------- the library


@pytest.mark.parametrize("name", [n for n, (_, ok) in SCENARIOS.items() if not ok])
def test_fetch_errors_hold_no_key(tmp_path, server, name, caplog):
    caplog.set_level(logging.DEBUG, logger="livingmeta")
    faults, _ = SCENARIOS[name]
    for endpoint, queue in faults.items():
        server.fault(endpoint, *queue)
    config = write_review(tmp_path, server, api_key_env=KEY_ENV, max_retries=1)
    settings = pubmed.pubmed_settings(config.parent / "myreview", load(config), config_file=str(config))
    with pytest.raises(FetchError) as err:
        pubmed.fetch_pubmed(config.parent / "myreview", settings, environ={KEY_ENV: KEY})
    message = str(err.value)
    assert leaks(message) == [] and "\n" not in message and "nothing was written" in message
    assert all(leaks(m) == [] for m in caplog.messages)


def test_redact_masks_every_form_and_only_the_secret():
    register_secret(KEY)
    register_secret(EMAIL, partial=False)
    for placeholder, form in key_forms(KEY).items():
        assert redact(f"before {form} after") == "before *** after", placeholder
    assert redact(urllib.parse.quote(EMAIL)) == "***" and redact(EMAIL.upper()) == "***"
    # nested structures, keys too; other values unchanged
    assert redact({"a": [KEY, ("x", 3)], KEY: None, "n": 1.5}) == {"a": ["***", ("x", 3)], "***": None, "n": 1.5}
    # ordinary text is left alone, including pieces of the key shorter than a third of it and parts of the e-mail
    text = f"PMID 41000001, 9f3c2a, reviewer.team, example-university.org, {KEY[:8]}"
    assert redact(text) == text
