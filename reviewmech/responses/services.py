"""Rules for answers: the one way to write them, what each person sees, history, contributions, submission.

`save_answers` is the only write path for answers: the section form, autosave, restoring a version,
attachments, and the Excel import and the API later all call it. It loads what it needs once,
whatever the number of answers, and writes them in a constant number of statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from reviewmech.accounts.models import User
from reviewmech.core import audit
from reviewmech.core.errors import DomainError, NotAllowed
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question, Section
from reviewmech.questionnaires.services import Shape, catalogue_of, shape_of
from reviewmech.questionnaires.types import Problem, storable_copy
from reviewmech.responses import files
from reviewmech.responses.models import Answer, AnswerRelease, AnswerRevision, Attachment, RefusedValue, Submission
from reviewmech.reviews.models import Phase, Review, phase_label
from reviewmech.reviews.policy import (
    ANSWERING_PHASES,
    AnswerView,
    Membership,
    answer_view,
    can,
    can_edit_answer,
    require,
    saves_as_contribution,
    sees_released_revisions,
)
from reviewmech.reviews.services import move_review, refresh_progress, section_progress

COALESCE_WINDOW = timedelta(minutes=5)


def _locale() -> str:
    return str(get_locale() or "en")


def options_of(question: Question, review: Review) -> BaseModel:
    """A question's options as they apply to this review (tables' years follow its cycle)."""
    return question.options_for(review.cycle)


def problem_messages(question: Question, review: Review, problems: list, locale: str | None = None) -> list[str]:
    """Stored problems of a value, in the reader's language."""
    options = options_of(question, review)
    return [question.question_type.message(Problem.from_json(p), options, locale or _locale()) for p in problems]


def answers_of(review: Review) -> dict[str, Answer]:
    """Every answer of a review by question code (one query, with who wrote it)."""
    rows = db.session.execute(
        select(Question.code, Answer).join(Question, Question.id == Answer.question_id)
        .where(Answer.review_id == review.id).options(selectinload(Answer.updated_by))
    ).all()
    return {code: answer for code, answer in rows}


def answer_values(review: Review) -> dict[str, Any]:
    """Answer values by question code."""
    return {code: answer.value for code, answer in answers_of(review).items()}


# What each person sees -------------------------------------------------------------------------

@dataclass(frozen=True)
class ShownAnswer:
    """An answer as one person may see it: the live answer, the submitted one, or a released revision."""

    value: Any
    source: str  # live, submitted, released
    as_of: datetime | None  # the moment of the version shown (for its attachments)
    answer: Answer | None = None  # the live answer (only for the State under review and the secretariat)

    @property
    def version(self) -> int:
        """The live version the page starts from (0: none yet)."""
        return self.answer.version if self.answer is not None else 0

    @property
    def is_contribution(self) -> bool:
        """Whether the live answer waits for acceptance."""
        return self.answer is not None and self.answer.is_contribution

    @property
    def errors(self) -> list:
        """The stored problems of the live answer."""
        return list(self.answer.errors or []) if self.answer is not None else []


def latest_submission(review: Review) -> Submission | None:
    """The answers as last submitted."""
    return db.session.scalar(select(Submission).where(Submission.review_id == review.id)
                             .order_by(Submission.id.desc()).limit(1))


def visible_answers(review: Review, standing: Membership) -> dict[str, ShownAnswer]:
    """The version of each answer this person may see (code → answer); nothing of what they may not.

    The State under review's people and the secretariat see the live answers. Reviewing States see
    the submitted snapshot and, from the dialogue on, the revisions the focal point has released;
    never a draft edit or a contribution waiting for acceptance.
    """
    view = answer_view(standing, review)
    if view == AnswerView.LIVE:
        return {code: ShownAnswer(answer.value, "live", None, answer) for code, answer in answers_of(review).items()}
    if view == AnswerView.NONE:
        return {}
    snapshot = latest_submission(review)
    if snapshot is None:
        return {}
    shown = {code: ShownAnswer(value, "submitted", snapshot.submitted_at) for code, value in snapshot.answers.items()}
    if sees_released_revisions(standing, review):
        for code, release in latest_releases(review, since=snapshot.submitted_at).items():
            shown[code] = ShownAnswer(release.value, "released", release.released_at)
    return shown


