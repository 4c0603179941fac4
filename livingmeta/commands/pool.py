"""``livingmeta pool FILE.csv``: pool one table of studies and print the result as JSON.

Columns (metafor's names): ``study, yi, vi``; or per-arm means ``study, m1i, sd1i, n1i, m2i, sd2i,
n2i`` (arm 1 = treatment; per-arm SEs may be given as ``se1i``/``se2i`` instead of SDs; NMD also needs the
sham group's mean ``msi``); or events and totals ``study, ai, n1i, ci, n2i`` (or non-events ``bi``, ``di``;
``--measure`` OR (default), RR, RD, PETO; ``--method MH`` or ``--method PETO`` pool the 2x2 tables as
metafor's ``rma.mh()`` and ``rma.peto()``).  Ratio measures are pooled on the log scale: ``estimate,
ci_lb, ci_ub`` (and ``pi_lb, pi_ub``) stay logs and ``estimate_exp, ci_lb_exp, ci_ub_exp, pi_lb_exp,
pi_ub_exp`` give the ratios.  A column named by ``--subgroup`` holds each study's subgroup.  Bad input gives one line
``livingmeta: error: ...`` on stderr and exit status 1, never a traceback.

Also runs standalone: ``python -m livingmeta.commands.pool FILE.csv [options]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys

from livingmeta.errors import ReviewInputError

ARM_COLUMNS = ("m1i", "n1i", "m2i", "n2i")
TABLE_COLUMNS = ("ai", "ci")
MEASURE_CHOICES = ("SMD", "MD", "ROM", "NMD", "OR", "RR", "RD", "PETO", "HR")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.csv", help="table with study, yi, vi or per-arm columns")
    parser.add_argument("--measure", choices=MEASURE_CHOICES, type=str.upper, default=None,
                        help="effect measure (default SMD for means, OR for events; with yi, vi: names their "
                             "measure, so that ratios are back-transformed)")
    parser.add_argument("--smd-variance", choices=("LS", "UB", "AV", "REVMAN5"), type=str.upper, default="LS",
                        help="SMD sampling variance (default LS, as metafor)")
    parser.add_argument("--method", choices=("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "MH", "PETO"),
                        type=str.upper, default="REML",
                        help="tau^2 estimator (default REML); MH (Mantel-Haenszel) or PETO for events and totals")
    parser.add_argument("--add", type=float, default=None, help="zero cells: value added (default 1/2, as metafor)")
    parser.add_argument("--to", choices=("only0", "all", "if0all", "none"), default=None,
                        help="zero cells: tables the value is added to (default only0, as metafor)")
    parser.add_argument("--keep00", action="store_true",
                        help="keep studies without events in both arms (default: not estimable for OR, RR, PETO)")
    parser.add_argument("--test", choices=("z", "knha"), default="knha",
                        help="z or Knapp-Hartung (knha, default)")
    parser.add_argument("--level", type=float, default=95.0, help="confidence level in percent (default 95)")
    parser.add_argument("--subgroup", metavar="COLUMN", help="column holding each study's subgroup")
    parser.add_argument("--tau2", choices=("separate", "common"), default="separate",
                        help="subgroup model: separate tau^2 per subgroup (default) or common tau^2")
    parser.add_argument("--leave-one-out", action="store_true", help="add a leave-one-out sensitivity analysis")
    add_multilevel_arguments(parser)


def _read_table(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.DictReader(fh, dialect=dialect)
            if not reader.fieldnames:
                raise ReviewInputError("the file is empty", file=path)
            header = [(h or "").strip() for h in reader.fieldnames]
            reader.fieldnames = header
            rows = [row for row in reader if any((val or "").strip() for val in row.values() if isinstance(val, str))]
    except FileNotFoundError:
        raise ReviewInputError("file not found", file=path) from None
    except IsADirectoryError:
        raise ReviewInputError("is a directory, not a CSV file", file=path) from None
    except UnicodeDecodeError:
        raise ReviewInputError("not a UTF-8 text file", file=path, hint="Save the table as CSV (UTF-8).") from None
    except csv.Error as exc:
        raise ReviewInputError(f"cannot read the CSV table ({exc})", file=path) from None
    if not rows:
        raise ReviewInputError("the table has no rows", file=path, hint="Add one row per study.")
    return header, rows


def _number(rows, col, labels, path, required=True):
    out = []
    for row, lab in zip(rows, labels):
        raw = (row.get(col) or "").strip()
        if raw == "" or raw.upper() in ("NA", "NAN"):
            if required:
                raise ReviewInputError(f"study {lab!r}: {col} is missing", file=path, field=col,
                                       hint="Fill in the value or remove the study from the table.")
            out.append(math.nan)
            continue
        try:
            out.append(float(raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw))
        except ValueError:
            raise ReviewInputError(f"study {lab!r}: {col} is not a number (got {raw!r})", file=path,
                                   field=col) from None
    return out


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def pool_table(path, *, measure=None, smd_variance="LS", method="REML", test="knha", level=95.0,
               subgroup=None, tau2="separate", leave_one_out=False, zero_cells=None):
    """Read and pool one CSV table; returns the JSON-ready dict (raises ReviewInputError)."""
    from livingmeta import stats
    from livingmeta.stats._validate import fmt_num

    try:
        lv = float(level)
    except (TypeError, ValueError):
        lv = math.nan
    if not 0.0 < lv < 100.0:
        raise ReviewInputError(f"--level must be a confidence level in percent between 0 and 100, exclusive "
                               f"(got {fmt_num(level)})", field="level", hint="Use e.g. --level 95")

    header, rows = _read_table(path)
    cols = set(header)
    if set(TABLE_COLUMNS) <= cols:
        return _pool_2x2(path, header, rows, measure=measure or "OR", method=method, test=test, level=level,
                         subgroup=subgroup, tau2=tau2, leave_one_out=leave_one_out, zero_cells=zero_cells)
    if str(method).upper() in ("MH", "PETO"):
        raise ReviewInputError(f"method {method} pools events and totals: the table needs columns ai, n1i, ci, n2i",
                               file=path, field="method", hint="Use an inverse-variance method (REML, DL, ...).")
    out = _pool_iv(path, header, rows, measure=measure, smd_variance=smd_variance, method=method, test=test,
                   level=level, subgroup=subgroup, tau2=tau2, leave_one_out=leave_one_out)
    if measure is not None:
        from livingmeta.stats import measures

        m = measures.get(measure)
        measures.back_transform(out, m)
        for item in out.get("subgroups", []) + out.get("leave_one_out", []):
            measures.back_transform(item, m)
            item.pop("measure", None)
            item.pop("scale", None)
    return out


def _labels(path, rows):
    labels = [(row.get("study") or "").strip() or f"row {i + 2}" for i, row in enumerate(rows)]
    seen = set()
    for lab in labels:
        if lab in seen:
            raise ReviewInputError(f"study {lab!r} appears twice", file=path, field="study",
                                   hint="Give every row a distinct study name.")
        seen.add(lab)
    return labels


def _pool_2x2(path, header, rows, *, measure, method, test, level, subgroup, tau2, leave_one_out, zero_cells):
    """Events and totals: OR/RR/RD/PETO effect sizes with metafor's zero-cell handling, pooled by inverse
    variance on the estimable studies or by Mantel-Haenszel / Peto on the tables."""
    from livingmeta import analyses
    from livingmeta.stats import escalc, measures
    from livingmeta.stats.binary import tables

    cols = set(header)
    if "study" not in cols:
        raise ReviewInputError(f"no 'study' column (columns: {', '.join(header)})", file=path,
                               hint="Name the column with the study names 'study'.")
    m = measures.get(measure)
    if m.kind != "dichotomous":
        raise ReviewInputError(f"columns ai, ci hold events, but --measure {m.name} is not a measure for events",
                               file=path, field="measure", hint="Use --measure OR, RR, RD or PETO.")
    labels = _labels(path, rows)
    counts = {}
    for c in ("ai", "ci", "bi", "di", "n1i", "n2i"):
        if c in cols:
            counts[c] = _number(rows, c, labels, path)
    try:
        ai, bi, ci, di, _ = tables(counts["ai"], counts["ci"], bi=counts.get("bi"), di=counts.get("di"),
                                   n1i=counts.get("n1i"), n2i=counts.get("n2i"), labels=labels)
        model = {"measure": m.name, "method": method, "test": test, "level": level, "prediction_interval": True,
                 "zero_cells": zero_cells or {}}
        zc = analyses.zero_cells(model)
        yi, vi = escalc(m.name, ai=ai, bi=bi, ci=ci, di=di, add=zc["add"], to=zc["to"], drop00=zc["drop00"],
                        labels=labels)
        rows_ = [{"study": lab, "label": lab, "kind": "dichotomous", "ai": int(a), "n1i": int(a + b), "ci": int(c),
                  "n2i": int(c + d), "yi": _num(y), "vi": _num(v)}
                 for lab, a, b, c, d, y, v in zip(labels, ai, bi, ci, di, yi, vi)]
        fit = analyses.fit_pooled(rows_, model)
    except ReviewInputError as exc:
        if exc.file is None:
            exc.file = str(path)
            exc.args = (exc.format(),)
        raise
    out = {"k": fit["k"], "measure": m.name, "scale": m.scale, "method": fit["method"], "test": fit["test"],
           "level": level}
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "tau2_ci_lb", "tau2_ci_ub", "I2", "H2",
                "Q", "Q_df", "Q_pval", "pi_lb", "pi_ub", "estimate_exp", "ci_lb_exp", "ci_ub_exp", "pi_lb_exp",
                "pi_ub_exp", "MH", "MH_pval", "CO", "CO_pval", "BD", "BD_pval", "TA", "TA_pval"):
        if key in fit:
            out[key] = fit[key]
    if str(method).upper() in analyses.POOLING_METHODS:
        out["zero_cells"] = zc
    out["studies"] = [{"study": r["study"], "ai": r["ai"], "n1i": r["n1i"], "ci": r["ci"], "n2i": r["n2i"],
                       "yi": r["yi"], "vi": r["vi"], "estimable": r["yi"] is not None, "weight": w}
                      for r, w in zip(rows_, fit["weights"])]
    out["warnings"] = list(fit.get("warnings") or [])
    if subgroup:
        if subgroup not in cols:
            raise ReviewInputError(f"no column {subgroup!r} for --subgroup (columns: {', '.join(header)})",
                                   file=path)
        groups = {lab: {"g": (row.get(subgroup) or "").strip()} for lab, row in zip(labels, rows)}
        sg = analyses.subgroups_for_analysis(rows_, groups, {}, model, [{"variable": "g"}], tau2)["subgroups"][0]
        out["subgroups"] = [{k: lev.get(k) for k in ("level", "k", "estimate", "ci_lb", "ci_ub", "tau2", "I2",
                                                      "estimate_exp", "ci_lb_exp", "ci_ub_exp") if k in lev}
                            for lev in sg["levels"]]
        for key in ("Q_between", "Q_between_df", "Q_between_pval"):
            out[key] = sg[key]
        if sg.get("note"):
            out["warnings"].append(sg["note"])
    if leave_one_out:
        loo = analyses.leave_one_out_for_analysis(rows_, {}, model)
        out["leave_one_out"] = [{k: r.get(k) for k in ("omitted", "estimate", "ci_lb", "ci_ub", "tau2", "I2",
                                                        "estimate_exp", "ci_lb_exp", "ci_ub_exp") if k in r}
                                for r in loo["leave_one_out"]]
    return out


def _pool_iv(path, header, rows, *, measure, smd_variance, method, test, level, subgroup, tau2, leave_one_out):
    from livingmeta import stats

    cols = set(header)
    if "study" not in cols:
        raise ReviewInputError(f"no 'study' column (columns: {', '.join(header)})", file=path,
                               hint="Name the column with the study names 'study'.")
    labels = _labels(path, rows)
    try:
        if {"yi", "vi"} <= cols:
            yi = _number(rows, "yi", labels, path)
            vi = _number(rows, "vi", labels, path)
        elif set(ARM_COLUMNS) <= cols:
            measure = measure or "SMD"
            arms = {c: _number(rows, c, labels, path) for c in ARM_COLUMNS}
            for arm in ("1", "2"):
                if f"sd{arm}i" in cols:
                    arms[f"sd{arm}i"] = _number(rows, f"sd{arm}i", labels, path)
                elif f"se{arm}i" in cols:
                    arms[f"se{arm}i"] = _number(rows, f"se{arm}i", labels, path)
                else:
                    raise ReviewInputError(f"no sd{arm}i (or se{arm}i) column", file=path,
                                           hint="Per-arm input needs study, m1i, sd1i, n1i, m2i, sd2i, n2i.")
            if measure == "NMD":
                if "msi" not in cols:
                    raise ReviewInputError("--measure NMD needs the sham group's mean in a column msi", file=path,
                                           field="msi")
                arms["sham_mi"] = _number(rows, "msi", labels, path)
            elif measure not in ("SMD", "MD", "ROM"):
                raise ReviewInputError(f"columns m1i, m2i hold means, but --measure {measure} is not a measure for "
                                       "means", file=path, field="measure", hint="Use SMD, MD, ROM or NMD.")
            yi, vi = stats.escalc(measure, vtype=smd_variance, labels=labels, **arms)
        else:
            raise ReviewInputError(
                f"need columns study, yi, vi; study, m1i, sd1i, n1i, m2i, sd2i, n2i; or study, ai, n1i, ci, n2i "
                f"(got {', '.join(header)})", file=path)
        res = stats.rma(yi, vi, method=method, test=test, level=level, labels=labels)
    except ReviewInputError as exc:
        if exc.file is None:
            exc.file = str(path)
            exc.args = (exc.format(),)
        raise
    d = res.to_dict()
    out = {"k": d["k"], "measure": measure, "method": d["method"], "test": d["test"], "level": level}
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "tau2_ci_lb", "tau2_ci_ub", "I2", "H2",
                "Q", "Q_df", "Q_pval", "pi_lb", "pi_ub"):
        out[key] = d[key]
    out["studies"] = [{"study": lab, "yi": _num(y), "vi": _num(v), "weight": w}
                      for lab, y, v, w in zip(labels, yi, vi, d["weights"])]
    out["warnings"] = d["warnings"]
    if subgroup:
        if subgroup not in cols:
            raise ReviewInputError(f"no column {subgroup!r} for --subgroup (columns: {', '.join(header)})",
                                   file=path)
        groups = [(row.get(subgroup) or "").strip() for row in rows]
        try:
            sg = stats.subgroup_analysis(yi, vi, groups, method=method, test=test, level=level, tau2=tau2,
                                         labels=labels)
        except ReviewInputError as exc:
            exc.file = exc.file or str(path)
            exc.args = (exc.format(),)
            raise
        out["subgroups"] = [{"level": r["level"], "k": r["k"], "estimate": r["estimate"], "ci_lb": r["ci_lb"],
                             "ci_ub": r["ci_ub"], "tau2": r["tau2"], "I2": r["I2"]} for r in sg["levels"]]
        out["tau2_model"] = tau2
        for key in ("Q_between", "Q_between_df", "Q_between_pval"):
            out[key] = sg[key]
        if sg.get("Q_between_df2") is not None:
            out["Q_between_df2"] = sg["Q_between_df2"]
        out["Q_between_test"] = sg["Q_between_test"]
        out["warnings"] = out["warnings"] + sg["warnings"]
    if leave_one_out:
        loo = stats.leave_one_out(yi, vi, method=method, test=test, level=level, labels=labels)
        out["leave_one_out"] = [{"omitted": r["study"], "estimate": r["estimate"], "ci_lb": r["ci_lb"],
                                 "ci_ub": r["ci_ub"], "tau2": r["tau2"], "I2": r["I2"]} for r in loo]
    return out


def run(args) -> int:
    if getattr(args, "multilevel", False):
        return run_multilevel(args)
    try:
        zero_cells = {"add": args.add, "to": args.to, "drop00": False if args.keep00 else None}
        out = pool_table(args.file, measure=args.measure, smd_variance=args.smd_variance, method=args.method,
                         test=args.test, level=args.level, subgroup=args.subgroup, tau2=args.tau2,
                         leave_one_out=args.leave_one_out, zero_cells=zero_cells)
    except ReviewInputError as exc:
        print(f"livingmeta: error: {exc.format()}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2, allow_nan=False))
    return 0


# --------------------------------------------------------------------------------------------------
# --multilevel: several comparisons per study (livingmeta.stats.rma_mv)
# --------------------------------------------------------------------------------------------------

def add_multilevel_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--multilevel", action="store_true",
                        help="several comparisons per study: three-level model (metafor rma.mv, random = "
                             "~ 1 | study/comparison, or study/experiment/comparison); the table needs columns "
                             "study and comparison (optional experiment, control_group)")
    parser.add_argument("--shared-control", choices=("covariance", "split"), default="covariance",
                        help="with --multilevel and a control_group column: model the covariance of comparisons "
                             "sharing a control (metafor vcalc, default) or split the control's n among them")
    parser.add_argument("--robust", action="store_true",
                        help="with --multilevel: add cluster-robust CR2 tests at the study level (clubSandwich)")
    parser.add_argument("--moderator", metavar="COLUMN", action="append", default=None,
                        help="with --multilevel: a moderator column (numbers: a slope; text: a factor, first level "
                             "in sorted order as reference); repeat for several; adds coefficients and the QM test")


def run_multilevel(args) -> int:
    try:
        out = pool_multilevel(args.file, measure=args.measure, smd_variance=args.smd_variance, method=args.method,
                              test=args.test, level=args.level, shared_control=args.shared_control,
                              robust=args.robust, moderators=args.moderator)
    except ReviewInputError as exc:
        print(f"livingmeta: error: {exc.format()}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2, allow_nan=False))
    return 0


def _ids(rows, col, path, labels, required=True):
    out = []
    for row, lab in zip(rows, labels):
        val = (row.get(col) or "").strip()
        if not val and required:
            raise ReviewInputError(f"{lab}: {col} is empty", file=path, field=col,
                                   hint=f"Give every row a {col} id.")
        out.append(val)
    return out


def pool_multilevel(path, *, measure=None, smd_variance="LS", method="REML", test="knha", level=95.0,
                    shared_control="covariance", robust=False, moderators=None):
    """``livingmeta pool FILE.csv --multilevel``: read the table and fit the multilevel model; JSON-ready dict.

    Columns: ``study``, ``comparison`` (unique within study/experiment), optional ``experiment`` (independent
    cohorts within a study) and ``control_group`` (rows of one study with the same id share that control
    arm); and ``yi, vi`` (with ``n1i, n2i`` when control groups are shared) or per-arm
    ``m1i, sd1i (se1i), n1i, m2i, sd2i (se2i), n2i``.  With per-arm data, a shared control's ``m2i, sd2i,
    n2i`` may be given on one of its rows only (the others left empty).  ``test``: "knha" (default) means
    t tests with metafor's ``dfs = "contain"``; "z" means z tests.
    """
    import numpy as np

    from livingmeta import stats
    from livingmeta.stats import measures

    header, rows = _read_table(path)
    cols = set(header)
    for need in ("study", "comparison"):
        if need not in cols:
            raise ReviewInputError(f"--multilevel needs a {need!r} column (columns: {', '.join(header)})", file=path,
                                   hint="One row per comparison: study, comparison, then yi, vi or per-arm data.")
    meth = str(method).upper()
    if meth not in ("REML", "ML"):
        raise ReviewInputError(f"the multilevel model is fitted by REML or ML, not {method}", file=path,
                               field="method", hint="Use --method REML (default) or ML.")
    labels = [f"row {i + 2}" for i in range(len(rows))]
    study = _ids(rows, "study", path, labels)
    comparison = _ids(rows, "comparison", path, labels)
    experiment = _ids(rows, "experiment", path, labels) if "experiment" in cols else None
    control = _ids(rows, "control_group", path, labels, required=False) if "control_group" in cols else None
    labels = [f"{s} / {e} / {c}" if experiment else f"{s} / {c}"
              for s, e, c in zip(study, experiment or [""] * len(rows), comparison)]
    seen = {}
    for i, lab in enumerate(labels):
        if lab in seen:
            raise ReviewInputError(f"comparison {comparison[i]!r} of study {study[i]!r} is used twice (rows "
                                   f"{seen[lab] + 2} and {i + 2})", file=path, field="comparison",
                                   hint="Give every comparison of a study its own id.")
        seen[lab] = i
    # shared control groups: key (study, control_group) -> rows
    shared = {}
    if control is not None:
        for i, (s_, c_) in enumerate(zip(study, control)):
            if c_:
                shared.setdefault((s_, c_), []).append(i)
    measure = measure.upper() if measure else None
    split_n = None
    try:
        if {"yi", "vi"} <= cols:
            yi = _number(rows, "yi", labels, path)
            vi = _number(rows, "vi", labels, path)
            n1 = n2 = None
            if any(len(r) > 1 for r in shared.values()):
                if shared_control == "split":
                    raise ReviewInputError("--shared-control split needs per-arm data (m1i, sd1i, n1i, m2i, sd2i, "
                                           "n2i)", file=path, field="shared_control")
                if not {"n1i", "n2i"} <= cols:
                    raise ReviewInputError("comparisons share a control group: the covariance needs the group "
                                           "sizes n1i and n2i beside yi, vi", file=path, field="n2i")
                n1 = _number(rows, "n1i", labels, path)
                n2 = _number(rows, "n2i", labels, path)
        elif set(ARM_COLUMNS) <= cols:
            measure = measure or "SMD"
            if measure not in ("SMD", "MD", "ROM"):
                raise ReviewInputError(f"--multilevel with per-arm means supports SMD, MD and ROM (got {measure})",
                                       file=path, field="measure")
            arms = {c: _number(rows, c, labels, path, required=c in ("m1i", "n1i")) for c in ARM_COLUMNS}
            for arm in ("1", "2"):
                for pre in ("sd", "se"):
                    if f"{pre}{arm}i" in cols:
                        arms[f"{pre}{arm}i"] = _number(rows, f"{pre}{arm}i", labels, path, required=arm == "1")
                        break
                else:
                    raise ReviewInputError(f"no sd{arm}i (or se{arm}i) column", file=path,
                                           hint="Per-arm input needs m1i, sd1i, n1i, m2i, sd2i, n2i.")
            ctrl_cols = [c for c in ("m2i", "sd2i", "se2i", "n2i") if c in arms]
            for (s_, c_), idx in shared.items():
                defined = [i for i in idx if all(math.isfinite(arms[c][i]) for c in ctrl_cols)]
                if not defined:
                    raise ReviewInputError(f"study {s_!r}: shared control {c_!r} is named but not defined (no row "
                                           f"gives its {', '.join(ctrl_cols)})", file=path, field="control_group",
                                           hint="Fill in the control arm's mean, SD and n on one of its rows.")
                ref_i = defined[0]
                for i in idx:
                    for c in ctrl_cols:
                        if not math.isfinite(arms[c][i]):
                            arms[c][i] = arms[c][ref_i]
                        elif arms[c][i] != arms[c][ref_i]:
                            raise ReviewInputError(f"study {s_!r}: shared control {c_!r} has {c} = {arms[c][ref_i]:g} "
                                                   f"in row {ref_i + 2} but {arms[c][i]:g} in row {i + 2}",
                                                   file=path, field=c, hint="Give the shared control's data once.")
            for i, lab in enumerate(labels):
                for c in ctrl_cols:
                    if not math.isfinite(arms[c][i]):
                        raise ReviewInputError(f"{lab}: {c} is missing", file=path, field=c,
                                               hint="Fill in the control arm, or name a shared control_group.")
            n1 = list(arms["n1i"])
            n2 = list(arms["n2i"])
            if shared_control == "split":
                split_n = {}
                for (s_, c_), idx in shared.items():
                    if len(idx) < 2:
                        continue
                    n_c = int(n2[idx[0]])
                    if n_c // len(idx) < 2:
                        raise ReviewInputError(f"study {s_!r}: shared control {c_!r} (n = {n_c}) split over "
                                               f"{len(idx)} comparisons leaves fewer than 2 per comparison",
                                               file=path, field="n2i",
                                               hint="Use --shared-control covariance for this table.")
                    for i, n_i in zip(idx, stats.split_shared_control(n_c, len(idx))):
                        arms["n2i"][i] = n_i
                        split_n[labels[i]] = n_i
            yi, vi = stats.escalc(measure, vtype=smd_variance, labels=labels, **arms)
        else:
            raise ReviewInputError(f"--multilevel needs columns yi, vi or m1i, sd1i, n1i, m2i, sd2i, n2i "
                                   f"(got {', '.join(header)})", file=path)
        vi = np.asarray(vi, dtype=float)
        V = vi
        cov_method = None
        if shared_control == "covariance" and any(len(r) > 1 for r in shared.values()):
            V = stats.shared_control_V(vi, study, control, n1, n2)
            cov_method = "vcalc"
        elif split_n:
            cov_method = "split"
        mods = None
        if moderators:
            mods = {}
            for col in moderators:
                if col not in cols:
                    raise ReviewInputError(f"no column {col!r} for --moderator (columns: {', '.join(header)})",
                                           file=path, field=col)
                raw = [(row.get(col) or "").strip() for row in rows]
                for lab, r in zip(labels, raw):
                    if not r:
                        raise ReviewInputError(f"{lab}: moderator {col} is empty", file=path, field=col,
                                               hint="Fill in the moderator or leave the row out.")
                try:
                    mods[col] = [float(r) for r in raw]
                except ValueError:
                    mods[col] = raw
        t = str(test).lower()
        fit = stats.rma_mv(yi, V, study=study, experiment=experiment, comparison=comparison, mods=mods, method=meth,
                           test="z" if t == "z" else "t", dfs="residual" if t == "z" else "contain", level=level)
    except ReviewInputError as exc:
        if exc.file is None:
            exc.file = str(path)
            exc.args = (exc.format(),)
        raise
    d = fit.to_dict()
    out = {"k": d["k"], "n_studies": d["n_levels"][0], "measure": measure, "model": "multilevel",
           "random": "~ 1 | " + "/".join(d["sigma2_levels"]), "method": d["method"], "test": d["test"],
           "dfs": d["dfs"], "level": level}
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "ddf", "pi_lb", "pi_ub", "sigma2", "sigma2_levels",
                "n_levels", "I2", "I2_total", "QE", "QE_df", "QE_pval", "logLik"):
        out[key] = d.get(key)
    out["shared_control"] = cov_method
    if mods:
        for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "ddf", "pi_lb", "pi_ub"):
            out.pop(key, None)
        out["coefficients"] = d["coefficients"]
        out["QM"], out["QM_df"], out["QM_pval"] = d["QM"], d["QM_df"], d["QM_pval"]
    if robust and mods:
        cr = stats.robust_cr2(fit)
        out["robust"] = {"vcov_type": "CR2", "df_type": "Satterthwaite", "cluster": "study",
                         "n_clusters": cr["n_clusters"],
                         "coefficients": [{"name": n, "estimate": _num(b), "se": _num(se_), "tval": _num(tv),
                                           "df": _num(df_), "pval": _num(pv), "ci_lb": _num(lo), "ci_ub": _num(hi)}
                                          for n, b, se_, tv, df_, pv, lo, hi in zip(
                                              cr["coef_names"], cr["beta"], cr["se"], cr["tval"], cr["df"],
                                              cr["pval"], cr["ci_lb"], cr["ci_ub"])],
                         "wald": cr["wald"]}
    elif robust:
        cr = stats.robust_cr2(fit)
        out["robust"] = {"vcov_type": "CR2", "df_type": "Satterthwaite", "cluster": "study",
                         "n_clusters": cr["n_clusters"], "estimate": _num(cr["beta"][0]), "se": _num(cr["se"][0]),
                         "tval": _num(cr["tval"][0]), "df": _num(cr["df"][0]), "pval": _num(cr["pval"][0]),
                         "ci_lb": _num(cr["ci_lb"][0]), "ci_ub": _num(cr["ci_ub"][0])}
    out["comparisons"] = [
        {"study": s_, **({"experiment": e_} if experiment else {}), "comparison": c_,
         **({"control_group": g_ or None} if control is not None else {}), "yi": _num(y), "vi": _num(v),
         **({"n2i_split": split_n[lab]} if split_n and lab in split_n else {})}
        for s_, e_, c_, g_, y, v, lab in zip(study, experiment or [None] * len(rows), comparison,
                                             control or [None] * len(rows), yi, vi, labels)]
    out["warnings"] = d["warnings"]
    if measure is not None:
        m = measures.get(measure)
        measures.back_transform(out, m)
        if "robust" in out and not mods:
            measures.back_transform(out["robust"], m)
            out["robust"].pop("measure", None)
            out["robust"].pop("scale", None)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="livingmeta pool", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
