"""SVG figures of synthesis without meta-analysis (SWiM; livingmeta.synthesis), drawn from results.json's
``synthesis`` block with :class:`livingmeta.report.svg.Canvas`.

``effect_direction_plot``
    Thomson and Thomas (2013, Res Synth Methods 4:95): rows = studies, columns = outcome domains; an upward
    triangle for benefit, a downward one for harm, a sideways double arrow for no clear difference and an
    up-and-down pair for mixed or conflicting results within the domain. The arrow's size gives the sample
    size (large >= 300, medium 50-299, small < 50; a hollow dashed mark when the size is not known) and its
    shade the study's risk of bias (black low, grey unclear or some concerns, white high; blue when not
    assessed), as in Thomson and Thomas's figure.
``evidence_map``
    groups x the values of one characteristic, the number of studies per cell (a darker cell holds more).
"""

from __future__ import annotations

from typing import Any

from livingmeta.report.svg import BLUE, DARK, GREY, LIGHT, WIDTH, Canvas, truncate, wrap

DIRECTION_TEXT = {"benefit": "benefit", "harm": "harm", "no_clear_difference": "no clear difference",
                  "mixed": "mixed or conflicting"}
SIZE = {"large": 8.0, "medium": 6.0, "small": 4.2, "unknown": 5.5}
SHADE = {"low": (DARK, DARK, "low risk of bias"), "unclear": (GREY, GREY, "unclear risk of bias"),
         "high": ("#FFFFFF", DARK, "high risk of bias"), "not_assessed": (BLUE, BLUE, "risk of bias not assessed")}
_LEVEL = {"low": "low", "some_concerns": "unclear", "some concerns": "unclear", "unclear": "unclear",
          "moderate": "unclear", "high": "high", "serious": "high", "critical": "high"}


def rob_level(rob: dict, study: str) -> str:
    """A study's shade: its overall risk-of-bias judgement when the tool has one, else (SYRCLE) low when every
    item is judged low, high when any item is high, otherwise unclear; ``not_assessed`` without a file."""
    overall = ((rob.get("overall") or {}).get(study) or {}) if isinstance(rob.get("overall"), dict) else {}
    if overall.get("judgement"):
        return _LEVEL.get(str(overall["judgement"]).lower(), "unclear")
    items = (rob.get("studies") or {}).get(study)
    if not items:
        return "not_assessed"
    judgements = [str((v or {}).get("judgement", "")).lower() for v in items.values()]
    if any(_LEVEL.get(j) == "high" for j in judgements):
        return "high"
    return "low" if judgements and all(j == "low" for j in judgements) else "unclear"


def _mark(c: Canvas, x: float, y: float, direction: str, size: str, shade: str, tooltip: str) -> None:
    r = SIZE.get(size, SIZE["unknown"])
    fill, stroke = SHADE[shade][:2]
    dash = size == "unknown"
    extra = {"stroke": stroke, "width": 1.2 if dash else 1}
    if direction == "benefit":
        c.polygon([(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)], fill=fill, tooltip=tooltip, **extra)
    elif direction == "harm":
        c.polygon([(x, y + r), (x + r, y - r * 0.8), (x - r, y - r * 0.8)], fill=fill, tooltip=tooltip, **extra)
    elif direction == "mixed":
        h = r * 0.75
        c.polygon([(x, y - 2 * h), (x + h, y - 0.3), (x - h, y - 0.3)], fill=fill, tooltip=tooltip, **extra)
        c.polygon([(x, y + 2 * h), (x + h, y + 0.3), (x - h, y + 0.3)], fill=fill, tooltip=tooltip, **extra)
    else:  # no clear difference: a sideways double arrow
        h = r * 0.8
        c.polygon([(x - 2 * h, y), (x - 0.3, y - h), (x - 0.3, y + h)], fill=fill, tooltip=tooltip, **extra)
        c.polygon([(x + 2 * h, y), (x + 0.3, y - h), (x + 0.3, y + h)], fill=fill, tooltip=tooltip, **extra)
    if dash:  # the sample size is not known: say so with a small ring around the mark
        c.circle(x, y, r + 3.5, fill="none", stroke=LIGHT, width=0.8)