def latest_releases(review: Review, *, since: datetime) -> dict[str, AnswerRelease]:
    """The latest release of each revised answer after a moment (one query)."""
    newest = (select(func.max(AnswerRelease.id)).where(AnswerRelease.review_id == review.id,
                                                       AnswerRelease.released_at >= since)
              .group_by(AnswerRelease.question_id))
    rows = db.session.execute(
        select(Question.code, AnswerRelease).join(Question, Question.id == AnswerRelease.question_id)
        .where(AnswerRelease.id.in_(newest))).all()
    return {code: release for code, release in rows}


def visible_values(review: Review, standing: Membership) -> dict[str, Any]:
    """The values this person may see, by question code (what progress counts are made of)."""
    return {code: shown.value for code, shown in visible_answers(review, standing).items()}


def visible_progress(review: Review, standing: Membership) -> tuple[int, int] | None:
    """Required questions answered and shown, counted from what this person may see; None before they see any."""
    view = answer_view(standing, review)
    if view == AnswerView.NONE:
        return None
    if view == AnswerView.LIVE:
        return review.required_answered, review.required_total
    shape = shape_of(review.questionnaire)
    values = visible_values(review, standing)
    shown = shape.shown(values)
    required = [code for code in shape.codes if code in shape.required and code in shown]
    return sum(1 for code in required if shape.is_answered(code, values)), len(required)


def visible_section_progress(review: Review, standing: Membership):
    """Per top-level section, required answered and shown, from what this person may see (None before)."""
    if answer_view(standing, review) == AnswerView.NONE:
        return None
    return section_progress(review, visible_values(review, standing))


def visible_attachments(review: Review, standing: Membership, shown: dict[str, ShownAnswer],
                        questions: list[Question]) -> dict[int, list[Attachment]]:
    """The files of these questions that belong to the version each person sees (question id → files)."""
    by_id = {q.id: q for q in questions}
    rows = db.session.scalars(
        select(Attachment).where(Attachment.review_id == review.id,
                                 Attachment.question_id.in_(list(by_id) or [0])).order_by(Attachment.id)).all()
    live = answer_view(standing, review) == AnswerView.LIVE
    found: dict[int, list[Attachment]] = {}
    for attachment in rows:
        answer = shown.get(by_id[attachment.question_id].code)
        if live:
            keep = attachment.removed_at is None
        else:
            keep = answer is not None and answer.as_of is not None and attachment.was_attached_at(answer.as_of)
        if keep:
            found.setdefault(attachment.question_id, []).append(attachment)
    return found


def attachment_is_visible(attachment: Attachment, question: Question, review: Review, standing: Membership) -> bool:
    """Whether this person may download this file: they read its question, and it belongs to the version they see."""
    chain = shape_of(review.questionnaire).chains[question.code]
    if not can("read_question", standing, review, chain=chain):
        return False
    shown = visible_answers(review, standing)
    return attachment.id in {a.id for a in visible_attachments(review, standing, shown, [question])
                             .get(question.id, [])}


# Writing answers: the one way --------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerChange:
    """A value sent for one question, with the version the person started from (0: no answer yet)."""

    code: str
    value: Any
    version: int


@dataclass(frozen=True)
class Written:
    """An answer as this save wrote it."""

    answer_id: int
    version: int
    value: Any
    errors: list
    updated_at: datetime


@dataclass
class SaveOutcome:
    """What happened to each value sent."""

    saved: dict[str, Written] = field(default_factory=dict)
    unchanged: dict[str, Answer] = field(default_factory=dict)
    conflicts: dict[str, Answer] = field(default_factory=dict)  # the newer answer as stored
    refused: dict[str, DomainError] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)

    @property
    def is_complete(self) -> bool:
        """Whether every value was saved (or already was)."""
        return not self.conflicts and not self.refused


class SaveRefused(DomainError):
    """An all-or-nothing save (an import) met a conflict or a refusal; nothing was written."""

    def __init__(self, outcome: SaveOutcome):
        super().__init__(_("Nothing was saved: %(n)d answer(s) could not be saved.",
                           n=len(outcome.conflicts) + len(outcome.refused)))
        self.outcome = outcome


class ConcurrentSave(DomainError):
    """Another save changed these answers at the same moment; nothing was saved."""


