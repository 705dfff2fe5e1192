"""Rules for reviews: opening, drawing reviewers, participants, phases, deadlines, reminders."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from reviewmech.accounts.models import AccountStatus, State, User
from reviewmech.accounts.services import find_user_by_email, invite_person
from reviewmech.core import audit
from reviewmech.core.errors import DomainError
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.notifications.services import queue_email
from reviewmech.questionnaires.models import Questionnaire, Section
from reviewmech.questionnaires.services import catalogue_of, shape_of
from reviewmech.reviews import lots
from reviewmech.reviews.models import (
    LotDraw,
    Participant,
    Phase,
    PhaseChange,
    ReminderSent,
    Review,
    ReviewState,
    Role,
    Slot,
    StateRole,
)
from reviewmech.reviews.policy import Membership, can, require

REMINDER_DAYS = (30, 7, 1, 0)


def _review_link(review: Review) -> str:
    return current_app.config["BASE_URL"] + url_for("reviews.home", review_id=review.id)


def _notify(review: Review, users, kind: str, **context) -> None:
    for user in {u.id: u for u in users}.values():
        queue_email(user.email, kind, user.locale, user=user, review=review, link=_review_link(review), **context)


def active_participants(review: Review, *, state_ids=None, roles=None) -> list[Participant]:
    """The people taking part now, optionally for some States or roles."""
    return [p for p in review.participants if p.is_active
            and (state_ids is None or p.state_id in state_ids) and (roles is None or p.role in roles)]


# Opening ---------------------------------------------------------------------------------------

def open_review(*, state: State, questionnaire: Questionnaire, cycle: int, by: User | None,
                self_assessment_months: int = 6, desk_review_months: int = 6) -> Review:
    """Open a review of a State on a questionnaire version in a cycle; it pins that version."""
    if not state.is_tip_protocol_party:
        raise DomainError(_("%(state)s is not a party to the Protocol, so it cannot be reviewed under it.",
                            state=state.name_en), field="state")
    duplicate = db.session.scalar(select(Review).where(
        Review.state_id == state.id, Review.questionnaire_id == questionnaire.id, Review.cycle == cycle))
    if duplicate is not None:
        raise DomainError(_("A review of %(state)s on this questionnaire in %(cycle)d already exists.",
                            state=state.name_en, cycle=cycle), field="state")
    if not (1 <= self_assessment_months <= 24 and 1 <= desk_review_months <= 24):
        raise DomainError(_("Deadlines are between 1 and 24 months."))
    review = Review(state=state, questionnaire=questionnaire, cycle=cycle, opened_by_id=getattr(by, "id", None),
                    self_assessment_months=self_assessment_months, desk_review_months=desk_review_months)
    review.states.append(ReviewState(state=state, role=StateRole.UNDER_REVIEW))
    review.phase_changes.append(PhaseChange(phase=Phase.PREPARATION, changed_by_id=getattr(by, "id", None)))
    db.session.add(review)
    db.session.flush()
    refresh_progress(review, {})
    audit.record("review.opened", review, actor=by, review_id=review.id, state=state.code, cycle=cycle,
                 questionnaire=f"{questionnaire.slug} v{questionnaire.version}")
    return review


def section_progress(review: Review, answers: dict) -> list[tuple[Section, int, int]]:
    """Per top-level section: required questions answered and required questions shown."""
    shape = shape_of(review.questionnaire)
    shown = shape.shown(answers)
    tops = catalogue_of(review.questionnaire).roots
    totals = {section.code: [0, 0] for section in tops}
    for code in shape.codes:
        if code in shape.required and code in shown:
            counts = totals[shape.top_sections[code]]
            counts[1] += 1
            counts[0] += 1 if shape.is_answered(code, answers) else 0
    return [(section, *totals[section.code]) for section in tops]


def refresh_progress(review: Review, answers: dict) -> set[str]:
    """Recount required questions shown and answered, from the answers (code → value); return the shown codes."""
    shape = shape_of(review.questionnaire)
    shown = shape.shown(answers)
    required = [code for code in shape.codes if code in shape.required and code in shown]
    review.required_total = len(required)
    review.required_answered = sum(1 for code in required if shape.is_answered(code, answers))
    return shown


# Drawing of lots -------------------------------------------------------------------------------

def _year_inputs(cycle: int, instrument: str, under_review: list[str], max_reviews: int) -> lots.DrawInputs:
    states = db.session.scalars(select(State)).all()
    existing = db.session.execute(
        select(State.code, Review.id).join(ReviewState, ReviewState.state_id == State.id)
        .join(Review, Review.id == ReviewState.review_id)
        .where(Review.cycle == cycle, Review.instrument == instrument, ReviewState.role == StateRole.REVIEWING)
    ).all()
    reviewed_code = dict(db.session.execute(
        select(Review.id, State.code).join(State, State.id == Review.state_id)
        .where(Review.cycle == cycle, Review.instrument == instrument)).all())
    return lots.DrawInputs(
        under_review=tuple(sorted(under_review)),
        groups={s.code: s.regional_group.value for s in states},
        parties=frozenset(s.code for s in states if s.is_tip_protocol_party),
        max_reviews=max_reviews,
        existing_load=dict(Counter(code for code, _review_id in existing)),
        existing_pairs=frozenset((code, reviewed_code[review_id]) for code, review_id in existing),
    )


def draw_reviewers(*, cycle: int, instrument: str, by: User | None, seed: int | None = None,
                   max_reviews: int | None = None) -> tuple[LotDraw, list[Review]]:
    """Draw two reviewing States for every review of a cycle that has none; all or nothing."""
    max_reviews = current_app.config["MAX_REVIEWS_PER_YEAR"] if max_reviews is None else max_reviews
    reviews = db.session.scalars(
        select(Review).where(Review.cycle == cycle, Review.instrument == instrument)
        .options(selectinload(Review.states).selectinload(ReviewState.state), selectinload(Review.state))
        .order_by(Review.id)
    ).all()
    waiting = [r for r in reviews if not r.reviewing_states]
    if not reviews:
        raise DomainError(_("No review is open for %(cycle)d: open the reviews first.", cycle=cycle))
    if not waiting:
        raise DomainError(_("Every review of %(cycle)d already has its reviewing States.", cycle=cycle))
    inputs = _year_inputs(cycle, instrument, [r.state.code for r in waiting], max_reviews)
    seed = lots.new_seed() if seed is None else seed
    try:
        result = lots.draw_lots(inputs, seed)
    except lots.DrawError as error:
        raise DomainError(_("The lots could not be drawn: %(reason)s", reason=str(error))) from None
    record = LotDraw(kind="draw", cycle=cycle, instrument=instrument, seed=seed, inputs=inputs.as_json(),
                     result=result.as_json(), created_by_id=getattr(by, "id", None))
    db.session.add(record)
    states = {s.code: s for s in db.session.scalars(select(State))}
    by_code = {r.state.code: r for r in waiting}
    for assignment in result.assignments:
        review = by_code[assignment.reviewed]
        for slot, code in ((Slot.SAME_GROUP, assignment.same_group), (Slot.OTHER_GROUP, assignment.other_group)):
            review.states.append(ReviewState(state=states[code], role=StateRole.REVIEWING, slot=slot, draw=record))
        audit.record("review.reviewers_drawn", review, actor=by, review_id=review.id, seed=seed,
                     same_group=assignment.same_group, other_group=assignment.other_group)
    db.session.flush()
    return record, waiting


@dataclass
class DrawSummary:
    """A drawing of lots told in words: what it drew for whom, and under which rules."""

    assignments: list[dict]  # {"reviewed", "same_group", "other_group"} (codes), or one redraw
    parties: int
    max_reviews: int | None
    already_assigned: dict[str, int]  # reviews assigned earlier in the year, per State
    redraw: dict | None  # {"reviewed", "slot", "state", "replaced"} for a redraw


def draw_summary(record: LotDraw) -> DrawSummary:
    """Read a stored draw (or redraw) for display; a record of unknown shape gives an empty summary."""
    inputs = record.inputs if isinstance(record.inputs, dict) else {}
    result = record.result if isinstance(record.result, dict) else {}
    if record.kind == "redraw":
        draw_inputs = inputs.get("draw") if isinstance(inputs.get("draw"), dict) else {}
        return DrawSummary(assignments=[], parties=len(draw_inputs.get("parties") or ()),
                           max_reviews=draw_inputs.get("max_reviews"),
                           already_assigned=dict(draw_inputs.get("existing_load") or {}),
                           redraw={"reviewed": result.get("reviewed"), "slot": result.get("slot"),
                                   "state": result.get("state"), "replaced": inputs.get("replaced")})
    draw_inputs = result.get("inputs") if isinstance(result.get("inputs"), dict) else inputs
    assignments = [a for a in result.get("assignments") or () if isinstance(a, dict)]
    return DrawSummary(assignments=assignments, parties=len(draw_inputs.get("parties") or ()),
                       max_reviews=draw_inputs.get("max_reviews"),
                       already_assigned={code: n for code, n in (draw_inputs.get("existing_load") or {}).items() if n},
                       redraw=None)


def redraw_reviewer(review: Review, slot: Slot, *, by: User, standing: Membership,
                    max_redraws: int | None = None, seed: int | None = None) -> ReviewState:
    """Replace one reviewing State by a new lot, at the request of the State under review."""
    if review.phase.index > Phase.SELF_ASSESSMENT.index:
        raise DomainError(_("Reviewers can no longer be redrawn once the desk review has started."))
    require("request_redraw", standing, review)
    current = next((s for s in review.reviewing_states if s.slot == slot), None)
    if current is None:
        raise DomainError(_("Draw the reviewing States first."))
    max_redraws = current_app.config["MAX_REDRAWS"] if max_redraws is None else max_redraws
    used = sum(s.redraws_used for s in review.reviewing_states)
    if used >= max_redraws:
        raise DomainError(_("This review has used its %(n)d redraw(s).", n=max_redraws))
    inputs = _year_inputs(review.cycle, review.instrument, [review.state.code],
                          current_app.config["MAX_REVIEWS_PER_YEAR"])
    others = review.reviewing_states
    current_draw = lots.Draw(seed=0, inputs=inputs, assignments=(lots.Assignment(
        reviewed=review.state.code,
        same_group=next(s.state.code for s in others if s.slot == Slot.SAME_GROUP),
        other_group=next(s.state.code for s in others if s.slot == Slot.OTHER_GROUP)),))
    seed = lots.new_seed() if seed is None else seed
    try:
        assignment = lots.redraw(inputs, current_draw, review.state.code, slot.value, seed)
    except lots.DrawError as error:
        raise DomainError(_("No other reviewing State can be drawn: %(reason)s", reason=str(error))) from None
    new_code = assignment.same_group if slot == Slot.SAME_GROUP else assignment.other_group
    record = LotDraw(kind="redraw", cycle=review.cycle, instrument=review.instrument, seed=seed,
                     inputs={"draw": inputs.as_json(), "review": review.id, "slot": slot.value,
                             "replaced": current.state.code},
                     result={"reviewed": review.state.code, "slot": slot.value, "state": new_code},
                     created_by_id=by.id)
    db.session.add(record)
    old_code = current.state.code
    replaced_state = db.session.scalar(select(State).where(State.code == new_code))
    for participant in active_participants(review, state_ids={current.state_id}):
        participant.ended_at = utcnow()
    current.state = replaced_state
    current.draw = record
    current.redraws_used += 1
    audit.record("review.reviewer_redrawn", review, actor=by, review_id=review.id, slot=slot.value,
                 replaced=old_code, drawn=new_code, seed=seed)
    return current


# Participants ----------------------------------------------------------------------------------

def add_participant(review: Review, *, state: State, role: Role, by: User, standing: Membership,
                    email: str, name: str | None = None, sections: list[str] | None = None,
                    locale: str = "en") -> Participant:
    """Add a person to a review for a State; a focal point replaces the previous one; may invite the person."""
    if state.id not in {s.state_id for s in review.states}:
        raise DomainError(_("%(state)s takes no part in this review.", state=state.name_en), field="state")
    require("manage_participants", standing, review, state_id=state.id)
    if role == Role.FOCAL_POINT and not can("name_focal_point", standing, review):
        raise DomainError(_("Only the secretariat names a focal point."), field="role")
    user = find_user_by_email(email)
    if user is None:
        if not name:
            raise DomainError(_("Nobody has an account with this address; give their name to invite them."),
                              field="name")
        user, _token = invite_person(name=name, email=email, state=state, invited_by=by, locale=locale)
    elif user.state_id != state.id:
        raise DomainError(_("%(email)s is registered for another State.", email=user.email), field="email")
    elif user.status == AccountStatus.DEACTIVATED:
        raise DomainError(_("This account is deactivated."), field="email")
    if any(p.user_id == user.id and p.role == role and p.state_id == state.id
           for p in active_participants(review)):
        raise DomainError(_("%(name)s already takes part in this role.", name=user.name), field="email")
    if role == Role.CONTRIBUTOR:
        known = {code for (code,) in db.session.execute(
            select(Section.code).where(Section.questionnaire_id == review.questionnaire_id))}
        unknown = [code for code in sections or [] if code not in known]
        if unknown or not sections:
            raise DomainError(_("Assign at least one section of the questionnaire to a contributor."),
                              field="sections")
    if role == Role.FOCAL_POINT:
        for previous in active_participants(review, state_ids={state.id}, roles={Role.FOCAL_POINT}):
            previous.ended_at = utcnow()
            audit.record("review.focal_point_replaced", review, actor=by, review_id=review.id,
                         state=state.code, previous=previous.user.email, new=user.email)
            _notify(review, [previous.user], "focal_point_replaced", state=state, new=user)
        db.session.flush()
    participant = Participant(review=review, user=user, state=state, role=role,
                              sections=list(sections or []) if role == Role.CONTRIBUTOR else [])
    db.session.add(participant)
    audit.record("review.participant_added", review, actor=by, review_id=review.id, state=state.code,
                 role=role.value, email=user.email)
    if user.status == AccountStatus.ACTIVE:
        _notify(review, [user], "participant_added", role=role, state=state)
    return participant


def remove_participant(participant: Participant, *, by: User, standing: Membership) -> None:
    """End a person's part in a review (kept as history)."""
    require("end_participation", standing, participant.review, state_id=participant.state_id,
            role=participant.role)
    if not participant.is_active:
        raise DomainError(_("This person no longer takes part."))
    participant.ended_at = utcnow()
    audit.record("review.participant_removed", participant.review, actor=by, review_id=participant.review_id,
                 email=participant.user.email, role=participant.role.value)


