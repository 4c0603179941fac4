"""Ingestion of real exports (../shared/data/exports) and of malformed / non-export files."""
from __future__ import annotations

import json
import runpy
from types import SimpleNamespace

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.records.ingest import detect_format, format_problem, parse_export

# file, format, number of records, (position, title, first author, year, journal, doi) looked up in the files
REAL_EXPORTS = [
    ("asreview_embase.ris", "ris", 6,
     (1, "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound", "Liu R.", 2014,
      "Endoscopic Ultrasound", "10.4103/2303-9027.138783")),
    ("asreview_ovid_psycinfo.ris", "ris", 6,
     (2, "Gender differences in inflammatory bowel disease: Explaining body image dissatisfaction.",
      "Trindade, Ines A", 2019, "Journal of Health Psychology", "10.1177/1359105317742958")),
    ("asreview_proquest.ris", "ris", 6,
     (1, "Predictors of posttraumatic stress symptom trajectories following the fatal 2011 Christchurch, "
         "New Zealand earthquake", "Jones, Hannah", 2019, "Journal of Traumatic Stress", "10.1002/jts.22387")),
    ("asreview_pubmed_endnote.txt", "ris", 6,
     (1, "Boswellia serrata: an overall assessment of in vitro, preclinical, pharmacokinetic and clinical data",
      "Abdel-Tawab, M.", 2011, "Clin Pharmacokinet", "10.2165/11586800-000000000-00000")),
    ("asreview_pubmed_zotero.ris", "ris", 6,
     (2, "Outcomes of inflammatory bowel disease surgery in obese versus non-obese patients: a meta-analysis.",
      "Hicks, G.", 2019, "Techniques in coloproctology", "10.1007/s10151-019-02080-0")),
    ("asreview_scopus.ris", "ris", 6,
     (1, "Stress and the brain-gut axis in functional and chronic-inflammatory gastrointestinal diseases: "
         "A transdisciplinary challenge", "Labanski, A.", 2020, "Psychoneuroendocrinology",
      "10.1016/j.psyneuen.2019.104501")),
    ("asreview_web_of_science.txt", "ris", 10,
     (1, "Holding Yourself Captive: Perceptions of Custody During Interviews and Interrogations", "Alceste, F",
      2018, "JOURNAL OF APPLIED RESEARCH IN MEMORY AND COGNITION", "10.1016/j.jarmac.2018.03.001")),
    ("nbib_pubmed-balloongui-set.nbib", "nbib", 75,
     (1, "Impact of Balloon Guide Catheter Use on Clinical and Angiographic Outcomes in the STRATIS Stroke "
         "Thrombectomy Registry.", "Zaidat, Osama O", 2019, "Stroke", "10.1161/strokeaha.118.021126")),
    ("nbib_single.nbib", "nbib", 1,
     (1, "Impact of balloon guide catheter on technical and clinical outcomes: a systematic review and "
         "meta-analysis.", "Brinjikji, Waleed", 2018, "Journal of neurointerventional surgery",
      "10.1136/neurintsurg-2017-013179")),
    ("rispy_example_wos.ris", "wos", 2,
     (2, "Proximal and distal influences on ligand binding kinetics in microperoxidase and heme model compounds",
      "Cao, WX", 2004, "BIOCHEMISTRY", "10.1021/bi0497291")),
    ("rispy_example_utf_chars.ris", "ris", 1,
     (1, "Состояние рецепторного аппарата эндометрия и метаболизм эстрогенов при гиперплазиях "
         "эндометрия в позднем репродуктивном периоде", "Dobrokhotova, Yu E.", 2009,
      "Gynecology, Obstetrics and Perinatology", None)),
]


