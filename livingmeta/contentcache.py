"""A cache of derived documents keyed by the content they are derived from.

Coarse jobs read many review files (the ``studies`` job every study file, an ``analysis`` job the study files
of its analysis); most of those files did not change since the last run. A document derived from a file is
stored under the SHA-256 of everything it depends on — the file's bytes, its path, the other inputs'
bytes, the job's parameters and the source code of the package that computes it (``code_digest``) — so a
job does again only the work whose inputs changed, and a changed input, parameter or livingmeta version
can never be served a stale document. Entries are JSON files written atomically (two jobs writing the same
entry write the same bytes); a damaged or unreadable entry is a miss. The cache lives in the results
folder (``<results>/.cache/``, docs/architecture.md) and may be deleted at any time.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from livingmeta.jsonio import _clean, write_text_atomic

PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def code_digest() -> str:
    """SHA-256 over livingmeta's own Python sources (names and bytes): a new livingmeta version is a miss."""
    from livingmeta.codedeps import files_digest

    return files_digest(sorted(PACKAGE.rglob("*.py")), PACKAGE)


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def params_text(params: Any) -> str:
    """A canonical text of a job's parameters (sorted keys) for a cache key."""
    return json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))


class ContentCache:
    """JSON documents under ``folder/<namespace>/<key[:2]>/<key>.json``; ``folder`` None: no cache."""

    def __init__(self, folder: str | os.PathLike | None, namespace: str):
        self.root = Path(folder) / namespace if folder else None
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        if self.root is None:
            return None
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        if self.root is None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(value, sort_keys=True, allow_nan=False, separators=(",", ":")))
        except (OSError, ValueError, TypeError):
            pass  # a cache that cannot be written only costs time

    def prune(self, keep: set[str]) -> None:
        """Remove the entries whose key is not in ``keep`` (what a job that uses every entry it needs, such
        as the report's figures, no longer needs)."""
        if self.root is None or not self.root.is_dir():
            return
        for path in self.root.glob("*/*.json"):
            if path.stem not in keep:
                path.unlink(missing_ok=True)

    def get_or_make(self, key: str, make: Callable[[], Any]) -> Any:
        cached = self.get(key)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        value = _clean(make())   # what a hit would return: JSON's values (lists, NaN as None)
        self.put(key, value)
        return value