# Phases and deadlines --------------------------------------------------------------------------

def move_review(review: Review, to: Phase, *, by: User, standing: Membership, today: date, note: str = "") -> None:
    """Move a review to its next phase; audited, and the people concerned are told."""
    before = review.phase
    review.advance(to, by, standing, today, note)
    audit.record("review.phase_changed", review, actor=by, review_id=review.id, before=before.value,
                 after=to.value)
    _notify(review, [p.user for p in active_participants(review)], "phase_changed",
            phase=to, deadline=review.current_deadline)


def extend_deadline(review: Review, new_date: date, reason: str, *, by: User, today: date) -> None:
    """Extend the deadline of the current phase, with a reason; audited."""
    current = review.current_deadline
    if current is None:
        raise DomainError(_("No deadline runs in the current phase."))
    if new_date <= today:
        raise DomainError(_("The new deadline must be in the future."), field="due_on")
    if new_date <= current:
        raise DomainError(_("The new deadline must be later than the current one (%(date)s).",
                            date=current.isoformat()), field="due_on")
    if not reason.strip():
        raise DomainError(_("Give the reason for the extension."), field="reason")
    if review.phase == Phase.SELF_ASSESSMENT:
        review.self_assessment_due_on = new_date
    else:
        review.desk_review_due_on = new_date
    audit.record("review.deadline_extended", review, actor=by, review_id=review.id, phase=review.phase.value,
                 before=current.isoformat(), after=new_date.isoformat(), reason=reason.strip())
    _notify(review, [p.user for p in active_participants(review)], "deadline_extended",
            deadline=new_date, reason=reason.strip())


