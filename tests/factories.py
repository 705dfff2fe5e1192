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
