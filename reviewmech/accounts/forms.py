"""Forms of the account pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from reviewmech.accounts.models import RegionalGroup
from reviewmech.core.clock import time_zone_names, zone_label
from reviewmech.core.forms import language_choices

NAME_MAX = 200
EMAIL_MAX = 254
PASSWORD_MAX = 1024


def regional_group_choices():
    """Choices of UN regional group, translated."""
    labels = {
        RegionalGroup.AFRICAN: _l("African States"),
        RegionalGroup.ASIA_PACIFIC: _l("Asia-Pacific States"),
        RegionalGroup.EASTERN_EUROPEAN: _l("Eastern European States"),
        RegionalGroup.LATIN_AMERICAN_CARIBBEAN: _l("Latin American and Caribbean States"),
        RegionalGroup.WESTERN_EUROPEAN_OTHER: _l("Western European and other States"),
    }
    return [SelectChoice(group.value, labels[group]) for group in RegionalGroup]


class SignInForm(FlaskForm):
    """E-mail and password; the page's script adds the browser's time zone."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    # Filled by the page's script; checked when used: an unknown zone is ignored.
    timezone = HiddenField(validators=[Optional()], render_kw={"data-browser-timezone": ""})
    submit = SubmitField(_l("Sign in"))


def time_zone_choices():
    """Every time zone we offer, by its IANA name (`America/Mexico City`)."""
    return [SelectChoice(name, zone_label(name)) for name in time_zone_names()]


class ProfileForm(FlaskForm):
    """A person's own preferences: interface language and time zone."""

    locale = SelectField(_l("Language"), choices=language_choices(), validate_choice=False,
                         validators=[DataRequired()])
    timezone = SelectField(_l("Time zone"), choices=time_zone_choices, validate_choice=False,
                           validators=[DataRequired()],
                           description=_l("Times are shown in this zone, and the zone is named next to them."))
    submit = SubmitField(_l("Save my preferences"))


class PasswordFields:
    """A new password typed twice."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=PASSWORD_MAX)],
        description=_l("At least 12 characters; not your e-mail address and not a common password."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords are not the same."))],
    )


class ActivationForm(PasswordFields, FlaskForm):
    """Set a password and complete the profile."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    job_title = StringField(_l("Job title"), validators=[DataRequired(), Length(max=NAME_MAX)])
    organization = StringField(
        _l("Ministry or organization"), validators=[DataRequired(), Length(max=NAME_MAX)]
    )
    locale = SelectField(_l("Preferred language"), choices=language_choices())
    submit = SubmitField(_l("Activate my account"))


class ForgotPasswordForm(FlaskForm):
    """Ask for a reset link."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    submit = SubmitField(_l("Send me a reset link"))


class ResetPasswordForm(PasswordFields, FlaskForm):
    """Choose a new password from a reset link."""

    submit = SubmitField(_l("Save the new password"))


class InviteForm(FlaskForm):
    """The secretariat invites a person."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    state = SelectField(_l("State"), validators=[Optional()], coerce=str)
    locale = SelectField(_l("Language of the invitation"), choices=language_choices())
    is_secretariat = BooleanField(_l("Member of the secretariat"))
    submit = SubmitField(_l("Send the invitation"))


class PeopleFilterForm(FlaskForm):
    """Search and filter the list of people (GET)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search by name or e-mail"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), validators=[Optional()])
    state = SelectField(_l("State"), validators=[Optional()])


class StateForm(FlaskForm):
    """Edit a State's names and regional group."""

    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=NAME_MAX)])
    name_fr = StringField(_l("Name in French"), validators=[DataRequired(), Length(max=NAME_MAX)])
    name_es = StringField(_l("Name in Spanish"), validators=[DataRequired(), Length(max=NAME_MAX)])
    regional_group = SelectField(_l("Regional group"), choices=regional_group_choices)
    is_tip_protocol_party = BooleanField(_l("Party to the Trafficking in Persons Protocol"))
    submit = SubmitField(_l("Save"))


class AuditFilterForm(FlaskForm):
    """Filter the audit log (GET)."""

    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=80)])
    actor = StringField(_l("Person (e-mail)"), validators=[Optional(), Length(max=EMAIL_MAX)])
