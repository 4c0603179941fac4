"""The effect measures: one table that every stage consults (study files, pooling, results.json, report).

An effect is (data kind, measure, scale).  Data kinds:

* ``continuous``: per arm mean, SD or SE, n (NMD also a sham/normal group's mean);
* ``dichotomous``: per arm events and total;
* ``generic``: a precomputed estimate per study with its SE or 95% CI (generic inverse variance).

Ratio measures (OR, RR, PETO, ROM, HR) live on the log scale inside (``scale`` "log": yi, estimate,
CI are log values) and are back-transformed with exp only for display (``*_exp`` keys); difference
measures have ``scale`` "raw".  Every measure can also be entered as a generic estimate on its own
scale (``scale: ratio`` for log measures, ``difference`` for raw ones); HR only as a generic estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from livingmeta.errors import ReviewInputError

KINDS = ("continuous", "dichotomous", "generic")

CONTINUOUS_FIELDS = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
DICHOTOMOUS_FIELDS = ("ai", "n1i", "ci", "n2i")
GENERIC_FIELDS = ("estimate", "ci_lb_reported", "ci_ub_reported", "se_reported")


@dataclass(frozen=True)
class Measure:
    name: str            # "OR"
    label: str           # "odds ratio"
    kind: str            # the data kind the measure is computed from (continuous, dichotomous, generic)
    scale: str           # "log" (ratio measures, pooled as logs) or "raw"
    methods: tuple = ()  # pooling methods besides inverse variance ("MH", "PETO")
    short: str = ""      # e.g. "log OR" for the model scale

    @property
    def ratio(self) -> bool:
        return self.scale == "log"

    @property
    def null(self) -> float:
        """The value of no effect on the display scale (1 for ratios, 0 for differences)."""
        return 1.0 if self.ratio else 0.0

    @property
    def fields(self) -> tuple:
        """Per-study data columns of this measure's own data kind (metafor's names)."""
        return {"continuous": CONTINUOUS_FIELDS, "dichotomous": DICHOTOMOUS_FIELDS}.get(self.kind, GENERIC_FIELDS)

    def display(self, x):
        """Model scale -> display scale (exp for ratio measures); None stays None."""
        if x is None:
            return None
        x = float(x)
        if not math.isfinite(x):
            return None
        if not self.ratio:
            return x
        try:
            return math.exp(x)
        except OverflowError:
            return None

    def accepts(self, kind: str) -> bool:
        """Whether a study may give data of ``kind`` for this measure."""
        return kind == self.kind or kind == "generic"


MEASURES = {m.name: m for m in (
    Measure("SMD", "standardised mean difference (Hedges' g)", "continuous", "raw", short="SMD"),
    Measure("MD", "mean difference", "continuous", "raw", short="MD"),
    Measure("ROM", "ratio of means", "continuous", "log", short="log ROM"),
    Measure("NMD", "normalised mean difference (%)", "continuous", "raw", short="NMD"),
    Measure("OR", "odds ratio", "dichotomous", "log", ("MH",), short="log OR"),
    Measure("RR", "risk ratio", "dichotomous", "log", ("MH",), short="log RR"),
    Measure("RD", "risk difference", "dichotomous", "raw", ("MH",), short="RD"),
    Measure("PETO", "Peto odds ratio", "dichotomous", "log", ("PETO",), short="log Peto OR"),
    Measure("HR", "hazard ratio", "generic", "log", short="log HR"),
)}

POOLING_METHODS = ("MH", "PETO")


def get(name) -> Measure:
    """The measure named ``name`` (case-insensitive); ``ReviewInputError`` listing the choices otherwise."""
    key = str(name).upper()
    if key not in MEASURES:
        raise ReviewInputError(f"unknown effect measure {name!r}", field="measure",
                               hint=f"Use one of {', '.join(MEASURES)}.")
    return MEASURES[key]


def check_method(measure: Measure, method: str) -> None:
    """MH and PETO pooling need their measures (MH: OR, RR, RD; PETO: PETO)."""
    m = str(method).upper()
    if m in POOLING_METHODS and m not in measure.methods:
        allowed = [x.name for x in MEASURES.values() if m in x.methods]
        raise ReviewInputError(f"method {m} cannot pool the {measure.label} ({measure.name})", field="method",
                               hint=f"Method {m} pools {', '.join(allowed)} from events and totals; use an "
                                    "inverse-variance method (REML, DL, ...) for other measures.")


EXP_KEYS = (("estimate", "estimate_exp"), ("ci_lb", "ci_lb_exp"), ("ci_ub", "ci_ub_exp"),
            ("pi_lb", "pi_lb_exp"), ("pi_ub", "pi_ub_exp"))


def back_transform(doc: dict, measure) -> dict:
    """Add ``measure``, ``scale`` and, for ratio measures, ``estimate_exp, ci_lb_exp, ci_ub_exp, pi_lb_exp,
    pi_ub_exp`` to a pooled result (in place; returns it)."""
    m = get(measure) if not isinstance(measure, Measure) else measure
    doc["measure"] = m.name
    doc["scale"] = m.scale
    if m.ratio:
        for key, exp_key in EXP_KEYS:
            if key in doc:
                doc[exp_key] = m.display(doc[key])
    return doc


def generic_effect(estimate, *, se=None, ci_lb=None, ci_ub=None, scale="difference", level=95, se_tolerance=0.1,
                   where="study"):
    """``(yi, vi)`` of a precomputed estimate (generic inverse variance; Cochrane Handbook 6.3).

    ``scale``: ``"ratio"`` (OR, RR, HR ... as the paper prints them: logs are taken, the SE must then be
    the SE of the log) or ``"difference"``.  From a CI: SE = (upper - lower) / (2 z), on the log scale
    for ratios (Handbook 6.3.2 / 6.5.2.2; z = 1.959964 for 95%).  When both an SE and a CI are given, the
    SE is used and must agree with the CI's within ``se_tolerance`` (relative), so that a SE of the
    ratio itself (not of its log) or a CI of another level is caught.
    """
    from ._dist import norm_isf

    scale = str(scale).lower()
    if scale not in ("ratio", "difference"):
        raise ReviewInputError(f"{where}: unknown scale {scale!r}", field="scale",
                               hint="Use `scale: ratio` (OR, RR, HR ...) or `scale: difference` (MD, SMD, RD ...).")
    est = float(estimate)
    ratio = scale == "ratio"
    if ratio and not est > 0:
        raise ReviewInputError(f"{where}: a ratio estimate must be > 0 (got {est:g})", field="estimate",
                               hint="Give the ratio as the paper prints it (e.g. 0.75), not its logarithm; "
                                    "or say `scale: difference`.")
    has_ci = ci_lb is not None or ci_ub is not None
    if has_ci and (ci_lb is None or ci_ub is None):
        raise ReviewInputError(f"{where}: give both ends of the confidence interval", field="ci_lb")
    if se is None and not has_ci:
        raise ReviewInputError(f"{where}: an estimate needs its standard error (`se`) or its 95% CI "
                               "(`ci_lb`, `ci_ub`)", field="se")
    yi = math.log(est) if ratio else est
    se_ci = None
    if has_ci:
        lb, ub = float(ci_lb), float(ci_ub)
        if ratio and not (lb > 0 and ub > 0):
            raise ReviewInputError(f"{where}: the CI of a ratio must be > 0 (got {lb:g} to {ub:g})", field="ci_lb")
        if not lb < ub:
            raise ReviewInputError(f"{where}: the CI's lower end {lb:g} is not below its upper end {ub:g}",
                                   field="ci_lb")
        if not lb <= est <= ub:
            raise ReviewInputError(f"{where}: the CI {lb:g} to {ub:g} does not contain the estimate {est:g}",
                                   field="estimate", hint="Check the estimate and the CI against the paper.")
        crit = float(norm_isf((1 - level / 100) / 2))
        lo, hi = (math.log(lb), math.log(ub)) if ratio else (lb, ub)
        se_ci = (hi - lo) / (2 * crit)
    if se is not None:
        s = float(se)
        if not s > 0 or not math.isfinite(s):
            raise ReviewInputError(f"{where}: the standard error must be > 0 (got {s:g})", field="se")
        if se_ci is not None and abs(s - se_ci) > se_tolerance * se_ci:
            what = "of the log ratio" if ratio else ""
            raise ReviewInputError(
                f"{where}: the SE {s:g} disagrees with the CI (which gives an SE {what} of {se_ci:.4g})",
                field="se", hint="Give one of them, or check: for a ratio the SE must be that of its logarithm.")
    else:
        s = se_ci
    return yi, s * s
