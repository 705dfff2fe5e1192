"""Rules for answers: saving with optimistic locking, history, contributions, submission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from reviewmech.accounts.models import User
from reviewmech.core import audit
from reviewmech.core.errors import DomainError, NotAllowed
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question, Section
from reviewmech.questionnaires.services import shape_of
from reviewmech.responses.models import Answer, AnswerRevision, Submission
from reviewmech.reviews.models import Phase, PhaseChange, Review, Role, add_months
from reviewmech.reviews.policy import Membership, can_edit_answers
from reviewmech.reviews.services import active_participants, move_review, refresh_progress

COALESCE_WINDOW = timedelta(minutes=5)


class Conflict(Exception):
    """Someone saved a newer version of this answer; nothing was saved."""

    def __init__(self, answer: Answer):
        super().__init__("conflict")
        self.answer = answer


@dataclass
class Saved:
    """The answer as stored after a save, with the problems of its value."""

    answer: Answer
    errors: list[str]
    shown: dict[str, bool]


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


def section_chain(section: Section, sections: dict[int, Section]) -> list[Section]:
    """A section and its parents, outermost first."""
    chain = [section]
    while chain[0].parent_id is not None:
        chain.insert(0, sections[chain[0].parent_id])
    return chain


def may_edit_question(review: Review, question: Question, standing: Membership, sections: dict[int, Section]) -> bool:
    """Whether a person may change this answer now: open phase, their role, and a contributor's sections."""
    if not can_edit_answers(standing, review):
        return False
    roles = standing.roles_for(review.state_id)
    if roles & {Role.FOCAL_POINT, Role.EXPERT}:
        return True
    assigned = contributor_sections(review, standing)
    return any(s.code in assigned for s in section_chain(sections[question.section_id], sections))


def contributor_sections(review: Review, standing: Membership) -> set[str]:
    """The section codes assigned to a contributor (empty for anyone else)."""
    return {code for p in active_participants(review, state_ids={review.state_id}, roles={Role.CONTRIBUTOR})
            if p.user_id == standing.user_id for code in p.sections}


def _refuse_unless_editable(review, question, standing, sections):
    if review.phase not in (Phase.SELF_ASSESSMENT, Phase.DIALOGUE):
        raise DomainError(_("The answers of this review are locked: it is in the phase “%(phase)s”.",
                            phase=str(review.phase.value).replace("_", " ")))
    if not may_edit_question(review, question, standing, sections):
        raise NotAllowed(_("You cannot change this answer."))


