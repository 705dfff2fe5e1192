"""The question types: one registry, each type knowing its options, values, display and cells.

A value is what a State answers, as JSON. `normalize` never raises: it returns the cleaned
value and the problems found, so an invalid answer can be kept as a draft and shown with its
errors. Adding a type means adding one class here and listing it in `TYPES`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KEY_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
NOT_AVAILABLE = "n/a"
MAX_TEXT = 20_000


class Texts(BaseModel):
    """A text per language; English is required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    es: str | None = None
    fr: str | None = None
    ar: str | None = None
    ru: str | None = None
    zh: str | None = None

    @field_validator("en", "es", "fr", "ar", "ru", "zh")
    @classmethod
    def _not_blank(cls, value):
        if value is not None and not value.strip():
            raise ValueError("a text cannot be blank")
        return value

    def get(self, locale: str) -> tuple[str, bool]:
        """Return the text in `locale` and whether it fell back to English."""
        text = getattr(self, locale, None)
        return (text, False) if text else (self.en, locale != "en")


class Choice(BaseModel):
    """One answer offered by a choice question."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=KEY_PATTERN, max_length=60)
    label: Texts


def _unique_keys(items: list[Choice], what: str) -> list[Choice]:
    seen = set()
    for item in items:
        if item.key in seen:
            raise ValueError(f"duplicate {what} key {item.key!r}")
        seen.add(item.key)
    return items


class NoOptions(BaseModel):
    """A type without options."""

    model_config = ConfigDict(extra="forbid")


class YesNoPartialOptions(BaseModel):
    """Options of a Yes / Yes, in part / No question.

    `scale: measures` asks about measures taken on a recommendation rather than compliance with an
    obligation: the answers read "Measures taken", "Some measures taken", "Considered, no measures
    taken" and "Not yet considered" (keys yes, partial, no, not_considered).
    """

    model_config = ConfigDict(extra="forbid")

    not_applicable: bool = False
    scale: Literal["compliance", "measures"] = "compliance"


class ChoiceOptions(BaseModel):
    """Options of a single or multiple choice question."""

    model_config = ConfigDict(extra="forbid")

    choices: list[Choice] = Field(min_length=2)

    @field_validator("choices")
    @classmethod
    def _unique(cls, choices):
        return _unique_keys(choices, "choice")


GRID_SEPARATOR = "__"


class Grid(BaseModel):
    """A grid of checkboxes: each row × column (× mark, when marks are given) is one choice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: list[Choice] = Field(min_length=1)
    columns: list[Choice] = Field(min_length=1)
    marks: list[Choice] = []

    @field_validator("rows", "columns", "marks")
    @classmethod
    def _unique(cls, items, info):
        for item in items:
            if GRID_SEPARATOR in item.key:
                raise ValueError(f"a grid key cannot contain {GRID_SEPARATOR!r}: {item.key!r}")
        return _unique_keys(items, info.field_name.rstrip("s"))

    def key(self, row: str, column: str, mark: str | None = None) -> str:
        """The choice key of a cell (and mark)."""
        return GRID_SEPARATOR.join(part for part in (row, column, mark) if part)

    def cells(self) -> list[Choice]:
        """Every cell (and mark) as a choice, row by row, labelled 'row — column (— mark)'."""
        choices = []
        for row in self.rows:
            for column in self.columns:
                for mark in self.marks or [None]:
                    parts = [row.label, column.label] + ([mark.label] if mark else [])
                    label = Texts.model_validate({
                        language: " — ".join(getattr(p, language) or p.en for p in parts)
                        for language in ("en", "es", "fr", "ar", "ru", "zh")
                        if any(getattr(p, language) for p in parts)})
                    choices.append(Choice(key=self.key(row.key, column.key, mark.key if mark else None),
                                          label=label))
        return choices


