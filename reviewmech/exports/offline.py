"""The offline questionnaire: a workbook to answer without the website, and the reading of it back.

Data in, workbook out (`write_offline`); workbook in, data out (`read_offline`). One sheet per
top-level section; each question's code, text, guidance, paragraph and condition in words,
then its answer cells as its type lays them out (one cell, citation rows, a grid whose totals are
formulas we write). Only answer cells are unlocked; lists are read from a hidden sheet (so no
list meets Excel's 255-character limit on inline lists). A hidden sheet carries the review, the
questionnaire version, the export time and, per answer, its version, a digest of the value
exported and where its cells are, signed with a key derived from the app's secret: the import
reads answer cells only where the signed sheet says they are.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from reviewmech.exports.cells import (
    HEADER_FILL,
    HEADER_FONT,
    TITLE_FONT,
    UNLOCKED,
    WRAP,
    SheetStream,
    address,
    formula_cell,
    join_pieces,
    safe_cell,
    set_widths,
    text_cell,
    unescape,
)
from reviewmech.exports.safety import DEFAULT_LIMITS, Limits, WorkbookRefused, check_workbook_file
from reviewmech.questionnaires.types import CellCheck, CellLayout

FORMAT = "reviewmech offline questionnaire 1"
META_SHEET = "reviewmech"
LISTS_SHEET = "Lists"
ANSWER_COLUMN = 6  # F: the first answer column
WIDTHS = [10, 60, 50, 12, 28, 42, 16, 16, 16, 42, 16, 16, 16, 16, 16, 16, 16, 16]
MAX_GRID_COLUMNS = 60

LABELS = {
    "code": _l("Code"),
    "question": _l("Question"),
    "guidance": _l("Guidance"),
    "paragraph": _l("Paragraph"),
    "condition": _l("Condition"),
    "answer": _l("Answer"),
    "total": _l("Total"),
    "continued": _l("(the text above continues here)"),
    "required": _l("required"),
    "not_carried": _l("Attach files on the website; a workbook does not carry them."),
}


def key_for(secret: str | bytes) -> bytes:
    """The signing key of offline questionnaires, derived from the app's secret."""
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"reviewmech.exports.offline-questionnaire", hashlib.sha256).digest()


def digest(value: Any) -> str:
    """A short fingerprint of a normalized value, to tell whether the workbook changed it."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# Data in ---------------------------------------------------------------------------------------

@dataclass
class OfflineQuestion:
    """One question as the workbook shows it, with its cells pre-filled (or blank)."""

    code: str
    prompt: str
    guidance: str
    paragraphs: str
    condition: str
    is_required: bool
    layout: CellLayout | None
    cells: list[list]
    version: int
    digest: str


@dataclass
class Heading:
    """A sub-section inside a sheet."""

    code: str
    title: str
    guidance: str = ""


@dataclass
class OfflineSheet:
    """A top-level section: one sheet."""

    code: str
    title: str
    guidance: str
    items: list[OfflineQuestion | Heading]


@dataclass
class OfflineQuestionnaire:
    """Everything the workbook holds."""

    review_id: int
    review_label: str
    title: str
    slug: str
    version: int
    content_hash: str
    locale: str
    exported_at: datetime
    is_prefilled: bool
    sheets: list[OfflineSheet]
    instructions: list[str] = field(default_factory=list)


# Workbook out ----------------------------------------------------------------------------------

def sheet_title(code: str, taken: set[str]) -> str:
    """A sheet name from a section code: Excel's forbidden characters removed, at most 31, unique."""
    base = re.sub(r"[\[\]:*?/\\']", "", code).strip()[:31] or "Section"
    title, number = base, 2
    while title.casefold() in taken or title.casefold() in {META_SHEET.casefold(), LISTS_SHEET.casefold()}:
        title = f"{base[:27]} ({number})"
        number += 1
    taken.add(title.casefold())
    return title


