"""The Excel pages: a review's downloads and the import of an offline questionnaire; the secretariat's aggregate."""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from reviewmech.accounts.models import RegionalGroup
from reviewmech.core.errors import DomainError
from reviewmech.core.permissions import secretariat
from reviewmech.exports import services
from reviewmech.exports.forms import AggregateForm, ImportForm, QuestionnaireForm, ResponsesForm, apply_form
from reviewmech.extensions import db
from reviewmech.reviews.policy import Membership, can, require, review_for, review_member
from reviewmech.reviews.views import register_home_block

bp = Blueprint("exports", __name__, template_folder="templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_HOURS = 24


def _locale() -> str:
    return str(get_locale() or "en")


def _home_block(review, standing):
    """A link to the review's Excel page for those who may export or import."""
    if not any(can(name, standing, review) for name in ("export_questionnaire", "export_responses")):
        return None
    return render_template("exports/_home_block.html", review=review,
                           can_import=can("import_answers", standing, review))


register_home_block(20, _home_block)


def _send(write, filename: str) -> Response:
    """Write a workbook into an anonymous temporary file and stream it (nothing is left on disk)."""
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - closed once sent
    try:
        write(stream)
        size = stream.tell()
        stream.seek(0)
    except BaseException:
        stream.close()
        raise

    def chunks():
        try:
            while chunk := stream.read(256 * 1024):
                yield chunk
        finally:
            stream.close()

    response = Response(chunks(), mimetype=XLSX, direct_passthrough=True)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _column_choices(review, standing) -> list[SelectChoice]:
    return [SelectChoice(c.key, c.label()) for c in services.report_columns(review, standing)]


def _forms(review, standing):
    questionnaire = QuestionnaireForm(formdata=None, locale=_locale())
    responses = ResponsesForm(formdata=None, locale=_locale())
    responses.columns.choices = _column_choices(review, standing)
    return questionnaire, responses


@bp.route("/reviews/<int:review_id>/excel")
@review_member
def review_page(review_id):
    """A review's Excel page: the offline questionnaire, the responses report, and the import."""
    review, standing = review_for(current_user, review_id)
    if not any(can(name, standing, review) for name in ("export_questionnaire", "export_responses")):
        require("export_responses", standing, review)
    questionnaire, responses = _forms(review, standing)
    return render_template("exports/review.html", review=review, questionnaire_form=questionnaire,
                           responses_form=responses, import_form=ImportForm(), locale=_locale(),
                           can_import=can("import_answers", standing, review))


@bp.route("/reviews/<int:review_id>/excel/questionnaire.xlsx")
@review_member
def questionnaire(review_id):
    """Download the offline questionnaire, blank or pre-filled, in a chosen language."""
    review, standing = review_for(current_user, review_id)
    require("export_questionnaire", standing, review)
    form = QuestionnaireForm(formdata=request.args)
    if not form.validate():
        abort(400)
    locale, prefilled = form.locale.data, form.prefilled.data
    stem = services.file_stem(review, "questionnaire" if prefilled else "blank", locale)
    response = _send(lambda out: services.export_offline(review, standing, user=current_user, locale=locale,
                                                         prefilled=prefilled, out=out), f"{stem}.xlsx")
    db.session.commit()  # the export is audited
    return response


@bp.route("/reviews/<int:review_id>/excel/responses.xlsx")
@review_member
def responses(review_id):
    """Download the responses report: every answer the person may see."""
    review, standing = review_for(current_user, review_id)
    require("export_responses", standing, review)
    form = ResponsesForm(formdata=request.args)
    form.columns.choices = _column_choices(review, standing)
    if not form.validate():
        abort(400)
    locale = form.locale.data
    return _send(lambda out: services.export_responses(review, standing, locale=locale, columns=form.columns.data,
                                                       out=out),
                 f"{services.file_stem(review, 'responses', locale)}.xlsx")


# The import ------------------------------------------------------------------------------------

def _upload_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload_path(review, token: str) -> Path:
    return _upload_folder() / f"{review.id}-{current_user.id}-{token}.xlsx"


def _sweep_uploads() -> None:
    """Remove uploads nobody applied within a day."""
    limit = time.time() - UPLOAD_HOURS * 3600
    for path in _upload_folder().glob("*.xlsx"):
        if path.stat().st_mtime < limit:
            _forget(path)


def _render_preview(review, preview, token, form=None):
    form = form or apply_form([row.code for row in preview.conflicts], formdata=None, token=token,
                              versions=_versions_json(preview))
    decisions = [(row, form[f"c{index}"]) for index, row in enumerate(preview.conflicts)]
    return render_template("exports/preview.html", review=review, preview=preview, form=form, decisions=decisions,
                           locale=_locale())


def _versions_json(preview) -> str:
    return json.dumps(preview.versions, sort_keys=True)


@bp.route("/reviews/<int:review_id>/excel/import", methods=["POST"])
@review_member
def import_upload(review_id):
    """Read an uploaded workbook and show what importing it would change; nothing is written yet."""
    review, standing = review_for(current_user, review_id)
    require("import_answers", standing, review)
    form = ImportForm()
    back = url_for("exports.review_page", review_id=review.id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(back)
    _sweep_uploads()
    token = secrets.token_urlsafe(24)
    path = _upload_path(review, token)
    form.file.data.save(path)
    filename = (form.file.data.filename or "workbook.xlsx")[:200]
    path.with_suffix(".name").write_text(filename, encoding="utf-8")
    try:
        preview = services.preview_import(review, standing, path, filename=filename, locale=_locale())
    except DomainError as error:
        _forget(path)
        flash(error.message, "error")
        return redirect(back)
    return _render_preview(review, preview, token)


def _forget(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)


@bp.route("/reviews/<int:review_id>/excel/import/apply", methods=["POST"])
@review_member
def import_apply(review_id):
    """Import the previewed workbook with the person's decisions: all or nothing."""
    review, standing = review_for(current_user, review_id)
    require("import_answers", standing, review)
    back = url_for("exports.review_page", review_id=review.id)
    token_form = apply_form([])
    token = token_form.token.data or ""
    if not token_form.token.validate(token_form):
        flash(_("The preview is out of date; import the workbook again."), "error")
        return redirect(back)
    path = _upload_path(review, token)
    if not path.is_file():
        flash(_("The preview is out of date; import the workbook again."), "error")
        return redirect(back)
    filename = path.with_suffix(".name").read_text(encoding="utf-8") if path.with_suffix(".name").is_file() \
        else path.name
    try:
        preview = services.preview_import(review, standing, path, filename=filename, locale=_locale())
    except DomainError as error:
        _forget(path)
        flash(error.message, "error")
        return redirect(back)
    form = apply_form([row.code for row in preview.conflicts])
    if not form.validate_on_submit():
        return _render_preview(review, preview, token, form), 422
    decisions = {row.code: form[f"c{index}"].data for index, row in enumerate(preview.conflicts)}
    try:
        _preview, outcome = services.apply_import(review, standing, path, user=current_user, filename=filename,
                                                  locale=_locale(), decisions=decisions,
                                                  seen_versions=form.seen_versions())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _render_preview(review, services.preview_import(review, standing, path, filename=filename,
                                                               locale=_locale()), token), 409
    db.session.commit()
    _forget(path)
    if outcome is None:
        flash(_("Nothing to import: the workbook's answers are already online."), "success")
    else:
        flash(_("%(n)d answer(s) imported from %(file)s.", n=len(outcome.saved), file=filename), "success")
    return redirect(url_for("responses.overview", review_id=review.id))


# The aggregate across States --------------------------------------------------------------------

def _secretariat_standing() -> Membership:
    return Membership(is_secretariat=current_user.is_secretariat, user_id=current_user.id)


def _aggregate_form(formdata=None) -> AggregateForm:
    form = AggregateForm(formdata=formdata, locale=_locale())
    form.set_groups(services.GROUP_LABELS)
    return form


@bp.route("/exports")
@secretariat
def aggregate_page():
    """The secretariat's exports across States: filters and the download."""
    return render_template("exports/aggregate.html", form=_aggregate_form(), locale=_locale())


@bp.route("/exports/aggregate.xlsx")
@secretariat
def aggregate():
    """Download the aggregate of submitted answers, filtered by cycle and regional group."""
    form = _aggregate_form(request.args)
    if not form.validate():
        return render_template("exports/aggregate.html", form=form, locale=_locale()), 400
    selection = services.AggregateFilter(cycle=form.cycle.data, group=RegionalGroup(form.group.data)
                                         if form.group.data else None)
    name = "-".join(["aggregate", str(selection.cycle or "all-cycles"), form.group.data or "all-groups",
                     form.locale.data])
    return _send(lambda out: services.export_aggregate(_secretariat_standing(), selection, locale=form.locale.data,
                                                       out=out), f"{name}.xlsx")
