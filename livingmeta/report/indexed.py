"""Folders of files beside the report that an ``index.csv`` lists (``figures/``, ``data/``).

The report job writes the files of such a folder and then its index, the one output Snakemake tracks (a
``directory()`` output would add Snakemake's timestamp file to what is published); publish copies the
index and the files it lists into the version's folder of the same name.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Iterable, Sequence

from livingmeta.errors import ReviewInputError
from livingmeta.jsonio import write_text_atomic

INDEX = "index.csv"


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV text: the header ``columns``, then ``rows`` (lines end with ``\\n``, cells quoted when needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def write_listed(index_path: str | os.PathLike, files: dict[str, str], index: str, stale: str) -> None:
    """Write ``files`` (name -> text) beside ``index_path`` and then the index text ``index``, so that it
    lists only files in place; files matching the pattern ``stale`` (an earlier report's) are removed first."""
    folder = Path(index_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(stale):
        old.unlink()
    for name, text in files.items():
        write_text_atomic(folder / name, text)
    write_text_atomic(index_path, index)


def listed_files(index_path: str | os.PathLike, folder: str, noun: str) -> dict[str, Path]:
    """The index and the files it lists, by their path in a published version (``<folder>/index.csv``,
    ``<folder>/<file>``); a listed file that is missing stops publishing with one message (``noun`` says
    what the files are: "figure", "data")."""
    index_path = Path(index_path)
    with open(index_path, encoding="utf-8", newline="") as handle:
        names = [row["file"] for row in csv.DictReader(handle)]
    missing = [name for name in names if not (index_path.parent / name).is_file()]
    if missing:
        raise ReviewInputError(f"{len(missing)} {noun} file(s) it lists are missing ({', '.join(missing[:3])})",
                               file=str(index_path), hint="Delete results/report/ and run again; nothing was "
                               "published")
    return {f"{folder}/{name}": index_path.parent / name for name in [INDEX, *names]}
