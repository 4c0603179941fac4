"""Publish a rendered report as a new version beside the old ones.

``reports/<version>/`` receives report.html, report.pdf, results.json, the figures (``figures/index.csv``
and the SVG files it lists) and the data (``data/index.csv`` and the CSV files it lists) through a staging
folder and one atomic rename; ``reports/latest`` is a symbolic link switched atomically (a new link
renamed over the old one); ``reports/index.html`` lists every version. Nothing already published is ever
changed.
"""

from __future__ import annotations

import filecmp
import html
import os
import shutil
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.jsonio import read_json, write_text_atomic
from livingmeta.living.versions import published_versions, version_key
from livingmeta.report import data, figures
from livingmeta.report.indexed import INDEX

FILES = ("report.html", "report.pdf", "results.json")
FOLDERS = {figures.FOLDER: ".svg", data.FOLDER: ".csv"}  # a version's folders -> the files their index lists


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


def publish(files: dict[str, str | os.PathLike], reports_dir: str | os.PathLike) -> dict:
    """Publish ``files`` (name -> path; report.html, results.json, figures/<file> for each figure file,
    data/<file> for each data file and optionally report.pdf).

    Returns ``{version, folder, files}``. The version is read from results.json.
    """
    reports_dir = Path(reports_dir)
    files = {name: Path(path) for name, path in files.items() if path}
    unknown = {name for name in files if not publishable(name)}
    if unknown:
        raise ValueError(f"cannot publish {sorted(unknown)}")
    results = read_json(files["results.json"])
    version = str(results.get("version") or "")
    if version_key(version) == ("", 0):
        raise ReviewInputError(f"results.json has no valid version ({version!r})", file=str(files["results.json"]))

    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / version
    if target.exists():
        if not _same_content(target, files):
            raise ReviewInputError(
                f"version {version} is already published with different content",
                file=str(target),
                hint="The report was re-rendered without a new version name: run `snakemake --forcerun "
                     "report` (or delete results/report/results.json) and run again.")
    else:
        staging = reports_dir / f".staging-{version}-{os.getpid()}"
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
    return {"version": version, "folder": str(target), "files": sorted(files)}


def write_index(reports_dir: str | os.PathLike) -> None:
    """Rewrite reports/index.html listing every published version, newest first."""
    reports_dir = Path(reports_dir)
    rows = []
    title = "livingmeta review"
    versions = published_versions(reports_dir)
    latest = os.readlink(reports_dir / "latest") if (reports_dir / "latest").is_symlink() else None
    for version in reversed(versions):
        folder = reports_dir / version
        info = {}
        if (folder / "results.json").is_file():
            try:
                info = read_json(folder / "results.json")
            except ValueError:
                info = {}
        title = (info.get("review") or {}).get("title") or title if version == versions[-1] else title
        prisma = info.get("prisma") or {}
        links = " · ".join(
            f'<a href="{html.escape(version)}/{name}">{label}</a>'
            for name, label in (("report.html", "HTML"), ("report.pdf", "PDF"), ("results.json", "JSON"),
                                (f"{figures.FOLDER}/{INDEX}", "figures"), (f"{data.FOLDER}/{INDEX}", "data"))
            if (folder / name).is_file())
        rows.append(
            "<tr><td>{v}{tag}</td><td>{gen}</td><td>{studies}</td><td>{analyses}</td><td>{links}</td></tr>".format(
                v=html.escape(version), tag=" <strong>(latest)</strong>" if version == latest else "",
                gen=html.escape(str(info.get("generated_at", ""))),
                studies=html.escape(str(prisma.get("total_studies", ""))),
                analyses=len(info.get("analyses") or []), links=links))
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