@pytest.mark.parametrize("name,fmt,n,spot", REAL_EXPORTS, ids=[r[0] for r in REAL_EXPORTS])
def test_real_exports_parse_with_the_right_records(exports_dir, name, fmt, n, spot):
    parsed = parse_export(exports_dir / name, source="test")
    assert parsed["format"] == fmt
    assert parsed["n_records"] == n == len(parsed["records"])
    position, title, first_author, year, journal, doi = spot
    record = parsed["records"][position - 1]
    assert record["record_id"] == f"test:{name.rsplit('.', 1)[0]}:{position}"
    assert record["title"] == title
    assert record["authors"][0] == first_author
    assert record["year"] == year
    assert record["journal"] == journal
    assert record["doi"] == doi
    assert [r["position"] for r in parsed["records"]] == list(range(1, n + 1))


def test_identifiers_from_database_specific_tags(exports_dir):
    endnote = parse_export(exports_dir / "asreview_pubmed_endnote.txt", "pubmed")["records"][0]
    assert endnote["pmid"] == "21553931" and endnote["pages"] == "349-369"      # AN with DP NLM; 349-69
    scopus = parse_export(exports_dir / "asreview_scopus.ris", "scopus")["records"][1]
    assert scopus["pmid"] == "31421429"                                            # Scopus C2
    embase = parse_export(exports_dir / "asreview_embase.ris", "embase")["records"][1]
    assert embase["pmid"] == "15368318" and embase["database"] == "Embase"        # Embase C5
    ovid = parse_export(exports_dir / "asreview_ovid_psycinfo.ris", "ovid")["records"][0]
    assert ovid["doi"] == "10.1002/cpp.2398" and ovid["pages"] is None            # dx.doi.org URL; "No Specified"
    nbib = parse_export(exports_dir / "nbib_single.nbib", "pubmed")["records"][0]
    assert nbib["pmid"] == "28754806" and nbib["volume"] == "10" and nbib["issue"] == "4"
    wos = parse_export(exports_dir / "rispy_example_wos.ris", "wos")["records"][0]
    assert wos["pmid"] == "15170338" and wos["pages"] == "7003-7016"


def test_bom_prefixed_first_record_is_kept(exports_dir):
    parsed = parse_export(exports_dir / "rispy_example_bom.ris", "x")
    assert parsed["n_records"] == 1
    assert parsed["records"][0]["doi"] == "10.1186/s40981-020-0316-0"
    assert parsed["problems"] == [{"record": 1, "message": parsed["problems"][0]["message"]}]
    assert "no title" in parsed["problems"][0]["message"]
    # Embase starts with a BOM too: its first record must be there
    assert parse_export(exports_dir / "asreview_embase.ris", "x")["records"][0]["authors"][:2] == ["Liu R.", "Adler D.G."]


def test_multiline_fields_are_joined(exports_dir):
    records = parse_export(exports_dir / "rispy_example_multiline.ris", "x")["records"]
    assert len(records) == 3
    for record in records:
        assert record["abstract"] == "first line, ER then second line and at the end the last line"


def test_endnote_keywords_on_continuation_lines(exports_dir):
    record = parse_export(exports_dir / "asreview_pubmed_endnote.txt", "x")["records"][0]
    assert record["keywords"][:3] == ["Animals", "Anti-Inflammatory Agents/adverse effects/pharmacokinetics/*pharmacology",
                                      "Boswellia/*chemistry"]


def test_unicode_line_separator_inside_medline_field(exports_dir):
    parsed = parse_export(exports_dir / "nbib_pubmed-balloongui-set.nbib", "pubmed")
    assert parsed["problems"] == []  # record 4 has U+2028 inside its COIS field


def test_empty_values_and_faulty_year_are_reported(exports_dir):
    parsed = parse_export(exports_dir / "asreview_baseline_empty_values.ris", "x")
    assert parsed["n_records"] == 4
    assert sorted(p["record"] for p in parsed["problems"]) == [2, 4]
    assert parsed["n_problem_records"] == 2
    faulty = parse_export(exports_dir / "asreview_faulty_year.ris", "x")
    assert faulty["records"][0]["year"] is None
    assert "'10 15'" in faulty["problems"][0]["message"]


