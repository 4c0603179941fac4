"""Importing screening decisions from Rayyan, ASReview and Covidence exports (issue 20).

The fixtures in tests/interchange/fixtures/ are written by hand in each tool's documented export format
(Rayyan's articles CSV with its data in ``notes``; ASReview LAB's exported dataset with ``included``;
Covidence's CSV reference export) for records of the example review (review/searches/)."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.interchange import screening_import as si
from livingmeta.records import keys, screening
from livingmeta.records.dedup import build_library
from livingmeta.records.ingest import parse_export
from livingmeta.plan import scan_exports

REPO = Path(__file__).resolve().parents[2]
FIX = Path(__file__).resolve().parent / "fixtures"
REVIEW = REPO / "review"


@pytest.fixture(scope="module")
def records():
    return keys.library_of_review(REVIEW)


@pytest.fixture(scope="module")
def library(records):
    return si.Library(records)


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# ------------------------------------------------------------------------------------------ Rayyan

def test_rayyan_notes_are_parsed():
    parts = si.parse_rayyan_notes('own note | RAYYAN-INCLUSION: {"A"=>"Included", "B B"=>"Excluded"} | '
                                  'RAYYAN-LABELS: rct, pilot | RAYYAN-EXCLUSION-REASONS: wrong population')
    assert parts[""] == "own note"
    assert parts["RAYYAN-INCLUSION"] == '{"A"=>"Included", "B B"=>"Excluded"}'
    assert parts["RAYYAN-LABELS"] == "rct, pilot"
    assert parts["RAYYAN-EXCLUSION-REASONS"] == "wrong population"


def test_rayyan_import_matches_by_doi_and_by_dedup_rules_and_lists_the_rest(tmp_path, records, capsys):
    out = tmp_path / "title_abstract_rayyan.csv"
    result = si.import_screening("rayyan", FIX / "rayyan_articles.csv", out, records=records)
    rows = _rows(out)
    got = {(r["record_id"], r["reviewer"]): (r["decision"], r["reason"]) for r in rows}
    # row 2: DOI found in both exports -> the cluster id (the Embase record sorts first); reasons go to the
    # excluding member only
    assert got[("embase:2025-06-30:doi-10.5555/lm-demo.2025.002", "Alice")] == ("include", "")
    assert got[("embase:2025-06-30:doi-10.5555/lm-demo.2025.002", "Bob")] == ("exclude", "wrong population")
    # row 3: no DOI; matched by deduplication's compare (same title, authors, journal, volume, pages)
    assert got[("embase:2025-06-30:doi-10.5555/lm-demo.2025.016", "Alice")] == ("exclude", "wrong outcome; in vitro")
    assert len(rows) == 4
    assert rows[0]["note"] == "Rayyan labels: animal model"
    # Maybe (row 4) and a record without Rayyan decisions (row 7) are not decisions
    assert result.n_undecided == 2 and result.n_exported == 6
    problems = {p["row"]: p for p in _rows(si.unmatched_path(out))}
    assert set(problems) == {"5", "6"}
    assert problems["5"]["problem"].startswith("unmatched")
    assert problems["5"]["decision"] == "exclude" and problems["5"]["reviewer"] == "Alice"
    # title and year only, no author: the dedup rules would send the pair to review -> ambiguous, listed
    assert problems["6"]["problem"].startswith("ambiguous")
    assert problems["6"]["candidates"] == "embase:2025-06-30:doi-10.5555/lm-demo.2025.014"


def test_rayyan_reviewer_option_imports_one_member(tmp_path, records):
    out = tmp_path / "ta.csv"
    si.import_screening("rayyan", FIX / "rayyan_articles.csv", out, records=records, reviewer="Bob")
    assert {r["reviewer"] for r in _rows(out)} == {"Bob"}
    assert len(_rows(out)) == 2


def test_imported_file_is_a_valid_decision_file_for_the_workflow(tmp_path, records):
    """The written file is read by the screening stage itself against the workflow's library."""
    written = tmp_path / "rayyan.csv"
    si.import_screening("rayyan", FIX / "rayyan_articles.csv", written, records=records)
    out = tmp_path / "screening" / "title_abstract.csv"
    out.parent.mkdir()
    shutil.copy(written, out)
    parsed = [parse_export(e.path, source=e.source) for e in scan_exports(REVIEW / "searches")]
    keys.assign_stable_ids(parsed)
    lib = screening.Library.from_dedup(build_library(parsed))
    decisions = screening.read_decisions(out, lib)
    assert len(decisions) == 4
    assert screening.problems_in_decision_files(out.parent) == []
    # every decision names a cluster id of the workflow's library
    assert all(d.record_id == d.cluster_id for d in decisions)


