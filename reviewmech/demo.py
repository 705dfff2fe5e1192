"""Demo data for a newcomer: States and one account per kind of user."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from reviewmech.accounts.models import AccountStatus, State, User
from reviewmech.accounts.services import hash_password, load_states
from reviewmech.core.models import utcnow
from reviewmech.extensions import db

DEMO_PEOPLE = (
    # email, name, State code, secretariat, description
    ("secretariat@example.org", "Sam Secretariat", None, True, "secretariat"),
    ("focal.point@example.org", "Fatima Focal", "MEX", False, "person of Mexico"),
    ("expert.fr@example.org", "Étienne Expert", "FRA", False, "person of France"),
    ("expert.ng@example.org", "Ngozi Expert", "NGA", False, "person of Nigeria"),
    ("observer@example.org", "Olga Observer", "MEX", False, "person of Mexico"),
)


def seed_demo() -> list[tuple[str, str]]:
    """Create what is missing of the demo data; never duplicates or overwrites."""
    load_states(update_existing=False)
    db.session.flush()
    states = {state.code: state for state in db.session.scalars(select(State))}
    password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
    accounts = []
    for email, name, code, is_secretariat, description in DEMO_PEOPLE:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            db.session.add(User(
                email=email, name=name, state=states.get(code) if code else None,
                is_secretariat=is_secretariat, status=AccountStatus.ACTIVE,
                password_hash=password_hash, activated_at=utcnow(), approved_at=utcnow(),
                job_title="Demo account", organization="reviewmech demo",
            ))
        accounts.append((email, description))
    return accounts
