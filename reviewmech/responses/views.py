"""The answering pages: section tree, one section as a form, autosave, history, attachments, submission."""

from __future__ import annotations

import difflib

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from reviewmech.accounts.kept_forms import keeps_form_across_sign_in
from reviewmech.core import audit
from reviewmech.core.errors import DomainError, NotAllowed
from reviewmech.core.forms import ConfirmForm
from reviewmech.core.http import body_limit
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question, Section
from reviewmech.questionnaires.services import shape_of
from reviewmech.questionnaires.types import TYPES
from reviewmech.responses import fields, files, services
from reviewmech.responses.forms import ReasonForm, UploadForm
from reviewmech.responses.models import Answer, AnswerRevision, Attachment
from reviewmech.reviews.models import PHASE_LABELS, Participant, Phase, Role
from reviewmech.reviews.policy import can_see_answers, can_see_draft_answers, review_for, review_member
from reviewmech.reviews.services import section_progress, today_utc

bp = Blueprint("responses", __name__, template_folder="templates", url_prefix="/reviews/<int:review_id>/answers")
AUTOSAVE_MAX_BYTES = 256 * 1024


def _locale() -> str:
    return str(get_locale() or "en")


def _visible_review(review_id):
    review, standing = review_for(current_user, review_id)
    if not can_see_answers(standing, review):
        abort(403, description=_("The answers become visible to the reviewing States once they are submitted."))
    return review, standing


def _contributor_only(review, standing) -> set[str] | None:
    """The sections a contributor is limited to, or None for everyone else."""
    roles = standing.roles_for(review.state_id)
    if standing.is_secretariat or not roles or roles - {Role.CONTRIBUTOR} or standing.reviewing_roles:
        return None
    return services.contributor_sections(review, standing)


def _within(section: Section, allowed: set[str], sections: dict[int, Section]) -> bool:
    """Whether a section is, contains or lies inside one of the allowed sections."""
    if any(s.code in allowed for s in services.section_chain(section, sections)):
        return True
    return any(s.code in allowed for s in _subtree(section, sections))


def _sections(review) -> dict[int, Section]:
    return {s.id: s for s in db.session.scalars(
        select(Section).where(Section.questionnaire_id == review.questionnaire_id).order_by(Section.position))}


def _subtree(root: Section, sections: dict[int, Section]) -> list[Section]:
    ids = {root.id}
    for section in sections.values():  # sections come in file order: parents first
        if section.parent_id in ids:
            ids.add(section.id)
    return [s for s in sections.values() if s.id in ids]


@bp.route("")
@review_member
def overview(review_id):
    """The section tree with progress, contributions waiting, and the way to submission."""
    review, standing = _visible_review(review_id)
    answers = services.answers_of(review)
    progress = section_progress(review, {c: a.value for c, a in answers.items()})
    contributors = select(Participant.user_id).where(Participant.review_id == review.id,
                                                     Participant.role == Role.CONTRIBUTOR)
    contributions = db.session.execute(
        select(AnswerRevision, Question.code).join(Answer, Answer.id == AnswerRevision.answer_id)
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.review_id == review.id, AnswerRevision.author_id.in_(contributors))
        .options(selectinload(AnswerRevision.author)).order_by(AnswerRevision.id.desc()).limit(50)
    ).all()
    children: dict[int, list[Section]] = {}
    for section in _sections(review).values():
        if section.parent_id is not None:
            children.setdefault(section.parent_id, []).append(section)
    allowed = _contributor_only(review, standing)
    if allowed is not None:
        sections = _sections(review)
        progress = [row for row in progress if _within(row[0], allowed, sections)]
        children = {parent: [c for c in kids if _within(c, allowed, sections)] for parent, kids in children.items()}
    return render_template("responses/overview.html", review=review, standing=standing, progress=progress,
                           children=children,
                           contributions=contributions, phase_labels=PHASE_LABELS, locale=_locale(),
                           is_focal_point=Role.FOCAL_POINT in standing.roles_for(review.state_id),
                           reopen_form=ReasonForm())


