"""The answers form of a set of questions: one dynamic WTForms form built from the question-type registry."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from pydantic import BaseModel
from wtforms import IntegerField
from wtforms.validators import Optional

from reviewmech.questionnaires.models import Question


def version_name(question: Question) -> str:
    """The name of the hidden input holding the version the page was loaded with."""
    return f"version-{question.code}"


def build_form(questions: list[Question], values: dict[str, Any], locale: str, options: dict[str, BaseModel], *,
               formdata=None, preview: bool = False) -> FlaskForm:
    """A form with the inputs of every question given, filled with the stored values (or those posted).

    A preview (the questionnaire's pages) shows the inputs without answers, posts nothing and needs no token.
    """

    class AnswerForm(FlaskForm):
        pass

    data: dict[str, Any] = {}
    names = list(formdata.keys()) if formdata is not None else []
    for question in questions:
        setattr(AnswerForm, version_name(question), IntegerField(validators=[Optional()]))
        question_type = question.question_type
        question_type.add_fields(AnswerForm, question.code, options[question.code], locale, values.get(question.code),
                                 data, question_type.rows_posted(question.code, names))
    return AnswerForm(formdata=formdata, data=data, meta={"csrf": False} if preview else {})


def value_from_form(question: Question, options: BaseModel, form: FlaskForm) -> Any:
    """The JSON value of a question's inputs, as the answering script would send it."""
    return question.question_type.read_form(question.code, options, form)
