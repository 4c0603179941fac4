"""Publish a rendered report as a new version beside the old ones.

``reports/<version>/`` receives report.html, report.pdf, results.json, the figures (``figures/index.csv``
and the SVG files it lists) and the data (``data/index.csv`` and the CSV files it lists), and in the
layout in pages the pages (``pages/index.csv`` and the HTML files it lists) and report-appendix.pdf, through a staging
folder and one atomic rename; ``reports/latest`` is a symbolic link switched atomically (a new link
renamed over the old one); ``reports/index.html`` lists every version. Nothing already published is ever
changed. What the index shows of each version (its time, number of studies and analyses, the review's
title) is kept in ``reports/.versions.json`` under the size and modification time of the version's
results.json, so that publishing reads no earlier version's results.json but the latest's (at 1,000
studies each is megabytes, and a living review publishes many); a missing or stale entry is read again.

A version is published only when something a reader sees changed: the candidate's results.json is
compared with the latest published one without the keys that name the version itself
(:data:`VERSION_KEYS`: its name, time, what changed since the previous version and the history of
versions, which includes itself). Every other key (the results, study data, PRISMA counts, methods
text, notices, the versions of the software that made them and ``report_code``, the digest of the
report's code and templates) is content. When nothing differs, no
folder is made and ``latest`` stays; publish says ``unchanged``. The HTML and PDF are rendered from
results.json alone, so a new rendering of the same content changes only bytes.
"""

from __future__ import annotations

import filecmp
import html
import os
import shutil
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.jsonio import dumps, read_json, write_text_atomic
from livingmeta.living.versions import published_versions, version_key
from livingmeta.report import data, export, figures, pages
from livingmeta.report.indexed import INDEX

APPENDIX_PDF = "report-appendix.pdf"  # the appendix in print, in the layout in pages (livingmeta/report/layout.py)
FILES = ("report.html", "report.pdf", APPENDIX_PDF, "results.json")
FOLDERS = {figures.FOLDER: ".svg", data.FOLDER: ".csv", export.FOLDER: ".csv", pages.FOLDER: ".html"}  # a version's folders -> the files their index lists


# keys of results.json that describe the version, not the evidence: left out when deciding whether
# anything changed
VERSION_KEYS = ("version", "generated_at", "what_changed", "history")
STAGING_PREFIX = ".staging-"


def reader_view(results: dict) -> dict:
    """What a reader of results.json (and of the report rendered from it) sees, less the version itself."""
    return {key: value for key, value in results.items() if key not in VERSION_KEYS}


def _latest_published(reports_dir: Path) -> str | None:
    latest = reports_dir / "latest"
    if latest.is_symlink():
        name = os.readlink(latest)
        if (reports_dir / name / "results.json").is_file():
            return name
    versions = published_versions(reports_dir)
    return versions[-1] if versions else None


def unchanged_since(reports_dir: Path, results: dict) -> str | None:
    """The latest published version when its content equals ``results``' (else None)."""
    latest = _latest_published(reports_dir)
    if latest is None:
        return None
    try:
        published = read_json(reports_dir / latest / "results.json")
    except (OSError, ValueError):
        return None
    return latest if reader_view(published) == reader_view(results) else None


def remove_orphaned_staging(reports_dir: str | os.PathLike) -> list[str]:
    """Remove staging folders left by a publish that was killed (``.staging-<version>-<pid>`` whose
    process is gone). Returns their names."""
    from livingmeta.living.processes import pid_alive

    reports_dir = Path(reports_dir)
    removed = []
    if not reports_dir.is_dir():
        return removed
    for entry in reports_dir.iterdir():
        if not entry.name.startswith(STAGING_PREFIX) or not entry.is_dir() or entry.is_symlink():
            continue
        pid = entry.name.rsplit("-", 1)[-1]
        if pid.isdigit() and pid_alive(int(pid)) and int(pid) != os.getpid():
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    return removed


def _same_content(folder: Path, files: dict[str, Path]) -> bool:
    return all((folder / name).is_file() and filecmp.cmp(folder / name, src, shallow=False)
               for name, src in files.items())


def publishable(name: str) -> bool:
    """Whether ``name`` is a file a version holds: one of :data:`FILES`, or in one of its :data:`FOLDERS`
    the index (``index.csv``) or a file of that folder's kind (SVG in ``figures/``, CSV in ``data/``)."""
    folder, _, file = name.rpartition("/")
    return name in FILES or (folder in FOLDERS and (file == INDEX or file.endswith(FOLDERS[folder])))