class MultiChoiceOptions(BaseModel):
    """Options of a multiple choice question: a list of choices, or a grid of them."""

    model_config = ConfigDict(extra="forbid")

    grid: Grid | None = None
    choices: list[Choice] = Field(default_factory=list, validate_default=True)

    @field_validator("choices")
    @classmethod
    def _choices_or_grid(cls, choices, info):
        grid = info.data.get("grid")
        if grid is not None and choices:
            raise ValueError("give either choices or a grid, not both")
        if grid is None and len(choices) < 2:
            raise ValueError("List should have at least 2 items (or give a grid)")
        return _unique_keys(choices, "choice")

    @model_validator(mode="after")
    def _grid_cells(self):
        if self.grid is not None:
            self.choices = self.grid.cells()
        return self


class TextOptions(BaseModel):
    """Options of a free-text question."""

    model_config = ConfigDict(extra="forbid")

    multiline: bool = True
    max_length: int = Field(default=MAX_TEXT, ge=1, le=MAX_TEXT)


class NumberOptions(BaseModel):
    """Options of a number question."""

    model_config = ConfigDict(extra="forbid")

    unit: Texts | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False


class TableOptions(BaseModel):
    """Options of a numeric grid.

    `years_before_cycle: N` makes the table's rows (or, with `years_on: columns`, its columns) the N
    full years before the review's cycle; the rows (columns) listed, if any, are repeated for each
    year. The concrete rows come from `for_cycle`, once a review's cycle is known.
    """

    model_config = ConfigDict(extra="forbid")

    years_before_cycle: int | None = Field(default=None, ge=1, le=10)
    years_on: Literal["rows", "columns"] = "rows"
    rows: list[Choice] = Field(default_factory=list, validate_default=True)
    columns: list[Choice] = Field(default_factory=list, validate_default=True)
    totals: Literal["none", "rows", "columns", "both"] = "both"
    unit: Texts | None = None

    @field_validator("rows", "columns")
    @classmethod
    def _unique(cls, items, info):
        axis = info.field_name
        if not items and not (info.data.get("years_before_cycle") and info.data.get("years_on") == axis):
            raise ValueError(f"List should have at least 1 item (or give years_before_cycle and years_on: {axis})")
        return _unique_keys(items, axis.rstrip("s"))

    def years(self, cycle: int) -> list[int]:
        """The full years before a cycle that the table asks about, oldest first."""
        return list(range(cycle - (self.years_before_cycle or 0), cycle))

    def for_cycle(self, cycle: int | None) -> TableOptions:
        """These options with the years of a review's cycle as concrete rows (or columns)."""
        if not self.years_before_cycle or cycle is None:
            return self
        axis = self.years_on
        listed = getattr(self, axis)
        concrete = []
        for year in self.years(cycle):
            if not listed:
                concrete.append(Choice(key=str(year), label=Texts(en=str(year))))
                continue
            for item in listed:
                label = Texts.model_validate({language: f"{year} — {text}"
                                              for language, text in item.label.model_dump(exclude_none=True).items()})
                concrete.append(Choice(key=f"{year}_{item.key}", label=label))
        return self.model_copy(update={axis: concrete, "years_before_cycle": None})


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> float | int | None:
    """Read a number from JSON or a string written by a person ('1 234,5' too); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        cleaned = value.strip().replace("\u00a0", "").replace(" ", "")
        if re.fullmatch(r"-?\d+", cleaned):
            return int(cleaned)
        if re.fullmatch(r"-?\d+[.,]\d+", cleaned):
            number = float(cleaned.replace(",", "."))
            return number if math.isfinite(number) else None
    return None


@dataclass
class Normalized:
    """A cleaned value and what is wrong with it (empty when valid)."""

    value: Any
    errors: list[str]


class QuestionType:
    """What every question type knows; subclasses fill it in."""

    name: ClassVar[str]
    label: ClassVar[Any]
    options_model: ClassVar[type[BaseModel]] = NoOptions

    def parse_options(self, raw: dict) -> BaseModel:
        """Validate the type's options (raises pydantic.ValidationError)."""
        return self.options_model.model_validate(raw or {})

    def options_for_cycle(self, options: BaseModel, cycle: int | None) -> BaseModel:
        """The options as a review of that cycle uses them (a table's years become concrete rows)."""
        return options

    def normalize(self, value: Any, options: BaseModel) -> Normalized:
        """Clean a value and list its problems; never raises."""
        raise NotImplementedError

    def is_empty(self, value: Any) -> bool:
        """Whether a value counts as no answer."""
        return value is None or value == "" or value == [] or value == {}

    def answer_keys(self, options: BaseModel) -> list[str] | None:
        """The finite set of values a condition may test, or None when the values are open."""
        return None

    def display(self, value: Any, options: BaseModel, locale: str) -> str:
        """A read-only rendering as plain text."""
        return "" if self.is_empty(value) else str(value)

    def to_cells(self, value: Any, options: BaseModel, locale: str) -> list:
        """The spreadsheet cells of a value, left to right (the Excel export uses this)."""
        return [self.display(value, options, locale)]

    def aggregate(self, values: list[Any], options: BaseModel) -> dict:
        """A summary across States: how many answered, and per-type counts or sums."""
        answered = [v for v in values if not self.is_empty(v)]
        return {"answered": len(answered), "total": len(values)}


