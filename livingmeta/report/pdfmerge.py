"""Merge the report's part PDFs into one PDF by copying their objects as bytes (livingmeta/report/pdf.py).

A part is a PDF that WeasyPrint (pydyf) wrote: a cross-reference stream, its small objects packed in
object streams, its content and font streams Flate-compressed. Merging does not parse the parts into
objects (pypdf did, and at 1,800 pages that was most of the report job's time): each part's objects are
read as bytes (from the cross-reference stream and the object streams), the objects that its pages use
are renumbered (``N 0 R`` references in the dictionaries, never inside streams) and written as they are;
the merged file gets its own page tree, catalog, named destinations, outline and a classic
cross-reference table (ISO 32000-1:2008, sections 7.3.10, 7.5.4, 7.5.7, 7.5.8, 12.3.2, 12.3.3).

What depends on the whole document is added as in the pypdf merge: each page's ``/Contents`` becomes
``[q, <its own>, stamp]`` where the stamp draws the page-margins form (``/LmMargins1`` on the first page,
``/LmMargins2`` on the others) and the page numbers in Helvetica (``/LmHelv``); those three names are added
to the resource dictionaries of the parts' pages. Links to other parts (placeholder URIs) and named links
become explicit destinations; a link to an anchor that is nowhere loses its action.

Deterministic: the same parts in the same order give the same bytes.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

REF = re.compile(rb"(\d+) (\d+) R\b")
NAME = re.compile(rb"/[^\s/<>\[\]()%{}]*")
NUMBER_OR_REF = re.compile(rb"[-+]?[\d.]+(?:\s+\d+\s+R\b)?|true\b|false\b|null\b")
WS = b" \t\r\n\f\x00"


class MergeError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------------
# reading a part


def _skip_ws(b: bytes, i: int) -> int:
    n = len(b)
    while i < n:
        c = b[i]
        if c in WS:
            i += 1
        elif c == 0x25:  # % comment
            while i < n and b[i] not in b"\r\n":
                i += 1
        else:
            break
    return i


_SPECIAL = re.compile(rb"<<|>>|[\[\]()<]")
_IN_STRING = re.compile(rb"[()\\]")


def _value_end(b: bytes, i: int) -> int:
    """The end of the PDF value that starts at ``b[i]``."""
    c = b[i:i + 1]
    if c == b"[" or b.startswith(b"<<", i):
        depth, j = 0, i
        while True:
            m = _SPECIAL.search(b, j)
            if m is None:
                raise MergeError("unbalanced dictionary or array")
            token = m.group(0)
            if token in (b"<<", b"["):
                depth += 1
                j = m.end()
            elif token in (b">>", b"]"):
                depth -= 1
                j = m.end()
            elif token == b"(":
                j = _string_end(b, m.start())
            else:  # a hex string
                j = b.index(b">", m.start()) + 1
            if depth == 0:
                return j
    if c == b"(":
        return _string_end(b, i)
    if c == b"<":
        return b.index(b">", i) + 1
    if c == b"/":
        return NAME.match(b, i).end()
    m = NUMBER_OR_REF.match(b, i)
    if not m:
        raise MergeError(f"unexpected PDF value at {b[i:i + 20]!r}")
    return m.end()


def _string_end(b: bytes, i: int) -> int:
    """The end of the literal string that starts at ``b[i]`` (``(``): nested parentheses, escapes."""
    depth, j = 0, i
    while True:
        m = _IN_STRING.search(b, j)
        if m is None:
            raise MergeError("unterminated string")
        token = m.group(0)
        if token == b"\\":
            j = m.end() + 1
            continue
        depth += 1 if token == b"(" else -1
        j = m.end()
        if depth == 0:
            return j


def dict_entries(b: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level ``(key, value)`` byte strings of the dictionary ``b`` (``<<...>>``)."""
    i = _skip_ws(b, 0)
    if b[i:i + 2] != b"<<":
        raise MergeError(f"not a dictionary: {b[:40]!r}")
    i += 2
    out = []
    while True:
        i = _skip_ws(b, i)
        if b[i:i + 2] == b">>":
            return out
        key = NAME.match(b, i)
        if not key:
            raise MergeError(f"bad dictionary key at {b[i:i + 20]!r}")
        j = _skip_ws(b, key.end())
        end = _value_end(b, j)
        out.append((key.group(0), b[j:end]))
        i = end


def make_dict(entries: list[tuple[bytes, bytes]]) -> bytes:
    return b"<<" + b"".join(k + b" " + v for k, v in entries) + b">>"


@dataclass
class Obj:
    body: bytes                  # the dictionary or value (for a stream: its dictionary)
    stream: bytes | None = None  # the stream's raw (still encoded) data


@dataclass
class PartFile:
    objects: dict[int, Obj]
    root: int
    info: int | None
    pages: list[int] = field(default_factory=list)


def read_part(path: str | Path) -> PartFile:
    """Every object of a WeasyPrint part PDF, as bytes."""
    data = Path(path).read_bytes()
    try:
        start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
        xref = _indirect_at(data, start)
    except (AttributeError, MergeError) as err:
        raise MergeError(f"{path}: not a PDF part as WeasyPrint writes it ({err})") from None
    trailer = dict(dict_entries(xref.body))
    if trailer.get(b"/Type") != b"/XRef":
        raise MergeError(f"{path}: no cross-reference stream")
    widths = [int(w) for w in trailer[b"/W"].strip(b"[]").split()]
    size = int(trailer[b"/Size"])
    index = [int(v) for v in trailer.get(b"/Index", b"[0 %d]" % size).strip(b"[]").split()]
    raw = _decode(xref, data)
    entries, pos, step = {}, 0, sum(widths)
    for first, count in zip(index[0::2], index[1::2]):
        for number in range(first, first + count):
            fields, k = [], pos
            for w in widths:
                fields.append(int.from_bytes(raw[k:k + w], "big") if w else 1)
                k += w
            entries[number] = fields
            pos += step
    objects: dict[int, Obj] = {}
    streams: dict[int, dict[int, bytes]] = {}
    for number, (kind, a, b) in sorted(entries.items()):
        if kind == 1:
            objects[number] = _indirect_at(data, a)
    for number, (kind, a, b) in sorted(entries.items()):
        if kind == 2:
            if a not in streams:
                streams[a] = _object_stream(objects[a], data)
            objects[number] = Obj(streams[a][number])
    root = int(REF.match(trailer[b"/Root"]).group(1))
    info = int(REF.match(trailer[b"/Info"]).group(1)) if b"/Info" in trailer else None
    part = PartFile(objects, root, info)
    catalog = dict(dict_entries(objects[root].body))
    part.pages = _page_list(objects, int(REF.match(catalog[b"/Pages"]).group(1)))
    return part


def _page_list(objects: dict[int, Obj], node: int) -> list[int]:
    entries = dict(dict_entries(objects[node].body))
    if entries.get(b"/Type") == b"/Page":
        return [node]
    out = []
    for m in REF.finditer(entries[b"/Kids"]):
        out += _page_list(objects, int(m.group(1)))
    return out


_OBJ_HEAD = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_LENGTH = re.compile(rb"/Length\s+(\d+)\b(?!\s+\d+\s+R)")


def _indirect_at(data: bytes, offset: int) -> Obj:
    m = _OBJ_HEAD.match(data, offset)
    if not m:
        raise MergeError(f"no object at offset {offset}")
    i = _skip_ws(data, m.end())
    end = _value_end(data, i)
    body = data[i:end]
    j = _skip_ws(data, end)
    if data[j:j + 6] == b"stream":
        j += 6
        if data[j:j + 2] == b"\r\n":
            j += 2
        elif data[j:j + 1] in (b"\n", b"\r"):
            j += 1
        length = _LENGTH.search(body)
        if length is None:
            raise MergeError("a stream without a direct /Length")
        n = int(length.group(1))
        return Obj(body, data[j:j + n])
    return Obj(body)


def _decode(obj: Obj, data: bytes) -> bytes:
    entries = dict(dict_entries(obj.body))
    filters = entries.get(b"/Filter", b"")
    if filters.strip(b"[] ") in (b"", ):
        return obj.stream
    if filters.strip(b"[] ") != b"/FlateDecode" or b"/DecodeParms" in entries:
        raise MergeError(f"unsupported stream filter {filters!r}")
    return zlib.decompress(obj.stream)


def _object_stream(obj: Obj, data: bytes) -> dict[int, bytes]:
    entries = dict(dict_entries(obj.body))
    raw = _decode(obj, data)
    n, first = int(entries[b"/N"]), int(entries[b"/First"])
    head = raw[:first].split()
    pairs = [(int(head[2 * i]), int(head[2 * i + 1])) for i in range(n)]
    out = {}
    for i, (number, offset) in enumerate(pairs):
        end = first + pairs[i + 1][1] if i + 1 < n else len(raw)
        out[number] = raw[first + offset:end].strip(WS)
    return out


# ---------------------------------------------------------------------------------------------------
# writing the merged file


def pdf_string(text: str) -> bytes:
    """A PDF text string: literal (escaped) when printable ASCII, else UTF-16BE with its byte order mark."""
    if all(32 <= ord(c) < 127 for c in text):
        return b"(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii") + b")"
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def pdf_number(value: float) -> bytes:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return (text if text not in ("-0", "") else "0").encode("ascii")


