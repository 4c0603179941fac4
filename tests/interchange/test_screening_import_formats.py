"""ASReview project files (.asreview) and Covidence RIS exports as screening-decision sources (issue 20).

The fixtures are built here in the layouts the tools document: the ``.asreview`` zip as ASReview's
migration code describes project file versions 1-3 (https://github.com/asreview/asreview,
``asreview/project/migration/v1v2.py``, ``v2v3.py``), the RIS file as Covidence's reference export of one
list. Records are those of the example review (review/searches/), as in test_screening_import.py."""
from __future__ import annotations

import csv
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.interchange import screening_import as si
from livingmeta.records import keys

REPO = Path(__file__).resolve().parents[2]
FIX = Path(__file__).resolve().parent / "fixtures"

# the dataset of asreview_dataset.csv (existing fixture), as a project's data file
DATASET = [
    {"title": "Long-term outcomes of lumbar discectomy versus conservative care in adults with sciatica: a "
              "randomised trial", "authors": "Andersen, Mette; Olsen, Rasmus", "year": "2025", "doi": "",
     "pmid": "99000005"},
    {"title": "Bioactive glass scaffold for osteochondral defects in rabbit knees.", "authors": "Smith, Ann; Brown, Peter",
     "year": "2025", "doi": "10.5555/lm-demo.2025.008", "pmid": ""},
    {"title": "Exosomes in osteoarthritis: mechanisms and therapeutic prospects.", "authors": "Rossi, M.; Bianchi, L.",
     "year": "2025", "doi": "10.5555/lm-demo.2025.018", "pmid": ""},
    {"title": "A trial no search found", "authors": "Nobody, N.", "year": "1999", "doi": "10.9999/none", "pmid": ""},
    {"title": "Microfluidic hydrogel microspheres for intradiscal delivery of engineered exosomes in a rat model",
     "authors": "Yang, Hui; Cao, Ming", "year": "2025", "doi": "10.5555/lm-demo.2025.010", "pmid": ""},
]
# labelling order: record 0 relevant, 2 irrelevant, 1 irrelevant, 3 relevant (not in the searches), 4 pending
LABELS = [(0, 1), (2, 0), (1, 0), (3, 1), (4, None)]
EXPECTED = [("pubmed:2025-06-30:pmid-99000005", "include"),
            ("embase:2025-06-30:doi-10.5555/lm-demo.2025.018", "exclude"),
            ("pubmed:2025-06-30:pmid-99000008", "exclude")]


@pytest.fixture(scope="module")
def records():
    return keys.library_of_review(REPO / "review")


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _db(path: Path, *, results=True, record=False, results_table="results"):
    conn = sqlite3.connect(path)
    if results:
        conn.execute(f"CREATE TABLE {results_table} (record_id INTEGER, label INTEGER, classifier TEXT, "
                     "query_strategy TEXT, labeling_time TEXT, notes TEXT)")
        conn.executemany(f"INSERT INTO {results_table} (record_id, label) VALUES (?, ?)", LABELS)
    if record:
        conn.execute("CREATE TABLE record (dataset_row INTEGER, dataset_id TEXT, duplicate_of INTEGER, title TEXT, "
                     "abstract TEXT, authors TEXT, keywords TEXT, year INTEGER, doi TEXT, url TEXT, included "
                     "INTEGER, record_id INTEGER PRIMARY KEY)")
        for k, r in enumerate(DATASET):
            conn.execute("INSERT INTO record (dataset_row, title, authors, year, doi, record_id) VALUES (?,?,?,?,?,?)",
                         (k, r["title"], json.dumps(r["authors"].split("; ")), int(r["year"]), r["doi"] or None, k))
    conn.commit()
    conn.close()


def _dataset_csv() -> str:
    # a record_id column of its own (an earlier export re-imported): ASReview 1.x ignores it and numbers
    # the rows 0, 1, ... (asreview/io/utils.py, standardize_dataframe); so must the reader
    lines = ["record_id,title,authors,year,doi,pmid"]
    for k, r in enumerate(DATASET):
        lines.append(f"{k + 10}," + ",".join(f'"{r[c]}"' for c in ("title", "authors", "year", "doi", "pmid")))
    return "\n".join(lines) + "\n"


