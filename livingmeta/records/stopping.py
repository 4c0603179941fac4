"""When may reviewers stop screening a ranked queue? A statistical stopping rule with a stated guarantee.

Method: Callaghan & Müller-Hansen (2020), "Statistical stopping criteria for automated screening in
systematic reviews", Systematic Reviews 9:254 (doi:10.1186/s13643-020-01521-4), the "ranked
quasi-sampling" form of their hypergeometric test (as in their BUSCAR software).

Null hypothesis H0: the recall reached so far is below the target ``recall_target`` (say 0.95). Treat the
last ``n`` records screened as a sample drawn from the records that were unscreened just before them
(``N_urn = N - (n_seen - n)`` records). That sample held ``k`` includes; ``r_seen`` includes were found in
all and ``r_before = r_seen - k`` before the sample. If H0 were true, the urn would contain at least

    K_tar = floor(r_seen / recall_target - r_before + 1)

includes (then r_seen / (r_before + K_tar) < recall_target), and the chance of drawing ``k`` or fewer
includes in ``n`` draws without replacement is the hypergeometric ``P(X <= k; N_urn, K_tar, n)``. The
rule computes this p-value for every sample size ``n = 1 .. n_seen`` and takes the smallest; reviewers
may stop when it is below ``alpha = 1 - confidence``: then H0 (recall below target) is rejected at that
level. The assumption (stated in the paper): a prioritised order finds includes at least as fast as
random sampling would, so treating the most recent records as a random sample is conservative.

Also reported: a point estimate of the includes still unscreened (the include rate of the last
``window`` records times the unscreened count) and an upper (1 - alpha) bound on them from the same
hypergeometric model, with the recall that bound guarantees.
"""

from __future__ import annotations

import math
from typing import Sequence

from livingmeta.errors import ReviewInputError


def _labels(decisions: Sequence) -> list[int]:
    out = []
    for i, d in enumerate(decisions):
        if isinstance(d, str):
            v = d.strip().lower()
            if v not in ("include", "exclude"):
                raise ReviewInputError(f"decision {i + 1} is {d!r}", field="decisions",
                                       hint="Give the title/abstract decisions in screening order as "
                                            "'include'/'exclude' (or True/False).")
            out.append(1 if v == "include" else 0)
        else:
            out.append(1 if bool(d) else 0)
    return out


def k_tar(r_seen: int, r_before: int, recall_target: float) -> int:
    """The smallest number of includes the urn must hold for recall to be below the target (H0)."""
    return math.floor(r_seen / recall_target - r_before + 1)


def h0_pvalues(decisions: Sequence, n_total: int, recall_target: float = 0.95) -> list[tuple[int, float]]:
    """(n, p) for every sample size n = 1 .. n_seen: the p-value of H0 "recall < recall_target" when the
    last n screened records are treated as the sample (see the module docstring)."""
    import numpy as np
    from scipy.stats import hypergeom  # only the stopping rule needs scipy.stats

    y = np.asarray(_labels(decisions), dtype=np.int64)
    n_seen, r_seen = len(y), int(y.sum())
    if n_seen == 0:
        return []
    n = np.arange(1, n_seen + 1)
    k = np.cumsum(y[::-1])                      # includes among the last n records
    n_urn = n_total - (n_seen - n)
    K = np.floor(r_seen / recall_target - (r_seen - k) + 1).astype(np.int64)
    possible = K <= n_urn - (n - k)             # else the urn cannot hold that many includes: H0 impossible
    p = np.zeros(n_seen)
    p[possible] = hypergeom.cdf(k[possible], n_urn[possible], K[possible], n[possible])
    p = np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0)
    return [(int(a), float(b)) for a, b in zip(n, p)]


