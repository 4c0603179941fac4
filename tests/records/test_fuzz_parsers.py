"""Fuzzing of every export parser: no input may raise anything but ReviewInputError.

Inputs are mutations of real export files (../shared/data/exports, the example's review/searches, the first
rows of the bib-dedupe CSV files, and BibTeX/CSV/PubMed XML/EndNote XML renderings of the real records, since
no real file of those formats is shared) and generated text: flipped, replaced, inserted and deleted bytes,
truncation, inserted CR/LF/NUL, CR-only and CR LF line ends, unbalanced quotes and braces, random tags,
other encodings (Windows-1252, Latin-1, UTF-16 with and without BOM). Each input goes through the whole
ingest path (:func:`parse_export_data`: decoding, format detection, parsing, records and problems) and
through the format's own parser even when detection would pick another format, and through
``csvfile.looks_like`` (the format sniffing that crashed on a bare CR).

The number of examples is bounded and derandomized (the file runs in well under a minute on one core);
``benchmarks/fuzz_parsers.py`` runs the same strategies for longer and counts crashes per format.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingmeta.errors import ReviewInputError
from livingmeta.jsonio import dumps
from livingmeta.records import csvfile
from livingmeta.records.ingest import decode, detect_format, format_problem, parse_entries, parse_export_data

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
FORMATS = ("ris", "nbib", "wos", "cochrane", "bibtex", "csv", "pubmed_xml", "endnote_xml")
SEED_BYTES = 24000          # seeds are cut to this size (at a line end) so that each example stays fast
EXAMPLES = {"mutated": 200, "generated": 100, "sniff": 200}


# ------------------------------------------------------------------------------------------ seeds

def _cut(data: bytes, limit: int = SEED_BYTES) -> bytes:
    if len(data) <= limit:
        return data
    end = data.rfind(b"\n", 0, limit)
    return data[: end + 1 if end > 0 else limit]


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def _records_of(paths: list[Path]) -> list[dict]:
    from livingmeta.records.ingest import parse_export
    out = []
    for path in paths:
        try:
            out.extend(parse_export(path, "seed")["records"][:12])
        except ReviewInputError:
            continue
    return out


def _brace_safe(text) -> str:
    return str(text or "").replace("{", "(").replace("}", ")").replace("\\", "/")


def render_bibtex(records: list[dict]) -> bytes:
    parts = ['@string{jn = "Journal of Things"}\n@comment{written for the fuzz test}\n']
    for i, r in enumerate(records):
        fields = [("title", r["title"]), ("author", " and ".join(r["authors"])), ("year", r["year"]),
                  ("journal", r["journal"]), ("volume", r["volume"]), ("number", r["issue"]),
                  ("pages", (r["pages"] or "").replace("-", "--")), ("doi", r["doi"]),
                  ("abstract", (r["abstract"] or "")[:300]), ("keywords", ", ".join(r["keywords"][:4]))]
        body = ",\n".join(f"  {name} = {{{_brace_safe(value)}}}" for name, value in fields if value)
        parts.append(f"@article{{key{i},\n{body}\n}}\n\n")
    parts.append('@misc(k2, title="M{\\"u}ller and {S}ons", journal = jn # " B", year={2018})\n')
    return "".join(parts).encode("utf-8")


def render_csv(records: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Title", "Authors", "Publication Year", "Journal/Book", "Volume", "Issue", "Pages", "DOI",
                     "PMID", "Abstract"])
    for r in records:
        writer.writerow([r["title"], "; ".join(r["authors"]), r["year"], r["journal"], r["volume"], r["issue"],
                         r["pages"], r["doi"], r["pmid"], (r["abstract"] or "")[:300]])
    return out.getvalue().encode("utf-8")


def render_cochrane(records: list[dict]) -> bytes:
    """The Cochrane Library's plain-text export (livingmeta/records/cochrane.py)."""
    parts = []
    for i, r in enumerate(records, start=1):
        lines = [f"Record #{i} of {len(records)}", f"ID: CN-0{2000000 + i}"]
        lines += [f"AU: {a}" for a in r["authors"][:6]]
        for tag, key in (("TI", "title"), ("SO", "journal"), ("YR", "year"), ("VL", "volume"), ("NO", "issue"),
                         ("PG", "pages"), ("DOI", "doi")):
            if r[key]:
                lines.append(f"{tag}: {r[key]}")
        if r["pmid"]:
            lines.append(f"PM: PUBMED {r['pmid']}")
        if r["abstract"]:
            lines.append(f"AB: {r['abstract'][:300]}")
        lines.append(f"US: https://www.cochranelibrary.com/central/doi/10.1002/central/CN-0{2000000 + i}/full")
        parts.append("\n".join(lines) + "\n\n")
    return "".join(parts).encode("utf-8")