def make_project(tmp_path: Path, version: int, **db) -> Path:
    """A tiny .asreview file of project file version 1, 2 or 3."""
    work = tmp_path / f"v{version}"
    work.mkdir()
    target = tmp_path / f"project_v{version}.asreview"
    with zipfile.ZipFile(target, "w") as z:
        if version == 1:
            z.writestr("project.json", json.dumps({"version": "1.5", "id": "demo", "mode": "oracle",
                                                   "dataset_path": "demo.csv",
                                                   "reviews": [{"id": "abc123", "status": "review"}]}))
            z.writestr("data/demo.csv", _dataset_csv())
            _db(work / "results.sql", **db)
            z.write(work / "results.sql", "reviews/abc123/results.sql")
        elif version == 2:
            z.writestr("project.json", json.dumps({"version": "2.0a1", "project_file_version": 2,
                                                   "reviews": [{"id": "abc123", "status": "review"}]}))
            _db(work / "results.db", **db)
            _db(work / "data_store.db", results=False, record=True)
            z.write(work / "results.db", "reviews/abc123/results.db")
            z.write(work / "data_store.db", "data_store.db")
        else:
            z.writestr("project.json", json.dumps({"version": str(version - 1) + ".0", "project_file_version": version,
                                                   "review": {"status": "review"}}))
            _db(work / "results.db", record=True, **db)
            z.write(work / "results.db", "results.db")
    return target


@pytest.mark.parametrize("version", [1, 2, 3])
def test_asreview_project_labels_matched_in_labelling_order(tmp_path, records, version):
    project = make_project(tmp_path, version)
    out = tmp_path / "ta.csv"
    result = si.import_screening("asreview", project, out, records=records, reviewer="RA")
    rows = _rows(out)
    problems = _rows(si.unmatched_path(out))       # the relevant record no search found is listed
    assert result.n_exported == 4                 # the pending (NULL) label is not a decision
    assert problems[-1]["problem"].startswith("unmatched")
    assert (problems[-1]["row"], problems[-1]["decision"], problems[-1]["doi"]) == ("4", "include", "10.9999/none")
    if version == 1:
        # the v1 dataset file keeps its pmid column: record 0 is matched by PMID
        assert [(r["record_id"], r["decision"]) for r in rows] == EXPECTED
        assert [r["note"] for r in rows] == ["ASReview screening order 1", "ASReview screening order 2",
                                             "ASReview screening order 3"]
        assert len(problems) == 1
    else:
        # ASReview 2.x's record table keeps no PMID: record 0 (no DOI) only possibly matches its PubMed
        # record by title/authors/year under the deduplication rules -> listed, not dropped, not guessed
        assert [(r["record_id"], r["decision"]) for r in rows] == EXPECTED[1:]
        assert (problems[0]["row"], problems[0]["candidates"]) == ("1", EXPECTED[0][0])
        assert problems[0]["problem"].startswith("ambiguous")


def test_asreview_project_needs_a_reviewer(tmp_path, records):
    with pytest.raises(ReviewInputError, match="--reviewer"):
        si.import_screening("asreview", make_project(tmp_path, 3), tmp_path / "o.csv", records=records)


@pytest.mark.parametrize("kind", ["not_zip", "no_project_json", "unknown_version", "no_results_table",
                                  "bad_label"])
def test_asreview_project_bad_input_one_clear_message(tmp_path, records, kind):
    if kind == "not_zip":
        bad = tmp_path / "x.asreview"
        bad.write_bytes(b"this is not a zip archive")
        expect = "zip"
    elif kind == "no_project_json":
        bad = tmp_path / "x.asreview"
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("readme.txt", "hello")
        expect = "no project.json"
    elif kind == "unknown_version":
        bad = tmp_path / "x.asreview"
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("project.json", json.dumps({"project_file_version": 9}))
        expect = "version 9"
    elif kind == "no_results_table":
        bad = make_project(tmp_path, 1, results_table="something_else")
        expect = "no such table: results"
    else:
        bad = make_project(tmp_path, 3)
        conn_dir = tmp_path / "relabel"
        conn_dir.mkdir()
        with zipfile.ZipFile(bad) as z:
            z.extract("results.db", conn_dir)
        conn = sqlite3.connect(conn_dir / "results.db")
        conn.execute("UPDATE results SET label = 7 WHERE record_id = 2")
        conn.commit()
        conn.close()
        bad = tmp_path / "relabelled.asreview"
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("project.json", json.dumps({"project_file_version": 3}))
            z.write(conn_dir / "results.db", "results.db")
        expect = "label 7"
    with pytest.raises(ReviewInputError) as err:
        si.import_screening("asreview", bad, tmp_path / "o.csv", records=records, reviewer="RA")
    text = str(err.value)
    assert expect in text and str(bad) in text
    if kind != "not_zip":
        assert "Export the dataset from ASReview LAB" in text
    assert not (tmp_path / "o.csv").exists()