class Writer:
    """Objects numbered in the order they are added; :meth:`write` gives the file."""

    def __init__(self) -> None:
        self.objects: list[bytes] = [b""]  # index 0: the free entry

    def reserve(self) -> int:
        self.objects.append(b"")
        return len(self.objects) - 1

    def set(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        if stream is not None:
            body = body + b"\nstream\n" + stream + b"\nendstream"
        self.objects[number] = body

    def add(self, body: bytes, stream: bytes | None = None) -> int:
        number = self.reserve()
        self.set(number, body, stream)
        return number

    def write(self, root: int, info: int | None, file_id: bytes) -> bytes:
        out = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
        offsets, pos = [], len(out[0])
        for number, body in enumerate(self.objects[1:], 1):
            chunk = b"%d 0 obj\n%s\nendobj\n" % (number, body)
            offsets.append(pos)
            pos += len(chunk)
            out.append(chunk)
        size = len(self.objects)
        xref = [b"xref\n0 %d\n0000000000 65535 f \n" % size] + [b"%010d 00000 n \n" % o for o in offsets]
        ident = file_id.hex().encode("ascii")
        trailer = (b"trailer\n<</Size %d /Root %d 0 R%s /ID [<%s> <%s>]>>\nstartxref\n%d\n%%%%EOF\n"
                   % (size, root, b" /Info %d 0 R" % info if info else b"", ident, ident, pos))
        return b"".join(out + xref + [trailer])


def copy_objects(writer: Writer, part: PartFile, starts: list[int], skip_keys: tuple[bytes, ...] = ()) -> dict[int, int]:
    """Reserve a number in ``writer`` for every object reachable from the objects ``starts`` (not through
    the keys ``skip_keys`` of those objects); returns ``{old: new}``. Nothing is written yet."""
    mapping: dict[int, int] = {}
    todo = list(starts)
    seen = set()
    while todo:
        number = todo.pop()
        if number in seen or number not in part.objects:
            continue
        seen.add(number)
        body = part.objects[number].body
        if number in starts and skip_keys and body.startswith(b"<<"):
            body = make_dict([(k, v) for k, v in dict_entries(body) if k not in skip_keys])
        todo += [int(m.group(1)) for m in REF.finditer(body)]
    for number in sorted(seen):
        mapping[number] = writer.reserve()
    return mapping


def renumber(body: bytes, mapping: dict[int, int]) -> bytes:
    def sub(m: re.Match) -> bytes:
        new = mapping.get(int(m.group(1)))
        return b"%d 0 R" % new if new is not None else b"null"

    return REF.sub(sub, body)