def render_pubmed_xml(records: list[dict]) -> bytes:
    arts = []
    for i, r in enumerate(records):
        authors = "".join(f"<Author><LastName>{escape(a.split(',')[0])}</LastName>"
                          f"<ForeName>{escape(a.split(',', 1)[-1].strip())}</ForeName></Author>"
                          for a in r["authors"][:5])
        arts.append(
            f"<PubmedArticle><MedlineCitation><PMID Version=\"1\">{escape(r['pmid'] or str(1000 + i))}</PMID>"
            f"<Article><Journal><JournalIssue><Volume>{escape(r['volume'] or '')}</Volume>"
            f"<Issue>{escape(r['issue'] or '')}</Issue><PubDate><Year>{r['year'] or ''}</Year></PubDate>"
            f"</JournalIssue><Title>{escape(r['journal'] or '')}</Title></Journal>"
            f"<ArticleTitle>{escape(r['title'] or '')}</ArticleTitle>"
            f"<Pagination><MedlinePgn>{escape(r['pages'] or '')}</MedlinePgn></Pagination>"
            f"<Abstract><AbstractText Label=\"BACKGROUND\">{escape((r['abstract'] or '')[:300])}</AbstractText>"
            f"</Abstract><AuthorList>{authors}</AuthorList></Article></MedlineCitation>"
            f"<PubmedData><ArticleIdList><ArticleId IdType=\"doi\">{escape(r['doi'] or '')}</ArticleId>"
            f"</ArticleIdList></PubmedData></PubmedArticle>\n")
    return ("<?xml version=\"1.0\" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC \"-//NLM//DTD PubMedArticle//EN\" "
            "\"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd\">\n<PubmedArticleSet>\n"
            + "".join(arts) + "</PubmedArticleSet>\n").encode("utf-8")


def render_endnote_xml(records: list[dict]) -> bytes:
    recs = []
    for r in records:
        authors = "".join(f"<author><style face=\"normal\">{escape(a)}</style></author>" for a in r["authors"][:5])
        recs.append(
            f"<record><database>lib.enl</database><ref-type name=\"Journal Article\">17</ref-type>"
            f"<contributors><authors>{authors}</authors></contributors>"
            f"<titles><title><style>{escape(r['title'] or '')}</style></title>"
            f"<secondary-title>{escape(r['journal'] or '')}</secondary-title></titles>"
            f"<pages>{escape(r['pages'] or '')}</pages><volume>{escape(r['volume'] or '')}</volume>"
            f"<dates><year>{r['year'] or ''}</year></dates>"
            f"<electronic-resource-num>{escape(r['doi'] or '')}</electronic-resource-num>"
            f"<remote-database-name>PubMed</remote-database-name><accession-num>{escape(r['pmid'] or '')}"
            f"</accession-num></record>\n")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\" ?><xml><records>\n" + "".join(recs)
            + "</records></xml>\n").encode("utf-8")


