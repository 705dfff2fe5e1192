"""Country reviews: who is reviewed, by whom, who takes part, which phase, which deadlines."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewmech.accounts.models import State, User
from reviewmech.core.audit import register_action_labels
from reviewmech.core.errors import DomainError, NotAllowed
from reviewmech.core.models import JSONValue, utcnow
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Questionnaire

INSTRUMENT_TIP_PROTOCOL = "tip-protocol"


def _enum(cls, length=30):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Phase(enum.StrEnum):
    """The phases of a country review, in order."""

    PREPARATION = "preparation"
    SELF_ASSESSMENT = "self_assessment"
    DESK_REVIEW = "desk_review"
    DIALOGUE = "dialogue"
    OBSERVATIONS = "observations"
    FINAL = "final"

    @property
    def index(self) -> int:
        """Position in the sequence of phases."""
        return list(Phase).index(self)


class Role(enum.StrEnum):
    """What a person does in a review, for their State."""

    FOCAL_POINT = "focal_point"
    EXPERT = "expert"
    CONTRIBUTOR = "contributor"
    OBSERVER = "observer"


class StateRole(enum.StrEnum):
    """How a State takes part in a review."""

    UNDER_REVIEW = "under_review"
    REVIEWING = "reviewing"


class Slot(enum.StrEnum):
    """Which of the two reviewing States: from the same regional group or another one."""

    SAME_GROUP = "same_group"
    OTHER_GROUP = "other_group"


PHASE_LABELS = {
    Phase.PREPARATION: _l("Preparation"),
    Phase.SELF_ASSESSMENT: _l("Self-assessment"),
    Phase.DESK_REVIEW: _l("Desk review"),
    Phase.DIALOGUE: _l("Dialogue"),
    Phase.OBSERVATIONS: _l("List of observations"),
    Phase.FINAL: _l("Final"),
}
ROLE_LABELS = {
    Role.FOCAL_POINT: _l("Focal point"),
    Role.EXPERT: _l("Expert"),
    Role.CONTRIBUTOR: _l("Contributor"),
    Role.OBSERVER: _l("Observer"),
}


def phase_label(phase: Phase) -> str:
    """The phase's name in the reader's language."""
    return str(PHASE_LABELS[phase])


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 28 always exists


def _secretariat(standing, review) -> bool:
    return standing.is_secretariat


def _focal_point_under_review(standing, review) -> bool:
    return standing.is_focal_point_of(review.state_id)


def _secretariat_or_reviewing_focal_point(standing, review) -> bool:
    return standing.is_secretariat or bool(standing.reviewing_focal_point_state_ids)


# (from, to) → (who, in words; the check on a person's standing; whether a reason is required)
TRANSITIONS = {
    (Phase.PREPARATION, Phase.SELF_ASSESSMENT): (lambda: _("the secretariat"), _secretariat, False),
    (Phase.SELF_ASSESSMENT, Phase.DESK_REVIEW): (lambda: _("the focal point of the State under review"),
                                                 _focal_point_under_review, False),
    (Phase.DESK_REVIEW, Phase.SELF_ASSESSMENT): (lambda: _("the secretariat"), _secretariat, True),
    (Phase.DESK_REVIEW, Phase.DIALOGUE): (lambda: _("the secretariat or a focal point of a reviewing State"),
                                          _secretariat_or_reviewing_focal_point, False),
    (Phase.DIALOGUE, Phase.OBSERVATIONS): (lambda: _("the secretariat"), _secretariat, False),
    (Phase.OBSERVATIONS, Phase.FINAL): (lambda: _("the secretariat"), _secretariat, False),
}


class Review(db.Model):
    """The review of one State, on one questionnaire version, in one cycle."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("states.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(40), default=INSTRUMENT_TIP_PROTOCOL)
    cycle: Mapped[int] = mapped_column(index=True)
    phase: Mapped[Phase] = mapped_column(_enum(Phase), default=Phase.PREPARATION, index=True)
    self_assessment_months: Mapped[int] = mapped_column(default=6)
    desk_review_months: Mapped[int] = mapped_column(default=6)
    self_assessment_due_on: Mapped[date | None] = mapped_column(Date)
    desk_review_due_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None]
    required_answered: Mapped[int] = mapped_column(default=0)
    required_total: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    state: Mapped[State] = relationship(foreign_keys=[state_id])
    questionnaire: Mapped[Questionnaire] = relationship()
    states: Mapped[list[ReviewState]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                     order_by="ReviewState.id")
    participants: Mapped[list[Participant]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                           order_by="Participant.id")
    phase_changes: Mapped[list[PhaseChange]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                            order_by="PhaseChange.id")

    __table_args__ = (UniqueConstraint("state_id", "questionnaire_id", "cycle", name="uq_reviews_state_cycle"),)

    @property
    def reviewing_states(self) -> list[ReviewState]:
        """The reviewing States, same group first."""
        rows = [s for s in self.states if s.role == StateRole.REVIEWING]
        return sorted(rows, key=lambda s: s.slot != Slot.SAME_GROUP)

    @property
    def current_deadline(self) -> date | None:
        """The deadline that runs in the current phase, if any."""
        if self.phase == Phase.SELF_ASSESSMENT:
            return self.self_assessment_due_on
        if self.phase == Phase.DESK_REVIEW:
            return self.desk_review_due_on
        return None

    def is_overdue(self, today: date) -> bool:
        """Whether the current phase's deadline has passed."""
        deadline = self.current_deadline
        return deadline is not None and deadline < today

    def allowed_moves(self, standing) -> list[Phase]:
        """The phases this person may move the review to now."""
        return [to for (frm, to), (_who, check, _reason) in TRANSITIONS.items()
                if frm == self.phase and check(standing, self)]

    def advance(self, to: Phase, actor: User, standing, today: date, note: str = "") -> None:
        """Move to another phase if `actor` may; raise DomainError saying why not otherwise."""
        rule = TRANSITIONS.get((self.phase, to))
        if rule is None:
            raise DomainError(_("A review in the phase “%(current)s” cannot move to “%(target)s”.",
                                current=phase_label(self.phase), target=phase_label(to)))
        who, check, needs_reason = rule
        if not check(standing, self):
            raise NotAllowed(_("Only %(who)s can move this review to “%(target)s”.",
                               who=who(), target=phase_label(to)))
        note = (note or "").strip()
        if needs_reason and not note:
            raise DomainError(_("Give the reason for moving the review back to “%(target)s”.",
                                target=phase_label(to)), field="note")
        if to == Phase.SELF_ASSESSMENT and self.phase == Phase.PREPARATION:
            if len(self.reviewing_states) != 2:
                raise DomainError(_("Draw the two reviewing States before the self-assessment starts."))
            if not any(p.is_active and p.role == Role.FOCAL_POINT and p.state_id == self.state_id
                       for p in self.participants):
                raise DomainError(_("Name the focal point of the State under review "
                                    "before the self-assessment starts."))
            self.self_assessment_due_on = add_months(today, self.self_assessment_months)
        elif to == Phase.SELF_ASSESSMENT:  # reopened: at least a month to answer again
            if self.self_assessment_due_on is None or self.self_assessment_due_on <= today:
                self.self_assessment_due_on = add_months(today, 1)
        if to == Phase.DESK_REVIEW:
            self.submitted_at = utcnow()
            self.desk_review_due_on = add_months(today, self.desk_review_months)
        self.phase = to
        self.phase_changes.append(PhaseChange(phase=to, changed_by_id=actor.id if actor else None, note=note))