def _deadline_people(review: Review) -> list[User]:
    if review.phase == Phase.SELF_ASSESSMENT:
        state_ids = {review.state_id}
    else:
        state_ids = {s.state_id for s in review.reviewing_states}
    return [p.user for p in active_participants(review, state_ids=state_ids, roles={Role.FOCAL_POINT, Role.EXPERT})]


def queue_reminders(today: date) -> int:
    """Queue reminders 30, 7 and 1 days before a deadline and on the day it passes; each once."""
    reviews = db.session.scalars(
        select(Review).where(Review.phase.in_([Phase.SELF_ASSESSMENT, Phase.DESK_REVIEW]))
        .options(selectinload(Review.participants).selectinload(Participant.user),
                 selectinload(Review.states), selectinload(Review.state))
    ).all()
    sent = {(r.review_id, r.deadline, r.due_on, r.days_before) for r in db.session.scalars(
        select(ReminderSent).where(ReminderSent.review_id.in_([r.id for r in reviews] or [0])))}
    queued = 0
    for review in reviews:
        due_on, deadline = review.current_deadline, review.phase.value
        if due_on is None:
            continue
        days_left = (due_on - today).days
        due = [d for d in REMINDER_DAYS if days_left <= d]
        if not due:
            continue
        closest = min(due)  # the most urgent that applies; skipped earlier ones are not sent late
        if (review.id, deadline, due_on, closest) in sent:
            continue
        for days in due:
            if (review.id, deadline, due_on, days) not in sent:
                db.session.add(ReminderSent(review_id=review.id, deadline=deadline, due_on=due_on, days_before=days))
        _notify(review, _deadline_people(review), "deadline_reminder", deadline=due_on, days_left=days_left,
                phase=review.phase)
        queued += 1
    return queued


