"""Deterministic JSON files: sorted keys, UTF-8, NaN/inf written as null, atomic replace.

The files are encoded by orjson (https://github.com/ijl/orjson, a maintained C/Rust encoder): the standard
library's encoder is pure Python as soon as it indents, and at 1,000 studies results.json (12 MB) took it
seconds of every update. The text is the standard library's ``indent=2, sort_keys=True`` layout; numbers
are the shortest text that reads back as the same double (``0.00001`` where Python writes ``1e-05``).
What orjson refuses (an integer beyond 64 bits) is written by the standard library instead.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import orjson

_ORJSON = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _clean(value.tolist())
    return value


def _plain(value: Any) -> Any:
    """What orjson does not encode itself: numpy values it does not take (0-d arrays, object arrays)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(data: Any) -> str:
    """JSON text with keys sorted, indented by 2, NaN and infinities as null, ending in a newline."""
    try:
        return orjson.dumps(data, default=_plain, option=_ORJSON).decode("utf-8") + "\n"
    except TypeError:  # orjson.JSONEncodeError: e.g. an integer beyond 64 bits, which JSON itself allows
        return json.dumps(_clean(data), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_atomic(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Create ``path`` through ``write(temporary path)`` in the same folder and one atomic rename, so a
    reader (or a published report) never sees a half-written file. The file gets the usual permissions
    (mkstemp would leave it 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write text to path atomically (UTF-8, newline \\n)."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)

    write_atomic(path, write)


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_text_atomic(path, dumps(data))


def read_json(path: str | os.PathLike) -> Any:
    """The JSON document in ``path`` (orjson; what it refuses, such as NaN written by other tools, is read
    by the standard library, whose error names the line and column of a damaged file)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data.decode("utf-8"))