def _section_context(review, standing, root, *, formdata=None, posted_rows=None):
    sections = _sections(review)
    allowed = _contributor_only(review, standing)
    subtree = _subtree(root, sections)
    subtree_ids = {s.id for s in subtree}
    answers = services.answers_of(review)
    values = {code: answer.value for code, answer in answers.items()}
    shown = shape_of(review.questionnaire).shown(values)
    questions = db.session.scalars(select(Question).where(Question.questionnaire_id == review.questionnaire_id,
                                                          Question.section_id.in_(subtree_ids))
                                   .order_by(Question.position)).all()
    editable = {q.code for q in questions if services.may_edit_question(review, q, standing, sections)}
    form = fields.build_form([q for q in questions if q.code in editable], values, _locale(), formdata=formdata,
                             posted_rows=posted_rows)
    if formdata is None:
        for question in questions:
            if question.code in editable:
                form[fields.version_name(question)].data = answers[question.code].version \
                    if question.code in answers else 0
    attachments: dict[int, list[Attachment]] = {}
    for attachment in db.session.scalars(
            select(Attachment).where(Attachment.review_id == review.id,
                                     Attachment.question_id.in_([q.id for q in questions] or [0]))
            .order_by(Attachment.id)):
        attachments.setdefault(attachment.question_id, []).append(attachment)
    conditions = {}
    for question in questions:
        chain = services.section_chain(sections[question.section_id], sections)
        found = [s.show_if for s in chain if s.show_if] + ([question.show_if] if question.show_if else [])
        if found:
            conditions[question.code] = found
    by_section: dict[int, list[Question]] = {}
    for question in questions:
        by_section.setdefault(question.section_id, []).append(question)
    return {
        "review": review, "standing": standing, "root": root, "sections": subtree, "by_section": by_section,
        "questions": questions, "answers": answers, "shown": shown, "editable": editable, "form": form,
        "attachments": attachments, "conditions": conditions, "types": TYPES, "locale": _locale(),
        "changed": services.changed_since_submission(review, answers),
        "roots": [s for s in sections.values() if s.parent_id is None
                  and (allowed is None or _within(s, allowed, sections))],
        "can_accept": bool(standing.roles_for(review.state_id) & {Role.FOCAL_POINT, Role.EXPERT})
        and review.phase in (Phase.SELF_ASSESSMENT, Phase.DIALOGUE),
        "confirm_form": ConfirmForm(), "upload_form": UploadForm(), "can_see_history": can_see_draft_answers(standing),
    }


def _root_or_404(review, section_code) -> Section:
    root = db.session.scalar(select(Section).where(Section.questionnaire_id == review.questionnaire_id,
                                                   Section.code == section_code))
    return root or abort(404)


@bp.route("/<section_code>", methods=["GET", "POST"])
@review_member
@keeps_form_across_sign_in
def section(review_id, section_code):
    """One top-level section as a form; without JavaScript it is posted whole and saved answer by answer."""
    review, standing = _visible_review(review_id)
    root = _root_or_404(review, section_code)
    allowed = _contributor_only(review, standing)
    if allowed is not None and not _within(root, allowed, _sections(review)):
        abort(403, description=_("This section is not assigned to you."))
    if request.method == "GET":
        return render_template("responses/section.html", **_section_context(review, standing, root))
    posted_rows = fields.posted_citation_rows(request.form.keys())
    context = _section_context(review, standing, root, formdata=request.form, posted_rows=posted_rows)
    form = context["form"]
    if not form.validate_on_submit():
        flash(_("Your form expired or came from another page. Your entries are below: send them again."), "error")
        return render_template("responses/section.html", **context), 400
    saved, conflicts, refused = 0, [], []
    for question in context["questions"]:
        if question.code not in context["editable"]:
            continue
        posted = fields.value_from_form(question, form)
        normalized = question.question_type.normalize(posted, question.parsed_options).value
        stored = context["answers"].get(question.code)
        if normalized == (stored.value if stored else question.question_type.normalize(None,
                                                                                       question.parsed_options).value):
            continue
        version = form[fields.version_name(question)].data or 0
        try:
            services.save_answer(review, question, posted, version, user=current_user, standing=standing)
        except services.Conflict as conflict:
            if conflict.answer is not None:
                services.keep_refused_value(conflict.answer, posted, user=current_user)
            conflicts.append(question.code)
        except DomainError as error:
            refused.append(f"{question.code}: {error.message}")
        else:
            saved += 1
    db.session.commit()
    if conflicts:
        flash(_("Someone else saved a newer version of %(codes)s; your text was not saved there. Compare both "
                "below.", codes=", ".join(conflicts)), "error")
    for message in refused:
        flash(message, "error")
    flash(_("%(n)d answer(s) saved.", n=saved), "success")
    if conflicts:
        context = _section_context(review, standing, root, formdata=request.form, posted_rows=posted_rows)
        context["conflicts"] = set(conflicts)
        return render_template("responses/section.html", **context), 409
    return redirect(url_for("responses.section", review_id=review.id, section_code=root.code))