def switch_latest(reports_dir: Path, version: str) -> None:
    latest = reports_dir / "latest"
    tmp = reports_dir / f".latest.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(version, tmp, target_is_directory=True)
    if latest.exists() and not latest.is_symlink():
        # an old real folder (e.g. copied by hand): move it aside, never delete published data
        aside = reports_dir / f".latest-replaced-{os.getpid()}"
        latest.rename(aside)
    os.replace(tmp, latest)


def _repair_pointers(reports_dir: Path, version: str) -> bool:
    """Re-point ``latest`` at ``version`` and rewrite the index when either was lost (removed by hand, a
    disk problem: :func:`livingmeta.living.versions.publication_damage`); whether anything was repaired.
    A re-rendering of unchanged content publishes nothing, so this is what restores them."""
    latest = reports_dir / "latest"
    repaired = False
    if not (latest.is_symlink() and latest.resolve() == (reports_dir / version).resolve()):
        switch_latest(reports_dir, version)
        repaired = True
    if not (reports_dir / "index.html").is_file():
        write_index(reports_dir)
        repaired = True
    return repaired


def report_files(outputs: dict[str, str]) -> dict[str, str]:
    """What a version holds of the report job's ``outputs`` (its keys in workflow/rules/report.smk: results,
    html, figures, data, export, pdf), as :func:`publish` takes them: the figure, data and export files that
    their indexes list; the pages and the appendix's PDF follow (:func:`with_companions`)."""
    files = {"results.json": outputs["results"], "report.html": outputs["html"],
             **figures.listed_files(outputs["figures"]), **data.listed_files(outputs["data"])}
    if outputs.get("export"):
        files.update(export.listed_files(outputs["export"]))
    if outputs.get("pdf"):
        files["report.pdf"] = outputs["pdf"]
    return files


def with_companions(files: dict[str, Path]) -> dict[str, Path]:
    """``files`` and what the report job wrote beside them in the layout in pages: the pages that
    ``pages/index.csv`` beside report.html lists, and report-appendix.pdf beside report.pdf (the report job
    removes both when its layout is one page, so what is beside them is this report's)."""
    out = dict(files)
    html = out.get("report.html")
    if html is not None and not any(name.startswith(pages.FOLDER + "/") for name in out):
        index = html.parent / pages.FOLDER / INDEX
        if index.is_file():
            out.update(pages.listed_files(index))
    pdf = out.get("report.pdf")
    if pdf is not None and APPENDIX_PDF not in out and (pdf.parent / APPENDIX_PDF).is_file():
        out[APPENDIX_PDF] = pdf.parent / APPENDIX_PDF
    return out


def publish(files: dict[str, str | os.PathLike], reports_dir: str | os.PathLike) -> dict:
    """Publish ``files`` (name -> path; report.html, results.json, figures/<file> for each figure file,
    data/<file> for each data file and optionally report.pdf), with their companions in the layout in
    pages (:func:`with_companions`: pages/ and report-appendix.pdf).

    Returns ``{version, folder, files, unchanged}``. The version is read from results.json; when the
    latest published version has the same content (:func:`reader_view`), nothing is published and the
    result names that version with ``unchanged: true`` (``candidate``: the name the new one would have had).
    When the version's folder exists already with the same files, or when nothing changed but ``latest``
    or the index is missing (a publication restored, see
    :func:`livingmeta.living.versions.publication_damage`), only ``latest`` and the index are written, and
    ``restored: true``.
    """
    reports_dir = Path(reports_dir)
    files = with_companions({name: Path(path) for name, path in files.items() if path})
    unknown = {name for name in files if not publishable(name)}
    if unknown:
        raise ValueError(f"cannot publish {sorted(unknown)}")
    try:
        results = read_json(files["results.json"])
    except ValueError as err:  # written atomically by the report job: damaged afterwards (by hand, a disk)
        raise ReviewInputError(f"results.json is not valid JSON ({err})", file=str(files["results.json"]),
                               hint="Delete it and run again: the report job makes it anew.") from None
    version = str(results.get("version") or "") if isinstance(results, dict) else ""
    if version_key(version) == ("", 0):
        raise ReviewInputError(f"results.json has no valid version ({version!r})", file=str(files["results.json"]))

    reports_dir.mkdir(parents=True, exist_ok=True)
    remove_orphaned_staging(reports_dir)
    target = reports_dir / version
    same = None if target.exists() else unchanged_since(reports_dir, results)
    if same is not None:
        out = {"version": same, "folder": str(reports_dir / same), "files": sorted(files), "unchanged": True,
               "candidate": version}
        return out | ({"restored": True} if _repair_pointers(reports_dir, same) else {})
    restored = target.exists()  # published before: only latest and the index are made again
    if restored:
        if not (target.is_dir() and _same_content(target, files)):
            # a version's name is never taken twice (versions.next_version): what is there was not published
            # from this build (put there by hand, or by another review publishing to the same folder)
            raise ReviewInputError(
                f"version {version} is already published with different content",
                file=str(target),
                hint="It was not published from this report (made by hand, or another review publishes to the "
                     "same reports folder?): move it out of the reports folder and run again.")
    else:
        staging = reports_dir / f"{STAGING_PREFIX}{version}-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        try:
            for name, src in files.items():
                (staging / name).parent.mkdir(exist_ok=True)
                shutil.copyfile(src, staging / name)
                with open(staging / name, "rb") as handle:
                    os.fsync(handle.fileno())
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    switch_latest(reports_dir, version)
    write_index(reports_dir)
    out = {"version": version, "folder": str(target), "files": sorted(files), "unchanged": False}
    return out | ({"restored": True} if restored else {})


