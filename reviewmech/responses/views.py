"""The answering pages: section tree, one section as a form, autosave, history, attachments, submission.

Every page asks the review policy what the person may see and do, and shows the version of each
answer the person may see (`services.visible_answers`). Every write goes through `save_answers`.
"""

from __future__ import annotations

import difflib
import json
import re

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
from reviewmech.accounts.sessions import current_session_key
from reviewmech.core.errors import DomainError, NotAllowed
from reviewmech.core.forms import ConfirmForm
from reviewmech.core.http import body_limit
from reviewmech.extensions import db
from reviewmech.questionnaires import forms as fields
from reviewmech.questionnaires.conditions import referenced_questions
from reviewmech.questionnaires.models import Question
from reviewmech.questionnaires.services import catalogue_of, shape_of
from reviewmech.responses import files, services
from reviewmech.responses.forms import ReasonForm, UploadForm
from reviewmech.responses.models import Answer, AnswerRevision, Attachment
from reviewmech.reviews.models import PHASE_LABELS, Participant, Role
from reviewmech.reviews.policy import AnswerView, answer_view, can, require, review_for, review_member
from reviewmech.reviews.services import today_utc
from reviewmech.reviews.views import register_home_block

bp = Blueprint("responses", __name__, template_folder="templates", url_prefix="/reviews/<int:review_id>/answers")
AUTOSAVE_MAX_BYTES = 256 * 1024
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()\-]{0,39}$")


def _home_block(review, standing):
    """The answers' progress on a review's home, counted from what the reader may see."""
    progress = services.visible_progress(review, standing)
    sections = services.visible_section_progress(review, standing) if progress is not None else []
    if standing.is_contributor_only:
        catalogue = catalogue_of(review.questionnaire)
        sections = [row for row in sections if _readable_section(review, standing, row[0], catalogue)]
    return render_template("responses/_home_block.html", review=review, progress=progress, sections=sections,
                           live=answer_view(standing, review) == AnswerView.LIVE, locale=_locale())


register_home_block(10, _home_block)


def _locale() -> str:
    return str(get_locale() or "en")


def _session_key() -> str | None:
    """The sign-in session's key: revisions coalesce only within one session's typing."""
    return current_session_key()


def _codes(sections) -> list[str]:
    return [s.code for s in sections]


def _readable_section(review, standing, section, catalogue) -> bool:
    return can("read_section", standing, review, chain=_codes(catalogue.chain(section)),
               subtree=_codes(catalogue.subtree(section)))


def _question_or_404(review, code):
    question = catalogue_of(review.questionnaire).question_by_code.get(code) if CODE_PATTERN.match(code) else None
    return question or abort(404)


def _chain(review, question) -> tuple[str, ...]:
    return shape_of(review.questionnaire).chains[question.code]


def _back_to(review, question) -> str:
    page = catalogue_of(review.questionnaire).page_of(question)
    return url_for("responses.section", review_id=review.id, section_code=page.code) + f"#q-{question.code}"


@bp.route("")
@review_member
def overview(review_id):
    """The section tree with progress, contributions waiting, revised answers to release, and submission."""
    review, standing = review_for(current_user, review_id)
    require("read_answers", standing, review)
    catalogue = catalogue_of(review.questionnaire)
    progress = [row for row in services.visible_section_progress(review, standing) or []
                if _readable_section(review, standing, row[0], catalogue)]
    children: dict[int, list] = {}
    for section in catalogue.sections:
        if section.parent_id is not None and _readable_section(review, standing, section, catalogue):
            children.setdefault(section.parent_id, []).append(section)
    sees_drafts = answer_view(standing, review) == AnswerView.LIVE and not standing.is_contributor_only
    contributions = []
    if sees_drafts:
        contributors = select(Participant.user_id).where(Participant.review_id == review.id,
                                                         Participant.role == Role.CONTRIBUTOR)
        contributions = db.session.execute(
            select(AnswerRevision, Question.code).join(Answer, Answer.id == AnswerRevision.answer_id)
            .join(Question, Question.id == Answer.question_id)
            .where(Answer.review_id == review.id, AnswerRevision.author_id.in_(contributors))
            .options(selectinload(AnswerRevision.author)).order_by(AnswerRevision.id.desc()).limit(50)
        ).all()
    unreleased = services.unreleased_answers(review) if can("release_answers", standing, review) else {}
    return render_template("responses/overview.html", review=review, standing=standing, progress=progress,
                           children=children, contributions=contributions, sees_drafts=sees_drafts,
                           unreleased=unreleased, pages={
                               code: catalogue.page_of(catalogue.question_by_code[code]).code for code in unreleased},
                           phase_labels=PHASE_LABELS, locale=_locale(),
                           reopen_form=ReasonForm(), confirm_form=ConfirmForm())