@dataclass
class _Pending:
    question: Question
    answer: Answer | None
    value: Any
    errors: list
    version: int
    answer_id: int | None = None


def save_answers(review: Review, changes: list[AnswerChange], *, user: User, standing: Membership,
                 session_key: str | None = None, source: str = "web", reason: str = "",
                 atomic: bool = False, whole_form: bool = False) -> SaveOutcome:
    """Save answers with optimistic locking, in order; refuse what cannot be an answer; keep what was refused.

    A value of the wrong kind, or with characters that cannot be stored, is refused with a message
    (never coerced to an empty answer) and kept among the refused values; a value saved on an older
    version is a conflict and kept in the answer's history; invalid content (a number out of range)
    is saved as a draft with its problems. With `atomic`, any conflict or refusal raises SaveRefused
    before anything is written. A `whole_form` sends every answer of a page: a value sent unchanged
    from an older version of the page is then no conflict but left alone. The caller commits.
    """
    if review.phase not in ANSWERING_PHASES:
        raise DomainError(_("The answers of this review are locked: it is in the phase “%(phase)s”.",
                            phase=phase_label(review.phase)))
    require("edit_answers", standing, review)
    catalogue = catalogue_of(review.questionnaire)
    shape = catalogue.shape
    questions = {change.code: catalogue.question_by_code[change.code] for change in changes
                 if change.code in catalogue.question_by_code}
    answers = {code: answer for code, answer in db.session.execute(
        select(Question.code, Answer).join(Question, Question.id == Answer.question_id)
        .where(Answer.review_id == review.id).with_for_update(of=Answer)
        .execution_options(populate_existing=True)).all()}  # the locked rows as they are now, not as loaded before
    values = {code: answer.value for code, answer in answers.items()}
    outcome = SaveOutcome()
    pending: dict[str, _Pending] = {}
    refused_rows, conflict_rows = [], []
    is_contribution = saves_as_contribution(standing, review)
    shown = shape.shown(values)
    for change in changes:
        question = questions.get(change.code)
        if question is None:
            outcome.refused[change.code] = DomainError(_("This question is not part of this review's questionnaire."))
            continue
        problem = _refusal(question, review, change, shape, shown, standing, source)
        if problem is not None:
            outcome.refused[change.code] = problem
            refused_rows.append(_refused_row(review, question, change.value, problem.message, source, user))
            continue
        options = options_of(question, review)
        normalized = question.question_type.normalize(change.value, options)
        errors = [p.as_json() for p in normalized.errors]
        stored = pending.get(change.code) or answers.get(change.code)
        current_version = stored.version if stored is not None else 0
        if change.version != current_version:
            newer = answers.get(change.code)
            if newer is None:  # the page claims a version that never existed
                outcome.refused[change.code] = DomainError(_("The page is out of date; reload it and try again."))
                continue
            outcome.conflicts[change.code] = newer
            conflict_rows.append({"answer_id": newer.id, "version": newer.version, "value": storable_copy(change.value),
                                  "author_id": user.id, "source": "conflict", "session_key": session_key,
                                  "reason": _("not saved: version %(n)d was newer", n=newer.version)})
            continue
        previous = answers.get(change.code)
        if change.code not in pending and previous is not None and previous.value == normalized.value \
                and (previous.errors or []) == errors and previous.is_contribution == is_contribution:
            outcome.unchanged[change.code] = previous
            continue
        if change.code not in pending and previous is None and question.question_type.is_empty(normalized.value):
            continue  # nothing typed where nothing was: nothing to save (a hidden question of a posted form)
        if change.code not in shown:
            outcome.refused[change.code] = DomainError(str(HIDDEN))
            continue
        pending[change.code] = _Pending(question, previous, normalized.value, errors, current_version + 1)
        values[change.code] = normalized.value
        shown = shape.shown(values)
    if whole_form:
        _drop_untouched_conflicts(outcome, conflict_rows, changes, questions, review)
    outcome.shown = shown
    if atomic and not outcome.is_complete:
        raise SaveRefused(outcome)
    _write(review, pending, user=user, session_key=session_key, source=source, reason=reason,
           is_contribution=is_contribution, outcome=outcome, conflict_rows=conflict_rows, values=values)
    if refused_rows:
        db.session.execute(insert(RefusedValue), refused_rows)
    if conflict_rows:
        now = utcnow()
        db.session.execute(insert(AnswerRevision), [row | {"created_at": now, "updated_at": now}
                                                    for row in conflict_rows])
    if pending:
        refresh_progress(review, values)
    return outcome