def effect_direction_plot(group: dict, domains: list[dict], rob: dict | None = None) -> str:
    """The effect direction plot of one group (results.json ``synthesis.groups[i]``)."""
    rob = rob or {}
    labels = {d["id"]: d["label"] for d in domains}
    cols = [d for d in group.get("domains") or []]
    rows = group.get("studies") or []
    label_w = 150.0
    n_w = 44.0
    col_w = min(62.0, (WIDTH - label_w - n_w) / max(len(cols), 1))
    head_lines = [wrap(labels.get(d, d), col_w - 4, 9)[:3] for d in cols]
    head_h = 12 * max([len(h) for h in head_lines] or [1]) + 8
    row_h = 22.0
    top = head_h + 6
    c = Canvas(title=f"Effect direction plot: {group.get('label')}",
               desc="Rows are studies, columns outcome domains; triangles up = benefit, down = harm, "
                    "sideways = no clear difference, up-and-down = mixed.")
    c.text(4, head_h - 2, "Study", bold=True, size=10)
    for j, lines in enumerate(head_lines):
        x = label_w + (j + 0.5) * col_w
        c.lines_of_text(x, head_h - 2 - 12 * (len(lines) - 1), lines, size=9, leading=12, anchor="middle", bold=True)
    c.text(label_w + len(cols) * col_w + n_w / 2, head_h - 2, "n", size=10, bold=True, anchor="middle")
    c.line(0, head_h + 2, WIDTH, head_h + 2, stroke=GREY, width=0.8)
    shades_used, sizes_used = set(), set()
    for i, row in enumerate(rows):
        y = top + i * row_h + row_h / 2
        if i % 2 == 1:
            c.rect(0, y - row_h / 2, WIDTH, row_h, fill="#F4F4F4")
        c.text(4, y + 4, truncate(row.get("label") or row.get("study"), label_w - 8, 10), size=10)
        shade = rob_level(rob, row.get("study"))
        for j, dom in enumerate(cols):
            cell = (row.get("directions") or {}).get(dom)
            if not cell:
                continue
            x = label_w + (j + 0.5) * col_w
            tip = f"{row.get('label')}: {labels.get(dom, dom)}: {DIRECTION_TEXT.get(cell.get('direction'), '?')}"
            if cell.get("note"):
                tip += f" ({cell['note']})"
            _mark(c, x, y, cell.get("direction"), row.get("size") or "unknown", shade, tip)
            shades_used.add(shade)
            sizes_used.add(row.get("size") or "unknown")
        c.text(label_w + len(cols) * col_w + n_w / 2, y + 4, row.get("n") if row.get("n") else "NR", size=10,
               anchor="middle", fill=None if row.get("n") else GREY)
    y = top + len(rows) * row_h + 6
    c.line(0, y, WIDTH, y, stroke=GREY, width=0.8)
    # legend: directions, then shades and sizes used
    y += 16
    x = 4.0
    for direction in ("benefit", "harm", "no_clear_difference", "mixed"):
        _mark(c, x + 10, y - 4, direction, "medium", "low", DIRECTION_TEXT[direction])
        c.text(x + 24, y, DIRECTION_TEXT[direction], size=9)
        x += 40 + len(DIRECTION_TEXT[direction]) * 5.2
    y += 20
    x = 4.0
    for shade in ("low", "unclear", "high", "not_assessed"):
        if shade in shades_used:
            _mark(c, x + 8, y - 4, "benefit", "medium", shade, SHADE[shade][2])
            c.text(x + 20, y, SHADE[shade][2], size=9)
            x += 30 + len(SHADE[shade][2]) * 5.0
    size_text = {"large": "n \u2265 300", "medium": "n 50\u2013299", "small": "n < 50",
                 "unknown": "sample size not reported (ringed)"}
    for size in ("large", "medium", "small", "unknown"):
        if size in sizes_used:
            _mark(c, x + 8, y - 4, "benefit", size, "low" if "low" in shades_used else sorted(shades_used)[0], size_text[size])
            c.text(x + 22, y, size_text[size], size=9)
            x += 34 + len(size_text[size]) * 5.0
    return c.render(y + 8)


def evidence_map(block: dict, group_label: str, characteristic: str, max_columns: int = 8) -> str:
    """Groups x values of one characteristic (results.json ``synthesis.evidence_map[i]``), studies per cell.
    Beyond ``max_columns`` values the rarest are summed in an "other values" column."""
    groups = block["_groups"]
    values = list(block.get("values") or [])
    counts = block.get("counts") or {}
    shown = values[:max_columns]
    other = values[max_columns:]
    cols = shown + (["other values"] if other else [])

    def count(gid: str, col: str) -> int:
        cells = counts.get(gid) or {}
        if col == "other values":
            return sum(cells.get(v, 0) for v in other)
        return cells.get(col, 0)

    label_w = 190.0
    col_w = min(70.0, (WIDTH - label_w - 50) / max(len(cols), 1))
    heads = [wrap(col, col_w - 4, 9)[:4] for col in cols]
    head_h = 12 * max([len(h) for h in heads] or [1]) + 8
    row_h = 24.0
    biggest = max([count(g["id"], col) for g in groups for col in cols] or [1]) or 1
    c = Canvas(title=f"Evidence map: {group_label} by {characteristic.replace('_', ' ')}",
               desc="Number of studies per group and characteristic value; darker cells hold more studies.")
    c.text(4, head_h - 2, group_label, bold=True, size=10)
    for j, lines in enumerate(heads):
        x = label_w + (j + 0.5) * col_w
        c.lines_of_text(x, head_h - 2 - 12 * (len(lines) - 1), lines, size=9, leading=12, anchor="middle", bold=True)
    c.text(label_w + len(cols) * col_w + 25, head_h - 2, "Total", size=10, bold=True, anchor="middle")
    for i, g in enumerate(groups):
        y = head_h + 6 + i * row_h
        c.text(4, y + row_h / 2 + 4, truncate(g["label"], label_w - 8, 10), size=10)
        for j, col in enumerate(cols):
            n = count(g["id"], col)
            x = label_w + j * col_w
            shade = 0.12 + 0.78 * n / biggest if n else 0.0
            fill = "#FFFFFF" if not n else _blend(shade)
            c.rect(x + 1, y + 1, col_w - 2, row_h - 2, fill=fill, stroke=LIGHT, width=0.6,
                   tooltip=f"{g['label']}, {col}: {n} {'study' if n == 1 else 'studies'}")
            if n:
                c.text(x + col_w / 2, y + row_h / 2 + 4, n, size=10, anchor="middle",
                       fill="#FFFFFF" if shade > 0.5 else None, bold=True)
        c.text(label_w + len(cols) * col_w + 25, y + row_h / 2 + 4, g["k"], size=10, anchor="middle")
    return c.render(head_h + 6 + len(groups) * row_h + 6)


def _blend(t: float) -> str:
    """From white (t = 0) to the Okabe-Ito blue (t = 1)."""
    r, g, b = 0x00, 0x72, 0xB2
    mix = [round(255 + (v - 255) * t) for v in (r, g, b)]
    return "#" + "".join(f"{v:02X}" for v in mix)


def svg_check(markup: str) -> Any:
    """Parse a figure as XML (for tests): raises when it is not well formed."""
    from xml.etree import ElementTree

    return ElementTree.fromstring(markup)
