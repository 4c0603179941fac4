"""Decisions attach to records by stable keys (issue 13): re-exporting an export in another order leaves
every decision on the same paper; malformed decision files, contradictory duplicates.csv rows and
conflicting decisions on merged records stop the run with errors naming the file and row; the
planning-time check finds the file problems without parsing exports."""
from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
from pathlib import Path

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.records import keys, screening
from livingmeta.records.dedup import build_library, problems_in_duplicates_file, read_decisions
from livingmeta.records.ingest import parse_export

REPO = Path(__file__).resolve().parents[2]


def _library(paths_sources, decisions_file=None):
    parsed = [parse_export(p, s) for p, s in paths_sources]
    keys.assign_stable_ids(parsed)
    records = [r for e in parsed for r in e["records"]]
    decisions = read_decisions(decisions_file, records=records) if decisions_file else ()
    return build_library(parsed, decisions, decisions_file=str(decisions_file or ""))


def _write(path: Path, text: str, encoding="utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------------------------------ the key rule


def _rec(**kw):
    base = {"source": "pubmed", "export": "2025-06-30", "title": "A title", "year": 2025, "authors": ["Liu, R."],
            "doi": None, "pmid": None, "pmcid": None, "position": 1}
    base.update(kw)
    return base


def test_key_precedence_and_normalisation():
    assert keys.base_key(_rec(pmid="0099000001", doi="10.1/X")) == "pmid-99000001"
    assert keys.base_key(_rec(doi="https://doi.org/10.5555/ABC.1.")) == "doi-10.5555/abc.1"
    assert keys.base_key(_rec(doi="doi: 10.5555/abc.1")) == "doi-10.5555/abc.1"
    assert keys.base_key(_rec(pmcid="pmc00123")) == "pmc-PMC123"
    # the hash ignores case, accents, punctuation and the author's initials
    a = keys.base_key(_rec(title="Exosome hydrogel: a rat model.", authors=["Müller, A. B."]))
    b = keys.base_key(_rec(title="EXOSOME  Hydrogel - a Rat Model", authors=["Muller AB"]))
    assert a == b and re.fullmatch(r"t-[0-9a-f]{12}", a)
    assert a != keys.base_key(_rec(title="Exosome hydrogel: a rat model.", authors=["Muller, A."], year=2024))
    assert keys.base_key(_rec(title="Other title", authors=["Muller AB"])) != a
    # frozen: a change here would rename every record without identifiers (write a converter first)
    assert keys.content_hash(_rec(title="A title", year=2025, authors=["Liu, R."])) == \
        __import__("hashlib").sha1(b"a title|2025|liu").hexdigest()[:12]


def test_collisions_in_one_export_are_told_apart_independently_of_order():
    one = _rec(pmid="1", title="First version", position=1)
    two = _rec(pmid="1", title="Second version", position=2)
    same_a = _rec(title="Twin", position=3)
    same_b = _rec(title="Twin", position=4)
    ks = keys.assign_keys([one, two, same_a, same_b])
    assert len(set(ks)) == 4
    assert ks[0].startswith("pmid-1~") and ks[1].startswith("pmid-1~") and ks[0] != ks[1]
    assert ks[2].endswith("-1") and ks[3].endswith("-2")
    moved = keys.assign_keys([dict(two, position=1), dict(one, position=2), same_a, same_b])
    assert moved[0] == ks[1] and moved[1] == ks[0]     # each record keeps its key when the order changes
    # the plain key of a collided record is ambiguous, never guessed
    records = []
    for r, k in zip([one, two], ks[:2]):
        records.append(dict(r, key=k, record_id=f"pubmed:2025-06-30:{k}"))
    found, problem = keys.IdResolver(records).resolve("pubmed:2025-06-30:pmid-1")
    assert found is None and "names 2 records" in problem


def test_alias_keys_find_a_record_whose_key_changed_on_re_export():
    rec = _rec(pmid="123", doi="10.5555/x")
    rec.update(key="pmid-123", record_id="pubmed:2025-06-30:pmid-123")
    resolver = keys.IdResolver([rec])
    # the decision was written when the record had only its DOI
    assert resolver.resolve("pubmed:2025-06-30:doi-10.5555/x") == ("pubmed:2025-06-30:pmid-123", "")
    assert resolver.resolve("embase:2025-06-30:doi-10.5555/x")[0] is None   # another export: not this record


# ------------------------------------------------------------------------------------------ re-exported in another order


def _split_ris(text: str) -> tuple[str, list[str]]:
    parts = re.split(r"(?m)^(?=TY  - )", text.lstrip("\ufeff"))
    return parts[0], parts[1:]


def _split_nbib(text: str) -> tuple[str, list[str]]:
    parts = re.split(r"(?m)^(?=PMID- )", text)
    return parts[0], [p if p.endswith(("\n\n", "\r\n\r\n")) else p.rstrip("\r\n") + "\n\n" for p in parts[1:]]


def _reordered_copy(src: Path, dst: Path, seed: int) -> None:
    text = src.read_text(encoding="utf-8-sig")
    head, records = (_split_nbib if src.suffix == ".nbib" else _split_ris)(text)
    assert len(records) > 3
    order = list(range(len(records)))
    while order == sorted(order):
        random.Random(seed).shuffle(order)
        seed += 1
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(head + "".join(records[i] for i in order), encoding="utf-8")


def _decide_every_other(library) -> str:
    """Title/abstract rows: include the even, exclude the odd records (in the library's order)."""
    lines = ["record_id,reviewer,decision,reason"]
    for n, rec in enumerate(library["records"]):
        verdict = "include," if n % 2 == 0 else "exclude,off topic"
        lines += [f"{rec['record_id']},RA,{verdict}", f"{rec['record_id']},RB,{verdict}"]
    return "\n".join(lines) + "\n"


def _decision_by_title(library, result) -> dict[str, str]:
    by_id = {r["record_id"]: r for r in library["records"]}
    out = {}
    for cl in result["clusters"]:
        for rid in cl["record_ids"]:
            out[(by_id[rid]["title"], by_id[rid]["source"])] = cl["title_abstract"]["decision"]
    return out


@pytest.mark.parametrize("name, source", [("nbib_pubmed-balloongui-set.nbib", "pubmed"),
                                          ("asreview_embase.ris", "embase"),
                                          ("asreview_ovid_psycinfo.ris", "psycinfo")])
def test_reordered_real_export_keeps_every_decision_on_its_paper(exports_dir, tmp_path, name, source):
    first = tmp_path / "a" / source / f"2025-06-30{Path(name).suffix}"
    first.parent.mkdir(parents=True)
    shutil.copyfile(exports_dir / name, first)
    second = tmp_path / "b" / source / first.name
    _reordered_copy(first, second, seed=7)

    lib_a = _library([(first, source)])
    ta = _write(tmp_path / "screening" / "title_abstract.csv", _decide_every_other(lib_a))
    lib_b = _library([(second, source)])
    positions_a = {r["record_id"]: r["position"] for r in lib_a["records"]}
    positions_b = {r["record_id"]: r["position"] for r in lib_b["records"]}
    assert set(positions_a) == set(positions_b)                       # the same ids ...
    assert any(positions_a[k] != positions_b[k] for k in positions_a)  # ... at other positions
    res_a = screening.screen(lib_a, [ta], None)
    res_b = screening.screen(lib_b, [ta], None)
    assert _decision_by_title(lib_a, res_a) == _decision_by_title(lib_b, res_b)
    assert {c["cluster_id"] for c in res_a["clusters"]} == {c["cluster_id"] for c in res_b["clusters"]}
    assert res_a["counts"] == res_b["counts"]
    assert res_a["counts"]["records_excluded"] > 0 and res_a["counts"]["reports_sought"] > 0


def test_reordered_csv_export_with_identical_records_keeps_keys_on_content(dedup_dir, tmp_path):
    """A real export without PMIDs or DOIs (hashed keys) holding exact duplicates (collision suffixes)."""
    src = dedup_dir / "stroke" / "records_pre_merged.csv"
    with open(src, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    keep = [i for i, h in enumerate(header) if h != "ID"]          # positions only, as a database export
    shuffled = body[:]
    random.Random(3).shuffle(shuffled)

    def export(rows_, path):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([header[i] for i in keep])
        writer.writerows([[r[i] for i in keep] for r in rows_])
        _write(path, buf.getvalue())
        out = [parse_export(path, "db")]
        keys.assign_stable_ids(out)
        return {r["record_id"]: {k: r.get(k) for k in keys.CONTENT_FIELDS} for r in out[0]["records"]}

    a = export(body, tmp_path / "a" / "2020-01-01.csv")
    b = export(shuffled, tmp_path / "b" / "2020-01-01.csv")
    assert len(a) == len(body) and a.keys() == b.keys()
    assert all(a[k] == b[k] for k in a)                                # every id names the same content
    assert sum("~" in k for k in a) > 100                              # collisions did occur


def test_example_review_reordered_gives_the_same_screening_and_prisma(tmp_path):
    from livingmeta.records import prisma

    review = REPO / "review"
    files = sorted(str(p) for p in (review / "screening").glob("*.csv") if p.name != "duplicates.csv")
    original = sorted((review / "searches").glob("*/*.*"))
    moved = []
    for n, path in enumerate(original):
        dst = tmp_path / path.parent.name / path.name
        _reordered_copy(path, dst, seed=n)
        moved.append(dst)
    results = []
    for paths in (original, moved):
        lib = _library([(p, p.parent.name) for p in paths])
        res = screening.screen(lib, files, None)
        flow = prisma.compute_prisma(lib, res, prisma.load_previous(review / "previous_version.yaml"))
        results.append((lib, res, flow))
    (lib_a, res_a, flow_a), (lib_b, res_b, flow_b) = results
    pos_a = {r["record_id"]: r["position"] for r in lib_a["records"]}
    assert any(pos_a[r["record_id"]] != r["position"] for r in lib_b["records"])
    assert flow_a == flow_b and flow_a["records_screened"] == 12 and flow_a["records_excluded"] == 7
    assert _decision_by_title(lib_a, res_a) == _decision_by_title(lib_b, res_b)
    assert [c["cluster_id"] for c in res_a["clusters"]] != [] and \
        sorted(c["cluster_id"] for c in res_a["clusters"]) == sorted(c["cluster_id"] for c in res_b["clusters"])


def test_position_ids_are_refused_with_the_way_to_convert(tmp_path):
    review = tmp_path / "review"
    shutil.copytree(REPO / "review" / "searches", review / "searches")
    lib = _library([(p, p.parent.name) for p in sorted((review / "searches").glob("*/*.*"))])
    old = _write(review / "screening" / "title_abstract.csv",
                 "# comment kept\nrecord_id,reviewer,decision,reason,role,note\n"
                 "pubmed:2025-06-30:4,RA,exclude,review,,\"note, with comma\"\n"
                 "embase:2025-06-30:2,RA,include,,,\n")
    before = old.read_bytes()
    with pytest.raises(ReviewInputError, match=r"title_abstract.csv: row 3: record_id: 'pubmed:2025-06-30:4' is a "
                                               r"position id.*python -m livingmeta.records.keys convert"):
        screening.screen(lib, [old], None)
    assert [e.field for e in screening.problems_in_decision_files(review / "screening")] == ["row 3: record_id",
                                                                                            "row 4: record_id"]
    new = review / "screening" / "converted.csv"
    changes = keys.convert_decision_file(old, new, keys.library_of_review(review))
    assert old.read_bytes() == before                                  # the original is never modified
    assert [(c["row"], c["new"]) for c in changes] == [(3, "pubmed:2025-06-30:pmid-99000004"),
                                                       (4, "embase:2025-06-30:doi-10.5555/lm-demo.2025.012")]
    text = new.read_text(encoding="utf-8")
    assert text.startswith("# comment kept\n") and '"note, with comma"' in text
    with pytest.raises(ReviewInputError, match="exists already"):
        keys.convert_decision_file(old, new, keys.library_of_review(review))
    final = _write(tmp_path / "x" / "title_abstract.csv", text)
    result = screening.screen(lib, [final], {"reviewers_required": 1})
    decided = {c["cluster_id"]: c["title_abstract"]["decision"] for c in result["clusters"]}
    assert decided["pubmed:2025-06-30:pmid-99000004"] == "exclude"
    assert decided["embase:2025-06-30:doi-10.5555/lm-demo.2025.012"] == "include"


def test_unknown_record_names_file_and_row(tmp_path):
    lib = _library([(p, p.parent.name) for p in sorted((REPO / "review" / "searches").glob("*/*.*"))])
    ta = _write(tmp_path / "title_abstract.csv",
                "record_id,reviewer,decision\npubmed:2025-06-30:pmid-99000001,RA,include\n"
                "pubmed:2025-06-30:pmid-12345,RA,include\n")
    with pytest.raises(ReviewInputError, match=r"title_abstract.csv: row 3: record_id: unknown record "
                                               r"'pubmed:2025-06-30:pmid-12345'"):
        screening.screen(lib, [ta], None)


# ------------------------------------------------------------------------------------------ malformed CSV rows


def _example_library():
    return _library([(p, p.parent.name) for p in sorted((REPO / "review" / "searches").glob("*/*.*"))])


GOOD = ["pubmed:2025-06-30:pmid-99000001,RA,include,,,", "pubmed:2025-06-30:pmid-99000004,RA,exclude,review,,",
        "pubmed:2025-06-30:pmid-99000005,RA,exclude,clinical,,", "pubmed:2025-06-30:pmid-99000008,RA,exclude,off,,",
        "pubmed:2025-06-30:pmid-99000007,RA,include,,,"]


@pytest.mark.parametrize("bad, where, words", [
    # the reported case: an unbalanced quote swallowed the next rows into one value
    ('pubmed:2025-06-30:pmid-99000002,RA,include,,,"check the full text', "row 3", "unbalanced quote"),
    ("pubmed:2025-06-30:pmid-99000002,RA,include,,,,extra", "row 3", "7 values but the header"),
    ("pubmed:2025-06-30:pmid-99000002,RA", "row 3", "2 values but the header"),
    ('pubmed:2025-06-30:pmid-99000002,RA,"incl"ude,,,', "row 3", "malformed CSV"),
])
def test_malformed_rows_are_errors_naming_file_and_row(tmp_path, bad, where, words):
    body = "record_id,reviewer,decision,reason,role,note\n" + GOOD[0] + "\n" + bad + "\n" + "\n".join(GOOD[1:]) + "\n"
    path = _write(tmp_path / "screening" / "title_abstract.csv", body)
    with pytest.raises(ReviewInputError) as info:
        screening.screen(_example_library(), [path], None)
    assert f"title_abstract.csv: {where}" in info.value.format() and words in info.value.format()
    [problem] = screening.problems_in_decision_files(tmp_path / "screening")
    assert f"title_abstract.csv: {where}" in problem.format() and words in problem.format()


def test_non_utf8_and_missing_header_columns(tmp_path):
    path = _write(tmp_path / "screening" / "title_abstract.csv",
                  "record_id,reviewer,decision,note\n" + "pubmed:2025-06-30:pmid-99000001,RA,include,\n"
                  "pubmed:2025-06-30:pmid-99000002,RA,include,Müller\n", encoding="cp1252")
    with pytest.raises(ReviewInputError, match=r"title_abstract.csv: row 3: not UTF-8 text \(byte 0xfc"):
        screening.screen(_example_library(), [path], None)
    _write(tmp_path / "screening" / "full_text.csv", "# header follows\nrecord_id,decision\n")
    problems = [p.format() for p in screening.problems_in_decision_files(tmp_path / "screening")]
    assert len(problems) == 2
    assert "full_text.csv: header: missing column(s) reviewer in the header, line 2" in problems[0]
    assert "title_abstract.csv: row 3" in problems[1] and "not UTF-8" in problems[1]


# ------------------------------------------------------------------------------------------ duplicates.csv


def test_contradictory_duplicates_rows_stop_the_run(tmp_path):
    a, b = "pubmed:2025-06-30:pmid-99000004", "embase:2025-06-30:doi-10.5555/lm-demo.2025.014"
    path = _write(tmp_path / "screening" / "duplicates.csv",
                  f"record_a,record_b,decision,reviewer,note\n{a},{b},same,RA,\n{b},{a},same,RB,agree\n"
                  f"{a},{b},different,RC,\n")
    with pytest.raises(ReviewInputError, match=r"duplicates.csv: row 4: decision: contradictory decisions for the "
                                               r"pair .*: same at row 2, different here"):
        _library([(p, p.parent.name) for p in sorted((REPO / "review" / "searches").glob("*/*.*"))], path)
    [problem] = problems_in_duplicates_file(path)
    assert "row 4" in problem.format() and "contradictory" in problem.format()
    assert [p.format() for p in screening.problems_in_decision_files(tmp_path / "screening")] == [problem.format()]
    # without the contradiction, the pair is merged (last row wins no more: one decision per pair)
    _write(path, f"record_a,record_b,decision\n{a},{b},same\n{b},{a},same\n")
    lib = _library([(p, p.parent.name) for p in sorted((REPO / "review" / "searches").glob("*/*.*"))], path)
    assert lib["duplicates_removed"] == 4


def test_unknown_id_in_duplicates_is_a_clear_error(tmp_path):
    path = _write(tmp_path / "duplicates.csv", "record_a,record_b,decision\n"
                  "pubmed:2025-06-30:pmid-99000004,embase:2025-06-30:pmid-1,same\n")
    with pytest.raises(ReviewInputError, match=r"duplicates.csv: row 2: record_b: unknown record "
                                               r"'embase:2025-06-30:pmid-1'"):
        _library([(p, p.parent.name) for p in sorted((REPO / "review" / "searches").glob("*/*.*"))], path)


# ------------------------------------------------------------------------------------------ merged records


def _merged_library(n_pairs: int):
    """n_pairs clusters, each of a pubmed and an embase record (forced 'same')."""
    records, clusters = [], []
    for i in range(1, n_pairs + 1):
        p, e = f"pubmed:2025-06-30:pmid-{i}", f"embase:2025-06-30:doi-10.5555/x.{i}"
        records += [{"record_id": p, "cluster_id": p, "source": "pubmed", "export": "2025-06-30", "position": i,
                     "title": f"Paper {i}", "pmid": str(i), "authors": []},
                    {"record_id": e, "cluster_id": p, "source": "embase", "export": "2025-06-30", "position": i,
                     "title": f"Paper {i}", "doi": f"10.5555/x.{i}", "authors": []}]
        clusters.append({"cluster_id": p, "record_ids": [p, e], "reason": "test"})
    return {"n_records": len(records), "n_clusters": len(clusters), "duplicates_removed": n_pairs,
            "identified": {"pubmed": n_pairs, "embase": n_pairs}, "records": records, "clusters": clusters}


def test_merged_records_with_include_and_exclude_stop_the_run(tmp_path):
    ta = _write(tmp_path / "title_abstract.csv",
                "record_id,reviewer,decision,reason\n"
                "pubmed:2025-06-30:pmid-1,RA,include,\npubmed:2025-06-30:pmid-1,RB,include,\n"
                "embase:2025-06-30:doi-10.5555/x.1,RC,exclude,not an animal study\n"
                "embase:2025-06-30:doi-10.5555/x.1,RD,exclude,not an animal study\n")
    with pytest.raises(ReviewInputError) as info:
        screening.screen(_merged_library(1), [ta], None)
    text = info.value.format()
    assert "records merged as duplicates (cluster pubmed:2025-06-30:pmid-1" in text
    assert "RA include" in text and "RC exclude (not an animal study)" in text and "row 4" in text
    assert "different" in text and "duplicates.csv" in text


def test_merged_records_tied_to_different_studies_are_never_folded(tmp_path):
    n = 4
    ta_rows, ft_rows = ["record_id,reviewer,decision"], ["record_id,reviewer,decision,reason,role,study"]
    for i in range(1, n + 1):
        for rid, study in ((f"pubmed:2025-06-30:pmid-{i}", f"study{i}a"), (f"embase:2025-06-30:doi-10.5555/x.{i}",
                                                                             f"study{i}b")):
            ta_rows += [f"{rid},RA,include", f"{rid},RB,include"]
            ft_rows += [f"{rid},RA,include,,,{study}", f"{rid},RB,include,,,{study}"]
    ta = _write(tmp_path / "title_abstract.csv", "\n".join(ta_rows) + "\n")
    ft = _write(tmp_path / "full_text.csv", "\n".join(ft_rows) + "\n")
    with pytest.raises(ReviewInputError) as info:
        screening.screen(_merged_library(n), [ta, ft], None)
    lines = info.value.format().splitlines()
    assert len(lines) == n                                              # every conflict listed
    assert all("tied to different studies" in line for line in lines)
    assert "(study1a, study1b)" in lines[0]
    # one study id per merged paper: no error, one study each
    ft2 = _write(tmp_path / "b" / "full_text.csv", re.sub(r"(study\d)[ab]", r"\1", ft.read_text()))
    result = screening.screen(_merged_library(n), [ta, ft2], None)
    assert result["counts"]["studies_included"] == n


# ------------------------------------------------------------------------------------------ planning-time check


def test_planning_check_passes_the_example_and_reads_no_export(tmp_path, monkeypatch):
    import livingmeta.records.ingest as ingest

    monkeypatch.setattr(ingest, "parse_export", lambda *a, **k: pytest.fail("parsed an export"))
    assert screening.problems_in_decision_files(REPO / "review" / "screening") == []
    assert screening.problems_in_decision_files(tmp_path / "missing") == []
    folder = tmp_path / "screening"
    _write(folder / "title_abstract.csv", "record_id,reviewer,decision\npubmed:x:pmid-1,RA,maybe\n"
           "pubmed:x:pmid-2,RA,include\npubmed:x:pmid-2,RA,exclude\n")
    _write(folder / "full_text_batch2.csv", "record_id,reviewer,decision,reason\npubmed:x:pmid-2,RA,exclude,\n")
    _write(folder / "notes.csv", "a,b\n")
    problems = [p.format() for p in screening.problems_in_decision_files(folder, display_root=tmp_path)]
    assert problems[0].startswith("screening/full_text_batch2.csv: row 2: reason: a full-text exclusion needs")
    assert problems[1].startswith("screening/notes.csv: not a screening decision file")
    assert problems[2].startswith("screening/title_abstract.csv: row 2: decision: invalid decision 'maybe'")
    assert problems[3].startswith("screening/title_abstract.csv: row 4: decision: reviewer 'RA' decided twice")
    assert len(problems) == 4


def test_the_deduplicate_job_gives_stable_ids_to_dedup_json(tmp_path):
    import runpy
    from types import SimpleNamespace

    parsed = []
    for path in sorted((REPO / "review" / "searches").glob("*/*.*")):
        out = tmp_path / f"{path.parent.name}.json"
        out.write_text(json.dumps(parse_export(path, path.parent.name)), encoding="utf-8")
        parsed.append(str(out))
    smk = SimpleNamespace(input=SimpleNamespace(parsed=parsed, decisions=[]), log=[],
                          output=SimpleNamespace(library=str(tmp_path / "dedup.json"),
                                                 review=str(tmp_path / "dedup_review.csv")),
                          params=SimpleNamespace(settings={}))
    runpy.run_path(str(REPO / "scripts" / "deduplicate.py"), init_globals={"snakemake": smk})
    lib = json.loads((tmp_path / "dedup.json").read_text(encoding="utf-8"))
    ids = [r["record_id"] for r in lib["records"]]
    assert "pubmed:2025-06-30:pmid-99000001" in ids and all(re.search(r":(pmid|doi|pmc|t)-", i) for i in ids)
    assert {r["position_id"] for r in lib["records"]} >= {"pubmed:2025-06-30:1", "embase:2025-06-30:10"}
    assert {c["cluster_id"] for c in lib["clusters"] if len(c["record_ids"]) > 1} == {
        "embase:2025-06-30:doi-10.5555/lm-demo.2025.001", "embase:2025-06-30:doi-10.5555/lm-demo.2025.002",
        "embase:2025-06-30:doi-10.5555/lm-demo.2025.003"}
