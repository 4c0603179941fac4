"""Regression tests for issue 13 (parsers): inputs that gave tracebacks, encoding problems reported per
record, damaged records reported instead of dropped, and the names of the files in a search folder."""
from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.plan import scan_exports
from livingmeta.records import csvfile
from livingmeta.records.ingest import (decode, format_problem, parse_export, parse_export_data,
                                       search_folder_problems)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_RIS = REPO / "review" / "searches" / "embase" / "2025-06-30.ris"
EXAMPLE_NBIB = REPO / "review" / "searches" / "pubmed" / "2025-06-30.nbib"


def _records(parsed):
    return [(r["title"], r["doi"], r["authors"], r["year"]) for r in parsed["records"]]


# ------------------------------------------------------------------------------ no traceback

def test_csv_with_cr_only_line_ends_gives_the_same_records_as_with_lf():
    lf = ("Title,Authors,Publication Year,DOI\n"
          'A trial,"Smith J; Jones K",2020,10.1136/bmj.x1\n'
          '"Another, quoted trial",Doe A,2019,10.1000/abc\n')
    a = parse_export_data(lf.encode(), "list.csv", "s", "n")
    b = parse_export_data(lf.replace("\n", "\r").encode(), "list.csv", "s", "n")
    assert b["format"] == "csv" and _records(b) == _records(a) and b["n_records"] == 2
    assert b["problems"] == a["problems"] == []


@pytest.mark.parametrize("content", [b"hello\rworld \"x\n", b"Title\r\"unclosed,\rmore", b"\r", b"a,\"b\r\"c\n"])
def test_text_with_a_bare_cr_in_its_first_line_is_not_an_export_not_a_traceback(content):
    assert csvfile.looks_like(decode(content).text) in (True, False)
    try:
        parse_export_data(content, "notes.txt", "s")
    except ReviewInputError as err:
        assert "notes.txt" in err.format()


def test_nbib_with_a_line_before_the_first_tag(tmp_path):
    path = tmp_path / "2024-01-01.nbib"
    path.write_bytes(b"Search: exosome hydrogel\nTI  - Title before the PMID line\nPMID- 12345\n"
                     b"TI  - A MEDLINE record\nFAU - Doe, Jane\nDP  - 2020 Jan\n")
    parsed = parse_export(path, "pubmed")
    assert [r["title"] for r in parsed["records"]] == ["Title before the PMID line", "A MEDLINE record"]
    assert parsed["records"][1]["pmid"] == "12345"
    assert [format_problem(str(path), p) for p in parsed["problems"]] == [
        f"{path}: record 1: no PMID- line (record on lines 2-2)"]


def test_nbib_continuation_lines_before_the_first_record_are_reported():
    text = b"      of a record whose tag line is lost\n      and more\n\nPMID- 1\nTI  - Kept\n"
    parsed = parse_export_data(text, "x.nbib", "pubmed", "n")
    assert [r["title"] for r in parsed["records"]] == ["Kept"]
    assert parsed["problems"] == [{"record": None, "message": "lines 1-2 (before the first record): continuation "
                                   "lines without the tag line they continue (a damaged record?): not read"}]


def test_nbib_real_export_after_a_header_line():
    if not EXAMPLE_NBIB.is_file():
        pytest.skip("example export missing")
    data = EXAMPLE_NBIB.read_bytes()
    plain = parse_export_data(data, "x.nbib", "pubmed", "n")
    headed = parse_export_data(b"Exported from PubMed\n" + data, "x.nbib", "pubmed", "n")
    assert _records(headed) == _records(plain) and headed["problems"] == plain["problems"] == []


@pytest.mark.parametrize("data", [
    "TY  - JOUR\r\nTI  - Caf\u00e9\r\nER  - \r\n".encode("utf-16")[:-1],          # odd byte count
    b"\xff\xfe" + "TY  - JOUR\nTI  - A".encode("utf-16-le") + b"\x00\xd8" + "\nER  - \n".encode("utf-16-le"),
])
def test_damaged_utf16_is_decoded_and_reported(data):
    parsed = parse_export_data(data, "x.ris", "s", "n")
    assert parsed["n_records"] == 1 and parsed["records"][0]["title"] in ("Café", "A\ufffd")
    assert any("not valid UTF-16" in p["message"] for p in parsed["problems"])


# ------------------------------------------------------------------------------ encoding, per record