def build_seeds() -> dict[str, list[bytes]]:
    exports = SHARED / "exports"
    searches = REPO / "review" / "searches"
    ris_files = [p for p in _files(exports, "*.ris") if p.name != "rispy_example_wos.ris"] \
        + _files(exports, "asreview_*.txt") + _files(searches, "*/*.ris")
    nbib_files = _files(exports, "*.nbib") + _files(searches, "*/*.nbib")
    wos_files = _files(exports, "rispy_example_wos.ris")
    records = _records_of(ris_files[:4] + nbib_files)
    seeds = {
        "ris": [p.read_bytes() for p in ris_files],
        "nbib": [p.read_bytes() for p in nbib_files],
        "wos": [p.read_bytes() for p in wos_files],
        "cochrane": [render_cochrane(records[:12]), render_cochrane(records[12:24])],
        "bibtex": [render_bibtex(records[:15]), render_bibtex(records[15:30])],
        "csv": [render_csv(records[:15])] + [b"".join(p.open("rb").readlines()[:25])
                                             for p in _files(SHARED / "dedup", "*/records_pre_merged.csv")],
        "pubmed_xml": [render_pubmed_xml(records[:10]), render_pubmed_xml(records[10:20])],
        "endnote_xml": [render_endnote_xml(records[:10])],
    }
    # always at least one seed per format, also without ../shared/data
    seeds["wos"] = seeds["wos"] or [b"FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Cao, WX\n"
                                    b"TI Proximal and distal influences\nSO BIOCHEMISTRY\nPY 2004\n"
                                    b"DI 10.1021/bi0497291\nER\n\nEF\n"]
    seeds["nbib"] = seeds["nbib"] or [b"PMID- 1\nTI  - A\nFAU - Doe, J\nDP  - 2020\n"]
    return {fmt: [_cut(data) for data in items if data] for fmt, items in seeds.items()}


SEEDS = build_seeds()


# ------------------------------------------------------------------------------------------ strategies

TOKENS = [b"\r", b"\n", b"\r\n", b"\x00", b'"', b"'", b"{", b"}", b"(", b")", b"<", b">", b"&", b",", b";",
          b"\t", b"@", b"-", b" ", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xc3", b"\xe9", b"\xff",
          b"\xe2\x80\xa8", b"\xed\xa0\x80", b"ER  - \n", b"TY  - JOUR\n", b"PMID- 1\n", b"      x\n",
          b"PT J\n", b"ER\n", b"EF\n", b"FN x\n", b"@article{", b"@string{", b"@comment{", b"=", b"#",
          b"<record>", b"</record>", b"<PubmedArticle>", b"</PubmedArticle>", b"<![CDATA[", b"]]>",
          b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", b"&a;", b"\\", b"\\\"", b"--", b"doi:10.1000/x",
          b"Title,DOI\n", b'"a","b\n', b"\x85", b"\x0c", b"\x1b", b"\xf0\x9f\x98\x80"]


@st.composite
def mutations(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "duplicate", "cr_only",
                                   "crlf", "encoding", "prefix", "swap_lines"]))
        pos = draw(st.integers(0, max(len(data), 1))) % (len(data) + 1)
        if op == "flip" and data:
            data[min(pos, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[min(pos, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=6))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 400))]
        elif op == "truncate":
            del data[pos:]
        elif op == "duplicate":
            size = draw(st.integers(1, 2000))
            data[pos:pos] = data[pos:pos + size]
        elif op == "cr_only":
            data = bytearray(bytes(data).replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
        elif op == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        elif op == "encoding":
            codec = draw(st.sampled_from(["cp1252", "latin-1", "utf-16", "utf-16-le", "utf-32", "mac_roman"]))
            data = bytearray(bytes(data).decode("utf-8", errors="replace").encode(codec, errors="replace"))
        elif op == "prefix":
            data[0:0] = draw(st.sampled_from([b"junk before the first record\n", b"\n\n", b"      indented\n",
                                              b"\xef\xbb\xbf", b"a\rb\n", b'"\n']))
        elif op == "swap_lines":
            lines = bytes(data).split(b"\n")
            if len(lines) > 2:
                i, j = pos % len(lines), draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
                data = bytearray(b"\n".join(lines))
    return bytes(data)


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_ASCII = st.text(st.sampled_from("abcdefghij XYZ0123456789-.,;:/\"'{}()<>&@=#\\\t"), max_size=30)
_VALUE = _TEXT | _ASCII
_EOL = st.sampled_from(["\n", "\r\n", "\r"])
_TAGS = {
    "ris": ["TY", "TI", "T1", "AU", "A1", "PY", "Y1", "DA", "JO", "JF", "T2", "VL", "IS", "SP", "EP", "AB", "N2",
            "KW", "DO", "UR", "AN", "C2", "C5", "DB", "DP", "ER", "NL", "L2", "M2", "N1"],
    "nbib": ["PMID", "TI", "FAU", "AU", "DP", "JT", "TA", "VI", "IP", "PG", "AB", "LID", "AID", "PMC", "OT", "MH",
             "PT", "LA", "OWN", "STAT"],
    "wos": ["FN", "VR", "PT", "AU", "AF", "TI", "SO", "PY", "PD", "VL", "IS", "BP", "EP", "AR", "AB", "DE", "ID",
            "DI", "PM", "ER", "EF", "DT", "LA"],
    "cochrane": ["ID", "AU", "TI", "SO", "YR", "VL", "NO", "PG", "DOI", "AB", "KY", "PM", "PT", "US", "XR", "CC"],
}


@st.composite
def tagged_text(draw, fmt: str) -> str:
    tags = _TAGS[fmt]
    eol = draw(_EOL)
    lines = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.integers(0, 9))
        tag = draw(st.sampled_from(tags) | st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                                                   min_size=1, max_size=4))
        value = draw(_VALUE)
        if fmt == "ris":
            line = f"{tag}  - {value}" if kind < 8 else (f"  {value}" if kind == 8 else value)
        elif fmt == "nbib":
            line = f"{tag:<4}- {value}" if kind < 7 else (f"      {value}" if kind < 9 else value)
        elif fmt == "cochrane":
            line = (f"Record #{draw(st.integers(0, 30))} of {draw(st.integers(0, 30))}" if kind == 0
                    else f"{tag}: {value}" if kind < 8 else value)
        else:
            line = f"{tag} {value}" if kind < 8 else (f"   {value}" if kind == 8 else value)
        lines.append(line)
        if draw(st.integers(0, 6)) == 0:
            lines.append("")
    return eol.join(lines)


