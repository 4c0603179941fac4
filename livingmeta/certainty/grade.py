"""GRADE certainty of evidence per analysis: a proposal from the data, the reviewers' decisions beside it.

The proposal follows a stated rule set, one function per domain, each returning ``{downgrade (0, 1 or 2),
reason, basis}``. Evidence starts at high certainty: randomised trials (GRADE Handbook, Schünemann et al.
2013, section 5), animal studies as in the GRADE adaptation for preclinical evidence (Hooijmans et al.
2018, PLoS One 13:e0187271) and non-randomised studies assessed with ROBINS-I (Schünemann et al. 2019,
J Clin Epidemiol 111:105, GRADE guidance 18), each domain then lowering it by 0, 1 or 2 levels down to
very low.

* **Risk of bias** (Guyatt et al. 2011, J Clin Epidemiol 64:407, GRADE guidelines 4): the share of the
  analysis's weight from studies at high risk and at some concerns / unclear risk. A study's risk is its
  overall judgement when the tool has one, else its most severe item. -2 when at least half the weight
  comes from studies at high risk; -1 when at least half comes from studies at high or unclear risk.
* **Inconsistency** (Guyatt et al. 2011, 64:1294, GRADE guidelines 7): -1 when I² >= 50 % and the
  prediction interval (or, without one, the studies' confidence intervals) includes the null; -2 when
  I² >= 75 % and the prediction interval includes both a benefit and a harm of the minimal important
  difference's size (or, without a MID, the null). One study: not assessable, no downgrade.
* **Imprecision** (Guyatt et al. 2011, 64:1283, GRADE guidelines 6): one level for each of: the
  confidence interval includes the null (or, with a configured minimal important difference, crosses
  it); the optimal information size is not met (rule of thumb of GRADE 6: 400 units for continuous
  outcomes, 300 events for dichotomous ones; configurable). At most -2.
* **Publication bias** (Guyatt et al. 2011, 64:1277, GRADE guidelines 5): with k >= 10 studies, -1 when
  Egger's test gives p < 0.10; with fewer studies the tests are not informative and nothing is proposed.
* **Indirectness** (Guyatt et al. 2011, 64:1303, GRADE guidelines 8): judged by reviewers only (for
  animal evidence the species, model and outcome relevance, Hooijmans et al. 2018); the proposal is 0.

The thresholds are constants here, named in the report's methods; :mod:`livingmeta.certainty.decisions`
reads the reviewers' file, which confirms or overrides each domain with a reason.
"""

from __future__ import annotations

import math
from typing import Any

LEVELS = ("very low", "low", "moderate", "high")           # index = certainty points - 1
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_LABELS = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency",
                 "indirectness": "Indirectness", "imprecision": "Imprecision",
                 "publication_bias": "Publication bias"}
ROB_HALF = 0.5             # share of weight
I2_SERIOUS, I2_VERY_SERIOUS = 50.0, 75.0
OIS_CONTINUOUS, OIS_EVENTS = 400, 300
PUBLICATION_BIAS_MIN_K, EGGER_ALPHA = 10, 0.10
HIGH_JUDGEMENTS = ("high", "serious", "critical")


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def study_risk(rob: dict, study: str) -> str | None:
    """low / concerns / high for one study: its overall judgement when the tool has one, else its most
    severe item (``high``, ``serious``, ``critical`` count as high; ``low`` as low; anything else, e.g.
    unclear, some concerns, moderate, no information, as concerns). None: the study was not assessed."""
    overall = ((rob.get("overall") or {}).get(study) or {}).get("judgement")
    judgements = [overall] if overall else [
        (v or {}).get("judgement") for v in ((rob.get("studies") or {}).get(study) or {}).values()]
    judgements = [j for j in judgements if j]
    if not judgements:
        return None
    if any(j in HIGH_JUDGEMENTS for j in judgements):
        return "high"
    if all(j == "low" for j in judgements):
        return "low"
    return "concerns"


def _domain(downgrade: int, reason: str, **basis: Any) -> dict[str, Any]:
    return {"downgrade": downgrade, "reason": reason, "basis": basis}


