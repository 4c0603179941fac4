"""Deduplication: quality on the labelled sets, the conservative rules, forced decisions, living updates."""
from __future__ import annotations

import csv
import json
import runpy
from types import SimpleNamespace

import pytest

from livingmeta.cli import main as cli_main
from livingmeta.errors import ReviewInputError
from livingmeta.records.dedup import (Decision, build_library, compare, deduplicate, read_decisions,
                                      title_similarity, write_review_csv)
from livingmeta.records.dedup_eval import pairwise_scores, read_answer_key
from livingmeta.records.dedup_features import Features, abbreviated_key
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


# Haematology's key cannot be reached by a conservative engine (docs/records.md, "Quality and scale"): 7 of
# its 163 pairs join sibling trial registrations (adult / adolescent, plasma-therapy sensitive / resistant:
# distinct trials; the key keeps Alexion's pediatric / adult registrations apart) and 1 joins the same
# abstract in two journals (the key keeps four identical cases apart). Recall >= 0.97 (at most 4 missed
# pairs) would need merging distinct registrations, which loses studies (`bench_dedup.py --what-if`).
@pytest.mark.xfail(strict=True, reason="the haematology key joins sibling trial registrations (7 pairs) and "
                   "keeps alike ones apart: reachable only by merging distinct registrations")
def test_pairwise_recall_haematology(scores):
    assert scores["haematology"][0]["recall"] >= 0.97


def test_haematology_recall_floor_and_missed_pairs_on_the_review_list(scores):
    s, result, truth = scores["haematology"]
    assert s["recall"] >= 0.95 and s["precision"] == 1.0
    in_review = {frozenset((p["a"], p["b"])) for p in result.review_pairs}
    cluster = dict(zip(result.record_ids, result.cluster_ids))
    members = {}
    for rid, cid in cluster.items():
        members.setdefault(cid, []).append(rid)
    surfaced = sum(1 for a, b in s["fn_pairs"]
                   if any(frozenset((x, y)) in in_review for x in members[cluster[a]] for y in members[cluster[b]]))
    # every missed pair is on the review list (the aHUS registration spelled out compares abbreviated),
    # except Kelly 2009's abstract in two journals: journal, volume and pages all conflict, so the pair is
    # no candidate (issue 14: conflicting coordinates are not candidates)
    assert surfaced == len(s["fn_pairs"]) - 1
    assert ("id_0000134", "id_0000135") in s["fn_pairs"]


def test_haematology_key_labels_alike_sibling_registrations_both_ways(scores):
    """Why the recall target is out of reach: Alexion's 2011 registrations "... in Adult / Adolescent Patients
    With Plasma Therapy-Resistant aHUS" are one cluster in the key, "... in Pediatric / Adult Patients With
    Atypical Hemolytic-Uremic Syndrome" are two. The engine treats both pairs alike: review."""
    s, result, truth = scores["haematology"]
    key = {rid: k for k, members in enumerate(truth) for rid in members}
    joined, apart = ("id_0000235", "id_0000237"), ("id_0001377", "id_0001378")
    assert key[joined[0]] == key[joined[1]]
    assert key.get(apart[0], apart[0]) != key.get(apart[1], apart[1])
    review = {frozenset((p["a"], p["b"])) for p in result.review_pairs}
    assert frozenset(joined) in review and frozenset(apart) in review


def _rec(rid, title, authors=("Smith, J.",), year=2020, journal="Journal of Things", volume="12", pages="100-110",
         doi=None, pmid=None, export="2024-01-01", source="pubmed", position=1, issue=None):
    return {"record_id": rid, "title": title, "authors": list(authors), "year": year, "journal": journal,
            "volume": volume, "issue": issue, "pages": pages, "doi": doi, "pmid": pmid, "export": export,
            "source": source, "position": position}


def _decide(a, b, **options):
    return compare(Features(0, a), Features(1, b), **options)[0]


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