def _follow_up_depths(questions, shape) -> dict[str, int]:
    """How deep each question follows another of the page it depends on (indented under it), at most 3."""
    on_page = {q.code for q in questions}
    depths: dict[str, int] = {}
    for question in questions:
        parents = [code for code in referenced_questions(question.show_if) if code in on_page]
        depths[question.code] = min(3, max((depths.get(code, 0) + 1 for code in parents), default=0))
    return depths


def _page_progress(questions, values, shown, shape) -> tuple[int, int]:
    required = [q.code for q in questions if q.code in shape.required and q.code in shown]
    return sum(1 for code in required if shape.is_answered(code, values)), len(required)


def _section_context(review, standing, root, *, formdata=None):
    catalogue = catalogue_of(review.questionnaire)
    shape = catalogue.shape
    subtree = catalogue.page_sections(root)
    shown_answers = services.visible_answers(review, standing)
    values = {code: answer.value for code, answer in shown_answers.items()}
    questions = [q for q in catalogue.questions_in(subtree)
                 if can("read_question", standing, review, chain=shape.chains[q.code])]
    readable_sections = {q.section_id for q in questions}
    for section in list(subtree):  # a section is drawn when it, or a section inside it, holds readable questions
        if section.id in readable_sections:
            readable_sections.update(s.id for s in catalogue.chain(section))
    options = {q.code: services.options_of(q, review) for q in questions}
    editable = {q.code for q in questions if can("edit_answer", standing, review, chain=shape.chains[q.code])}
    editable_questions = [q for q in questions if q.code in editable]
    form = fields.build_form(editable_questions, values, _locale(), options, formdata=formdata)
    if formdata is None:
        for question in editable_questions:
            form[fields.version_name(question)].data = shown_answers[question.code].version \
                if question.code in shown_answers else 0
    conditions = {code: list(found) for code, found in shape.items if found and code in {q.code for q in questions}}
    by_section: dict[int, list[Question]] = {}
    for question in questions:
        by_section.setdefault(question.section_id, []).append(question)
    errors = {code: services.problem_messages(q, review, shown_answers[code].errors)
              for q in questions if (code := q.code) in shown_answers and shown_answers[code].errors}
    wrong_cells = {code: {f"{p['params']['row']}-{p['params']['column']}" for p in shown_answers[code].errors
                          if isinstance(p, dict) and {"row", "column"} <= set(p.get("params") or {})}
                   for code in errors}
    shown = shape.shown(values)
    pages = [s for s in catalogue.pages if _readable_section(review, standing, s, catalogue)]
    here = next((i for i, s in enumerate(pages) if s.id == root.id), None)
    top = catalogue.root_of(root)
    return {
        "previous_page": pages[here - 1] if here else None,
        "next_page": pages[here + 1] if here is not None and here + 1 < len(pages) else None,
        "sub_pages": [s for s in catalogue.children(top) if _readable_section(review, standing, s, catalogue)]
        if catalogue.is_split(top) else [],
        "top": top, "follow_up": _follow_up_depths(questions, shape),
        "page_progress": _page_progress(questions, values, shown, shape),
        "progress": services.visible_progress(review, standing),
        "review": review, "standing": standing, "root": root, "by_section": by_section,
        "sections": [s for s in subtree if s.id in readable_sections], "questions": questions,
        "answers": shown_answers, "shown": shown, "editable": editable, "form": form,
        "options": options, "errors": errors, "wrong_cells": wrong_cells,
        "attachments": services.visible_attachments(review, standing, shown_answers, questions),
        "conditions": conditions, "locale": _locale(),
        "changed": services.changed_since_submission(review, standing, shown_answers),
        "roots": [s for s in catalogue.roots if _readable_section(review, standing, s, catalogue)],
        "can_accept": can("accept_contribution", standing, review),
        "can_see_history": can("read_history", standing, review, chain=_codes([root])),
        "confirm_form": ConfirmForm(), "upload_form": UploadForm(),
    }