def save_answer(review: Review, question: Question, raw_value: Any, base_version: int, *, user: User,
                standing: Membership, source: str = "web", reason: str = "") -> Saved:
    """Save one answer if nobody saved a newer version; invalid values are kept as drafts with their errors."""
    if question.questionnaire_id != review.questionnaire_id:
        raise DomainError(_("This question is not part of this review's questionnaire."))
    sections = {s.id: s for s in db.session.scalars(
        select(Section).where(Section.questionnaire_id == review.questionnaire_id))}
    _refuse_unless_editable(review, question, standing, sections)
    answers = answers_of(review)
    values = {code: answer.value for code, answer in answers.items()}
    shape = shape_of(review.questionnaire)
    if question.code not in shape.shown(values):
        raise DomainError(_("This question is not shown for the answers given so far, so it cannot be answered."))
    normalized = question.question_type.normalize(raw_value, question.options_for(review.cycle))
    is_contribution = not (standing.roles_for(review.state_id) & {Role.FOCAL_POINT, Role.EXPERT})
    now = utcnow()
    answer = answers.get(question.code)
    if answer is None:
        if base_version != 0:
            raise Conflict(_current(review, question))
        answer = Answer(review_id=review.id, question_id=question.id, value=normalized.value,
                        errors=normalized.errors, version=1, is_contribution=is_contribution,
                        updated_by_id=user.id, updated_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(answer)
        except IntegrityError:
            raise Conflict(_current(review, question)) from None
        previous_revision = None
    else:
        if answer.version != base_version:
            raise Conflict(answer)
        result = db.session.execute(
            update(Answer).where(Answer.id == answer.id, Answer.version == base_version)
            .values(value=normalized.value, errors=normalized.errors, version=base_version + 1,
                    is_contribution=is_contribution, updated_by_id=user.id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.expire(answer)
            raise Conflict(answer)
        db.session.expire(answer)
        previous_revision = db.session.scalar(
            select(AnswerRevision).where(AnswerRevision.answer_id == answer.id)
            .order_by(AnswerRevision.id.desc()).limit(1))
    _record_revision(answer, previous_revision, normalized.value, user, source, reason, now)
    values[question.code] = normalized.value
    shown_after = refresh_progress(review, values)
    return Saved(answer=answer, errors=normalized.errors, shown={code: code in shown_after for code in shape.codes})


def _record_revision(answer, previous, value, user, source, reason, now) -> None:
    version = answer.version
    if (previous is not None and source == "web" and previous.source == "web" and previous.author_id == user.id
            and now - previous.updated_at <= COALESCE_WINDOW):
        previous.value, previous.version, previous.updated_at = value, version, now
        return
    db.session.add(AnswerRevision(answer_id=answer.id, version=version, value=value, author_id=user.id,
                                  source=source, reason=reason, created_at=now, updated_at=now))


def _current(review: Review, question: Question) -> Answer:
    return db.session.scalar(select(Answer).where(Answer.review_id == review.id,
                                                  Answer.question_id == question.id))


def restore_revision(answer: Answer, revision: AnswerRevision, *, review: Review, user: User,
                     standing: Membership) -> Saved:
    """Make an earlier value the current one again; the restore is a new revision."""
    if revision.answer_id != answer.id:
        raise DomainError(_("This revision belongs to another answer."))
    return save_answer(review, answer.question, revision.value, answer.version, user=user, standing=standing,
                       source="restore", reason=_("restored version %(n)d", n=revision.version))


def accept_contribution(answer: Answer, *, review: Review, user: User, standing: Membership) -> None:
    """An expert or the focal point accepts a contributor's answer."""
    if not standing.roles_for(review.state_id) & {Role.FOCAL_POINT, Role.EXPERT}:
        raise DomainError(_("Only an expert or the focal point accepts contributions."))
    if not answer.is_contribution:
        raise DomainError(_("This answer is not waiting for acceptance."))
    answer.is_contribution = False
    audit.record("answer.contribution_accepted", answer, actor=user, review_id=review.id,
                 question=answer.question.code)


@dataclass
class Problem:
    """A required or invalid answer that blocks submission."""

    question: Question
    section: Section
    message: str


def submission_problems(review: Review) -> list[Problem]:
    """Every shown question still required and empty, or holding an invalid value."""
    answers = answers_of(review)
    values = {c: a.value for c, a in answers.items()}
    shape = shape_of(review.questionnaire)
    shown = shape.shown(values)
    candidates = {code for code in shown if (code in shape.required and not shape.is_answered(code, values))
                  or (code in answers and (answers[code].errors or answers[code].is_contribution))}
    if not candidates:
        return []
    sections = {s.code: s for s in db.session.scalars(
        select(Section).where(Section.questionnaire_id == review.questionnaire_id))}
    questions = db.session.scalars(select(Question).where(Question.questionnaire_id == review.questionnaire_id,
                                                          Question.code.in_(candidates))
                                   .order_by(Question.position)).all()
    problems = []
    for question in questions:
        top = sections[shape.top_sections[question.code]]
        answer = answers.get(question.code)
        empty = answer is None or question.question_type.is_empty(answer.value)
        if question.is_required and empty:
            problems.append(Problem(question, top, _("A required question is not answered.")))
        elif answer is not None and answer.errors:
            problems.append(Problem(question, top, " ".join(answer.errors)))
        elif answer is not None and answer.is_contribution:
            problems.append(Problem(question, top, _("A contribution waits for acceptance by an expert or the "
                                                     "focal point.")))
    return problems


def submit(review: Review, *, user: User, standing: Membership, today: date) -> Submission:
    """The focal point clears and submits the answers: they lock, a snapshot is kept, the desk review starts."""
    if Role.FOCAL_POINT not in standing.roles_for(review.state_id):
        raise DomainError(_("Only the focal point of the State under review submits the answers."))
    if review.phase != Phase.SELF_ASSESSMENT:
        raise DomainError(_("The answers can only be submitted during the self-assessment."))
    problems = submission_problems(review)
    if problems:
        raise DomainError(_("The answers cannot be submitted yet: %(n)d question(s) need attention.",
                            n=len(problems)))
    snapshot = Submission(review_id=review.id, submitted_by_id=user.id, answers=answer_values(review))
    db.session.add(snapshot)
    move_review(review, Phase.DESK_REVIEW, by=user, standing=standing, today=today)
    audit.record("answers.submitted", review, actor=user, review_id=review.id, answers=len(snapshot.answers))
    return snapshot


def reopen(review: Review, reason: str, *, by: User, today: date) -> None:
    """The secretariat reopens submitted answers, with a reason; reviewers later see what changed."""
    if not by.is_secretariat:
        raise DomainError(_("Only the secretariat reopens submitted answers."))
    if review.phase != Phase.DESK_REVIEW:
        raise DomainError(_("Only answers in the desk review can be reopened."))
    if not reason.strip():
        raise DomainError(_("Give the reason for reopening."), field="reason")
    review.phase = Phase.SELF_ASSESSMENT
    if review.self_assessment_due_on is None or review.self_assessment_due_on <= today:
        review.self_assessment_due_on = add_months(today, 1)
    review.phase_changes.append(PhaseChange(phase=Phase.SELF_ASSESSMENT, changed_by_id=by.id, note=reason.strip()))
    audit.record("answers.reopened", review, actor=by, review_id=review.id, reason=reason.strip())


def changed_since_submission(review: Review, answers: dict[str, Answer]) -> set[str]:
    """Codes of answers changed after a reopening.

    While the answers are open again, the current answers are compared with the last submission;
    once submitted again, the last submission is compared with the one before it.
    """
    snapshots = db.session.scalars(select(Submission).where(Submission.review_id == review.id)
                                   .order_by(Submission.id.desc()).limit(2)).all()
    if not snapshots:
        return set()
    if review.phase == Phase.SELF_ASSESSMENT:
        before, after = snapshots[0].answers, {code: answer.value for code, answer in answers.items()}
    elif len(snapshots) == 2:
        before, after = snapshots[1].answers, snapshots[0].answers
    else:
        return set()
    return {code for code in set(before) | set(after) if before.get(code) != after.get(code)}


def keep_refused_value(answer: Answer, value: Any, *, user: User) -> None:
    """Keep a value refused by a conflict in the answer's history, so nothing typed is lost."""
    db.session.add(AnswerRevision(answer_id=answer.id, version=answer.version, value=value, author_id=user.id,
                                  source="conflict", reason=_("not saved: version %(n)d was newer",
                                                              n=answer.version)))