def _drop_untouched_conflicts(outcome: SaveOutcome, conflict_rows: list[dict], changes: list[AnswerChange],
                              questions: dict[str, Question], review: Review) -> None:
    """A value sent unchanged from an older page (a whole form posted) is no conflict: the person did not touch it."""
    if not outcome.conflicts:
        return
    sent = {change.code: change for change in changes if change.code in outcome.conflicts}
    answer_ids = {outcome.conflicts[code].id: code for code in sent}
    loaded = {(r.answer_id, r.version): r.value for r in db.session.scalars(
        select(AnswerRevision).where(AnswerRevision.answer_id.in_(list(answer_ids)),
                                     AnswerRevision.source != "conflict"))}
    for answer_id, code in answer_ids.items():
        question, change = questions[code], sent[code]
        before = loaded.get((answer_id, change.version))
        normalized = question.question_type.normalize(change.value, options_of(question, review)).value
        untouched_empty = change.version == 0 and question.question_type.is_empty(normalized)
        if untouched_empty or ((answer_id, change.version) in loaded and before == normalized):
            outcome.unchanged[code] = outcome.conflicts.pop(code)
            conflict_rows[:] = [row for row in conflict_rows if row["answer_id"] != answer_id]


def _refusal(question: Question, review: Review, change: AnswerChange, shape: Shape, shown: set[str],
             standing: Membership, source: str) -> DomainError | None:
    """Why this value cannot be saved at all, or None."""
    if not can_edit_answer(standing, review, chain=shape.chains[question.code]):
        return NotAllowed(_("You cannot change this answer."))
    if not question.question_type.autosaved and source != "file":
        return DomainError(_("Attachments are uploaded with their own button."))
    options = options_of(question, review)
    problem = question.question_type.refusal(change.value, options)
    if problem is not None:
        return DomainError(question.question_type.message(problem, options, _locale()))
    return None


HIDDEN = _l("This question is not shown for the answers given so far, so it cannot be answered.")


def _refused_row(review, question, value, reason, source, user) -> dict:
    return {"review_id": review.id, "question_id": question.id, "value": storable_copy(value), "reason": reason,
            "source": source, "author_id": user.id, "created_at": utcnow()}


def _write(review: Review, pending: dict[str, _Pending], *, user, session_key, source, reason, is_contribution,
           outcome: SaveOutcome, conflict_rows: list[dict], values: dict) -> None:
    """Write new and changed answers and their revisions in a constant number of statements."""
    if not pending:
        return
    now = utcnow()
    new = [p for p in pending.values() if p.answer is None]
    changed = [p for p in pending.values() if p.answer is not None]
    if new:
        new = _insert_new(review, new, pending, user=user, now=now, is_contribution=is_contribution,
                          outcome=outcome, conflict_rows=conflict_rows, session_key=session_key, values=values)
    if changed:
        for p in changed:
            p.answer_id = p.answer.id
        result = db.session.execute(
            update(Answer.__table__).where(Answer.id == bindparam("b_id"), Answer.version == bindparam("b_version"))
            .values(value=bindparam("b_value"), errors=bindparam("b_errors"), version=bindparam("b_next"),
                    is_contribution=is_contribution, updated_by_id=user.id, updated_at=now),
            [{"b_id": p.answer_id, "b_version": p.version - 1, "b_next": p.version, "b_value": p.value,
              "b_errors": p.errors} for p in changed])
        if result.rowcount != len(changed):
            raise ConcurrentSave(_("Someone saved these answers at the same moment; nothing was saved. "
                                   "Please try again."))
        for p in changed:
            db.session.expire(p.answer)
    _record_revisions(pending, user=user, session_key=session_key, source=source, reason=reason, now=now)
    for code, p in pending.items():
        outcome.saved[code] = Written(p.answer_id, p.version, p.value, p.errors, now)


