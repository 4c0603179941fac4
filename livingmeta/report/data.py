"""The analysis data of the report as CSV files, to re-run or check an analysis in R metafor or Stata and to
put tables in a manuscript: written to ``data/`` beside the report, from results.json alone.

``<analysis>.csv``
    one row per study in the forest plot's order (results.json's): ``study, label, provenance``, the arms
    (``m1i, sd1i, n1i`` treatment, ``m2i, sd2i, n2i`` control), ``direction_flipped`` (TRUE: the study's
    scale runs the other way, so ``yi`` has the opposite sign of what its means give), the effect ``yi, vi`` and ``sei`` =
    sqrt(vi), and the ``weight`` in percent, as the report.  The data columns follow the analysis's data
    kind (metafor's names): continuous as above (NMD adds the sham group ``msi, sdsi, nsi``); dichotomous
    ``ai, n1i, ci, n2i`` (events and totals per arm; ``metafor::rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, ...)``
    re-runs a Mantel-Haenszel analysis); generic ``estimate, ci_lb_reported, ci_ub_reported, se_reported,
    reported_scale`` as the study reported them, with ``n1i, n2i`` when given.  ``yi``, ``vi`` are on the
    model scale (logs for ratio measures: OR, RR, Peto OR, ROM, HR); ``yi_exp`` and the study's CI
    ``ci_lb_exp, ci_ub_exp`` give the ratios; ``estimable`` is FALSE for a study with no events in either arm
    (no ratio, empty ``yi``); ``converted`` names the arms whose mean and SD were estimated from a median
    with IQR/range (Luo et al. 2018; Wan et al. 2014), when an analysis has any;
``pooled.csv``
    one row per analysis, in the report's order: its pooled result and heterogeneity (``I2`` in percent);
``index.csv``
    ``file, description``: pooled.csv, then each analysis's file.

Numbers are written in full (the repr of the float, as results.json holds it), true/false as TRUE/FALSE
(R's ``read.csv`` reads them as logical, as pandas does) and a missing value as an empty cell, so that
``metafor::rma(yi, vi, data = read.csv(...))`` refits an analysis.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from livingmeta.report import indexed

FOLDER = "data"  # in results/report/ and in every published version
POOLED = "pooled.csv"
STUDY_COLUMNS = ("study", "label", "provenance", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "direction_flipped",
                 "yi", "vi", "sei", "weight")
KIND_COLUMNS = {
    "dichotomous": ("study", "label", "provenance", "ai", "n1i", "ci", "n2i", "direction_flipped", "estimable",
                    "yi", "vi", "sei", "weight"),
    "generic": ("study", "label", "provenance", "estimate", "ci_lb_reported", "ci_ub_reported", "se_reported",
                "reported_scale", "n1i", "n2i", "direction_flipped", "yi", "vi", "sei", "weight"),
}
RATIO_COLUMNS = ("yi_exp", "ci_lb_exp", "ci_ub_exp")
NMD_COLUMNS = ("msi", "sdsi", "nsi")
POOLED_COLUMNS = ("analysis", "outcome", "label", "timepoint", "measure", "method", "test", "k", "estimate", "se",
                  "ci_lb", "ci_ub", "pi_lb", "pi_ub", "pval", "tau2", "I2", "Q", "Q_df", "Q_pval", "illustrative",
                  "scale", "estimate_exp", "ci_lb_exp", "ci_ub_exp", "pi_lb_exp", "pi_ub_exp")
INDEX_COLUMNS = ("file", "description")
POOLED_DESCRIPTION = ("One row per analysis: the pooled estimate, its confidence and prediction intervals and "
                      "test, and the heterogeneity (tau2, I2 in percent, Q)")


def cell(value: Any) -> str:
    """A value of results.json as a CSV cell: a number in full (its repr), TRUE/FALSE, empty when missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return repr(value) if isinstance(value, float) else str(value)


def standard_error(vi: Any) -> float | None:
    """``sei`` = sqrt(vi), as metafor; None when the variance is missing."""
    return math.sqrt(vi) if isinstance(vi, (int, float)) and not isinstance(vi, bool) else None


COMPARISON_COLUMNS = ("comparison", "experiment", "control_group")


