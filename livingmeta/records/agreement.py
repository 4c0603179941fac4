"""Agreement between two screeners: percent agreement, Cohen's kappa and PABAK.

Pure Python (stdlib only), so the screening and PRISMA jobs can import it cheaply.

Definitions (two raters, ``k`` categories, ``n`` items both rated):

* observed agreement ``p_o`` = share of items on which the two raters chose the same category;
* chance agreement ``p_e`` = sum over categories of (rater 1's share) x (rater 2's share);
* Cohen's kappa (Cohen 1960) = ``(p_o - p_e) / (1 - p_e)``; undefined (``None``) when ``p_e == 1``
  (both raters used one and the same category for every item);
* PABAK, the prevalence- and bias-adjusted kappa (Byrt, Bishop & Carlin 1993, J Clin Epidemiol
  46:423-9) = ``(k * p_o - 1) / (k - 1)``, i.e. ``2 p_o - 1`` for include/exclude decisions;
* the large-sample standard error of kappa (Fleiss, Cohen & Everitt 1969, Psychol Bull 72:323-7) and
  a Wald 95% interval ``kappa +/- 1.96 se``; ``None`` when a rater used one category only (the
  large-sample variance then degenerates to 0).

Validated against hand-computed and published worked examples (Feinstein & Cicchetti 1990's
"high agreement, low kappa" tables; see tests/records/test_agreement.py).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Hashable, Iterable, Sequence

Z95 = 1.959963984540054


def contingency(pairs: Iterable[tuple[Hashable, Hashable]], categories: Sequence[Hashable] | None = None):
    """The k x k table of (rater 1, rater 2) decisions, rows = rater 1; returns (categories, table)."""
    pairs = list(pairs)
    if categories is None:
        categories = sorted({c for pair in pairs for c in pair}, key=str)
    index = {c: i for i, c in enumerate(categories)}
    table = [[0] * len(categories) for _ in categories]
    for a, b in pairs:
        if a not in index or b not in index:
            raise ValueError(f"decision pair ({a!r}, {b!r}) has a category outside {list(categories)!r}")
        table[index[a]][index[b]] += 1
    return list(categories), table


def agreement_from_table(table: Sequence[Sequence[int]], categories: Sequence[Hashable] | None = None) -> dict:
    """Agreement statistics from a square table of counts (rows = rater 1, columns = rater 2).

    Returns ``{n, n_agree, percent_agreement, expected_agreement, kappa, kappa_se, kappa_ci_lb,
    kappa_ci_ub, pabak, categories, table}``; ``percent_agreement`` is a percentage (0-100), ``kappa``
    and ``pabak`` are on the -1..1 scale. With no items every statistic is ``None``.
    """
    k = len(table)
    if any(len(row) != k for row in table):
        raise ValueError("agreement table must be square")
    if categories is None:
        categories = list(range(k))
    n = sum(sum(row) for row in table)
    out = {"n": n, "categories": [str(c) for c in categories], "table": [list(map(int, row)) for row in table],
           "n_agree": sum(table[i][i] for i in range(k)),
           "percent_agreement": None, "expected_agreement": None, "kappa": None, "kappa_se": None,
           "kappa_ci_lb": None, "kappa_ci_ub": None, "pabak": None}
    if n == 0:
        return out
    p = [[cell / n for cell in row] for row in table]
    rows = [sum(p[i]) for i in range(k)]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    po = sum(p[i][i] for i in range(k))
    pe = sum(rows[i] * cols[i] for i in range(k))
    out["percent_agreement"] = 100.0 * po
    out["expected_agreement"] = pe
    # PABAK needs at least two categories; for include/exclude screening k is fixed at 2 by the caller.
    kk = max(k, 2)
    out["pabak"] = (kk * po - 1.0) / (kk - 1.0)
    if pe < 1.0 - 1e-12:
        kappa = (po - pe) / (1.0 - pe)
        out["kappa"] = kappa
        # Fleiss, Cohen & Everitt (1969) large-sample variance of kappa (not under the null).
        a = sum(p[i][i] * (1.0 - (rows[i] + cols[i]) * (1.0 - kappa)) ** 2 for i in range(k))
        b = (1.0 - kappa) ** 2 * sum(p[i][j] * (cols[i] + rows[j]) ** 2
                                      for i in range(k) for j in range(k) if i != j)
        c = (kappa - pe * (1.0 - kappa)) ** 2
        var = (a + b - c) / (n * (1.0 - pe) ** 2)
        # degenerate when a rater used one category only (the variance collapses to 0): no interval
        degenerate = any(m <= 0.0 or m >= 1.0 for m in rows + cols)
        if var > 1e-15 and not degenerate:
            se = math.sqrt(var)
            out["kappa_se"] = se
            out["kappa_ci_lb"] = kappa - Z95 * se
            out["kappa_ci_ub"] = kappa + Z95 * se
    return out


def agreement(pairs: Iterable[tuple[Hashable, Hashable]], categories: Sequence[Hashable] | None = None) -> dict:
    """Agreement statistics for a list of (rater 1, rater 2) decisions on the same items."""
    cats, table = contingency(pairs, categories)
    return agreement_from_table(table, cats)


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]], categories: Sequence[Hashable] | None = None):
    return agreement(pairs, categories)["kappa"]


def pabak(pairs: Iterable[tuple[Hashable, Hashable]], categories: Sequence[Hashable] | None = None):
    return agreement(pairs, categories)["pabak"]


def percent_agreement(pairs: Iterable[tuple[Hashable, Hashable]]):
    pairs = list(pairs)
    if not pairs:
        return None
    return 100.0 * sum(1 for a, b in pairs if a == b) / len(pairs)


def count_pairs(pairs: Iterable[tuple[Hashable, Hashable]]) -> Counter:
    return Counter(pairs)