def test_journal_contractions_match_the_full_title():
    from livingmeta.records.dedup_features import journal_tokens, journals_compatible

    def compatible(x, y):
        return journals_compatible(journal_tokens(x), journal_tokens(y))

    assert compatible("Dtsch-Med-Wochenschr", "Deutsche Medizinische Wochenschrift")  # ISO 4 contraction
    assert compatible("Br J Haematol", "British Journal of Haematology")
    assert not compatible("J Biol Chem", "Journal of Clinical Oncology")
    assert not compatible("Blood", "Brain")
    assert not compatible("Dtsch Med Wochenschr", "Deutsche Zeitschrift fur Sportmedizin")


def test_same_journal_volume_and_page_range_without_authors_is_merged():
    # respiratory set: Toomes 1984, indexed once without authors and under another English title
    english = _rec("a", "[Postoperative immunostimulation in non-small-cell bronchial carcinoma. Outcome and "
                   "complications]", authors=("Toomes, H.",), year=1984, journal="Deutsche Medizinische "
                   "Wochenschrift", volume="109", pages="935-940")
    other = _rec("b", "Postoperative local immunostimulation in non-oatcell bronchial carcinoma", authors=(),
                 year=1984, journal="Dtsch-Med-Wochenschr", volume="109", pages="935-940")
    assert _decide(english, other) == "merge"
    # the journal must vouch for the coordinates, over a page range: one page holds several meeting abstracts
    assert _decide(english, dict(other, journal="Thorax")) != "merge"
    assert _decide(dict(english, pages="935"), dict(other, pages="935")) != "merge"
    assert _decide(english, dict(other, pages="935-941")) != "merge"
    assert _decide(english, dict(other, volume="110")) != "merge"
    assert _decide(english, dict(other, title="Lung cancer screening with low-dose computed tomography")) == "review"
    assert _decide(dict(english, title="Lung cancer screening with low-dose computed tomography"), other) == "none"


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
    with pytest.raises(ReviewInputError, match="row 2.*'same' or 'different'"):
        read_decisions(path)


