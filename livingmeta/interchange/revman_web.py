"""Read a RevMan Web data package: the zip RevMan Web downloads (article PDF, forest plots and
``<id>-files/<id>-data.zip``), or that inner ``*-data.zip`` itself.

The data zip holds CSV files (UTF-8 with a byte-order mark), read by their name endings:

* ``analysis-data/<id>-overall-estimates-and-settings.csv``: one row per analysis (``Analysis group``,
  ``Analysis number``, ``Analysis name``, ``Analysis group name``, ``Data type`` (Dichotomous, Continuous,
  Generic inverse variance), ``Statistical method`` (MH, IV, Peto), ``Effect measure`` (Odds Ratio ...),
  ``Analysis model`` (Fixed effect / Random effects), ``Estimate CI``, ``Experimental group label``,
  ``Control group label`` and RevMan's stored totals ``Mean, CI start, CI end, Heterogeneity Tau²,
  Heterogeneity Chi², Heterogeneity df, Heterogeneity P, Heterogeneity I², Effect Z, Effect P``);
* ``analysis-data/<id>-data-rows.csv``: one row per study and analysis (``Study``, ``Study year``,
  ``Subgroup``, ``Experimental cases``, ``Experimental N``, ``Experimental mean``, ``Experimental SD``, the
  same for ``Control``, ``GIV Mean``, ``GIV SE`` -- the log ratio and its SE for ratio measures);
* ``study-data/<id>-study-information.csv`` (``Study, Year, Char: Methods ...``) and
  ``study-data/<id>-risk-of-bias.csv`` (``Domain (judgement): <domain>``, ``Domain (support): <domain>``).

A package without these files or columns (another export version) is refused with the missing names.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile

from livingmeta.interchange.revman_model import (RATIO, RevmanOutcome, RevmanReview, RevmanRow, RevmanStudy,
                                                 measure_of, number, unsupported)

SETTINGS = ("Analysis group", "Analysis number", "Analysis name", "Data type", "Statistical method",
            "Effect measure", "Analysis model")
ROWS = ("Analysis group", "Analysis number", "Study")
KIND_COLUMNS = {
    "dichotomous": ("Experimental cases", "Experimental N", "Control cases", "Control N"),
    "continuous": ("Experimental mean", "Experimental SD", "Experimental N", "Control mean", "Control SD",
                   "Control N"),
    "generic": ("GIV Mean", "GIV SE"),
}
KINDS = {"DICHOTOMOUS": "dichotomous", "CONTINUOUS": "continuous", "GENERIC INVERSE VARIANCE": "generic"}
STORED = {"Mean": "EFFECT_SIZE", "CI start": "CI_START", "CI end": "CI_END", "Heterogeneity Tau²": "TAU2",
          "Heterogeneity Chi²": "CHI2", "Heterogeneity df": "DF", "Heterogeneity P": "P_CHI2",
          "Heterogeneity I²": "I2", "Effect Z": "Z", "Effect P": "P_Z"}
CHARS = (("Char: Methods", "methods"), ("Char: Participants", "participants"), ("Char: Interventions", "interventions"),
         ("Char: Outcomes", "outcomes"), ("Char: Notes", "notes"))
ROB = {"LOW RISK": "low", "HIGH RISK": "high", "UNCLEAR RISK": "unclear", "LOW": "low", "HIGH": "high",
       "UNCLEAR": "unclear"}


def data_zip(file: str, zf: zipfile.ZipFile) -> zipfile.ZipFile:
    """The zip that holds the CSV files: ``zf`` itself or its ``*-data.zip``."""
    names = zf.namelist()
    if any(n.endswith("-data-rows.csv") for n in names):
        return zf
    inner = [n for n in names if n.endswith("-data.zip")]
    if len(inner) != 1:
        raise unsupported(file, "not a RevMan Web data package (no analysis data: neither *-data-rows.csv nor one "
                                f"*-data.zip in the zip, found {len(inner)})",
                          hint="Give the zip RevMan Web downloads with 'Export data package', or its *-data.zip.")
    return zipfile.ZipFile(io.BytesIO(zf.read(inner[0])))


def _csv(file: str, zf: zipfile.ZipFile, ending: str, required: tuple[str, ...], needed: bool = True):
    names = [n for n in zf.namelist() if n.endswith(ending)]
    if not names:
        if not needed:
            return None
        raise unsupported(file, f"RevMan Web package version not understood: no *{ending} in the data zip")
    text = zf.read(names[0]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [c for c in required if c not in header]
    if missing:
        raise unsupported(file, f"RevMan Web package version not understood: {names[0]} has no column(s) "
                                + ", ".join(f"'{c}'" for c in missing))
    return rows


def _blank(value) -> bool:
    return value is None or str(value).strip() in ("", "#N/A")


def read_web(path: str) -> RevmanReview:
    file = str(path)
    try:
        outer = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise unsupported(file, "not a RevMan Web data package (not a zip file)") from None
    zf = data_zip(file, outer)
    settings = _csv(file, zf, "-overall-estimates-and-settings.csv", SETTINGS)
    rows = _csv(file, zf, "-data-rows.csv", ROWS)
    info = _csv(file, zf, "-study-information.csv", ("Study",), needed=False)
    rob = _csv(file, zf, "-risk-of-bias.csv", ("Study",), needed=False)
    review = RevmanReview(file=file, format="RevMan Web data package",
                          title=next((r.get("Analysis group name") or "" for r in settings), ""))
    for r in info or []:
        s = RevmanStudy(key=r["Study"], name=r["Study"], year=(r.get("Year") or "").strip())
        for col, key in CHARS:
            if not _blank(r.get(col)):
                s.characteristics[key] = " ".join(str(r[col]).split())
        review.studies[s.key] = s
    for st in settings:
        review.outcomes.append(_outcome(file, st, rows, review))
    if rob:
        _rob(rob, review)
    review.not_imported.append("references (the package's *.ris file): not read; citations have name and year only")
    return review


def _outcome(file: str, st: dict, rows: list[dict], review: RevmanReview) -> RevmanOutcome:
    g, n = st["Analysis group"].strip(), st["Analysis number"].strip()
    where = f"analysis {g}.{n} '{st['Analysis name']}'"
    kind = KINDS.get(" ".join(st["Data type"].upper().split()))
    if kind is None:
        raise unsupported(file, f"{where}: data type '{st['Data type']}' is not supported",
                          hint="livingmeta imports Dichotomous, Continuous and Generic inverse variance analyses.")
    measure = measure_of(file, where, st["Effect measure"])
    method = st["Statistical method"].strip().upper()
    if measure == "PETO":
        method = "PETO"
    if method not in ("MH", "IV", "PETO"):
        raise unsupported(file, f"{where}: statistical method '{st['Statistical method']}' is not supported")
    model = st["Analysis model"].strip().lower()
    if model not in ("fixed effect", "fixed-effect", "random effects", "random-effects"):
        raise unsupported(file, f"{where}: analysis model '{st['Analysis model']}' is not supported")
    level = str(st.get("Estimate CI") or "95%").strip().rstrip("%") or "95"
    o = RevmanOutcome(number=f"{g}.{n}", comparison=st.get("Analysis group name") or "", name=st["Analysis name"],
                      kind=kind, measure=measure, method=method, random=model.startswith("random"),
                      group_labels=(st.get("Experimental group label") or "", st.get("Control group label") or ""),
                      level=float(level))
    if any(not _blank(st.get(c)) for c in ("CI start", "CI end")) and not (
            st.get("CI start", "").strip() in ("0", "0.0") and st.get("CI end", "").strip() in ("0", "0.0")):
        for col, key in STORED.items():
            if not _blank(st.get(col)):
                o.stored[key] = number(file, f"{where}: {col}", st[col])
    mine = [r for r in rows if r["Analysis group"].strip() == g and r["Analysis number"].strip() == n]
    if mine:
        missing = [c for c in KIND_COLUMNS[kind] if c not in mine[0]]
        if missing:
            raise unsupported(file, f"RevMan Web package version not understood: the data rows have no column(s) "
                                    + ", ".join(f"'{c}'" for c in missing))
    for r in mine:
        at = f"{where}, study {r['Study']}"
        if kind == "dichotomous":
            data = {k: number(file, f"{at}: {c}", r[c], integer=True) for k, c in
                    zip(("e1", "n1", "e2", "n2"), KIND_COLUMNS[kind])}
        elif kind == "continuous":
            data = {k: number(file, f"{at}: {c}", r[c], integer=k.startswith("n")) for k, c in
                    zip(("m1", "sd1", "n1", "m2", "sd2", "n2"), KIND_COLUMNS[kind])}
        else:
            est = number(file, f"{at}: GIV Mean", r["GIV Mean"])
            data = {"estimate": math.exp(est) if measure in RATIO else est,
                    "se": number(file, f"{at}: GIV SE", r["GIV SE"])}
        key = r["Study"]
        if key not in review.studies:
            review.studies[key] = RevmanStudy(key=key, name=key, year=(r.get("Study year") or "").strip())
        elif not review.studies[key].year:
            review.studies[key].year = (r.get("Study year") or "").strip()
        o.rows.append(RevmanRow(study=key, subgroup=None if _blank(r.get("Subgroup")) else r["Subgroup"].strip(),
                                data=data))
    if str(st.get("Swap event and non-event") or "").strip().lower() == "true":
        o.swap_events = True
        o.swap()
    return o


def _rob(rows: list[dict], review: RevmanReview) -> None:
    prefix = "Domain (judgement): "
    domains = [c[len(prefix):] for c in rows[0].keys() if c and c.startswith(prefix)] if rows else []
    review.rob_domains = [(f"d{i}", label) for i, label in enumerate(domains, start=1)]
    for r in rows:
        study = r["Study"]
        for (dom_id, label) in review.rob_domains:
            value = (r.get(prefix + label) or "").strip()
            j = ROB.get(value.upper())
            if j is None:
                if value:
                    review.not_imported.append(f"risk of bias: {study}: '{label}': judgement '{value}' "
                                               "(not one of Low risk, High risk, Unclear risk)")
                continue
            review.rob.setdefault(study, {})[dom_id] = (j, (r.get(f"Domain (support): {label}") or "").strip())