def study_columns(analysis: dict) -> tuple[str, ...]:
    """The columns of an analysis's file: those of its data kind (the kind of most of its studies; a study
    of another kind leaves those cells empty and fills its own, added at the end), then the ratios."""
    studies = analysis.get("studies") or []
    kinds = [s.get("kind") or "continuous" for s in studies]
    main = max(("continuous", "dichotomous", "generic"), key=kinds.count) if kinds else "continuous"
    cols = list(KIND_COLUMNS.get(main, STUDY_COLUMNS))
    if str(analysis.get("measure")).upper() == "NMD":
        cols[cols.index("n2i") + 1:cols.index("n2i") + 1] = NMD_COLUMNS
    if any(s.get("converted") for s in studies):   # arms whose mean and SD were estimated from a median
        cols.insert(cols.index("direction_flipped"), "converted")
    for kind in sorted(set(kinds) - {main}):
        cols += [c for c in KIND_COLUMNS.get(kind, STUDY_COLUMNS) if c not in cols]
    if any(s.get("comparison") or s.get("combined_from") for s in studies):
        # several comparisons per study: the structure rma.mv needs (random = ~ 1 | study/experiment/comparison;
        # shared controls: vcalc(vi, study, grp1 = comparison, grp2 = control_group, w1 = n1i, w2 = n2i))
        cols[cols.index("label"):cols.index("label")] = list(COMPARISON_COLUMNS)
    if analysis.get("scale") == "log":
        cols += RATIO_COLUMNS
    return tuple(cols)


def study_row(study: dict, flipped: bool | None = None, columns: tuple[str, ...] = STUDY_COLUMNS) -> list[str]:
    """The cells of one study of an analysis (a per-study row of results.json) in ``columns``
    (:data:`STUDY_COLUMNS` for continuous data); ``flipped``: the study's scale runs the other way, so ``yi``
    has the opposite sign of what its data give."""
    values = {**study, "sei": standard_error(study.get("vi")), "direction_flipped": flipped}
    if "estimate_reported" in study:
        values["estimate"] = study["estimate_reported"]
    return [cell(values.get(column)) for column in columns]


def flipped_effects(results: dict) -> dict[tuple[str, str], bool]:
    """``(study, analysis) -> direction_flipped`` from the study list of results.json."""
    return {(s.get("study"), e.get("analysis")): e.get("direction_flipped")
            for s in results.get("studies") or [] for e in s.get("effects") or []}


def pooled_row(analysis: dict) -> list[str]:
    """The cells of one analysis of results.json in :data:`POOLED_COLUMNS`."""
    return [cell(analysis.get(column)) for column in POOLED_COLUMNS]


def analysis_file(analysis: dict) -> str:
    """The file of an analysis: ``dhi__4_weeks.csv``."""
    return f"{analysis['analysis']}.csv"


def description(analysis: dict) -> str:
    """The index's description of an analysis's file, e.g. "Disc height index (DHI), 4 weeks (SMD, k = 5):
    one row per study in the forest plot's order"."""
    text = (f"{analysis.get('label')}, {analysis.get('timepoint')} ({analysis.get('measure')}, "
            f"k = {analysis.get('k')}): one row per study in the forest plot's order")
    return text + "; illustrative numbers, not evidence" if analysis.get("illustrative") else text


def data_files(results: dict) -> dict[str, str]:
    """The CSV text of every file the index lists, by file name: pooled.csv, then one per analysis."""
    analyses = results.get("analyses") or []
    files = {POOLED: indexed.csv_text(POOLED_COLUMNS, map(pooled_row, analyses))}
    flipped = flipped_effects(results)
    for analysis in analyses:
        columns = study_columns(analysis)
        rows = [study_row(s, flipped.get((s.get("study"), analysis.get("analysis"))), columns)
                for s in analysis.get("studies") or []]
        files[analysis_file(analysis)] = indexed.csv_text(columns, rows)
    files.update({name: text for name, (_, text) in _synthesis_files(results).items()})  # SWiM tables
    return files


def index_csv(results: dict) -> str:
    """``file,description``: pooled.csv, then each analysis's file in the report's order."""
    rows = [(analysis_file(a), description(a)) for a in results.get("analyses") or []]
    rows += [(name, text) for name, (text, _) in _synthesis_files(results).items()]
    return indexed.csv_text(INDEX_COLUMNS, [(POOLED, POOLED_DESCRIPTION), *rows])


def _synthesis_files(results: dict) -> dict[str, tuple[str, str]]:
    from livingmeta.report.swim_data import synthesis_files

    return synthesis_files(results)


def write_data(results: dict, index_path: str | os.PathLike) -> list[str]:
    """Write the data files of ``results`` (results.json's content) beside ``index_path`` and then the index
    itself, so that it lists only files in place; CSV files of an earlier report there are removed first.
    Returns the names of the files written before the index."""
    files = data_files(results)
    indexed.write_listed(index_path, files, index_csv(results), stale="*.csv")
    return list(files)


def listed_files(index_path: str | os.PathLike) -> dict[str, Path]:
    """The index and the data files it lists, by their path in a published version (``data/index.csv``,
    ``data/<file>``)."""
    return indexed.listed_files(index_path, FOLDER, "data")