def today_utc() -> date:
    """Today's date in UTC, the calendar of every deadline."""
    return utcnow().date()


def counts_per_phase() -> dict[Phase, int]:
    """How many reviews are in each phase."""
    rows = db.session.execute(select(Review.phase, func.count()).group_by(Review.phase)).all()
    counts = dict.fromkeys(Phase, 0)
    counts.update(dict(rows))
    return counts


@dataclass
class CycleOverview:
    """What the secretariat follows: reviews per phase, deadlines passed or near, draws and profiles waiting."""

    counts: dict[Phase, int]
    overdue: list[Review]
    due_soon: list[Review]
    without_reviewers: list[Review]
    profiles_waiting: list[User]
    profiles_waiting_count: int


def cycle_overview(today: date, *, soon_days: int = 30, shown: int = 10) -> CycleOverview:
    """The secretariat's view of the cycle, in a fixed number of queries."""
    running = (select(Review).where(Review.phase.in_([Phase.SELF_ASSESSMENT, Phase.DESK_REVIEW]))
               .options(selectinload(Review.state)))
    with_deadline = [review for review in db.session.scalars(running) if review.current_deadline is not None]
    with_deadline.sort(key=lambda review: review.current_deadline)
    overdue = [review for review in with_deadline if review.current_deadline < today]
    due_soon = [review for review in with_deadline if 0 <= (review.current_deadline - today).days <= soon_days]
    open_reviews = db.session.scalars(
        select(Review).where(Review.phase.in_([Phase.PREPARATION, Phase.SELF_ASSESSMENT]))
        .options(selectinload(Review.state), selectinload(Review.states)).order_by(Review.cycle, Review.id)
    ).all()
    waiting = select(User).where(User.status == AccountStatus.PENDING_APPROVAL)
    return CycleOverview(
        counts=counts_per_phase(),
        overdue=overdue,
        due_soon=due_soon,
        without_reviewers=[review for review in open_reviews if not review.reviewing_states],
        profiles_waiting=list(db.session.scalars(waiting.order_by(User.activated_at).limit(shown))),
        profiles_waiting_count=db.session.scalar(select(func.count()).select_from(waiting.subquery())) or 0,
    )


