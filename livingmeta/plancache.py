"""What planning learnt about each review file, kept between runs so that an unchanged file is not read again.

Every run (a no-op run included) plans the job graph from the review folder: which analyses each study file
reports (``livingmeta.plan``) and whether every study and risk-of-bias file is valid
(``livingmeta.preflight``). Reading and validating a thousand YAML files takes seconds, at every run. This
cache stores, per file, what planning derived from it, under the file's identity as the file system reports
it: size, modification and status-change times in nanoseconds, and inode (the signature git's index uses to
skip unchanged files). A file whose signature differs is read again; a verdict "valid" is stored with a
digest of what the file was checked against (outcomes.yaml, the measure, the risk-of-bias tool, livingmeta's
code), so a change to any of them checks every file again. Files with problems are never marked valid: they
are checked, and reported, at every run until fixed. The jobs validate what they read in any case.

The cache is ``<results>/.livingmeta/plan-cache.json``; it may be deleted at any time, and a cache that
cannot be read or written only costs time.
"""

from __future__ import annotations

import json
import os
from typing import Any

from livingmeta.jsonio import write_text_atomic

FORMAT = 1


def signature(path: str | os.PathLike) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class PlanCache:
    """Per-file records ``{sig, summary, valid: [context digests]}`` keyed by the file's path."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = str(path) if path else None
        self.files: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if self.path:
            try:
                with open(self.path, encoding="utf-8") as handle:
                    data = json.load(handle)
                if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict):
                    self.files = data["files"]
            except (OSError, ValueError):
                pass

    def _current(self, path: str) -> dict[str, Any] | None:
        """The record of ``path`` if the file is unchanged since it was made, else None."""
        record = self.files.get(path)
        if record is None:
            return None
        if record.get("sig") != signature(path):
            del self.files[path]
            self.dirty = True
            return None
        return record

    def _record(self, path: str) -> dict[str, Any] | None:
        record = self._current(path)
        if record is None:
            sig = signature(path)
            if sig is None:
                return None
            record = self.files[path] = {"sig": sig}
            self.dirty = True
        return record

    def summary(self, path: str) -> Any | None:
        record = self._current(str(path))
        return None if record is None else record.get("summary")

    def set_summary(self, path: str, summary: Any) -> None:
        record = self._record(str(path))
        if record is not None:
            record["summary"] = summary
            self.dirty = True

    def is_valid(self, path: str | os.PathLike, context: str) -> bool:
        record = self._current(str(path))
        return record is not None and context in record.get("valid", ())

    def mark_valid(self, path: str | os.PathLike, context: str) -> None:
        record = self._record(str(path))
        if record is not None and context not in record.setdefault("valid", []):
            record["valid"] = (record["valid"] + [context])[-4:]   # a few contexts (e.g. two tools) at most
            self.dirty = True

    def save(self) -> None:
        if not (self.path and self.dirty):
            return
        live = {p: r for p, r in self.files.items() if os.path.exists(p)}
        try:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            write_text_atomic(self.path, json.dumps({"format": FORMAT, "files": live}, sort_keys=True,
                                                    separators=(",", ":")))
            self.dirty = False
        except OSError:
            pass
