"""Version names of published reports: the run date, with a suffix when several are published in a day.

``2026-11-21``, then ``2026-11-21.2``, ``2026-11-21.3`` ... Dates come from ``SOURCE_DATE_EPOCH`` when it
is set, so a rebuild of the same inputs is reproducible. A name is never earlier than the newest published
version's (:func:`next_version`).
"""

from __future__ import annotations

import hashlib
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
    """What is missing or changed of the last publication that ``published`` (the report job's record of
    publishing, results/report/published.json) says was made, or None when it is all there (or nothing was
    published yet): the version's folder, ``reports/latest`` resolving to a published version,
    ``reports/index.html``, and the report job's own files that were published (results.json, the HTML,
    the PDF, the figures...: each as it was when it was published, ``built`` in the record).
    (Here, not in publish.py, so that planning, which calls it, does not import the report's modules.)

    Snakemake sees only the record: a reports folder damaged by hand or by a disk problem would be left so
    by every later run ("no changes"), and so would a report file changed or removed after the job made it.
    Planning calls this and, on damage, removes the record, so that the report job runs again: it makes its
    files anew and restores what is missing (``publish.publish`` re-points ``latest`` and rewrites the
    index when nothing a reader sees changed, publishes a lost version's folder again from the build)."""
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
    built = record.get("built")
    for name, signature in (built.items() if isinstance(built, dict) else ()):
        path = Path(published).parent / name
        try:
            if file_signature(path) != signature:
                return f"{path} changed after the report job made it"
        except OSError:
            return f"{path} is missing (the report job made it)"
    return None


def build_signatures(paths, base: str | os.PathLike) -> dict[str, list]:
    """``built`` of published.json: the :func:`file_signature` of each published file of the build, under
    its path relative to ``base`` (the record's own folder), so that the record holds wherever the results
    folder is and whichever folder a command runs in."""
    return {os.path.relpath(path, base): file_signature(path) for path in paths}


SIGNATURE_BYTES = 1 << 16  # of a file's head and of its tail that its signature reads


def file_signature(path: str | os.PathLike) -> list:
    """What ``published.json`` records of each file it published (a JSON list, as read back): the file's
    size and a BLAKE2 digest of its first and last 64 KiB, a cost that does not grow with the file. Not
    its modification time (Snakemake touches a job's outputs after the job ends) nor its inode (a copied
    results folder is the same build): a file removed, truncated or written again with other content
    shows, at the cost of a few reads per file while planning."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        digest.update(handle.read(SIGNATURE_BYTES))
        if size > 2 * SIGNATURE_BYTES:
            handle.seek(-SIGNATURE_BYTES, os.SEEK_END)
        digest.update(handle.read(SIGNATURE_BYTES))
    return [size, digest.hexdigest()]