@st.composite
def bibtex_text(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["article", "string", "comment", "preamble", "misc", "ARTICLE", ""]))
        opener, closer = draw(st.sampled_from([("{", "}"), ("(", ")"), ("{", ""), ("{", ")")]))
        fields = []
        for _ in range(draw(st.integers(0, 5))):
            name = draw(st.sampled_from(["title", "author", "year", "journal", "doi", "pages", "keywords"])
                        | st.text(st.sampled_from("abxyz-_:."), max_size=5))
            value = draw(_VALUE)
            shape = draw(st.sampled_from(["{%s}", '"%s"', "%s", "{%s", '"%s', "{{%s}}", "%s # {x}"]))
            fields.append(f"{name} = {shape % value}")
        key = draw(st.sampled_from(["key1,", "", "k2 ,", "x = 1,"]))
        parts.append(f"@{kind}{opener}{key}" + draw(st.sampled_from([",\n", ", ", ",", "\r"])).join(fields)
                     + closer)
    return draw(st.sampled_from(["\n", "\n\n", "\r", " junk "])).join(parts)


@st.composite
def csv_text(draw) -> str:
    names = ["Title", "Authors", "Year", "DOI", "PMID", "Journal", "ID", "record_id", "page_start", "page_end",
             "Abstract", "keywords", "x"]
    header = draw(st.lists(st.sampled_from(names) | _ASCII, min_size=1, max_size=7))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    eol = draw(_EOL)
    rows = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 8))):
        cells = draw(st.lists(_VALUE, max_size=len(header) + 2))
        quoted = [c if draw(st.booleans()) else f'"{c}"' for c in cells]
        rows.append(delimiter.join(quoted))
    return eol.join(rows) + draw(st.sampled_from(["", eol, '"', "\x00"]))