class YesNoPartial(QuestionType):
    """Yes / Yes, in part / No (and optionally Not applicable)."""

    name = "yes_no_partial"
    label = _l("Yes / Yes, in part / No")
    options_model = YesNoPartialOptions
    LABELS: ClassVar[dict] = {
        "yes": _l("Yes"), "partial": _l("Yes, in part"), "no": _l("No"), "not_applicable": _l("Not applicable"),
    }
    MEASURES_LABELS: ClassVar[dict] = {
        "yes": _l("Measures taken"), "partial": _l("Some measures taken"),
        "no": _l("Considered, no measures taken"), "not_considered": _l("Not yet considered"),
        "not_applicable": _l("Not applicable"),
    }

    def answer_keys(self, options):
        """yes, partial, no (and not_considered on the measures scale), and not_applicable when offered."""
        keys = ["yes", "partial", "no"] + (["not_considered"] if options.scale == "measures" else [])
        return keys + ["not_applicable"] if options.not_applicable else keys

    def labels(self, options) -> dict:
        """The offered answers' labels, by key, in the order offered."""
        labels = self.MEASURES_LABELS if options.scale == "measures" else self.LABELS
        return {key: labels[key] for key in self.answer_keys(options)}

    def normalize(self, value, options):
        """Accept one of the offered keys."""
        if self.is_empty(value):
            return Normalized(None, [])
        if isinstance(value, str) and value in self.answer_keys(options):
            return Normalized(value, [])
        return Normalized(value, [str(_l("Choose one of the offered answers."))])

    def display(self, value, options, locale):
        """The answer's label."""
        if self.is_empty(value):
            return ""
        labels = self.labels(options)
        return str(labels[value]) if isinstance(value, str) and value in labels else str(value)

    def aggregate(self, values, options):
        """Counts per answer."""
        summary = super().aggregate(values, options)
        summary["counts"] = {key: sum(1 for v in values if v == key) for key in self.answer_keys(options)}
        return summary


class SingleChoice(QuestionType):
    """One answer out of a list."""

    name = "single_choice"
    label = _l("One choice")
    options_model = ChoiceOptions

    def answer_keys(self, options):
        """The choice keys."""
        return [choice.key for choice in options.choices]

    def normalize(self, value, options):
        """Accept one known key."""
        if self.is_empty(value):
            return Normalized(None, [])
        if isinstance(value, str) and value in self.answer_keys(options):
            return Normalized(value, [])
        return Normalized(value, [str(_l("Choose one of the offered answers."))])

    def display(self, value, options, locale):
        """The chosen label."""
        if self.is_empty(value):
            return ""
        labels = {c.key: c.label.get(locale)[0] for c in options.choices}
        return labels[value] if isinstance(value, str) and value in labels else str(value)

    def aggregate(self, values, options):
        """Counts per choice."""
        summary = super().aggregate(values, options)
        summary["counts"] = {key: sum(1 for v in values if v == key) for key in self.answer_keys(options)}
        return summary