def stopping_state(decisions: Sequence, n_total: int, recall_target: float = 0.95, confidence: float = 0.95,
                   window: int | None = None) -> dict:
    """Where the hypergeometric stopping rule stands after the decisions so far.

    ``decisions``: the title/abstract decisions in the order the records were screened (ranked order; True
    / "include" or False / "exclude"); ``n_total``: all records to screen, screened or not.

    Returns ``{n_total, n_screened, n_unscreened, includes_found, recall_target, confidence, alpha,
    p_value, sample_size (the n of the smallest p), may_stop (p_value < alpha), estimated_remaining
    (point estimate of includes still unscreened), remaining_upper (upper confidence bound),
    recall_lower (the recall guaranteed at that confidence: includes_found / (includes_found +
    remaining_upper)), window, method}``.
    """
    if not 0 < recall_target < 1:
        raise ReviewInputError(f"recall target must be between 0 and 1 (got {recall_target!r})",
                               field="recall_target", hint="Use e.g. 0.95.")
    if not 0 < confidence < 1:
        raise ReviewInputError(f"confidence must be between 0 and 1 (got {confidence!r})",
                               field="confidence", hint="Use e.g. 0.95.")
    y = _labels(decisions)
    n_seen, r_seen = len(y), sum(y)
    if n_total < n_seen:
        raise ReviewInputError(f"{n_seen} records screened but only {n_total} records in total",
                               field="n_total", hint="n_total counts every record to screen, screened or not.")
    alpha = 1.0 - confidence
    n_left = n_total - n_seen
    pvals = h0_pvalues(y, n_total, recall_target) if n_seen else []
    if pvals:
        n_best, p = min(pvals, key=lambda t: (t[1], t[0]))
    else:
        n_best, p = 0, 1.0
    if n_left == 0:
        p, n_best = 0.0, n_seen                 # everything screened: recall is 1
    w = window if window is not None else min(n_seen, max(50, n_seen // 10))
    w = max(0, min(w, n_seen))
    k_w = sum(y[n_seen - w:]) if w else 0
    estimated = (k_w / w) * n_left if w else float(n_left)
    upper = remaining_upper_bound(k_w, w, n_left, alpha) if w else n_left
    found_plus = r_seen + upper
    return {
        "n_total": n_total, "n_screened": n_seen, "n_unscreened": n_left, "includes_found": r_seen,
        "recall_target": recall_target, "confidence": confidence, "alpha": alpha,
        "p_value": p, "sample_size": n_best, "may_stop": bool(p < alpha),
        "estimated_remaining": estimated, "remaining_upper": upper,
        "recall_lower": (r_seen / found_plus) if found_plus else 1.0, "window": w,
        "method": ("Callaghan & Müller-Hansen 2020 hypergeometric stopping test (ranked quasi-sampling): "
                   f"H0 recall < {recall_target:g} rejected when p < {alpha:g}"),
    }


def remaining_upper_bound(k: int, n: int, n_left: int, alpha: float) -> int:
    """Upper (1 - alpha) confidence bound on the includes among ``n_left`` unscreened records when the
    last ``n`` screened records (treated as a random sample from the ``n + n_left`` records unscreened
    before them) held ``k`` includes: the largest R with P(X <= k; n + n_left, k + R, n) >= alpha."""
    from scipy.stats import hypergeom

    if n_left <= 0:
        return 0
    lo, hi = 0, n_left                          # P(X <= k) decreases as R grows
    if hypergeom.cdf(k, n + n_left, k + hi, n) >= alpha:
        return n_left
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if hypergeom.cdf(k, n + n_left, k + mid, n) >= alpha:
            lo = mid
        else:
            hi = mid - 1
    return lo


def methods_text(state: dict, stopped: bool) -> str:
    """A sentence for the report's methods: the rule, and when the reviewers stopped by it, how many records
    were left unscreened and the recall it guarantees (PRISMA counts those records as "removed by
    automation tools" only in that case)."""
    rule = (f"Screening was prioritised by predicted relevance; the stopping rule was the hypergeometric test of "
            f"Callaghan & Müller-Hansen (2020) for a recall target of {state['recall_target']:.0%} at "
            f"{state['confidence']:.0%} confidence.")
    if not stopped:
        return rule + (f" Reviewers screened all records ({state['n_screened']})." if state["n_unscreened"] == 0
                       else f" {state['n_unscreened']} records remain to be screened (p = {state['p_value']:.3g}).")
    return rule + (f" Reviewers stopped after {state['n_screened']} of {state['n_total']} records when the test "
                   f"gave p = {state['p_value']:.3g} (< {state['alpha']:.2g}); {state['n_unscreened']} records were "
                   f"left unscreened, so recall is at least {state['recall_target']:.0%} with "
                   f"{state['confidence']:.0%} confidence.")


def simulate_stopping(order: Sequence[int], labels: Sequence[bool], recall_target: float = 0.95,
                      confidence: float = 0.95, every: int = 10, start: int = 0) -> dict:
    """Replay a screening order and apply the rule after every ``every`` records: where it first says
    stop, the recall actually reached there and the records left unscreened (for the benchmark)."""
    y = [bool(labels[i]) for i in order]
    n, total_inc = len(y), sum(y)
    for m in range(max(every, start), n + 1, every):
        st = stopping_state(y[:m], n, recall_target, confidence)
        if st["may_stop"]:
            return {"stopped_at": m, "unscreened": n - m, "recall": sum(y[:m]) / total_inc if total_inc else 1.0,
                    "work_saved": (n - m) / n}
    return {"stopped_at": n, "unscreened": 0, "recall": 1.0, "work_saved": 0.0}
