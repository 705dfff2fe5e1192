"""The question types: one registry, each type knowing everything about its answers.

A value is what a State answers, as JSON. For each type, one class here says which options it
takes, which JSON it accepts at all (`refusal`: anything else is refused, never coerced), how a
value is cleaned and checked (`normalize` never raises: an invalid answer is kept as a draft
with its problems, stored as message codes and shown in the reader's language), how it is
displayed, which form fields it has and how a value is read back from them, how it is written to
and read from spreadsheet cells, and how it adds up across States. Its inputs are drawn by the
template named in `input_template`. Adding a type means one class here (listed in `TYPES`), its
template, and its entry in the answering script's table of types.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

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

    def every_language(self) -> list[str]:
        """The text in each language it has."""
        return [text for text in (self.en, self.es, self.fr, self.ar, self.ru, self.zh) if text]


class Choice(BaseModel):
    """One answer offered by a choice question (or a row or column of a table)."""

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
    """Options of a numeric grid; cells are counts (whole numbers) unless `integer` is false.

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
    integer: bool = True

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


# Problems of a value, as codes with parameters ---------------------------------------------------

MESSAGES = {
    "choose_offered": _l("Choose one of the offered answers."),
    "choose_among": _l("Choose among the offered answers."),
    "too_long": _l("Use at most %(n)d characters."),
    "number": _l("Enter a number."),
    "whole_number": _l("Enter a whole number."),
    "at_least": _l("Enter a number of at least %(min)s."),
    "at_most": _l("Enter a number of at most %(max)s."),
    "date": _l("Enter a valid date (YYYY-MM-DD)."),
    "citation_title": _l("Citation %(n)d needs a title."),
    "citation_year": _l("Citation %(n)d: the year has four digits."),
    "citation_link": _l("Citation %(n)d: the link starts with http:// or https://."),
    "citation_too_long": _l("Citation %(n)d is too long."),
    "cell_number": _l("%(cell)s: enter a number or n/a."),
    "cell_whole": _l("%(cell)s: enter a whole number (a count cannot have decimals)."),
    "cell_negative": _l("%(cell)s: a figure cannot be negative."),
    # refusals: a value of the wrong kind for its question, never stored as the answer
    "refused_choice": _l("This answer must be one of the offered answers."),
    "refused_choices": _l("This answer must be a list of the offered answers."),
    "refused_text": _l("This answer must be text."),
    "refused_number": _l("This answer must be a number, written with digits."),
    "refused_date": _l("This answer must be a date written YYYY-MM-DD."),
    "refused_citations": _l("Cite legislation as a list of references, each with a title, article, year, link and "
                            "excerpt written as text."),
    "refused_table": _l("This table must be given row by row, each cell a figure, n/a or blank."),
    "refused_table_row": _l("The table has no row %(row)s."),
    "refused_table_column": _l("The table has no column %(column)s."),
    "refused_attachments": _l("The list of attachments is not valid."),
    "unstorable": _l("The answer contains a character that cannot be stored (%(character)s). Remove it and save "
                     "again."),
}


@dataclass(frozen=True)
class Problem:
    """Something wrong with a value: a message code and its parameters, rendered in the reader's language."""

    code: str
    params: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        """The problem as stored with an answer."""
        return {"code": self.code, "params": self.params}

    @classmethod
    def from_json(cls, data: Any) -> Problem:
        """A stored problem; a text stored by an older version is kept as it was."""
        if isinstance(data, dict) and isinstance(data.get("code"), str):
            return cls(data["code"], dict(data.get("params") or {}))
        return cls("text", {"text": str(data)})


@dataclass
class Normalized:
    """A cleaned value and what is wrong with it (empty when valid)."""

    value: Any
    errors: list[Problem]


@dataclass(frozen=True)
class CellCheck:
    """What a spreadsheet may accept in an answer cell (a data validation), in the reader's language.

    kind: `list` (one of `choices`), `whole` or `decimal` (between `minimum` and `maximum`), `date`,
    `text` (at most `max_length` characters), `figure` (a figure of at least 0, `whole` or not, or n/a);
    `hint` says in words what to write.
    """

    kind: Literal["list", "whole", "decimal", "date", "text", "figure"]
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    whole: bool = False
    hint: str = ""