class _Lists:
    """The hidden sheet of lists: each distinct list once, in its own column."""

    def __init__(self):
        self.columns: dict[tuple[str, ...], int] = {}

    def reference(self, choices: tuple[str, ...]) -> str:
        column = self.columns.setdefault(choices, len(self.columns) + 1)
        letter = get_column_letter(column)
        return f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${max(len(choices), 1)}"

    def write(self, workbook) -> None:
        sheet = workbook.create_sheet(LISTS_SHEET)
        sheet.sheet_state = "hidden"
        depth = max((len(c) for c in self.columns), default=0)
        ordered = sorted(self.columns.items(), key=lambda item: item[1])
        for index in range(depth):
            sheet.append([safe_cell(sheet, choices[index]) if index < len(choices) else None
                          for choices, _column in ordered])


def _bound(value: float | None, default: float) -> str:
    number = default if value is None else value
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _validation(check: CellCheck, lists: _Lists, top_left: str) -> DataValidation | None:
    """A data validation for a check; None when the cell takes any text."""
    error = _("This value does not fit this question; see the guidance.")
    options = {"allow_blank": True, "showErrorMessage": True, "errorTitle": _("Answer")[:32], "error": error[:225]}
    if check.hint:
        options.update(showInputMessage=True, promptTitle=_("Answer")[:32], prompt=check.hint[:250])
    if check.kind == "list":
        return DataValidation(type="list", formula1=lists.reference(check.choices), **options)
    if check.kind in ("whole", "decimal"):
        return DataValidation(type=check.kind, operator="between", formula1=_bound(check.minimum, -1e15),
                              formula2=_bound(check.maximum, 1e15), **options)
    if check.kind == "date":
        return DataValidation(type="date", operator="between", formula1="1", formula2="2958465", **options)
    if check.kind == "figure":
        whole = f",INT({top_left})={top_left}" if check.whole else ""
        formula = f'OR(AND(ISNUMBER({top_left}),{top_left}>=0{whole}),LOWER({top_left})="n/a")'
        return DataValidation(type="custom", formula1=formula, **options)
    if check.kind == "text" and check.max_length:
        return DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(check.max_length),
                              **options)
    if check.hint:
        return DataValidation(**{k: v for k, v in options.items() if k not in ("showErrorMessage", "error",
                                                                                  "errorTitle")})
    return None


class _Validations:
    """Data validations of one sheet, one per distinct check (each grid has its own)."""

    def __init__(self, lists: _Lists):
        self.lists = lists
        self.by_check: dict[Any, DataValidation | None] = {}

    def add(self, check: CellCheck | None, ranges: str, *, own: bool = False) -> None:
        if check is None:
            return
        top_left = ranges.split(":")[0]
        key = (check, ranges) if own or check.kind == "figure" else check
        if key not in self.by_check:
            self.by_check[key] = _validation(check, self.lists, top_left)
        validation = self.by_check[key]
        if validation is not None:
            validation.add(ranges)

    def apply(self, sheet) -> None:
        for validation in self.by_check.values():
            if validation is not None and validation.sqref:
                sheet.data_validations.append(validation)


