"""Forms of the Excel pages: what to download, a workbook to import, the decisions on conflicts."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from reviewmech.accounts.models import RegionalGroup
from reviewmech.config import LANGUAGE_NAMES


class _GetForm(FlaskForm):
    """A form read from the query string of a download link (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False


def _language_choices():
    return [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()]


class QuestionnaireForm(_GetForm):
    """Which offline questionnaire to download."""

    locale = SelectField(_l("Language of the workbook"), choices=_language_choices(), default="en")
    prefilled = BooleanField(_l("Fill in the current answers"), default=True)
    submit = SubmitField(_l("Download the offline questionnaire"))


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ResponsesForm(_GetForm):
    """The responses report and its optional columns."""

    locale = SelectField(_l("Language of the workbook"), choices=_language_choices(), default="en")
    columns = _Checkboxes(_l("Optional columns"), choices=[], validate_choice=True)
    submit = SubmitField(_l("Download the responses"))


class AggregateForm(_GetForm):
    """Which reviews the aggregate covers."""

    cycle = IntegerField(_l("Cycle"), validators=[Optional(), NumberRange(2020, 2100)])
    group = SelectField(_l("Regional group"), choices=[], validators=[Optional()], default="")
    locale = SelectField(_l("Language of the workbook"), choices=_language_choices(), default="en")
    submit = SubmitField(_l("Download the aggregate"))

    def set_groups(self, labels: dict) -> None:
        """Offer every regional group, in the reader's language."""
        self.group.choices = [SelectChoice("", _l("Every regional group"))] + [SelectChoice(g.value, labels[g])
                                                                                 for g in RegionalGroup]


class ImportForm(FlaskForm):
    """A filled-in offline questionnaire to import."""

    file = FileField(_l("Workbook (.xlsx)"), validators=[FileRequired(_l("Choose the workbook to import."))])
    submit = SubmitField(_l("Show what would change"))


def _versions(form, field):
    try:
        data = json.loads(field.data or "")
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                                             for k, v in data.items()):
        raise ValidationError(_l("The preview is out of date; import the workbook again."))


class ApplyForm(FlaskForm):
    """Apply a previewed import: the stored upload, the versions seen, and one decision per conflict."""

    token = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{20,64}$")])
    versions = HiddenField(validators=[_versions])
    submit = SubmitField(_l("Import these answers"))

    def seen_versions(self) -> dict[str, int]:
        """The online versions the person saw in the preview."""
        return json.loads(self.versions.data)


DECISIONS = [SelectChoice("online", _l("Keep the online answer")),
             SelectChoice("file", _l("Take the workbook's answer"))]


def apply_form(conflict_codes: list[str], **kwargs) -> ApplyForm:
    """The apply form with one required choice per conflicting question (fields c0, c1, … in preview order)."""

    class Form(ApplyForm):
        pass

    for index, _code in enumerate(conflict_codes):
        setattr(Form, f"c{index}", RadioField(choices=DECISIONS, validators=[InputRequired(
            _l("Decide which answer to keep."))]))
    return Form(**kwargs)
