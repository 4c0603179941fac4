"""The byte-level PDF merge (livingmeta/report/pdfmerge.py): its reading of dictionaries and of a part that
WeasyPrint wrote, and renumbering; the merged report itself is checked in test_pdf.py (pages, links,
destinations, outline, page numbers, byte-identical incremental builds)."""
from __future__ import annotations

import pytest

from livingmeta.report import pdfmerge as pm


def test_dictionary_entries_with_nested_values_strings_and_references():
    body = (b"<</Type /Annot/Rect [1 2.5 -3 4]/A <</S /URI/URI (https://x.invalid/a\\)b(c) d)>>"
            b"/Dest [6 0 R /XYZ 42.5 769 0]/T <FEFF0041>/Kids [7 0 R 8 0 R]/N null/F true>>")
    entries = pm.dict_entries(body)
    assert [k for k, _ in entries] == [b"/Type", b"/Rect", b"/A", b"/Dest", b"/T", b"/Kids", b"/N", b"/F"]
    assert dict(entries)[b"/A"] == b"<</S /URI/URI (https://x.invalid/a\\)b(c) d)>>"
    assert pm.make_dict(entries).replace(b" ", b"") == body.replace(b" ", b"")
    assert pm.renumber(b"<</Kids [7 0 R 8 0 R]/P 9 0 R>>", {7: 70, 8: 80}) == b"<</Kids [70 0 R 80 0 R]/P null>>"
    with pytest.raises(pm.MergeError):
        pm.dict_entries(b"[1 2]")


def test_text_strings():
    assert pm.pdf_string("6.1 DHI (4 weeks) \\ x") == b"(6.1 DHI \\(4 weeks\\) \\\\ x)"
    assert pm.pdf_string("I² – τ²") == b"<FEFF" + "I² – τ²".encode("utf-16-be").hex().upper().encode() + b">"
    assert pm.pdf_number(12.50) == b"12.5" and pm.pdf_number(-0.0) == b"0"


def test_a_weasyprint_part_is_read_object_by_object(tmp_path):
    from livingmeta.report.pdf import html_to_pdf

    html_to_pdf('<!DOCTYPE html><html><body><h1 id="a">One</h1><p style="break-before: page">'
                '<a href="#a">back</a></p></body></html>', tmp_path / "part.pdf")
    part = pm.read_part(tmp_path / "part.pdf")
    assert len(part.pages) == 2
    page = dict(pm.dict_entries(part.objects[part.pages[0]].body))
    assert page[b"/Type"] == b"/Page" and page[b"/MediaBox"].startswith(b"[0 0 595.")
    contents = part.objects[int(pm.REF.match(page[b"/Contents"]).group(1))]
    assert contents.stream is not None and b"BT" in pm._decode(contents, b"")  # the page's text, inflated
    writer = pm.Writer()
    mapping = pm.copy_objects(writer, part, part.pages, skip_keys=(b"/Parent",))
    assert part.root not in mapping and part.info not in mapping  # only what the pages use
    assert set(part.pages) <= set(mapping) and sorted(mapping.values()) == list(range(1, len(mapping) + 1))
    with pytest.raises(pm.MergeError, match="not a PDF part"):
        (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\nnot really\n")
        pm.read_part(tmp_path / "bad.pdf")
