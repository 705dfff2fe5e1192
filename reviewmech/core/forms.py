"""Forms shared by every feature: a button's CSRF carrier and the language switch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SubmitField
from wtforms.validators import InputRequired

from reviewmech.config import LANGUAGE_NAMES


def language_choices():
    """Choices of interface language, each in its own language."""
    return [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()]


class ConfirmForm(FlaskForm):
    """An empty form that carries the CSRF token of a button."""

    submit = SubmitField(_l("Confirm"))


class LanguageForm(FlaskForm):
    """Choose the interface language."""

    locale = SelectField(_l("Language"), choices=language_choices(), validators=[InputRequired()])
    submit = SubmitField(_l("Change language"))