@dataclass(frozen=True)
class CellLayout:
    """How `to_cells` lays a value out in a spreadsheet.

    `cell`: one cell; `rows`: repeatable rows under the `columns` headers, with `spare_rows` empty
    ones to fill in; `grid`: `rows` × `columns` with labels and the `totals` a spreadsheet computes.
    `checks` holds one check per column (or one for every cell of a grid).
    """

    kind: Literal["cell", "rows", "grid"]
    rows: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    totals: Literal["none", "rows", "columns", "both"] = "none"
    checks: tuple[CellCheck | None, ...] = ()
    spare_rows: int = 0


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
        cleaned = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        if re.fullmatch(r"-?\d+", cleaned):
            return int(cleaned)
        if re.fullmatch(r"-?\d+[.,]\d+", cleaned):
            number = float(cleaned.replace(",", "."))
            return number if math.isfinite(number) else None
    return None


def _is_plain_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _plain(number) -> str:
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return str(number)


def unstorable_character(value: Any) -> str | None:
    """The first character of a value a database cannot store (NUL, a lone surrogate), as U+XXXX."""
    if isinstance(value, str):
        for character in value:
            if character == "\x00" or "\ud800" <= character <= "\udfff":
                return f"U+{ord(character):04X}"
        return None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = unstorable_character(item)
        if found:
            return found
    return None