class ReviewState(db.Model):
    """A State in a review: the one under review, or one of the two reviewing States."""

    __tablename__ = "review_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("states.id"), index=True)
    role: Mapped[StateRole] = mapped_column(_enum(StateRole))
    slot: Mapped[Slot | None] = mapped_column(_enum(Slot))
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("lot_draws.id"))
    redraws_used: Mapped[int] = mapped_column(default=0)

    review: Mapped[Review] = relationship(back_populates="states")
    state: Mapped[State] = relationship()
    draw: Mapped[LotDraw | None] = relationship()

    __table_args__ = (
        UniqueConstraint("review_id", "state_id", name="uq_review_states_state"),
        UniqueConstraint("review_id", "slot", name="uq_review_states_slot"),
    )


class LotDraw(db.Model):
    """A drawing of lots (or a redraw), with the seed and inputs that let anyone verify it."""

    __tablename__ = "lot_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # draw or redraw
    cycle: Mapped[int]
    instrument: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(BigInteger)
    inputs: Mapped[dict] = mapped_column(JSONValue)
    result: Mapped[dict] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Participant(db.Model):
    """A person taking part in a review for a State, in one role; ended rows are history."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("states.id"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    sections: Mapped[list] = mapped_column(JSONValue, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    review: Mapped[Review] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()
    state: Mapped[State] = relationship()

    __table_args__ = (
        # One focal point per State per review at a time.
        Index("uq_participants_focal_point", "review_id", "state_id", unique=True,
              sqlite_where=text("role = 'focal_point' AND ended_at IS NULL"),
              postgresql_where=text("role = 'focal_point' AND ended_at IS NULL")),
    )

    @property
    def is_active(self) -> bool:
        """Whether the person still takes part."""
        return self.ended_at is None


class PhaseChange(db.Model):
    """When a review entered a phase, and who moved it."""

    __tablename__ = "phase_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    phase: Mapped[Phase] = mapped_column(_enum(Phase))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[Review] = relationship(back_populates="phase_changes")


class ReminderSent(db.Model):
    """A deadline reminder already queued, so each is sent once however often the command runs."""

    __tablename__ = "reminders_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    deadline: Mapped[str] = mapped_column(String(30))
    due_on: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("review_id", "deadline", "due_on", "days_before", name="uq_reminders_sent_once"),
    )


register_action_labels({
    "review.opened": _l("opened the review"),
    "review.reviewers_drawn": _l("drew the reviewing States"),
    "review.reviewer_redrawn": _l("redrew a reviewing State"),
    "review.participant_added": _l("added a participant"),
    "review.participant_removed": _l("ended a participation"),
    "review.focal_point_replaced": _l("replaced a focal point"),
    "review.phase_changed": _l("moved the review to its next phase"),
    "review.deadline_extended": _l("extended the deadline"),
})


from reviewmech.reviews import history  # noqa: E402,F401 - registers how the audit log tells its events
