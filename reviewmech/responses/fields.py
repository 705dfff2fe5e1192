"""The inputs of each question type on the answering page, as one dynamic WTForms form."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from reviewmech.questionnaires.models import Question
from reviewmech.questionnaires.types import CITATION_FIELDS


class _CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def name(question: Question, *parts: Any) -> str:
    """The input name of a question (and of a part of it)."""
    return "-".join(["a", question.code, *map(str, parts)])


def version_name(question: Question) -> str:
    """The name of the hidden input holding the version the page was loaded with."""
    return f"version-{question.code}"


def _choices(question: Question, locale: str) -> list[SelectChoice]:
    if question.type == "yes_no_partial":
        return [SelectChoice(key, str(label))
                for key, label in question.question_type.labels(question.parsed_options).items()]
    return [SelectChoice(c.key, c.label.get(locale)[0]) for c in question.parsed_options.choices]


def citation_rows(question: Question, value: Any, posted_rows: int = 0) -> int:
    """How many citation rows to show: the stored ones, those posted, and one empty row more."""
    stored = len(value) if isinstance(value, list) else 0
    return max(stored + 1, posted_rows)


def build_form(questions: list[Question], values: dict[str, Any], locale: str, *, cycle: int, formdata=None,
               posted_rows: dict[str, int] | None = None) -> FlaskForm:
    """A form with the inputs of every question given, filled with the stored values."""

    class AnswerForm(FlaskForm):
        pass

    data: dict[str, Any] = {}
    for question in questions:
        value = values.get(question.code)
        setattr(AnswerForm, version_name(question), IntegerField(validators=[Optional()]))
        kind = question.type
        if kind in ("yes_no_partial", "single_choice"):
            setattr(AnswerForm, name(question), RadioField(choices=_choices(question, locale), validate_choice=False,
                                                         validators=[Optional()]))
            data[name(question)] = value if isinstance(value, str) else None
        elif kind == "multi_choice":
            setattr(AnswerForm, name(question), _CheckboxesField(choices=_choices(question, locale),
                                                               validate_choice=False))
            data[name(question)] = value if isinstance(value, list) else []
        elif kind == "text":
            setattr(AnswerForm, name(question), TextAreaField())
            data[name(question)] = value if isinstance(value, str) else ""
        elif kind in ("number", "date"):
            setattr(AnswerForm, name(question), StringField())
            data[name(question)] = "" if value is None else str(value)
        elif kind == "legislation":
            rows = citation_rows(question, value, (posted_rows or {}).get(question.code, 0))
            for index in range(rows):
                citation = value[index] if isinstance(value, list) and index < len(value) else {}
                for part in CITATION_FIELDS:
                    setattr(AnswerForm, name(question, index, part), StringField())
                    data[name(question, index, part)] = (citation or {}).get(part) or ""
        elif kind == "table":
            options = question.options_for(cycle)
            for row in options.rows:
                for column in options.columns:
                    setattr(AnswerForm, name(question, row.key, column.key), StringField())
                    cell = (value or {}).get(row.key, {}).get(column.key) if isinstance(value, dict) else None
                    data[name(question, row.key, column.key)] = "" if cell is None else str(cell)
    return AnswerForm(formdata=formdata, data=data)


def value_from_form(question: Question, form: FlaskForm, cycle: int) -> Any:
    """The JSON value of a question's inputs, as the autosave script would send it."""
    kind = question.type
    if kind in ("yes_no_partial", "single_choice", "text", "number", "date"):
        value = form[name(question)].data
        return value if value not in ("", "None") else None
    if kind == "multi_choice":
        return list(form[name(question)].data or [])
    if kind == "legislation":
        citations = []
        index = 0
        while name(question, index, "title") in form:
            citations.append({part: form[name(question, index, part)].data or "" for part in CITATION_FIELDS})
            index += 1
        return citations
    if kind == "table":
        options = question.options_for(cycle)
        table: dict[str, dict[str, str]] = {}
        for row in options.rows:
            for column in options.columns:
                cell = (form[name(question, row.key, column.key)].data or "").strip()
                if cell:
                    table.setdefault(row.key, {})[column.key] = cell
        return table
    return None


def posted_citation_rows(keys) -> dict[str, int]:
    """How many citation rows the browser sent per legislation question (the page may add rows)."""
    counts: dict[str, int] = {}
    for key in keys:
        head, _sep, part = key.rpartition("-")
        prefix, _sep, index = head.rpartition("-")
        if part in CITATION_FIELDS and index.isdigit() and int(index) < 200 and prefix.startswith("a-"):
            code = prefix[2:]
            counts[code] = max(counts.get(code, 0), int(index) + 1)
    return counts
