"""Reports as workbooks: a review's responses, and the secretariat's aggregate across States.

Pure: rows in (from any iterable, consumed once), workbook out, written in write-only mode so
that no result is ever held whole in memory. Every sheet has frozen header rows, widths that fit
and wrapped text; numbers stay numbers and dates dates; a sheet that fills up continues on the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from reviewmech.exports.cells import (
    HEADER_FILL,
    HEADER_FONT,
    SHEET_ROWS,
    TITLE_FONT,
    WRAP,
    SheetStream,
    set_widths,
    text_cell,
)
from reviewmech.exports.offline import sheet_title

CONTINUED = _l("(continued)")


def _header_style() -> dict:
    return {"font": HEADER_FONT, "fill": HEADER_FILL, "alignment": WRAP}


def _about(workbook, title: str, lines: list[str]) -> None:
    sheet = workbook.create_sheet(str(_l("About"))[:31])
    set_widths(sheet, [110])
    sheet.append([text_cell(sheet, title, style={"font": TITLE_FONT, "alignment": WRAP})])
    for line in lines:
        sheet.append([text_cell(sheet, line, style={"alignment": WRAP})])


def _stream(workbook, title: str, headers: list[list[str]], widths: list[float], max_rows: int,
            marker: list | None = None) -> SheetStream:
    def setup(sheet):
        set_widths(sheet, widths)
        sheet.freeze_panes = f"A{len(headers) + 1}"

    def header(stream: SheetStream):
        for row in headers:
            stream.write([text_cell(stream.sheet, str(v), style=_header_style()) if v is not None else None
                          for v in row])

    return SheetStream(workbook, title, header=header, setup=setup, max_rows=max_rows, marker=marker)


# A review's responses ----------------------------------------------------------------------------

@dataclass
class ResponseRow:
    """One question as the exporting person sees its answer."""

    section: str
    code: str
    prompt: str
    answer: Any
    shown_as: str
    as_of: date | None
    extra: list[Any] = field(default_factory=list)


@dataclass
class ResponsesReport:
    """The responses of one review as one person may see them."""

    title: str
    about: list[str]
    headers: list[str]  # section, code, question, answer, version, as of, then the extra columns
    rows: Iterable[ResponseRow]
    extra_widths: list[float] = field(default_factory=list)


def write_responses(report: ResponsesReport, out: str | Path | BinaryIO, max_rows: int = SHEET_ROWS) -> None:
    """Write a review's responses: one row per question, long answers continued on the rows below."""
    workbook = Workbook(write_only=True)
    _about(workbook, report.title, report.about)
    stream = _stream(workbook, str(_l("Responses")), [report.headers], [14, 10, 60, 80, 16, 12, *report.extra_widths],
                     max_rows, marker=[None, str(CONTINUED)])
    wrap = {"alignment": WRAP}
    for row in report.rows:
        stream.add([row.section, row.code, row.prompt, row.answer, row.shown_as, row.as_of, *row.extra],
                   [wrap, None, wrap, wrap, None, None, *[wrap] * len(row.extra)])
    stream.close()
    workbook.save(out)


# The aggregate across States --------------------------------------------------------------------

@dataclass(frozen=True)
class ClosedColumn:
    """A closed question: one column of the answers sheet, and its answers to count."""

    code: str
    prompt: str
    answers: tuple[str, ...]  # labels, in the order of the options


@dataclass(frozen=True)
class TableSheet:
    """A statistics table: one sheet with a row per State and table row (a year)."""

    code: str
    prompt: str
    columns: tuple[str, ...]


@dataclass
class ReviewLine:
    """One review in the aggregate: who, and its submitted answers as labels and grids."""

    state_code: str
    state_name: str
    group: str
    cycle: int
    phase: str
    submitted_on: date | None
    answers: dict[str, list[str]]  # closed question code → chosen labels
    tables: dict[str, list[tuple[str, list[Any]]]]  # table code → (row label, cells in the sheet's column order)


