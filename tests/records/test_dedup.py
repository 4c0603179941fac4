"""Deduplication: quality on the labelled sets, the conservative rules, forced decisions, living updates."""
from __future__ import annotations

import csv
import json
import runpy
from types import SimpleNamespace

import pytest

from livingmeta.cli import main as cli_main
from livingmeta.errors import ReviewInputError
from livingmeta.records.dedup import Decision, build_library, compare, deduplicate, read_decisions
from livingmeta.records.dedup_eval import pairwise_scores, read_answer_key
from livingmeta.records.dedup_features import Features
from livingmeta.records.ingest import parse_export

SETS = ("stroke", "haematology", "respiratory", "cytology_screening")


@pytest.fixture(scope="module")
def scores(dedup_dir):
    out = {}
    for name in SETS:
        records = parse_export(dedup_dir / name / "records_pre_merged.csv", "csv", keep_ids=True)["records"]
        result = deduplicate(records)
        truth = read_answer_key(dedup_dir / name / "merged_record_ids.csv")
        out[name] = (pairwise_scores(result.record_ids, result.cluster_ids, truth), result, truth)
    return out


@pytest.mark.parametrize("name", SETS)
def test_pairwise_precision_on_labelled_sets(scores, name):
    s = scores[name][0]
    assert s["precision"] >= 0.999, s["fp_pairs"][:5]


@pytest.mark.parametrize("name", [n for n in SETS if n != "haematology"])
def test_pairwise_recall_on_labelled_sets(scores, name):
    assert scores[name][0]["recall"] >= 0.97, scores[name][0]["fn_pairs"][:5]


@pytest.mark.xfail(strict=True, reason="the haematology key counts errata notices, replies to letters and sibling "
                   "trial registrations as duplicates; the conservative rules send those to the review list")
def test_pairwise_recall_haematology(scores):
    assert scores["haematology"][0]["recall"] >= 0.97


def test_haematology_missed_pairs_are_mostly_on_the_review_list(scores):
    s, result, truth = scores["haematology"]
    assert s["recall"] >= 0.80
    in_review = {frozenset((p["a"], p["b"])) for p in result.review_pairs}
    cluster = dict(zip(result.record_ids, result.cluster_ids))
    surfaced = sum(1 for a, b in s["fn_pairs"]
                   if frozenset((a, b)) in in_review
                   or any(frozenset((x, y)) in in_review for x in (a,) for y in result.record_ids
                          if cluster[y] == cluster[b]))
    assert surfaced >= 0.5 * len(s["fn_pairs"])


def _rec(rid, title, authors=("Smith, J.",), year=2020, journal="Journal of Things", volume="12", pages="100-110",
         doi=None, pmid=None, export="2024-01-01", source="pubmed", position=1):
    return {"record_id": rid, "title": title, "authors": list(authors), "year": year, "journal": journal,
            "volume": volume, "pages": pages, "doi": doi, "pmid": pmid, "export": export, "source": source,
            "position": position}


def _decide(a, b):
    return compare(Features(0, a), Features(1, b))[0]


TITLE = "Exosome-loaded hydrogel delays intervertebral disc degeneration in a rat model"


def test_duplicates_across_databases_are_merged():
    a = _rec("a", TITLE, journal="Journal of Orthopaedic Research", pages="1200-1210")
    b = _rec("b", TITLE.upper() + ". [Review] [42 refs]", authors=("Smith J",), journal="J Orthop Res", pages="1200-10")
    assert _decide(a, b) == "merge"
    assert _decide(_rec("a", "x", doi="10.1/abc"), _rec("b", "x", doi="10.1/abc")) == "merge"


def test_errata_replies_and_comments_are_not_merged_with_the_article():
    article = _rec("a", TITLE)
    for notice in (f"Erratum: {TITLE}", f"Reply to: {TITLE}", f"{TITLE} - Reply", f"Comment on: {TITLE}",
                   f"{TITLE} (vol 12, pg 100, 2020)", f"Retraction notice: {TITLE}"):
        assert _decide(article, _rec("b", notice, pages="300")) != "merge", notice


def test_preprint_and_journal_version_go_to_review():
    preprint = _rec("a", TITLE, doi="10.1101/2020.01.01.123456", journal="bioRxiv", volume=None, pages=None)
    paper = _rec("b", TITLE, doi="10.1002/jor.12345")
    assert _decide(preprint, paper) == "review"


