"""Web of Science plain-text ("tagged", ``FN Clarivate Analytics Web of Science``) exports.

Tag lines are read by rispy's ``WokParser`` (pinned, maintained), with the same guards as for RIS:
records are split here one ``PT`` ... ``ER`` block at a time (positions, missing ``ER`` reported instead
of the record being dropped), an identity tag mapping keeps every tag, and repeated tags become lists.
Field choices: title ``TI``; authors ``AF`` (full names) else ``AU``; year ``PY`` else ``PD``/``EY``;
journal ``SO``; volume ``VL``; issue ``IS``; pages ``BP``-``EP`` else ``AR`` (article number); DOI ``DI``;
PubMed id ``PM``; keywords ``DE`` then ``ID`` (Keywords Plus), split at ``;``.
"""

from __future__ import annotations

import re

import rispy

from livingmeta.records import normalise as nz
from livingmeta.records.entry import Entry
from livingmeta.records.ris import split_tagged

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: |$)")
LIST_TAGS = ["AU", "AF", "BA", "BF", "CA", "GP", "BE", "CR", "RI", "OI", "C1", "C3", "EM"]


class _IdentityMapping(dict):
    def __missing__(self, key):
        return key


class _Parser(rispy.WokParser):
    def __init__(self):
        super().__init__(mapping=_IdentityMapping(), list_tags=LIST_TAGS, enforce_list_tags=False)

    def _add_single_value(self, record, name, value, is_multi=False):
        if is_multi and isinstance(record.get(name), list):
            current = record[name]
            current[-1] = f"{current[-1]} {value}".strip() if current else value
            return
        super()._add_single_value(record, name, value, is_multi)


def split_records(text: str, outside: list[str] | None = None) -> list[tuple[list[str], list[str], int, int]]:
    """The ``PT`` ... ``ER`` blocks of a Web of Science tagged file (``EF`` ends the file): (lines, format
    problems, first line, last line). The header lines ``FN``/``VR`` are allowed between records."""
    return split_tagged(text, _TAG, "PT", file_end_tag="EF", outside_ok=("FN", "VR", "EF", "ER"),
                        outside=outside)


def _split(values) -> list[str]:
    out = []
    for item in nz.as_list(values):
        out.extend(k.strip() for k in item.split(";") if k.strip())
    return out


def wos_values(tags: dict) -> dict:
    def get(*names):
        for name in names:
            if nz.as_list(tags.get(name)):
                return tags.get(name)
        return None

    pages = get("BP")
    return {
        "type": get("DT", "PT"),
        "database": "Web of Science",
        "title": get("TI"),
        "authors": nz.as_list(get("AF", "AU")),
        "year": get("PY", "PD", "EY"),
        "journal": get("SO"),
        "volume": get("VL"),
        "issue": get("IS"),
        "pages": pages if pages is not None else get("AR"),
        "end_page": get("EP") if pages is not None else None,
        "abstract": get("AB"),
        "keywords": _split(tags.get("DE")) + _split(tags.get("ID")),
        "doi": get("DI"),
        "pmid": get("PM"),
        "language": get("LA"),
    }


def parse(text: str, file_problems: list[str] | None = None) -> list[Entry]:
    """The records of a Web of Science text; problems outside any record go to ``file_problems``."""
    entries = []
    for position, (lines, problems, first, last) in enumerate(split_records(text, file_problems), start=1):
        try:
            parsed = _Parser().parse_lines(iter(lines + ["ER"]))
            tags = parsed[0] if parsed else {}
        except Exception as err:  # rispy should not fail on one block; if it does, report the record
            entries.append(Entry(position, {}, problems + [
                f"could not be read as Web of Science text ({err}; lines {first}-{last})"], first, last))
            continue
        entries.append(Entry(position, wos_values(tags), problems, first, last))
    return entries


def looks_like(head: str) -> bool:
    lines = [line.lstrip("\ufeff") for line in head.splitlines()[:20] if line.strip()]
    return bool(lines) and (lines[0].startswith("FN ") or lines[0].startswith("PT ")) \
        and any(line.startswith("PT ") for line in lines)
