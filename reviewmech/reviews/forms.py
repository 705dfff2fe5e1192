"""Forms of the review pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from reviewmech.accounts.forms import language_choices


class OpenReviewForm(FlaskForm):
    """The secretariat opens a review."""

    state = SelectField(_l("State under review"), validators=[DataRequired()])
    questionnaire = SelectField(_l("Questionnaire version"), validators=[DataRequired()], coerce=int)
    cycle = IntegerField(_l("Year of the review cycle"), validators=[DataRequired(), NumberRange(2020, 2100)])
    self_assessment_months = IntegerField(_l("Months for the self-assessment"), default=6,
                                          validators=[DataRequired(), NumberRange(1, 24)])
    desk_review_months = IntegerField(_l("Months for the desk review"), default=6,
                                      validators=[DataRequired(), NumberRange(1, 24)])
    submit = SubmitField(_l("Open the review"))


class DrawForm(FlaskForm):
    """Draw the reviewing States of a cycle."""

    cycle = IntegerField(_l("Year of the review cycle"), validators=[DataRequired(), NumberRange(2020, 2100)])
    max_reviews = IntegerField(_l("Most reviews one State may conduct in the year"), default=3,
                               validators=[DataRequired(), NumberRange(1, 10)])
    seed = IntegerField(_l("Seed (leave empty for a new random one)"),
                        validators=[Optional(), NumberRange(0, 2**63 - 1)])
    submit = SubmitField(_l("Draw the lots"))


class PhaseForm(FlaskForm):
    """Move a review to its next phase."""

    phase = SelectField(_l("Next phase"), validators=[DataRequired()])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Move the review"))


class DeadlineForm(FlaskForm):
    """Extend the current deadline, with a reason."""

    due_on = DateField(_l("New deadline"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Extend the deadline"))


class ParticipantForm(FlaskForm):
    """Add a person to a review."""

    state = SelectField(_l("For the State"), validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Full name (to invite someone without an account)"), validators=[Optional(), Length(max=200)])
    locale = SelectField(_l("Language of the invitation"), choices=language_choices())
    sections = SelectMultipleField(_l("Sections (contributors only)"), validators=[Optional()])
    submit = SubmitField(_l("Add the person"))


class RedrawForm(FlaskForm):
    """Ask for another reviewing State in one slot."""

    slot = SelectField(_l("Reviewing State to redraw"), validators=[DataRequired()])
    submit = SubmitField(_l("Redraw this reviewing State"))


class DashboardFilterForm(FlaskForm):
    """Filter the secretariat's list of reviews (GET)."""

    class Meta:
        csrf = False

    phase = SelectField(_l("Phase"), validators=[Optional()])
    group = SelectField(_l("Regional group"), validators=[Optional()])
    cycle = IntegerField(_l("Year"), validators=[Optional(), NumberRange(2000, 2100)])