# ------------------------------------------------------------------------------------------ ASReview

def test_asreview_import_pmid_doi_and_screening_order(tmp_path, records):
    out = tmp_path / "ta.csv"
    result = si.import_screening("asreview", FIX / "asreview_dataset.csv", out, records=records, reviewer="RA")
    rows = _rows(out)
    assert [(r["record_id"], r["decision"]) for r in rows] == [
        ("pubmed:2025-06-30:pmid-99000005", "include"),      # PMID only
        ("pubmed:2025-06-30:pmid-99000008", "exclude"),      # DOI of a PubMed-only record
        ("embase:2025-06-30:doi-10.5555/lm-demo.2025.018", "exclude")]
    assert [r["note"] for r in rows] == [f"ASReview screening order {k}" for k in (1, 2, 3)]
    assert {r["reviewer"] for r in rows} == {"RA"}
    assert result.n_undecided == 1                          # empty `included`: not screened
    assert not si.unmatched_path(out).exists()


def test_asreview_needs_a_reviewer_and_full_text_exclusions_need_reasons(tmp_path, records):
    with pytest.raises(ReviewInputError, match="--reviewer"):
        si.import_screening("asreview", FIX / "asreview_dataset.csv", tmp_path / "a.csv", records=records)
    assert not (tmp_path / "a.csv").exists()
    out = tmp_path / "ft.csv"
    result = si.import_screening("asreview", FIX / "asreview_dataset.csv", out, records=records,
                                 reviewer="RA", stage="full_text")
    assert [r["decision"] for r in _rows(out)] == ["include"]
    problems = _rows(si.unmatched_path(out))
    assert len(problems) == 2 and all("needs a reason" in p["problem"] for p in problems)
    assert len(result.problems) == 2


def test_asreview_bad_label_names_row_and_field(tmp_path, records):
    bad = tmp_path / "asr.csv"
    bad.write_text("title,included\nA paper,yes\n", encoding="utf-8")
    with pytest.raises(ReviewInputError) as err:
        si.import_screening("asreview", bad, tmp_path / "o.csv", records=records, reviewer="RA")
    assert "row 2: included" in str(err.value) and str(bad) in str(err.value)


# ------------------------------------------------------------------------------------------ Covidence

def test_covidence_excluded_list_at_full_text(tmp_path, records):
    out = tmp_path / "ft.csv"
    si.import_screening("covidence", FIX / "covidence_excluded.csv", out, records=records, stage="full_text",
                        decision="exclude", reason="wrong study design")
    rows = _rows(out)
    assert [(r["record_id"], r["decision"], r["reason"], r["note"]) for r in rows] == [
        ("pubmed:2025-06-30:pmid-99000010", "exclude", "wrong study design", "Covidence #12"),
        # "Xie W, Zheng Q" (one author per comma), no DOI: matched by the dedup rules
        ("embase:2025-06-30:doi-10.5555/lm-demo.2025.019", "exclude", "wrong study design", "Covidence #15"),
        # a reason in Notes ("Exclusion reason: ...;", the full-text Excluded export) wins over --reason
        ("pubmed:2025-06-30:pmid-99000007", "exclude", "wrong outcome", "Covidence #21")]
    assert {r["reviewer"] for r in rows} == {"Covidence"}


