"""Hand-written SVG figures for the report: forest plots, subgroup forest plots, funnel plots, the PRISMA
2020 flow diagram (updated-review variant) and the SYRCLE risk-of-bias traffic-light table and summary
bar chart.

Every function takes plain dicts from results.json and returns an SVG string that is

* deterministic (same input, same bytes: fixed decimals, no ids, no dates, no randomness),
* escaped (all text goes through :func:`esc`),
* searchable (all words are ``<text>`` elements, so the PDF keeps them as text), and
* self-contained (no external fonts, images or stylesheets; presentation attributes only).

Text is laid out with the advance widths of Liberation Sans (metric-compatible with Arial), see
:mod:`livingmeta.report.textmetrics`. Colours are from the Okabe–Ito colour-blind-safe palette, and every
colour-coded mark also carries a symbol or a text label so that the figures read in grey-scale print.
"""

from __future__ import annotations

import html
import math
from typing import Any, Iterable, Sequence

from livingmeta.report import fmt, wording
from livingmeta.report.textmetrics import text_width

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
WIDTH = 680  # px (CSS), the text width of an A4 page with 15 mm margins

# Okabe–Ito palette
BLUE = "#0072B2"
GREEN = "#009E73"
YELLOW = "#F0E442"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
SKY = "#56B4E9"
BLACK = "#000000"
DARK = "#222222"
GREY = "#666666"
LIGHT = "#BBBBBB"
PRISMA_HEAD = "#FFE9A8"   # header boxes (light amber, prints well)
PRISMA_SIDE = "#CFE3F3"   # phase sidebars (light blue, as in the PRISMA 2020 template)

ROB_STYLE = {  # judgement -> (fill, symbol, symbol colour, legend label)
    "low": (GREEN, "+", "#FFFFFF", "Low risk"),
    "unclear": (YELLOW, "?", BLACK, "Unclear risk"),
    "high": (VERMILLION, "\u2212", "#FFFFFF", "High risk"),
    "not_assessed": ("#FFFFFF", "", BLACK, "Not assessed"),
}

PROVENANCE_SHORT = {
    "text": "text", "table": "table", "figure": "figure", "author": "author",
    "illustrative": "illus.", None: "\u2014",
}


# ---------------------------------------------------------------------------------------------------
# primitives


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _n(x: float) -> str:
    """A coordinate with at most two decimals, no trailing zeros, never ``-0``."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def truncate(text: str, max_width: float, size: float, bold: bool = False) -> str:
    text = str(text)
    if text_width(text, size, bold) <= max_width:
        return text
    while text and text_width(text + "\u2026", size, bold) > max_width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def wrap(text: str, max_width: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap; a single word wider than the line is truncated."""
    lines: list[str] = []
    current = ""
    for word in str(text).split():
        trial = f"{current} {word}" if current else word
        if text_width(trial, size, bold) <= max_width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return [truncate(line, max_width, size, bold) for line in lines] or [""]


class Canvas:
    """Collects SVG elements; :meth:`render` wraps them in an ``<svg>`` of the final height."""

    def __init__(self, width: float = WIDTH, *, title: str = "", desc: str = "", font_size: float = 11):
        self.width = width
        self.title = title
        self.desc = desc
        self.font_size = font_size
        self.items: list[str] = []

    def text(self, x: float, y: float, content: Any, *, size: float | None = None, anchor: str = "start",
             bold: bool = False, italic: bool = False, fill: str | None = None, rotate: float | None = None,
             tooltip: str | None = None) -> None:
        attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"']
        if rotate is not None:
            attrs = [f'transform="translate({_n(x)} {_n(y)}) rotate({_n(rotate)})"', 'x="0"', 'y="0"']
        if size is not None and size != self.font_size:
            attrs.append(f'font-size="{_n(size)}"')
        if anchor != "start":
            attrs.append(f'text-anchor="{anchor}"')
        if bold:
            attrs.append('font-weight="bold"')
        if italic:
            attrs.append('font-style="italic"')
        if fill:
            attrs.append(f'fill="{fill}"')
        inner = esc(content)
        if tooltip:
            inner = f"<title>{esc(tooltip)}</title>{inner}"
        self.items.append(f"<text {' '.join(attrs)}>{inner}</text>")

    def lines_of_text(self, x: float, y: float, lines: Sequence[str], *, size: float | None = None,
                      leading: float | None = None, anchor: str = "start", bold: bool = False,
                      fill: str | None = None) -> None:
        size = size or self.font_size
        leading = leading or size * 1.25
        for i, line in enumerate(lines):
            self.text(x, y + i * leading, line, size=size, anchor=anchor, bold=bold, fill=fill)

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str = DARK, width: float = 1,
             dash: str | None = None) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                          f'stroke="{stroke}" stroke-width="{_n(width)}"{extra}/>')

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str = "none", stroke: str | None = None,
             width: float = 1, rx: float = 0, tooltip: str | None = None, cls: str | None = None) -> None:
        extra = f' stroke="{stroke}" stroke-width="{_n(width)}"' if stroke else ""
        if cls:
            extra += f' class="{cls}"'
        if rx:
            extra += f' rx="{_n(rx)}"'
        body = f"<title>{esc(tooltip)}</title>" if tooltip else ""
        tag = f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" fill="{fill}"{extra}'
        self.items.append(f"{tag}>{body}</rect>" if body else f"{tag}/>")

    def polygon(self, points: Iterable[tuple[float, float]], *, fill: str = DARK, stroke: str | None = None,
                width: float = 1, tooltip: str | None = None, cls: str | None = None) -> None:
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        extra = f' stroke="{stroke}" stroke-width="{_n(width)}"' if stroke else ""
        if cls:
            extra += f' class="{cls}"'
        body = f"<title>{esc(tooltip)}</title>" if tooltip else ""
        tag = f'<polygon points="{pts}" fill="{fill}"{extra}'
        self.items.append(f"{tag}>{body}</polygon>" if body else f"{tag}/>")

    def circle(self, cx: float, cy: float, r: float, *, fill: str, stroke: str | None = None,
               width: float = 1, tooltip: str | None = None, cls: str | None = None) -> None:
        extra = f' stroke="{stroke}" stroke-width="{_n(width)}"' if stroke else ""
        if cls:
            extra += f' class="{cls}"'
        body = f"<title>{esc(tooltip)}</title>" if tooltip else ""
        tag = f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}"{extra}'
        self.items.append(f"{tag}>{body}</circle>" if body else f"{tag}/>")

    def arrow(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str = DARK, head: float = 6) -> None:
        """A line from (x1, y1) to (x2, y2) with a filled arrowhead at (x2, y2)."""
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        bx, by = x2 - ux * head, y2 - uy * head
        self.line(x1, y1, bx, by, stroke=stroke)
        px, py = -uy * head * 0.45, ux * head * 0.45
        self.polygon([(x2, y2), (bx + px, by + py), (bx - px, by - py)], fill=stroke)

    def render(self, height: float, *, css_class: str = "figure-svg") -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{_n(self.width)}" '
                f'height="{_n(height)}" viewBox="0 0 {_n(self.width)} {_n(height)}" role="img" '
                f'font-family="{FONT}" font-size="{_n(self.font_size)}" fill="{BLACK}">')
        meta = ""
        if self.title:
            meta += f"<title>{esc(self.title)}</title>"
        if self.desc:
            meta += f"<desc>{esc(self.desc)}</desc>"
        return head + meta + "".join(self.items) + "</svg>"


# ---------------------------------------------------------------------------------------------------
# axes


def nice_step(span: float, target: int = 5) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * mag:
            return mult * mag
    return 10 * mag


def axis_range(core: Iterable[float], extended: Iterable[float], *, zero_share: float = 0.25,
               target_ticks: int = 5) -> tuple[float, float, list[float]]:
    """The plotted range of a forest plot and its ticks.

    ``core`` values (point estimates, pooled intervals, 0) are always inside; ``extended`` values (study
    confidence limits) widen the range by at most half the core span, so one imprecise study does not
    squash the plot: its whisker is clipped with an arrow instead. Both sides of 0 get at least
    ``zero_share`` of the width, so the "Favours ..." labels have room.
    """
    core = [v for v in core if v is not None and math.isfinite(v)] + [0.0]
    ext = [v for v in extended if v is not None and math.isfinite(v)]
    lo, hi = min(core), max(core)
    span = max(hi - lo, 1e-9)
    if ext:
        lo = max(min(lo, min(ext)), lo - 0.5 * span)
        hi = min(max(hi, max(ext)), hi + 0.5 * span)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    # room on both sides of zero
    f = zero_share
    if lo > -f * (hi - lo):
        lo = -f * hi / (1 - f)
    if hi < f * (hi - lo):
        hi = -f * lo / (1 - f)
    return nice_ticks(lo, hi, target_ticks)


def nice_ticks(lo: float, hi: float, target: int = 5) -> tuple[float, float, list[float]]:
    """Round limits around [lo, hi] (multiples of a 1-2-5 step) and the ticks between them."""
    step = nice_step(hi - lo, target)
    lo_t = math.floor(lo / step + 1e-9) * step
    hi_t = math.ceil(hi / step - 1e-9) * step
    ticks = []
    t = lo_t
    while t <= hi_t + step * 1e-6:
        ticks.append(round(t, 10) + 0.0)
        t += step
    return lo_t, hi_t, ticks


def tick_label(t: float, step: float) -> str:
    digits = 0 if step >= 1 else (1 if step >= 0.1 else 2)
    return fmt.num(t, digits)


class Scale:
    def __init__(self, lo: float, hi: float, x0: float, x1: float):
        self.lo, self.hi, self.x0, self.x1 = lo, hi, x0, x1

    def __call__(self, v: float) -> float:
        return self.x0 + (v - self.lo) / (self.hi - self.lo) * (self.x1 - self.x0)

    def clamp(self, v: float) -> float:
        return min(max(v, self.lo), self.hi)


# ---------------------------------------------------------------------------------------------------
# forest plots

