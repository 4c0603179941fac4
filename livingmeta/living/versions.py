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

from livingmeta.jsonio import read_json

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


def publication_damage(reports_dir: str | os.PathLike, published: str | os.PathLike) -> str | None:
    """What is missing of the last publication that ``published`` (the publish job's record,
    results/report/published.json) says was made, or None when it is all there (or nothing was published
    yet): the version's folder, ``reports/latest`` resolving to a published version, ``reports/index.html``.
    (Here, not in publish.py, so that planning, which calls it, does not import the report's modules.)

    Snakemake sees only the record: a reports folder damaged by hand or by a disk problem would be left so
    by every later run ("no changes"). Planning calls this and, on damage, removes the record, so that the
    publish job runs again and restores what is missing (``publish.publish`` re-creates a version's folder
    from the current build, or re-points ``latest`` at the version already there)."""
    reports_dir = Path(reports_dir)
    try:
        record = read_json(published)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return f"{published} is unreadable"
    version = str(record.get("version") or "") if isinstance(record, dict) else ""
    if not version:
        return f"{published} names no version"
    if not (reports_dir / version / "results.json").is_file():
        return f"the published version {version} is missing from {reports_dir}"
    latest = reports_dir / "latest"
    if not latest.is_symlink() or not (reports_dir / os.readlink(latest) / "results.json").is_file():
        return f"{latest} is missing or points at no published version"
    if not (reports_dir / "index.html").is_file():
        return f"{reports_dir / 'index.html'} is missing"
    return None
