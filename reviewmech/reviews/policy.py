"""Who sees and does what in a review: one policy, used by every page of a review."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, g
from sqlalchemy import select

from reviewmech.core.permissions import AccessRule, declare
from reviewmech.extensions import db
from reviewmech.reviews.models import Participant, Phase, Review, Role, StateRole

EDITING_ROLES = {Role.FOCAL_POINT, Role.EXPERT, Role.CONTRIBUTOR}


@dataclass(frozen=True)
class Membership:
    """A person's standing in one review: secretariat, and their roles per State."""

    is_secretariat: bool = False
    user_id: int | None = None
    roles: dict[int, frozenset[Role]] = field(default_factory=dict)
    under_review_state_id: int | None = None
    reviewing_state_ids: frozenset[int] = frozenset()

    def roles_for(self, state_id: int) -> frozenset[Role]:
        """The person's active roles for a State in this review."""
        return self.roles.get(state_id, frozenset())

    @property
    def is_member(self) -> bool:
        """Whether the review exists for this person at all."""
        return self.is_secretariat or bool(self.roles)

    @property
    def is_under_review_side(self) -> bool:
        """Whether the person takes part for the State under review."""
        return bool(self.roles_for(self.under_review_state_id))

    @property
    def reviewing_roles(self) -> frozenset[Role]:
        """The person's roles for the reviewing States."""
        return frozenset(r for state_id in self.reviewing_state_ids for r in self.roles_for(state_id))


def membership(user, review: Review) -> Membership:
    """Work out a person's standing in a review (one query)."""
    rows = db.session.scalars(
        select(Participant).where(Participant.review_id == review.id, Participant.user_id == user.id,
                                  Participant.ended_at.is_(None))
    ).all()
    roles: dict[int, set[Role]] = {}
    for row in rows:
        roles.setdefault(row.state_id, set()).add(row.role)
    return Membership(
        is_secretariat=bool(getattr(user, "is_secretariat", False)),
        user_id=user.id,
        roles={state_id: frozenset(r) for state_id, r in roles.items()},
        under_review_state_id=review.state_id,
        reviewing_state_ids=frozenset(s.state_id for s in review.states if s.role == StateRole.REVIEWING),
    )


def review_for(user, review_id: int) -> tuple[Review, Membership]:
    """Load a review for a person; 404 for anyone outside it, never a hint that it exists."""
    review = db.session.get(Review, review_id)
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


def can_see_draft_answers(standing: Membership) -> bool:
    """Draft answers are the State's own: its people and the secretariat."""
    return standing.is_secretariat or standing.is_under_review_side


def can_see_answers(standing: Membership, review: Review) -> bool:
    """Reviewing States see the answers once they are submitted."""
    return can_see_draft_answers(standing) or (
        bool(standing.reviewing_roles) and review.phase.index >= Phase.DESK_REVIEW.index)


def can_edit_answers(standing: Membership, review: Review) -> bool:
    """The State under review's focal point, experts and contributors, while answering is open."""
    open_phases = {Phase.SELF_ASSESSMENT, Phase.DIALOGUE}
    return review.phase in open_phases and bool(standing.roles_for(standing.under_review_state_id) & EDITING_ROLES)


def can_manage_participants(standing: Membership, state_id: int) -> bool:
    """The secretariat for every State; a focal point for their own State."""
    return standing.is_secretariat or Role.FOCAL_POINT in standing.roles_for(state_id)


def can_request_redraw(standing: Membership) -> bool:
    """The State under review (its focal point) or the secretariat may ask for another reviewer."""
    return standing.is_secretariat or Role.FOCAL_POINT in standing.roles_for(standing.under_review_state_id)


def _is_review_member(user, view_args: dict) -> bool:
    review_for(user, view_args["review_id"])  # 404 for outsiders
    return True


REVIEW_MEMBER = AccessRule("review-member", allows=_is_review_member)
review_member = declare(REVIEW_MEMBER)
