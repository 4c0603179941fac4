"""Number formatting shared by the report's tables and figures (and registered as Jinja2 filters).

Conventions: a true minus sign (U+2212), fixed decimals per kind of number, ``—`` for a missing value,
p values as RevMan/metafor print them (``0.013``, ``0.0004``, ``< 0.0001``).
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
MINUS = "\u2212"


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def num(x: Any, digits: int = 2) -> str:
    """``-1.234`` -> ``−1.23``; None/NaN -> ``—``. Negative zero after rounding prints as ``0.00``."""
    if not _is_num(x):
        return MISSING
    text = f"{x:.{digits}f}"
    if text.startswith("-"):
        text = text[1:] if float(text) == 0 else MINUS + text[1:]
    return text


def small(x: Any) -> str:
    """A variance-like number (τ²): two decimals, more when it is small but not zero."""
    if not _is_num(x):
        return MISSING
    if x == 0:
        return "0"
    if abs(x) < 0.01:
        return num(x, 4)
    return num(x, 2)


def ci(lb: Any, ub: Any, digits: int = 2) -> str:
    return f"[{num(lb, digits)}, {num(ub, digits)}]"


def est_ci(est: Any, lb: Any, ub: Any, digits: int = 2) -> str:
    if not _is_num(est):
        return MISSING
    return f"{num(est, digits)} {ci(lb, ub, digits)}"


def pval(p: Any) -> str:
    """``p`` formatted without the ``p =`` prefix: ``0.23``, ``0.013``, ``0.0004``, ``< 0.0001``."""
    if not _is_num(p):
        return MISSING
    if p < 0.0001:
        return "< 0.0001"
    if p < 0.001:
        return f"{p:.4f}"
    if p < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"


def p_eq(p: Any) -> str:
    """``p = 0.013`` or ``p < 0.0001``."""
    text = pval(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def pct(x: Any, digits: int = 0) -> str:
    if not _is_num(x):
        return MISSING
    return num(x, digits) + "%"


def integer(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return MISSING
    if isinstance(x, float):
        if not math.isfinite(x):
            return MISSING
        if x.is_integer():
            x = int(x)
        else:
            return num(x, 1)
    return str(x)


def sig(x: Any, digits: int = 4) -> str:
    """A measured value as entered when it is short (``78.2``, ``1234.5``, ``0.0512``), otherwise (a
    computed value such as an SD converted from an SE) rounded to ``digits`` significant digits
    (``6.123724`` -> ``6.124``)."""
    if not _is_num(x):
        return value(x)
    if x == 0:
        return "0"
    text = f"{x:.6g}"
    if "e" in text or len(text.lstrip("-").replace(".", "").lstrip("0")) > 5:
        magnitude = math.floor(math.log10(abs(x)))
        text = f"{x:.{max(digits - 1 - magnitude, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return MINUS + text[1:] if text.startswith("-") else text


def value(x: Any) -> str:
    """A free-form extracted value (characteristics): numbers as they are, lists joined, None as ``—``."""
    if x is None or x == "":
        return MISSING
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return integer(x) if x.is_integer() else f"{x:g}".replace("-", MINUS)
    if isinstance(x, (list, tuple)):
        return "; ".join(value(v) for v in x) or MISSING
    if isinstance(x, dict):
        return "; ".join(f"{k}: {value(v)}" for k, v in x.items()) or MISSING
    return str(x)


def humanise(key: str) -> str:
    """``exosome_source`` -> ``Exosome source``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


FILTERS = {
    "num": num, "small": small, "ci": ci, "est_ci": est_ci, "pval": pval, "p_eq": p_eq, "pct": pct,
    "integer": integer, "value": value, "humanise": humanise, "sig": sig,
}