def _protect(sheet) -> None:
    """Lock every cell but the answers; people may still resize columns and rows."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _answer_style() -> dict:
    return {"protection": UNLOCKED, "alignment": WRAP}


def _header_style() -> dict:
    return {"font": HEADER_FONT, "fill": HEADER_FILL, "alignment": WRAP}


def write_offline(questionnaire: OfflineQuestionnaire, key: bytes, out: str | Path | BinaryIO) -> None:
    """Write the offline questionnaire workbook."""
    workbook = Workbook(write_only=True)
    lists = _Lists()
    records: list[list[str]] = []
    _write_instructions(workbook, questionnaire)
    taken: set[str] = {"instructions"}
    for section in questionnaire.sheets:
        records += _write_section(workbook, section, sheet_title(section.code, taken), lists)
    lists.write(workbook)
    _write_meta(workbook, questionnaire, records, key)
    workbook.save(out)


def _write_instructions(workbook, questionnaire: OfflineQuestionnaire) -> None:
    sheet = workbook.create_sheet(str(_("Instructions"))[:31])
    set_widths(sheet, [110])
    sheet.append([text_cell(sheet, questionnaire.title, style={"font": TITLE_FONT, "alignment": WRAP})])
    for line in [questionnaire.review_label,
                 _("Questionnaire version %(n)d, exported %(time)s (UTC).", n=questionnaire.version,
                   time=questionnaire.exported_at.strftime("%Y-%m-%d %H:%M")), "", *questionnaire.instructions]:
        sheet.append([text_cell(sheet, line, style={"alignment": WRAP})])
    _protect(sheet)


def _write_section(workbook, section: OfflineSheet, title: str, lists: _Lists) -> list[list[str]]:
    validations = _Validations(lists)

    def setup(sheet):
        set_widths(sheet, WIDTHS)
        sheet.freeze_panes = "C3"

    def header(stream: SheetStream):
        sheet = stream.sheet
        stream.write([text_cell(sheet, f"{section.code} — {section.title}", style={"font": TITLE_FONT}),
                      None, text_cell(sheet, section.guidance, style={"alignment": WRAP}) if section.guidance
                      else None])
        stream.write([text_cell(sheet, str(LABELS[k]), style=_header_style())
                      for k in ("code", "question", "guidance", "paragraph", "condition", "answer")])

    def finish(sheet):
        validations.apply(sheet)
        _protect(sheet)

    stream = SheetStream(workbook, title, header=header, setup=setup, finish=finish,
                         marker=[None, None, None, None, str(LABELS["continued"])])
    records = []
    for item in section.items:
        if isinstance(item, Heading):
            stream.add([item.code, item.title, item.guidance or None],
                       [{"font": HEADER_FONT, "alignment": WRAP}] * 3)
            continue
        records.append(_write_question(stream, item, validations))
    stream.close()
    return records


def _describe(question: OfflineQuestion) -> list:
    prompt = f"{question.prompt} ({LABELS['required']})" if question.is_required else question.prompt
    guidance = question.guidance
    if question.layout is not None:
        hints = [c.hint for c in question.layout.checks if c is not None and c.hint]
        guidance = "\n\n".join(part for part in [guidance, *hints[:1]] if part)
    return [question.code, prompt, guidance or None, question.paragraphs or None, question.condition or None]


def _write_question(stream: SheetStream, question: OfflineQuestion, validations: _Validations) -> list[str]:
    """Write one question's rows; return its record for the signed sheet."""
    wrap = {"alignment": WRAP}
    described = _describe(question)
    styles: list[dict | None] = [wrap] * 5
    layout = question.layout
    if layout is None:
        stream.add([*described, str(LABELS["not_carried"])], [*styles, wrap])
        return []
    if layout.kind == "cell":
        value = question.cells[0][0] if question.cells and question.cells[0] else None
        placed = stream.add([*described, value], [*styles, _answer_style()])
        cell = f"{get_column_letter(ANSWER_COLUMN)}{placed.row}"
        validations.add(layout.checks[0] if layout.checks else None,
                        f"{cell}:{get_column_letter(ANSWER_COLUMN)}{placed.row + placed.height - 1}")
        return _record(question, stream.sheet.title, ANSWER_COLUMN, 1, [placed])
    if layout.kind == "rows":
        width = len(layout.columns)
        stream.add([*described, *layout.columns], [*styles, *[_header_style()] * width])
        rows = [list(row)[:width] + [None] * (width - len(row)) for row in question.cells]
        rows += [[None] * width for _spare in range(layout.spare_rows)]
        placed = [stream.add([None] * 5 + row, [None] * 5 + [_answer_style()] * width) for row in rows]
        first, last = placed[0].row, placed[-1].row + placed[-1].height - 1
        for index, check in enumerate(layout.checks[:width]):
            letter = get_column_letter(ANSWER_COLUMN + index)
            validations.add(check, f"{letter}{first}:{letter}{last}")
        return _record(question, stream.sheet.title, ANSWER_COLUMN, width, placed)
    return _write_grid(stream, question, described, validations)


