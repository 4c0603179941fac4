"""``export/``: the version's study data in the formats of the tools co-authors already use.

Written beside the report by the report job (listed by ``export/index.csv``, published with the version):

* ``revman-data-rows.csv`` and ``revman-overall-estimates-and-settings.csv``: the study data per analysis
  and each analysis's settings and pooled result, in the CSV layout of a RevMan Web data package (the
  columns :mod:`livingmeta.interchange.revman_web` reads: ``Analysis group``, ``Analysis number``,
  ``Study``, ``Experimental cases`` ... ``GIV Mean``, ``GIV SE``; ``Data type``, ``Statistical method``,
  ``Effect measure``, ``Analysis model`` ...), so that an analysis can be checked in RevMan and the export
  read back by ``livingmeta import revman``. Analyses are numbered 1.1, 1.2 ... (one comparison,
  treatment versus control) in the report's order; a study with a precomputed estimate is written as
  generic inverse variance (log ratio and its SE for ratio measures), as RevMan holds it.
* ``covidence-extraction.csv``: one row per study and analysis, the layout of a Covidence extraction
  export (study, outcome, time point, then per arm the numbers extracted), with provenance and source.
* ``PRISMA2020.csv``: the flow counts for the PRISMA 2020 Shiny app (a copy of the records branch's).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from livingmeta.report import indexed

FOLDER = "export"
INDEX_COLUMNS = ("file", "description")
MEASURE_NAMES = {"OR": "Odds Ratio", "RR": "Risk Ratio", "RD": "Risk Difference", "PETO": "Peto Odds Ratio",
                 "MD": "Mean Difference", "SMD": "Std. Mean Difference", "HR": "Hazard Ratio",
                 "ROM": "Ratio of Means", "NMD": "Normalised Mean Difference"}
KIND_NAMES = {"dichotomous": "Dichotomous", "continuous": "Continuous", "generic": "Generic inverse variance"}
ROWS_COLUMNS = ("Analysis group", "Analysis number", "Analysis name", "Study", "Study year", "Subgroup",
                "Experimental cases", "Experimental N", "Experimental mean", "Experimental SD",
                "Control cases", "Control N", "Control mean", "Control SD", "GIV Mean", "GIV SE", "Weight")
SETTINGS_COLUMNS = ("Analysis group", "Analysis group name", "Analysis number", "Analysis name", "Data type",
                    "Statistical method", "Effect measure", "Analysis model", "Estimate CI",
                    "Experimental group label", "Control group label", "Mean", "CI start", "CI end",
                    "Heterogeneity Tau²", "Heterogeneity Chi²", "Heterogeneity df", "Heterogeneity P",
                    "Heterogeneity I²", "Effect Z", "Effect P")
COVIDENCE_COLUMNS = ("Study ID", "Study", "Outcome", "Timepoint", "Unit", "Data type",
                     "Intervention mean", "Intervention SD", "Intervention events", "Intervention N",
                     "Control mean", "Control SD", "Control events", "Control N",
                     "Reported estimate", "Reported CI lower", "Reported CI upper", "Reported SE",
                     "Provenance", "Source")
FILES = {
    "revman-data-rows.csv": "study data per analysis, RevMan Web data package layout (Analysis group/number, "
                            "per-arm data or GIV Mean/SE)",
    "revman-overall-estimates-and-settings.csv": "per analysis: data type, method, measure, model and the pooled "
                                                 "result, RevMan Web data package layout",
    "covidence-extraction.csv": "one row per study and analysis: the numbers extracted per arm, Covidence "
                                "extraction layout, with provenance and source",
    "PRISMA2020.csv": "PRISMA 2020 flow counts for the PRISMA2020 Shiny app",
}


def _v(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    return repr(x) if isinstance(x, float) else str(x)


def _years(results: dict) -> dict[str, str]:
    return {s.get("study"): str(((s.get("citation") or {}) if isinstance(s.get("citation"), dict) else {}).get("year")
                                or "") for s in results.get("studies") or []}


def _model(a: dict) -> tuple[str, str]:
    method = str(a.get("method") or "").upper()
    stat = {"MH": "MH", "PETO": "Peto"}.get(method, "IV")
    return stat, ("Fixed effect" if method in ("FE", "MH", "PETO") else "Random effects")


def _shown(a: dict, key: str):
    value = a.get(f"{key}_exp") if a.get(f"{key}_exp") is not None else a.get(key)
    return value


def revman_rows(results: dict) -> list[list[str]]:
    years = _years(results)
    rows = []
    for number, a in enumerate(results.get("analyses") or [], start=1):
        name = f"{a.get('label')}, {a.get('timepoint')}"
        for s in a.get("studies") or []:
            kind = s.get("kind") or "continuous"
            cells = {"Analysis group": "1", "Analysis number": str(number), "Analysis name": name,
                     "Study": s.get("label") or s.get("study"), "Study year": years.get(s.get("study"), ""),
                     "Weight": _v(s.get("weight"))}
            if kind == "dichotomous":
                cells.update({"Experimental cases": _v(s.get("ai")), "Experimental N": _v(s.get("n1i")),
                              "Control cases": _v(s.get("ci")), "Control N": _v(s.get("n2i"))})
            elif kind == "continuous":
                cells.update({"Experimental mean": _v(s.get("m1i")), "Experimental SD": _v(s.get("sd1i")),
                              "Experimental N": _v(s.get("n1i")), "Control mean": _v(s.get("m2i")),
                              "Control SD": _v(s.get("sd2i")), "Control N": _v(s.get("n2i"))})
            else:   # the model-scale effect: the log for ratio measures, as RevMan's GIV columns hold it
                vi = s.get("vi")
                cells.update({"GIV Mean": _v(s.get("yi")),
                              "GIV SE": _v(math.sqrt(vi) if isinstance(vi, (int, float)) and vi >= 0 else None)})
            rows.append([cells.get(c, "") for c in ROWS_COLUMNS])
    return rows


def revman_settings(results: dict) -> list[list[str]]:
    arms = (results.get("review") or {}).get("arms") or {}
    rows = []
    for number, a in enumerate(results.get("analyses") or [], start=1):
        kinds = set(a.get("kinds") or ["continuous"])
        kind = "dichotomous" if kinds == {"dichotomous"} else ("continuous" if kinds == {"continuous"} else "generic")
        stat, model = _model(a)
        a_arms = a.get("arms") or arms
        cells = {"Analysis group": "1", "Analysis group name": f"{a_arms.get('treatment', 'treatment')} versus "
                                                               f"{a_arms.get('control', 'control')}",
                 "Analysis number": str(number), "Analysis name": f"{a.get('label')}, {a.get('timepoint')}",
                 "Data type": KIND_NAMES[kind], "Statistical method": stat,
                 "Effect measure": MEASURE_NAMES.get(a.get("measure"), a.get("measure") or ""),
                 "Analysis model": model, "Estimate CI": f"{_v(a.get('level') or 95)}%",
                 "Experimental group label": a_arms.get("treatment", ""),
                 "Control group label": a_arms.get("control", "")}
        if a.get("pooled"):
            cells.update({"Mean": _v(_shown(a, "estimate")), "CI start": _v(_shown(a, "ci_lb")),
                          "CI end": _v(_shown(a, "ci_ub")), "Heterogeneity Tau²": _v(a.get("tau2")),
                          "Heterogeneity Chi²": _v(a.get("Q")), "Heterogeneity df": _v(a.get("Q_df")),
                          "Heterogeneity P": _v(a.get("Q_pval")), "Heterogeneity I²": _v(a.get("I2")),
                          "Effect P": _v(a.get("pval"))})
        rows.append([cells.get(c, "") for c in SETTINGS_COLUMNS])
    return rows


def covidence_rows(results: dict) -> list[list[str]]:
    rows = []
    for a in results.get("analyses") or []:
        for s in a.get("studies") or []:
            kind = s.get("kind") or "continuous"
            cells = {"Study ID": s.get("study"), "Study": s.get("label") or s.get("study"),
                     "Outcome": a.get("label"), "Timepoint": a.get("timepoint"), "Unit": s.get("unit") or "",
                     "Data type": KIND_NAMES.get(kind, kind), "Provenance": s.get("provenance") or "",
                     "Source": s.get("source") or "",
                     "Intervention N": _v(s.get("n1i")), "Control N": _v(s.get("n2i"))}
            if kind == "dichotomous":
                cells.update({"Intervention events": _v(s.get("ai")), "Control events": _v(s.get("ci"))})
            elif kind == "continuous":
                cells.update({"Intervention mean": _v(s.get("m1i")), "Intervention SD": _v(s.get("sd1i")),
                              "Control mean": _v(s.get("m2i")), "Control SD": _v(s.get("sd2i"))})
            else:
                cells.update({"Reported estimate": _v(s.get("estimate_reported")),
                              "Reported CI lower": _v(s.get("ci_lb_reported")),
                              "Reported CI upper": _v(s.get("ci_ub_reported")),
                              "Reported SE": _v(s.get("se_reported"))})
            rows.append([cells.get(c, "") for c in COVIDENCE_COLUMNS])
    return rows


def export_files(results: dict, prisma_csv: str | None = None) -> dict[str, str]:
    files = {
        "revman-data-rows.csv": indexed.csv_text(ROWS_COLUMNS, revman_rows(results)),
        "revman-overall-estimates-and-settings.csv": indexed.csv_text(SETTINGS_COLUMNS, revman_settings(results)),
        "covidence-extraction.csv": indexed.csv_text(COVIDENCE_COLUMNS, covidence_rows(results)),
    }
    if prisma_csv is not None:
        files["PRISMA2020.csv"] = prisma_csv
    return files


def write_export(results: dict, index_path: str | os.PathLike, prisma_csv_path: str | None = None) -> list[str]:
    """Write the export files beside ``index_path`` and then the index (``file,description``)."""
    prisma = None
    if prisma_csv_path and os.path.isfile(prisma_csv_path):
        prisma = Path(prisma_csv_path).read_text(encoding="utf-8")
    files = export_files(results, prisma)
    index = indexed.csv_text(INDEX_COLUMNS, [(name, FILES[name]) for name in files])
    indexed.write_listed(index_path, files, index, stale="*.csv")
    return list(files)


def listed_files(index_path: str | os.PathLike) -> dict[str, Path]:
    """The index and the export files it lists, by their path in a published version."""
    return indexed.listed_files(index_path, FOLDER, "export")
