"""Who sees and does what in a review: one policy, asked by every page, service and template.

A rule is a plain function of a person's standing in a review (`Membership`), the review (its
phase, its States, its deadlines) and, where it matters, the target (a question's section codes,
a State, a phase). Rules are registered by name with the message a refused person reads;
`can(...)` answers for display, `require(...)` raises `NotAllowed` before a change. Features
above reviews (answers, threads, observations) register their own rules here, in their modules.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from reviewmech.core.errors import NotAllowed
from reviewmech.core.permissions import AccessRule, declare
from reviewmech.extensions import db
from reviewmech.reviews.models import Participant, Phase, Review, Role, StateRole

EDITING_ROLES = frozenset({Role.FOCAL_POINT, Role.EXPERT, Role.CONTRIBUTOR})
DRAFTING_ROLES = frozenset({Role.FOCAL_POINT, Role.EXPERT})
ANSWERING_PHASES = frozenset({Phase.SELF_ASSESSMENT, Phase.DIALOGUE})


@dataclass(frozen=True)
class Membership:
    """A person's standing in one review: secretariat, their roles per State, a contributor's sections."""

    is_secretariat: bool = False
    user_id: int | None = None
    roles: dict[int, frozenset[Role]] = field(default_factory=dict)
    under_review_state_id: int | None = None
    reviewing_state_ids: frozenset[int] = frozenset()
    assigned_sections: frozenset[str] = frozenset()

    def roles_for(self, state_id: int | None) -> frozenset[Role]:
        """The person's active roles for a State in this review."""
        return self.roles.get(state_id, frozenset())

    @property
    def is_member(self) -> bool:
        """Whether the review exists for this person at all."""
        return self.is_secretariat or bool(self.roles)

    @property
    def under_review_roles(self) -> frozenset[Role]:
        """The person's roles for the State under review."""
        return self.roles_for(self.under_review_state_id)

    @property
    def is_under_review_side(self) -> bool:
        """Whether the person takes part for the State under review."""
        return bool(self.under_review_roles)

    @property
    def reviewing_roles(self) -> frozenset[Role]:
        """The person's roles for the reviewing States."""
        return frozenset(r for state_id in self.reviewing_state_ids for r in self.roles_for(state_id))

    @property
    def is_contributor_only(self) -> bool:
        """A contributor with no other standing: limited to the sections assigned."""
        return (self.under_review_roles == {Role.CONTRIBUTOR} and not self.is_secretariat
                and not self.reviewing_roles)

    def is_focal_point_of(self, state_id: int | None) -> bool:
        """Whether the person is the focal point of a State in this review."""
        return Role.FOCAL_POINT in self.roles_for(state_id)

    @property
    def reviewing_focal_point_state_ids(self) -> frozenset[int]:
        """The reviewing States of which the person is the focal point."""
        return frozenset(s for s in self.reviewing_state_ids if self.is_focal_point_of(s))


def membership(user, review: Review) -> Membership:
    """Work out a person's standing in a review (one query)."""
    rows = db.session.scalars(
        select(Participant).where(Participant.review_id == review.id, Participant.user_id == user.id,
                                  Participant.ended_at.is_(None))
    ).all()
    roles: dict[int, set[Role]] = {}
    assigned: set[str] = set()
    for row in rows:
        roles.setdefault(row.state_id, set()).add(row.role)
        if row.role == Role.CONTRIBUTOR and row.state_id == review.state_id:
            assigned.update(row.sections or [])
    return Membership(
        is_secretariat=bool(getattr(user, "is_secretariat", False)),
        user_id=user.id,
        roles={state_id: frozenset(r) for state_id, r in roles.items()},
        under_review_state_id=review.state_id,
        reviewing_state_ids=frozenset(s.state_id for s in review.states if s.role == StateRole.REVIEWING),
        assigned_sections=frozenset(assigned),
    )


def review_for(user, review_id: int) -> tuple[Review, Membership]:
    """Load a review for a person; 404 for anyone outside it, never a hint that it exists."""
    review = db.session.get(Review, review_id, options=[
        selectinload(Review.states), joinedload(Review.state), joinedload(Review.questionnaire)])
    if review is None:
        abort(404)
    cache = g.setdefault("review_memberships", {})
    key = (user.id, review.id)
    if key not in cache:
        cache[key] = membership(user, review)
    standing = cache[key]
    if not standing.is_member:
        abort(404)
    return review, standing