def test_one_invalid_byte_is_reported_in_its_record_and_the_rest_stays_utf8():
    text = ("TY  - JOUR\nTI  - Résumé of Ångström’s work\nAU  - Müller, J.\nER  - \n"
            "TY  - JOUR\nTI  - Second record\nAU  - Doe, A.\nER  - \n"
            "TY  - JOUR\nTI  - Caf@ study\nAU  - Núñez, B.\nER  - \n")
    data = text.encode("utf-8").replace(b"@", b"\xe9")   # one Windows-1252 byte in record 3
    parsed = parse_export_data(data, "emb.ris", "embase", "2024-01-01")
    titles = [r["title"] for r in parsed["records"]]
    assert titles == ["Résumé of Ångström’s work", "Second record", "Caf\u00e9 study"]
    assert parsed["records"][2]["authors"] == ["Núñez, B."]
    assert parsed["n_problem_records"] == 1
    (problem,) = parsed["problems"]
    offset = data.index(b"\xe9")
    assert problem["record"] == 3
    for part in (f"byte {offset}", "(line 10)", "0xE9", "Windows-1252", "embase:2024-01-01:3", "'Café study'"):
        assert part in problem["message"]


def _one_bad_byte_in_record_two(fmt: str) -> tuple[bytes, str]:
    """(export with a 0xE9 byte in the title of its 2nd record, file name)."""
    titles = ["First gööd títle", "Second bad QQQ title", "Third good title"]
    if fmt == "ris":
        text = "".join(f"TY  - JOUR\nTI  - {t}\nPY  - 2020\nER  - \n\n" for t in titles)
    elif fmt == "nbib":
        text = "".join(f"PMID- {i + 1}\nTI  - {t}\nDP  - 2020\n\n" for i, t in enumerate(titles))
    elif fmt == "wos":
        text = "FN Clarivate Analytics Web of Science\nVR 1.0\n" + "".join(
            f"PT J\nTI {t}\nPY 2020\nER\n\n" for t in titles) + "EF\n"
    elif fmt == "bibtex":
        text = "".join(f"@article{{k{i},\n  title = {{{t}}},\n  year = 2020\n}}\n\n" for i, t in enumerate(titles))
    elif fmt == "csv":
        text = "Title,Year,DOI\n" + "".join(f"{t},2020,10.1000/{i}\n" for i, t in enumerate(titles))
    elif fmt == "pubmed_xml":
        text = "<?xml version='1.0'?>\n<PubmedArticleSet>\n" + "".join(
            f"<PubmedArticle>\n<MedlineCitation><PMID>{i + 1}</PMID>\n<Article><ArticleTitle>{t}</ArticleTitle>"
            "</Article></MedlineCitation>\n</PubmedArticle>\n" for i, t in enumerate(titles)) + "</PubmedArticleSet>\n"
    else:
        text = "<?xml version='1.0'?><xml><records>\n" + "".join(
            f"<record>\n<titles><title>{t}</title></titles>\n</record>\n" for t in titles) + "</records></xml>\n"
    return text.encode("utf-8").replace(b"QQQ", b"\xe9"), f"x.{fmt}"


@pytest.mark.parametrize("fmt", ["ris", "nbib", "wos", "bibtex", "csv", "pubmed_xml", "endnote_xml"])
def test_an_invalid_byte_is_reported_in_its_record_for_every_format(fmt):
    data, name = _one_bad_byte_in_record_two(fmt)
    parsed = parse_export_data(data, name, "s", "n")
    assert parsed["format"] == fmt
    assert parsed["records"][0]["title"] == "First gööd títle"          # correct UTF-8 stays as it is
    assert parsed["records"][1]["title"] == "Second bad \u00e9 title"
    encoding = [p for p in parsed["problems"] if "not valid UTF-8" in p["message"]]
    assert [p["record"] for p in encoding] == [2], parsed["problems"]
    offset = data.index(b"\xe9")
    assert f"byte {offset}" in encoding[0]["message"] and "s:n:2" in encoding[0]["message"]


def test_a_file_without_any_utf8_is_read_as_windows_1252_as_a_whole():
    text = "".join(f"TY  - JOUR\nTI  - Étude n° {i} sur l’été\nER  - \n" for i in range(3))
    parsed = parse_export_data(text.encode("cp1252"), "old.ris", "s", "n")
    assert [r["title"] for r in parsed["records"]] == [f"Étude n° {i} sur l’été" for i in range(3)]
    (problem,) = parsed["problems"]
    assert problem["record"] is None and "whole file was read as Windows-1252" in problem["message"]
    assert "records with such characters: 1, 2, 3" in problem["message"]


