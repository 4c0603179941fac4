"""Fetch the new PubMed records of a review's saved search through NCBI E-utilities.

One fetch runs the saved query through ESearch (with the history server), windowed on the record
*creation* date ``[crdt]`` from the last successful search to today, then EFetch in batches
(``retstart``/``retmax``, MEDLINE text), and writes::

    review/searches/pubmed/<YYYY-MM-DD>.nbib          the new records (MEDLINE / .nbib format)
    review/searches/pubmed/<YYYY-MM-DD>.search.yaml   query, window, counts, tool version, time (PRISMA-S)

A second fetch on the same day gets ``<YYYY-MM-DD>_02`` (then ``_03`` ...), which sorts after the first
both as an export name and as a file name. Windows overlap by one day (the last day of the previous window
is searched again, because records created later that day were not there yet); records whose PMID is
already in an earlier PubMed export are left out of the new export and counted as ``already_exported``.
A search that finds nothing new writes only the ``.search.yaml`` record, so the next window starts there.

Why ``[crdt]``: the Entrez date ``[edat]`` of a record added to PubMed late is set to its publication date,
so an ``[edat]`` window that has already passed never sees it; the creation date is when it was added.

Politeness and robustness: at most 3 requests per second (10 with an API key), retries with exponential
backoff and jitter on timeouts, dropped connections, HTTP 429 (honouring ``Retry-After``) and 5xx. Any
other answer that is not what was asked for aborts the fetch with one clear FetchError, never a traceback:
ESearch JSON of any wrong shape (:func:`parse_esearch`), EFetch text that is not complete MEDLINE
(:func:`parse_efetch`; every record is checked by :func:`medline_record_problem`), EFetch returning other
records or fewer than asked for. Everything is written to hidden temporary files that are renamed only when
the whole fetch succeeded, so a failure never leaves a partial export behind.

The API key is read from an environment variable (``NCBI_API_KEY`` unless configured otherwise) and is
sent in the body of POST requests (never in a URL). It and the e-mail address are registered with
:func:`redact`, which every string leaving the fetcher goes through (errors, log records, warnings, the
search record, the command's output), so they appear in none of them whatever the server echoes; an EFetch
body that holds the key is refused.
"""

from __future__ import annotations

import html
import http.client
import json
import logging
import os
import random
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from livingmeta.errors import ReviewInputError
from livingmeta.plan import EXPORT_EXTENSIONS

log = logging.getLogger("livingmeta.pubmed")

SOURCE = "pubmed"
DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
MAX_ESEARCH_RECORDS = 10000  # PubMed's ESearch returns at most the first 10,000 records of a search
RATE_WITHOUT_KEY = 3.0        # requests per second allowed by NCBI without an API key
RATE_WITH_KEY = 10.0          # ... and with one
RATE_MARGIN = 1.05            # space requests 5% wider than the limit, for jitter on the way to NCBI

DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "query": None,
    "email": None,
    "tool": "livingmeta",
    "api_key_env": "NCBI_API_KEY",
    "base_url": DEFAULT_BASE_URL,
    "batch_size": 500,
    "max_records": MAX_ESEARCH_RECORDS,
    "max_retries": 5,
    "backoff_base": 1.0,
    "backoff_max": 60.0,
    "max_wait": 600.0,
    "timeout": 60.0,
    "requests_per_second": None,
}

_INT_RANGES = {"batch_size": (1, 10000), "max_records": (1, MAX_ESEARCH_RECORDS), "max_retries": (0, 20)}
_NUMBER_MINIMA = {"backoff_base": 0.0, "backoff_max": 0.0, "max_wait": 0.0}
_POSITIVE_NUMBERS = ("timeout", "requests_per_second")
_RETRY_STATUSES = {429} | set(range(500, 600))
_PMID_LINE = re.compile(r"^PMID- *(\d+)\s*$", re.MULTILINE)
_STEM = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:_(\d{2}))?$")


class FetchError(Exception):
    """A fetch that could not be completed (network, server or response problem); nothing was written.

    ``str(err)`` is one line that says what happened and what to do. The message is passed through
    :func:`redact` when the error is made, so no registered secret (the API key, the e-mail address)
    can leave the fetcher in an error, whatever the server sent.
    """

    def __init__(self, message: str):
        super().__init__(one_line(redact(str(message))))


# --------------------------------------------------------------------------------------------- settings


def _read_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ReviewInputError(f"cannot be read as YAML ({err.__class__.__name__})", file=str(path),
                               hint="Fix the file's YAML syntax.") from None


def protocol_search(review_dir: str | os.PathLike) -> dict:
    """``search.pubmed`` of the review's ``review.yaml`` (``query``, ``enabled``), or {}."""
    protocol = _read_yaml(Path(review_dir) / "review.yaml")
    search = protocol.get("search") if isinstance(protocol, dict) else None
    pubmed = search.get("pubmed") if isinstance(search, dict) else None
    if isinstance(pubmed, str):
        pubmed = {"query": pubmed}
    return {k: pubmed[k] for k in ("query", "enabled") if k in pubmed} if isinstance(pubmed, dict) else {}


def pubmed_settings(review_dir: str | os.PathLike, config: Mapping | None = None, *,
                    config_file: str = "config.yaml") -> dict:
    """The PubMed fetch settings of a review: defaults, then ``search.pubmed`` of ``review.yaml``
    (``query``, ``enabled``), then ``fetch.pubmed`` of the config (which wins).

    Raises ReviewInputError naming the key at fault.
    """
    settings = dict(DEFAULTS)
    settings.update(protocol_search(review_dir))
    fetch = (config or {}).get("fetch") if isinstance(config, Mapping) else None
    if fetch is not None and not isinstance(fetch, Mapping):
        raise ReviewInputError("must be a mapping", file=config_file, field="fetch")
    given = (fetch or {}).get("pubmed")
    if given is not None:
        if not isinstance(given, Mapping):
            raise ReviewInputError("must be a mapping", file=config_file, field="fetch.pubmed")
        unknown = sorted(set(given) - set(DEFAULTS))
        if unknown:
            raise ReviewInputError(f"unknown key '{unknown[0]}'; allowed keys: {', '.join(sorted(DEFAULTS))}",
                                   file=config_file, field="fetch.pubmed",
                                   hint="Fix the key in the config file (see docs/operations.md).")
        settings.update(given)
    return validate_settings(settings, source=config_file)