def _json_error(status: int, error: str, message: str):
    return jsonify(error=error, message=message), status


@bp.route("/autosave/<path:code>", methods=["POST"])
@review_member
@body_limit(AUTOSAVE_MAX_BYTES, _l("This answer is too long to be saved (more than 250 KB)."))
def autosave(review_id, code):
    """Save one answer from the page's script: JSON {value, version}."""
    review, standing = review_for(current_user, review_id)
    if (request.content_length or 0) > AUTOSAVE_MAX_BYTES:
        return _json_error(413, "too_large", _("This answer is too long to be saved (more than 250 KB)."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or "value" not in payload or not isinstance(payload.get("version"), int) \
            or isinstance(payload.get("version"), bool):
        return _json_error(400, "malformed", _("The answer could not be read; reload the page and try again."))
    question = db.session.scalar(select(Question).where(Question.questionnaire_id == review.questionnaire_id,
                                                        Question.code == code))
    if question is None:
        return _json_error(404, "unknown_question", _("This question is not part of this review."))
    if question.type == "attachments":
        return _json_error(422, "not_autosaved", _("Attachments are uploaded with their own button."))
    try:
        result = services.save_answer(review, question, payload["value"], payload["version"], user=current_user,
                                      standing=standing)
    except services.Conflict as conflict:
        db.session.rollback()
        if conflict.answer is None:
            return _json_error(400, "malformed", _("The answer could not be read; reload the page and try again."))
        current = db.session.get(Answer, conflict.answer.id)
        services.keep_refused_value(current, payload["value"], user=current_user)
        db.session.commit()
        return jsonify(
            error="conflict",
            message=_("Someone else saved this answer while you were typing. Compare both versions and choose."),
            yours=payload["value"],
            current={"value": current.value, "version": current.version,
                     "display": question.question_type.display(current.value, question.parsed_options, _locale()),
                     "by": current.updated_by.name if current.updated_by else "", "at": current.updated_at.isoformat()},
        ), 409
    except DomainError as error:
        db.session.rollback()
        return _json_error(403 if isinstance(error, NotAllowed) else 422, "refused", error.message)
    db.session.commit()
    return jsonify(version=result.answer.version, errors=result.errors, saved_at=result.answer.updated_at.isoformat(),
                   shown=result.shown)


def _answer_or_404(review, code) -> tuple[Question, Answer | None]:
    question = db.session.scalar(select(Question).where(Question.questionnaire_id == review.questionnaire_id,
                                                        Question.code == code)) or abort(404)
    answer = db.session.scalar(select(Answer).where(Answer.review_id == review.id, Answer.question_id == question.id))
    return question, answer


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    """A word diff as (kind, text) pieces: same, added, removed."""
    old, new = before.split(" "), after.split(" ")
    pieces = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(("same", " ".join(old[i1:i2])))
        if tag in ("delete", "replace"):
            pieces.append(("removed", " ".join(old[i1:i2])))
        if tag in ("insert", "replace"):
            pieces.append(("added", " ".join(new[j1:j2])))
    return pieces


@bp.route("/history/<path:code>", methods=["GET"])
@review_member
def history(review_id, code):
    """Who changed an answer, what and when, with a readable difference between versions."""
    review, standing = _visible_review(review_id)
    if not can_see_draft_answers(standing):  # the history holds drafts: the State's own
        abort(403, description=_("The history of an answer holds its drafts; only the State under review and "
                                 "the secretariat see it."))
    question, answer = _answer_or_404(review, code)
    revisions = [] if answer is None else db.session.scalars(
        select(AnswerRevision).where(AnswerRevision.answer_id == answer.id)
        .options(selectinload(AnswerRevision.author)).order_by(AnswerRevision.id)).all()
    displays = [question.question_type.display(r.value, question.parsed_options, _locale()) for r in revisions]
    diffs = [_diff(displays[i - 1] if i else "", text) for i, text in enumerate(displays)]
    sections = _sections(review)
    root = services.section_chain(sections[question.section_id], sections)[0]
    editable = services.may_edit_question(review, question, standing, sections)
    return render_template("responses/history.html", review=review, question=question, answer=answer, root=root,
                           revisions=list(zip(revisions, displays, diffs, strict=True))[::-1], editable=editable,
                           form=ConfirmForm(), locale=_locale())


@bp.route("/history/<path:code>/restore/<int:revision_id>", methods=["POST"])
@review_member
def restore(review_id, code, revision_id):
    """Make an earlier value the current one (a new revision)."""
    review, standing = review_for(current_user, review_id)
    question, answer = _answer_or_404(review, code)
    revision = db.session.get(AnswerRevision, revision_id)
    if answer is None or revision is None or revision.answer_id != answer.id:
        abort(404)
    try:
        services.restore_revision(answer, revision, review=review, user=current_user, standing=standing)
    except (DomainError, services.Conflict) as error:
        db.session.rollback()
        flash(getattr(error, "message", _("Someone saved a newer version meanwhile; try again.")), "error")
    else:
        db.session.commit()
        flash(_("Version %(n)d is the current answer again.", n=revision.version), "success")
    return redirect(url_for("responses.history", review_id=review.id, code=question.code))


@bp.route("/accept/<path:code>", methods=["POST"])
@review_member
def accept(review_id, code):
    """Accept a contributor's answer."""
    review, standing = review_for(current_user, review_id)
    question, answer = _answer_or_404(review, code)
    if answer is None:
        abort(404)
    try:
        services.accept_contribution(answer, review=review, user=current_user, standing=standing)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The contribution to %(code)s is accepted.", code=question.code), "success")
    sections = _sections(review)
    root = services.section_chain(sections[question.section_id], sections)[0]
    return redirect(url_for("responses.section", review_id=review.id, section_code=root.code) + f"#q-{question.code}")


# Attachments -----------------------------------------------------------------------------------

def _attachment_folder():
    from pathlib import Path

    return Path(current_app.instance_path) / "attachments"


@bp.route("/attachments/<path:code>", methods=["POST"])
@review_member
def upload(review_id, code):
    """Attach a file to an answer; the content must match an accepted type; a failed upload leaves nothing."""
    review, standing = review_for(current_user, review_id)
    question, _answer = _answer_or_404(review, code)
    sections = _sections(review)
    root = services.section_chain(sections[question.section_id], sections)[0]
    back = url_for("responses.section", review_id=review.id, section_code=root.code) + f"#q-{question.code}"
    if not services.may_edit_question(review, question, standing, sections):
        abort(403)
    form = UploadForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(back)
    upload_file = form.file.data
    try:
        stored = files.store_upload(upload_file.stream, upload_file.filename or "", _attachment_folder(),
                                    current_app.config["ATTACHMENT_MAX_BYTES"])
    except files.FileRejected as error:
        flash(error.message, "error")
        return redirect(back)
    attachment = Attachment(review_id=review.id, question_id=question.id, filename=stored.filename,
                            content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                            storage_key=stored.storage_key, uploaded_by_id=current_user.id)
    db.session.add(attachment)
    try:
        db.session.flush()
        if question.type == "attachments":
            current = services.answers_of(review).get(question.code)
            ids = list(current.value or []) if current else []
            services.save_answer(review, question, [*ids, attachment.id], current.version if current else 0,
                                 user=current_user, standing=standing, source="web")
        db.session.commit()
    except (DomainError, services.Conflict) as error:
        db.session.rollback()
        files.delete_stored(_attachment_folder(), stored.storage_key)
        flash(getattr(error, "message", _("Someone saved this answer meanwhile; upload the file again.")), "error")
        return redirect(back)
    except Exception:
        db.session.rollback()
        files.delete_stored(_attachment_folder(), stored.storage_key)
        raise
    flash(_("%(name)s is attached.", name=stored.filename), "success")
    return redirect(back)


@bp.route("/files/<int:attachment_id>/delete", methods=["POST"])
@review_member
def delete_attachment(review_id, attachment_id):
    """Remove an attached file while the answers are open; the removal is audited."""
    review, standing = review_for(current_user, review_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.review_id != review.id:
        abort(404)
    question = db.session.get(Question, attachment.question_id)
    sections = _sections(review)
    root = services.section_chain(sections[question.section_id], sections)[0]
    back = url_for("responses.section", review_id=review.id, section_code=root.code) + f"#q-{question.code}"
    if not services.may_edit_question(review, question, standing, sections):
        abort(403)
    try:
        if question.type == "attachments":
            current = services.answers_of(review).get(question.code)
            if current is not None and attachment.id in (current.value or []):
                services.save_answer(review, question, [i for i in current.value if i != attachment.id],
                                     current.version, user=current_user, standing=standing)
        audit.record("answer.attachment_removed", attachment, actor=current_user, review_id=review.id,
                     question=question.code, filename=attachment.filename, sha256=attachment.sha256)
        storage_key, filename = attachment.storage_key, attachment.filename
        db.session.delete(attachment)
        db.session.commit()
    except (DomainError, services.Conflict) as error:
        db.session.rollback()
        flash(getattr(error, "message", _("Someone saved this answer meanwhile; try again.")), "error")
        return redirect(back)
    files.delete_stored(_attachment_folder(), storage_key)
    flash(_("%(name)s is no longer attached.", name=filename), "success")
    return redirect(back)


@bp.route("/files/<int:attachment_id>")
@review_member
def download(review_id, attachment_id):
    """Send an attached file to someone who may see the answer, as a download."""
    review, _standing = _visible_review(review_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.review_id != review.id:
        abort(404)
    try:
        path = files.open_stored(_attachment_folder(), attachment.storage_key)
    except (ValueError, FileNotFoundError):
        abort(404)
    return send_file(path, mimetype=attachment.content_type, as_attachment=True, download_name=attachment.filename,
                     max_age=0)


# Submission ------------------------------------------------------------------------------------

@bp.route("/submit", methods=["GET", "POST"])
@review_member
def submit(review_id):
    """The focal point's check page: what still needs attention; then clear and submit."""
    review, standing = review_for(current_user, review_id)
    if Role.FOCAL_POINT not in standing.roles_for(review.state_id):
        abort(403)
    problems = services.submission_problems(review) if review.phase == Phase.SELF_ASSESSMENT else []
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.submit(review, user=current_user, standing=standing, today=today_utc())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("The answers are submitted; the reviewing States have been told."), "success")
            return redirect(url_for("reviews.home", review_id=review.id))
    return render_template("responses/submit.html", review=review, problems=problems, form=form, locale=_locale(),
                           phase_labels=PHASE_LABELS)


@bp.route("/reopen", methods=["POST"])
@review_member
def reopen(review_id):
    """The secretariat reopens submitted answers, with a reason."""
    review, standing = review_for(current_user, review_id)
    if not standing.is_secretariat:
        abort(403)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for reopening."), "error")
        return redirect(url_for("responses.overview", review_id=review.id))
    try:
        services.reopen(review, form.reason.data, by=current_user, today=today_utc())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The answers are open again for the State under review."), "success")
    return redirect(url_for("responses.overview", review_id=review.id))