def test_utf8_with_bom_and_utf16_with_bom_give_the_same_records():
    text = "TY  - JOUR\r\nTI  - Ångström’s résumé\r\nER  - \r\n"
    plain = parse_export_data(text.encode("utf-8"), "x.ris", "s", "n")
    for data in (b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("utf-16"), text.encode("utf-32")):
        other = parse_export_data(data, "x.ris", "s", "n")
        assert _records(other) == _records(plain) and other["problems"] == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read_and_reported(codec):
    text = "TY  - JOUR\nTI  - Ångström’s résumé\nER  - \n"
    parsed = parse_export_data(text.encode(codec), "x.ris", "s", "n")
    assert parsed["records"][0]["title"] == "Ångström’s résumé"
    (problem,) = parsed["problems"]
    assert problem["record"] is None
    assert problem["message"].startswith(f"the file is {codec.upper()} without a byte-order mark")


def test_parse_export_script_prints_each_problem_on_stderr(tmp_path, capfd):
    export = tmp_path / "2024-01-01.ris"
    data, _ = _one_bad_byte_in_record_two("ris")
    export.write_bytes(data + b"TY  - JOUR\nPY  - 2021\nER  - \n")
    out, log = tmp_path / "parsed.json", tmp_path / "parse.log"
    smk = SimpleNamespace(input=[str(export)], output=[str(out)], log=[str(log)],
                          params=SimpleNamespace(source="embase"), wildcards=SimpleNamespace(name="2024-01-01"))
    runpy.run_path(str(REPO / "scripts" / "parse_export.py"), init_globals={"snakemake": smk})
    err = capfd.readouterr().err.splitlines()
    problems = json.loads(out.read_text(encoding="utf-8"))["problems"]
    assert len(err) == len(problems) == 2
    assert err[0].startswith(f"livingmeta: warning: {export}: record 2: bytes that are not valid UTF-8")
    assert err[1] == f"livingmeta: warning: {export}: record 4: no title and no DOI or PMID (the record is kept " \
                     "but cannot be deduplicated)"
    assert err[0] in log.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ damaged records

def test_ris_record_with_a_damaged_start_tag_is_reported_not_dropped():
    text = ("TY  - JOUR\nTI  - First\nER  - \n"
            "T Y - JOUR\nTI  - Lost record\nAU  - Doe, J.\nER  - \n"
            "TY  - JOUR\nTI  - Third\nER  - \n")
    parsed = parse_export_data(text.encode(), "x.ris", "s", "n")
    assert [r["title"] for r in parsed["records"]] == ["First", "Third"]
    (problem,) = parsed["problems"]
    assert problem["record"] is None
    assert problem["message"].startswith("lines 5-6 (after record 1): 2 tag line(s) outside any record, "
                                         "starting 'TI  - Lost record'")


def test_ovid_lines_between_records_are_not_problems(exports_dir):
    parsed = parse_export(exports_dir / "asreview_ovid_psycinfo.ris", "ovid")
    assert not [p for p in parsed["problems"] if p["record"] is None]


def test_wos_record_with_a_damaged_start_tag_is_reported():
    text = ("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI First\nER\n\n"
            "PX J\nTI Lost\nER\n\nPT J\nTI Third\nER\n\nEF\n")
    parsed = parse_export_data(text.encode(), "x.txt", "s", "n")
    assert parsed["format"] == "wos" and [r["title"] for r in parsed["records"]] == ["First", "Third"]
    (problem,) = parsed["problems"]
    assert problem["message"].startswith("lines 7-8 (after record 1): 2 tag line(s) outside any record")


def test_pubmed_xml_element_that_is_not_an_article_is_reported():
    text = ("<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>One"
            "</ArticleTitle></Article></MedlineCitation></PubmedArticle><PubmedArticl><MedlineCitation><PMID>2"
            "</PMID></MedlineCitation></PubmedArticl><DeleteCitation><PMID>3</PMID></DeleteCitation>"
            "</PubmedArticleSet>")
    parsed = parse_export_data(text.encode(), "x.xml", "pubmed", "n")
    assert parsed["n_records"] == 1
    assert parsed["problems"] == [{"record": None, "message": "<PubmedArticl> (after article 1) is not a "
                                   "PubmedArticle or PubmedBookArticle: not read"}]


def test_bibtex_fields_that_cannot_be_read_are_reported():
    text = ("@article{a,\n  title = {Kept},\n  year = 2020 junk here,\n  doi = {10.1/lost}\n}\n"
            "@artcle {b,\n  title = {Fine}, title = {Twice}\n}\n"
            "arti cle{c,\n  title = {Damaged entry start},\n  year = {2019}\n}\n")
    parsed = parse_export_data(text.encode(), "x.bib", "s", "n")
    assert [r["title"] for r in parsed["records"]] == ["Kept", "Fine"]
    messages = [(p["record"], p["message"]) for p in parsed["problems"]]
    assert (1, "text after field 'year' is not a 'name = value' field: 'junk here,\\n  doi = {10.1/lost}' (it and any "
               "field after it are not read)") in messages
    assert (2, "field 'title' is given twice (the first value is used)") in messages
    assert any(r is None and m.startswith("line 10 (after entry on line 6): 'title = {Damaged") for r, m in messages)