class AggregateWriter:
    """Streams the aggregate workbook: answers by State, counts, tables summed per State and year, phases."""

    def __init__(self, title: str, about: list[str], closed: list[ClosedColumn], tables: list[TableSheet],
                 groups: list[str], max_rows: int = SHEET_ROWS):
        self.workbook = Workbook(write_only=True)
        self.closed = closed
        self.tables = tables
        self.groups = groups
        self.counts: dict[str, dict[str, dict[str, int]]] = {c.code: {} for c in closed}
        self.sums: dict[str, dict[str, list[float]]] = {t.code: {} for t in tables}
        self.answered: dict[str, int] = {}
        _about(self.workbook, title, about)
        self.phase_sheet = _stream(self.workbook, str(_l("Reviews per phase")),
                                   [[str(_l("Phase")), *groups, str(_l("Total"))]], [24, *[18] * (len(groups) + 1)],
                                   max_rows)
        who = [str(_l("State code")), str(_l("State")), str(_l("Regional group")), str(_l("Cycle")),
               str(_l("Phase")), str(_l("Submitted on"))]
        self.answers = _stream(self.workbook, str(_l("Answers")),
                               [[*who, *[c.code for c in closed]], [None] * len(who) + [c.prompt for c in closed]],
                               [8, 24, 20, 8, 16, 12, *[18] * len(closed)], max_rows)
        self.count_sheet = _stream(self.workbook, str(_l("Counts")),
                                   [[str(_l("Question")), str(_l("Answer")), *groups, str(_l("Total"))]],
                                   [10, 40, *[16] * (len(groups) + 1)], max_rows)
        taken = {s.title.casefold() for s in self.workbook.worksheets}
        self.table_sheets = {}
        for table in tables:
            headers = [[str(_l("State code")), str(_l("State")), str(_l("Regional group")), str(_l("Cycle")),
                        table.code, *table.columns, str(_l("Total"))],
                       [None, None, None, None, table.prompt]]
            name = sheet_title(str(_l("Table %(code)s", code=table.code)), taken)
            self.table_sheets[table.code] = _stream(self.workbook, name, headers,
                                                    [8, 24, 20, 8, 14, *[16] * (len(table.columns) + 1)], max_rows)

    def add(self, line: ReviewLine) -> None:
        """Add one review's submitted answers."""
        who = [line.state_code, line.state_name, line.group, line.cycle, line.phase, line.submitted_on]
        cells = []
        for column in self.closed:
            labels = line.answers.get(column.code) or []
            cells.append("; ".join(labels) or None)
            for label in labels:
                by_group = self.counts[column.code].setdefault(label, {})
                by_group[line.group] = by_group.get(line.group, 0) + 1
        self.answers.add([*who, *cells])
        for table in self.tables:
            rows = line.tables.get(table.code) or []
            for label, values in rows:
                numbers = [v if _is_number(v) else None for v in values]
                if not any(v is not None and v != "" for v in values):
                    continue
                total = sum(n for n in numbers if n is not None)
                self.table_sheets[table.code].add([*who[:4], label, *values, total])
                sums = self.sums[table.code].setdefault(label, [0] * (len(table.columns) + 1))
                for index, number in enumerate(numbers[:len(table.columns)]):
                    sums[index] += number or 0
                sums[-1] += total

    def save(self, phases: list[tuple[str, dict[str, int]]], out: str | Path | BinaryIO) -> None:
        """Write the counts, the sums of every State per table row, the reviews per phase; save."""
        for column in self.closed:
            labels = [*column.answers, *[label for label in self.counts[column.code] if label not in column.answers]]
            for label in labels:
                by_group = self.counts[column.code].get(label, {})
                self.count_sheet.add([column.code, label, *[by_group.get(g, 0) for g in self.groups],
                                      sum(by_group.values())])
        every_state = str(_l("All States"))
        for table in self.tables:
            stream = self.table_sheets[table.code]
            for label, sums in sorted(self.sums[table.code].items()):
                stream.add([every_state, None, None, None, label, *sums],
                           [{"font": HEADER_FONT}] * (5 + len(sums)))
        for phase, by_group in phases:
            self.phase_sheet.add([phase, *[by_group.get(g, 0) for g in self.groups], sum(by_group.values())])
        for stream in (self.phase_sheet, self.answers, self.count_sheet, *self.table_sheets.values()):
            stream.close()
        self.workbook.save(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_date(moment: datetime | None) -> date | None:
    """A timestamp as the date a spreadsheet shows."""
    return moment.date() if moment else None