def test_crlf_gives_the_same_records(exports_dir, tmp_path):
    text = (exports_dir / "asreview_scopus.ris").read_text(encoding="utf-8")
    crlf = tmp_path / "scopus.ris"
    crlf.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    a = parse_export(exports_dir / "asreview_scopus.ris", "s", name="n")["records"]
    b = parse_export(crlf, "s", name="n")["records"]
    assert [(r["title"], r["doi"], r["authors"]) for r in a] == [(r["title"], r["doi"], r["authors"]) for r in b]


# ------------------------------------------------------------------------------------ malformed records

def test_ris_record_without_end_tag_is_kept_and_reported(tmp_path):
    path = tmp_path / "2024-01-01.ris"
    path.write_text("TY  - JOUR\nTI  - First article\nPY  - 2020\n\n"
                    "TY  - JOUR\nTI  - Second article\nPY  - 2021\nER  - \n"
                    "TY  - JOUR\nTI  - Third article, file truncated\n", encoding="utf-8")
    parsed = parse_export(path, "embase")
    assert [r["title"] for r in parsed["records"]] == ["First article", "Second article", "Third article, file truncated"]
    assert [p["record"] for p in parsed["problems"]] == [1, 3]
    assert "no end tag 'ER'" in parsed["problems"][0]["message"]
    assert "ends inside this record" in parsed["problems"][1]["message"]
    assert format_problem(str(path), parsed["problems"][0]).startswith(f"{path}: record 1: no end tag")


