"""Factory functions with defaults: each makes a valid object and flushes it."""

from __future__ import annotations

import itertools
from functools import cache

from sqlalchemy import select

from reviewmech.accounts.models import AccountStatus, State, User
from reviewmech.accounts.services import hash_password
from reviewmech.core.models import utcnow
from reviewmech.extensions import db

DEFAULT_PASSWORD = "a sufficiently long test passphrase"
_sequence = itertools.count(1)


@cache
def _default_password_hash() -> str:
    return hash_password(DEFAULT_PASSWORD)


def get_state(code: str = "FRA") -> State:
    """Return a loaded State by its code."""
    return db.session.scalar(select(State).where(State.code == code))


_DEFAULT = object()


def make_user(*, state=_DEFAULT, status=AccountStatus.ACTIVE, commit=True, **overrides) -> User:
    """Make a person; active, approved and of France unless told otherwise."""
    number = next(_sequence)
    values = {
        "email": f"person{number}@example.org",
        "name": f"Person {number}",
        "job_title": "Legal adviser",
        "organization": "Ministry of Justice",
        "password_hash": _default_password_hash(),
        "activated_at": utcnow(),
        "approved_at": utcnow() if status == AccountStatus.ACTIVE else None,
    }
    values.update(overrides)
    user = User(state=get_state() if state is _DEFAULT else state, status=status, **values)
    db.session.add(user)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return user


@cache
def _questionnaire_spec(slug: str):
    from pathlib import Path

    from reviewmech.questionnaires.schema import read_questionnaire

    return read_questionnaire(Path(__file__).resolve().parent.parent / "questionnaires" / f"{slug}.yaml")


def make_questionnaire(slug: str = "tip-protocol-resolution"):
    """Store the real questionnaire file as a version (parsed once per run)."""
    from reviewmech.questionnaires.services import store

    questionnaire, _new = store(_questionnaire_spec(slug))
    db.session.flush()
    return questionnaire


def make_review(state_code: str = "MEX", *, cycle: int = 2026, questionnaire=None, reviewers=("GTM", "FRA"),
                focal_point: bool = True):
    """Open a review with two reviewing States (same group, other group) and a focal point per State."""
    from reviewmech.reviews.models import ReviewState, Role, Slot, StateRole
    from reviewmech.reviews.policy import Membership
    from reviewmech.reviews.services import add_participant, open_review

    questionnaire = questionnaire or make_questionnaire()
    review = open_review(state=get_state(state_code), questionnaire=questionnaire, cycle=cycle, by=None)
    for slot, code in zip((Slot.SAME_GROUP, Slot.OTHER_GROUP), reviewers, strict=True):
        review.states.append(ReviewState(state=get_state(code), role=StateRole.REVIEWING, slot=slot))
    db.session.flush()
    if focal_point:
        for review_state in review.states:
            user = make_user(state=review_state.state, commit=False)
            add_participant(review, state=review_state.state, role=Role.FOCAL_POINT, by=None,
                            standing=Membership(is_secretariat=True), email=user.email)
    db.session.commit()
    return review


def participant(review, role, state_code=None, **overrides):
    """Make a person of a State and add them to a review in a role."""
    from reviewmech.reviews.models import Participant, Role

    state = get_state(state_code or review.state.code)
    user = make_user(state=state, commit=False, **overrides)
    db.session.add(Participant(review=review, user=user, state=state, role=Role(role)))
    db.session.commit()
    return user