def test_dedup_review_csv_copied_whole_into_duplicates_csv_is_read_as_decisions(tmp_path):
    a = _rec("pubmed:2024-01-01:1", TITLE, pages="100-110")
    b = _rec("embase:2024-01-01:1", TITLE, authors=("Jones, K.",), source="embase", pages=None)  # review
    c = _rec("embase:2024-01-01:2", "Open label trial of drug X in adult patients with disease Y", source="embase",
             volume=None, pages=None)
    d = _rec("embase:2024-01-01:3", "Open label trial of drug X in adolescent patients with disease Y",
             source="embase", volume=None, pages=None)
    lib = build_library([{"file": "f", "source": "pubmed", "export": "2024-01-01", "records": [a]},
                         {"file": "g", "source": "embase", "export": "2024-01-01", "records": [b, c, d]}])
    review = tmp_path / "dedup_review.csv"
    write_review_csv(review, lib["review_pairs"], lib["records"])
    rows = list(csv.DictReader(open(review, newline="", encoding="utf-8")))
    assert len(rows) == 2 and all(row["decision"] == "" for row in rows)
    rows[0]["decision"], rows[0]["reviewer"] = "same", "AB"
    copied = tmp_path / "duplicates.csv"
    with open(copied, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    decisions = read_decisions(copied, known_ids={r["record_id"] for r in lib["records"]})
    assert [(x.record_a, x.record_b, x.decision, x.reviewer) for x in decisions] == [
        (rows[0]["record_a"], rows[0]["record_b"], "same", "AB")]
    again = build_library([{"file": "f", "source": "pubmed", "export": "2024-01-01", "records": [a]},
                           {"file": "g", "source": "embase", "export": "2024-01-01", "records": [b, c, d]}],
                          decisions)
    assert [(p["a"], p["b"]) for p in again["review_pairs"]] == [(rows[1]["record_a"], rows[1]["record_b"])]


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
    from livingmeta.records.keys import base_key

    parsed, stable = [], {}
    for name, source in (("nbib_single.nbib", "pubmed"), ("nbib_pubmed-balloongui-set.nbib", "pubmed_old")):
        path = tmp_path / f"{source}.json"
        export = parse_export(exports_dir / name, source, name="2024-01-01")
        stable.update({r["record_id"]: f"{source}:2024-01-01:{base_key(r)}" for r in export["records"]})
        path.write_text(json.dumps(export), encoding="utf-8")
        parsed.append(str(path))
    a, b = stable["pubmed:2024-01-01:1"], stable["pubmed_old:2024-01-01:2"]
    assert a.startswith("pubmed:2024-01-01:pmid-") and b.startswith("pubmed_old:2024-01-01:pmid-")
    decisions = tmp_path / "duplicates.csv"
    decisions.write_text("record_a,record_b,decision,reviewer,note\n"
                         f"{a},{b},different,AB,test\n", encoding="utf-8")
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
    assert merged["record_ids"] == [a, b] and "DOI" in merged["reason"]


def test_link_errata_option_merges_an_erratum_with_the_article_it_names():
    article = _rec("a", TITLE)
    erratum = _rec("b", f"{TITLE} (vol 12, pg 100, 2020)", pages="300")
    assert compare(Features(0, article), Features(1, erratum), link_errata=True)[0] == "merge"
    assert compare(Features(0, article), Features(1, _rec("b", f"{TITLE} (vol 12, pg 400, 2020)", pages="300")),
                   link_errata=True)[0] != "merge"


TEAM = ("Koehl, B.", "Boyer, O.", "Kossorotoff, M.")


def test_wrong_pages_with_same_title_team_journal_and_volume_are_merged():
    a = _rec("a", TITLE, authors=TEAM, pages="678-684")
    other_db = _rec("b", TITLE, authors=("Koehl B", "Boyer O", "Other C"), journal="J Things", pages="676-682")
    assert _decide(a, other_db) == "merge"
    assert _decide(_rec("a", TITLE, authors=TEAM, pages="22"), _rec("b", TITLE, authors=TEAM, pages="52")) == "merge"
    # not without a shared co-author, another journal or volume, or a short title
    assert _decide(a, _rec("b", TITLE, authors=("Koehl, B.", "Jones, K."), pages="676-682")) != "merge"
    assert _decide(a, _rec("b", TITLE, authors=TEAM, journal="Blood", pages="676-682")) != "merge"
    assert _decide(a, _rec("b", TITLE, authors=TEAM, volume="13", pages="676-682")) != "merge"
    assert _decide(_rec("a", "Stroke rehabilitation", authors=TEAM, pages="678-684"),
                   _rec("b", "Stroke rehabilitation", authors=TEAM, pages="676-682")) != "merge"


def test_one_page_item_after_the_article_is_linked_only_as_the_erratum_the_article_names():
    article = _rec("a", TITLE, authors=TEAM, pages="1223-1229")
    one_page = _rec("b", TITLE, authors=TEAM, pages="2205")   # printed after the article: unlabelled erratum?
    assert _decide(article, one_page) == "review"
    assert _decide(article, one_page, link_errata=True) == "review"
    named = _rec("a", TITLE + ".[Erratum appears in J Things. 2020 Sep;12(9):2205]", authors=TEAM, pages="1223-1229")
    assert _decide(named, one_page) == "merge"   # the article's own record names it: linked by default
    assert _decide(named, one_page, link_errata=True) == "merge"
    assert _decide(named, dict(one_page, pages="2206")) == "review"                 # not at the named page
    assert _decide(named, dict(one_page, volume="13")) == "none"     # nor in the named volume: conflicting coordinates
    assert _decide(named, dict(one_page, year=2022)) != "merge"                     # years more than one apart
    assert _decide(named, dict(one_page, journal="Blood")) != "merge"               # another journal
    truncated = _rec("a", TITLE + ".[Erratum appears in J Things. 2020 Sep", authors=TEAM, pages="1223-1229")
    assert _decide(truncated, one_page) == "review"                                # no volume and page named


def test_erratum_named_by_the_article_by_volume_and_issue_when_its_page_is_damaged():
    article = _rec("a", TITLE + ".[Erratum appears in J Things. 2020 Jun 19;12(25):10749]", authors=TEAM,
                   pages="240-245", issue="1")
    erratum = _rec("b", "Erratum: " + TITLE, authors=TEAM, pages="19", issue="25")   # the day, not the page
    assert _decide(article, erratum) == "merge"
    assert _decide(article, dict(erratum, issue="24")) == "review"
    assert _decide(article, dict(erratum, pages="10751")) == "review"   # a real page, not the named one


def test_erratum_naming_its_article_is_linked_only_with_link_errata():
    article = _rec("a", TITLE, authors=TEAM, pages="310-317")
    erratum = _rec("b", TITLE + " (vol 12, pg 310, 2020)", authors=("Koehl,",), pages="616")
    assert _decide(article, erratum) == "review"
    assert _decide(article, erratum, link_errata=True) == "merge"


def test_one_page_item_printed_before_the_article_in_the_same_volume_is_merged():
    article = _rec("a", TITLE, authors=TEAM, pages="2539-2542")
    abstract = _rec("b", TITLE, authors=TEAM, pages="1875")     # the meeting abstract, earlier in the volume
    assert _decide(article, abstract) == "merge"
    assert _decide(abstract, article) == "merge"
    assert _decide(article, dict(abstract, volume="13")) != "merge"            # another volume
    assert _decide(article, dict(abstract, year=2019)) != "merge"              # another year
    assert _decide(article, dict(abstract, pages="S18")) != "merge"            # a supplement's own page series
    assert _decide(article, dict(abstract, authors=["Koehl, B.", "Other, Z."])) != "merge"  # no shared co-author
    part = "Intervertebral disc degeneration in a rat model treated with exosome-loaded hydrogel, part {}"
    assert _decide(_rec("a", part.format("II"), authors=TEAM, pages="2539-2542"),
                   _rec("b", part.format("I"), authors=TEAM, pages="1875")) != "merge"  # part I / part II


def test_truncated_erratum_citation_and_shifted_fields_are_repaired():
    embase = _rec("a", "Erratum: " + TITLE + " (The Journal of Things (M", pages="616")
    wos = _rec("b", TITLE + " (vol 12, pg 310, 2020)", pages="616-616")
    assert _decide(embase, wos) == "merge"       # the same erratum notice in two databases
    assert _decide(embase, _rec("c", TITLE, pages="310-317")) != "merge"
    shifted = _rec("a", "The treatment of atypical HUS", volume=None, issue="26", pages="9")
    assert _decide(shifted, _rec("b", "The treatment of atypical hus", volume="26", issue="9", pages="1746")) == "merge"
    assert _decide(shifted, _rec("b", "The treatment of atypical hus", volume="27", issue="9", pages="1746")) != "merge"


def test_multiple_letters_record_absorbs_the_letter_and_the_reply_it_prints():
    bundle = _rec("a", TITLE + " (multiple letters) [1]", authors=("Yildiz, B.", "Kural, N.", "Shepherd, A. B."),
                  pages="943-945")
    reply = _rec("b", TITLE + " - Reply", authors=("Shepherd, Amy B.", "Palmer, A."), pages="945")
    assert _decide(bundle, reply) == "merge"
    assert _decide(bundle, _rec("b", TITLE, authors=("Yildiz, B.",), pages="943-944")) == "merge"
    assert _decide(bundle, dict(reply, pages="946")) != "merge"                       # printed after the bundle
    assert _decide(bundle, dict(reply, authors=["Other, Z."])) != "merge"              # not one of its authors
    assert _decide(_rec("a", TITLE + " (letter)", pages="943-945"), reply) != "merge"  # a plain letter


def test_titles_differing_in_a_substituted_word_without_coordinates_go_to_review():
    base = "Open label controlled trial of eculizumab in {} patients with plasma therapy-resistant aHUS"
    kw = dict(authors=("Alexion Pharmaceuticals, Inc",), journal=None, volume=None, pages=None)
    adult, adolescent = _rec("a", base.format("adult"), **kw), _rec("b", base.format("adolescent"), **kw)
    assert _decide(adult, adolescent) == "review"
    assert _decide(adult, _rec("b", base.format("adlut"), **kw)) == "merge"          # a typo, not another word
    joined = "Non-small celllung cancer in never smokers treated with erlotinib"
    assert _decide(_rec("a", "Non-small-cell lung cancer in never smokers treated with erlotinib", volume=None),
                   _rec("b", joined, volume=None)) == "merge"


def test_retitled_version_with_same_authors_journal_and_year_goes_to_review():
    authors = ("Lapeyraque, A. L.", "Malina, M.", "Fremeaux-Bacchi, V.")
    a = _rec("a", "Eculizumab in severe Shiga-toxin-associated HUS", authors=authors, journal="N Engl J Med",
             volume="364", pages="2561-2563")
    b = _rec("b", "Complement blockade in severe Shiga-toxin-associated HUS", authors=("Lapeyraque, AL", "Malina, M"),
             journal="New England Journal of Medicine", volume=None, pages=None)
    assert _decide(a, b) == "review"
    assert _decide(a, dict(b, authors=["Lapeyraque, AL", "Other, Z"])) == "none"


def test_a_title_that_defines_an_abbreviation_compares_with_the_abbreviated_title():
    assert abbreviated_key("Eculizumab in Atypical Hemolytic-Uremic Syndrome (aHUS)") == "eculizumab in ahus"
    assert abbreviated_key("Chronic obstructive pulmonary disease (COPD) in smokers") == "copd in smokers"
    assert abbreviated_key("Cardiovascular disease (CVD) in smokers") == ""      # not the initials
    assert (abbreviated_key("Chronic obstructive pulmonary disease (COPD) and tumour necrosis factor (TNF) in mice (X)")
            == "copd and tnf in mice x")
    assert abbreviated_key("Coronavirus disease 2019 (COVID-19)") == ""
    assert abbreviated_key("Treatment for POEMS (polyneuropathy, organomegaly) syndrome") == ""
    assert abbreviated_key("No abbreviation here") == ""
    spelled = Features(0, _rec("a", "Trial of eculizumab in adult patients with plasma therapy-sensitive atypical "
                                    "hemolytic uremic syndrome (aHUS)", volume=None, pages=None))
    short = Features(1, _rec("b", "Trial of eculizumab in adult patients with plasma therapy-sensitive aHUS",
                             volume=None, pages=None))
    assert title_similarity(spelled, short) == 1.0
    plain = Features(2, _rec("c", "Trial of eculizumab in adult patients with plasma therapy-sensitive atypical "
                                  "hemolytic uremic syndrome", volume=None, pages=None))
    assert title_similarity(spelled, plain) > 0.95


def test_online_version_retitled_in_print_is_merged_when_four_authors_agree_in_order():
    # haematology id_0000818 / id_0000819 (the key joins them; so does bib-dedupe)
    authors = ("Lapeyraque, A. L.", "Malina, M.", "Fremeaux-Bacchi, V.", "Boppel, T.", "Kirschfink, M.", "Oualha, M.")
    printed = _rec("a", "Eculizumab in severe Shiga-toxin-associated HUS", authors=authors,
                   journal="New England Journal of Medicine", volume="364", pages="2561-2563", year=2011)
    online = _rec("b", "Complement Blockade in Severe Shiga-Toxin\u2013Associated HUS", year=2011,
                  authors=("Lapeyraque, AL", "Malina, M", "Fremeaux-Bacchi, V", "Boppel, T", "Kirschfink, M"),
                  journal="New Engl J Med", volume=None, pages=None)
    assert _decide(printed, online) == "merge"
    # what a companion paper of the same team looks like instead: both printed, or authors in another order,
    # or another year or journal, or a different number in the title
    assert _decide(printed, dict(online, volume="364", pages="2564-2566")) != "merge"
    swapped = list(online["authors"])
    swapped[2], swapped[3] = swapped[3], swapped[2]
    assert _decide(printed, dict(online, authors=swapped)) != "merge"
    assert _decide(printed, dict(online, authors=online["authors"][:3])) != "merge"
    assert _decide(printed, dict(online, year=2012)) != "merge"
    assert _decide(printed, dict(online, journal="Pediatric Nephrology")) != "merge"
    assert _decide(dict(printed, title="Eculizumab in severe Shiga-toxin-associated HUS: part 1"),
                   dict(online, title="Complement blockade in severe Shiga-toxin-associated HUS: part 2")) != "merge"
    assert _decide(printed, dict(online, title="Plasma exchange in children with pneumococcal HUS")) != "merge"


def test_link_errata_accepts_an_erratum_that_adds_an_author():
    article = _rec("a", TITLE, authors=("Nurnberger, J.", "Philipp, T.", "Witzke, O."), volume="360", pages="542-544")
    erratum = _rec("b", TITLE + " (New England Journal of Medicine (2009) 360 (542-544))", authors=("Philipp, T.",),
                   volume="360", pages="2487")
    assert _decide(article, erratum) == "review"
    assert _decide(article, erratum, link_errata=True) == "merge"
    assert _decide(article, dict(erratum, authors=["Other, Z."]), link_errata=True) != "merge"


def test_link_errata_default_matches_the_config_schema(repo):
    import yaml

    from livingmeta.records import dedup

    schema = yaml.safe_load((repo / "workflow" / "schemas" / "config.schema.yaml").read_text(encoding="utf-8"))
    assert schema["properties"]["records"]["properties"]["link_errata"]["default"] is dedup.LINK_ERRATA


def test_cinahl_title_notes_parallel_journal_names_and_online_first_pages():
    note = _rec("a", TITLE + "... includes discussion", pages="742-8; discussion 748-9")
    assert _decide(note, _rec("b", TITLE, pages="742-749")) == "merge"
    cited = Features(0, _rec("a", "More on eculizumab for congenital aHUS... N Engl J Med. 2009 Jan 29;360(5):544-6"))
    assert cited.tkey == "more on eculizumab for congenital ahus"
    assert Features(0, _rec("a", "Less is more... or is it? A trial of less")).tkey.endswith("or is it a trial of less")
    chinese = _rec("a", TITLE, authors=TEAM, journal="Ai zheng = Aizheng = Chinese journal of cancer", pages="1324-1327")
    english = _rec("b", TITLE, authors=TEAM, journal="Chinese Journal of Cancer", pages="84-87")
    assert _decide(chinese, english) == "merge"
    assert _decide(chinese, dict(english, journal="Journal of Cancer Research")) != "merge"
    online = _rec("a", TITLE, authors=TEAM, volume=None, pages="1-6")
    assert _decide(online, _rec("b", TITLE, authors=TEAM, pages="2422-2427")) == "merge"
    assert _decide(dict(online, volume="11"), _rec("b", TITLE, authors=TEAM, pages="2422-2427")) != "merge"


def test_erratum_for_annotation_on_the_erratum_is_not_the_articles_own_link():
    article = _rec("a", TITLE, authors=TEAM, pages="542-544")
    erratum = _rec("b", TITLE + " [Erratum for: J Things. 2020 Jan 29;12(5):542-4]", authors=TEAM, pages="2487")
    assert _decide(article, erratum) == "review"
    assert _decide(article, erratum, link_errata=True) == "merge"


def test_named_erratum_is_not_linked_across_part_numbers():
    part = "Intervertebral disc degeneration in a rat model treated with exosome-loaded hydrogel, part {}"
    article = _rec("a", part.format("II") + ".[Erratum appears in J Things. 2020 Sep;12(9):2205]", authors=TEAM,
                   pages="1223-1229")
    assert _decide(article, _rec("b", part.format("II"), authors=TEAM, pages="2205")) == "merge"
    assert _decide(article, _rec("b", part.format("I"), authors=TEAM, pages="2205")) != "merge"
