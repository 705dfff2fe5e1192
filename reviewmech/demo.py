"""Demo data for a newcomer: States, the questionnaire's reviews in every phase, and their people."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from reviewmech.accounts.models import AccountStatus, State, User
from reviewmech.accounts.services import hash_password, load_states
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.questionnaires.services import latest_version
from reviewmech.reviews.models import PHASE_LABELS, ROLE_LABELS, Participant, Phase, Review, Role
from reviewmech.reviews.policy import Membership
from reviewmech.reviews.services import add_participant, draw_reviewers, move_review, open_review, today_utc

DEMO_PEOPLE = (
    # email, name, State code, secretariat, description
    ("secretariat@example.org", "Sam Secretariat", None, True, "secretariat"),
    ("focal.point@example.org", "Fatima Focal", "MEX", False, "focal point of Mexico (under review)"),
    ("expert.fr@example.org", "Étienne Expert", "FRA", False, "expert of France (under review)"),
    ("expert.ng@example.org", "Ngozi Expert", "NGA", False, "expert of Nigeria (under review)"),
    ("observer@example.org", "Olga Observer", "MEX", False, "observer for Mexico"),
)
DEMO_QUESTIONNAIRE = "tip-protocol-resolution"
DEMO_CYCLE = 2026
DEMO_SEED = 20261128
# One review in each phase.
DEMO_REVIEWS = (("MEX", Phase.SELF_ASSESSMENT), ("NGA", Phase.DESK_REVIEW), ("FRA", Phase.DIALOGUE),
                ("PHL", Phase.OBSERVATIONS), ("ARG", Phase.FINAL), ("KEN", Phase.PREPARATION))


def _person(email: str, name: str, state: State | None, password_hash: str, is_secretariat=False) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, state=state, is_secretariat=is_secretariat, status=AccountStatus.ACTIVE,
                    password_hash=password_hash, activated_at=utcnow(), approved_at=utcnow(),
                    job_title="Demo account", organization="reviewmech demo")
        db.session.add(user)
        db.session.flush()
    return user


def seed_demo() -> list[tuple[str, str]]:
    """Create what is missing of the demo data; never duplicates or overwrites."""
    load_states(update_existing=False)
    db.session.flush()
    states = {state.code: state for state in db.session.scalars(select(State))}
    password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
    people = {}
    for email, name, code, is_secretariat, _description in DEMO_PEOPLE:
        people[email] = _person(email, name, states.get(code) if code else None, password_hash, is_secretariat)
    questionnaire = latest_version(DEMO_QUESTIONNAIRE)
    if questionnaire is not None and not db.session.scalar(select(Review).where(Review.cycle == DEMO_CYCLE).limit(1)):
        _seed_reviews(questionnaire, states, people, password_hash)
        db.session.flush()
    return describe_accounts()


def describe_accounts() -> list[tuple[str, str]]:
    """Each demo account with its State, and its role in each review with the review's phase (in English)."""
    demo_emails = [email for email, *_rest in DEMO_PEOPLE]
    users = db.session.scalars(
        select(User).where(or_(User.email.in_(demo_emails), User.email.like("fp.%@example.org")))
        .options(selectinload(User.state))
    ).all()
    users.sort(key=lambda user: (demo_emails.index(user.email) if user.email in demo_emails else len(demo_emails),
                                 user.email))
    parts = db.session.scalars(
        select(Participant).where(Participant.user_id.in_([user.id for user in users]), Participant.ended_at.is_(None))
        .options(selectinload(Participant.review).selectinload(Review.state)).order_by(Participant.review_id)
    ).all()
    roles: dict[int, list[str]] = {}
    for part in parts:
        review = part.review
        side = "" if part.state_id == review.state_id else ", as reviewing State"
        roles.setdefault(part.user_id, []).append(
            f"{str(ROLE_LABELS[part.role]).lower()} in the review of {review.state.name_en} {review.cycle} "
            f"({PHASE_LABELS[review.phase]}{side})")
    lines = []
    for user in users:
        who = "secretariat, every review" if user.is_secretariat else (user.state.name_en if user.state else "—")
        lines.append((user.email, f"{who}: " + "; ".join(roles[user.id]) if user.id in roles else who))
    return lines


def _seed_reviews(questionnaire, states, people, password_hash) -> None:
    secretariat = people["secretariat@example.org"]
    as_secretariat = Membership(is_secretariat=True)
    reviews = [open_review(state=states[code], questionnaire=questionnaire, cycle=DEMO_CYCLE, by=secretariat)
               for code, _phase in DEMO_REVIEWS]
    db.session.flush()
    draw_reviewers(cycle=DEMO_CYCLE, instrument="tip-protocol", by=secretariat, seed=DEMO_SEED)
    focal_points = {"MEX": people["focal.point@example.org"]}

    def focal_point(code):
        if code not in focal_points:
            email = f"fp.{code.lower()}@example.org"
            focal_points[code] = _person(email, f"Focal point of {states[code].name_en}", states[code], password_hash)
        return focal_points[code]

    experts = {"FRA": people["expert.fr@example.org"], "NGA": people["expert.ng@example.org"]}
    for review, (code, target) in zip(reviews, DEMO_REVIEWS, strict=True):
        for review_state in review.states:
            state = review_state.state
            add_participant(review, state=state, role=Role.FOCAL_POINT, by=secretariat, standing=as_secretariat,
                            email=focal_point(state.code).email)
            if state.code in experts:
                add_participant(review, state=state, role=Role.EXPERT, by=secretariat, standing=as_secretariat,
                                email=experts[state.code].email)
        if code == "MEX":
            add_participant(review, state=states["MEX"], role=Role.OBSERVER, by=secretariat,
                            standing=as_secretariat, email=people["observer@example.org"].email)
        db.session.flush()
        for phase in list(Phase)[1:target.index + 1]:
            actor, standing = secretariat, as_secretariat
            if phase == Phase.DESK_REVIEW:
                actor = focal_points[code]
                standing = Membership(roles={review.state_id: frozenset({Role.FOCAL_POINT})},
                                      under_review_state_id=review.state_id)
            move_review(review, phase, by=actor, standing=standing, today=today_utc())
