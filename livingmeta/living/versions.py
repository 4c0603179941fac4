"""Version names of published reports: the run date, with a suffix when several are published in a day.

``2026-11-21``, then ``2026-11-21.2``, ``2026-11-21.3`` ... Dates come from ``SOURCE_DATE_EPOCH`` when it
is set, so a rebuild of the same inputs is reproducible. A name is never earlier than the newest published
version's (:func:`next_version`).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

VERSION_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.(\d+))?$")


def build_time() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def version_key(name: str) -> tuple[str, int]:
    match = VERSION_RE.match(name)
    if not match:
        return ("", 0)
    return (match.group(1), int(match.group(2) or 1))


def published_versions(reports_dir: str | os.PathLike) -> list[str]:
    """Published version folders, oldest first."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return []
    names = [p.name for p in reports_dir.iterdir()
             if p.is_dir() and not p.is_symlink() and VERSION_RE.match(p.name)]
    return sorted(names, key=version_key)


def next_version(reports_dir: str | os.PathLike, when: datetime | None = None) -> str:
    """The name the next published version will get: never before the newest published one (a clock set
    back, or ``SOURCE_DATE_EPOCH`` of an earlier day, continues the newest version's day), so that the
    versions' names keep the order in which they were published."""
    day = (when or build_time()).strftime("%Y-%m-%d")
    published = published_versions(reports_dir)
    if published and version_key(published[-1])[0] > day:
        day = version_key(published[-1])[0]
    taken = [version_key(v)[1] for v in published if version_key(v)[0] == day]
    if not taken:
        return day
    return f"{day}.{max(taken) + 1}"