# Ratio measures are drawn on a log axis and labelled with their back-transformed values (1 = no effect).
MEASURE_SHORT = {"SMD": "SMD", "MD": "MD", "ROM": "ROM", "NMD": "NMD", "OR": "OR", "RR": "RR", "RD": "RD",
                 "PETO": "Peto OR", "HR": "HR"}
MEASURE_LONG = {"SMD": "Std. mean difference", "MD": "Mean difference", "ROM": "Ratio of means (log scale)",
                "NMD": "Normalised mean difference (%)", "OR": "Odds ratio (log scale)",
                "RR": "Risk ratio (log scale)", "RD": "Risk difference", "PETO": "Peto odds ratio (log scale)",
                "HR": "Hazard ratio (log scale)"}
METHOD_SHORT = {"FE": "Common effect", "DL": "DL", "HE": "HE", "HS": "HS", "SJ": "SJ", "ML": "ML",
                "REML": "REML", "EB": "EB", "PM": "PM"}


def is_ratio(a: dict) -> bool:
    """Whether an analysis's values are logs of a ratio measure (results.json ``scale`` "log")."""
    if a.get("scale") in ("log", "raw"):
        return a.get("scale") == "log"
    return str(a.get("measure") or "").upper() in ("ROM", "OR", "RR", "PETO", "HR")


def shown(a: dict, x: Any) -> Any:
    """A model-scale value as the reader sees it: exp() for ratio measures."""
    if not is_ratio(a) or not _ok(x):
        return x
    try:
        return math.exp(x)
    except OverflowError:
        return None


def shown_est_ci(a: dict, est: Any, lb: Any, ub: Any) -> str:
    return fmt.est_ci(shown(a, est), shown(a, lb), shown(a, ub))