@st.composite
def xml_text(draw, fmt: str) -> str:
    if fmt == "pubmed_xml":
        root, item = "PubmedArticleSet", draw(st.sampled_from(["PubmedArticle", "PubmedBookArticle"]))
        inner = ["MedlineCitation", "PMID", "Article", "ArticleTitle", "Journal", "Title", "Author", "LastName",
                 "ForeName", "CollectiveName", "ArticleId", "ELocationID", "PubDate", "Year", "MedlineDate",
                 "AbstractText", "Keyword", "DescriptorName", "StartPage", "EndPage", "MedlinePgn"]
    else:
        root, item = "xml><records", "record"
        inner = ["titles", "title", "contributors", "authors", "author", "style", "dates", "year", "periodical",
                 "full-title", "ref-type", "electronic-resource-num", "accession-num", "remote-database-name",
                 "keywords", "keyword", "pages", "volume", "number"]
    body = []
    for _ in range(draw(st.integers(1, 5))):
        nested = []
        for _ in range(draw(st.integers(0, 6))):
            tag = draw(st.sampled_from(inner))
            attr = draw(st.sampled_from(["", ' IdType="doi"', ' EIdType="doi"', ' name="Journal Article"',
                                         ' Label="X"']))
            nested.append(f"<{tag}{attr}>{escape(draw(_VALUE))}</{tag}>" if draw(st.integers(0, 5))
                          else f"<{tag}>{escape(draw(_VALUE))}")
        body.append(f"<{item}>{''.join(nested)}</{item}>")
    closing = "</records></xml>" if fmt == "endnote_xml" else f"</{root}>"
    return f"<?xml version=\"1.0\"?><{root}>" + "".join(body) + draw(st.sampled_from([closing, "", closing[:5]]))


def generated(fmt: str):
    if fmt in _TAGS:
        text = tagged_text(fmt)
    elif fmt == "bibtex":
        text = bibtex_text()
    elif fmt == "csv":
        text = csv_text()
    else:
        text = xml_text(fmt)
    codec = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"])
    return st.tuples(text, codec).map(lambda tc: tc[0].encode(tc[1], errors="replace"))


# ------------------------------------------------------------------------------------------ the check

def check(data: bytes, fmt: str, name: str = "fuzz.txt") -> None:
    """Run one input through ingest and through ``fmt``'s own parser; only ReviewInputError may escape,
    and a parsed file must be a valid, JSON-writable parsed-export dict with one-line problems."""
    try:
        parsed = parse_export_data(data, name, "fuzz", "2024-01-01")
    except ReviewInputError as err:
        assert err.format().strip()
    else:
        positions = [r["position"] for r in parsed["records"]]
        assert parsed["n_records"] == len(parsed["records"]) > 0
        assert positions == list(range(1, len(positions) + 1))
        assert parsed["format"] in FORMATS
        for problem in parsed["problems"]:
            assert problem["record"] is None or problem["record"] in positions
            assert "\n" not in format_problem(name, problem) and "\r" not in format_problem(name, problem)
        json.loads(dumps(parsed).encode("utf-8"))  # no lone surrogate, nothing that JSON cannot hold
    text = decode(data).text
    csvfile.looks_like(text)
    try:
        detect_format(text, name)
    except ReviewInputError:
        pass
    try:
        entries, _ids = parse_entries(text, fmt, name, [])
    except ReviewInputError:
        return
    assert all(e.line is None or e.end_line is None or e.line <= e.end_line for e in entries)


FUZZ = settings(max_examples=EXAMPLES["mutated"], deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_real_exports_never_raise_anything_but_review_input_errors(fmt):
    assert SEEDS[fmt], f"no seed for {fmt}"

    @FUZZ
    @given(mutations(SEEDS[fmt]))
    def run(data):
        check(data, fmt, name=f"fuzz.{fmt}")

    run()


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_exports_never_raise_anything_but_review_input_errors(fmt):
    @settings(FUZZ, max_examples=EXAMPLES["generated"])
    @given(generated(fmt))
    def run(data):
        check(data, fmt, name=f"fuzz.{fmt}")

    run()


@settings(FUZZ, max_examples=EXAMPLES["sniff"])
@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_format_sniffing_never_raises_on_any_text(data):
    text = decode(data).text
    csvfile.looks_like(text)
    try:
        detect_format(text, "x.csv")
    except ReviewInputError:
        pass


def test_the_seeds_are_read_without_problems_of_their_own():
    """The renderings used as seeds are valid exports of their format (so mutations start from real
    structure, and the renderers do what they say)."""
    for fmt in ("cochrane", "bibtex", "csv", "pubmed_xml", "endnote_xml"):
        for data in SEEDS[fmt][:1]:
            parsed = parse_export_data(data, f"seed.{fmt}", "seed")
            assert parsed["format"] == fmt and parsed["n_records"] >= 5
            assert not [p for p in parsed["problems"] if "not" in p["message"] and "title" not in p["message"]]
