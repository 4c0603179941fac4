"""Bounded fuzzing of the PubMed answer parsers (issue 13, point 5): generated ESearch JSON, raw bytes and
MEDLINE-like text give a complete result or one clear FetchError, never another exception; a key planted
anywhere in an ESearch answer never survives into an error, warning or translation. A few hundred examples
each, so that the suite stays quick; the parametrised shapes are in test_fetch_malformed.py."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from livingmeta.living.pubmed import FetchError, medline_record_problem, parse_efetch, parse_esearch, register_secret
from tests.living.fake_eutils import RECORDS
from tests.living.test_fetch_malformed import assert_clear, with_result

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ESEARCH_KEYS = ["count", "idlist", "webenv", "querykey", "querytranslation", "errorlist", "warninglist", "ERROR",
                "retmax", "translationset"]
json_leaves = st.none() | st.booleans() | st.integers(-10, 10**12) | st.floats(allow_nan=False) | st.text(max_size=20) \
    | st.sampled_from(["7", "41000001", "", "MCID_1", " 3 "])
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(ESEARCH_KEYS) | st.text(max_size=8), inner, max_size=5),
                           max_leaves=20)
esearch_like = st.fixed_dictionaries({}, optional={
    "esearchresult": st.dictionaries(st.sampled_from(ESEARCH_KEYS), json_values, max_size=8) | json_values,
    "error": json_values, "header": json_values})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(esearch_like, json_values), st.booleans())
def test_fuzz_esearch_json_gives_a_result_or_one_clear_error(data, history):
    try:
        result = parse_esearch(json.dumps(data).encode("utf-8"), history=history)
    except FetchError as err:
        assert_clear(err)
        return
    assert isinstance(result.count, int) and result.count >= 0
    assert all(p.isdigit() and p != "0" for p in result.ids)
    assert isinstance(result.query_translation, str) and all(isinstance(w, str) and "\n" not in w
                                                              for w in result.warnings)
    if history and result.count:
        assert result.webenv and result.query_key


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_esearch_bytes_give_a_result_or_one_clear_error(body):
    try:
        parse_esearch(body)
    except FetchError as err:
        assert_clear(err)


medline_lines = st.sampled_from(
    [line for r in RECORDS.values() for line in r.splitlines()]
    + ["", "PMID- 1", "PMID- 41000001", "SO  - x.", "STAT- MEDLINE", "OWN - NLM", "TI  - t", "AID - NBK1 [bookaccession]",
       "<ERROR>x</ERROR>", "<html>", "      cont", "\t", "\r"]) | st.text(max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(medline_lines, max_size=40), st.booleans())
def test_fuzz_efetch_text_gives_complete_records_or_one_clear_error(lines, final_newline):
    body = "\n".join(lines) + ("\n" if final_newline else "")
    try:
        records = parse_efetch(body.encode("utf-8", "surrogatepass"))
    except FetchError as err:
        assert_clear(err)
        return
    assert all(medline_record_problem(r) is None for r in records)


FUZZ_KEY = "5e1f0c3b9a7d42e68f0b1c2d3e4f5a6b7c8d"


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from(["raw", "url", "upper", "head", "json"]))
def test_fuzz_an_echoed_key_never_survives_parsing(data, form):
    """Wherever the key is put into an ESearch answer, no error text, warning or translation holds it."""
    register_secret(FUZZ_KEY)
    shown = {"raw": FUZZ_KEY, "url": urllib.parse.quote(FUZZ_KEY), "upper": FUZZ_KEY.upper(),
             "head": FUZZ_KEY[:20], "json": "".join(f"\\u{ord(c):04x}" for c in FUZZ_KEY)}[form]

    def plant(value):
        if isinstance(value, str):
            return f"{value}{shown}"
        if isinstance(value, list):
            return [plant(v) for v in value] + [shown]
        if isinstance(value, dict):
            return {k: plant(v) for k, v in value.items()}
        return value

    result = json.loads(with_result())["esearchresult"]
    result.update(warninglist=plant(data), errorlist=plant([data]), querytranslation=plant("q"),
                  ERROR=plant(data) if isinstance(data, str) and data else None)
    body = json.dumps({"esearchresult": result}).replace("\\\\u", "\\u")  # the "json" form: JSON escapes
    outputs = []
    try:
        result = parse_esearch(body.encode())
        outputs = result.warnings + [result.query_translation]
    except FetchError as err:
        outputs = [str(err)]
    for text in outputs:
        assert FUZZ_KEY[:12] not in urllib.parse.unquote(text).lower(), text