def test_covidence_needs_the_decision_of_the_exported_list(tmp_path, records):
    with pytest.raises(ReviewInputError, match="no decision column"):
        si.import_screening("covidence", FIX / "covidence_excluded.csv", tmp_path / "o.csv", records=records)


# ------------------------------------------------------------------------------------------ matching

def _rec(rid, **kw):
    base = {"record_id": rid, "source": "s", "export": "e", "title": None, "authors": [], "year": 2020,
            "journal": None, "volume": None, "issue": None, "pages": None, "doi": None, "pmid": None}
    base.update(kw)
    return base


def test_a_doi_naming_two_clusters_is_ambiguous_and_same_cluster_is_not():
    recs = [_rec("s:e:a", doi="10.1/x", title="Alpha trial of something in adults", authors=["Ann, A"]),
            _rec("s:e:b", doi="10.1/x", title="Completely different topic about soil microbes", authors=["Bo, B"]),
            _rec("s:e:c", pmid="77", title="Gamma study of drugs in children today", authors=["Cy, C"])]
    lib = si.Library(recs, cluster_of={"s:e:a": "s:e:a", "s:e:b": "s:e:b", "s:e:c": "s:e:c"})
    items = [si.Exported(2, {"doi": "10.1/x", "title": "Alpha"}, [("R", "include", "")]),
             si.Exported(3, {"pmid": "77", "title": "x"}, [("R", "include", "")])]
    (c1, p1, cand1), (c2, p2, _) = si.match(items, lib)
    assert c1 is None and p1.startswith("ambiguous") and cand1 == ["s:e:a", "s:e:b"]
    assert c2 == "s:e:c" and p2 == ""
    lib2 = si.Library(recs, cluster_of={"s:e:a": "s:e:a", "s:e:b": "s:e:a", "s:e:c": "s:e:c"})
    assert si.match(items[:1], lib2)[0][0] == "s:e:a"


def test_two_exported_copies_with_different_decisions_are_a_listed_conflict(tmp_path):
    recs = [_rec("s:e:a", doi="10.1/x", title="Alpha trial of something in adults", authors=["Ann, A"])]
    lib = si.Library(recs, cluster_of={"s:e:a": "s:e:a"})
    items = [si.Exported(2, {"doi": "10.1/x"}, [("R", "include", "")]),
             si.Exported(3, {"doi": "10.1/X"}, [("r", "exclude", "x")]),
             si.Exported(4, {"doi": "10.1/x"}, [("S", "exclude", "y")]),
             si.Exported(5, {"doi": "https://doi.org/10.1/x"}, [("S", "exclude", "Y")])]
    result = si.import_decisions(items, lib, stage="title_abstract")
    assert [(r["reviewer"], r["decision"]) for r in result.rows] == [("S", "exclude")]  # same twice: once
    assert sorted(p["row"] for p in result.problems) == [2, 3]
    assert all(p["problem"].startswith("conflict") for p in result.problems)


# ------------------------------------------------------------------------------------------ bad input, writing

def test_missing_columns_name_the_file_and_columns(tmp_path, records):
    bad = tmp_path / "export.csv"
    bad.write_text("key,title,authors\n1,A,B\n", encoding="utf-8")
    with pytest.raises(ReviewInputError) as err:
        si.import_screening("rayyan", bad, tmp_path / "o.csv", records=records)
    text = str(err.value)
    assert str(bad) in text and "notes" in text and "Rayyan" in text
    with pytest.raises(ReviewInputError, match="unknown export format"):
        si.import_screening("endnote", bad, tmp_path / "o.csv", records=records)
    assert list(tmp_path.iterdir()) == [bad]