def validate_settings(settings: Mapping, *, source: str = "config.yaml") -> dict:
    """Check the types and ranges of fetch settings (a complete dict, e.g. from :func:`pubmed_settings`)."""
    out = dict(DEFAULTS)
    out.update(settings)

    def bad(key, message):
        return ReviewInputError(message, file=source, field=f"fetch.pubmed.{key}",
                                hint="Fix the value in the config file (see docs/operations.md).")

    if out["query"] is not None and (not isinstance(out["query"], str) or not out["query"].strip()):
        raise bad("query", "must be a non-empty PubMed query string")
    if not isinstance(out["enabled"], bool):
        raise bad("enabled", f"must be true or false (got {out['enabled']!r})")
    for key in ("email", "tool", "api_key_env", "base_url"):
        if out[key] is not None and not isinstance(out[key], str):
            raise bad(key, f"must be a string (got {out[key]!r})")
    if not re.match(r"^https?://", out["base_url"] or ""):
        raise bad("base_url", f"must be an http(s) URL (got {out['base_url']!r})")
    if not out["base_url"].endswith("/"):
        out["base_url"] += "/"
    for key, (low, high) in _INT_RANGES.items():
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(key, f"must be a whole number from {low} to {high} (got {value!r})")
    for key, low in _NUMBER_MINIMA.items():
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
            raise bad(key, f"must be a number >= {low:g} (got {value!r})")
    for key in _POSITIVE_NUMBERS:
        value = out[key]
        if value is None and key == "requests_per_second":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise bad(key, f"must be a number > 0 (got {value!r})")
    return out


def pubmed_enabled(settings: Mapping) -> bool:
    """Whether ``livingmeta update`` should fetch PubMed first (enabled and a query is saved)."""
    return bool(settings.get("enabled")) and bool(settings.get("query"))


# --------------------------------------------------------------------------------------------- client


# Redaction. Every string that leaves the fetcher (FetchError messages, log records, the search record
# written to YAML, the result's warnings, the lines the command prints) goes through redact(), which
# replaces every registered secret by "***". A server may echo a secret in any form, so each character of
# a secret may appear as itself or in any of the escapes a server, a proxy or a JSON/HTML/URL encoder may
# use for it (percent-encoded, also twice; JSON \uXXXX and \/; HTML numeric and named entities; '+' for a
# space), in any mix ("partially quoted") and in any letter case. For the API key, any run of at least
# PARTIAL_MIN (or a third of the key, if longer) consecutive characters of it is redacted too, so that
# a key cut short by the server (or by a length limit) does not leak its remaining part. The e-mail address
# is redacted only whole (its parts are ordinary words); it stays in MEDLINE records, where it may be an
# author's own address.

REDACTED = "***"
PARTIAL_MIN = 8
_SECRET_KEYS: set[str] = set()     # redacted whole and in runs of consecutive characters
_PRIVATE_TEXTS: set[str] = set()   # redacted whole only
_PATTERN_CACHE: dict[tuple, re.Pattern | None] = {}
_HTML_NAMED = {"&": ("amp",), "<": ("lt",), ">": ("gt",), '"': ("quot",), "'": ("apos", "#39")}


def _char_forms(char: str) -> str:
    """A regex matching ``char`` or any escape of it a server might use."""
    code = ord(char)
    forms = []  # the escapes first, the character itself last: "&" must not stop a match at "&#38;"
    utf8 = char.encode("utf-8")
    forms.append("".join(f"%{b:02x}" for b in utf8))             # URL-encoded
    forms.append("".join(f"%25{b:02x}" for b in utf8))           # ... twice
    if code < 0x10000:
        forms.append(re.escape(f"\\u{code:04x}"))                 # JSON
    if code < 0x100:
        forms.append(re.escape(f"\\x{code:02x}"))                 # Python repr of bytes
    forms.append(f"&#0*{code};")                                  # HTML numeric entities
    forms.append(f"&#x0*{code:x};")
    forms.extend(f"&{name};" for name in _HTML_NAMED.get(char, ()))
    if char == "/":
        forms.append(re.escape("\\/"))
    if char in "\"\\":
        forms.append(re.escape("\\" + char))
    if char == " ":
        forms.append(re.escape("+"))
    forms.append(re.escape(char))
    return "(?:" + "|".join(forms) + ")"


