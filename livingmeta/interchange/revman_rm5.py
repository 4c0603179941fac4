"""Read a RevMan 5 review file (``.rm5``: XML, usually ISO-8859-1, root ``COCHRANE_REVIEW``).

The elements read (as RevMan 5.0-5.4 writes them; the same structure the R package meta's ``read.rm5()``
reads, Schwarzer, Carpenter & Rücker 2015, *Meta-Analysis with R*, Springer, ch. 2.4):

* ``STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES/STUDY`` (``ID``, ``NAME``, ``YEAR``) with its
  ``REFERENCE`` (primary first: ``TI``, ``SO``, ``YR``, ``IDENTIFIERS/IDENTIFIER TYPE="DOI|PUBMED"``);
* ``CHARACTERISTICS_OF_INCLUDED_STUDIES/INCLUDED_CHAR`` (methods, participants, interventions, outcomes,
  notes as text);
* ``QUALITY_ITEMS/QUALITY_ITEM`` (the Cochrane risk-of-bias tool, RoB 1: Higgins et al. 2011, BMJ
  343:d5928) with ``QUALITY_ITEM_DATA_ENTRY RESULT="YES|NO|UNKNOWN" STUDY_ID``;
* ``ANALYSES_AND_DATA/COMPARISON`` with ``DICH_OUTCOME`` (``DICH_DATA EVENTS_1 TOTAL_1 EVENTS_2 TOTAL_2``),
  ``CONT_OUTCOME`` (``CONT_DATA MEAN_1 SD_1 TOTAL_1 ...``) and ``IV_OUTCOME`` (``IV_DATA EFFECT_SIZE SE``,
  the log ratio for ratio measures), each possibly in ``*_SUBGROUP`` elements; the outcome's
  ``EFFECT_MEASURE``, ``METHOD`` (MH, IV, PETO), ``RANDOM`` and RevMan's stored totals (``EFFECT_SIZE,
  CI_START, CI_END, CHI2, DF, P_CHI2, I2, TAU2, Z, P_Z``).

``OE_OUTCOME`` (O - E and variance) and ``IPD_OUTCOME`` analyses are refused: livingmeta has no such data
kind.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from livingmeta.interchange.revman_model import (RATIO, RevmanOutcome, RevmanReview, RevmanRow, RevmanStudy,
                                                 measure_of, number, unsupported)

KIND_OF = {"DICH": "dichotomous", "CONT": "continuous", "IV": "generic"}
REFUSED = {"OE": "O - E and variance (O-E) analyses", "IPD": "individual patient data (IPD) analyses"}
STORED = ("EFFECT_SIZE", "CI_START", "CI_END", "LOG_EFFECT_SIZE", "LOG_CI_START", "LOG_CI_END", "CHI2", "DF",
          "P_CHI2", "I2", "TAU2", "Z", "P_Z", "Q", "P_Q", "I2_Q")
CHARS = (("CHAR_METHODS", "methods"), ("CHAR_PARTICIPANTS", "participants"), ("CHAR_INTERVENTIONS", "interventions"),
         ("CHAR_OUTCOMES", "outcomes"), ("CHAR_NOTES", "notes"))
ROB1 = {"YES": "low", "NO": "high", "UNKNOWN": "unclear",
        "LOW_RISK": "low", "HIGH_RISK": "high", "UNCLEAR_RISK": "unclear"}


def text_of(el) -> str:
    return " ".join(" ".join(el.itertext()).split()) if el is not None else ""


def read_rm5(path: str, data: bytes | None = None) -> RevmanReview:
    file = str(path)
    if data is None:
        with open(path, "rb") as fh:
            data = fh.read()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise unsupported(file, f"not a RevMan 5 file (not readable as XML: {err})") from None
    if root.tag != "COCHRANE_REVIEW":
        raise unsupported(file, f"not a RevMan 5 file (the XML's root element is <{root.tag}>, not <COCHRANE_REVIEW>)")
    if root.get("REVMAN_VERSION") not in (None, "", "5"):
        raise unsupported(file, f"RevMan version {root.get('REVMAN_VERSION')} files are not supported (only RevMan 5)")
    review = RevmanReview(file=file, format="RevMan 5 (.rm5)", title=text_of(root.find("COVER_SHEET/TITLE")))
    _studies(root, review)
    _characteristics(root, review)
    _analyses(root, review)
    _quality_items(root, review)
    return review


def _studies(root, review: RevmanReview) -> None:
    for st in root.iterfind("STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES/STUDY"):
        s = RevmanStudy(key=st.get("ID"), name=st.get("NAME") or st.get("ID"), year=(st.get("YEAR") or "").strip())
        refs = st.findall("REFERENCE")
        refs.sort(key=lambda r: r.get("PRIMARY") != "YES")
        if refs:
            ref = refs[0]
            for tag, key in (("TI", "title"), ("SO", "journal")):
                if text_of(ref.find(tag)):
                    s.citation[key] = text_of(ref.find(tag))
            for ident in ref.iterfind("IDENTIFIERS/IDENTIFIER"):
                kind, value = (ident.get("TYPE") or "").upper(), (ident.get("VALUE") or "").strip()
                if kind == "DOI" and value.startswith("10."):
                    s.citation["doi"] = value
                elif kind in ("PUBMED", "MEDLINE") and value.isdigit():
                    s.citation["pmid"] = value
        review.studies[s.key] = s


def _characteristics(root, review: RevmanReview) -> None:
    for ch in root.iterfind("CHARACTERISTICS_OF_STUDIES/CHARACTERISTICS_OF_INCLUDED_STUDIES/INCLUDED_CHAR"):
        s = review.studies.get(ch.get("STUDY_ID"))
        if s is None:
            continue
        for tag, key in CHARS:
            value = text_of(ch.find(tag))
            if value:
                s.characteristics[key] = value


def _analyses(root, review: RevmanReview) -> None:
    file = review.file
    for ci, cmp in enumerate(root.iterfind("ANALYSES_AND_DATA/COMPARISON"), start=1):
        cno = cmp.get("NO") or str(ci)
        cname = text_of(cmp.find("NAME"))
        for oi, out in enumerate(list(cmp), start=1):
            prefix = out.tag.split("_")[0]
            if not out.tag.endswith("_OUTCOME"):
                continue
            where = f"comparison {cno} '{cname}', outcome {out.get('NO') or oi} '{text_of(out.find('NAME'))}'"
            if prefix in REFUSED:
                raise unsupported(file, f"{where}: {REFUSED[prefix]} are not supported",
                                  hint="Remove or convert that analysis in RevMan (e.g. to generic inverse "
                                       "variance) and export again.")
            if prefix not in KIND_OF:
                raise unsupported(file, f"{where}: analysis type <{out.tag}> is not supported")
            kind = KIND_OF[prefix]
            measure = measure_of(file, where, out.get("EFFECT_MEASURE"))
            method = (out.get("METHOD") or "IV").upper()
            if measure == "PETO":
                method = "PETO"
            if method not in ("MH", "IV", "PETO"):
                raise unsupported(file, f"{where}: statistical method '{method}' is not supported")
            o = RevmanOutcome(
                number=f"{cno}.{out.get('NO') or oi}", comparison=cname, name=text_of(out.find("NAME")),
                kind=kind, measure=measure, method=method, random=out.get("RANDOM") == "YES",
                group_labels=(text_of(out.find("GROUP_LABEL_1")), text_of(out.find("GROUP_LABEL_2"))),
                graph_labels=(text_of(out.find("GRAPH_LABEL_1")), text_of(out.find("GRAPH_LABEL_2"))),
                level=float(out.get("CI_TOTAL") or 95))
            for key in STORED:
                if (out.get(key) or "").strip():
                    o.stored[key] = float(out.get(key))
            for el in out.iter():
                if el.tag == f"{prefix}_DATA":
                    o.rows.append(_row(file, where, el, kind, measure))
            # subgroup names
            for sg in out.iterfind(f"{prefix}_SUBGROUP"):
                sname = text_of(sg.find("NAME"))
                ids = {el.get("STUDY_ID") for el in sg.iterfind(f"{prefix}_DATA")}
                for r in o.rows:
                    if r.study in ids:
                        r.subgroup = sname
            if out.get("SWAP_EVENTS") == "YES":
                o.swap_events = True
                o.swap()
            if out.get("TOTALS") in ("NO", "SUB"):
                shown = "no totals" if out.get("TOTALS") == "NO" else "subgroup totals only"
                review.not_imported.append(f"{where}: RevMan shows {shown}; livingmeta pools all its studies")
            for r in o.rows:
                if r.study not in review.studies:
                    raise unsupported(file, f"{where}: data of study '{r.study}', which is not an included study")
            review.outcomes.append(o)


def _row(file, where, el, kind, measure) -> RevmanRow:
    study = el.get("STUDY_ID")
    at = f"{where}, study {study}"
    if kind == "dichotomous":
        data = {k: number(file, f"{at}: {a}", el.get(a), integer=True)
                for k, a in (("e1", "EVENTS_1"), ("n1", "TOTAL_1"), ("e2", "EVENTS_2"), ("n2", "TOTAL_2"))}
    elif kind == "continuous":
        data = {k: number(file, f"{at}: {a}", el.get(a), integer=k.startswith("n"))
                for k, a in (("m1", "MEAN_1"), ("sd1", "SD_1"), ("n1", "TOTAL_1"),
                             ("m2", "MEAN_2"), ("sd2", "SD_2"), ("n2", "TOTAL_2"))}
    else:
        est = number(file, f"{at}: EFFECT_SIZE", el.get("EFFECT_SIZE"))
        se = number(file, f"{at}: SE", el.get("SE"))
        if measure in RATIO:   # RevMan keeps generic ratio estimates as the log ratio with the SE of the log
            est = math.exp(est)
        data = {"estimate": est, "se": se}
        for side in ("1", "2"):
            if (el.get(f"TOTAL_{side}") or "").strip():
                data[f"n{side}"] = number(file, f"{at}: TOTAL_{side}", el.get(f"TOTAL_{side}"), integer=True)
    return RevmanRow(study=study, subgroup=None, data=data)


def _quality_items(root, review: RevmanReview) -> None:
    items = root.findall("QUALITY_ITEMS/QUALITY_ITEM")
    for it in items:
        dom_id, label = f"d{it.get('NO') or len(review.rob_domains) + 1}", text_of(it.find("NAME"))
        review.rob_domains.append((dom_id, label))
        for entry in it.iterfind("QUALITY_ITEM_DATA/QUALITY_ITEM_DATA_ENTRY"):
            study = entry.get("STUDY_ID")
            result = (entry.get("RESULT") or "").upper()
            if study not in review.studies:
                continue
            if result not in ROB1:
                review.not_imported.append(
                    f"risk of bias: {review.studies[study].name}: '{label}': judgement '{result}' not understood")
                continue
            if entry.get("GROUP_ID"):   # a judgement per outcome group: not one per study
                review.not_imported.append(
                    f"risk of bias: {review.studies[study].name}: '{label}': judgement for outcome group "
                    f"{entry.get('GROUP_ID')} "
                    "(livingmeta keeps one judgement per study and domain)")
                continue
            review.rob.setdefault(study, {})[dom_id] = (ROB1[result], text_of(entry.find("DESCRIPTION")))
