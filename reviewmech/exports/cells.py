"""Cells that survive a spreadsheet: no text becomes a formula, no text is cut, no sheet overflows.

Everything here is pure openpyxl (write-only to write, read-only to read). A text a person typed
is always written as a string cell, never a formula; a leading `=`, `+`, `-`, `@`, tab or CR also
gets Excel's quote-prefix style, so that editing the cell keeps it text, without adding any
character to the value. Characters XML cannot hold are written with the `_xHHHH_` escapes of
the file format and read back as they were. A text longer than a cell holds (32,767 UTF-16 units)
is cut into pieces carried by continuation rows below it, which `join_pieces` puts back together.
A sheet that reaches the row limit continues on a new sheet with the same header rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter

CELL_LIMIT = 32_767  # characters (UTF-16 code units) in one cell
SHEET_ROWS = 1_048_576
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_ESCAPE_OUT = re.compile(r"_(x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_ESCAPE_IN = re.compile(r"_x([0-9A-Fa-f]{4})_")

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
TITLE_FONT = Font(bold=True, size=13)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)


def utf16_length(text: str) -> int:
    """The length of a text as Excel counts it (UTF-16 code units)."""
    return len(text) + sum(1 for character in text if ord(character) > 0xFFFF)


def split_text(text: str, limit: int = CELL_LIMIT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units each, never splitting a character; joined, they are the text."""
    if len(text) * 2 <= limit or utf16_length(text) <= limit:
        return [text]
    pieces, start, units = [], 0, 0
    for index, character in enumerate(text):
        width = 2 if ord(character) > 0xFFFF else 1
        if units + width > limit:
            pieces.append(text[start:index])
            start, units = index, 0
        units += width
    pieces.append(text[start:])
    return pieces


def escape(text: str) -> str:
    """A text with the characters XML cannot hold (and literal `_xHHHH_`) written as `_xHHHH_` escapes."""

    def replace(match: re.Match) -> str:
        if match.group(1):  # a literal _xHHHH_ in the text: escape its underscore
            return "_x005F_" + match.group(1)
        return f"_x{ord(match.group(0)):04X}_"

    return _ESCAPE_OUT.sub(replace, text)


def unescape(text: str) -> str:
    """A text read from a cell with its `_xHHHH_` escapes turned back into characters."""
    if "_x" not in text:
        return text
    return _ESCAPE_IN.sub(lambda match: chr(int(match.group(1), 16)), text)


def is_risky(text: str) -> bool:
    """Whether a spreadsheet could take this text for a formula (or an error value)."""
    return text.startswith(FORMULA_STARTS) or text in ERROR_CODES


def text_cell(sheet, text: str, *, style: dict | None = None):
    """A string cell holding exactly `text`, whatever it starts with."""
    cell = WriteOnlyCell(sheet, value=escape(text))
    cell.data_type = "s"  # openpyxl would store a leading "=" as a formula, "#N/A" as an error
    if is_risky(text):
        cell.quotePrefix = True  # Excel keeps the cell text when someone edits it
    for name, value in (style or {}).items():
        setattr(cell, name, value)
    return cell


def safe_cell(sheet, value: Any, style: dict | None = None):
    """A value ready for a write-only row: texts as string cells, numbers as numbers, dates as dates."""
    if isinstance(value, str):
        if style or is_risky(value) or _ESCAPE_OUT.search(value):
            return text_cell(sheet, value, style=style)
        return value
    if isinstance(value, bool):
        value = int(value)
    if not style:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, date) and not isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd"
    for name, item in style.items():
        setattr(cell, name, item)
    return cell


_PLAIN_LIMIT = CELL_LIMIT // 2


def _is_plain(value: Any) -> bool:
    """A value openpyxl writes as it is: a number, a date, or a short text nothing could take for a formula."""
    if isinstance(value, str):
        return len(value) <= _PLAIN_LIMIT and not is_risky(value) and not _ESCAPE_OUT.search(value)
    return not isinstance(value, bool)


def formula_cell(sheet, formula: str, style: dict | None = None):
    """A formula we write ourselves (a total), never from user text."""
    cell = WriteOnlyCell(sheet, value=formula)
    for name, value in (style or {}).items():
        setattr(cell, name, value)
    return cell


