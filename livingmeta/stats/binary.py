"""Effect sizes from 2x2 tables (events and totals per arm): metafor's ``escalc()`` for OR, RR, RD and PETO.

Arm 1 is the treatment arm (``ai`` events of ``n1i``), arm 2 the control arm (``ci`` events of ``n2i``);
``bi = n1i - ai`` and ``di = n2i - ci`` are the non-events, as in metafor.  Zero cells are handled as
metafor 3.8-1's ``escalc()`` handles them:

* ``drop00``: a study with no events (or only events) in both arms gets no effect size (NaN) -- it
  is not estimable for a ratio measure (Cochrane Handbook 10.4.4.2);
* ``to``: to which tables ``add`` is added: ``"only0"`` (tables with a zero cell, metafor's default),
  ``"all"``, ``"if0all"`` (all tables if any has a zero cell) or ``"none"``;
* ``add``: the continuity correction (1/2 by default).

Formulas (metafor ``escalc()``; Fleiss & Berlin 2009 in *The Handbook of Research Synthesis and
Meta-Analysis*, ch. 13): log odds ratio ``log(a d / (b c))`` with variance ``1/a + 1/b + 1/c + 1/d``;
log risk ratio ``log(p1 / p2)`` with variance ``1/a - 1/n1 + 1/c - 1/n2``; risk difference
``p1 - p2`` with variance ``p1 (1 - p1) / n1 + p2 (1 - p2) / n2`` (vtype "LS"); Peto's log odds ratio
(Yusuf et al. 1985, Prog Cardiovasc Dis 27:335) ``(a - E) / V`` with ``E = (a + c) n1 / N`` and
``V = (a + c)(b + d) n1 n2 / (N^2 (N - 1))``, variance ``1 / V``.  Validated against metafor 3.8-1 on
``dat.bcg``, ``dat.yusuf1985``, ``dat.nielweise2007`` and seeded rare-event data sets
(``validation/metafor/reference/binary_*.json``).
"""

from __future__ import annotations

import numpy as np

from livingmeta.errors import ReviewInputError

from ._validate import fmt_num, plain, study_labels


BINARY_MEASURES = ("OR", "RR", "RD", "PETO")
ZERO_TO = ("only0", "all", "if0all", "none")


def _first(bad, labels):
    i = int(np.flatnonzero(bad)[0])
    n_bad = int(bad.sum())
    more = f" ({n_bad - 1} more studies have the same problem)" if n_bad > 1 else ""
    return i, labels[i], more


def tables(ai, ci, *, bi=None, di=None, n1i=None, n2i=None, labels=None, studies=None):
    """Validated 2x2 tables ``(ai, bi, ci, di, labels)`` as float arrays from events and totals (or
    non-events).  Counts must be whole numbers >= 0 and events <= totals; raises ``ReviewInputError``
    naming the study otherwise."""
    cols = {"ai": ai, "ci": ci, "bi": bi, "di": di, "n1i": n1i, "n2i": n2i}
    arrs = {}
    n = None
    for name, val in cols.items():
        if val is None:
            continue
        try:
            a = np.atleast_1d(np.asarray(val, dtype=float))
        except (TypeError, ValueError):
            raise ReviewInputError(f"{name} must be counts (got {plain(val)})", field=name) from None
        if n is not None and a.shape[0] != n and a.shape[0] != 1:
            raise ReviewInputError(f"{name} has {a.shape[0]} values but there are {n} studies", field=name,
                                   hint="Give one value per study (lengths must match).")
        n = a.shape[0] if n is None else n
        arrs[name] = a
    labels = study_labels(n or 0, labels, studies)
    for arm, (ev, non, tot) in {"1": ("ai", "bi", "n1i"), "2": ("ci", "di", "n2i")}.items():
        if ev not in arrs or (non not in arrs and tot not in arrs):
            raise ReviewInputError(f"arm {arm} needs its events ({ev}) and its total ({tot}) or non-events ({non})",
                                   field=ev)
    for name, a in arrs.items():
        arrs[name] = np.broadcast_to(a, (n,)).astype(float)
        a = arrs[name]
        bad = ~np.isfinite(a)
        if bad.any():
            i, lab, more = _first(bad, labels)
            raise ReviewInputError(f"study {lab!r}: {name} is missing or not finite{more}", field=name,
                                   hint="Fill in the count, or leave the study out of this analysis.")
        bad = a < 0
        if bad.any():
            i, lab, more = _first(bad, labels)
            raise ReviewInputError(f"study {lab!r}: {name} must be >= 0 (got {a[i]:g}){more}", field=name,
                                   hint="Counts of events and participants cannot be negative.")
        bad = a != np.round(a)
        if bad.any():
            i, lab, more = _first(bad, labels)
            raise ReviewInputError(f"study {lab!r}: {name} must be a whole number (got {a[i]:g}){more}",
                                   field=name, hint="Give counts of events and participants, not percentages.")
    out = {}
    for ev, non, tot in (("ai", "bi", "n1i"), ("ci", "di", "n2i")):
        a = arrs[ev]
        if tot in arrs:
            t = arrs[tot]
            bad = a > t
            if bad.any():
                i, lab, more = _first(bad, labels)
                raise ReviewInputError(f"study {lab!r}: {ev} = {a[i]:g} events is more than the {t[i]:g} in "
                                       f"the arm ({tot}){more}", field=ev,
                                       hint="Check the events and the total of this arm.")
            if non in arrs and np.any(arrs[non] != t - a):
                i, lab, more = _first(arrs[non] != t - a, labels)
                raise ReviewInputError(f"study {lab!r}: {tot} is not {ev} + {non}{more}", field=tot)
            b = t - a
        else:
            b = arrs[non]
        out[ev], out[non] = a, b
    return out["ai"], out["bi"], out["ci"], out["di"], labels