class MultiChoice(SingleChoice):
    """Any number of answers out of a list."""

    name = "multi_choice"
    label = _l("Several choices")
    options_model = MultiChoiceOptions

    def normalize(self, value, options):
        """Accept a list of known keys, kept in the order of the options, without duplicates."""
        if self.is_empty(value):
            return Normalized([], [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return Normalized(value, [str(_l("Choose among the offered answers."))])
        keys = self.answer_keys(options)
        unknown = [v for v in value if v not in keys]
        ordered = [key for key in keys if key in value]
        if unknown:
            return Normalized(ordered + unknown, [str(_l("Choose among the offered answers."))])
        return Normalized(ordered, [])

    def display(self, value, options, locale):
        """The chosen labels, separated by semicolons."""
        if self.is_empty(value) or not isinstance(value, list):
            return ""
        labels = {c.key: c.label.get(locale)[0] for c in options.choices}
        return "; ".join(labels[v] if isinstance(v, str) and v in labels else str(v) for v in value)

    def aggregate(self, values, options):
        """How many States chose each answer."""
        summary = QuestionType.aggregate(self, values, options)
        summary["counts"] = {
            key: sum(1 for v in values if isinstance(v, list) and key in v) for key in self.answer_keys(options)
        }
        return summary


class Text(QuestionType):
    """Free text."""

    name = "text"
    label = _l("Text")
    options_model = TextOptions

    def normalize(self, value, options):
        """Accept a string up to the maximum length, with Unix line endings."""
        if self.is_empty(value):
            return Normalized(None, [])
        if not isinstance(value, str):
            return Normalized(None if value is None else str(value)[:MAX_TEXT], [str(_l("Enter text."))])
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if not value.strip():
            return Normalized(None, [])
        if len(value) > options.max_length:
            return Normalized(value, [str(_l("Use at most %(n)d characters.", n=options.max_length))])
        return Normalized(value, [])


class Number(QuestionType):
    """A number, with an optional unit and range."""

    name = "number"
    label = _l("Number")
    options_model = NumberOptions

    def normalize(self, value, options):
        """Accept a number (or a numeric string) within the range."""
        if self.is_empty(value):
            return Normalized(None, [])
        number = _number(value)
        if number is None:
            return Normalized(value if isinstance(value, str) else None, [str(_l("Enter a number."))])
        if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
            number = int(number)
        errors = []
        if options.integer and not isinstance(number, int):
            errors.append(str(_l("Enter a whole number.")))
        if options.min is not None and number < options.min:
            errors.append(str(_l("Enter a number of at least %(min)s.", min=_plain(options.min))))
        if options.max is not None and number > options.max:
            errors.append(str(_l("Enter a number of at most %(max)s.", max=_plain(options.max))))
        return Normalized(number, errors)

    def display(self, value, options, locale):
        """The number and its unit."""
        if self.is_empty(value):
            return ""
        unit = f" {options.unit.get(locale)[0]}" if options.unit else ""
        return f"{_plain(value)}{unit}"

    def to_cells(self, value, options, locale):
        """The number itself, so a spreadsheet can compute with it."""
        return [value if isinstance(value, int | float) and not isinstance(value, bool) else None]

    def aggregate(self, values, options):
        """Count, sum, minimum and maximum of the numeric answers."""
        summary = super().aggregate(values, options)
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        summary.update(sum=sum(numbers), min=min(numbers, default=None), max=max(numbers, default=None))
        return summary


def _plain(number) -> str:
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return str(number)


class Date(QuestionType):
    """A calendar date."""

    name = "date"
    label = _l("Date")

    def normalize(self, value, options):
        """Accept an ISO date YYYY-MM-DD."""
        if self.is_empty(value):
            return Normalized(None, [])
        if isinstance(value, str):
            try:
                return Normalized(date.fromisoformat(value.strip()).isoformat(), [])
            except ValueError:
                pass
        return Normalized(value if isinstance(value, str) else None, [str(_l("Enter a valid date (YYYY-MM-DD)."))])


CITATION_FIELDS = ("title", "article", "year", "link", "excerpt")


class Legislation(QuestionType):
    """Repeatable citations of legislation: title, article, year, link, excerpt."""

    name = "legislation"
    label = _l("Legislation")

    def normalize(self, value, options):
        """Keep citations with known fields; each needs a title, a plausible year and an http(s) link."""
        if self.is_empty(value):
            return Normalized([], [])
        if not isinstance(value, list):
            return Normalized([], [str(_l("Cite legislation as a list of references."))])
        citations, errors = [], []
        for number, item in enumerate(value, start=1):
            if not isinstance(item, dict):
                errors.append(str(_l("Citation %(n)d is not a reference.", n=number)))
                continue
            citation = {f: _text(item.get(f)) for f in CITATION_FIELDS}
            if not any(citation.values()):
                continue  # an empty row a person added and left blank
            citations.append(citation)
            if not citation["title"]:
                errors.append(str(_l("Citation %(n)d needs a title.", n=number)))
            if citation["year"] and not re.fullmatch(r"\d{4}", citation["year"]):
                errors.append(str(_l("Citation %(n)d: the year has four digits.", n=number)))
            if citation["link"] and not re.match(r"https?://", citation["link"]):
                errors.append(str(_l("Citation %(n)d: the link starts with http:// or https://.", n=number)))
            if any(len(v or "") > MAX_TEXT for v in citation.values()):
                errors.append(str(_l("Citation %(n)d is too long.", n=number)))
        return Normalized(citations, errors)

    def display(self, value, options, locale):
        """One line per citation."""
        if self.is_empty(value) or not isinstance(value, list):
            return ""
        lines = []
        for c in value:
            head = ", ".join(p for p in (c.get("title"), c.get("article"), c.get("year")) if p)
            lines.append(" — ".join(p for p in (head, c.get("link"), c.get("excerpt")) if p))
        return "\n".join(lines)


class Table(QuestionType):
    """A numeric grid with declared rows and columns; totals are derived, never stored."""

    name = "table"
    label = _l("Table of figures")
    options_model = TableOptions

    def options_for_cycle(self, options, cycle):
        """The years before the review's cycle as concrete rows (or columns)."""
        return options.for_cycle(cycle)

    def is_empty(self, value):
        """A table with no cell filled in is empty."""
        return not isinstance(value, dict) or not any(isinstance(r, dict) and r for r in value.values())

    def normalize(self, value, options):
        """Keep declared cells that hold a non-negative number or 'n/a'; blank cells are dropped."""
        if value is None or value == {} or value == "":
            return Normalized({}, [])
        if not isinstance(value, dict):
            return Normalized({}, [str(_l("Fill in the table cells."))])
        rows = {r.key: r for r in options.rows}
        columns = {c.key: c for c in options.columns}
        cleaned: dict[str, dict] = {}
        errors = []
        for row_key, cells in value.items():
            if row_key not in rows or not isinstance(cells, dict):
                errors.append(str(_l("The table has no row %(row)s.", row=str(row_key)[:40])))
                continue
            for column_key, cell in cells.items():
                if column_key not in columns:
                    errors.append(str(_l("The table has no column %(column)s.", column=str(column_key)[:40])))
                    continue
                if cell is None or (isinstance(cell, str) and not cell.strip()):
                    continue
                if isinstance(cell, str) and cell.strip().lower() in {NOT_AVAILABLE, "na", "n.a."}:
                    cleaned.setdefault(row_key, {})[column_key] = NOT_AVAILABLE
                    continue
                number = _number(cell)
                label = f"{rows[row_key].label.en} × {columns[column_key].label.en}"
                if number is None:
                    cleaned.setdefault(row_key, {})[column_key] = str(cell)[:100]
                    errors.append(str(_l("%(cell)s: enter a number or n/a.", cell=label)))
                elif number < 0:
                    cleaned.setdefault(row_key, {})[column_key] = number
                    errors.append(str(_l("%(cell)s: a figure cannot be negative.", cell=label)))
                else:
                    cleaned.setdefault(row_key, {})[column_key] = number
        ordered = {r: {c: cleaned[r][c] for c in columns if c in cleaned[r]} for r in rows if r in cleaned}
        return Normalized(ordered, errors)

    def totals(self, value, options) -> dict:
        """Row and column totals of the numeric cells, as the options ask."""
        value = value if isinstance(value, dict) else {}

        def number(row, column):
            cell = value.get(row, {}).get(column) if isinstance(value.get(row), dict) else None
            return cell if isinstance(cell, int | float) and not isinstance(cell, bool) else 0

        result = {}
        if options.totals in ("rows", "both"):
            result["rows"] = {r.key: sum(number(r.key, c.key) for c in options.columns) for r in options.rows}
        if options.totals in ("columns", "both"):
            result["columns"] = {c.key: sum(number(r.key, c.key) for r in options.rows) for c in options.columns}
        if options.totals == "both":
            result["grand"] = sum(result["columns"].values())
        return result

    def display(self, value, options, locale):
        """Row by row: 'row: column value; …'."""
        if self.is_empty(value):
            return ""
        lines = []
        for row in options.rows:
            cells = value.get(row.key, {})
            if cells:
                parts = [f"{c.label.get(locale)[0]} {_plain(cells[c.key]) if cells[c.key] != NOT_AVAILABLE else 'n/a'}"
                         for c in options.columns if c.key in cells]
                lines.append(f"{row.label.get(locale)[0]}: " + "; ".join(parts))
        return "\n".join(lines)

    def to_cells(self, value, options, locale):
        """Every cell, row by row, left to right; blanks stay None."""
        value = value if isinstance(value, dict) else {}
        return [value.get(r.key, {}).get(c.key) for r in options.rows for c in options.columns]

    def aggregate(self, values, options):
        """The cell-by-cell sum over the States that gave a figure."""
        summary = super().aggregate(values, options)
        sums: dict[str, dict[str, float]] = {}
        for value in values:
            for row, cells in (value or {}).items():
                for column, cell in (cells or {}).items():
                    if isinstance(cell, int | float) and not isinstance(cell, bool):
                        sums.setdefault(row, {}).setdefault(column, 0)
                        sums[row][column] += cell
        summary["sums"] = sums
        return summary


class Attachments(QuestionType):
    """Files uploaded as evidence; the value lists their ids."""

    name = "attachments"
    label = _l("Attachments")

    def normalize(self, value, options):
        """Accept a list of positive attachment ids, without duplicates."""
        if self.is_empty(value):
            return Normalized([], [])
        if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
            return Normalized(list(dict.fromkeys(value)), [])
        return Normalized([], [str(_l("The list of attachments is not valid."))])

    def display(self, value, options, locale):
        """How many files."""
        return "" if self.is_empty(value) else str(_l("%(n)d file(s)", n=len(value)))


TYPES: dict[str, QuestionType] = {
    t.name: t for t in (YesNoPartial(), SingleChoice(), MultiChoice(), Text(), Number(), Date(), Legislation(),
                        Table(), Attachments())
}