def storable_copy(value: Any) -> Any:
    """A value with every character a database cannot store replaced by U+FFFD, to keep it in the history."""
    if isinstance(value, str):
        return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in value)
    if isinstance(value, dict):
        return {storable_copy(str(k)): storable_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_copy(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def field_name(code: str, *parts: Any) -> str:
    """The input name of a question (and of a part of it)."""
    return "-".join(["a", code, *map(str, parts)])


class _CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuestionType:
    """What every question type knows; subclasses fill it in."""

    name: ClassVar[str]
    label: ClassVar[Any]
    options_model: ClassVar[type[BaseModel]] = NoOptions
    accepts_files: ClassVar[bool] = False
    autosaved: ClassVar[bool] = True
    importable: ClassVar[bool] = True

    @property
    def input_template(self) -> str:
        """The template that draws this type's inputs (and a read-only preview of them)."""
        return f"question_types/{self.name}.html"

    def parse_options(self, raw: dict) -> BaseModel:
        """Validate the type's options (raises pydantic.ValidationError)."""
        return self.options_model.model_validate(raw or {})

    def options_for_cycle(self, options: BaseModel, cycle: int | None) -> BaseModel:
        """The options as a review of that cycle uses them (a table's years become concrete rows)."""
        return options

    # Values -----------------------------------------------------------------------------------

    def refusal(self, value: Any, options: BaseModel) -> Problem | None:
        """Why a value cannot be an answer to this question at all (wrong kind of JSON), or None."""
        character = unstorable_character(value)
        if character:
            return Problem("unstorable", {"character": character})
        return self.shape_refusal(value, options)

    def shape_refusal(self, value: Any, options: BaseModel) -> Problem | None:
        """The type's own check of the JSON's shape."""
        return None

    def normalize(self, value: Any, options: BaseModel) -> Normalized:
        """Clean a value of an accepted shape and list its problems; never raises."""
        raise NotImplementedError

    def empty_value(self) -> Any:
        """The value of an unanswered question."""
        return None

    def is_empty(self, value: Any) -> bool:
        """Whether a value counts as no answer."""
        return value is None or value == "" or value == [] or value == {}

    def answer_keys(self, options: BaseModel) -> list[str] | None:
        """The finite set of values a condition may test, or None when the values are open."""
        return None

    def message(self, problem: Problem, options: BaseModel, locale: str) -> str:
        """A problem of a value in the reader's language."""
        if problem.code == "text":
            return str(problem.params.get("text", ""))
        template = MESSAGES.get(problem.code)
        if template is None:
            return problem.code
        try:
            return str(template) % problem.params if problem.params else str(template)
        except (KeyError, TypeError, ValueError):
            return str(template)

    def display(self, value: Any, options: BaseModel, locale: str) -> str:
        """A read-only rendering as plain text."""
        return "" if self.is_empty(value) else str(value)

    def key_label(self, key: Any, options: BaseModel, locale: str) -> str:
        """One answer a condition tests, in words."""
        return self.display(key, options, locale) or str(key)

    # Forms ------------------------------------------------------------------------------------

    def add_fields(self, form_class: type, code: str, options: BaseModel, locale: str, value: Any,
                   data: dict, posted_rows: int = 0) -> None:
        """Add this question's inputs to a form class and put the stored value in `data`."""
        setattr(form_class, field_name(code), StringField())
        data[field_name(code)] = "" if value is None else str(value)

    def read_form(self, code: str, options: BaseModel, form) -> Any:
        """The JSON value of a question's inputs, as the answering script would send it."""
        value = form[field_name(code)].data
        return value if value not in ("", "None") else None

    def rows_posted(self, code: str, names) -> int:
        """How many repeated rows a posted form holds for this question (the page may add rows)."""
        return 0

    # Spreadsheets -----------------------------------------------------------------------------

    def to_cells(self, value: Any, options: BaseModel, locale: str) -> list[list]:
        """The cells of a value as rows of a range (the Excel export writes them as they are)."""
        return [[self.display(value, options, locale) or None]]

    def from_cells(self, rows: list[list], options: BaseModel, locale: str) -> Any:
        """A value read back from the cells `to_cells` wrote (then normalized and checked as any value)."""
        cell = rows[0][0] if rows and rows[0] else None
        return _cell_text(cell)

    def cell_layout(self, options: BaseModel, locale: str) -> CellLayout | None:
        """How the cells of `to_cells` are laid out and checked; None when spreadsheets do not carry the type."""
        return CellLayout("cell", checks=(None,))

    # Across States ----------------------------------------------------------------------------

    def aggregate(self, values: list[Any], options: BaseModel) -> dict:
        """A summary across States: how many answered, and per-type counts or sums."""
        answered = [v for v in values if not self.is_empty(v)]
        return {"answered": len(answered), "total": len(values)}


def _cell_text(cell: Any) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    text = str(cell)
    return text if text.strip() else None


def _label_lookup(options_labels: dict[str, Texts | Any]) -> dict[str, str]:
    """Every way a person may write an answer in a cell (its key, its label in each language) → the key."""
    lookup: dict[str, str] = {}
    for key, label in options_labels.items():
        lookup[key.casefold()] = key
        texts = label.every_language() if isinstance(label, Texts) else [str(label)]
        for text in texts:
            lookup.setdefault(text.strip().casefold(), key)
    return lookup


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

    def choices(self, options, locale: str) -> list[SelectChoice]:
        """The offered answers as form choices."""
        return [SelectChoice(key, str(label)) for key, label in self.labels(options).items()]

    def shape_refusal(self, value, options):
        """One answer, as a string."""
        return None if value is None or isinstance(value, str) else Problem("refused_choice")

    def normalize(self, value, options):
        """Accept one of the offered keys; another string is kept as a draft with its problem."""
        if self.is_empty(value):
            return Normalized(None, [])
        if value in self.answer_keys(options):
            return Normalized(value, [])
        return Normalized(value[:200], [Problem("choose_offered")])

    def display(self, value, options, locale):
        """The answer's label."""
        if self.is_empty(value):
            return ""
        labels = self.labels(options)
        return str(labels[value]) if isinstance(value, str) and value in labels else str(value)

    def add_fields(self, form_class, code, options, locale, value, data, posted_rows=0):
        """Radio buttons."""
        setattr(form_class, field_name(code), RadioField(choices=self.choices(options, locale), validate_choice=False,
                                                         validators=[Optional()]))
        data[field_name(code)] = value if isinstance(value, str) else None

    def from_cells(self, rows, options, locale):
        """The key of the label (in any language) or key written in the cell."""
        text = super().from_cells(rows, options, locale)
        if text is None:
            return None
        with force_locale(locale):  # the labels of a workbook are those of its language
            lookup = _label_lookup(self._cell_labels(options))
        return lookup.get(text.strip().casefold(), text)

    def _cell_labels(self, options) -> dict[str, Any]:
        return self.labels(options)

    def cell_layout(self, options, locale):
        """One cell, chosen from the answers' labels."""
        return CellLayout("cell", checks=(CellCheck("list", choices=tuple(
            self.display(key, options, locale) for key in self.answer_keys(options))),))

    def aggregate(self, values, options):
        """Counts per answer."""
        summary = super().aggregate(values, options)
        summary["counts"] = {key: sum(1 for v in values if v == key) for key in self.answer_keys(options)}
        return summary


class SingleChoice(YesNoPartial):
    """One answer out of a list."""

    name = "single_choice"
    label = _l("One choice")
    options_model = ChoiceOptions

    def answer_keys(self, options):
        """The choice keys."""
        return [choice.key for choice in options.choices]

    def labels(self, options):
        """The choices' labels, per language."""
        return {choice.key: choice.label for choice in options.choices}

    def choices(self, options, locale):
        """The choices in the reader's language."""
        return [SelectChoice(c.key, c.label.get(locale)[0]) for c in options.choices]

    def display(self, value, options, locale):
        """The chosen label."""
        if self.is_empty(value):
            return ""
        labels = self.labels(options)
        return labels[value].get(locale)[0] if isinstance(value, str) and value in labels else str(value)


class MultiChoice(SingleChoice):
    """Any number of answers out of a list."""

    name = "multi_choice"
    label = _l("Several choices")
    options_model = MultiChoiceOptions

    def empty_value(self):
        """No choice made."""
        return []

    def shape_refusal(self, value, options):
        """A list of strings (one string stands for a list of one)."""
        if value is None or isinstance(value, str):
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return None
        return Problem("refused_choices")

    def normalize(self, value, options):
        """Keep the chosen keys in the order of the options, without duplicates."""
        if self.is_empty(value):
            return Normalized([], [])
        if isinstance(value, str):
            value = [value]
        keys = self.answer_keys(options)
        unknown = [v[:200] for v in dict.fromkeys(value) if v not in keys]
        ordered = [key for key in keys if key in value]
        if unknown:
            return Normalized(ordered + unknown, [Problem("choose_among")])
        return Normalized(ordered, [])

    def display(self, value, options, locale):
        """The chosen labels, separated by semicolons."""
        if self.is_empty(value) or not isinstance(value, list):
            return ""
        labels = self.labels(options)
        return "; ".join(labels[v].get(locale)[0] if isinstance(v, str) and v in labels else str(v) for v in value)

    def key_label(self, key, options, locale):
        """One of the choices, in words."""
        return self.display([key], options, locale) or str(key)

    def add_fields(self, form_class, code, options, locale, value, data, posted_rows=0):
        """Checkboxes."""
        setattr(form_class, field_name(code), _CheckboxesField(choices=self.choices(options, locale),
                                                               validate_choice=False))
        data[field_name(code)] = value if isinstance(value, list) else []

    def read_form(self, code, options, form):
        """The checked keys."""
        return list(form[field_name(code)].data or [])

    def from_cells(self, rows, options, locale):
        """Labels or keys separated by semicolons."""
        text = QuestionType.from_cells(self, rows, options, locale)
        if text is None:
            return []
        lookup = _label_lookup(self.labels(options))
        return [lookup.get(part.strip().casefold(), part.strip()) for part in text.split(";") if part.strip()]

    def cell_layout(self, options, locale):
        """One cell of labels separated by semicolons."""
        choices = tuple(self.display([key], options, locale) for key in self.answer_keys(options))
        return CellLayout("cell", checks=(CellCheck("text", choices=choices, hint=str(_l(
            "Write one or more of these answers, separated by semicolons: %(choices)s",
            choices="; ".join(choices)))),))

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

    def shape_refusal(self, value, options):
        """A string."""
        return None if value is None or isinstance(value, str) else Problem("refused_text")

    def normalize(self, value, options):
        """Keep the text as typed, with Unix line endings; a text over the limit is kept with its problem."""
        if self.is_empty(value):
            return Normalized(None, [])
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if not value.strip():
            return Normalized(None, [])
        if len(value) > options.max_length:
            return Normalized(value, [Problem("too_long", {"n": options.max_length})])
        return Normalized(value, [])

    def add_fields(self, form_class, code, options, locale, value, data, posted_rows=0):
        """A text area."""
        setattr(form_class, field_name(code), TextAreaField())
        data[field_name(code)] = value if isinstance(value, str) else ""

    def to_cells(self, value, options, locale):
        """The text itself, whole (the spreadsheet layer carries texts longer than a cell)."""
        return [[value if isinstance(value, str) and value else None]]

    def from_cells(self, rows, options, locale):
        """The text as written."""
        cell = rows[0][0] if rows and rows[0] else None
        if cell is None:
            return None
        return cell if isinstance(cell, str) else _cell_text(cell)

    def cell_layout(self, options, locale):
        """One cell of text of at most the question's length."""
        return CellLayout("cell", checks=(CellCheck("text", max_length=options.max_length),))


class Number(QuestionType):
    """A number, with an optional unit and range."""

    name = "number"
    label = _l("Number")
    options_model = NumberOptions

    def shape_refusal(self, value, options):
        """A number or the text a person typed; not a list, a mapping, true/false or an infinite number."""
        if value is None or isinstance(value, str) or _is_plain_number(value):
            return None
        return Problem("refused_number")

    def normalize(self, value, options):
        """Read a number and check it against the range; a text that is not a number is kept as typed."""
        if self.is_empty(value):
            return Normalized(None, [])
        number = _number(value)
        if number is None:
            return Normalized(value.strip()[:200], [Problem("number")])
        if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
            number = int(number)
        errors = []
        if options.integer and not isinstance(number, int):
            errors.append(Problem("whole_number"))
        if options.min is not None and number < options.min:
            errors.append(Problem("at_least", {"min": _plain(options.min)}))
        if options.max is not None and number > options.max:
            errors.append(Problem("at_most", {"max": _plain(options.max)}))
        return Normalized(number, errors)

    def display(self, value, options, locale):
        """The number and its unit."""
        if self.is_empty(value):
            return ""
        unit = f" {options.unit.get(locale)[0]}" if options.unit else ""
        return f"{_plain(value)}{unit}"

    def to_cells(self, value, options, locale):
        """The number itself, so a spreadsheet can compute with it."""
        return [[value if _is_plain_number(value) else (value if isinstance(value, str) else None)]]

    def from_cells(self, rows, options, locale):
        """A number cell, or the text written in it."""
        cell = rows[0][0] if rows and rows[0] else None
        if _is_plain_number(cell):
            return int(cell) if isinstance(cell, float) and cell.is_integer() else cell
        return _cell_text(cell)

    def cell_layout(self, options, locale):
        """One number cell within the question's range."""
        return CellLayout("cell", checks=(CellCheck("whole" if options.integer else "decimal", minimum=options.min,
                                                    maximum=options.max),))

    def aggregate(self, values, options):
        """Count, sum, minimum and maximum of the numeric answers."""
        summary = super().aggregate(values, options)
        numbers = [v for v in values if _is_plain_number(v)]
        summary.update(sum=sum(numbers), min=min(numbers, default=None), max=max(numbers, default=None))
        return summary


class Date(QuestionType):
    """A calendar date."""

    name = "date"
    label = _l("Date")

    def shape_refusal(self, value, options):
        """A string."""
        return None if value is None or isinstance(value, str) else Problem("refused_date")

    def normalize(self, value, options):
        """Accept an ISO date YYYY-MM-DD; another text is kept as typed with its problem."""
        if self.is_empty(value) or not value.strip():
            return Normalized(None, [])
        try:
            return Normalized(date.fromisoformat(value.strip()).isoformat(), [])
        except ValueError:
            return Normalized(value.strip()[:200], [Problem("date")])

    def to_cells(self, value, options, locale):
        """A date cell."""
        try:
            return [[date.fromisoformat(value)]] if isinstance(value, str) else [[None]]
        except ValueError:
            return [[value]]

    def cell_layout(self, options, locale):
        """One date cell."""
        return CellLayout("cell", checks=(CellCheck("date"),))


CITATION_FIELDS = ("title", "article", "year", "link", "excerpt")
CITATION_LABELS = {"title": _l("Title"), "article": _l("Article"), "year": _l("Year"), "link": _l("Link"),
                   "excerpt": _l("Excerpt")}


class Legislation(QuestionType):
    """Repeatable citations of legislation: title, article, year, link, excerpt."""

    name = "legislation"
    label = _l("Legislation")
    accepts_files = True
    MAX_CITATIONS: ClassVar[int] = 200

    def empty_value(self):
        """No citation."""
        return []

    def shape_refusal(self, value, options):
        """A list of references whose parts, if given, are texts."""
        if value is None:
            return None
        if not isinstance(value, list) or len(value) > self.MAX_CITATIONS:
            return Problem("refused_citations")
        for item in value:
            if not isinstance(item, dict) or set(item) - set(CITATION_FIELDS):
                return Problem("refused_citations")
            if any(part is not None and not isinstance(part, str) for part in item.values()):
                return Problem("refused_citations")
        return None

    def normalize(self, value, options):
        """Keep every citation written; each needs a title, a plausible year and an http(s) link."""
        if self.is_empty(value):
            return Normalized([], [])
        citations, errors = [], []
        for item in value:
            citation = {f: _text(item.get(f)) for f in CITATION_FIELDS}
            if not any(citation.values()):
                continue  # an empty row a person added and left blank
            citations.append(citation)
            number = len(citations)
            if not citation["title"]:
                errors.append(Problem("citation_title", {"n": number}))
            if citation["year"] and not re.fullmatch(r"\d{4}", citation["year"]):
                errors.append(Problem("citation_year", {"n": number}))
            if citation["link"] and not re.match(r"https?://", citation["link"]):
                errors.append(Problem("citation_link", {"n": number}))
            if any(len(v or "") > MAX_TEXT for v in citation.values()):
                errors.append(Problem("citation_too_long", {"n": number}))
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

    def add_fields(self, form_class, code, options, locale, value, data, posted_rows=0):
        """Five inputs per citation: the stored ones, those posted, and one empty row more."""
        stored = len(value) if isinstance(value, list) else 0
        for index in range(min(max(stored + 1, posted_rows), self.MAX_CITATIONS)):
            citation = value[index] if isinstance(value, list) and index < len(value) else {}
            for part in CITATION_FIELDS:
                field_class = TextAreaField if part == "excerpt" else StringField
                setattr(form_class, field_name(code, index, part), field_class())
                data[field_name(code, index, part)] = (citation or {}).get(part) or ""

    def rows_posted(self, code, names):
        """The citation rows the browser sent."""
        prefix = field_name(code) + "-"
        rows = 0
        for name in names:
            if name.startswith(prefix):
                index, _sep, part = name[len(prefix):].partition("-")
                if part in CITATION_FIELDS and index.isdigit() and int(index) < self.MAX_CITATIONS:
                    rows = max(rows, int(index) + 1)
        return rows

    def read_form(self, code, options, form):
        """Every citation row posted, in order."""
        citations = []
        index = 0
        while field_name(code, index, "title") in form:
            citations.append({part: form[field_name(code, index, part)].data or "" for part in CITATION_FIELDS})
            index += 1
        return citations

    def to_cells(self, value, options, locale):
        """One row per citation: title, article, year, link, excerpt."""
        if not isinstance(value, list):
            return []
        return [[(c or {}).get(part) for part in CITATION_FIELDS] for c in value]

    def from_cells(self, rows, options, locale):
        """Citations from rows of five cells; blank rows are dropped."""
        citations = []
        for row in rows:
            cells = [_cell_text(cell) for cell in (list(row) + [None] * 5)[:5]]
            if any(cells):
                citations.append(dict(zip(CITATION_FIELDS, cells, strict=True)))
        return citations

    def cell_layout(self, options, locale):
        """One row per citation under the headers title, article, year, link, excerpt; spare rows to add more."""
        return CellLayout("rows", columns=tuple(str(CITATION_LABELS[part]) for part in CITATION_FIELDS),
                          checks=(CellCheck("text", max_length=MAX_TEXT), CellCheck("text", max_length=MAX_TEXT),
                                  CellCheck("text", max_length=4), CellCheck("text", max_length=MAX_TEXT),
                                  CellCheck("text", max_length=MAX_TEXT)),
                          spare_rows=5)


class Table(QuestionType):
    """A numeric grid with declared rows and columns; totals are derived, never stored."""

    name = "table"
    label = _l("Table of figures")
    options_model = TableOptions

    def empty_value(self):
        """No cell filled in."""
        return {}

    def options_for_cycle(self, options, cycle):
        """The years before the review's cycle as concrete rows (or columns)."""
        return options.for_cycle(cycle)

    def is_empty(self, value):
        """A table with no cell filled in is empty."""
        return not isinstance(value, dict) or not any(isinstance(r, dict) and r for r in value.values())

    def shape_refusal(self, value, options):
        """Declared rows of declared columns, each cell a number, a text or blank."""
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            return Problem("refused_table")
        rows = {r.key for r in options.rows}
        columns = {c.key for c in options.columns}
        for row_key, cells in value.items():
            if row_key not in rows:
                return Problem("refused_table_row", {"row": str(row_key)[:40]})
            if not isinstance(cells, dict):
                return Problem("refused_table")
            for column_key, cell in cells.items():
                if column_key not in columns:
                    return Problem("refused_table_column", {"column": str(column_key)[:40]})
                if not (cell is None or isinstance(cell, str) or _is_plain_number(cell)):
                    return Problem("refused_table")
        return None

    def normalize(self, value, options):
        """Keep cells that hold a non-negative figure or 'n/a'; blank cells are dropped; others are kept as typed."""
        if self.is_empty(value):
            return Normalized({}, [])
        cleaned: dict[str, dict] = {}
        errors = []
        for row in options.rows:
            for column in options.columns:
                cell = (value.get(row.key) or {}).get(column.key)
                if cell is None or (isinstance(cell, str) and not cell.strip()):
                    continue
                place = {"row": row.key, "column": column.key}
                if isinstance(cell, str) and cell.strip().lower() in {NOT_AVAILABLE, "na", "n.a."}:
                    cleaned.setdefault(row.key, {})[column.key] = NOT_AVAILABLE
                    continue
                number = _number(cell)
                if number is None:
                    cleaned.setdefault(row.key, {})[column.key] = str(cell).strip()[:100]
                    errors.append(Problem("cell_number", place))
                    continue
                if isinstance(number, float) and number.is_integer() and not isinstance(cell, str):
                    number = int(number)
                cleaned.setdefault(row.key, {})[column.key] = number
                if number < 0:
                    errors.append(Problem("cell_negative", place))
                elif options.integer and not isinstance(number, int):
                    errors.append(Problem("cell_whole", place))
        return Normalized(cleaned, errors)

    def message(self, problem, options, locale):
        """Cell problems name the cell by its row and column labels in the reader's language."""
        if "row" in problem.params and "column" in problem.params and problem.code.startswith("cell_"):
            rows = {r.key: r.label.get(locale)[0] for r in options.rows}
            columns = {c.key: c.label.get(locale)[0] for c in options.columns}
            cell = f"{rows.get(problem.params['row'], problem.params['row'])} × " \
                   f"{columns.get(problem.params['column'], problem.params['column'])}"
            return str(MESSAGES[problem.code]) % {"cell": cell}
        return super().message(problem, options, locale)

    def totals(self, value, options) -> dict:
        """Row and column totals of the numeric cells, as the options ask."""
        value = value if isinstance(value, dict) else {}

        def number(row, column):
            cell = value.get(row, {}).get(column) if isinstance(value.get(row), dict) else None
            return cell if _is_plain_number(cell) else 0

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

    def add_fields(self, form_class, code, options, locale, value, data, posted_rows=0):
        """One text input per cell."""
        for row in options.rows:
            for column in options.columns:
                setattr(form_class, field_name(code, row.key, column.key), StringField())
                cell = (value or {}).get(row.key, {}).get(column.key) if isinstance(value, dict) else None
                data[field_name(code, row.key, column.key)] = "" if cell is None else str(cell)

    def read_form(self, code, options, form):
        """The filled cells, as typed."""
        table: dict[str, dict[str, str]] = {}
        for row in options.rows:
            for column in options.columns:
                cell = (form[field_name(code, row.key, column.key)].data or "").strip()
                if cell:
                    table.setdefault(row.key, {})[column.key] = cell
        return table

    def to_cells(self, value, options, locale):
        """The grid, row by row; blanks stay None."""
        value = value if isinstance(value, dict) else {}
        return [[(value.get(r.key) or {}).get(c.key) for c in options.columns] for r in options.rows]

    def from_cells(self, rows, options, locale):
        """The grid read back; numbers stay numbers, texts are checked like typed cells."""
        table: dict[str, dict] = {}
        for row, cells in zip(options.rows, rows, strict=False):
            for column, cell in zip(options.columns, cells, strict=False):
                if _is_plain_number(cell):
                    table.setdefault(row.key, {})[column.key] = int(cell) if float(cell).is_integer() else cell
                elif (text := _cell_text(cell)) is not None:
                    table.setdefault(row.key, {})[column.key] = text
        return table

    def cell_layout(self, options, locale):
        """The grid with its row and column labels; totals as the options ask."""
        return CellLayout("grid", rows=tuple(r.label.get(locale)[0] for r in options.rows),
                          columns=tuple(c.label.get(locale)[0] for c in options.columns), totals=options.totals,
                          checks=(CellCheck("figure", minimum=0, whole=options.integer, hint=str(
                              _l("A whole number of at least 0, or n/a") if options.integer
                              else _l("A number of at least 0, or n/a"))),))

    def aggregate(self, values, options):
        """The cell-by-cell sum over the States that gave a figure."""
        summary = super().aggregate(values, options)
        sums: dict[str, dict[str, float]] = {}
        for value in values:
            for row, cells in (value or {}).items():
                for column, cell in (cells or {}).items():
                    if _is_plain_number(cell):
                        sums.setdefault(row, {}).setdefault(column, 0)
                        sums[row][column] += cell
        summary["sums"] = sums
        return summary


class Attachments(QuestionType):
    """Files uploaded as evidence; the value lists their ids."""

    name = "attachments"
    label = _l("Attachments")
    accepts_files = True
    autosaved = False
    importable = False

    def empty_value(self):
        """No file."""
        return []

    def shape_refusal(self, value, options):
        """A list of positive attachment ids."""
        if value is None or (isinstance(value, list) and all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
            return None
        return Problem("refused_attachments")

    def normalize(self, value, options):
        """The ids without duplicates."""
        if self.is_empty(value):
            return Normalized([], [])
        return Normalized(list(dict.fromkeys(value)), [])

    def display(self, value, options, locale):
        """How many files."""
        return "" if self.is_empty(value) else str(_l("%(n)d file(s)", n=len(value)))

    def add_fields(self, form_class, code, options, locale, value, data, posted_rows=0):
        """Files have an upload form of their own."""

    def read_form(self, code, options, form):
        """Nothing is read from the answers form."""
        return None

    def from_cells(self, rows, options, locale):
        """Files are not carried by spreadsheets."""
        return None

    def cell_layout(self, options, locale):
        """Files are not carried by spreadsheets."""
        return None


TYPES: dict[str, QuestionType] = {
    t.name: t for t in (YesNoPartial(), SingleChoice(), MultiChoice(), Text(), Number(), Date(), Legislation(),
                        Table(), Attachments())
}