def _write_grid(stream: SheetStream, question: OfflineQuestion, described: list,
                validations: _Validations) -> list[str]:
    layout = question.layout
    width = min(len(layout.columns), MAX_GRID_COLUMNS)
    first_column = ANSWER_COLUMN + 1
    last_letter = get_column_letter(first_column + width - 1)
    row_totals = layout.totals in ("rows", "both")
    column_totals = layout.totals in ("columns", "both")
    total = str(LABELS["total"])
    stream.add([*described, None, *layout.columns[:width], *([total] if row_totals else [])],
               [{"alignment": WRAP}] * 5 + [None] + [_header_style()] * (width + row_totals))
    sheet = stream.sheet
    placed = []
    for index, label in enumerate(layout.rows):
        cells = list(question.cells[index]) if index < len(question.cells) else []
        cells = (cells + [None] * width)[:width]
        row_number = stream.row + 1
        values = [None] * 5 + [text_cell(sheet, label, style={"font": HEADER_FONT})]
        values += [safe_cell(sheet, v, _answer_style()) for v in cells]
        if row_totals:
            values.append(formula_cell(sheet, f"=SUM({get_column_letter(first_column)}{row_number}:"
                                              f"{last_letter}{row_number})", {"font": HEADER_FONT}))
        stream.write(values)
        placed.append(_Row(sheet.title, row_number))
    first, last = placed[0].row, placed[-1].row
    if column_totals:
        values = [None] * 5 + [text_cell(sheet, total, style={"font": HEADER_FONT})]
        for offset in range(width + (1 if row_totals else 0)):
            letter = get_column_letter(first_column + offset)
            values.append(formula_cell(sheet, f"=SUM({letter}{first}:{letter}{last})", {"font": HEADER_FONT}))
        stream.write(values)
    check = layout.checks[0] if layout.checks else None
    validations.add(check, f"{get_column_letter(first_column)}{first}:{last_letter}{last}", own=True)
    return _record(question, sheet.title, first_column, width, placed)


@dataclass(frozen=True)
class _Row:
    sheet: str
    row: int
    height: int = 1


def _record(question: OfflineQuestion, sheet: str, column: int, width: int, placed: list) -> list[str]:
    rows = [[p.row, p.height] for p in placed]
    return ["answer", question.code, str(question.version), question.digest, sheet, str(column), str(width),
            json.dumps(rows, separators=(",", ":"))]


def _meta_rows(questionnaire: OfflineQuestionnaire, records: list[list[str]]) -> list[list[str]]:
    return [
        ["format", FORMAT],
        ["review", str(questionnaire.review_id)],
        ["questionnaire", questionnaire.slug],
        ["version", str(questionnaire.version)],
        ["content_hash", questionnaire.content_hash],
        ["locale", questionnaire.locale],
        ["exported_at", questionnaire.exported_at.isoformat()],
        ["prefilled", "yes" if questionnaire.is_prefilled else "no"],
        *[r for r in records if r],
    ]


def sign(rows: list[list[str]], key: bytes) -> str:
    """The signature of the hidden sheet's rows."""
    payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _write_meta(workbook, questionnaire: OfflineQuestionnaire, records: list[list[str]], key: bytes) -> None:
    sheet = workbook.create_sheet(META_SHEET)
    sheet.sheet_state = "hidden"
    rows = _meta_rows(questionnaire, records)
    for row in [*rows, ["signature", sign(rows, key)]]:
        sheet.append([text_cell(sheet, value) for value in row])
    _protect(sheet)


# Workbook in -----------------------------------------------------------------------------------

@dataclass
class AnswerCells:
    """What the workbook holds for one question, where the signed sheet says its cells are."""

    code: str
    version: int
    digest: str
    sheet: str
    column: int
    width: int
    rows: list[tuple[int, int]]
    values: list[list] = field(default_factory=list)  # logical rows, texts joined back together
    formulas: list[str] = field(default_factory=list)  # addresses of cells holding a formula

    def cell(self, logical_row: int = 0, column: int = 0) -> str:
        """The address of one of its cells, as a person reads it."""
        row = self.rows[min(logical_row, len(self.rows) - 1)][0] if self.rows else 0
        return address(self.sheet, row, self.column + min(column, self.width - 1))


