"""Read the labelling decisions stored in an ASReview LAB project file (``.asreview``).

An ``.asreview`` file is a zip archive of the project folder. Three layouts exist, told apart by
``project.json`` (``project_file_version``; absent in ASReview 1.x projects), as described by ASReview's own
migration code (https://github.com/asreview/asreview, ``asreview/project/migration/v1v2.py`` and
``v2v3.py``):

* **version 1** (ASReview LAB 1.x): ``project.json`` names the dataset (``dataset_path``, a file in
  ``data/``) and the reviews (``reviews: [{"id": ...}]``); each review keeps its state in
  ``reviews/<id>/results.sql``, an SQLite database whose ``results`` table holds ``record_id`` and
  ``label`` (1 relevant, 0 irrelevant, NULL not yet labelled) in the order labelled. ``record_id`` is
  the 0-based row of the dataset: ASReview 1.x sets it so even when the dataset has a ``record_id``
  column of its own (``asreview/io/utils.py``, ``standardize_dataframe``: ``df["record_id"] =
  np.arange(len(df.index))``).
* **version 2** (ASReview LAB 2.0 development releases): the records are in ``data_store.db`` (table
  ``record``: ``record_id, title, abstract, authors, keywords, year, doi, url, included ...``) and the
  labels in ``reviews/<id>/results.db`` (table ``results``: ``record_id, label, ...``).
* **version 3** (ASReview LAB 2.x): one ``results.db`` at the root holds both the ``record`` and the
  ``results`` table.

Only the standard library is used (zipfile, sqlite3, json, csv). A project of any other version, or one
whose dataset livingmeta cannot read (version 1 with a dataset that is not CSV/TSV/RIS), gets one
:class:`~livingmeta.errors.ReviewInputError` telling the user to export the dataset from ASReview LAB
instead (CSV with the ``included`` column, read by :func:`livingmeta.interchange.screening_import.read_asreview`).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from livingmeta.errors import ReviewInputError

EXPORT_HINT = ("Export the dataset from ASReview LAB instead (Download / Export -> Dataset, CSV: it holds an "
               "'included' column) and import that CSV with --from asreview.")


def _fail(path: Path, text: str, field: str | None = None) -> ReviewInputError:
    kwargs = {"file": str(path), "hint": EXPORT_HINT}
    if field:
        kwargs["field"] = field
    return ReviewInputError(text, **kwargs)


def _member(names: list[str], wanted: str) -> str | None:
    """The archive member ``wanted`` (relative to the project folder; the zip may hold one top folder)."""
    for name in names:
        parts = PurePosixPath(name).parts
        if "/".join(parts) == wanted or "/".join(parts[1:]) == wanted:
            return name
    return None


def _query(path: Path, archive: zipfile.ZipFile, member: str, sql: str, what: str) -> tuple[list[str], list]:
    with tempfile.TemporaryDirectory(prefix="lm-asreview-") as tmp:
        db = Path(tmp) / "state.db"
        db.write_bytes(archive.read(member))
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                cur = conn.execute(sql)
                return [d[0].lower() for d in cur.description], cur.fetchall()
            finally:
                conn.close()
        except sqlite3.DatabaseError as err:
            raise _fail(path, f"{member} is not a readable ASReview {what} database ({err})") from None


def _labels(path: Path, archive, member: str) -> list[tuple[str, str]]:
    """[(record_id, include|exclude)] in labelling order (NULL labels skipped)."""
    cols, rows = _query(path, archive, member, "SELECT * FROM results ORDER BY rowid", "results")
    if "record_id" not in cols or "label" not in cols:
        raise _fail(path, f"{member} has no record_id/label columns in its results table")
    ri, li = cols.index("record_id"), cols.index("label")
    out = []
    for row in rows:
        label = row[li]
        if label is None or str(label).strip() in ("", "-1"):
            continue
        try:
            value = int(float(label))
        except ValueError:
            raise _fail(path, f"label {label!r} of record {row[ri]}", field=f"{member}: results.label") from None
        if value not in (0, 1):
            raise _fail(path, f"label {label!r} of record {row[ri]}", field=f"{member}: results.label")
        out.append((str(row[ri]), "include" if value == 1 else "exclude"))
    return out


def _records_from_db(path, archive, member) -> dict[str, dict]:
    cols, rows = _query(path, archive, member, "SELECT * FROM record", "record")
    if "record_id" not in cols:
        raise _fail(path, f"{member} has no record_id column in its record table")
    out = {}
    for row in rows:
        values = {c: ("" if v is None else str(v)) for c, v in zip(cols, row)}
        authors = values.get("authors", "")
        if authors.startswith("["):
            try:
                authors = "; ".join(str(a) for a in json.loads(authors))
            except ValueError:
                pass
        values["authors"] = authors
        out[values["record_id"]] = values
    return out


def _records_from_dataset(path, archive, member) -> dict[str, dict]:
    """Version 1: the dataset file (CSV/TSV or RIS) -> {record_id: {column: value}}."""
    raw = archive.read(member)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(path, f"the project's dataset {member} is not UTF-8") from None
    suffix = PurePosixPath(member).suffix.lower()
    out = {}
    if suffix in (".csv", ".tsv", ".tab", ".txt") and not text.lstrip().startswith("TY  -"):
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix in (".tsv", ".tab") else ",")
        for k, row in enumerate(reader):
            row = {(c or "").strip().lower(): (v or "").strip() for c, v in row.items() if isinstance(v, str)}
            out[str(k)] = row          # ASReview 1.x: record_id = 0-based row, whatever the file says
        return out
    if suffix in (".ris", ".txt"):
        from livingmeta.records import normalise as nz
        from livingmeta.records.ris import parse
        for k, entry in enumerate(parse(text)):
            v = entry.values
            out[str(k)] = {"title": nz.first(v.get("title")) or "",
                           "authors": "; ".join(nz.as_list(v.get("authors"))),
                           "year": str(nz.find_year(v.get("year")) or ""),
                           "journal": nz.first(v.get("journal")) or "", "volume": nz.first(v.get("volume")) or "",
                           "issue": nz.first(v.get("issue")) or "", "pages": nz.first(v.get("pages")) or "",
                           "doi": nz.find_doi(v.get("doi")) or "", "pmid": nz.find_pmid(v.get("pmid")) or ""}
        return out
    raise _fail(path, f"the project's dataset {member} is a {suffix or 'file without extension'} file; livingmeta "
                      "reads CSV, TSV and RIS datasets inside a project")


def read_project(path: Path) -> tuple[int, list[tuple[int, dict, str]]]:
    """(project file version, [(labelling order, dataset values, include|exclude)])."""
    path = Path(path)
    if not path.is_file():
        raise ReviewInputError("file not found", file=str(path))
    if not zipfile.is_zipfile(path):
        raise ReviewInputError("not an ASReview project file (.asreview files are zip archives) and not CSV",
                               file=str(path), hint=EXPORT_HINT)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise _fail(path, f"unreadable zip archive ({err})") from None
    with archive:
        names = archive.namelist()
        config_name = _member(names, "project.json")
        if config_name is None:
            raise _fail(path, "the archive has no project.json: not an ASReview project file")
        try:
            config = json.loads(archive.read(config_name).decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as err:
            raise _fail(path, f"project.json is not readable JSON ({err})", field="project.json") from None
        version = config.get("project_file_version", 1) if isinstance(config, dict) else None
        reviews = config.get("reviews") if isinstance(config, dict) else None
        review_ids = [r.get("id") for r in reviews or [] if isinstance(r, dict) and r.get("id")]
        if version == 1:
            if not review_ids:
                raise _fail(path, "project.json names no review: the project has no labels yet",
                            field="project.json: reviews")
            results = _member(names, f"reviews/{review_ids[0]}/results.sql")
            data = _member(names, f"data/{config.get('dataset_path', '')}") if config.get("dataset_path") else None
            if results is None or data is None:
                raise _fail(path, "an ASReview 1.x project without its results.sql or data file "
                                  f"(looked for reviews/{review_ids[0]}/results.sql and data/"
                                  f"{config.get('dataset_path', '?')})")
            records = _records_from_dataset(path, archive, data)
        elif version == 2:
            if not review_ids:
                raise _fail(path, "project.json names no review", field="project.json: reviews")
            results = _member(names, f"reviews/{review_ids[0]}/results.db")
            store = _member(names, "data_store.db")
            if results is None or store is None:
                raise _fail(path, "a version-2 project without reviews/<id>/results.db or data_store.db")
            records = _records_from_db(path, archive, store)
        elif version == 3:
            results = _member(names, "results.db")
            if results is None:
                raise _fail(path, "a version-3 (ASReview 2.x) project without results.db")
            records = _records_from_db(path, archive, results)
        else:
            raise _fail(path, f"ASReview project file version {version!r} is not one livingmeta reads (it reads "
                              "versions 1, 2 and 3: ASReview LAB 1.x and 2.x)", field="project.json")
        labels = _labels(path, archive, results)
    out = []
    for order, (rid, decision) in enumerate(labels, start=1):
        if rid not in records:
            raise _fail(path, f"the results name record {rid}, which is not in the project's dataset",
                        field="results.record_id")
        out.append((order, records[rid], decision))
    return version, out
