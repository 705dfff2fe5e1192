"""Forms of the answering pages that are not built from the questionnaire."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class UploadForm(FlaskForm):
    """One file to attach."""

    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    submit = SubmitField(_l("Upload"))


class ReasonForm(FlaskForm):
    """A reason, e.g. for reopening submitted answers."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Reopen the answers"))