def risk_of_bias(analysis: dict, rob: dict | None) -> dict[str, Any]:
    weights: dict[str, float] = {}
    for s in analysis.get("studies") or []:
        w = _num(s.get("weight"))
        if w is not None and w > 0:   # a study with several comparisons counts with their summed weight
            weights[s["study"]] = weights.get(s["study"], 0.0) + w
    if not rob or not rob.get("studies"):
        return _domain(0, "no risk-of-bias assessment in the review: not assessed", high_share=None,
                       concerns_share=None)
    total = sum(weights.values())
    if total <= 0:
        return _domain(0, "no study weights: not assessed", high_share=None, concerns_share=None)
    shares = {"high": 0.0, "concerns": 0.0, "low": 0.0, None: 0.0}
    for study, w in weights.items():
        shares[study_risk(rob, study)] += w / total
    high, concerns = shares["high"], shares["concerns"]
    basis = {"high_share": round(high, 4), "concerns_share": round(concerns, 4),
             "not_assessed_share": round(shares[None], 4)}
    if high >= ROB_HALF:
        return _domain(2, f"{high:.0%} of the weight from studies at high risk of bias", **basis)
    if high + concerns >= ROB_HALF:
        return _domain(1, f"{high + concerns:.0%} of the weight from studies at high or unclear risk of bias "
                          f"({high:.0%} high)", **basis)
    return _domain(0, f"{shares['low']:.0%} of the weight from studies at low risk of bias", **basis)


def _includes(lb: float | None, ub: float | None, value: float) -> bool | None:
    if lb is None or ub is None:
        return None
    return lb <= value <= ub


def thresholds(mid: float | None, ratio: bool) -> tuple[float, float] | None:
    """The (lower, upper) minimal important effects on the model scale, around its null 0: for a ratio
    measure the MID is a ratio (e.g. 1.25, or 0.8: the same band) and the band is -/+ log(MID); for a
    difference -/+ MID. None without a MID."""
    if mid is None:
        return None
    if ratio:
        m = mid if mid > 1 else 1 / mid
        return -math.log(m), math.log(m)
    return -abs(mid), abs(mid)


def inconsistency(analysis: dict, null: float, band: tuple[float, float] | None = None) -> dict[str, Any]:
    k = int(analysis.get("k") or 0)
    i2 = _num(analysis.get("I2"))
    if k < 2 or i2 is None:
        return _domain(0, "one study: not assessable", I2=i2)
    lb, ub = _num(analysis.get("pi_lb")), _num(analysis.get("pi_ub"))
    if lb is None:  # no prediction interval: do the studies' CIs point both ways?
        rows = [s for s in analysis.get("studies") or [] if _num(s.get("ci_lb")) is not None]
        lb = min((_num(s["ci_lb"]) for s in rows), default=None)
        ub = max((_num(s["ci_ub"]) for s in rows), default=None)
    crosses = _includes(lb, ub, null)
    both = lb is not None and ub is not None and lb < null < ub   # beyond no effect on both sides
    if band is not None and lb is not None and ub is not None:
        both = lb <= band[0] and ub >= band[1]
    basis = {"I2": round(i2, 2), "interval": [lb, ub]}
    if i2 >= I2_VERY_SERIOUS and both:
        return _domain(2, f"I² = {i2:.0f}% and the prediction interval spans benefit and harm", **basis)
    if i2 >= I2_SERIOUS and crosses:
        return _domain(1, f"I² = {i2:.0f}% and the prediction interval includes no effect", **basis)
    if i2 >= I2_SERIOUS:
        return _domain(0, f"I² = {i2:.0f}%, but all of the prediction interval is on one side of no effect",
                       **basis)
    return _domain(0, f"I² = {i2:.0f}%", **basis)