def _insert_new(review, new: list[_Pending], pending: dict[str, _Pending], *, user, now, is_contribution, outcome,
                conflict_rows, session_key, values) -> list[_Pending]:
    """Insert first answers; one that another person created at the same moment becomes a conflict."""
    for _attempt in range(2):
        try:
            with db.session.begin_nested():
                rows = db.session.execute(insert(Answer.__table__).returning(Answer.id, Answer.question_id), [
                    {"review_id": review.id, "question_id": p.question.id, "value": p.value, "errors": p.errors,
                     "version": 1, "is_contribution": is_contribution, "updated_by_id": user.id, "updated_at": now,
                     "is_verified": False} for p in new]).all()
        except IntegrityError:
            created = {answer.question_id: answer for answer in db.session.scalars(
                select(Answer).where(Answer.review_id == review.id,
                                     Answer.question_id.in_([p.question.id for p in new])))}
            for p in [p for p in new if p.question.id in created]:
                answer = created[p.question.id]
                pending.pop(p.question.code)
                values[p.question.code] = answer.value
                outcome.conflicts[p.question.code] = answer
                conflict_rows.append({"answer_id": answer.id, "version": answer.version, "value": p.value,
                                      "author_id": user.id, "source": "conflict", "session_key": session_key,
                                      "reason": _("not saved: version %(n)d was newer", n=answer.version)})
            new = [p for p in new if p.question.id not in created]
            if not new:
                return []
            continue
        ids = {question_id: answer_id for answer_id, question_id in rows}
        for p in new:
            p.answer_id = ids[p.question.id]
        return new
    raise ConcurrentSave(_("Someone saved these answers at the same moment; nothing was saved. Please try again."))


def _record_revisions(pending: dict[str, _Pending], *, user, session_key, source, reason, now) -> None:
    """Add a revision per save; a person's typing in one session within minutes updates their last revision."""
    answer_ids = [p.answer_id for p in pending.values()]
    newest = select(func.max(AnswerRevision.id)).where(AnswerRevision.answer_id.in_(answer_ids)) \
        .group_by(AnswerRevision.answer_id)
    latest = {r.answer_id: r for r in db.session.scalars(select(AnswerRevision).where(AnswerRevision.id.in_(newest)))}
    coalesced, added = [], []
    for p in pending.values():
        previous = latest.get(p.answer_id)
        if (source == "web" and previous is not None and previous.source == "web" and session_key
                and previous.session_key == session_key and previous.author_id == user.id
                and previous.version == p.version - 1 and now - previous.updated_at <= COALESCE_WINDOW):
            coalesced.append({"b_id": previous.id, "b_value": p.value, "b_version": p.version})
        else:
            added.append({"answer_id": p.answer_id, "version": p.version, "value": p.value, "author_id": user.id,
                          "source": source, "reason": reason, "session_key": session_key, "created_at": now,
                          "updated_at": now})
    if coalesced:
        db.session.execute(update(AnswerRevision.__table__).where(AnswerRevision.id == bindparam("b_id"))
                           .values(value=bindparam("b_value"), version=bindparam("b_version"), updated_at=now)
                           .execution_options(synchronize_session=False), coalesced)
        for revision in latest.values():
            db.session.expire(revision)
    if added:
        db.session.execute(insert(AnswerRevision), added)


def restore_revision(answer: Answer, revision: AnswerRevision, *, review: Review, user: User,
                     standing: Membership, session_key: str | None = None) -> SaveOutcome:
    """Make an earlier value the current one again; the restore is a new revision."""
    if revision.answer_id != answer.id:
        raise DomainError(_("This revision belongs to another answer."))
    return save_answers(review, [AnswerChange(answer.question.code, revision.value, answer.version)], user=user,
                        standing=standing, session_key=session_key, source="restore",
                        reason=_("restored version %(n)d", n=revision.version))


def accept_contribution(answer: Answer, *, review: Review, user: User, standing: Membership) -> None:
    """An expert or the focal point accepts a contributor's answer."""
    require("accept_contribution", standing, review)
    if not answer.is_contribution:
        raise DomainError(_("This answer is not waiting for acceptance."))
    answer.is_contribution = False
    audit.record("answer.contribution_accepted", answer, actor=user, review_id=review.id,
                 question=answer.question.code)


# Attachments ------------------------------------------------------------------------------------