def address(sheet_title: str, row: int, column: int) -> str:
    """A cell's address as a person reads it: OP4!F12."""
    return f"{sheet_title}!{get_column_letter(column)}{row}"


def physical_rows(values: list) -> list[list]:
    """A logical row whose long texts are cut into pieces: the row, then continuation rows with the rest."""
    pieces = [split_text(v) if isinstance(v, str) else [v] for v in values]
    depth = max((len(p) for p in pieces), default=1)
    return [[p[index] if index < len(p) else None for p in pieces] for index in range(depth)]


def join_pieces(rows: list[list]) -> list:
    """The logical row again from a row and its continuation rows (texts joined column by column)."""
    if not rows:
        return []
    width = max(len(row) for row in rows)
    joined = []
    for column in range(width):
        cells = [row[column] if column < len(row) else None for row in rows]
        first, rest = cells[0], [c for c in cells[1:] if c is not None and c != ""]
        if rest and (first is None or isinstance(first, str)):
            joined.append((first or "") + "".join(str(c) for c in rest))
        else:
            joined.append(first)
    return joined


@dataclass(frozen=True)
class Placed:
    """Where a logical row landed: its sheet, first row and number of rows (with continuations)."""

    sheet: str
    row: int
    height: int


class SheetStream:
    """Rows appended to write-only sheets; a full sheet continues on the next, with the same header rows.

    `header` writes the header rows of a new sheet; `setup` prepares a new sheet before any row
    (widths, frozen panes); `finish` runs when a sheet is full or at the end (data validations,
    protection); `marker` holds values put in the empty cells of continuation rows.
    """

    def __init__(self, workbook, title: str, *, header: Callable[[SheetStream], None] | None = None,
                 setup: Callable[[Any], None] | None = None, finish: Callable[[Any], None] | None = None,
                 max_rows: int = SHEET_ROWS, marker: list | None = None):
        self.workbook = workbook
        self.title = title
        self.header = header
        self.setup = setup
        self.finish = finish
        self.max_rows = max_rows
        self.marker = marker
        self.sheets: list = []
        self.sheet = None
        self.row = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        if self.sheet is not None and self.finish:
            self.finish(self.sheet)
        number = len(self.sheets) + 1
        title = self.title if number == 1 else f"{self.title[:31 - len(str(number)) - 3]} ({number})"
        self.sheet = self.workbook.create_sheet(title)
        self.sheets.append(self.sheet)
        self.row = 0
        if self.setup:
            self.setup(self.sheet)
        if self.header:
            self.header(self)

    def write(self, values: Iterable) -> int:
        """Append one physical row (values already safe); return its row number."""
        if self.row >= self.max_rows:
            self._new_sheet()
        self.sheet.append(values if isinstance(values, list | tuple) else list(values))
        self.row += 1
        return self.row

    def add(self, values: list, styles: list[dict | None] | None = None) -> Placed:
        """Append a logical row: texts that do not fit a cell continue on the rows below, on the same sheet."""
        if styles is None and all(_is_plain(v) for v in values):  # the common row: nothing to convert
            if self.row >= self.max_rows:
                self._new_sheet()
            return Placed(self.sheet.title, self.write(values), 1)
        rows = physical_rows(values)
        if self.row + len(rows) > self.max_rows:
            self._new_sheet()
        first = None
        for index, row in enumerate(rows):
            if index and self.marker:  # say in the row that it carries the rest of a text
                row = [m if v is None and m is not None else v for v, m in zip(row, self.marker, strict=False)] \
                    + row[len(self.marker):]
            cells = [safe_cell(self.sheet, v, (styles[i] if styles and i < len(styles) else None))
                     for i, v in enumerate(row)]
            number = self.write(cells)
            first = first or number
        return Placed(self.sheet.title, first, len(rows))

    def close(self) -> None:
        """Finish the last sheet."""
        if self.finish and self.sheet is not None:
            self.finish(self.sheet)
            self.finish = None


def set_widths(sheet, widths: list[float]) -> None:
    """Column widths (in characters), set before the first row of a write-only sheet."""
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