def test_not_utf8_and_unreadable_rayyan_votes(tmp_path, records):
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("title,notes\nCaf\xe9,x\n".encode("latin-1"))
    with pytest.raises(ReviewInputError, match="not UTF-8"):
        si.import_screening("rayyan", bad, tmp_path / "o.csv", records=records)
    votes = tmp_path / "votes.csv"
    votes.write_text('title,notes\nA,"RAYYAN-INCLUSION: Alice included"\n', encoding="utf-8")
    with pytest.raises(ReviewInputError, match="row 2: notes"):
        si.import_screening("rayyan", votes, tmp_path / "o.csv", records=records)
    assert not (tmp_path / "o.csv").exists()


def test_never_overwrites_and_leaves_no_temp_files(tmp_path, records):
    out = tmp_path / "ta.csv"
    out.write_text("keep me\n", encoding="utf-8")
    with pytest.raises(ReviewInputError, match="exists already"):
        si.import_screening("rayyan", FIX / "rayyan_articles.csv", out, records=records)
    assert out.read_text(encoding="utf-8") == "keep me\n"
    out2 = tmp_path / "ta2.csv"
    si.unmatched_path(out2).write_text("old list\n", encoding="utf-8")
    with pytest.raises(ReviewInputError, match="exists already"):
        si.import_screening("rayyan", FIX / "rayyan_articles.csv", out2, records=records)
    assert not out2.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ta.csv", "ta2.unmatched.csv"]


def test_split_authors():
    assert si.split_authors("Smith J, Jones AB") == ["Smith J", "Jones AB"]
    assert si.split_authors("Smith, John and Jones, Ann") == ["Smith, John", "Jones, Ann"]
    assert si.split_authors("Smith, John; Jones, Ann") == ["Smith, John", "Jones, Ann"]
    assert si.split_authors("Smith, John") == ["Smith, John"]


# ------------------------------------------------------------------------------------------ command line

def test_cli_import_screening(tmp_path, capsys):
    from livingmeta.cli import main

    review = tmp_path / "review"
    shutil.copytree(REVIEW / "searches", review / "searches")
    out = tmp_path / "ta.csv"
    code = main(["import", "screening", "--from", "rayyan", str(FIX / "rayyan_articles.csv"), "--review",
                 str(review), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    assert "6 exported records, 2 matched, 4 decisions" in err
    assert "row 5: unmatched" in err and "row 6: ambiguous" in err
    assert len(_rows(out)) == 4
    code = main(["import", "screening", "--from", "rayyan", str(FIX / "rayyan_articles.csv"), "--review",
                 str(review), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("livingmeta: error: ") and "exists already" in err
    code = main(["import", "screening", "--from", "asreview", str(FIX / "asreview_dataset.csv"), "--review",
                 str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.csv")])
    assert code == 1 and "not a review folder" in capsys.readouterr().err
    (review / "screening").mkdir()
    code = main(["import", "screening", "--from", "asreview", str(FIX / "asreview_dataset.csv"), "--reviewer", "RA",
                 "--review", str(review), "--out", str(review / "screening" / "title_abstract_asr.csv")])
    assert code == 1 and "screening folder" in capsys.readouterr().err
    assert list((review / "screening").iterdir()) == []


def test_all_or_nothing_when_a_file_appears_while_writing(tmp_path, monkeypatch):
    real = si._place
    calls = []

    def racing(tmp, target):
        calls.append(target)
        if len(calls) == 2:                      # someone creates the unmatched list meanwhile
            target.write_text("theirs\n", encoding="utf-8")
        real(tmp, target)

    monkeypatch.setattr(si, "_place", racing)
    result = si.ImportResult(rows=[{"record_id": "s:e:a", "reviewer": "R", "decision": "include", "reason": "",
                                    "role": "", "note": ""}],
                             problems=[{"row": 3, "problem": "unmatched"}])
    out = tmp_path / "o.csv"
    with pytest.raises(ReviewInputError, match="exists already"):
        si.write_result(result, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.unmatched.csv"]
    assert si.unmatched_path(out).read_text(encoding="utf-8") == "theirs\n"