@dataclass
class OfflineFile:
    """An offline questionnaire read back: what the signed sheet says, and the answer cells."""

    review_id: int
    slug: str
    version: int
    content_hash: str
    locale: str
    exported_at: str
    is_prefilled: bool
    answers: dict[str, AnswerCells]


def read_offline(path: Path, key: bytes, limits: Limits = DEFAULT_LIMITS) -> OfflineFile:
    """Read an offline questionnaire; refuse (WorkbookRefused) an unsafe, foreign or tampered workbook."""
    check_workbook_file(path, limits)
    try:
        workbook = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except WorkbookRefused:
        raise
    except Exception as error:  # openpyxl and defusedxml raise many kinds; each means an unreadable file
        if type(error).__module__.startswith("defusedxml"):
            raise WorkbookRefused(_("The workbook contains XML declarations (DOCTYPE or ENTITY) that Excel never "
                                    "writes; it is refused.")) from error
        raise WorkbookRefused(_("The file is damaged: it is not a readable Excel workbook.")) from error
    try:
        return _read(workbook, key)
    finally:
        workbook.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unescape(str(value))


def _read(workbook, key: bytes) -> OfflineFile:
    if META_SHEET not in workbook.sheetnames:
        raise WorkbookRefused(_("This workbook is not an offline questionnaire exported by this platform."))
    rows = [[_text(v) for v in row if v is not None] for row in workbook[META_SHEET].iter_rows(values_only=True)]
    rows = [row for row in rows if row]
    if not rows or rows[0] != ["format", FORMAT] or rows[-1][:1] != ["signature"] or len(rows[-1]) != 2:
        raise WorkbookRefused(_("This workbook is not an offline questionnaire exported by this platform."))
    if not hmac.compare_digest(sign(rows[:-1], key), rows[-1][1]):
        raise WorkbookRefused(_("The hidden sheet of this workbook was changed after the export, so its answers "
                                "cannot be trusted. Export the questionnaire again and copy your answers into it."))
    meta = {row[0]: row[1] for row in rows[:-1] if row[0] != "answer" and len(row) == 2}
    answers = {}
    for row in rows[:-1]:
        if row[0] == "answer":
            code, version, value_digest, sheet, column, width, placed = row[1:8]
            answers[code] = AnswerCells(code, int(version), value_digest, sheet, int(column), int(width),
                                        [tuple(p) for p in json.loads(placed)])
    _read_cells(workbook, answers)
    return OfflineFile(int(meta["review"]), meta["questionnaire"], int(meta["version"]), meta["content_hash"],
                       meta["locale"], meta["exported_at"], meta["prefilled"] == "yes", answers)


def _read_cells(workbook, answers: dict[str, AnswerCells]) -> None:
    """Read each sheet once, keeping only the answer cells."""
    by_sheet: dict[str, list[AnswerCells]] = {}
    for answer in answers.values():
        by_sheet.setdefault(answer.sheet, []).append(answer)
    for title, items in by_sheet.items():
        if title not in workbook.sheetnames:
            raise WorkbookRefused(_("The sheet “%(sheet)s” is missing from the workbook.", sheet=title))
        wanted_rows = {r for a in items for first, height in a.rows for r in range(first, first + height)}
        min_column = min(a.column for a in items)
        max_column = max(a.column + a.width - 1 for a in items)
        found: dict[tuple[int, int], tuple[Any, bool]] = {}
        for cells in workbook[title].iter_rows(min_row=min(wanted_rows), max_row=max(wanted_rows),
                                               min_col=min_column, max_col=max_column):
            for cell in cells:
                if getattr(cell, "row", None) in wanted_rows and cell.value is not None:
                    value = cell.value
                    found[(cell.row, cell.column)] = (unescape(value) if isinstance(value, str) else value,
                                                      cell.data_type == "f")
        for answer in items:
            for first, height in answer.rows:
                physical = []
                for row in range(first, first + height):
                    values = []
                    for column in range(answer.column, answer.column + answer.width):
                        value, is_formula = found.get((row, column), (None, False))
                        if is_formula:
                            answer.formulas.append(address(title, row, column))
                        values.append(value)
                    physical.append(values)
                answer.values.append(join_pieces(physical))