# The registry of rules ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A named rule: its check and the message a refused person reads."""

    name: str
    check: Callable[..., bool]
    refusal: Callable[[], str]


RULES: dict[str, Rule] = {}


def rule(name: str, refusal: Callable[[], str]):
    """Register a rule under a name, with the message shown when it refuses."""

    def decorator(check):
        if name in RULES:
            raise ValueError(f"the rule {name!r} is registered twice")
        RULES[name] = Rule(name, check, refusal)
        return check

    return decorator


def can(name: str, standing: Membership, review: Review, **target) -> bool:
    """Whether the rule allows this person to do this now (for display)."""
    return bool(RULES[name].check(standing, review, **target))


def require(name: str, standing: Membership, review: Review, **target) -> None:
    """Raise NotAllowed with the rule's message unless it allows this."""
    if not can(name, standing, review, **target):
        raise NotAllowed(RULES[name].refusal())


# Answers: which version each person sees ------------------------------------------------------

class AnswerView(enum.StrEnum):
    """Which version of the answers a person sees."""

    LIVE = "live"            # the State under review's own people and the secretariat: what is typed now
    SUBMITTED = "submitted"  # reviewing States: the submitted snapshot (and, in the dialogue, released revisions)
    NONE = "none"            # nothing yet


def answer_view(standing: Membership, review: Review) -> AnswerView:
    """Which version of the answers a person sees: drafts stay the State's own until submitted."""
    if standing.is_secretariat or standing.is_under_review_side:
        return AnswerView.LIVE
    if standing.reviewing_roles and review.phase.index >= Phase.DESK_REVIEW.index:
        return AnswerView.SUBMITTED
    return AnswerView.NONE


def sees_released_revisions(standing: Membership, review: Review) -> bool:
    """From the dialogue on, reviewers also see the revisions the focal point has released."""
    return answer_view(standing, review) == AnswerView.SUBMITTED and review.phase.index >= Phase.DIALOGUE.index


def _within_assignment(standing: Membership, codes: Iterable[str]) -> bool:
    return not standing.is_contributor_only or bool(standing.assigned_sections.intersection(codes))


@rule("read_answers", lambda: _("The answers become visible to the reviewing States once they are submitted."))
def can_read_answers(standing: Membership, review: Review) -> bool:
    """The State's own people and the secretariat always; reviewing States from the desk review on."""
    return answer_view(standing, review) != AnswerView.NONE


@rule("read_section", lambda: _("This section is not assigned to you."))
def can_read_section(standing: Membership, review: Review, chain: Iterable[str] = (),
                     subtree: Iterable[str] = ()) -> bool:
    """A section page: anyone who reads answers; a contributor only around the sections assigned."""
    return can_read_answers(standing, review) and _within_assignment(standing, [*chain, *subtree])


@rule("read_question", lambda: _("This question is not in a section assigned to you."))
def can_read_question(standing: Membership, review: Review, chain: Iterable[str] = ()) -> bool:
    """One answer: anyone who reads answers; a contributor only in the sections assigned (or inside them)."""
    return can_read_answers(standing, review) and _within_assignment(standing, chain)


@rule("read_history", lambda: _("The history of an answer holds its drafts; only the State under review and "
                                "the secretariat see it."))
def can_read_history(standing: Membership, review: Review, chain: Iterable[str] = ()) -> bool:
    """An answer's history holds drafts: the State's own people (within their sections) and the secretariat."""
    return answer_view(standing, review) == AnswerView.LIVE and can_read_question(standing, review, chain)


@rule("edit_answers", lambda: _("You cannot change the answers of this review now."))
def can_edit_answers(standing: Membership, review: Review) -> bool:
    """The State under review's focal point, experts and contributors, while answering is open."""
    return review.phase in ANSWERING_PHASES and bool(standing.under_review_roles & EDITING_ROLES)


@rule("edit_answer", lambda: _("You cannot change this answer."))
def can_edit_answer(standing: Membership, review: Review, chain: Iterable[str] = ()) -> bool:
    """One answer: as `edit_answers`, and a contributor only in the sections assigned."""
    return can_edit_answers(standing, review) and _within_assignment(standing, chain)


def saves_as_contribution(standing: Membership, review: Review) -> bool:
    """A contributor's answers wait for acceptance by an expert or the focal point."""
    return not standing.under_review_roles & DRAFTING_ROLES