def test_bibtex_unbalanced_entry_is_reported(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text('@string{jn = "Journal of Things"}\n'
                    "@Article{smith2020,\n  author = {M{\\\"u}ller, J{\\\"o}rg and Smith, John},\n"
                    "  title = {{The} effect of X on Y},\n  journal = jn,\n  year = 2020,\n"
                    "  volume = {12}, number = \"3\", pages = {100--10},\n  doi = {10.1000/ABC.1},\n}\n"
                    "@article{broken,\n  title = {Unclosed {brace},\n  year = {2019}\n\n"
                    "@misc(k2, title=\"Paren entry\", year={2018})\n", encoding="utf-8")
    parsed = parse_export(path, "other")
    assert parsed["format"] == "bibtex"
    first = parsed["records"][0]
    assert (first["title"], first["authors"], first["journal"], first["pages"], first["doi"]) == (
        "The effect of X on Y", ["Müller, Jörg", "Smith, John"], "Journal of Things", "100-110", "10.1000/abc.1")
    assert parsed["n_records"] == 3 and parsed["records"][2]["title"] == "Paren entry"
    assert [p["record"] for p in parsed["problems"]] == [2]
    assert "unbalanced braces" in parsed["problems"][0]["message"]


def test_csv_row_with_wrong_width_is_reported(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Title,Authors,Publication Year,Journal/Book,DOI,PMID\n"
                    "A trial,Smith J; Jones K,2020,BMJ,10.1136/bmj.x1,123\n"
                    "Another trial,Doe A,2019\n", encoding="utf-8")
    parsed = parse_export(path, "pubmed")
    assert parsed["format"] == "csv"
    assert parsed["records"][0]["authors"] == ["Smith J", "Jones K"]
    assert (parsed["records"][0]["pmid"], parsed["records"][0]["journal"]) == ("123", "BMJ")
    assert [p["record"] for p in parsed["problems"]] == [2]
    assert "cells" in parsed["problems"][0]["message"]


def test_pubmed_csv_authors_and_the_numbers_of_its_citation_line(tmp_path):
    """PubMed's "Save as CSV": the authors in one cell separated by commas, volume, issue and pages only in
    the Citation column."""
    path = tmp_path / "pubmed.csv"
    path.write_text(
        "PMID,Title,Authors,Citation,First Author,Journal/Book,Publication Year,Create Date,PMCID,NIHMS ID,DOI\n"
        '39000001,A hydrogel in rats.,"Li X, van der Berg JH, O\'Neil-Smith AB.",'
        '"Stem Cell Res Ther. 2023 Mar 15;14(1):45. doi: 10.1186/s1.",Li X,Stem Cell Res Ther,2023,2023/03/16,,,10.1186/s1\n'
        '39000002,Epub first.,"Zhang Q.","Spine (Phila Pa 1976). 2024 Jan 5. doi: 10.1097/x.",Zhang Q,Spine,2024,,,,\n'
        '39000003,A letter.,"Smith, John","Nature. 2020;580(7802):E1-E2.",Smith J,Nature,2020,,,,\n',
        encoding="utf-8")
    records = parse_export(path, "pubmed")["records"]
    assert records[0]["authors"] == ["Li X", "van der Berg JH", "O'Neil-Smith AB"]
    assert (records[0]["volume"], records[0]["issue"], records[0]["pages"]) == ("14", "1", "45")
    assert records[1]["authors"] == ["Zhang Q."] and (records[1]["volume"], records[1]["pages"]) == (None, None)
    assert records[2]["authors"] == ["Smith, John"]  # one author, surname first: not split
    assert (records[2]["volume"], records[2]["issue"], records[2]["pages"]) == ("580", "7802", "E1-E2")


def test_zotero_and_embase_csv_column_names(tmp_path):
    zotero = tmp_path / "zotero.csv"
    zotero.write_text('"Key","Item Type","Publication Year","Author","Title","Publication Title","DOI","Abstract Note",'
                      '"Pages","Issue","Volume","Manual Tags"\n'
                      '"AB12","journalArticle","2021","Doe, Jane; Roe, R.","A trial","BMJ","10.1136/x","An abstract.",'
                      '"5-9","2","370","aspirin; stroke"\n', encoding="utf-8")
    record = parse_export(zotero, "zotero")["records"][0]
    assert (record["type"], record["authors"], record["journal"], record["abstract"], record["keywords"]) == (
        "journalArticle", ["Doe, Jane", "Roe, R."], "BMJ", "An abstract.", ["aspirin", "stroke"])
    embase = tmp_path / "embase.csv"
    embase.write_text("TITLE,AUTHOR NAMES,PUBLICATION YEAR,VOLUME,ISSUE,FIRST PAGE,LAST PAGE,MEDLINE PMID\n"
                      "A trial,Doe J.; Roe R.,2021,370,2,5,9,33000001\n", encoding="utf-8")
    record = parse_export(embase, "embase")["records"][0]
    assert (record["authors"], record["pages"], record["pmid"]) == (["Doe J.", "Roe R."], "5-9", "33000001")


def test_web_of_science_tab_delimited_pages_from_bp_and_ep(tmp_path):
    path = tmp_path / "savedrecs.txt"
    path.write_text("\ufeffPT\tAU\tTI\tSO\tPY\tVL\tIS\tBP\tEP\tDI\tUT\n"
                    "J\tLi, X; Wang, Y\tA hydrogel in rats\tBIOACTIVE MATERIALS\t2024\t31\t2\t1\t12\t10.1/x\tWOS:1\n",
                    encoding="utf-8")
    record = parse_export(path, "wos")["records"][0]
    assert (record["authors"], record["volume"], record["issue"], record["pages"]) == (["Li, X", "Wang, Y"], "31", "2", "1-12")


COCHRANE_TEXT = """Record #1 of 2\r
ID: CN-02345678\r
AU: Smith J\r
AU: Jones K\r
TI: Aspirin after myocardial infarction: a randomised trial\r
SO: BMJ\r
YR: 2020\r
VL: 368\r
NO: 2\r
PG: m123\r
XR: EMBASE 2004123456\r
PT: Journal: Article\r
DOI: 10.1136/bmj.m123\r
AB: Background: aspirin lowers\r
mortality. Methods: a trial.\r
KY: Aspirin [therapeutic use]; Myocardial Infarction\r
PM: PUBMED 32000001\r
US: https://www.cochranelibrary.com/central/doi/10.1002/central/CN-02345678/full\r
\r
Record #2 of 2\r
ID: CN-02345679\r
AU: Lee A\r
SO: Lancet\r
YR: 2019\r
PG: 100-110\r
"""


def test_cochrane_library_plain_text(tmp_path):
    path = tmp_path / "central.txt"
    path.write_bytes(("\ufeff" + COCHRANE_TEXT).encode("utf-8"))
    parsed = parse_export(path, "central")
    assert parsed["format"] == "cochrane" and parsed["n_records"] == 2
    first, second = parsed["records"]
    assert (first["title"], first["authors"], first["year"], first["journal"]) == (
        "Aspirin after myocardial infarction: a randomised trial", ["Smith J", "Jones K"], 2020, "BMJ")
    assert (first["volume"], first["issue"], first["pages"], first["doi"], first["pmid"]) == (
        "368", "2", "m123", "10.1136/bmj.m123", "32000001")
    assert first["abstract"] == "Background: aspirin lowers mortality. Methods: a trial."
    assert first["keywords"] == ["Aspirin [therapeutic use]", "Myocardial Infarction"]
    assert first["database"] == "Cochrane Library" and second["pages"] == "100-110"
    assert [p["record"] for p in parsed["problems"]] == [2] and "no title" in parsed["problems"][0]["message"]


def test_a_ris_file_with_a_record_header_line_is_still_ris(tmp_path):
    path = tmp_path / "x.ris"
    path.write_text("Record #1 of 1\nProvider: P\n\nTY  - JOUR\nTI  - A title\nAU  - Doe, J\nER  - \n")
    assert parse_export(path, "x")["format"] == "ris"


PUBMED_XML = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2019//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd">
<PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">28754806</PMID>
<Article PubModel="Print-Electronic"><Journal><JournalIssue CitedMedium="Internet"><Volume>10</Volume><Issue>4</Issue>
<PubDate><Year>2018</Year><Month>Apr</Month></PubDate></JournalIssue><Title>Journal of neurointerventional surgery</Title>
</Journal><ArticleTitle>Impact of balloon guide catheter on <i>technical</i> and clinical outcomes.</ArticleTitle>
<Pagination><MedlinePgn>335-339</MedlinePgn></Pagination>
<Abstract><AbstractText Label="BACKGROUND">Flow arrest.</AbstractText></Abstract>
<AuthorList><Author><LastName>Brinjikji</LastName><ForeName>Waleed</ForeName></Author></AuthorList>
</Article></MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType="pubmed">28754806</ArticleId>
<ArticleId IdType="doi">10.1136/neurintsurg-2017-013179</ArticleId></ArticleIdList></PubmedData></PubmedArticle>
<PubmedArticle><MedlineCitation><Article><ArticleTitle>No PMID here</ArticleTitle></Article></MedlineCitation></PubmedArticle>
</PubmedArticleSet>"""


def test_pubmed_xml(tmp_path):
    path = tmp_path / "2024-02-01.xml"
    path.write_text(PUBMED_XML, encoding="utf-8")
    parsed = parse_export(path, "pubmed")
    record = parsed["records"][0]
    assert parsed["format"] == "pubmed_xml" and parsed["n_records"] == 2
    assert record["title"] == "Impact of balloon guide catheter on technical and clinical outcomes."
    assert (record["pmid"], record["doi"], record["year"], record["authors"]) == (
        "28754806", "10.1136/neurintsurg-2017-013179", 2018, ["Brinjikji, Waleed"])
    assert parsed["problems"] == [{"record": 2, "message": "no PMID element"}]


def test_endnote_xml(tmp_path):
    path = tmp_path / "lib.xml"
    path.write_text("<?xml version='1.0' encoding='UTF-8'?><xml><records><record><database>lib.enl</database>"
                    "<ref-type name='Journal Article'>17</ref-type><contributors><authors><author><style>Liu, R."
                    "</style></author></authors></contributors><titles><title><style>Duplication cysts</style>"
                    "</title><secondary-title>Endoscopic Ultrasound</secondary-title></titles><pages>152-160</pages>"
                    "<volume>3</volume><number>3</number><dates><year>2014</year></dates>"
                    "<electronic-resource-num>10.4103/2303-9027.138783</electronic-resource-num></record>"
                    "</records></xml>", encoding="utf-8")
    record = parse_export(path, "embase")["records"][0]
    assert (record["title"], record["authors"], record["journal"], record["year"], record["doi"], record["type"]) == (
        "Duplication cysts", ["Liu, R."], "Endoscopic Ultrasound", 2014, "10.4103/2303-9027.138783", "Journal Article")


# ------------------------------------------------------------------------------------ not an export

@pytest.mark.parametrize("name,content,message", [
    ("notes.txt", b"Search strategy for PubMed:\n(exosome OR hydrogel) AND rat\n", "not a search export"),
    ("empty.ris", b"", "the file is empty"),
    ("paper.csv", b"study,yi,vi\nliao,0.5,0.1\n", "without a title, doi or pmid column"),
    ("report.xml", b"<?xml version='1.0'?><catalog><book>hi</book></catalog>", "neither PubMed"),
    ("report.xml", b"<?xml version='1.0'?><html><body>hi</body></html>", "a web page (HTML), not a search export"),
    ("pubmed.nbib", b"<!DOCTYPE html>\n<html lang='en'><body>Error 503: try again later</body></html>",
     "the database's download probably failed"),
    ("export.ris", b"PK\x03\x04\x00\x00binary zip", "binary file"),
    ("cut.xml", b"<PubmedArticleSet><PubmedArticle><MedlineCitation>", "XML cannot be read"),
])
def test_a_file_that_is_not_an_export_stops_with_a_clear_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReviewInputError) as err:
        parse_export(path, "pubmed")
    assert message in err.value.format()
    assert err.value.file == str(path)


def test_a_windows_1252_file_is_read_as_such_and_reported(tmp_path):
    path = tmp_path / "old.ris"
    path.write_bytes("TY  - JOUR\nTI  - Caf\xe9 study of na\xefve r\xe9sum\xe9s\nPY  - 2001\nER  - \n"
                     "TY  - JOUR\nTI  - Plain\nER  - \n".encode("cp1252"))
    parsed = parse_export(path, "x")
    assert parsed["records"][0]["title"] == "Café study of naïve résumés"
    assert len(parsed["problems"]) == 1
    assert parsed["problems"][0]["record"] is None and "Windows-1252" in parsed["problems"][0]["message"]
    assert "records with such characters: 1" in parsed["problems"][0]["message"]


def test_detect_format_ignores_the_extension(exports_dir):
    text = (exports_dir / "rispy_example_wos.ris").read_text(encoding="utf-8-sig")
    assert detect_format(text) == "wos"


def test_parse_export_script_writes_the_contract(exports_dir, tmp_path, repo):
    out, log = tmp_path / "parsed.json", tmp_path / "parse.log"
    smk = SimpleNamespace(input=[str(exports_dir / "asreview_faulty_year.ris")], output=[str(out)], log=[str(log)],
                          params=SimpleNamespace(source="embase"), wildcards=SimpleNamespace(name="2024-01-01"))
    runpy.run_path(str(repo / "scripts" / "parse_export.py"), init_globals={"snakemake": smk})
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) >= {"file", "source", "format", "n_records", "records", "problems"}
    assert data["records"][0]["record_id"] == "embase:2024-01-01:1"
    assert "record 1: year '10 15'" in log.read_text(encoding="utf-8")
