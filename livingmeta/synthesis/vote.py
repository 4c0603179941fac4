"""Vote counting based on the direction of effect, with the sign test (McKenzie and Brennan, Cochrane
Handbook for Systematic Reviews of Interventions, version 6, chapter 12.2.2.5 and 12.4.2.3; SWiM item 3,
Campbell et al. 2020, BMJ 368:l6890).

Each study contributes its direction (benefit or harm); the proportion of beneficial effects among the
studies with a direction is estimated with its exact Clopper-Pearson interval (Clopper and Pearson 1934,
Biometrika 26:404) and tested against 0.5 with the two-sided exact binomial (sign) test: the values of R's
``binom.test(x, n, p = 0.5)``. Studies with no clear difference or mixed results are counted and reported,
not voted. Votes are never based on statistical significance (p-values): that is what the Handbook warns
against.
"""

from __future__ import annotations

import math

from scipy.special import betaincinv

DIRECTIONS = ("benefit", "harm", "no_clear_difference", "mixed")


def sign_test(benefit: int, harm: int) -> float | None:
    """Two-sided exact binomial test of ``benefit`` successes in ``benefit + harm`` trials against p = 0.5
    (R: ``binom.test(benefit, benefit + harm)$p.value``); None without votes.

    With p = 0.5 the distribution is symmetric, so the two-sided p-value (R's: the sum of the probabilities
    not larger than the observed one) is 2 P(X <= min(x, n - x)), capped at 1."""
    n = benefit + harm
    if n == 0:
        return None
    k = min(benefit, harm)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2.0 * tail)


def clopper_pearson(x: int, n: int, level: float = 95.0) -> tuple[float, float] | tuple[None, None]:
    """The exact (Clopper-Pearson) confidence interval of a proportion x / n (R: ``binom.test(x, n)$conf.int``)."""
    if n == 0:
        return None, None
    alpha = 1.0 - level / 100.0
    lower = 0.0 if x == 0 else float(betaincinv(x, n - x + 1, alpha / 2))
    upper = 1.0 if x == n else float(betaincinv(x + 1, n - x, 1 - alpha / 2))
    return lower, upper


def vote(directions: list[str], level: float = 95.0) -> dict:
    """The vote count of a list of directions (one per study): counts per direction, the number voting
    (benefit + harm), the proportion of beneficial effects with its Clopper-Pearson interval and the sign
    test p-value (None when no study has a direction)."""
    counts = {d: sum(1 for x in directions if x == d) for d in DIRECTIONS}
    voting = counts["benefit"] + counts["harm"]
    lb, ub = clopper_pearson(counts["benefit"], voting, level)
    return {**counts, "k": len(directions), "voting": voting,
            "proportion": counts["benefit"] / voting if voting else None, "ci_lb": lb, "ci_ub": ub,
            "level": level, "sign_test_p": sign_test(counts["benefit"], counts["harm"])}


def overall_direction(directions: list[str]) -> str:
    """A study's direction over its domains: ``benefit`` (or ``harm``) when every domain with a direction
    points that way and none is mixed, ``no_clear_difference`` when none has a direction, else ``mixed``."""
    given = [d for d in directions if d != "no_clear_difference"]
    if not given:
        return "no_clear_difference"
    if all(d == "benefit" for d in given):
        return "benefit"
    if all(d == "harm" for d in given):
        return "harm"
    return "mixed"
