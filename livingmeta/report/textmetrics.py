"""Advance widths of Liberation Sans (metric-compatible with Arial/Helvetica), in 1/1000 em.

Generated once from LiberationSans-Regular.ttf / -Bold.ttf with fontTools; used to lay out the SVG
figures (column widths, wrapping, truncation) without importing a font library per job. Characters not in
the table count as 0.556 em (a digit).
"""

_CHARS = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~τ²³−–—±≥≤×·…†‡§¶°µκΔ→←↑↓αβγμ'
_REGULAR = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 395, 333, 333, 584, 556, 1000, 549, 549, 549, 584, 333, 1000, 556, 556, 556, 537, 400, 576, 500, 668, 1000, 1000, 500, 500, 578, 575, 500, 576]
_BOLD = [278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 446, 333, 333, 584, 556, 1000, 549, 549, 549, 584, 333, 1000, 556, 556, 556, 556, 400, 576, 558, 719, 1000, 1000, 500, 500, 615, 610, 556, 612]

REGULAR = dict(zip(_CHARS, _REGULAR))
BOLD = dict(zip(_CHARS, _BOLD))
DEFAULT = 556


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in user units at font size ``size``."""
    table = BOLD if bold else REGULAR
    return sum(table.get(ch, DEFAULT) for ch in str(text)) * size / 1000.0