def attach_file(review: Review, question: Question, stored: files.StoredFile, *, user: User, standing: Membership,
                session_key: str | None = None) -> Attachment:
    """Attach an uploaded file to an answer; an attachments answer lists it (a new version)."""
    if review.phase not in ANSWERING_PHASES:
        raise DomainError(_("The answers of this review are locked: it is in the phase “%(phase)s”.",
                            phase=phase_label(review.phase)))
    require("edit_answer", standing, review, chain=shape_of(review.questionnaire).chains[question.code])
    if not question.question_type.accepts_files:
        raise DomainError(_("Files cannot be attached to this question."))
    attachment = Attachment(review_id=review.id, question_id=question.id, filename=stored.filename,
                            content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                            storage_key=stored.storage_key, uploaded_by_id=user.id)
    db.session.add(attachment)
    db.session.flush()
    if not question.question_type.autosaved:  # its value is the list of its files
        current = answers_of(review).get(question.code)
        ids = list(current.value or []) if current else []
        _save_file_list(review, question, [*ids, attachment.id], current, user=user, standing=standing,
                        session_key=session_key)
    return attachment


def remove_file(review: Review, attachment: Attachment, *, user: User, standing: Membership,
                session_key: str | None = None) -> str | None:
    """Take a file off a live answer; return the storage key to delete (None: a version reviewers saw keeps it)."""
    question = catalogue_of(review.questionnaire).question_by_id[attachment.question_id]
    if review.phase not in ANSWERING_PHASES:
        raise DomainError(_("The answers of this review are locked: it is in the phase “%(phase)s”.",
                            phase=phase_label(review.phase)))
    require("edit_answer", standing, review, chain=shape_of(review.questionnaire).chains[question.code])
    if attachment.removed_at is not None:
        raise DomainError(_("This file is no longer attached."))
    if not question.question_type.autosaved:
        current = answers_of(review).get(question.code)
        if current is not None and attachment.id in (current.value or []):
            _save_file_list(review, question, [i for i in current.value if i != attachment.id], current, user=user,
                            standing=standing, session_key=session_key)
    audit.record("answer.attachment_removed", attachment, actor=user, review_id=review.id,
                 question=question.code, filename=attachment.filename, sha256=attachment.sha256)
    if latest_submission(review) is not None:  # a submitted version may show it: keep the file
        attachment.removed_at = utcnow()
        return None
    storage_key = attachment.storage_key
    db.session.delete(attachment)
    return storage_key


def _save_file_list(review, question, ids, current, *, user, standing, session_key) -> None:
    outcome = save_answers(review, [AnswerChange(question.code, ids, current.version if current else 0)], user=user,
                           standing=standing, session_key=session_key, source="file")
    if outcome.conflicts:
        raise DomainError(_("Someone saved this answer meanwhile; try again."))
    if outcome.refused:
        raise next(iter(outcome.refused.values()))


def attachment_folder(instance_path: str) -> Path:
    """Where attached files are kept."""
    return Path(instance_path) / "attachments"


# Submission, release, reopening ---------------------------------------------------------------

@dataclass
class SubmissionProblem:
    """A required or invalid answer that blocks submission: its top-level section and the page it is on."""

    question: Question
    section: Section
    message: str
    page: Section | None = None


def submission_problems(review: Review) -> list[SubmissionProblem]:
    """Every shown question still required and empty, or holding an invalid value, or waiting for acceptance."""
    answers = answers_of(review)
    values = {c: a.value for c, a in answers.items()}
    shape = shape_of(review.questionnaire)
    shown = shape.shown(values)
    candidates = {code for code in shown if (code in shape.required and not shape.is_answered(code, values))
                  or (code in answers and (answers[code].errors or answers[code].is_contribution))}
    if not candidates:
        return []
    catalogue = catalogue_of(review.questionnaire)
    sections = catalogue.section_by_code
    questions = [q for q in catalogue.questions if q.code in candidates]
    problems = []
    for question in questions:
        top, page = sections[shape.top_sections[question.code]], catalogue.page_of(question)
        answer = answers.get(question.code)
        empty = answer is None or question.question_type.is_empty(answer.value)
        if question.is_required and empty:
            message = _("A required question is not answered.")
        elif answer is not None and answer.errors:
            message = " ".join(problem_messages(question, review, answer.errors))
        elif answer is not None and answer.is_contribution:
            message = _("A contribution waits for acceptance by an expert or the focal point.")
        else:
            continue
        problems.append(SubmissionProblem(question, top, message, page))
    return problems


