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
backoff and jitter on timeouts, dropped connections, HTTP 429 (honouring ``Retry-After``) and 5xx. A
truncated or malformed response (an ``ERROR`` in the ESearch JSON, invalid JSON, EFetch returning other
records or fewer than asked for) aborts the fetch. Everything is written to hidden temporary files that are
renamed only when the whole fetch succeeded, so a failure never leaves a partial export behind.

The API key is read from an environment variable (``NCBI_API_KEY`` unless configured otherwise), is sent in
the body of POST requests (never in a URL), and never appears in logs, messages or the search record.
"""

from __future__ import annotations

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

    ``str(err)`` is one line that says what happened and what to do.
    """


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


def _redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
        quoted = urllib.parse.quote_plus(secret)
        if quoted != secret:
            text = text.replace(quoted, "***")
    return text


class _RedactFilter(logging.Filter):
    """Last line of defence: scrub the API key from any record of this module's logger."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = message
            for secret in self.secrets:
                clean = _redact(clean, secret)
            if clean != message:
                record.msg, record.args = clean, ()
        return True


_REDACT = _RedactFilter()
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
        if self.api_key:
            _REDACT.secrets.add(self.api_key)

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
                                     f"({_redact(str(reason), self.api_key)}); nothing was written. "
                                     "Check the network and fetch.pubmed.base_url.") from None
            except http.client.IncompleteRead as err:
                problem = f"truncated response ({len(err.partial)} bytes received)"
            except (ConnectionError, http.client.HTTPException) as err:
                problem = f"connection dropped ({err.__class__.__name__})"
            except OSError as err:  # e.g. a TLS failure: not worth retrying
                raise FetchError(f"{name}: request failed ({err.__class__.__name__}: "
                                 f"{_redact(str(err), self.api_key)}); nothing was written.") from None
            if attempt + 1 >= attempts:
                raise FetchError(f"{name}: gave up after {attempts} attempts (last: {problem}); nothing was written. "
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
            text = err.read(500).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the detail is best effort
            text = ""
        text = " ".join(text.split())[:200]
        reason = err.reason if isinstance(err.reason, str) else ""
        return _redact(f"{reason}: {text}" if text else reason, self.api_key).strip(": ")

    def _safe_host(self) -> str:
        return urllib.parse.urlsplit(self.base_url).netloc

    # -- E-utilities

    def esearch(self, term: str, *, retmax: int, history: bool = True, db: str = "pubmed") -> SearchResult:
        raw = self.request("esearch.fcgi", {"db": db, "term": term, "retmode": "json", "retmax": retmax,
                                            "usehistory": "y" if history else None})
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise FetchError("esearch: the response is not valid JSON (truncated or malformed); nothing was "
                             "written. Run the fetch again later.") from None
        if not isinstance(data, dict):
            raise FetchError("esearch: unexpected response (not a JSON object); nothing was written.")
        if data.get("error"):
            raise FetchError(f"esearch: the server reported an error: {_redact(str(data['error']), self.api_key)}; "
                             "nothing was written.")
        result = data.get("esearchresult")
        if not isinstance(result, dict):
            raise FetchError("esearch: the response has no 'esearchresult' (truncated or malformed); nothing was "
                             "written. Run the fetch again later.")
        if result.get("ERROR"):
            raise FetchError(f"esearch: PubMed reported an error: {_redact(str(result['ERROR']), self.api_key)}; "
                             "nothing was written. Check the saved query.")
        try:
            count = int(result["count"])
            ids = [str(int(i)) for i in result.get("idlist") or []]
        except (KeyError, TypeError, ValueError):
            raise FetchError("esearch: the response has no valid 'count' or 'idlist'; nothing was written.") from None
        webenv, query_key = result.get("webenv"), result.get("querykey")
        if history and count and not (webenv and query_key):
            raise FetchError("esearch: the response has no history (WebEnv/query_key); nothing was written. "
                             "Run the fetch again later.")
        warnings = []
        for block in ("errorlist", "warninglist"):
            for kind, items in (result.get(block) or {}).items():
                for item in items or []:
                    if item:
                        warnings.append(f"{kind}: {item}")
        return SearchResult(count, webenv, str(query_key) if query_key else None, ids,
                            str(result.get("querytranslation") or ""), warnings)

    def efetch_medline(self, webenv: str, query_key: str, retstart: int, retmax: int,
                       db: str = "pubmed") -> list[str]:
        """One batch of records from the history server, as MEDLINE text records (without blank lines)."""
        raw = self.request("efetch.fcgi", {"db": db, "WebEnv": webenv, "query_key": query_key,
                                           "retstart": retstart, "retmax": retmax,
                                           "rettype": "medline", "retmode": "text"})
        where = f"efetch (records {retstart + 1}-{retstart + retmax})"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FetchError(f"{where}: the response is not UTF-8 text (malformed); nothing was written.") from None
        return split_medline(text, where=where)


def split_medline(text: str, *, where: str = "MEDLINE text") -> list[str]:
    """Split MEDLINE text into records (each starting ``PMID- ``). Raises FetchError on anything that is
    not a complete MEDLINE response (an error message, a record cut short)."""
    text = text.replace("\r\n", "\n")
    starts = [m.start() for m in _PMID_LINE.finditer(text)]
    head = text[:starts[0]] if starts else text
    if head.strip():
        reported = re.search(r"<ERROR>(.*?)</ERROR>", head, re.DOTALL)
        if reported:
            raise FetchError(f"{where}: EFetch reported an error: {' '.join(reported.group(1).split())[:200]}; "
                             "nothing was written. Run the fetch again later.")
        snippet = " ".join(head.split())[:120]
        raise FetchError(f"{where}: the response is not MEDLINE text ({snippet!r}); nothing was written. "
                         "Run the fetch again later.")
    if starts and not text.endswith("\n"):
        raise FetchError(f"{where}: the response ends in the middle of a line (truncated); nothing was written. "
                         "Run the fetch again later.")
    records = []
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        records.append(text[begin:end].strip("\n") + "\n")
    return records


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
            + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100))


def fetch_pubmed(review_dir: str | os.PathLike, settings: Mapping, since: date | None = None,
                 until: date | None = None, now: datetime | None = None, *, dry_run: bool = False,
                 client: EutilsClient | None = None, environ: Mapping | None = None) -> FetchResult:
    """Fetch the records added to PubMed for the saved query since the last successful search.

    ``settings`` is a dict as returned by :func:`pubmed_settings`. ``since``/``until`` override the
    window (inclusive dates, on ``[crdt]``); ``now`` is the time of the search (default: now, local time).
    Raises ReviewInputError for bad settings or review files, FetchError when the fetch fails; in both
    cases nothing is written.
    """
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
    if sorted(fetched_ids) != sorted(expected_ids):
        missing = sorted(set(expected_ids) - set(fetched_ids))
        raise FetchError(f"efetch: the records returned are not the {search.count} found by esearch "
                         f"({len(missing)} missing, e.g. {', '.join(missing[:3]) or 'duplicates'}); nothing was "
                         "written. Run the fetch again later.")

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