def _root_or_404(review, section_code):
    root = catalogue_of(review.questionnaire).section_by_code.get(section_code) \
        if CODE_PATTERN.match(section_code) else None
    return root or abort(404)


@bp.route("/<section_code>", methods=["GET", "POST"])
@review_member
@keeps_form_across_sign_in
def section(review_id, section_code):
    """One section as a form; without JavaScript it is posted whole and saved answer by answer."""
    review, standing = review_for(current_user, review_id)
    root = _root_or_404(review, section_code)
    catalogue = catalogue_of(review.questionnaire)
    require("read_section", standing, review, chain=_codes(catalogue.chain(root)),
            subtree=_codes(catalogue.subtree(root)))
    if request.method == "GET":
        return render_template("responses/section.html", **_section_context(review, standing, root))
    context = _section_context(review, standing, root, formdata=request.form)
    form = context["form"]
    if not form.validate_on_submit():
        flash(_("Your form expired or came from another page. Your entries are below: send them again."), "error")
        return render_template("responses/section.html", **context), 400
    changes = []
    for question in context["questions"]:  # a question is saved when the page posted it (with its version)
        if question.code in context["editable"] and question.question_type.autosaved \
                and fields.version_name(question) in request.form:
            posted = fields.value_from_form(question, context["options"][question.code], form)
            changes.append(services.AnswerChange(question.code, posted,
                                                 form[fields.version_name(question)].data or 0))
    try:
        outcome = services.save_answers(review, changes, user=current_user, standing=standing,
                                        session_key=_session_key(), whole_form=True)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return render_template("responses/section.html", **context), 422
    db.session.commit()
    if outcome.conflicts:
        flash(_("Someone else saved a newer version of %(codes)s; your text was not saved there. Compare both "
                "below.", codes=", ".join(outcome.conflicts)), "error")
    for code, error in outcome.refused.items():
        flash(f"{code}: {error.message}", "error")
    flash(_("%(n)d answer(s) saved.", n=len(outcome.saved)), "success")
    if outcome.conflicts or outcome.refused:
        context = _section_context(review, standing, root, formdata=request.form)
        context["conflicts"] = set(outcome.conflicts)
        return render_template("responses/section.html", **context), 409 if outcome.conflicts else 422
    return redirect(url_for("responses.section", review_id=review.id, section_code=root.code))


def _json_error(status: int, error: str, message: str):
    return jsonify(error=error, message=message), status


def _refuse_constant(name: str):
    raise ValueError(name)


def _strict_json():
    """The request's JSON, refusing NaN and Infinity (which JSON does not have); None when unreadable."""
    try:
        raw = request.get_data(cache=False, as_text=False)
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


@bp.route("/autosave/<path:code>", methods=["POST"])
@review_member
@body_limit(AUTOSAVE_MAX_BYTES, _l("This answer is too long to be saved (more than 250 KB)."))
def autosave(review_id, code):
    """Save one answer from the page's script: JSON {value, version}."""
    review, standing = review_for(current_user, review_id)
    payload = _strict_json()
    version = payload.get("version") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or "value" not in payload or not isinstance(version, int) \
            or isinstance(version, bool) or not 0 <= version < 2**31:
        return _json_error(400, "malformed", _("The answer could not be read; reload the page and try again."))
    question = catalogue_of(review.questionnaire).question_by_code.get(code) if CODE_PATTERN.match(code) else None
    if question is None:
        return _json_error(404, "unknown_question", _("This question is not part of this review."))
    shape = shape_of(review.questionnaire)
    before = services.visible_answers(review, standing)
    shown_before = shape.shown({c: a.value for c, a in before.items()})
    try:
        outcome = services.save_answers(review, [services.AnswerChange(question.code, payload["value"], version)],
                                        user=current_user, standing=standing, session_key=_session_key())
    except DomainError as error:
        db.session.rollback()
        return _json_error(403 if isinstance(error, NotAllowed) else 422, "refused", error.message)
    db.session.commit()
    if question.code in outcome.refused:
        error = outcome.refused[question.code]
        return _json_error(403 if isinstance(error, NotAllowed) else 422, "refused", error.message)
    if question.code in outcome.conflicts:
        current = db.session.get(Answer, outcome.conflicts[question.code].id)
        options = services.options_of(question, review)
        return jsonify(
            error="conflict",
            message=_("Someone else saved this answer while you were typing. Compare both versions and choose."),
            yours=payload["value"],
            current={"value": current.value, "version": current.version,
                     "display": question.question_type.display(current.value, options, _locale()),
                     "by": current.updated_by.name if current.updated_by else "", "at": current.updated_at.isoformat()},
        ), 409
    written = outcome.saved.get(question.code)
    answer = db.session.get(Answer, written.answer_id if written else outcome.unchanged[question.code].id)
    changed_visibility = {c: c in outcome.shown for c in shape.codes if (c in outcome.shown) != (c in shown_before)}
    return jsonify(version=answer.version, errors=services.problem_messages(question, review, answer.errors),
                   problems=answer.errors, saved_at=answer.updated_at.isoformat(), shown=changed_visibility,
                   progress=[review.required_answered, review.required_total])


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


