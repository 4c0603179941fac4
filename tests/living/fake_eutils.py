"""A fake NCBI E-utilities server on 127.0.0.1 (a free port) serving the recorded responses in
``tests/living/data/``, with injectable faults. Nothing here touches the internet.

    with FakeEutils() as server:
        server.fault("efetch", Status(503))          # the next efetch request gets a 503
        ... base_url=server.base_url ...
        server.requests                              # every request: endpoint, method, params, headers

Faults are consumed in order, one per request to that endpoint (``"esearch"`` or ``"efetch"``).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
PMID = re.compile(r"^PMID- *(\d+)\s*$", re.MULTILINE)


def medline_records(text: str) -> dict[str, str]:
    """PMID -> record text (ending in one newline) of a MEDLINE file."""
    starts = [m.start() for m in PMID.finditer(text)]
    out = {}
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        record = text[begin:end].strip("\n") + "\n"
        out[PMID.search(record).group(1)] = record
    return out


RECORDS = medline_records((DATA / "efetch_medline_records.txt").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- faults


@dataclass
class Status:
    """Answer with an HTTP error status (optionally a Retry-After header and a body)."""
    code: int
    retry_after: str | None = None
    body: bytes = b""


@dataclass
class Hang:
    """Answer nothing for ``seconds`` (longer than the client's timeout), then give up."""
    seconds: float = 5.0


@dataclass
class Truncate:
    """Announce the full Content-Length, send only the first ``fraction`` of the body, close."""
    fraction: float = 0.5


@dataclass
class Cut:
    """No Content-Length (the body ends when the connection closes): send part of the body, close.
    The cut falls in the middle of a line."""
    fraction: float = 0.5


@dataclass
class Body:
    """Answer HTTP 200 with this body instead of the recorded one."""
    body: bytes
    content_type: str = "text/plain; charset=UTF-8"


@dataclass
class DropLastRecord:
    """EFetch: serve the batch without its last record (a well-formed but short answer)."""


@dataclass
class ForeignRecord:
    """EFetch: replace the batch's last record by a record whose PMID the search did not find."""


# ---------------------------------------------------------------------------------------------- server


@dataclass
class Request:
    endpoint: str
    method: str
    params: dict[str, str]
    headers: dict[str, str]
    raw: str                    # the request line and body as received (to check what is sent)
    clock: float | None = None  # the test's fake clock when the request arrived (if one is attached)


@dataclass
class FakeEutils:
    esearch_file: str = "esearch_history.json"
    clock: object | None = None  # an object with a ``now`` attribute (tests' fake clock)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        self._faults: dict[str, deque] = defaultdict(deque)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                server._handle(self, "")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(length).decode("ascii"))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    # -- lifecycle

    def __enter__(self) -> "FakeEutils":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils/"

    def fault(self, endpoint: str, *faults) -> None:
        self._faults[endpoint].extend(faults)

    def of(self, endpoint: str) -> list[Request]:
        return [r for r in self.requests if r.endpoint == endpoint]

    # -- responses

    def _search(self) -> dict:
        return json.loads((DATA / self.esearch_file).read_text(encoding="utf-8"))

    def _esearch(self, params) -> tuple[int, bytes, str]:
        data = self._search()
        result = data.get("esearchresult", {})
        if "idlist" in result:
            retmax = int(params.get("retmax", 20))
            result["idlist"] = result["idlist"][:retmax]
            result["retmax"] = str(len(result["idlist"]))
            if params.get("usehistory") != "y":
                result.pop("webenv", None)
                result.pop("querykey", None)
        return 200, json.dumps(data).encode("utf-8"), "application/json; charset=UTF-8"

    def _efetch(self, params, fault) -> tuple[int, bytes, str]:
        search = self._search()["esearchresult"]
        if (params.get("WebEnv") != search.get("webenv") or params.get("query_key") != search.get("querykey")
                or params.get("rettype") != "medline" or params.get("retmode") != "text"):
            return 200, (DATA / "efetch_error.xml").read_bytes(), "text/xml; charset=UTF-8"
        start, count = int(params.get("retstart", 0)), int(params.get("retmax", 20))
        batch = [RECORDS[pmid] for pmid in search["idlist"][start:start + count]]
        if isinstance(fault, DropLastRecord):
            batch = batch[:-1]
        if isinstance(fault, ForeignRecord):
            batch[-1] = PMID.sub("PMID- 49999999", batch[-1], count=1)
        text = "\n" + "\n".join(batch)  # E-utilities starts MEDLINE text with a blank line
        return 200, text.encode("utf-8"), "text/plain; charset=UTF-8"

    def _handle(self, handler: BaseHTTPRequestHandler, body: str) -> None:
        url = urllib.parse.urlsplit(handler.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        params.update(urllib.parse.parse_qsl(body))
        endpoint = url.path.rsplit("/", 1)[-1].split(".")[0]
        with self._lock:
            self.requests.append(Request(endpoint, handler.command, params, dict(handler.headers),
                                         handler.requestline + "\n" + body,
                                         getattr(self.clock, "now", None)))
            queue = self._faults[endpoint]
            fault = queue.popleft() if queue else None
        try:
            self._respond(handler, endpoint, params, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): fine

    def _respond(self, handler, endpoint, params, fault) -> None:
        if isinstance(fault, Hang):
            self._stop.wait(fault.seconds)
            handler.close_connection = True
            return
        if isinstance(fault, Status):
            body = fault.body.replace(b"{api_key}", params.get("api_key", "127.0.0.1").encode())
            handler.send_response(fault.code)
            if fault.retry_after is not None:
                handler.send_header("Retry-After", fault.retry_after)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        if isinstance(fault, Body):
            status, payload, ctype = 200, fault.body, fault.content_type
        elif endpoint == "esearch":
            status, payload, ctype = self._esearch(params)
        elif endpoint == "efetch":
            status, payload, ctype = self._efetch(params, fault)
        else:
            status, payload, ctype = 404, b"unknown endpoint", "text/plain"
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        if isinstance(fault, Cut):
            cut = payload[: int(len(payload) * fault.fraction)]
            if cut.endswith(b"\n"):
                cut = cut[:-1]
            handler.end_headers()
            handler.wfile.write(cut)
            handler.close_connection = True
            return
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if isinstance(fault, Truncate):
            handler.wfile.write(payload[: int(len(payload) * fault.fraction)])
            handler.close_connection = True
            return
        handler.wfile.write(payload)
