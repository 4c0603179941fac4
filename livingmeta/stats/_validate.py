"""Input checks shared by the statistics functions: one clear message naming the study."""

from __future__ import annotations

import math

import numpy as np

from livingmeta.errors import ReviewInputError


def study_labels(n, labels=None, studies=None):
    names = labels if labels is not None else studies
    if names is None:
        return [f"#{i + 1}" for i in range(n)]
    names = [str(s) for s in names]
    if len(names) != n:
        raise ReviewInputError(f"got {len(names)} study labels for {n} studies",
                               field="labels", hint="Give one label per study.")
    return names


def as_vector(x, name, n=None, labels=None):
    """1-d float array; scalars broadcast to n (if given)."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ReviewInputError(f"{name} must be numbers (got {plain(x)})", field=name) from None
    if a.ndim == 0:
        a = a.reshape(1) if n is None else np.full(n, float(a))
    if a.ndim != 1:
        raise ReviewInputError(f"{name} must be a single value or a 1-d sequence (got shape {a.shape})",
                               field=name)
    if n is not None and a.shape[0] != n:
        raise ReviewInputError(f"{name} has {a.shape[0]} values but there are {n} studies",
                               field=name, hint="Give one value per study (lengths must match).")
    return a


def fmt_num(x):
    """A number as a reader writes it in a message: -5, 0.25, 1e-10 (never ``np.float64(-5.0)``)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "infinity" if f > 0 else "-infinity"
    return format(f, ".15g")


def plain(x):
    """A value as a message shows it: numbers by :func:`fmt_num`, sequences item by item, text quoted."""
    if isinstance(x, str):
        return repr(x)
    if isinstance(x, (list, tuple, np.ndarray)):
        items = list(np.asarray(x, dtype=object).ravel()) if isinstance(x, np.ndarray) else list(x)
        shown = ", ".join(plain(v) for v in items[:6]) + (", ..." if len(items) > 6 else "")
        return f"[{shown}]"
    if isinstance(x, (bool, np.bool_)) or x is None:
        return str(x)
    if isinstance(x, (int, float, np.integer, np.floating)):
        return fmt_num(x)
    return repr(x)


def _fmt(x):
    if isinstance(x, float) and math.isnan(x):
        return "missing/NaN"
    return fmt_num(x)


def check_finite(a, name, labels, what=None):
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        n_bad = int(bad.sum())
        more = f" ({n_bad - 1} more studies have the same problem)" if n_bad > 1 else ""
        raise ReviewInputError(
            f"study {labels[i]!r}: {name} is missing or not finite (got {_fmt(a[i])}){more}",
            field=name, hint=what or "Fill in the value, or leave the study out of this analysis.")


def check_positive(a, name, labels, strict=True, what=None):
    check_finite(a, name, labels, what)
    bad = a <= 0 if strict else a < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        n_bad = int(bad.sum())
        more = f" ({n_bad - 1} more studies have the same problem)" if n_bad > 1 else ""
        cond = "> 0" if strict else ">= 0"
        raise ReviewInputError(f"study {labels[i]!r}: {name} must be {cond} (got {_fmt(a[i])}){more}",
                               field=name, hint=what or "Check the value extracted for this study.")


def check_yi_vi(yi, vi, labels, na="raise"):
    """Validate effect sizes and sampling variances. Returns (yi, vi, labels, omitted_labels)."""
    if yi.shape != vi.shape:
        raise ReviewInputError(f"yi has {yi.size} values but vi has {vi.size}", field="vi",
                               hint="Give one effect size and one sampling variance per study.")
    omitted = []
    if na == "omit":
        keep = np.isfinite(yi) & np.isfinite(vi)
        if not keep.all():
            omitted = [labels[i] for i in np.flatnonzero(~keep)]
            yi, vi = yi[keep], vi[keep]
            labels = [labels[i] for i in np.flatnonzero(keep)]
    elif na != "raise":
        raise ValueError("na must be 'raise' or 'omit'")
    check_finite(yi, "yi", labels, "Every study needs an effect size; fill it in or leave the study out.")
    check_positive(vi, "vi", labels, what="A sampling variance must be > 0; check the SDs/SEs and group "
                                          "sizes extracted for this study.")
    if yi.size == 0:
        raise ReviewInputError("no studies to pool (k = 0)", field="yi",
                               hint="At least one study with an effect size is needed.")
    return yi, vi, labels, omitted