def _secret_regex(secret: str, partial: bool) -> str:
    chars = [_char_forms(c) for c in secret]
    shortest = max(PARTIAL_MIN, -(-len(secret) // 3)) if partial else len(secret)
    if shortest >= len(secret):
        return "".join(chars)
    alternatives = []
    for start in range(len(secret) - shortest + 1):
        tail = ""
        for form in reversed(chars[start + shortest:]):  # the rest of the key, as far as it goes
            tail = f"(?:{form}{tail})?"
        alternatives.append("".join(chars[start:start + shortest]) + tail)
    return "(?:" + "|".join(alternatives) + ")"


def _secrets_pattern(partial: bool = True) -> re.Pattern | None:
    key = (frozenset(_SECRET_KEYS), frozenset(_PRIVATE_TEXTS), partial)
    if key not in _PATTERN_CACHE:
        parts = [(s, True) for s in _SECRET_KEYS] + [(s, False) for s in _PRIVATE_TEXTS - _SECRET_KEYS]
        parts.sort(key=lambda item: -len(item[0]))  # longest first: a secret containing another wins
        regexes = [_secret_regex(s, p and partial) for s, p in parts]
        _PATTERN_CACHE[key] = re.compile("|".join(regexes), re.IGNORECASE) if regexes else None
    return _PATTERN_CACHE[key]


def register_secret(value: str | None, *, partial: bool = True) -> None:
    """Redact ``value`` from everything the fetcher outputs from now on (``partial``: also runs of its
    characters; give False for values whose parts are ordinary words, such as an e-mail address)."""
    if value and value.strip():
        (_SECRET_KEYS if partial else _PRIVATE_TEXTS).add(value.strip())


def redact(value: Any) -> Any:
    """``value`` with every registered secret replaced by ``***``: a string, or every string in a
    (nested) dict / list / tuple; other values are returned as they are."""
    pattern = _secrets_pattern()
    if pattern is None:
        return value
    return _redact_with(value, pattern)


def _redact_with(value: Any, pattern: re.Pattern) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return {_redact_with(k, pattern): _redact_with(v, pattern) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_with(v, pattern) for v in value)
    return value


def contains_secret(text: str) -> bool:
    """Whether ``text`` holds a whole registered API key, in any escaped form (used on EFetch bodies,
    where runs of a key's characters are not searched: a large text may hold them by chance)."""
    key = ("whole", frozenset(_SECRET_KEYS))
    if key not in _PATTERN_CACHE:
        regexes = [_secret_regex(s, False) for s in sorted(_SECRET_KEYS, key=len, reverse=True)]
        _PATTERN_CACHE[key] = re.compile("|".join(regexes), re.IGNORECASE) if regexes else None
    pattern = _PATTERN_CACHE[key]
    return bool(pattern and pattern.search(text))


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line (every run of white space and control characters made one space), cut to
    ``limit`` characters with an ellipsis. Redact before cutting, so that no part of a secret is left."""
    text = " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def server_text(value: Any, limit: int = 200) -> str:
    """Text a server sent, made safe to show: redacted, on one line, at most ``limit`` characters."""
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):  # e.g. nested too deep to show
            value = f"(a {type(value).__name__} that cannot be shown)"
    return one_line(redact(value), limit)


class RedactFilter(logging.Filter):
    """Scrub the registered secrets from any record of this module's logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_REDACT = RedactFilter()
log.addFilter(_REDACT)


@dataclass
class SearchResult:
    count: int
    webenv: str | None
    query_key: str | None
    ids: list[str]
    query_translation: str
    warnings: list[str]


class EutilsClient:
    """A small, polite NCBI E-utilities client (ESearch JSON and EFetch MEDLINE text for PubMed).

    ``clock``, ``sleep`` and ``rng`` can be replaced (tests use a fake clock, so nothing really waits).
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, api_key: str | None = None,
                 email: str | None = None, tool: str = "livingmeta", timeout: float = 60.0,
                 max_retries: int = 5, backoff_base: float = 1.0, backoff_max: float = 60.0,
                 max_wait: float = 600.0, requests_per_second: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.api_key = api_key or None
        self.email = email
        self.tool = tool
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_wait = max_wait
        limit = RATE_WITH_KEY if self.api_key else RATE_WITHOUT_KEY
        self.requests_per_second = min(requests_per_second or limit, limit)
        self.min_interval = RATE_MARGIN / self.requests_per_second
        self._clock, self._sleep, self._rng = clock, sleep, rng
        self._next_allowed: float | None = None
        self.requests = 0
        register_secret(self.api_key)
        register_secret(self.email, partial=False)

    @classmethod
    def from_settings(cls, settings: Mapping, *, environ: Mapping | None = None, **overrides) -> "EutilsClient":
        environ = os.environ if environ is None else environ
        key = (environ.get(settings["api_key_env"]) or "").strip() if settings.get("api_key_env") else ""
        kwargs = dict(api_key=key or None, email=settings.get("email"), tool=settings.get("tool") or "livingmeta",
                      timeout=settings["timeout"], max_retries=settings["max_retries"],
                      backoff_base=settings["backoff_base"], backoff_max=settings["backoff_max"],
                      max_wait=settings["max_wait"], requests_per_second=settings.get("requests_per_second"))
        kwargs.update(overrides)
        return cls(settings["base_url"], **kwargs)

    # -- plumbing

    def _throttle(self) -> None:
        now = self._clock()
        if self._next_allowed is not None and now < self._next_allowed:
            self._sleep(self._next_allowed - now)
            now = max(self._clock(), self._next_allowed)
        self._next_allowed = now + self.min_interval

    def backoff(self, retry: int) -> float:
        """Delay before retry number ``retry`` (0-based): exponential, capped, with 'equal jitter'
        (between half and all of ``backoff_base * 2**retry``)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** retry))
        return ceiling / 2 + self._rng() * ceiling / 2

    @staticmethod
    def _retry_after(value: str | None) -> float | None:
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())

    def _params(self, params: Mapping[str, Any]) -> dict:
        out = {k: v for k, v in params.items() if v is not None}
        out["tool"] = self.tool
        if self.email:
            out["email"] = self.email
        if self.api_key:
            out["api_key"] = self.api_key
        return out

    def request(self, endpoint: str, params: Mapping[str, Any]) -> bytes:
        """POST ``params`` to ``<base_url><endpoint>``; return the body. Retries transient failures."""
        url = self.base_url + endpoint
        body = urllib.parse.urlencode(self._params(params)).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "User-Agent": f"{self.tool} (livingmeta E-utilities client)"}
        name = endpoint.split(".")[0]
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            self._throttle()
            self.requests += 1
            log.debug("%s: request %d (attempt %d of %d)", name, self.requests, attempt + 1, attempts)
            retry_after = None
            last_detail = None
            try:
                req = urllib.request.Request(url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return resp.read()
            except urllib.error.HTTPError as err:
                status = err.code
                detail = self._error_detail(err)
                err.close()
                if status not in _RETRY_STATUSES:
                    raise FetchError(f"{name}: the server answered HTTP {status} {detail}; nothing was written. "
                                     "Check the query and settings (fetch.pubmed in the config).") from None
                problem = f"HTTP {status}"
                last_detail = f"{problem}: {detail}" if detail else problem
                retry_after = self._retry_after(err.headers.get("Retry-After") if err.headers else None)
            except (TimeoutError, socket.timeout):
                problem = f"no answer within {self.timeout:g} s"
            except urllib.error.URLError as err:
                reason = err.reason
                if isinstance(reason, (TimeoutError, socket.timeout)):
                    problem = f"no answer within {self.timeout:g} s"
                elif isinstance(reason, ConnectionError):
                    problem = f"connection failed ({reason.__class__.__name__})"
                else:
                    raise FetchError(f"{name}: cannot reach {self._safe_host()} "
                                     f"({server_text(str(reason), 120)}); nothing was written. "
                                     "Check the network and fetch.pubmed.base_url.") from None
            except http.client.IncompleteRead as err:
                problem = f"truncated response ({len(err.partial)} bytes received)"
            except (ConnectionError, http.client.HTTPException) as err:
                problem = f"connection dropped ({err.__class__.__name__})"
            except OSError as err:  # e.g. a TLS failure: not worth retrying
                raise FetchError(f"{name}: request failed ({err.__class__.__name__}: "
                                 f"{server_text(str(err), 120)}); nothing was written. Check the network and fetch.pubmed.base_url.") from None
            if attempt + 1 >= attempts:
                raise FetchError(f"{name}: gave up after {attempts} attempts (last: {last_detail or problem}); "
                                 "nothing was written. "
                                 "Run the fetch again later.")
            delay = self.backoff(attempt)
            if retry_after is not None:
                if retry_after > self.max_wait:
                    raise FetchError(f"{name}: the server asked to wait {retry_after:g} s (more than max_wait "
                                     f"{self.max_wait:g} s); nothing was written. Run the fetch again later.")
                delay = max(delay, retry_after)
            log.warning("%s: %s; retry %d of %d in %.3g s", name, problem, attempt + 1, self.max_retries, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error_detail(self, err: urllib.error.HTTPError) -> str:
        try:
            raw = err.read(_ERROR_BODY_LIMIT + 1)
        except Exception:  # noqa: BLE001 - the detail is best effort
            raw = b""
        text = raw.decode("utf-8", "replace")
        if len(raw) > _ERROR_BODY_LIMIT:  # cut here: drop the tail, where a piece of an echoed secret could be
            text = text[:-1024]
        reason = err.reason if isinstance(err.reason, str) else ""
        body = _body_text(text)
        return server_text(f"{reason}: {body}" if body else reason).strip(": ")

    def _safe_host(self) -> str:
        return urllib.parse.urlsplit(self.base_url).netloc

    # -- E-utilities

    def esearch(self, term: str, *, retmax: int, history: bool = True, db: str = "pubmed") -> SearchResult:
        raw = self.request("esearch.fcgi", {"db": db, "term": term, "retmode": "json", "retmax": retmax,
                                            "usehistory": "y" if history else None})
        return parse_esearch(raw, history=history)

    def efetch_medline(self, webenv: str, query_key: str, retstart: int, retmax: int,
                       db: str = "pubmed") -> list[str]:
        """One batch of records from the history server, as complete MEDLINE text records (without blank
        lines); see :func:`parse_efetch`."""
        raw = self.request("efetch.fcgi", {"db": db, "WebEnv": webenv, "query_key": query_key,
                                           "retstart": retstart, "retmax": retmax,
                                           "rettype": "medline", "retmode": "text"})
        return parse_efetch(raw, where=f"efetch (records {retstart + 1}-{retstart + retmax})")


# --------------------------------------------------------------------------------------------- responses

_ERROR_BODY_LIMIT = 65536   # bytes of an HTTP error body read to describe it
MAX_WARNINGS = 50           # ESearch messages kept in the search record
_AGAIN = "nothing was written. Run the fetch again later"
_WHOLE = re.compile(r"\s*\d{1,15}\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _body_text(text: str) -> str:
    """What a server's body says, for a message: an HTML page reduced to its title or its text."""
    if re.search(r"<\s*(?:!doctype\s+html|html|head|body|title)\b", text[:4096], re.IGNORECASE):
        text = redact(text)
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        shown = title.group(1) if title and title.group(1).strip() else re.sub(r"<[^>]*>", " ", text)
        return "an HTML page: " + html.unescape(shown)
    return text


def _head(text: str) -> str:
    """The start of a long body, to describe it (cut far from what is shown, with the tail dropped, where
    a piece of an echoed secret could be)."""
    return text if len(text) <= _ERROR_BODY_LIMIT else text[:_ERROR_BODY_LIMIT - 1024]


def _describe(text: str) -> str:
    """A short description of a body that is not what was expected."""
    if not text.strip():
        return "the body is empty"
    return f"it begins {server_text(_body_text(_head(text)), 120)!r}"


def _whole_number(value: Any) -> int | None:
    """A JSON count or id: an int (not a bool) or a string of digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    return None


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "true/false", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)


def _server_messages(*blocks: Any) -> list[str]:
    """ESearch's ``errorlist`` / ``warninglist`` as one-line messages ``kind: text``, whatever their shape
    (normally an object of lists; also accepted: a list, a string, nested values); at most MAX_WARNINGS,
    then how many more there were."""
    out: list[str] = []
    more = 0
    stack: list[tuple[Any, str, int]] = [(block, "", 0) for block in reversed(blocks)]
    while stack:
        value, kind, depth = stack.pop()
        if value is None or value == "" or (isinstance(value, (dict, list)) and not value):
            continue
        if isinstance(value, dict) and depth < 4:
            stack.extend((v, f"{kind}.{k}" if kind else str(k), depth + 1) for k, v in reversed(value.items()))
        elif isinstance(value, list) and depth < 4:
            stack.extend((v, kind, depth + 1) for v in reversed(value))
        elif len(out) >= MAX_WARNINGS:
            more += 1
        else:
            text = server_text(value, 500)
            out.append(f"{server_text(kind, 60)}: {text}" if kind else text)
    if more:
        out.append(f"... and {more} more message(s)")
    return out


def parse_esearch(raw: bytes, *, history: bool = True) -> SearchResult:
    """The ESearch JSON answer (``retmode=json``) checked and read. Raises FetchError (one line, what to do)
    for any answer that is not a complete, well-formed ESearch result: not UTF-8, not JSON (e.g. an HTML
    error page), not an object, an ``error``/``ERROR`` reported, a missing or mistyped ``count``, ``idlist``,
    ``webenv`` or ``querykey``. ``errorlist``/``warninglist`` of any shape become warnings."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FetchError(f"esearch: the response is not UTF-8 text (invalid byte at offset {err.start}); "
                         f"{_AGAIN}.") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise FetchError(f"esearch: the response is not valid JSON ({_describe(text)}); {_AGAIN}.") from None
    try:
        return _read_esearch(data, history)
    except FetchError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as err:
        raise FetchError(f"esearch: the response has an unexpected structure ({err.__class__.__name__}); "
                         f"{_AGAIN}.") from None


def _read_esearch(data: Any, history: bool) -> SearchResult:
    if not isinstance(data, dict):
        raise FetchError(f"esearch: the response is a JSON {_json_kind(data)}, not an object (malformed); "
                         f"{_AGAIN}.")
    if data.get("error"):  # e.g. NCBI's answer to an invalid API key or too many requests
        raise FetchError(f"esearch: the server reported an error: {server_text(data['error'])}; nothing was "
                         "written. Run the fetch again later; if it persists, check the API key and fetch.pubmed.")
    result = data.get("esearchresult")
    if not isinstance(result, dict):
        raise FetchError(f"esearch: the response has no 'esearchresult' object (truncated or malformed); "
                         f"{_AGAIN}.")
    if result.get("ERROR"):
        raise FetchError(f"esearch: PubMed reported an error: {server_text(result['ERROR'])}; "
                         "nothing was written. Check the saved query.")
    count = _whole_number(result.get("count"))
    if count is None:
        raise FetchError(f"esearch: the response has no valid 'count' (got {server_text(result.get('count'), 40)}); "
                         f"{_AGAIN}.")
    idlist = result.get("idlist")
    if idlist is None:
        idlist = []
    if not isinstance(idlist, list):
        raise FetchError(f"esearch: the response's 'idlist' is a JSON {_json_kind(idlist)}, not a list (malformed); "
                         f"{_AGAIN}.")
    ids = []
    for item in idlist:
        pmid = _whole_number(item)
        if not pmid:
            raise FetchError(f"esearch: the response's 'idlist' holds {server_text(item, 40)}, not a PMID "
                             f"(malformed); {_AGAIN}.")
        ids.append(str(pmid))
    webenv, query_key = result.get("webenv"), result.get("querykey")
    if webenv is not None and not (isinstance(webenv, str) and webenv.strip() and len(webenv) < 1000):
        raise FetchError(f"esearch: the response's 'webenv' is not a history key (malformed); {_AGAIN}.")
    if query_key is not None and _whole_number(query_key) is None:
        raise FetchError(f"esearch: the response's 'querykey' is not a number (malformed); {_AGAIN}.")
    if history and count and not (webenv and query_key is not None):
        raise FetchError(f"esearch: the response has no history (WebEnv/query_key); {_AGAIN}.")
    warnings = _server_messages(result.get("errorlist"), result.get("warninglist"))
    translation = result.get("querytranslation")
    if translation is None:
        translation = ""
    elif not isinstance(translation, str):
        translation = server_text(translation, 2000)
    return SearchResult(count, webenv.strip() if webenv else None,
                        str(_whole_number(query_key)) if query_key is not None else None, ids,
                        redact(translation), warnings)


def parse_efetch(raw: bytes, *, where: str = "efetch") -> list[str]:
    """An EFetch answer (``rettype=medline&retmode=text``) as a list of complete MEDLINE records.
    Raises FetchError for a body that is not UTF-8, that holds the API key (not genuine PubMed data:
    echoed by a server or proxy) or that is not complete MEDLINE text (see :func:`split_medline`)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FetchError(f"{where}: the response is not UTF-8 text (invalid byte at offset {err.start}); "
                         f"{_AGAIN}.") from None
    if contains_secret(text):
        raise FetchError(f"{where}: the response contains the API key (echoed by the server or a proxy), so it is "
                         "not genuine PubMed data; nothing was written. Run the fetch again later; if it happens "
                         "again, check fetch.pubmed.base_url.")
    return split_medline(text, where=where)


def split_medline(text: str, *, where: str = "MEDLINE text") -> list[str]:
    """Split MEDLINE text into records (each starting ``PMID- ``), each checked by
    :func:`medline_record_problem`. Raises FetchError on anything that is not a complete MEDLINE response
    (an error message, an HTML page, a control character, a record cut short)."""
    text = text.replace("\r\n", "\n")
    control = _CONTROL.search(text)
    if control:
        raise FetchError(f"{where}: the response holds a control character (U+{ord(control.group()):04X}) at "
                         f"offset {control.start()}, so it is not MEDLINE text; {_AGAIN}.")
    starts = [m.start() for m in _PMID_LINE.finditer(text)]
    head = text[:starts[0]] if starts else text
    if head.strip():
        reported = re.search(r"<ERROR>(.*?)</ERROR>", head, re.DOTALL)
        if reported:
            raise FetchError(f"{where}: EFetch reported an error: {server_text(reported.group(1))}; {_AGAIN}.")
        raise FetchError(f"{where}: the response is not MEDLINE text ({_describe(head)}); {_AGAIN}.")
    if starts and not text.endswith("\n"):
        raise FetchError(f"{where}: the response ends in the middle of a line (truncated); {_AGAIN}.")
    records = []
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        records.append(text[begin:end].strip("\n") + "\n")
    for number, record in enumerate(records, 1):
        problem = medline_record_problem(record)
        if problem:
            raise FetchError(f"{where}: record {number} of {len(records)} (PMID {record_pmid(record)}) {problem}; "
                             f"{_AGAIN}.")
    return records


# A MEDLINE line is a field (a tag of 2-4 capitals/digits, left-justified in 4 columns, then "- " and the
# value) or a continuation of the previous field's value (6 spaces).
_FIELD_LINE = re.compile(r"([A-Z][A-Z0-9]{3}|[A-Z][A-Z0-9]{2} |[A-Z][A-Z0-9] {2})-(?: (.*))?")
_CONTINUATION = " " * 6


def medline_record_problem(record: str) -> str | None:
    """Why a MEDLINE record (one ``PMID-`` record, as EFetch ``rettype=medline`` sends it) is not complete,
    or None when it is. The rule, checked on every record of the real PubMed exports in the shared test
    data (76 journal records, MEDLINE, PubMed-not-MEDLINE, Publisher, In-Process and In-Data-Review,
    5 without an abstract) and on PubMed's layout of book records (NLM, "PubMed Format" field descriptions,
    https://pubmed.ncbi.nlm.nih.gov/help/#pubmed-format):

    - every line is a field line (``TAG - value``, the tag padded to 4 columns) or a continuation line
      (6 spaces), with no empty line inside the record;
    - the first field is ``PMID`` with a number; ``STAT`` (status) is present; a title is present:
      ``TI`` (journal records, book chapters) or ``BTI`` (books);
    - a journal record (every record that is not a book) has ``OWN`` and ends with ``SO`` (source), the
      field PubMed writes last in every journal record; a book or book chapter (which has no ``OWN`` and
      no ``SO``) has its Bookshelf accession (``AID - NBK... [bookaccession]``).

    The abstract (``AB``), authors and dates are not required: records without them exist. So a record cut
    at any line boundary before its ``SO`` line, or cut down to its PMID line, is refused. Not detectable
    here: a cut exactly after the first line of a wrapped last field (``SO`` continued on a second line) -
    the value looks whole - and a whole record missing (caught by comparing the PMIDs returned with those
    found by ESearch).
    """
    lines = record.rstrip("\n").split("\n")
    fields: list[list[str]] = []
    for number, line in enumerate(lines, 1):
        match = _FIELD_LINE.fullmatch(line)
        if match:
            fields.append([match.group(1).strip(), match.group(2) or ""])
        elif line.startswith(_CONTINUATION) and fields:
            fields[-1][1] += " " + line.strip()
        elif not line.strip():
            return f"has an empty line inside it (line {number}): not one complete record"
        else:
            return f"has a line that is not a MEDLINE field (line {number}: {server_text(line, 60)!r})"
    tags = {tag for tag, _ in fields}
    if not fields or fields[0][0] != "PMID" or not fields[0][1].strip().isdigit():
        return "does not start with its PMID"
    if len(fields) == 1:
        return "has only its PMID line (cut short)"
    if "STAT" not in tags:
        return "has no STAT (status) field (cut short or malformed)"
    if not tags & {"TI", "BTI"}:
        return "has no title (TI or BTI field) (cut short or malformed)"
    book = any(tag == "AID" and "[bookaccession]" in value for tag, value in fields)
    if not book:
        if fields[-1][0] != "SO":
            return (f"ends with its {fields[-1][0]} field, not with the SO (source) field that ends every "
                    "PubMed journal record (cut short)")
        if "OWN" not in tags:
            return "has no OWN (owner) field (malformed)"
    return None


def record_pmid(record: str) -> str:
    match = _PMID_LINE.search(record)
    if not match:
        raise ValueError("not a MEDLINE record")
    return match.group(1)


# --------------------------------------------------------------------------------------------- review folder


def searches_dir(review_dir: str | os.PathLike) -> Path:
    return Path(review_dir) / "searches" / SOURCE


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def search_records(review_dir: str | os.PathLike) -> list[tuple[Path, dict]]:
    """The ``*.search.yaml`` records of earlier PubMed fetches, oldest first."""
    folder = searches_dir(review_dir)
    out = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.search.yaml")):
            if path.name.startswith("."):
                continue
            data = _read_yaml(path)
            if isinstance(data, dict):
                out.append((path, data))
    return out


def last_search_end(review_dir: str | os.PathLike) -> date | None:
    """The end of the last successful search: the latest of the window ends in the ``*.search.yaml``
    records and the dates of PubMed exports made by hand (``<YYYY-MM-DD>.nbib`` without a search record:
    named by their search date); when there is neither, ``search_date`` of ``previous_version.yaml``;
    else None."""
    ends = []
    recorded = set()
    for path, data in search_records(review_dir):
        recorded.add(path.name[: -len(".search.yaml")])
        window = data.get("window")
        end = _as_date(window.get("to")) if isinstance(window, dict) else None
        if end is None:
            raise ReviewInputError("has no valid window end (window.to: YYYY-MM-DD)", file=str(path),
                                   hint="Restore the file from version control or fix window.to.")
        ends.append(end)
    folder = searches_dir(review_dir)
    if folder.is_dir():
        for path in folder.iterdir():
            stem, dot, ext = path.name.rpartition(".")
            match = _STEM.match(stem)
            if dot and ext.lower() in EXPORT_EXTENSIONS and match and stem not in recorded:
                found = _as_date(match.group(1))
                if found:
                    ends.append(found)
    if ends:
        return max(ends)
    previous = _read_yaml(Path(review_dir) / "previous_version.yaml")
    if isinstance(previous, dict) and previous.get("search_date") is not None:
        found = _as_date(previous["search_date"])
        if found is None:
            raise ReviewInputError(f"is not a date (got {previous['search_date']!r})",
                                   file=str(Path(review_dir) / "previous_version.yaml"), field="search_date",
                                   hint="Write it as YYYY-MM-DD.")
        return found
    return None


def exported_pmids(review_dir: str | os.PathLike) -> set[str]:
    """PMIDs already present in the review's PubMed exports (MEDLINE ``.nbib``/``.txt`` files)."""
    folder = searches_dir(review_dir)
    pmids: set[str] = set()
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in (".nbib", ".txt"):
                pmids.update(_PMID_LINE.findall(path.read_text(encoding="utf-8", errors="replace")
                                                .replace("\r\n", "\n")))
    return pmids


def export_stem(folder: Path, day: date) -> str:
    """The first free export name of ``day`` in ``folder``: ``2026-11-21``, then ``2026-11-21_02`` ...
    (a name is taken when any file ``<name>.*`` exists)."""
    taken = {p.name.split(".", 1)[0] for p in folder.iterdir()} if folder.is_dir() else set()
    base = day.isoformat()
    for n in range(1, 100):
        stem = base if n == 1 else f"{base}_{n:02d}"
        if stem not in taken:
            return stem
    raise FetchError(f"{folder}: 99 exports already made on {base}; nothing was written.")


def crdt_term(query: str, start: date, end: date) -> str:
    """The saved query restricted to records created (``[crdt]``) from ``start`` to ``end``, inclusive."""
    return f'({query.strip()}) AND ("{start:%Y/%m/%d}"[crdt] : "{end:%Y/%m/%d}"[crdt])'


def _tool_version() -> str:
    try:
        from importlib.metadata import version

        return version("livingmeta")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "unknown"


# --------------------------------------------------------------------------------------------- fetch


@dataclass
class FetchResult:
    """What one fetch did. ``export`` is None when nothing new was found (or on a dry run);
    ``record`` is the ``.search.yaml`` file (None on a dry run)."""

    query: str
    term: str
    window_from: date
    window_to: date
    count: int
    fetched: int = 0
    already_exported: int = 0
    written: int = 0
    export: Path | None = None
    record: Path | None = None
    dry_run: bool = False
    requests: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        window = f"[crdt] {self.window_from.isoformat()}..{self.window_to.isoformat()}"
        if self.dry_run:
            return (f"livingmeta: pubmed: {self.count} record(s) match the saved query in {window} "
                    "(dry run: nothing fetched or written)")
        already = f", {self.already_exported} already exported" if self.already_exported else ""
        where = f" -> {self.export}" if self.export else f"; search recorded in {self.record}"
        return (f"livingmeta: pubmed: {self.count} record(s) in {window}{already}, "
                f"{self.written} new written{where}")


def _write_hidden_temp(folder: Path, name: str, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def _place(tmp: Path, final: Path) -> None:
    """Move tmp to final without ever replacing an existing file."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise
    except OSError:  # file systems without hard links
        if final.exists():
            raise FileExistsError(str(final)) from None
        os.replace(tmp, final)
        return
    os.unlink(tmp)


def _search_record_text(result: "FetchResult", search: SearchResult, settings: Mapping, export: Path | None,
                        now: datetime, api_key_used: bool) -> str:
    meta = {
        "source": SOURCE,
        "database": "pubmed",
        "query": result.query,
        "search_term": result.term,
        "query_translation": search.query_translation,
        "window": {"field": "crdt", "from": result.window_from.isoformat(), "to": result.window_to.isoformat()},
        "count": result.count,
        "fetched": result.fetched,
        "already_exported": result.already_exported,
        "written": result.written,
        "export": export.name if export else None,
        "format": "medline" if export else None,
        "warnings": list(search.warnings),
        "searched_at": now.replace(microsecond=0).isoformat(),
        "tool": {"name": "livingmeta", "version": _tool_version()},
        "interface": "NCBI E-utilities: esearch (history server), efetch rettype=medline in batches",
        "base_url": settings["base_url"],
        "batch_size": settings["batch_size"],
        "api_key_used": api_key_used,
    }
    return ("# PubMed search made by `livingmeta fetch pubmed` (PRISMA-S record; do not edit)\n"
            + yaml.safe_dump(redact(meta), sort_keys=False, allow_unicode=True, width=100))


def fetch_pubmed(review_dir: str | os.PathLike, settings: Mapping, since: date | None = None,
                 until: date | None = None, now: datetime | None = None, *, dry_run: bool = False,
                 client: EutilsClient | None = None, environ: Mapping | None = None) -> FetchResult:
    """Fetch the records added to PubMed for the saved query since the last successful search.

    ``settings`` is a dict as returned by :func:`pubmed_settings`. ``since``/``until`` override the
    window (inclusive dates, on ``[crdt]``); ``now`` is the time of the search (default: now, local time).
    Raises ReviewInputError for bad settings or review files, FetchError when the fetch fails; in both
    cases nothing is written. No other exception leaves it (an unreadable or unwritable review folder, or
    a bug, is a FetchError too), and no message holds the API key or the e-mail address.
    """
    try:
        return _fetch_pubmed(review_dir, settings, since, until, now, dry_run=dry_run, client=client,
                             environ=environ)
    except (FetchError, ReviewInputError):
        raise
    except OSError as err:  # the review folder: unreadable, unwritable, full
        where = err.filename or searches_dir(review_dir)
        raise FetchError(f"{where}: {err.strerror or err.__class__.__name__}; nothing was written. Check the review "
                         "folder's permissions and free space, then run the fetch again.") from None
    except Exception as err:  # noqa: BLE001 - never a traceback from a cron job; the cause, redacted
        raise FetchError(f"unexpected {err.__class__.__name__} while fetching ({server_text(str(err), 120)}); "
                         "nothing was written. This is a bug in livingmeta: please report it.") from None


def _fetch_pubmed(review_dir, settings: Mapping, since: date | None, until: date | None, now: datetime | None,
                  *, dry_run: bool, client: EutilsClient | None, environ: Mapping | None) -> FetchResult:
    settings = dict(settings)
    if not settings.get("query"):  # e.g. only fetch.pubmed of the config was given: the protocol's query
        settings["query"] = protocol_search(review_dir).get("query")
    settings = validate_settings(settings)
    query = settings.get("query")
    if not query:
        raise ReviewInputError("no saved PubMed query", file=str(Path(review_dir) / "review.yaml"),
                               field="search.pubmed.query",
                               hint="Save the query there or as fetch.pubmed.query in the config.")
    if now is None or now.tzinfo is None:
        now = (now or datetime.now()).astimezone()
    today = now.date()
    start = since or last_search_end(review_dir)
    if start is None:
        raise ReviewInputError("no earlier PubMed search found (no searches/pubmed/*.search.yaml and no "
                               "search_date in previous_version.yaml)", file=str(review_dir),
                               hint="Give the first day to search with --since YYYY-MM-DD.")
    end = until or today
    if end > today:
        raise ReviewInputError(f"the window ends in the future ({end.isoformat()} > {today.isoformat()})",
                               field="--until", hint="Give a date up to today.")
    if start > end:
        raise ReviewInputError(f"the window starts after it ends ({start.isoformat()} > {end.isoformat()})",
                               field="--since", hint="Give --since on or before --until (default: today).")

    client = client or EutilsClient.from_settings(settings, environ=environ)
    term = crdt_term(query, start, end)
    result = FetchResult(query=query, term=term, window_from=start, window_to=end, count=0, dry_run=dry_run)
    log.info("pubmed: searching [crdt] %s..%s", start.isoformat(), end.isoformat())

    if dry_run:
        search = client.esearch(term, retmax=0, history=False)
        result.count, result.warnings, result.requests = search.count, search.warnings, client.requests
        return result

    max_records = settings["max_records"]
    search = client.esearch(term, retmax=max_records, history=True)
    result.count, result.warnings = search.count, search.warnings
    for warning in search.warnings:
        log.warning("pubmed: esearch warning: %s", warning)
    if search.count > max_records:
        raise FetchError(f"esearch: {search.count} records match in [crdt] {start}..{end}, more than max_records "
                         f"({max_records}); nothing was written. Fetch a shorter window with --since/--until.")
    expected_ids = search.ids
    if len(expected_ids) != search.count or len(set(expected_ids)) != len(expected_ids):
        raise FetchError(f"esearch: the id list has {len(expected_ids)} PMIDs for a count of {search.count} "
                         "(truncated or malformed); nothing was written. Run the fetch again later.")

    records: list[str] = []
    batch = settings["batch_size"]
    for retstart in range(0, search.count, batch):
        wanted = min(batch, search.count - retstart)
        got = client.efetch_medline(search.webenv, search.query_key, retstart, wanted)
        if len(got) != wanted:
            raise FetchError(f"efetch (records {retstart + 1}-{retstart + wanted}): {len(got)} record(s) returned, "
                             f"{wanted} expected (truncated or malformed); nothing was written. "
                             "Run the fetch again later.")
        records.extend(got)
        log.info("pubmed: fetched %d of %d", len(records), search.count)
    fetched_ids = [record_pmid(r) for r in records]
    if sorted(fetched_ids) != sorted(expected_ids):  # the PMIDs returned must be exactly those requested
        missing = sorted(set(expected_ids) - set(fetched_ids))
        extra = sorted(set(fetched_ids) - set(expected_ids))
        twice = sorted({p for p in fetched_ids if fetched_ids.count(p) > 1})
        found = "; ".join(f"{what} {len(ids)}, e.g. {', '.join(ids[:3])}" for what, ids in
                          (("missing", missing), ("not found by esearch", extra), ("returned twice", twice)) if ids)
        raise FetchError(f"efetch: the records returned are not the {search.count} found by esearch ({found}); "
                         "nothing was written. Run the fetch again later.")

    already = exported_pmids(review_dir)
    new = [r for r, pmid in zip(records, fetched_ids) if pmid not in already]
    result.fetched = len(records)
    result.already_exported = len(records) - len(new)
    result.written = len(new)
    result.requests = client.requests

    folder = searches_dir(review_dir)
    folder.mkdir(parents=True, exist_ok=True)
    export_text = "".join(r if i == 0 else "\n" + r for i, r in enumerate(new))
    for _ in range(5):  # another fetch may take the name between choosing and placing it
        stem = export_stem(folder, today)
        export = folder / f"{stem}.nbib" if new else None
        record_path = folder / f"{stem}.search.yaml"
        meta_text = _search_record_text(result, search, settings, export, now, bool(client.api_key))
        temps = [_write_hidden_temp(folder, record_path.name, meta_text)]
        placed_export = False
        try:
            if export is not None:
                temps.append(_write_hidden_temp(folder, export.name, export_text))
                _place(temps[-1], export)
                placed_export = True
            _place(temps[0], record_path)  # the record last: it marks the search as done
        except FileExistsError:
            if placed_export:
                export.unlink()
            continue
        finally:
            for tmp in temps:
                tmp.unlink(missing_ok=True)
        result.export, result.record = export, record_path
        break
    else:
        raise FetchError(f"{folder}: could not find a free export name; nothing was written.")
    log.info("pubmed: %d new record(s) written", result.written)
    return result