def _distinct_controls(rows: list[dict]) -> list[dict]:
    """The per-study rows with each control arm shared by several comparisons (same study and
    ``control_group``) once."""
    seen, out = set(), []
    for r in rows:
        key = (r.get("study"), r["control_group"]) if r.get("control_group") else id(r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def information_size(analysis: dict) -> tuple[str, float | None, int]:
    """(what, amount, threshold): total events for dichotomous data, else total units (both arms)."""
    rows = analysis.get("studies") or []
    kinds = set(analysis.get("kinds") or ["continuous"])
    controls = _distinct_controls(rows)   # a control arm shared by several comparisons counts once
    if kinds == {"dichotomous"}:
        events = [_num(s.get("ai")) for s in rows] + [_num(s.get("ci")) for s in controls]
        if events and all(x is not None for x in events):
            return "events", sum(events), OIS_EVENTS
        return "events", None, OIS_EVENTS
    ns = [_num(s.get("n1i")) for s in rows] + [_num(s.get("n2i")) for s in controls]
    if ns and all(x is not None for x in ns):
        return "units", sum(ns), OIS_CONTINUOUS
    return "units", None, OIS_CONTINUOUS


def imprecision(analysis: dict, null: float, band: tuple[float, float] | None = None,
                ois: dict | None = None, unit: str = "participants") -> dict[str, Any]:
    lb, ub = _num(analysis.get("ci_lb")), _num(analysis.get("ci_ub"))
    if lb is None or ub is None:
        return _domain(0, "no confidence interval: not assessed", ci=[lb, ub])
    reasons = []
    if band is not None:
        if lb < band[0] < ub or lb < band[1] < ub:
            reasons.append("the confidence interval crosses the minimal important difference")
    elif lb <= null <= ub:
        reasons.append("the confidence interval includes no effect")
    what, amount, threshold = information_size(analysis)
    threshold = int((ois or {}).get(what, threshold))
    if amount is not None and amount < threshold:
        reasons.append(f"{amount:.0f} {'events' if what == 'events' else unit}, below the optimal information "
                       f"size of {threshold}")
    basis = {"ci": [lb, ub], "information": amount, "information_kind": what, "ois": threshold}
    if not reasons:
        return _domain(0, "the confidence interval excludes no effect and the information size is met"
                       if amount is not None else "the confidence interval excludes no effect", **basis)
    return _domain(min(2, len(reasons)), "; ".join(reasons), **basis)


def publication_bias(analysis: dict) -> dict[str, Any]:
    k = int(analysis.get("k") or 0)
    small = analysis.get("small_study") or {}
    egger = _num((small.get("egger_se") or {}).get("pval"))
    if k < PUBLICATION_BIAS_MIN_K or not small.get("assessed") or egger is None:
        return _domain(0, f"fewer than {PUBLICATION_BIAS_MIN_K} studies: small-study tests not informative"
                       if k < PUBLICATION_BIAS_MIN_K else "small-study effects not assessed", k=k, egger_p=egger)
    if egger < EGGER_ALPHA:
        return _domain(1, f"Egger's test p = {egger:.3f} (asymmetric funnel plot)", k=k, egger_p=egger)
    return _domain(0, f"Egger's test p = {egger:.2f}", k=k, egger_p=egger)


def indirectness(analysis: dict) -> dict[str, Any]:
    return _domain(0, "judged by the reviewers (population, intervention, comparator and outcome as asked)")


def propose(analysis: dict, rob: dict | None, *, ratio: bool = False, mid: float | None = None,
            ois: dict | None = None, unit: str = "participants") -> dict[str, Any]:
    """The proposed GRADE rating of one analysis (a results.json analysis: estimates, CIs and prediction
    interval on the model scale, logs for ratio measures, so no effect is 0; ``ratio``: whether the
    measure is a ratio; ``mid``: the outcome's minimal important difference as the reader states it, a
    ratio for ratio measures, optional; ``ois``: ``{units, events}`` optimal information sizes; ``unit``:
    the review's unit of analysis, plural, for the reasons' wording)."""
    null = 0.0
    band = thresholds(mid, ratio)
    domains = {
        "risk_of_bias": risk_of_bias(analysis, rob),
        "inconsistency": inconsistency(analysis, null, band),
        "indirectness": indirectness(analysis),
        "imprecision": imprecision(analysis, null, band, ois, unit),
        "publication_bias": publication_bias(analysis),
    }
    return {"domains": domains, "rating": rating(d["downgrade"] for d in domains.values())}


def rating(downgrades) -> str:
    return LEVELS[max(0, 3 - sum(int(d) for d in downgrades))]


def absolute_effect(analysis: dict, measure: str) -> dict[str, Any] | None:
    """GRADEpro's anticipated absolute effect for a dichotomous analysis: the assumed risk with the control
    arm (the pooled control arms' events / total) and the corresponding risk with the treatment arm and
    difference per 1,000, from the pooled RR (risk x RR), OR (OR x risk / (1 - risk + OR x risk)) or RD,
    with its confidence limits (Schünemann et al., GRADE Handbook 2013, section 5.2.4). None otherwise."""
    measure = str(measure or "").upper()
    if measure not in ("RR", "OR", "PETO", "RD") or set(analysis.get("kinds") or []) != {"dichotomous"}:
        return None
    rows = [(_num(s.get("ci")), _num(s.get("n2i"))) for s in _distinct_controls(analysis.get("studies") or [])]
    if not rows or any(c is None or n is None for c, n in rows) or sum(n for _, n in rows) <= 0:
        return None
    risk = sum(c for c, _ in rows) / sum(n for _, n in rows)

    def treated(x: float | None) -> float | None:
        if x is None:
            return None
        if measure == "RD":
            return min(1.0, max(0.0, risk + x))
        ratio = math.exp(x)
        if measure == "RR":
            return min(1.0, risk * ratio)
        return ratio * risk / (1 - risk + ratio * risk)

    values = {k: treated(_num(analysis.get(k))) for k in ("estimate", "ci_lb", "ci_ub")}
    if values["estimate"] is None:
        return None
    per_1000 = {k: None if v is None else round(1000 * (v - risk)) for k, v in values.items()}
    return {"control_per_1000": round(1000 * risk), "treatment_per_1000": round(1000 * values["estimate"]),
            "difference_per_1000": per_1000["estimate"], "difference_lb": per_1000["ci_lb"],
            "difference_ub": per_1000["ci_ub"]}