def zero_cell_defaults(measure):
    """The zero-cell options livingmeta uses for ``measure`` (metafor's rma.mh()/rma.peto() defaults):
    add 1/2 to tables with a zero cell; drop studies without events in both arms for ratio measures."""
    return {"add": 0.5, "to": "only0", "drop00": str(measure).upper() != "RD"}


def escalc_2x2(measure, ai, ci, *, n1i=None, n2i=None, bi=None, di=None, add=0.5, to="only0",
               drop00=False, labels=None, studies=None):
    """``(yi, vi)`` for ``measure`` OR, RR, RD or PETO, as metafor's ``escalc()`` with the same
    ``add``, ``to`` and ``drop00`` (metafor's defaults: 1/2, "only0", False).  Studies dropped by
    ``drop00`` get NaN, as in metafor."""
    measure = str(measure).upper()
    if measure not in BINARY_MEASURES:
        raise ReviewInputError(f"unknown measure {measure!r} for events and totals", field="measure",
                               hint=f"Use one of {', '.join(BINARY_MEASURES)}.")
    if to not in ZERO_TO:
        raise ReviewInputError(f"unknown zero-cell option to={to!r}", field="to", hint=f"Use one of {', '.join(ZERO_TO)}.")
    try:
        add = float(add)
    except (TypeError, ValueError):
        raise ReviewInputError(f"the continuity correction must be a number (got {add!r})", field="add") from None
    if not add >= 0:
        raise ReviewInputError(f"the continuity correction must be >= 0 (got {fmt_num(add)})", field="add")
    a, b, c, d, labels = tables(ai, ci, bi=bi, di=di, n1i=n1i, n2i=n2i, labels=labels, studies=studies)
    a, b, c, d = a.copy(), b.copy(), c.copy(), d.copy()
    if drop00:
        id00 = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        for x in (a, b, c, d):
            x[id00] = np.nan
    if to == "all":
        a, b, c, d = a + add, b + add, c + add, d + add
    elif to in ("only0", "if0all"):
        with np.errstate(invalid="ignore"):
            id0 = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        if to == "if0all":
            id0 = np.full(a.shape, bool(id0.any()))
        a, b, c, d = (np.where(id0, x + add, x) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / n1, c / n2
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "RD":
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # PETO
            N = n1 + n2
            xt, yt = a + c, b + d
            E = xt * n1 / N
            V = xt * yt * (n1 / N) * (n2 / N) / (N - 1)
            yi = (a - E) / V
            vi = 1 / V
    yi = np.where(np.isfinite(yi) & np.isfinite(vi), yi, np.nan)
    vi = np.where(np.isfinite(yi) & np.isfinite(vi), vi, np.nan)
    return yi, vi