def test_cli_asreview_project_bad_input_has_no_traceback(tmp_path, capsys):
    from livingmeta.cli import main
    bad = tmp_path / "x.asreview"
    bad.write_bytes(b"PK\x03\x04 broken")
    code = main(["import", "screening", "--from", "asreview", str(bad), "--reviewer", "RA", "--review",
                 str(REPO / "review"), "--out", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and str(bad) in err


# ------------------------------------------------------------------------------------------ Covidence RIS

COVIDENCE_RIS = """TY  - JOUR
TI  - Microfluidic hydrogel microspheres for intradiscal delivery of engineered exosomes in a rat model of disc degeneration
AU  - Yang, H.
AU  - Cao, M.
PY  - 2025
JO  - Journal of Illustrative Spine Research
VL  - 12
SP  - 330
EP  - 342
DO  - 10.5555/lm-demo.2025.010
ID  - #12
ER  - 

TY  - JOUR
TI  - Engineered exosome-hydrogel composite targeting ferroptosis in a rat model of intervertebral disc degeneration
AU  - Xie, W.
AU  - Zheng, Q.
PY  - 2025
JO  - Journal of Illustrative Spine Research
VL  - 12
SP  - 343
EP  - 355
ID  - #15
ER  - 

TY  - JOUR
TI  - Exosomes loaded in a photo-crosslinked hydrogel promote cartilage endplate repair in a rat model
AU  - Ma, J.
AU  - He, X.
PY  - 2025
VL  - 12
SP  - 270
EP  - 281
DO  - 10.5555/lm-demo.2025.007
N1  - Exclusion reason: wrong outcome;
ID  - #21
ER  - 

TY  - JOUR
TI  - A record the searches never found
AU  - Nobody, N.
PY  - 1999
DO  - 10.9999/none
ID  - #30
ER  - 
"""


def test_covidence_ris_gives_the_same_decisions_as_the_csv_export(tmp_path, records):
    ris = tmp_path / "covidence_excluded.ris"
    ris.write_text(COVIDENCE_RIS, encoding="utf-8")
    out_ris, out_csv = tmp_path / "ris.csv", tmp_path / "csv.csv"
    result = si.import_screening("covidence", ris, out_ris, records=records, stage="full_text",
                                 decision="exclude", reason="wrong population")
    si.import_screening("covidence", FIX / "covidence_excluded.csv", out_csv, records=records, stage="full_text",
                        decision="exclude", reason="wrong population")
    got = [(r["record_id"], r["decision"], r["reason"], r["note"]) for r in _rows(out_ris)]
    want = [(r["record_id"], r["decision"], r["reason"], r["note"]) for r in _rows(out_csv)]
    assert got == want and len(got) == 3
    assert {r[2] for r in got} == {"wrong population", "wrong outcome"}
    assert {r[3] for r in got} == {"Covidence #12", "Covidence #15", "Covidence #21"}
    problems = _rows(si.unmatched_path(out_ris))
    assert [(p["doi"], p["reason"]) for p in problems] == [("10.9999/none", "wrong population")]
    assert result.n_exported == 4 and result.n_matched == 3


def test_covidence_ris_needs_the_decision_and_bad_ris_is_named(tmp_path, records):
    ris = tmp_path / "c.ris"
    ris.write_text(COVIDENCE_RIS, encoding="utf-8")
    with pytest.raises(ReviewInputError, match="--decision"):
        si.import_screening("covidence", ris, tmp_path / "o.csv", records=records)
    empty = tmp_path / "e.ris"
    empty.write_text("nothing here\n", encoding="utf-8")
    with pytest.raises(ReviewInputError) as err:
        si.import_screening("covidence", empty, tmp_path / "o.csv", records=records, decision="include")
    assert "no RIS record" in str(err.value) and str(empty) in str(err.value)
    assert not (tmp_path / "o.csv").exists()


def test_cli_imports_an_asreview_project(tmp_path, capsys):
    from livingmeta.cli import main
    out = tmp_path / "ta.csv"
    code = main(["import", "screening", "--from", "asreview", str(make_project(tmp_path, 1)), "--reviewer", "RA",
                 "--review", str(REPO / "review"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and len(_rows(out)) == 3
    assert "row 4: unmatched" in err and "4 exported records, 3 matched" in err