def test_csv_rows_swallowed_by_an_unbalanced_quote_are_reported():
    text = ('Title,Year,DOI\n"First trial,2020,10.1000/a\n'
            "Second trial,2021,10.1000/b\nThird trial,2022,10.1000/c\n")
    parsed = parse_export_data(text.encode(), "x.csv", "s", "n")
    assert parsed["n_records"] == 1
    messages = [p["message"] for p in parsed["problems"] if p["record"] == 1]
    assert any("runs over lines 2-4 and holds 2 line(s) that look like rows, e.g. 'Second trial,2021,10.1000/b'"
               in m for m in messages)


def test_a_multiline_abstract_is_not_taken_for_swallowed_rows():
    text = 'Title,Year,Abstract\nA trial,2020,"Background: x.\nMethods: y, z.\nResults: none"\n'
    parsed = parse_export_data(text.encode(), "x.csv", "s", "n")
    assert parsed["problems"] == [] and parsed["records"][0]["abstract"].startswith("Background")


# ------------------------------------------------------------------------------ the searches folder

def _folder(tmp_path: Path, names: list[str]) -> Path:
    searches = tmp_path / "searches"
    for name in names:
        path = searches / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("TY  - JOUR\nER  - \n")
    return searches


def test_search_folder_problems_lists_unsupported_files_and_clashing_names(tmp_path):
    searches = _folder(tmp_path, [
        "embase/2024-01-01.ris", "embase/2024-01-01.RIS", "embase/2024-02-01.ris", "embase/2024-02-01.txt",
        "embase/2024-03-01.enw", "embase/.2024-04-01.nbib.tmp.part", "embase/README.md",
        "pubmed/2024-01-01.nbib", "pubmed/2024-01-01.search.yaml", "pubmed/2024-02-01.search.yaml",
        "pubmed/old/2023-01-01.nbib", "scopus/2024-01-01.csv", "scopus/2024-01-01.xlsx",
        "2024-05-01.ris", "README.md"])
    errors = search_folder_problems(searches)
    lines = [e.format() for e in errors]
    assert all(isinstance(e, ReviewInputError) for e in errors) and len(errors) == 6, lines
    by_file = {Path(e.file).relative_to(searches).as_posix(): e.format() for e in errors}
    assert set(by_file) == {"2024-05-01.ris", "embase/2024-03-01.enw", "pubmed/old", "scopus/2024-01-01.xlsx",
                            "embase"}
    assert "export the references as RIS" in by_file["embase/2024-03-01.enw"]
    assert "supported extensions: .ris, .nbib, .txt, .xml, .bib, .csv" in by_file["embase/2024-03-01.enw"]
    clashes = [e.message for e in errors if Path(e.file).name == "embase"]
    assert sorted(clashes) == sorted([
        "exports 2024-01-01.RIS, 2024-01-01.ris have names that differ only by case or extension: they would "
        "get the same record ids (embase:<name>:<position>)",
        "exports 2024-02-01.ris, 2024-02-01.txt have names that differ only by case or extension: they would "
        "get the same record ids (embase:<name>:<position>)"])


def test_search_folder_problems_agree_with_the_plan(tmp_path):
    names = ["a/x.ris", "a/y.NBIB", "a/z.enw", "a/w.docx", "a/v", "b/x.Xml", "b/q.bib", "b/r.csv", "b/s.TXT",
             "b/t.json", "b/u.search.yaml"]
    searches = _folder(tmp_path, names)
    planned = {Path(e.path).relative_to(searches).as_posix() for e in scan_exports(searches)}
    reported = {Path(e.file).relative_to(searches).as_posix() for e in search_folder_problems(searches)}
    assert planned == {"a/x.ris", "a/y.NBIB", "b/x.Xml", "b/q.bib", "b/r.csv", "b/s.TXT"}
    assert reported == {"a/z.enw", "a/w.docx", "a/v", "b/t.json"}


def test_the_example_review_has_no_search_folder_problems():
    assert search_folder_problems(REPO / "review" / "searches") == []
    assert search_folder_problems(REPO / "no such folder") == []


def test_a_folder_or_missing_file_given_as_an_export_is_a_clear_error(tmp_path):
    for path, message in ((tmp_path, "a folder, not a search export"), (tmp_path / "gone.ris", "cannot be read")):
        with pytest.raises(ReviewInputError) as err:
            parse_export(path, "s")
        assert message in err.value.format() and err.value.file == str(path)
