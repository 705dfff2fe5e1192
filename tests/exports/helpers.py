"""Workbooks as a person handles them: find a question's cells, type into them, save."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from reviewmech.exports import offline


def question_row(sheet, code: str) -> int:
    """The row where a question's code stands in column A."""
    for row in sheet.iter_rows(min_col=1, max_col=1):
        if row[0].value == code:
            return row[0].row
    raise AssertionError(f"no question {code} in sheet {sheet.title}")


def answer_cell(workbook, sheet_title: str, code: str, row: int = 0, column: int = 0, grid: bool = False) -> str:
    """The address of an answer cell: column F of the question's row; citations and grids on the rows below."""
    sheet = workbook[sheet_title]
    first = question_row(sheet, code)
    if grid:
        return f"{chr(ord('G') + column)}{first + 1 + row}"
    if row:
        return f"{chr(ord('F') + column)}{first + row}"
    return f"{chr(ord('F') + column)}{first}"


def edit(path: Path, changes: dict[tuple[str, str], object], out: Path | None = None) -> Path:
    """Open a workbook, type values into cells ((sheet, address) → value), save it (by default in place)."""
    workbook = load_workbook(path)
    for (sheet, address), value in changes.items():
        workbook[sheet][address].value = value
    target = out or path
    workbook.save(target)
    return target


def cells_of(path: Path, secret: str) -> offline.OfflineFile:
    """Read a workbook back as the import does."""
    return offline.read_offline(path, offline.key_for(secret))


def as_bytes(path: Path) -> BytesIO:
    """A file's content, to upload."""
    return BytesIO(path.read_bytes())