@rule("accept_contribution", lambda: _("Only an expert or the focal point accepts contributions."))
def can_accept_contribution(standing: Membership, review: Review) -> bool:
    """An expert or the focal point of the State under review, while answering is open."""
    return review.phase in ANSWERING_PHASES and bool(standing.under_review_roles & DRAFTING_ROLES)


@rule("submit_answers", lambda: _("Only the focal point of the State under review submits the answers, during "
                                  "the self-assessment."))
def can_submit_answers(standing: Membership, review: Review) -> bool:
    """The focal point of the State under review clears and submits, during the self-assessment."""
    return review.phase == Phase.SELF_ASSESSMENT and standing.is_focal_point_of(review.state_id)


@rule("check_submission", lambda: _("Only the focal point of the State under review checks and submits the "
                                    "answers."))
def can_check_submission(standing: Membership, review: Review) -> bool:
    """The focal point of the State under review sees the submission check page."""
    return standing.is_focal_point_of(review.state_id)


@rule("release_answers", lambda: _("Only the focal point of the State under review releases revised answers, "
                                   "during the dialogue."))
def can_release_answers(standing: Membership, review: Review) -> bool:
    """The focal point of the State under review releases revised answers to the reviewers, in the dialogue."""
    return review.phase == Phase.DIALOGUE and standing.is_focal_point_of(review.state_id)


# The review itself -------------------------------------------------------------------------------

@rule("move_phase", lambda: _("You cannot move this review to that phase."))
def can_move_phase(standing: Membership, review: Review, to: Phase | None = None) -> bool:
    """As the review's table of transitions says (the submission goes through the check page)."""
    return to is not None and to in review.allowed_moves(standing)


@rule("reopen_answers", lambda: _("Only the secretariat reopens submitted answers, during the desk review."))
def can_reopen_answers(standing: Membership, review: Review) -> bool:
    """The move back from the desk review to the self-assessment."""
    return can_move_phase(standing, review, to=Phase.SELF_ASSESSMENT) and review.phase == Phase.DESK_REVIEW


@rule("extend_deadline", lambda: _("Only the secretariat extends a deadline."))
def can_extend_deadline(standing: Membership, review: Review) -> bool:
    """The secretariat (when the current phase has a deadline)."""
    return standing.is_secretariat


@rule("manage_participants", lambda: _("You can only add or remove people of your own State, as its focal point."))
def can_manage_participants(standing: Membership, review: Review, state_id: int | None = None) -> bool:
    """The secretariat for every State of the review; a focal point for their own State."""
    if state_id is None:
        return standing.is_secretariat or any(standing.is_focal_point_of(s) for s in standing.roles)
    return standing.is_secretariat or standing.is_focal_point_of(state_id)


@rule("end_participation", lambda: _("You can only end the participation of people of your own State, as its "
                                     "focal point; only the secretariat replaces a focal point."))
def can_end_participation(standing: Membership, review: Review, state_id: int | None = None,
                          role: Role | None = None) -> bool:
    """Whoever manages a State's people; a focal point's participation only by the secretariat."""
    return can_manage_participants(standing, review, state_id) and (
        role != Role.FOCAL_POINT or can_name_focal_point(standing, review))


@rule("see_contact_details", lambda: _("Only the secretariat sees the participants' e-mail addresses."))
def can_see_contact_details(standing: Membership, review: Review) -> bool:
    """The secretariat sees participants' e-mail addresses."""
    return standing.is_secretariat


@rule("name_focal_point", lambda: _("Only the secretariat names or replaces a focal point."))
def can_name_focal_point(standing: Membership, review: Review) -> bool:
    """Focal points are named by the secretariat."""
    return standing.is_secretariat


@rule("request_redraw", lambda: _("Only the focal point of the State under review or the secretariat can ask for "
                                  "a redraw, before the desk review starts."))
def can_request_redraw(standing: Membership, review: Review) -> bool:
    """The State under review (its focal point) or the secretariat, until the answers are submitted."""
    return (standing.is_secretariat or standing.is_focal_point_of(review.state_id)) \
        and review.phase.index <= Phase.SELF_ASSESSMENT.index


def template_can(name: str, review: Review, **target) -> bool:
    """For templates: whether the signed-in person may do this in this review."""
    _review, standing = review_for(current_user, review.id)
    return can(name, standing, review, **target)


def _is_review_member(user, view_args: dict) -> bool:
    review_for(user, view_args["review_id"])  # 404 for outsiders
    return True


REVIEW_MEMBER = AccessRule("review-member", allows=_is_review_member)
review_member = declare(REVIEW_MEMBER)