VERSIONS_SUMMARY = ".versions.json"  # in reports/: what index.html shows of each version (see the module's text)


def version_summaries(reports_dir: Path, versions: list[str]) -> dict[str, dict]:
    """``{version: {generated_at, studies, analyses, title}}`` for index.html, from ``reports/.versions.json``
    where its entry's signature (size and modification time of the version's results.json) still holds,
    else from the version's results.json (and the file is rewritten). A version without a readable
    results.json gets an empty entry."""
    path = reports_dir / VERSIONS_SUMMARY
    try:
        kept = read_json(path) if path.is_file() else {}
    except (OSError, ValueError):
        kept = {}
    kept = kept if isinstance(kept, dict) else {}
    out: dict[str, dict] = {}
    for version in versions:
        results = reports_dir / version / "results.json"
        try:
            stat = results.stat()
        except OSError:
            out[version] = {}
            continue
        signature = [stat.st_size, stat.st_mtime_ns]
        entry = kept.get(version)
        if isinstance(entry, dict) and entry.get("signature") == signature:
            out[version] = entry
            continue
        try:
            info = read_json(results)
        except (OSError, ValueError):
            info = {}
        info = info if isinstance(info, dict) else {}
        out[version] = {"signature": signature, "generated_at": info.get("generated_at", ""),
                        "studies": (info.get("prisma") or {}).get("total_studies", ""),
                        "analyses": len(info.get("analyses") or []),
                        "title": (info.get("review") or {}).get("title")}
    if out != kept:
        try:
            write_text_atomic(path, dumps(out))
        except OSError:
            pass  # the index is still right; the next publish reads the versions again
    return out


def write_index(reports_dir: str | os.PathLike) -> None:
    """Rewrite reports/index.html listing every published version, newest first."""
    reports_dir = Path(reports_dir)
    rows = []
    title = "livingmeta review"
    versions = published_versions(reports_dir)
    latest = os.readlink(reports_dir / "latest") if (reports_dir / "latest").is_symlink() else None
    summaries = version_summaries(reports_dir, versions)
    for version in reversed(versions):
        folder = reports_dir / version
        info = summaries.get(version) or {}
        title = info.get("title") or title if version == versions[-1] else title
        links = " · ".join(
            f'<a href="{html.escape(version)}/{name}">{label}</a>'
            for name, label in (("report.html", "HTML"), ("report.pdf", "PDF"), ("results.json", "JSON"),
                                (f"{figures.FOLDER}/{INDEX}", "figures"), (f"{data.FOLDER}/{INDEX}", "data"),
                                (f"{export.FOLDER}/{INDEX}", "export"))
            if (folder / name).is_file())
        rows.append(
            "<tr><td>{v}{tag}</td><td>{gen}</td><td>{studies}</td><td>{analyses}</td><td>{links}</td></tr>".format(
                v=html.escape(version), tag=" <strong>(latest)</strong>" if version == latest else "",
                gen=html.escape(str(info.get("generated_at", ""))),
                studies=html.escape(str(info.get("studies", ""))),
                analyses=info.get("analyses", 0), links=links))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}: versions</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ccc;padding:.4em;text-align:left}}</style></head>
<body><h1>{html.escape(title)}</h1><p>Every published version of this living review, newest first.
<a href="latest/report.html">Latest report</a>.</p>
<table><thead><tr><th>Version</th><th>Generated</th><th>Studies</th><th>Analyses</th><th>Files</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    write_text_atomic(reports_dir / "index.html", page)