def test_conference_abstract_and_full_paper_are_not_merged():
    abstract = _rec("a", TITLE + " [Abstract]", journal="Orthopaedic Proceedings", volume="99", pages="S12")
    paper = _rec("b", TITLE, volume="38", pages="1200-1210")
    assert _decide(abstract, paper) != "merge"
    assert _decide(_rec("a", TITLE, pages="S12", volume="99"), paper) == "review"  # no marker: review


def test_same_title_different_years_and_short_titles_are_not_merged():
    assert _decide(_rec("a", TITLE, year=2008, volume=None, pages=None),
                   _rec("b", TITLE, year=2012, volume=None, pages=None)) != "merge"
    assert _decide(_rec("a", "Editorial", volume=None, pages=None),
                   _rec("b", "Editorial", authors=("Jones, K.",), volume=None, pages=None)) != "merge"
    assert _decide(_rec("a", "Part I: " + TITLE, pages="1-10"), _rec("b", "Part II: " + TITLE, pages="11-20")) != "merge"


def test_translated_title_with_same_coordinates_is_merged():
    english = _rec("a", "[Antibiotic prophylaxis in thoracic surgery. Controlled study]. [French]", pages="477-480")
    original = _rec("b", "Antibioprophylaxie en chirurgie thoracique. Etude controlee", pages="477-480")
    assert _decide(english, original) == "merge"
    assert _decide(english, _rec("b", "Antibioprophylaxie en chirurgie thoracique", pages="477-481")) != "merge"


def test_forced_decisions_stick_and_override():
    a = _rec("pubmed:2024-01-01:1", TITLE, position=1)
    b = _rec("embase:2024-01-01:1", TITLE, source="embase", position=1)
    c = _rec("embase:2024-01-01:2", "A completely different title about knees", source="embase", position=2)
    assert deduplicate([a, b, c]).cluster_ids == ["embase:2024-01-01:1", "embase:2024-01-01:1", "embase:2024-01-01:2"]
    different = [Decision(a["record_id"], b["record_id"], "different")]
    assert len(set(deduplicate([a, b, c], different).cluster_ids)) == 3
    same = [Decision(a["record_id"], c["record_id"], "same", "AB")]
    result = deduplicate([a, b, c], same)
    assert len(set(result.cluster_ids)) == 1
    with pytest.raises(ReviewInputError, match="contradicts"):
        deduplicate([a, b, c], [Decision(a["record_id"], c["record_id"], "same", row=2),
                                Decision(b["record_id"], c["record_id"], "same", row=3),
                                Decision(a["record_id"], b["record_id"], "different", row=4)])


def test_read_decisions_file(tmp_path):
    path = tmp_path / "duplicates.csv"
    path.write_text("record_a,record_b,decision,reviewer,note\npubmed:d:1,embase:d:2,Same,AB,abstract+paper\n",
                    encoding="utf-8")
    [d] = read_decisions(path, known_ids={"pubmed:d:1", "embase:d:2"})
    assert (d.record_a, d.record_b, d.decision, d.reviewer) == ("pubmed:d:1", "embase:d:2", "same", "AB")
    with pytest.raises(ReviewInputError, match="unknown record id 'embase:d:2'"):
        read_decisions(path, known_ids={"pubmed:d:1"})
    path.write_text("record_a,record_b,decision\npubmed:d:1,embase:d:2,maybe\n", encoding="utf-8")
    with pytest.raises(ReviewInputError, match="line 2.*'same' or 'different'"):
        read_decisions(path)