def _answer_of(review, question) -> Answer | None:
    return db.session.scalar(select(Answer).where(Answer.review_id == review.id, Answer.question_id == question.id))


@bp.route("/history/<path:code>", methods=["GET"])
@review_member
def history(review_id, code):
    """Who changed an answer, what and when, with a readable difference between versions, and what was refused."""
    review, standing = review_for(current_user, review_id)
    question = _question_or_404(review, code)
    require("read_history", standing, review, chain=_chain(review, question))
    answer = _answer_of(review, question)
    revisions = [] if answer is None else db.session.scalars(
        select(AnswerRevision).where(AnswerRevision.answer_id == answer.id)
        .options(selectinload(AnswerRevision.author)).order_by(AnswerRevision.id)).all()
    options = services.options_of(question, review)
    displays = [question.question_type.display(r.value, options, _locale()) for r in revisions]
    diffs = [_diff(displays[i - 1] if i else "", text) for i, text in enumerate(displays)]
    refused = [(r, _display_refused(question, options, r.value)) for r in services.refused_values(review, question)]
    return render_template("responses/history.html", review=review, question=question, answer=answer,
                           back=_back_to(review, question), refused=refused[::-1],
                           revisions=list(zip(revisions, displays, diffs, strict=True))[::-1],
                           editable=can("edit_answer", standing, review, chain=_chain(review, question)),
                           form=ConfirmForm(), locale=_locale())


def _display_refused(question, options, value) -> str:
    try:
        shown = question.question_type.display(value, options, _locale())
    except (TypeError, ValueError, AttributeError, KeyError):
        shown = ""
    return shown or json.dumps(value, ensure_ascii=False)[:2000]


@bp.route("/history/<path:code>/restore/<int:revision_id>", methods=["POST"])
@review_member
def restore(review_id, code, revision_id):
    """Make an earlier value the current one (a new revision)."""
    review, standing = review_for(current_user, review_id)
    question = _question_or_404(review, code)
    require("read_history", standing, review, chain=_chain(review, question))
    answer = _answer_of(review, question)
    revision = db.session.get(AnswerRevision, revision_id)
    if answer is None or revision is None or revision.answer_id != answer.id:
        abort(404)
    try:
        outcome = services.restore_revision(answer, revision, review=review, user=current_user, standing=standing,
                                            session_key=_session_key())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        if outcome.conflicts or outcome.refused:
            db.session.rollback()
            flash(next(iter(outcome.refused.values())).message if outcome.refused
                  else _("Someone saved a newer version meanwhile; try again."), "error")
        else:
            db.session.commit()
            flash(_("Version %(n)d is the current answer again.", n=revision.version), "success")
    return redirect(url_for("responses.history", review_id=review.id, code=question.code))


@bp.route("/accept/<path:code>", methods=["POST"])
@review_member
def accept(review_id, code):
    """Accept a contributor's answer."""
    review, standing = review_for(current_user, review_id)
    question = _question_or_404(review, code)
    require("read_question", standing, review, chain=_chain(review, question))
    answer = _answer_of(review, question) or abort(404)
    try:
        services.accept_contribution(answer, review=review, user=current_user, standing=standing)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The contribution to %(code)s is accepted.", code=question.code), "success")
    return redirect(_back_to(review, question))