def ratio_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Ticks of a log axis from ``lo`` to ``hi`` (logs): the logs of round ratios (0.1, 0.5, 1, 2, 10 ...,
    finer for narrow ranges), 1 among them when in range."""
    a, b = math.exp(lo) * (1 - 1e-9), math.exp(hi) * (1 + 1e-9)
    best: list[float] = []
    for mset in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8)):
        cands = set()
        for e in range(math.floor(math.log10(a)) - 1, math.ceil(math.log10(b)) + 2):
            for m in mset:
                v = m * 10.0 ** e
                cands.update({round(v, 12), round(1 / v, 12)})
        best = sorted(v for v in cands if a <= v <= b)
        if len(best) >= 3:
            break
    if len(best) > 2 * target:   # thin, keeping 1
        step = math.ceil(len(best) / target)
        i1 = min(range(len(best)), key=lambda i: abs(math.log(best[i])))
        best = [v for i, v in enumerate(best) if (i - i1) % step == 0]
    return [math.log(v) for v in best]


def ratio_label(t: float) -> str:
    v = math.exp(t)
    if v >= 10:
        return fmt.integer(round(v))
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return text


def model_descriptor(method: str | None, test: str | None, level: Any = 95) -> str:
    """``IV, random, REML, Knapp–Hartung, 95% CI`` (RevMan style); ``M-H, common effect, 95% CI`` and
    ``Peto, common effect, 95% CI`` for the 2x2-table methods."""
    if method in ("MH", "PETO"):
        return f"{'M-H' if method == 'MH' else 'Peto'}, common effect, {fmt.integer(level)}% CI"
    parts = ["IV"]
    if method == "FE":
        parts.append("common effect")
    else:
        parts += ["random", METHOD_SHORT.get(method or "", str(method))]
    if test == "knha":
        parts.append("Knapp\u2013Hartung")
    return ", ".join(parts) + f", {fmt.integer(level)}% CI"


def favours_labels(higher_is_better: bool | None, arms: dict | None = None) -> tuple[str, str]:
    """(left, right) labels under the axis; effects are treatment minus control, the arms named as the
    analysis names them (``livingmeta.report.wording``)."""
    return wording.favours_labels(higher_is_better, arms)


class _Cols:
    """Column anchors of a forest plot (x positions; numeric columns are right-aligned); the data columns
    between source and weight depend on the data kind (:func:`_data_columns`)."""

    study = 2.0
    plot1 = WIDTH - 12.0

    def __init__(self, kind: str = "continuous", rob: bool = False):
        self.kind = kind
        self.cols = _data_columns(kind)
        self.rob = WIDTH - 9.0 if rob else None   # the overall risk-of-bias column (robvis rob_forest)
        if rob:
            self.plot1 = WIDTH - 30.0
        if kind == "continuous":   # six numbers per row: a narrower study column and plot
            self.study_w, self.data, self.weight, self.est, self.plot0 = 122.0, 140.0, 364.0, 480.0, 494.0
        else:
            self.study_w, self.data, self.weight, self.est, self.plot0 = 120.0, 144.0, 336.0, 450.0, 466.0


ROW = 18.0
FS = 11.0     # main font size
FS_S = 10.0   # small print (second header line, heterogeneity lines)


def _row_data(row: dict) -> dict:
    return {
        "label": row.get("label") or row.get("study") or "",
        "study": row.get("study"),
        "comparison": row.get("comparison"),
        "yi": row.get("yi"),
        "ci_lb": row.get("ci_lb"),
        "ci_ub": row.get("ci_ub"),
        "weight": row.get("weight"),
        "n1i": row.get("n1i"),
        "n2i": row.get("n2i"),
        "provenance": row.get("provenance"),
        "data_kind": row.get("kind") or "continuous",
        **{key: row.get(key) for key in KIND_KEYS},
    }


KIND_KEYS = ("estimable", "converted", "m1i", "sd1i", "m2i", "sd2i", "ai", "ci", "estimate_reported",
             "ci_lb_reported", "ci_ub_reported", "se_reported", "reported_scale")


def _layout_kind(items: list[dict]) -> str:
    """The data columns of a forest plot: those of the kind most of its studies have."""
    kinds = [it.get("data_kind") or "continuous" for it in items if it["kind"] == "study"]
    return max(("continuous", "dichotomous", "generic"), key=kinds.count) if kinds else "continuous"


def _reported(it: dict) -> str:
    """A precomputed estimate as the study file states it: ``3.74 [1.38, 10.17]`` or ``0.87 (SE 0.81)``."""
    est = it.get("estimate_reported")
    if not _ok(est):
        return MISSING_TEXT
    if _ok(it.get("ci_lb_reported"), it.get("ci_ub_reported")):
        return f"{fmt.sig(est)} [{fmt.sig(it['ci_lb_reported'])}, {fmt.sig(it['ci_ub_reported'])}]"
    return f"{fmt.sig(est)} (SE {fmt.sig(it.get('se_reported'))})"


MISSING_TEXT = "\u2014"


def _data_columns(kind: str) -> list[dict]:
    """Per data kind, the columns left of the weight: right edge ``x``, headers, the cell of a study and of
    a total row (RevMan's: mean, SD, n per arm; events/total per arm; the estimate as reported)."""
    def n_sum(key):
        return lambda rows: fmt.integer(_sum_n(rows, key))

    if kind == "continuous":
        out = []
        for arm, (m, sd, n), x0 in (("Treatment", ("m1i", "sd1i", "n1i"), 182.0), ("Control", ("m2i", "sd2i", "n2i"), 268.0)):
            out += [
                {"x": x0, "group": arm, "h2": "Mean", "total": None,
                 "cell": lambda it, m=m, arm=arm: fmt.sig(it.get(m)) + (
                     "*" if arm.lower() in str(it.get("converted") or "") else "")},
                {"x": x0 + 28, "h2": "SD", "cell": lambda it, sd=sd: fmt.sig(it.get(sd)), "total": None},
                {"x": x0 + 52, "h2": "n", "cell": lambda it, n=n: fmt.integer(it.get(n)), "total": n_sum(n)},
            ]
        return out
    if kind == "dichotomous":
        def ev(a, n):
            return lambda it: (f"{fmt.integer(it.get(a))}/{fmt.integer(it.get(n))}" if _ok(it.get(a), it.get(n))
                               else fmt.integer(it.get(n)))

        def ev_sum(a, n):
            return lambda rows: (f"{fmt.integer(_sum_n(rows, a))}/{fmt.integer(_sum_n(rows, n))}"
                                 if _sum_n(rows, a) is not None else fmt.integer(_sum_n(rows, n)))
        return [{"x": 228.0, "group": None, "h1": "Treatment", "h2": "events/total", "cell": ev("ai", "n1i"),
                 "total": ev_sum("ai", "n1i")},
                {"x": 296.0, "group": None, "h1": "Control", "h2": "events/total", "cell": ev("ci", "n2i"),
                 "total": ev_sum("ci", "n2i")}]
    return [{"x": 296.0, "group": None, "h1": "Reported", "h2": "estimate [CI] or (SE)", "cell": _reported,
             "total": None}]


def _ok(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def _sum_n(rows: Sequence[dict], key: str) -> Any:
    vals = [r.get(key) for r in rows]
    if vals and all(isinstance(v, (int, float)) for v in vals):
        return sum(vals)
    return None


def _distinct_controls(rows: Sequence[dict]) -> list[dict]:
    """The rows with each shared control arm (same study and ``control_group``) counted once."""
    seen, out = set(), []
    for r in rows:
        key = (r.get("study"), r.get("control_group")) if r.get("control_group") else id(r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


MAX_ROWS = 42  # rows of one forest plot part: taller plots are split so that each part fits an A4 page


def _forest(items: list[dict], *, analysis: dict, title: str, desc: str, show_weight: bool,
            footer_left: list[str], rob_styles: dict | None = None) -> str:
    """Draw a forest plot from a list of row items.

    Item kinds: ``study`` (square + whiskers), ``heading`` (bold label), ``diamond`` (pooled or subtotal
    estimate), ``pi`` (prediction interval bar), ``note`` (italic text across the left columns),
    ``het`` (small text under a subtotal), ``gap`` (blank half row).

    A plot with more than :data:`MAX_ROWS` rows is drawn as consecutive ``<svg>`` parts on one common
    scale (each with its header and axis; the totals and heterogeneity lines in the last part), so that
    no part is taller than a printed page.
    """
    core, ext = [], []
    for it in items:
        if it["kind"] == "study" and _ok(it.get("yi")):
            core.append(it["yi"])
            ext += [it.get("ci_lb"), it.get("ci_ub")]
        elif it["kind"] == "diamond" and it.get("bold", True):
            core += [it.get("ci_lb"), it.get("ci_ub")]
        elif it["kind"] in ("diamond", "pi"):
            core.append(it.get("estimate"))
            ext += [it.get("ci_lb"), it.get("ci_ub")]
    lo, hi, ticks = axis_range(core, ext)
    if is_ratio(analysis):
        rt = ratio_ticks(lo, hi)
        if len(rt) >= 2:
            ticks = rt
            lo, hi = min(lo, rt[0]), max(hi, rt[-1])
    chunks: list[list[dict]] = [[]]
    used = 0.0
    for it in items:
        size = 0.5 if it["kind"] == "gap" else 1.0
        if used + size > MAX_ROWS and chunks[-1]:
            chunks.append([])
            used = 0.0
        if it["kind"] == "gap" and not chunks[-1]:
            continue
        chunks[-1].append(it)
        used += size
    if len(chunks) == 1:
        return _forest_part(items, analysis=analysis, lo=lo, hi=hi, ticks=ticks, title=title, desc=desc,
                            show_weight=show_weight, footer_left=footer_left, rob_styles=rob_styles)
    parts = []
    for i, chunk in enumerate(chunks, 1):
        last = i == len(chunks)
        if not last:
            chunk = chunk + [{"kind": "note", "label": f"(continued in part {i + 1} of {len(chunks)})"}]
        parts.append(_forest_part(chunk, analysis=analysis, lo=lo, hi=hi, ticks=ticks,
                                  title=f"{title} (part {i} of {len(chunks)})", desc=desc,
                                  show_weight=show_weight, footer_left=footer_left if last else [],
                                  rob_styles=rob_styles))
    return "".join(parts)


def _forest_part(items: list[dict], *, analysis: dict, lo: float, hi: float, ticks: list[float], title: str,
                 desc: str, show_weight: bool, footer_left: list[str], rob_styles: dict | None = None) -> str:
    c = _Cols(_layout_kind(items), rob=bool(rob_styles))
    measure = analysis.get("measure") or "SMD"
    short = MEASURE_SHORT.get(measure, measure)
    canvas = Canvas(title=title, desc=desc, font_size=FS)
    scale = Scale(lo, hi, c.plot0, c.plot1)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0

    # header
    y = 14.0
    canvas.text(c.study, y, "Study", bold=True)
    canvas.text(c.data, y, "Data", bold=True, anchor="middle", size=FS_S if c.kind == "continuous" else FS)
    for col in c.cols:
        if col.get("group"):
            canvas.text(col["x"] + 12, y, col["group"], bold=True, anchor="middle")
        elif col.get("h1"):
            canvas.text(col["x"], y, col["h1"], bold=True, anchor="end")
    if show_weight:
        canvas.text(c.weight, y, "Weight", bold=True, anchor="end")
    if c.rob is not None:
        canvas.text(c.rob, y, "RoB", bold=True, anchor="middle", size=FS_S)
    canvas.text(c.est, y, f"{short} [{fmt.integer(analysis.get('level') or 95)}% CI]", bold=True, anchor="end")
    canvas.text((c.plot0 + c.plot1) / 2, y, MEASURE_LONG.get(measure, measure), bold=True, anchor="middle")
    y2 = y + 12
    canvas.text(c.data, y2, "source", size=FS_S, anchor="middle", fill=GREY)
    for col in c.cols:
        canvas.text(col["x"], y2, col["h2"], size=FS_S, anchor="end", fill=GREY)
    if show_weight:
        canvas.text(c.weight, y2, "%", size=FS_S, anchor="end", fill=GREY)
    descriptor = model_descriptor(analysis.get("method"), analysis.get("test"), analysis.get("level") or 95)
    canvas.text((c.plot0 + c.plot1) / 2, y2, truncate(descriptor, c.plot1 - c.plot0 + 20, FS_S),
                size=FS_S, anchor="middle", fill=GREY)
    top = y2 + 6
    canvas.line(0, top, WIDTH, top, stroke=LIGHT, width=0.75)

    # rows
    y = top + 4
    for it in items:
        kind = it["kind"]
        if kind == "gap":
            y += ROW / 2
            continue
        mid = y + ROW / 2
        base = mid + FS * 0.35
        if kind == "heading":
            canvas.text(c.study, base, truncate(it["label"], c.est, FS, True), bold=True)
        elif kind == "note":
            canvas.text(c.study + 8, base, truncate(it["label"], c.est - 10, FS_S), size=FS_S, italic=True,
                        fill=GREY)
        elif kind == "het":
            canvas.text(c.study + 8, base, truncate(it["label"], c.plot0 - 20, FS_S), size=FS_S, fill=GREY)
        elif kind == "study":
            label = it["label"]
            canvas.text(c.study + (8 if it.get("indent") else 0), base,
                        truncate(label, c.study_w - (8 if it.get("indent") else 0), FS),
                        tooltip=label if truncate(label, c.study_w, FS) != label else None)
            prov = it.get("provenance")
            canvas.text(c.data, base, PROVENANCE_SHORT.get(prov, str(prov)), size=FS_S, anchor="middle",
                        italic=prov == "illustrative", fill=VERMILLION if prov == "illustrative" else GREY)
            if (it.get("data_kind") or "continuous") == c.kind:
                for col in c.cols:
                    canvas.text(col["x"], base, col["cell"](it), anchor="end", size=FS_S if c.kind == "continuous" else FS)
            else:   # a study of another data kind in this analysis (e.g. a precomputed estimate)
                canvas.text(c.cols[-1]["x"], base, _reported(it) if it.get("data_kind") == "generic" else MISSING_TEXT,
                            anchor="end", size=FS_S)
            if show_weight:
                canvas.text(c.weight, base, fmt.pct(it.get("weight"), 1), anchor="end")
            if it.get("estimable") is False:
                canvas.text(c.est, base, "not estimable", anchor="end", italic=True, fill=GREY)
            else:
                canvas.text(c.est, base, shown_est_ci(analysis, it.get("yi"), it.get("ci_lb"), it.get("ci_ub")),
                            anchor="end", size=FS_S if c.kind == "continuous" else FS)
            _draw_study_mark(canvas, scale, mid, it)
            if c.rob is not None and it.get("rob") in rob_styles:
                fill, symbol, colour, label = rob_styles[it["rob"]]
                canvas.circle(c.rob, mid, 6.5, fill=fill, stroke=DARK, width=0.5, tooltip=f"Overall: {label}",
                              cls=f"rob {it['rob']}")
                canvas.text(c.rob, mid + 3.2, symbol, size=9, anchor="middle", bold=True, fill=colour)
        elif kind == "diamond":
            bold = it.get("bold", True)
            canvas.text(c.study, base, truncate(it["label"], c.cols[0]["x"] - 40, FS, bold), bold=bold)
            for col in c.cols:
                if col["total"] is not None and it.get("members") is not None:
                    canvas.text(col["x"], base, col["total"](it["members"]), anchor="end", bold=bold,
                                size=FS_S if c.kind == "continuous" else FS)
            if show_weight and it.get("weight") is not None:
                canvas.text(c.weight, base, fmt.pct(it.get("weight"), 1), anchor="end", bold=bold)
            canvas.text(c.est, base, shown_est_ci(analysis, it.get("estimate"), it.get("ci_lb"), it.get("ci_ub")),
                        anchor="end", bold=bold, size=FS_S if c.kind == "continuous" else FS)
            if _ok(it.get("estimate"), it.get("ci_lb"), it.get("ci_ub")):
                _draw_diamond(canvas, scale, mid, it, fill=BLACK if bold else GREY,
                              cls="diamond pooled" if bold else "diamond subtotal")
        elif kind == "pi":
            canvas.text(c.study, base, it["label"], italic=True)
            canvas.text(c.est, base, fmt.ci(shown(analysis, it.get("ci_lb")), shown(analysis, it.get("ci_ub"))),
                        anchor="end", italic=True)
            if _ok(it.get("ci_lb"), it.get("ci_ub")):
                _draw_pi(canvas, scale, mid, it["ci_lb"], it["ci_ub"])
        y += ROW
    rows_bottom = y + 2

    # zero line (drawn first so marks sit on top)
    if lo <= 0 <= hi:
        canvas.items.insert(0, f'<line x1="{_n(scale(0))}" y1="{_n(top)}" x2="{_n(scale(0))}" '
                               f'y2="{_n(rows_bottom)}" stroke="{GREY}" stroke-width="0.75"/>')
    # axis
    axis_y = rows_bottom
    canvas.line(c.plot0, axis_y, c.plot1, axis_y, stroke=DARK, width=0.75)
    for t in ticks:
        tx = scale(t)
        canvas.line(tx, axis_y, tx, axis_y + 4, stroke=DARK, width=0.75)
        canvas.text(tx, axis_y + 14, ratio_label(t) if is_ratio(analysis) else tick_label(t, step), size=FS_S,
                    anchor="middle")
    left, right = favours_labels(analysis.get("higher_is_better"), analysis.get("arms"))
    zx = scale(0)
    fy = axis_y + 27
    lines_l, l_end, lines_r, r_start = _place_favours(left, right, zx, c.plot0 - 90, WIDTH - 2)
    canvas.lines_of_text(l_end, fy, lines_l, size=FS_S, anchor="end", leading=11)
    canvas.lines_of_text(r_start, fy, lines_r, size=FS_S, anchor="start", leading=11)
    axis_bottom = fy + 11 * (max(len(lines_l), len(lines_r)) - 1) + 4

    # footer text (left, under the rows); lines level with the favours labels stop short of them
    left_edge = min([l_end - text_width(line, FS_S) for line in lines_l] + [c.plot0 - 14])
    fy2 = rows_bottom + 14
    for i, line in enumerate(footer_left):
        room = (c.plot0 - 14 if i == 0 else left_edge - 10) - c.study
        canvas.text(c.study, fy2, truncate(line, room, FS_S), size=FS_S)
        fy2 += 13
    bottom = max(axis_bottom, fy2 - 6) + 4
    return canvas.render(bottom)


def _place_favours(left: str, right: str, zx: float, x_min: float, x_max: float
                   ) -> tuple[list[str], float, list[str], float]:
    """Place the two "Favours ..." labels either side of the zero line. Near the right edge of the figure
    the right label slides left (the left one with it, keeping a 10 px gap); a label that still has no room
    wraps onto two lines."""
    wr = text_width(right, FS_S)
    r_start = max(min(zx + 4, x_max - wr), x_min + 20)
    l_end = min(zx - 4, r_start - 10)
    lines_l = _fit_label(left, l_end - x_min)
    lines_r = _fit_label(right, x_max - r_start)
    return lines_l, l_end, lines_r, r_start


def _fit_label(text: str, room: float) -> list[str]:
    if text_width(text, FS_S) <= room:
        return [text]
    return wrap(text, max(room, 40), FS_S)


def _draw_study_mark(canvas: Canvas, scale: Scale, mid: float, it: dict) -> None:
    yi, lb, ub = it.get("yi"), it.get("ci_lb"), it.get("ci_ub")
    if not _ok(yi):
        return
    if _ok(lb, ub):
        x_lb, x_ub = scale(scale.clamp(lb)), scale(scale.clamp(ub))
        canvas.line(x_lb, mid, x_ub, mid, stroke=DARK, width=1)
        if lb < scale.lo:
            canvas.polygon([(x_lb - 1, mid), (x_lb + 5, mid - 3.5), (x_lb + 5, mid + 3.5)], fill=DARK, cls="clip")
        if ub > scale.hi:
            canvas.polygon([(x_ub + 1, mid), (x_ub - 5, mid - 3.5), (x_ub - 5, mid + 3.5)], fill=DARK, cls="clip")
    side = it.get("square", 6.0)
    x = scale(yi)
    canvas.rect(x - side / 2, mid - side / 2, side, side, fill=BLUE, cls="study")


def _draw_diamond(canvas: Canvas, scale: Scale, mid: float, it: dict, fill: str, cls: str = "diamond") -> None:
    est, lb, ub = it["estimate"], it["ci_lb"], it["ci_ub"]
    h = 5.5
    xl, xr, xm = scale(scale.clamp(lb)), scale(scale.clamp(ub)), scale(scale.clamp(est))
    canvas.polygon([(xl, mid), (xm, mid - h), (xr, mid), (xm, mid + h)], fill=fill,
                   tooltip=f"{fmt.num(est)} {fmt.ci(lb, ub)}", cls=cls)
    if lb < scale.lo:
        canvas.polygon([(xl - 1, mid), (xl + 5, mid - 3.5), (xl + 5, mid + 3.5)], fill=DARK, cls="clip")
    if ub > scale.hi:
        canvas.polygon([(xr + 1, mid), (xr - 5, mid - 3.5), (xr - 5, mid + 3.5)], fill=DARK, cls="clip")


def _draw_pi(canvas: Canvas, scale: Scale, mid: float, lb: float, ub: float) -> None:
    xl, xr = scale(scale.clamp(lb)), scale(scale.clamp(ub))
    canvas.rect(xl, mid - 2, xr - xl, 4, fill=SKY, stroke=DARK, width=0.75, cls="pi")
    if lb < scale.lo:
        canvas.polygon([(xl - 1, mid), (xl + 5, mid - 3.5), (xl + 5, mid + 3.5)], fill=DARK, cls="clip")
    if ub > scale.hi:
        canvas.polygon([(xr + 1, mid), (xr - 5, mid - 3.5), (xr - 5, mid + 3.5)], fill=DARK, cls="clip")


def _square_sizes(rows: Sequence[dict]) -> list[float]:
    """Square side per study: area proportional to weight (RevMan/metafor), 4–14 px."""
    weights = [r.get("weight") if _ok(r.get("weight")) else None for r in rows]
    known = [w for w in weights if w is not None and w > 0]
    if not known:
        return [7.0] * len(rows)
    top = max(known)
    return [4.0 + 10.0 * math.sqrt(w / top) if w else 4.0 for w in weights]


def heterogeneity_text(a: dict) -> str:
    """``Heterogeneity: τ² = 0.24; Q = 4.36, df = 3 (p = 0.23); I² = 31%``; a multilevel model: σ² per level
    and the total I² (``σ² study 0.10, comparison 0.02; Q_E = 9.1, df = 7 (p = 0.25); I² = 40%``)."""
    if a.get("model") == "multilevel" and a.get("sigma2") is not None:
        s2 = ", ".join(f"{lev} {fmt.small(v)}" for lev, v in zip(a.get("sigma2_levels") or [], a.get("sigma2") or []))
        q = f"Q_E = {fmt.num(a.get('Q'))}, df = {fmt.integer(a.get('Q_df'))} ({fmt.p_eq(a.get('Q_pval'))})"
        return f"Heterogeneity: \u03c3\u00b2 {s2}; {q}; I\u00b2 = {fmt.pct(a.get('I2'))}"
    parts = []
    if a.get("method") not in ("FE", "MH", "PETO"):
        parts.append(f"\u03c4\u00b2 = {fmt.small(a.get('tau2'))}")
    q = f"Q = {fmt.num(a.get('Q'))}"
    if a.get("Q_df") is not None:
        q += f", df = {fmt.integer(a.get('Q_df'))}"
    if a.get("Q_pval") is not None:
        q += f" ({fmt.p_eq(a.get('Q_pval'))})"
    parts.append(q)
    parts.append(f"I\u00b2 = {fmt.pct(a.get('I2'))}")
    return "Heterogeneity: " + "; ".join(parts)


def overall_test_text(a: dict) -> str:
    """``Test for overall effect: t = 5.29, df = 3 (p = 0.013)``."""
    stat = a.get("stat") or {}
    name = stat.get("name") or "z"
    text = f"Test for overall effect: {name} = {fmt.num(stat.get('value'))}"
    if stat.get("df") is not None:
        text += f", df = {fmt.integer(stat.get('df'))}"
    return text + f" ({fmt.p_eq(a.get('pval'))})"


def forest_plot(a: dict, rob: dict | None = None) -> str:
    """The forest plot of one analysis (an ``analyses[]`` entry of results.json). With ``rob`` (results.json's
    ``risk_of_bias``) of a tool that has an overall judgement, a last column shows each study's overall
    judgement as the traffic-light figure draws it (robvis ``rob_append_to_forest``)."""
    rows = [_row_data(r) for r in a.get("studies") or []]
    overall = _rob_overall(rob or {})
    styles = None
    if overall and any(r["study"] in overall for r in rows):
        styles = dict(_rob_styles(rob))
        for r in rows:
            r["rob"] = (overall.get(r["study"]) or {}).get("judgement")
    for r, side in zip(rows, _square_sizes(rows)):
        r["square"] = side
    items: list[dict] = [{"kind": "study", **r} for r in rows]
    k = a.get("k") or len(rows)
    footer: list[str] = []
    pooled = bool(a.get("pooled")) and k >= 2
    if pooled:
        items.append({"kind": "gap"})
        items.append({"kind": "diamond", "label": f"Total (k = {k})", "estimate": a.get("estimate"),
                      "members": rows,
                      "ci_lb": a.get("ci_lb"), "ci_ub": a.get("ci_ub"), "n1i": _sum_n(rows, "n1i"),
                      "n2i": _sum_n(_distinct_controls(a.get("studies") or []), "n2i"),
                      "weight": 100.0 if a.get("method") else None})
        if _ok(a.get("pi_lb"), a.get("pi_ub")):
            items.append({"kind": "pi", "label": f"{fmt.integer(a.get('level') or 95)}% prediction interval",
                          "ci_lb": a.get("pi_lb"), "ci_ub": a.get("pi_ub")})
        footer = [heterogeneity_text(a), overall_test_text(a)]
        if a.get("model") == "multilevel":
            st = a.get("structure") or {}
            footer.append(f"Multilevel model: {st.get('comparisons')} comparisons in {st.get('studies')} studies; "
                          "weights as metafor's weights() for rma.mv")
        if any(r.get("converted") for r in rows):
            footer.append("* mean and SD estimated from the median and IQR/range (Luo et al. 2018; Wan et al. 2014)")
    else:
        items.append({"kind": "note", "label": "Single study: no pooled estimate (k = 1)." if k == 1 else
                      "No pooled estimate."})
    title = f"Forest plot: {a.get('label') or a.get('outcome')}, {a.get('timepoint')}"
    desc = (f"{len(rows)} studies; pooled {MEASURE_SHORT.get(a.get('measure'), a.get('measure'))} "
            f"{shown_est_ci(a, a.get('estimate'), a.get('ci_lb'), a.get('ci_ub'))}" if pooled else
            f"{len(rows)} study; no pooling")
    if styles:
        footer.append("RoB: overall risk-of-bias judgement (" + ", ".join(
            f"{sym} {_rob_short(label)}" for _, (_, sym, _, label) in styles.items()) + ")")
    return _forest(items, analysis=a, title=title, desc=desc, show_weight=True, footer_left=footer,
                   rob_styles=styles)


def subgroup_forest_plot(a: dict, sg: dict, study_rows: bool = True) -> str:
    """Forest plot of one subgroup variable of an analysis: per level its studies and subtotal diamond,
    then the overall estimate and the test for subgroup differences; without ``study_rows``, the levels'
    subtotals only (a printed summary of a long analysis)."""
    all_rows = [_row_data(r) for r in a.get("studies") or []]
    for r, side in zip(all_rows, _square_sizes(all_rows)):
        r["square"] = side
    by_id: dict[Any, list[dict]] = {}   # a study's rows: one, or one per comparison
    for r in all_rows:
        by_id.setdefault(r["study"], []).append(r)
    items: list[dict] = []
    for level in sg.get("levels") or []:
        if level.get("comparisons"):  # a study's comparisons in several subgroups: the rows of this one
            chosen = {(s, c) for s, c in level["comparisons"]}
            members = [r for r in all_rows if (r["study"], r.get("comparison")) in chosen]
        else:
            members = [r for s in level.get("studies") or [] for r in by_id.get(s, [])]
        items.append({"kind": "heading", "label": str(level.get("level"))})
        for r in members if study_rows else []:
            items.append({"kind": "study", "indent": True, **r})
        k = level.get("k") if level.get("k") is not None else len(members)
        items.append({"kind": "diamond", "bold": False, "label": f"Subtotal (k = {fmt.integer(k)})",
                      "members": members,
                      "estimate": level.get("estimate"), "ci_lb": level.get("ci_lb"), "ci_ub": level.get("ci_ub"),
                      "n1i": _sum_n(members, "n1i"), "n2i": _sum_n(members, "n2i")})
        if sg.get("tau2_model") == "multilevel":
            het = "Heterogeneity: variance components common to all subgroups"
        elif k is not None and k >= 2:
            het = f"Heterogeneity: \u03c4\u00b2 = {fmt.small(level.get('tau2'))}; I\u00b2 = {fmt.pct(level.get('I2'))}"
        else:
            het = "Heterogeneity: not applicable (one study)"
        items.append({"kind": "het", "label": het})
        items.append({"kind": "gap"})
    if a.get("pooled"):
        items.append({"kind": "diamond", "label": f"Overall (k = {a.get('k')})", "estimate": a.get("estimate"),
                      "members": all_rows,
                      "ci_lb": a.get("ci_lb"), "ci_ub": a.get("ci_ub"), "n1i": _sum_n(all_rows, "n1i"),
                      "n2i": _sum_n(all_rows, "n2i")})
    footer = [subgroup_test_text(sg)]
    if sg.get("tau2_model") == "multilevel":
        footer.append("Multilevel model with the subgroup as moderator; variance components common to all subgroups.")
    elif sg.get("tau2_model") == "common":
        footer.append("\u03c4\u00b2 common to all subgroups (mixed-effects model).")
    else:
        footer.append("\u03c4\u00b2 estimated separately within each subgroup.")
    label = sg.get("label") or sg.get("variable")
    title = f"Subgroup forest plot: {a.get('label') or a.get('outcome')}, {a.get('timepoint')}, by {label}"
    desc = f"{len(sg.get('levels') or [])} subgroups; {subgroup_test_text(sg)}"
    return _forest(items, analysis=a, title=title, desc=desc, show_weight=False, footer_left=footer)


def subgroup_test_text(sg: dict) -> str:
    """``Test for subgroup differences: Q = 0.54, df = 2 (p = 0.76)``."""
    if sg.get("Q_between") is None:
        return "Test for subgroup differences: not estimable"
    if sg.get("tau2_model") == "multilevel" and sg.get("Q_between_test") == "F":   # t tests: F(m, ddf)
        return (f"Test for subgroup differences: F = {fmt.num(sg.get('Q_between'))}, df = "
                f"{fmt.integer(sg.get('Q_between_df'))}, {fmt.integer(sg.get('Q_between_df2'))} "
                f"({fmt.p_eq(sg.get('Q_between_pval'))})")
    text = f"Test for subgroup differences: Q = {fmt.num(sg.get('Q_between'))}"
    if sg.get("Q_between_df") is not None:
        text += f", df = {fmt.integer(sg.get('Q_between_df'))}"
    return text + f" ({fmt.p_eq(sg.get('Q_between_pval'))})"


# ---------------------------------------------------------------------------------------------------
# small-study effects: funnel plot, Egger's and Begg's tests, trim-and-fill

FUNNEL_WIDTH = 340.0
FUNNEL_HEIGHT = 200.0  # of the plotting area


def imputed_studies(a: dict) -> list[dict]:
    """The studies trim-and-fill imputed (``small_study.trim_and_fill.imputed``, ``[{yi, sei}]``); empty
    when small-study effects were not assessed or no study was imputed (k0 = 0)."""
    ss = a.get("small_study") or {}
    tf = (ss.get("trim_and_fill") or {}) if ss.get("assessed") else {}
    return [p for p in tf.get("imputed") or [] if _ok(p.get("yi"), p.get("sei"))]


def funnel_plot(a: dict) -> str | None:
    """The funnel plot of one analysis from its ``small_study.funnel`` block (metafor ``funnel()``'s
    default): study effects on x, standard errors on y (0 at the top), the pseudo confidence region
    (dashed) and the pooled estimate (vertical line), and the studies imputed by trim-and-fill as open
    circles with the adjusted estimate (dotted vertical line). None when small-study effects were not
    assessed."""
    ss = a.get("small_study") or {}
    funnel = ss.get("funnel") if ss.get("assessed") else None
    if not funnel:
        return None
    points = [p for p in funnel.get("studies") or [] if _ok(p.get("yi"), p.get("sei"))]
    est, se_max = funnel.get("estimate"), funnel.get("se_max")
    base = (funnel.get("region") or [{}])[-1]
    if not points or not _ok(est, se_max, base.get("lb"), base.get("ub")):
        return None
    imputed = imputed_studies(a)
    labels = {r.get("study"): r.get("label") or r.get("study") for r in a.get("studies") or []}
    short = MEASURE_SHORT.get(a.get("measure"), a.get("measure") or "Effect")
    xs = [p["yi"] for p in points + imputed]
    lo, hi, xticks = nice_ticks(min([base["lb"]] + xs), max([base["ub"]] + xs), 4)
    ratio = is_ratio(a)   # logs on the axis, labelled with the ratios (metafor funnel(atransf=exp))
    if ratio and len(ratio_ticks(lo, hi, 4)) >= 2:
        xticks = ratio_ticks(lo, hi, 4)
        lo, hi = min(lo, xticks[0]), max(hi, xticks[-1])
    _, se_top, yticks = nice_ticks(0.0, se_max, 4)
    x0, x1, y0 = 48.0, FUNNEL_WIDTH - 10.0, 8.0
    y1 = y0 + FUNNEL_HEIGHT
    sx = Scale(lo, hi, x0, x1)
    sy = Scale(0.0, se_top, y0, y1)
    label = f"{a.get('label') or a.get('outcome')}, {a.get('timepoint')}"
    desc = f"{len(points)} studies"
    if imputed:
        desc += f", {len(imputed)} imputed by trim-and-fill (open circles)"
    canvas = Canvas(FUNNEL_WIDTH, title=f"Funnel plot: {label}", desc=f"{desc}; {egger_text(a)}", font_size=FS)
    canvas.rect(x0, y0, x1 - x0, y1 - y0, stroke=LIGHT, width=0.75)
    apex, yb = sx(est), sy(se_max)
    canvas.line(apex, y0, sx(base["lb"]), yb, stroke=GREY, width=0.75, dash="4 3")
    canvas.line(apex, y0, sx(base["ub"]), yb, stroke=GREY, width=0.75, dash="4 3")
    canvas.line(apex, y0, apex, y1, stroke=DARK, width=0.75)
    adjusted = ((ss.get("trim_and_fill") or {}).get("estimate") if imputed else None)
    if _ok(adjusted) and lo <= adjusted <= hi:  # where the funnel's centre moves with the imputed studies
        canvas.line(sx(adjusted), y0, sx(adjusted), y1, stroke=DARK, width=0.75, dash="1 2")
    for p in imputed:  # open circles, outer radius that of the dots (r + half the stroke = 3.2)
        canvas.circle(sx(p["yi"]), sy(p["sei"]), 2.7, fill="#FFFFFF", stroke=DARK, width=1, cls="imputed",
                      tooltip=f"Imputed by trim-and-fill: {short} {fmt.num(shown(a, p['yi']))}, SE {fmt.num(p['sei'])}")
    for p in points:
        canvas.circle(sx(p["yi"]), sy(p["sei"]), 3.2, fill=DARK, cls="study",
                      tooltip=f"{labels.get(p.get('study'), p.get('study'))}: {short} {fmt.num(shown(a, p['yi']))}, "
                              f"SE {fmt.num(p['sei'])}")
    xstep = xticks[1] - xticks[0] if len(xticks) > 1 else 1.0
    for t in xticks:
        canvas.line(sx(t), y1, sx(t), y1 + 4, stroke=DARK, width=0.75)
        canvas.text(sx(t), y1 + 14, ratio_label(t) if ratio else tick_label(t, xstep), size=FS_S, anchor="middle")
    ystep = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0
    for t in yticks:
        canvas.line(x0 - 4, sy(t), x0, sy(t), stroke=DARK, width=0.75)
        canvas.text(x0 - 6, sy(t) + FS_S * 0.35, tick_label(t, ystep), size=FS_S, anchor="end")
    canvas.text((x0 + x1) / 2, y1 + 28, MEASURE_LONG.get(a.get("measure"), short), size=FS_S, anchor="middle")
    canvas.text(12, (y0 + y1) / 2, f"Standard error of log {short}" if ratio else "Standard error", size=FS_S,
                anchor="middle", rotate=-90)
    return canvas.render(y1 + 34, css_class="figure-svg funnel")


def egger_text(a: dict) -> str:
    """``Egger's regression test: SE as predictor t = 1.52, df = 8 (p = 0.17); 1/√n as predictor ...``."""
    ss = a.get("small_study") or {}
    parts = []
    for key, name in (("egger_se", "SE"), ("egger_sqrtninv", "1/\u221an")):
        res = ss.get(key)
        if not res:
            continue
        text = f"{name} as predictor {'z' if res.get('dfs') is None else 't'} = {fmt.num(res.get('zval'))}"
        if res.get("dfs") is not None:
            text += f", df = {fmt.integer(res.get('dfs'))}"
        parts.append(text + f" ({fmt.p_eq(res.get('pval'))})")
    return "Egger's regression test: " + ("; ".join(parts) or "not available")


def rank_test_text(a: dict) -> str | None:
    """``Begg's rank correlation: Kendall's τ = 0.12, p = 0.58``; None without ``small_study.rank_test``."""
    res = (a.get("small_study") or {}).get("rank_test")
    if not res:
        return None
    return f"Begg's rank correlation: Kendall's \u03c4 = {fmt.num(res.get('tau'))}, {fmt.p_eq(res.get('pval'))}"


def trim_and_fill_text(a: dict) -> str | None:
    """``Trim-and-fill (L0): 2 studies imputed on the left; adjusted SMD 1.23 (95% CI 0.45 to 2.01)`` or
    ``Trim-and-fill (L0): no studies imputed``, followed by the engine's notes (non-convergence) when it
    has any; None without ``small_study.trim_and_fill``."""
    tf = (a.get("small_study") or {}).get("trim_and_fill")
    if not tf:
        return None
    head = f"Trim-and-fill ({tf.get('estimator')}): "
    notes = "".join(f" (note: {w})" for w in tf.get("warnings") or [])  # e.g. the iterations did not converge
    k0 = tf.get("k0")
    if not k0:
        return head + "no studies imputed" + notes
    short = MEASURE_SHORT.get(a.get("measure"), a.get("measure") or "effect")
    return (head + f"{fmt.integer(k0)} {'study' if k0 == 1 else 'studies'} imputed on the {tf.get('side')}; "
            f"adjusted {short} {fmt.num(tf.get('estimate'))} ({fmt.integer(a.get('level') or 95)}% CI "
            f"{fmt.num(tf.get('ci_lb'))} to {fmt.num(tf.get('ci_ub'))}){notes}")


# ---------------------------------------------------------------------------------------------------
# PRISMA 2020 flow diagram (updated reviews: databases and registers)

SOURCE_NAMES = {
    "pubmed": "PubMed", "medline": "MEDLINE", "embase": "Embase", "cochrane": "Cochrane Library",
    "central": "CENTRAL", "web_of_science": "Web of Science", "wos": "Web of Science", "scopus": "Scopus",
    "psycinfo": "PsycINFO", "cinahl": "CINAHL", "google_scholar": "Google Scholar",
    "clinicaltrials_gov": "ClinicalTrials.gov", "ictrp": "WHO ICTRP", "biorxiv": "bioRxiv",
}


def source_name(source: str) -> str:
    key = str(source).strip().lower().replace("-", "_").replace(" ", "_")
    return SOURCE_NAMES.get(key, fmt.humanise(source))


def _count(x: Any) -> str:
    return fmt.integer(x) if x is not None else "not reported"


class _Box:
    def __init__(self, x: float, w: float, lines: list[tuple[str, bool]], *, fill: str = "#FFFFFF",
                 size: float = 10.0, align: str = "start"):
        self.x, self.w, self.fill, self.size, self.align = x, w, fill, size, align
        self.lines: list[tuple[str, bool, float]] = []
        for line in lines:
            text, bold = line[0], line[1]
            indent = line[2] if len(line) > 2 else 0.0
            for piece in wrap(text, w - 14 - indent, size, bold):
                self.lines.append((piece, bold, indent))
        self.leading = size * 1.3
        self.h = len(self.lines) * self.leading + 12
        self.y = 0.0

    def draw(self, canvas: Canvas, h: float | None = None) -> None:
        h = h or self.h
        canvas.rect(self.x, self.y, self.w, h, fill=self.fill, stroke=DARK, width=0.9, cls="box")
        ty = self.y + 6 + self.size
        tx = self.x + 7 if self.align == "start" else self.x + self.w / 2
        for text, bold, indent in self.lines:
            canvas.text(tx + indent, ty, text, size=self.size, bold=bold,
                        anchor="start" if self.align == "start" else "middle")
            ty += self.leading


class _PreviousBox(_Box):
    """"Studies included in previous version of review (n = ...)" with, under a rule, the previous
    version's own flow counts in small print."""

    def __init__(self, x: float, w: float, n_prev: Any, previous: dict, n_reports: Any = None):
        lines = [(f"Studies included in previous version of review (n = {_count(n_prev)})", False)]
        if n_reports is not None:
            lines.append((f"Reports of studies included in previous version of review (n = {_count(n_reports)})",
                          False))
        super().__init__(x, w, lines)
        self.detail: list[tuple[str, bool]] = []
        for text, bold in _previous_flow_lines(previous):
            for piece in wrap(text, w - 14, 8.5, bold):
                self.detail.append((piece, bold))
        if self.detail:
            self.h += 8 + len(self.detail) * 8.5 * 1.3

    def draw(self, canvas: Canvas, h: float | None = None) -> None:
        super().draw(canvas, h)
        if not self.detail:
            return
        ry = self.y + 6 + len(self.lines) * self.leading + 2
        canvas.line(self.x + 6, ry, self.x + self.w - 6, ry, stroke=LIGHT, width=0.75)
        ty = ry + 4 + 8.5
        for text, bold in self.detail:
            canvas.text(self.x + 7, ty, text, size=8.5, bold=bold, fill=DARK if bold else "#333333")
            ty += 8.5 * 1.3


def _reason_lines(reasons: Any) -> list[tuple]:
    if isinstance(reasons, dict):
        return [(f"{reason} (n = {_count(n)})", False, 12.0) for reason, n in reasons.items()]
    return []


def prisma_flow(prisma: dict, *, registers: int | None = None) -> str:
    """The PRISMA 2020 flow diagram for updated systematic reviews (databases and registers only).

    With a previous version (``previous_studies`` > 0 or a ``previous`` flow), the left column shows the
    studies included in the previous version, with that version's own flow counts, and an arrow into the
    total; without one, the diagram is the variant for new reviews.
    """
    previous = prisma.get("previous") or {}
    n_prev = prisma.get("previous_studies")
    has_prev = bool(previous) or bool(n_prev)
    canvas = Canvas(title="PRISMA 2020 flow diagram", desc="Flow of records and reports through the review",
                    font_size=10)
    side_w = 20.0
    gap = 14.0
    if has_prev:
        prev_x, prev_w = side_w + 8, 170.0
        main_x = prev_x + prev_w + gap
    else:
        prev_x = prev_w = 0.0
        main_x = side_w + 8
    right_w = 210.0
    right_x = WIDTH - right_w - 2
    main_w = right_x - 28 - main_x

    # header row
    y = 2.0
    heads = []
    if has_prev:
        heads.append(_Box(prev_x, prev_w, [("Previous studies", True)], fill=PRISMA_HEAD, align="middle"))
    heads.append(_Box(main_x, right_x + right_w - main_x,
                      [("Identification of new studies via databases and registers", True)],
                      fill=PRISMA_HEAD, align="middle"))
    head_h = max(b.h for b in heads)
    for b in heads:
        b.y = y
        b.draw(canvas, head_h)
    y += head_h + 16

    identified = prisma.get("identified") or {}
    total_identified = sum(v for v in identified.values() if isinstance(v, (int, float)))
    ident_lines = [("Records identified from:", True),
                   (f"Databases (n = {_count(total_identified)})", False)]
    ident_lines += [(f"{source_name(s)} (n = {_count(n)})", False, 12.0) for s, n in identified.items()]
    ident_lines.append((f"Registers (n = {_count(registers if registers is not None else 0)})", False))

    excluded = prisma.get("reports_excluded")
    n_excl = _total(excluded)

    def line(label: str, key: str, indent: float = 0.0) -> tuple:
        return (f"{label} (n = {_count(prisma.get(key))})", False, indent)

    removed = [("Records removed before screening:", True),
               line("Duplicate records removed", "duplicates_removed", 8.0)]
    if "automation_removed" in prisma:
        removed.append(line("Records marked as ineligible by automation tools", "automation_removed", 8.0))
    if "other_removed" in prisma:
        removed.append(line("Records removed for other reasons", "other_removed", 8.0))
    screened_right = [line("Records excluded", "records_excluded")]
    if prisma.get("records_awaiting_screening"):
        screened_right.append(line("Records awaiting screening", "records_awaiting_screening"))
    sought_right = [line("Reports not retrieved", "reports_not_retrieved")]
    if prisma.get("reports_awaiting_assessment"):
        sought_right.append(line("Reports awaiting assessment", "reports_awaiting_assessment"))
    new_lines = [line("New studies included in review", "new_studies")]
    if prisma.get("new_reports") is not None:
        new_lines.append(line("Reports of new included studies", "new_reports"))
    excluded_lines = [(f"Reports excluded (n = {_count(n_excl)}):", True)] + _reason_lines(excluded)
    rows = [
        ("Identification", _Box(main_x, main_w, ident_lines), _Box(right_x, right_w, removed)),
        ("Screening", _Box(main_x, main_w, [line("Records screened", "records_screened")]),
         _Box(right_x, right_w, screened_right)),
        ("Screening", _Box(main_x, main_w, [line("Reports sought for retrieval", "reports_sought")]),
         _Box(right_x, right_w, sought_right)),
        ("Screening", _Box(main_x, main_w, [line("Reports assessed for eligibility", "reports_assessed")]),
         _Box(right_x, right_w, excluded_lines)),
        ("Included", _Box(main_x, main_w, new_lines), None),
    ]
    phase_span: dict[str, list[float]] = {}
    layout = []
    for i, (phase, main, right) in enumerate(rows):
        h = max(main.h, right.h if right else 0)
        main.y = y + (h - main.h) / 2 if right else y
        if right:
            right.y = y + (h - right.h) / 2
        layout.append((phase, main, right, y, h))
        span = phase_span.setdefault(phase, [y - 8, y + h + 8])
        span[1] = y + h + 8
        y += h + (22 if i + 1 < len(rows) else 0)
    for i, (phase, main, right, row_y, h) in enumerate(layout):
        main.draw(canvas)
        if right:
            right.draw(canvas)
            my = main.y + main.h / 2
            canvas.arrow(main.x + main.w, my, right.x, my)
        if i + 1 < len(layout):
            nxt = layout[i + 1][1]
            canvas.arrow(main.x + main.w / 2, main.y + main.h, main.x + main.w / 2, nxt.y)
    prev_box = None
    if has_prev:
        prev_box = _PreviousBox(prev_x, prev_w, n_prev, previous, prisma.get("previous_reports"))
        prev_box.y = layout[0][3]
        prev_box.draw(canvas)
    # total
    if has_prev:
        total_lines = [(f"Total studies included in review (n = {_count(prisma.get('total_studies'))})", True)]
        if prisma.get("total_reports") is not None:
            total_lines.append((f"Reports of total included studies (n = {_count(prisma['total_reports'])})", False))
        total = _Box(main_x, main_w, total_lines)
        total.y = max(y + 22, (prev_box.y + prev_box.h + 18) if prev_box else 0)
        total.draw(canvas)
        last = layout[-1][1]
        canvas.arrow(last.x + last.w / 2, last.y + last.h, last.x + last.w / 2, total.y)
        if prev_box:
            ax = prev_x + prev_w / 2
            ty = total.y + total.h / 2
            canvas.line(ax, prev_box.y + prev_box.h, ax, ty, stroke=DARK)
            canvas.arrow(ax, ty, total.x, ty)
        phase_span["Included"][1] = total.y + total.h + 8
        bottom = total.y + total.h
    else:
        bottom = y
    # phase sidebars
    for phase, (y0, y1) in phase_span.items():
        height = y1 - y0 - 6
        canvas.rect(2, y0, side_w, height, fill=PRISMA_SIDE, stroke=DARK, width=0.6, rx=3)
        size = min(10.0, (height - 6) / max(text_width(phase, 1, True), 1e-9))
        canvas.text(2 + side_w / 2 + size * 0.35, y0 + height / 2, phase, bold=True, anchor="middle", rotate=-90,
                    size=round(size, 1))
    return canvas.render(bottom + 4)


PREVIOUS_LABELS = [
    ("identified", "Records identified"),
    ("duplicates_removed", "Duplicates removed"),
    ("records_screened", "Records screened"),
    ("records_excluded", "Records excluded"),
    ("reports_sought", "Reports sought"),
    ("reports_not_retrieved", "Reports not retrieved"),
    ("reports_assessed", "Reports assessed"),
    ("reports_excluded", "Reports excluded"),
    ("total_studies", "Studies included"),
]


def _total(value: Any) -> Any:
    if isinstance(value, dict):
        return sum(v for v in value.values() if isinstance(v, (int, float)))
    return value


def _previous_flow_lines(previous: dict) -> list[tuple[str, bool]]:
    if not previous:
        return []
    title = str(previous.get("label") or previous.get("version") or "Previous version")
    title = title[:1].upper() + title[1:]
    lines = [(f"{title}: its own flow", True)]
    if previous.get("search_date"):
        approx = " (approximate)" if previous.get("search_date_approximate") else ""
        lines.append((f"Searched {previous['search_date']}{approx}", False))
    for key, label in PREVIOUS_LABELS:
        if previous.get(key) is not None:
            lines.append((f"{label}: {_count(_total(previous[key]))}", False))
    return lines


# ---------------------------------------------------------------------------------------------------
# Risk of bias (any tool: judgements, colours and symbols from its definition, via summary.json)


ROB_MAX_ROWS = 34  # studies per traffic-light part (one A4 page)


def _rob_styles(rob: dict) -> list[tuple[str, tuple[str, str, str, str]]]:
    """The tool's judgements in legend order as ``(id, (fill, symbol, symbol colour, label))``, from the
    tool's definition carried by ``summary.json`` (``judgements``); SYRCLE's when it has none."""
    levels = rob.get("judgements")
    if not levels:
        return [(key, ROB_STYLE[key]) for key in ("low", "unclear", "high")]
    return [(j["id"], (j.get("fill") or "#FFFFFF", j.get("symbol") or "", j.get("text") or BLACK,
                       j.get("label") or j["id"])) for j in levels]


def _rob_short(label: str) -> str:
    """"Low risk" -> "low", "Some concerns" -> "some concerns" (for the figures' descriptions)."""
    text = label.lower()
    return text[:-5] if text.endswith(" risk") else text


def _rob_overall(rob: dict) -> dict:
    """study -> overall judgement entry, for tools with an overall judgement (else empty)."""
    overall = {s: o for s, o in (rob.get("overall") or {}).items() if o and o.get("judgement")}
    return overall if overall or rob.get("overall_rule") else {}


def rob_traffic_light(rob: dict, labels: dict[str, str] | None = None) -> str:
    """robvis-style traffic-light table (McGuinness & Higgins 2021, Res Synth Methods 12:55-61): one row
    per study, one column per item or domain of the tool (D1..Dn), then the overall judgement when the
    tool has one; a coloured circle with a symbol per judgement, colours, symbols and legend from the
    tool's definition, and the key of items or domains. More than :data:`ROB_MAX_ROWS` studies are drawn
    as consecutive ``<svg>`` parts."""
    order = list(rob.get("studies") or {})
    chunks = [order[i:i + ROB_MAX_ROWS] for i in range(0, len(order), ROB_MAX_ROWS)] or [[]]
    return "".join(_rob_traffic_part(rob, labels or {}, chunk, with_legend=i == len(chunks) - 1,
                                     part=(i + 1, len(chunks)) if len(chunks) > 1 else None)
                   for i, chunk in enumerate(chunks))


def rob_traffic_block(rob: dict, labels: dict[str, str] | None, order: list[str], *, last: bool) -> str:
    """The traffic-light rows of the studies ``order`` (one block of the layout in pages, at most
    :data:`ROB_MAX_ROWS`), with the legend when ``last``; not numbered, so that a block depends on its
    own studies only."""
    return _rob_traffic_part(rob, labels or {}, order, with_legend=last, part=None)


def _rob_traffic_part(rob: dict, labels: dict[str, str], order: list[str], *, with_legend: bool,
                      part: tuple[int, int] | None) -> str:
    items = rob.get("items") or []
    studies = rob.get("studies") or {}
    styles = _rob_styles(rob)
    style = dict(styles)
    missing = ROB_STYLE["not_assessed"]
    overall = _rob_overall(rob)
    term = rob.get("term") or "item"
    title = f"{rob.get('tool') or 'Risk of bias'}: judgements per study and {term}"
    if part:
        title += f" (part {part[0]} of {part[1]})"
    desc = ", ".join(f"{st[1]} {_rob_short(st[3])}" for _, st in styles)
    canvas = Canvas(title=title, desc=f"Traffic-light table; {desc} risk of bias", font_size=10)
    label_w = max([text_width(labels.get(s, s), 10) for s in order] + [60]) + 10
    label_w = min(label_w, 140)
    col = 30.0
    cell = 24.0
    x0 = label_w
    top = 30.0
    overall_x = x0 + col * len(items) + col * 0.4 + col / 2   # the overall column, set apart
    grid_right = x0 + col * len(items) + (col * 1.4 if overall else 0)
    canvas.text(x0 + col * len(items) / 2, 12, term.capitalize(), bold=True, anchor="middle")
    for j, item in enumerate(items):
        cx = x0 + col * j + col / 2
        canvas.text(cx, top - 4, f"D{j + 1}", bold=True, anchor="middle", tooltip=item.get("label"))
    if overall:
        canvas.text(overall_x, top - 4, "Overall", bold=True, anchor="middle",
                    tooltip=rob.get("overall_rule") or "Overall judgement")
    canvas.text(2, top - 4, "Study", bold=True)
    for i, study in enumerate(order):
        cy = top + i * cell + cell / 2
        if i % 2 == 0:
            canvas.rect(0, cy - cell / 2, grid_right, cell, fill="#F5F5F5")
        canvas.text(2, cy + 3.5, truncate(labels.get(study, study), label_w - 8, 10))
        cells = [(x0 + col * j + col / 2, item.get("label"), (studies.get(study) or {}).get(item.get("id")) or {})
                 for j, item in enumerate(items)]
        if overall:
            cells.append((overall_x, "Overall", overall.get(study) or {}))
        for cx, what, entry in cells:
            judgement = entry.get("judgement") or "not_assessed"
            fill, symbol, colour, legend = style.get(judgement, missing)
            tip = f"{labels.get(study, study)} \u2013 {what}: {legend}"
            if entry.get("source") == "override":
                tip += f" (reviewers' judgement; the tool's rule gives {_rob_short(style.get(entry.get('rule'), missing)[3])})"
            if entry.get("support"):
                tip += f". {entry['support']}"
            canvas.circle(cx, cy, 9, fill=fill, stroke=DARK, width=0.6, tooltip=tip, cls=f"rob {judgement}")
            if symbol:
                canvas.text(cx, cy + 4.2, symbol, size=12, bold=True, anchor="middle", fill=colour)
    grid_bottom = top + len(order) * cell
    # key of items to the right of the grid, or below when there is no room
    key_x = grid_right + 16
    key_w = WIDTH - key_x - 2
    key_y = top + 2
    if key_w < 160:
        key_x, key_y, key_w = 2, grid_bottom + 40, WIDTH - 4
    canvas.text(key_x, key_y - 14 if key_y == top + 2 else key_y, f"{term.capitalize()}s", bold=True)
    ky = key_y + (0 if key_y == top + 2 else 14)
    for j, item in enumerate(items):
        text = f"D{j + 1}: {item.get('label') or item.get('id')}"
        if item.get("domain") and text_width(f"{text} ({item['domain'].lower()})", 9.5) <= key_w:
            text += f" ({item['domain'].lower()})"
        canvas.text(key_x, ky, truncate(text, key_w, 9.5), size=9.5, tooltip=item.get("domain"))
        ky += 12.5
    # legend under the grid (last part only)
    if not with_legend:
        return canvas.render(max(grid_bottom, ky) + 6)
    ly = grid_bottom + 18
    lx = 2.0
    legend_w = text_width("Judgement:", 10, True) + 12 + sum(20 + text_width(st[3], 10) + 18 for _, st in styles)
    if key_y == top + 2 and ly - 8 < ky and lx + legend_w > key_x - 4:
        ly = ky + 10                      # few studies and a wide legend: below the key, not across it
    canvas.text(lx, ly + 4, "Judgement:", bold=True)
    lx += text_width("Judgement:", 10, True) + 12
    for key, (fill, symbol, colour, legend) in styles:
        width = 20 + text_width(legend, 10) + 18
        if lx + width > WIDTH and lx > 2 + text_width("Judgement:", 10, True) + 12:
            ly += 20                                  # many judgements (ROBINS-I): a second line
            lx = 2 + text_width("Judgement:", 10, True) + 12
        canvas.circle(lx + 8, ly, 8, fill=fill, stroke=DARK, width=0.6)
        canvas.text(lx + 8, ly + 4, symbol, size=11, bold=True, anchor="middle", fill=colour)
        canvas.text(lx + 20, ly + 4, legend)
        lx += width
    bottom = max(ly + 12, ky)
    return canvas.render(bottom + 4)


def rob_summary_chart(rob: dict, weights: dict[str, float] | None = None) -> str:
    """robvis-style summary (``rob_summary``): per item or domain, and for the overall judgement when the
    tool has one, a 100% stacked bar of the share of studies per judgement, colours and legend from the
    tool's definition, with percentages printed in segments wide enough to hold them.

    ``weights`` (study -> its weight in an analysis) draws robvis's weighted summary
    (``rob_summary(weighted = TRUE)``): each study counts with its weight; studies without a weight are
    left out. Without weights every study counts once."""
    items = rob.get("items") or []
    studies = rob.get("studies") or {}
    summary = rob.get("summary") or {}
    styles = _rob_styles(rob)
    overall = _rob_overall(rob)
    term = rob.get("term") or "item"
    weighted = bool(weights)
    short = ", ".join(_rob_short(st[3]) for _, st in styles)
    if weighted:
        title = f"{rob.get('tool') or 'Risk of bias'}: share of the analysis weight per judgement"
        desc = f"Stacked bars per {term}: {short} risk of bias (% of the studies' weight)"
    else:
        title = f"{rob.get('tool') or 'Risk of bias'}: proportion of studies per judgement"
        desc = f"Stacked bars per {term}: {short} risk of bias (% of studies)"
    canvas = Canvas(title=title, desc=desc, font_size=10)
    rows: list[tuple[str, dict[str, float]]] = []
    for item in items:
        if weighted:
            counts: dict[str, float] = {}
            for sid, w in weights.items():
                j = ((studies.get(sid) or {}).get(item.get("id")) or {}).get("judgement")
                if j and isinstance(w, (int, float)) and w > 0:
                    counts[j] = counts.get(j, 0.0) + float(w)
        else:
            counts = summary.get(item.get("id")) or {}
        rows.append((item.get("label") or item.get("id"), counts))
    if overall:
        counts = {}
        for sid, entry in overall.items():
            w = (weights or {}).get(sid) if weighted else 1
            if isinstance(w, (int, float)) and w > 0:
                counts[entry["judgement"]] = counts.get(entry["judgement"], 0) + w
        rows.append(("Overall", counts))
    label_w = min(max([text_width(label, 10) for label, _ in rows] + [80]) + 12, 250)
    x0, x1 = label_w, WIDTH - 12
    bar_h, gap = 15.0, 6.0
    y = 6.0
    for label, counts in rows:
        n = sum(v for v in counts.values() if isinstance(v, (int, float)))
        canvas.text(x0 - 8, y + bar_h / 2 + 3.5, truncate(label, label_w - 12, 10), anchor="end",
                    bold=label == "Overall" and bool(overall))
        x = x0
        if n:
            for key, (fill, symbol, colour, legend) in styles:
                share = (counts.get(key) or 0) / n
                w = share * (x1 - x0)
                if w <= 0:
                    continue
                tip = (f"{label}: {legend.lower()} {round(share * 100)}% of the weight" if weighted
                       else f"{label}: {legend.lower()} {counts.get(key)} of {n}")
                canvas.rect(x, y, w, bar_h, fill=fill, stroke="#FFFFFF", width=0.5, cls=f"bar {key}", tooltip=tip)
                text = f"{round(share * 100)}%"
                if w >= text_width(text, 9, True) + 6:
                    canvas.text(x + w / 2, y + bar_h / 2 + 3.2, text, size=9, bold=True, anchor="middle", fill=colour)
                x += w
        else:
            canvas.text(x0 + 4, y + bar_h / 2 + 3.5, "not assessed", italic=True, fill=GREY)
        y += bar_h + gap
    # axis
    canvas.line(x0, y, x1, y, stroke=DARK, width=0.75)
    for t in range(0, 101, 25):
        tx = x0 + t / 100 * (x1 - x0)
        canvas.line(tx, y, tx, y + 4, stroke=DARK, width=0.75)
        canvas.text(tx, y + 14, f"{t}%", size=9, anchor="middle")
    y += 32
    lx = x0
    for key, (fill, symbol, colour, legend) in styles:
        width = 17 + text_width(legend, 10) + 18
        if lx + width > WIDTH and lx > x0:
            y += 18
            lx = x0
        canvas.rect(lx, y - 9, 12, 12, fill=fill, stroke=DARK, width=0.5)
        canvas.text(lx + 6, y + 0.5, symbol, size=9, bold=True, anchor="middle", fill=colour)
        canvas.text(lx + 17, y, legend)
        lx += width
    return canvas.render(y + 8)


# ---------------------------------------------------------------------------------------------------
# cumulative view across published versions


def cumulative_points(points: Sequence[dict] | None) -> list[dict]:
    """The rows of the cumulative view: every version of an analysis's history (oldest first) that has a
    pooled estimate with its CI."""
    return [p for p in points or [] if _ok(p.get("estimate"), p.get("ci_lb"), p.get("ci_ub"))]


def cumulative_plot(a: dict, points: Sequence[dict]) -> str | None:
    """How one analysis's pooled estimate and CI moved across the published versions (oldest at the top,
    the current estimate last, in bold with a diamond): one row per published version with k and the
    estimate [CI], a marker and whiskers on a common axis, and the null line. None with fewer than two
    versions that have an estimate."""
    rows = cumulative_points(points)
    if len(rows) < 2:
        return None
    measure = a.get("measure") or "SMD"
    short = MEASURE_SHORT.get(measure, measure)
    level = fmt.integer(a.get("level") or 95)
    x_version, x_k, x_est, plot0, plot1 = 2.0, 196.0, 336.0, 356.0, WIDTH - 12.0
    lo, hi, ticks = axis_range([r["estimate"] for r in rows], [v for r in rows for v in (r["ci_lb"], r["ci_ub"])])
    ratio = is_ratio(a)
    if ratio and len(ratio_ticks(lo, hi)) >= 2:
        ticks = ratio_ticks(lo, hi)
        lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    scale = Scale(lo, hi, plot0, plot1)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    label = f"{a.get('label') or a.get('outcome')}, {a.get('timepoint')}"
    canvas = Canvas(title=f"Cumulative view across versions: {label}",
                    desc=f"{len(rows)} versions; pooled {short} and {level}% CI per published version",
                    font_size=FS)
    y = 14.0
    canvas.text(x_version, y, "Version", bold=True)
    canvas.text(x_k, y, "k", bold=True, anchor="end")
    canvas.text(x_est, y, f"{short} [{level}% CI]", bold=True, anchor="end")
    canvas.text((plot0 + plot1) / 2, y, f"Pooled {short} per version", bold=True, anchor="middle")
    top = y + 6
    canvas.line(0, top, WIDTH, top, stroke=LIGHT, width=0.75)
    y = top + 4
    for i, r in enumerate(rows):
        last = i == len(rows) - 1
        mid = y + ROW / 2
        base = mid + FS * 0.35
        canvas.text(x_version, base, truncate(str(r.get("version")), x_k - 30, FS, last), bold=last)
        canvas.text(x_k, base, fmt.integer(r.get("k")), anchor="end", bold=last)
        canvas.text(x_est, base, shown_est_ci(a, r["estimate"], r["ci_lb"], r["ci_ub"]), anchor="end", bold=last)
        if last:
            _draw_diamond(canvas, scale, mid, r, fill=BLACK, cls="diamond current")
        else:
            _draw_study_mark(canvas, scale, mid, {"yi": r["estimate"], "ci_lb": r["ci_lb"], "ci_ub": r["ci_ub"],
                                                  "square": 7.0})
        y += ROW
    bottom = y + 2
    if lo <= 0 <= hi:
        canvas.items.insert(0, f'<line x1="{_n(scale(0))}" y1="{_n(top)}" x2="{_n(scale(0))}" '
                               f'y2="{_n(bottom)}" stroke="{GREY}" stroke-width="0.75"/>')
    canvas.line(plot0, bottom, plot1, bottom, stroke=DARK, width=0.75)
    for t in ticks:
        tx = scale(t)
        canvas.line(tx, bottom, tx, bottom + 4, stroke=DARK, width=0.75)
        canvas.text(tx, bottom + 14, ratio_label(t) if ratio else tick_label(t, step), size=FS_S, anchor="middle")
    left, right = favours_labels(a.get("higher_is_better"), a.get("arms"))
    lines_l, l_end, lines_r, r_start = _place_favours(left, right, scale(0), plot0 - 90, WIDTH - 2)
    fy = bottom + 27
    canvas.lines_of_text(l_end, fy, lines_l, size=FS_S, anchor="end", leading=11)
    canvas.lines_of_text(r_start, fy, lines_r, size=FS_S, anchor="start", leading=11)
    return canvas.render(fy + 11 * (max(len(lines_l), len(lines_r)) - 1) + 8, css_class="figure-svg cumulative")