def test_living_update_keeps_ids_and_counts_duplicates_of_earlier_search():
    first = {"file": "searches/pubmed/2024-01-01.nbib", "source": "pubmed", "export": "2024-01-01", "records": [
        _rec("pubmed:2024-01-01:1", TITLE, position=1, pmid="111"),
        _rec("pubmed:2024-01-01:2", "Another study of knees in sheep", position=2, pages="5-9")]}
    embase = {"file": "searches/embase/2024-01-01.ris", "source": "embase", "export": "2024-01-01", "records": [
        _rec("embase:2024-01-01:1", TITLE.lower(), source="embase", position=1)]}
    update = {"file": "searches/pubmed/2024-07-01.nbib", "source": "pubmed", "export": "2024-07-01", "records": [
        _rec("pubmed:2024-07-01:1", "A new study on hydrogels for discs", export="2024-07-01", position=1, pages="1-2"),
        _rec("pubmed:2024-07-01:2", TITLE, export="2024-07-01", position=2, pmid="111")]}
    before = build_library([first, embase])
    after = build_library([update, embase, first])
    before_ids = {r["record_id"]: r["cluster_id"] for r in before["records"]}
    after_ids = {r["record_id"]: r["cluster_id"] for r in after["records"]}
    assert all(after_ids[rid] == cid for rid, cid in before_ids.items())
    assert after_ids["pubmed:2024-07-01:2"] == "embase:2024-01-01:1"
    assert (after["n_records"], after["n_clusters"], after["duplicates_removed"]) == (5, 3, 2)
    assert after["identified"] == {"embase": 1, "pubmed": 4}
    row = next(s for s in after["searches"] if s["export"] == "2024-07-01")
    assert (row["n_records"], row["new_records"], row["duplicates_of_earlier"]) == (2, 1, 1)


def test_dedup_command_keeps_given_ids(dedup_dir, tmp_path, capsys):
    out, review = tmp_path / "clusters.csv", tmp_path / "review.csv"
    status = cli_main(["dedup", str(dedup_dir / "stroke" / "records_pre_merged.csv"), "--out", str(out),
                       "--review", str(review)])
    assert status == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1292 and list(rows[0]) == ["record_id", "cluster_id"]
    assert rows[0] == {"record_id": "id_0000001", "cluster_id": "id_0000001"}
    assert rows[1] == {"record_id": "id_0000002", "cluster_id": "id_0000001"}   # "[Chinese]" duplicate
    header = review.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("record_a,record_b,score,reason,decision,reviewer,note")


def test_dedup_command_rejects_a_non_export(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes\n", encoding="utf-8")
    assert cli_main(["dedup", str(bad), "--out", str(tmp_path / "c.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"livingmeta: error: {bad}: not a search export") and "Traceback" not in err


def test_deduplicate_script_writes_library_and_review(exports_dir, tmp_path, repo):
    parsed = []
    for name, source in (("nbib_single.nbib", "pubmed"), ("nbib_pubmed-balloongui-set.nbib", "pubmed_old")):
        path = tmp_path / f"{source}.json"
        path.write_text(json.dumps(parse_export(exports_dir / name, source, name="2024-01-01")), encoding="utf-8")
        parsed.append(str(path))
    decisions = tmp_path / "duplicates.csv"
    decisions.write_text("record_a,record_b,decision,reviewer,note\n"
                         "pubmed:2024-01-01:1,pubmed_old:2024-01-01:2,different,AB,test\n", encoding="utf-8")
    out = SimpleNamespace(library=str(tmp_path / "dedup.json"), review=str(tmp_path / "dedup_review.csv"))
    smk = SimpleNamespace(input=SimpleNamespace(parsed=parsed, decisions=[str(decisions)]), output=out,
                          log=[str(tmp_path / "dedup.log")], params=SimpleNamespace(settings={}))
    runpy.run_path(str(repo / "scripts" / "deduplicate.py"), init_globals={"snakemake": smk})
    library = json.loads((tmp_path / "dedup.json").read_text(encoding="utf-8"))
    assert set(library) >= {"n_records", "n_clusters", "duplicates_removed", "identified", "records", "clusters",
                            "review_pairs", "problems"}
    assert library["n_records"] == 76 and library["n_clusters"] == 76  # the forced "different" split the pair
    smk.input.decisions = []
    runpy.run_path(str(repo / "scripts" / "deduplicate.py"), init_globals={"snakemake": smk})
    library = json.loads((tmp_path / "dedup.json").read_text(encoding="utf-8"))
    assert library["n_clusters"] == 75
    merged = next(c for c in library["clusters"] if len(c["record_ids"]) == 2)
    assert merged["record_ids"] == ["pubmed:2024-01-01:1", "pubmed_old:2024-01-01:2"] and "DOI" in merged["reason"]


def test_link_errata_option_merges_an_erratum_with_the_article_it_names():
    article = _rec("a", TITLE)
    erratum = _rec("b", f"{TITLE} (vol 12, pg 100, 2020)", pages="300")
    assert compare(Features(0, article), Features(1, erratum), link_errata=True)[0] == "merge"
    assert compare(Features(0, article), Features(1, _rec("b", f"{TITLE} (vol 12, pg 400, 2020)", pages="300")),
                   link_errata=True)[0] != "merge"