# Attachments -----------------------------------------------------------------------------------

def _attachment_folder():
    return services.attachment_folder(current_app.instance_path)


@bp.route("/attachments/<path:code>", methods=["POST"])
@review_member
def upload(review_id, code):
    """Attach a file to an answer; the content must match an accepted type; a failed upload leaves nothing."""
    review, standing = review_for(current_user, review_id)
    question = _question_or_404(review, code)
    require("edit_answer", standing, review, chain=_chain(review, question))
    back = _back_to(review, question)
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
    try:
        services.attach_file(review, question, stored, user=current_user, standing=standing,
                             session_key=_session_key())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        files.delete_stored(_attachment_folder(), stored.storage_key)
        flash(error.message, "error")
        return redirect(back)
    except Exception:
        db.session.rollback()
        files.delete_stored(_attachment_folder(), stored.storage_key)
        raise
    flash(_("%(name)s is attached.", name=stored.filename), "success")
    return redirect(back)


def _attachment_or_404(review, attachment_id):
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.review_id != review.id:
        abort(404)
    return attachment, catalogue_of(review.questionnaire).question_by_id[attachment.question_id]


@bp.route("/files/<int:attachment_id>/delete", methods=["POST"])
@review_member
def delete_attachment(review_id, attachment_id):
    """Remove an attached file while the answers are open; the removal is audited."""
    review, standing = review_for(current_user, review_id)
    attachment, question = _attachment_or_404(review, attachment_id)
    require("edit_answer", standing, review, chain=_chain(review, question))
    filename = attachment.filename
    try:
        storage_key = services.remove_file(review, attachment, user=current_user, standing=standing,
                                           session_key=_session_key())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_back_to(review, question))
    if storage_key:
        files.delete_stored(_attachment_folder(), storage_key)
    flash(_("%(name)s is no longer attached.", name=filename), "success")
    return redirect(_back_to(review, question))


@bp.route("/files/<int:attachment_id>")
@review_member
def download(review_id, attachment_id):
    """Send an attached file, as a download, to someone who may see the version of the answer it belongs to."""
    review, standing = review_for(current_user, review_id)
    attachment, question = _attachment_or_404(review, attachment_id)
    require("read_question", standing, review, chain=_chain(review, question))
    if not services.attachment_is_visible(attachment, question, review, standing):
        abort(404)
    try:
        path = files.open_stored(_attachment_folder(), attachment.storage_key)
    except (ValueError, FileNotFoundError):
        abort(404)
    return send_file(path, mimetype=attachment.content_type, as_attachment=True, download_name=attachment.filename,
                     max_age=0)


# Submission, release, reopening -----------------------------------------------------------------

@bp.route("/submit", methods=["GET", "POST"])
@review_member
def submit(review_id):
    """The focal point's check page: what still needs attention; then clear and submit."""
    review, standing = review_for(current_user, review_id)
    require("check_submission", standing, review)
    problems = services.submission_problems(review) if can("submit_answers", standing, review) else []
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
                           phase_labels=PHASE_LABELS, can_submit=can("submit_answers", standing, review))


@bp.route("/release", methods=["POST"])
@review_member
def release(review_id):
    """The focal point releases the revised answers to the reviewing States."""
    review, standing = review_for(current_user, review_id)
    require("release_answers", standing, review)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            released = services.release_answers(review, None, user=current_user, standing=standing)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("%(n)d revised answer(s) released to the reviewing States.", n=len(released)), "success")
    return redirect(url_for("responses.overview", review_id=review.id))


@bp.route("/reopen", methods=["POST"])
@review_member
def reopen(review_id):
    """The secretariat reopens submitted answers, with a reason."""
    review, standing = review_for(current_user, review_id)
    require("reopen_answers", standing, review)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for reopening."), "error")
        return redirect(url_for("responses.overview", review_id=review.id))
    try:
        services.reopen(review, form.reason.data, by=current_user, standing=standing, today=today_utc())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The answers are open again for the State under review."), "success")
    return redirect(url_for("responses.overview", review_id=review.id))

