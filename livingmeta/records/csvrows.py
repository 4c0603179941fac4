"""Strict reading of the small CSV files reviewers edit (``review/screening/*.csv``).

Every problem is a ReviewInputError naming the file and the line, never a traceback and never a silent
loss of rows:

* the file must be UTF-8 (a byte-order mark is allowed); another encoding names the line of the first
  bad byte;
* one row is one line: a value may be quoted (``"a, b"``, ``""`` for a quote inside), but a quote left
  open at the end of the line is an error (an unbalanced quote would otherwise swallow the next rows
  into one value);
* a row has no more values than the header names columns, and a value for every required column
  (trailing optional values may be left out);
* lines starting with ``#`` are comments, blank lines are ignored; the first other line is the header.

Used by :mod:`screening` and :mod:`dedup` (``duplicates.csv``); standard library only, so the planning-
time checks stay cheap.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

from livingmeta.errors import ReviewInputError

SAVE_HINT = "Save the file as comma-separated UTF-8 text (CSV UTF-8 in a spreadsheet program)."


@dataclass
class Row:
    line: int              # 1-based line number in the file
    values: list[str]
    end_line: int = 0      # same as line (one row = one line); kept for the converters

    def __post_init__(self):
        self.end_line = self.end_line or self.line


@dataclass
class CsvRows:
    header: list[str] = field(default_factory=list)
    header_line: int = 0
    rows: list[Row] = field(default_factory=list)


def read_text(path: str | os.PathLike, shown: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise ReviewInputError(f"cannot be read ({err.strerror or err})", file=shown) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        bad = data[err.start:err.start + 1]
        raise ReviewInputError(
            f"not UTF-8 text (byte 0x{bad.hex()} at byte offset {err.start})", file=shown,
            field=f"row {line}", hint=SAVE_HINT) from None


def split_lines(text: str) -> list[str]:
    """Lines split at CR LF, CR or LF only."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_line(line: str, number: int, shown: str) -> list[str]:
    """The values of one line; an unbalanced quote or a malformed quoted value is an error."""
    if line.count('"') % 2 == 1:
        raise ReviewInputError(
            "unbalanced quote: a quoted value is not closed on this line", file=shown, field=f"row {number}",
            hint='Close the quote (write "" for a quote inside a quoted value); one row per line.')
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error as err:
        raise ReviewInputError(f"malformed CSV ({err})", file=shown, field=f"row {number}",
                               hint='Quote a value that contains commas or quotes as "like, ""this""".') from None
    return rows[0] if rows else []


def read_rows(path: str | os.PathLike, shown: str | None = None, *, text: str | None = None,
              required: tuple[str, ...] = ()) -> CsvRows:
    """Header and data rows of a decision CSV (see the module docstring). A row with more values than
    the header is an error; one with fewer is an error when it lacks a value of a ``required`` column
    (missing trailing optional values count as empty, as hand-written files leave them out)."""
    shown = shown or str(path)
    text = read_text(path, shown) if text is None else text
    out = CsvRows()
    needed = 0
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        values = parse_line(line, number, shown)
        if not out.header_line:
            out.header, out.header_line = values, number
            names = [h.strip().lower() for h in values]
            needed = max((names.index(c) + 1 for c in required if c in names), default=0)
            continue
        if not any(v.strip() for v in values):
            continue  # a row of empty cells (",,,,"), as spreadsheets write
        if len(values) > len(out.header) or len(values) < needed:
            raise ReviewInputError(
                f"{len(values)} values but the header (line {out.header_line}) names {len(out.header)} columns",
                file=shown, field=f"row {number}",
                hint="Give every row one value per column, in the header's order; quote values that contain "
                     'commas ("like, this").')
        out.rows.append(Row(number, values))
    return out