def days_until(day: date | None, today: date) -> int | None:
    """Days from today to a date (negative when past)."""
    return None if day is None else (day - today).days



# A person's reviews ----------------------------------------------------------------------------

NEXT_ACTIONS = {
    # (phase, side, role) → what is expected; side is "under_review" or "reviewing"
    (Phase.PREPARATION, None, None): _l("Wait for the self-assessment to start"),
    (Phase.SELF_ASSESSMENT, "under_review", Role.FOCAL_POINT): _l("Coordinate, clear and submit the answers"),
    (Phase.SELF_ASSESSMENT, "under_review", Role.EXPERT): _l("Answer the questionnaire"),
    (Phase.SELF_ASSESSMENT, "under_review", Role.CONTRIBUTOR): _l("Answer the sections assigned to you"),
    (Phase.SELF_ASSESSMENT, "reviewing", None): _l("Wait for the answers of the State under review"),
    (Phase.DESK_REVIEW, "under_review", None): _l("Wait for the reviewers' feedback"),
    (Phase.DESK_REVIEW, "reviewing", Role.FOCAL_POINT): _l("Examine the answers, clear and send the feedback"),
    (Phase.DESK_REVIEW, "reviewing", Role.EXPERT): _l("Examine the answers and draft the feedback"),
    (Phase.DIALOGUE, "under_review", None): _l("Answer the reviewers' questions"),
    (Phase.DIALOGUE, "reviewing", None): _l("Hold the dialogue with the State under review"),
    (Phase.OBSERVATIONS, None, Role.FOCAL_POINT): _l("Clear the list of observations and its summary"),
    (Phase.OBSERVATIONS, None, None): _l("Draft the list of observations and its summary"),
    (Phase.FINAL, None, None): _l("Nothing: the review is complete"),
}


def next_action(review: Review, participant: Participant) -> str:
    """What the review expects of a participant now."""
    if participant.role == Role.OBSERVER:
        return str(_l("Follow the review (read only)"))
    side = "under_review" if participant.state_id == review.state_id else "reviewing"
    for key in ((review.phase, side, participant.role), (review.phase, side, None),
                (review.phase, None, participant.role), (review.phase, None, None)):
        if key in NEXT_ACTIONS:
            return str(NEXT_ACTIONS[key])
    return ""


def my_reviews(user: User) -> list[tuple[Role, list[tuple[Review, Participant]]]]:
    """A person's reviews grouped by their role in each (two queries)."""
    rows = db.session.scalars(
        select(Participant).where(Participant.user_id == user.id, Participant.ended_at.is_(None))
        .options(selectinload(Participant.review).selectinload(Review.state),
                 selectinload(Participant.review).selectinload(Review.states).selectinload(ReviewState.state))
        .order_by(Participant.id)
    ).all()
    grouped: dict[Role, list] = {}
    for participant in rows:
        grouped.setdefault(participant.role, []).append((participant.review, participant))
    return [(role, grouped[role]) for role in Role if role in grouped]