def submit(review: Review, *, user: User, standing: Membership, today: date) -> Submission:
    """The focal point clears and submits the answers: they lock, a snapshot is kept, the desk review starts."""
    require("submit_answers", standing, review)
    problems = submission_problems(review)
    if problems:
        raise DomainError(_("The answers cannot be submitted yet: %(n)d question(s) need attention.",
                            n=len(problems)))
    snapshot = Submission(review_id=review.id, submitted_by_id=user.id, answers=answer_values(review))
    db.session.add(snapshot)
    move_review(review, Phase.DESK_REVIEW, by=user, standing=standing, today=today)
    audit.record("answers.submitted", review, actor=user, review_id=review.id, answers=len(snapshot.answers))
    return snapshot


def reopen(review: Review, reason: str, *, by: User, standing: Membership, today: date) -> None:
    """The secretariat reopens submitted answers, with a reason; reviewers later see what changed."""
    require("reopen_answers", standing, review)
    move_review(review, Phase.SELF_ASSESSMENT, by=by, standing=standing, today=today, note=reason)
    audit.record("answers.reopened", review, actor=by, review_id=review.id, reason=reason.strip())


def unreleased_answers(review: Review) -> dict[str, Answer]:
    """Answers revised in the dialogue that the reviewers do not see yet, ready to release (code → answer)."""
    snapshot = latest_submission(review)
    if snapshot is None:
        return {}
    released = {code: r.value for code, r in latest_releases(review, since=snapshot.submitted_at).items()}
    seen = {**snapshot.answers, **released}
    return {code: answer for code, answer in answers_of(review).items()
            if answer.value != seen.get(code) and not answer.is_contribution and not answer.errors}


def release_answers(review: Review, codes: list[str] | None, *, user: User, standing: Membership) -> list[str]:
    """The focal point releases revised answers to the reviewing States (all ready ones, or those named)."""
    require("release_answers", standing, review)
    ready = unreleased_answers(review)
    chosen = list(ready) if codes is None else [code for code in codes if code in ready]
    if not chosen:
        raise DomainError(_("No revised answer is ready to be released."))
    now = utcnow()
    db.session.execute(insert(AnswerRelease), [
        {"review_id": review.id, "question_id": ready[code].question_id, "answer_version": ready[code].version,
         "value": ready[code].value, "released_at": now, "released_by_id": user.id} for code in chosen])
    audit.record("answers.released", review, actor=user, review_id=review.id, questions=chosen)
    return chosen


def changed_since_submission(review: Review, standing: Membership, shown: dict[str, ShownAnswer]) -> set[str]:
    """Codes of answers that differ from the previous submission, among what this person sees.

    While the answers are open again, the State's people compare the live answers with the last
    submission; reviewers compare what they see (the last submission, and released revisions) with
    the submission before it, or with the last one during the dialogue.
    """
    snapshots = db.session.scalars(select(Submission).where(Submission.review_id == review.id)
                                   .order_by(Submission.id.desc()).limit(2)).all()
    if not snapshots:
        return set()
    after = {code: answer.value for code, answer in shown.items()}
    if answer_view(standing, review) == AnswerView.LIVE:
        if review.phase == Phase.SELF_ASSESSMENT or review.phase == Phase.DIALOGUE:
            before = snapshots[0].answers
        elif len(snapshots) == 2:
            before, after = snapshots[1].answers, snapshots[0].answers
        else:
            return set()
    elif any(answer.source == "released" for answer in shown.values()):
        before = snapshots[0].answers
    elif len(snapshots) == 2:
        before = snapshots[1].answers
    else:
        return set()
    return {code for code in set(before) | set(after) if before.get(code) != after.get(code)}


def refused_values(review: Review, question: Question) -> list[RefusedValue]:
    """The values sent for a question and refused, oldest first."""
    return list(db.session.scalars(select(RefusedValue).where(RefusedValue.review_id == review.id,
                                                              RefusedValue.question_id == question.id)
                                   .options(selectinload(RefusedValue.author)).order_by(RefusedValue.id)))

