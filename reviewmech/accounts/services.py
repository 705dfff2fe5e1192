"""Rules for accounts: invitations, activation, approval, sign-in and passwords."""

from __future__ import annotations

import csv
import hashlib
import secrets
import string
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from reviewmech.accounts.models import AccountStatus, Invitation, RegionalGroup, SessionEnd, State, User
from reviewmech.accounts.sessions import end_all_sessions
from reviewmech.config import LANGUAGES
from reviewmech.core import audit
from reviewmech.core.clock import is_time_zone
from reviewmech.core.errors import DomainError
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.notifications.services import queue_email

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


@cache
def _hasher_with(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    return hasher, hasher.hash(secrets.token_hex(16))  # and a hash to verify against when nobody matches


def _password_hasher() -> tuple[PasswordHasher, str]:
    """The argon2 hasher of the configured cost (production defaults are argon2-cffi's own)."""
    config = current_app.config if has_app_context() else {}
    return _hasher_with(config.get("ARGON2_TIME_COST", 3), config.get("ARGON2_MEMORY_KIB", 65536),
                        config.get("ARGON2_PARALLELISM", 4))
# Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.


# Passwords -----------------------------------------------------------------------------------

@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower-cased."""
    text = resources.files("reviewmech.accounts").joinpath("data/common-passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Return what is wrong with a new password, empty when it is acceptable."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(_("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))
    lowered = password.strip().lower()
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        problems.append(_("The password must not be your e-mail address."))
    elif _is_common(lowered):
        problems.append(_("This password is too common or too easy to guess; choose another."))
    return problems


def _is_common(lowered: str) -> bool:
    """Whether a password is a common one, maybe padded with digits or repeated."""
    padding = string.digits + string.punctuation + " "
    candidates = {lowered, lowered.strip(padding), lowered.rstrip(padding), lowered.lstrip(padding)}
    for size in range(1, len(lowered) // 2 + 1):
        if len(lowered) % size == 0 and lowered[:size] * (len(lowered) // size) == lowered:
            candidates.add(lowered[:size])
            break
    return len(set(lowered)) <= 3 or any(c in common_passwords() for c in candidates if c)


def hash_password(password: str) -> str:
    """Hash a password with argon2."""
    return _password_hasher()[0].hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in constant work whether or not the user exists."""
    hasher, dummy_hash = _password_hasher()
    stored = user.password_hash if user is not None and user.password_hash else dummy_hash
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or not user.password_hash:
        return False
    if hasher.check_needs_rehash(user.password_hash):  # the cost changed: keep the hash up to date
        user.password_hash = hasher.hash(password)
    return True


def set_password(user: User, password: str) -> None:
    """Set a new password after checking the policy; signs the person out elsewhere."""
    problems = password_problems(password, user.email)
    if problems:
        raise DomainError(" ".join(problems), field="password")
    user.password_hash = hash_password(password)
    end_all_sessions(user, SessionEnd.PASSWORD_CHANGED)


# E-mail addresses ----------------------------------------------------------------------------

def normalize_email(raw: str) -> str:
    """Return the canonical form of an e-mail address, or raise DomainError."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(_("Enter a valid e-mail address."), field="email") from None
    return result.normalized.lower()


def find_user_by_email(email: str) -> User | None:
    """Return the person with this e-mail address, ignoring case."""
    try:
        email = normalize_email(email)
    except DomainError:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


# Invitations and activation ------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_invitation(user: User, invited_by: User | None) -> str:
    token = secrets.token_urlsafe(32)
    days = current_app.config["INVITATION_DAYS"]
    db.session.add(
        Invitation(
            user=user,
            token_hash=_token_hash(token),
            expires_at=utcnow() + timedelta(days=days),
            invited_by=invited_by,
        )
    )
    link = current_app.config["BASE_URL"] + url_for("accounts.activate", token=token)
    queue_email(user.email, "invitation", user.locale, user=user, link=link, days=days)
    return token


def invite_person(
    *,
    name: str,
    email: str,
    state: State | None,
    invited_by: User | None,
    locale: str = "en",
    is_secretariat: bool = False,
) -> tuple[User, str]:
    """Create an invited account and e-mail its activation link; return the user and token."""
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        raise DomainError(_("A person with this e-mail address already has an account."), field="email")
    if state is None and not is_secretariat:
        raise DomainError(_("Choose the State this person represents."), field="state")
    user = User(
        email=email,
        name=name.strip(),
        state=state,
        locale=locale,
        is_secretariat=is_secretariat,
        status=AccountStatus.INVITED,
    )
    db.session.add(user)
    token = _new_invitation(user, invited_by)
    audit.record("account.invited", user, actor=invited_by, email=email,
                 state=state.code if state else None, secretariat=is_secretariat)
    return user, token


def resend_invitation(user: User, invited_by: User) -> str:
    """Send a fresh activation link to a person who has not activated their account."""
    if user.status != AccountStatus.INVITED:
        raise DomainError(_("This account is already activated."))
    now = utcnow()
    for invitation in db.session.scalars(
        select(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
    ):
        invitation.expires_at = min(invitation.expires_at, now)
    token = _new_invitation(user, invited_by)
    audit.record("account.invitation_resent", user, actor=invited_by)
    return token


def invitation_for_token(token: str) -> Invitation:
    """Return the usable invitation for a token, or raise DomainError saying why not."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))
    if invitation is None:
        raise DomainError(_("This activation link is not valid. Check that you copied the whole link."))
    if invitation.used_at is not None or invitation.user.status != AccountStatus.INVITED:
        raise DomainError(_("This activation link has already been used. You can sign in, or reset your password."))
    if invitation.is_expired:
        raise DomainError(_("This activation link has expired. Ask the secretariat to send you a new one."))
    return invitation


def activate_account(
    invitation: Invitation, *, password: str, name: str, job_title: str, organization: str, locale: str
) -> User:
    """Set the password and profile; the account then waits for the secretariat's approval."""
    user = invitation.user
    set_password(user, password)
    user.name = name.strip()
    user.job_title = job_title.strip()
    user.organization = organization.strip()
    user.locale = locale
    user.status = AccountStatus.PENDING_APPROVAL
    user.activated_at = utcnow()
    invitation.used_at = utcnow()
    audit.record("account.activated", user, actor=user)
    for member in db.session.scalars(
        select(User).where(User.is_secretariat.is_(True), User.status == AccountStatus.ACTIVE)
    ):
        queue_email(member.email, "approval_needed", member.locale, user=user,
                    link=current_app.config["BASE_URL"] + url_for("accounts.person", user_id=user.id))
    return user


def approve_account(user: User, approved_by: User) -> None:
    """Let a person with a completed profile sign in."""
    if user.status != AccountStatus.PENDING_APPROVAL:
        raise DomainError(_("Only a completed profile that waits for approval can be approved."))
    user.status = AccountStatus.ACTIVE
    user.approved_at = utcnow()
    user.approved_by = approved_by
    audit.record("account.approved", user, actor=approved_by)
    queue_email(user.email, "approved", user.locale, user=user,
                link=current_app.config["BASE_URL"] + url_for("accounts.sign_in"))


def deactivate_account(user: User, by: User) -> None:
    """Stop a person from signing in and end their sessions."""
    if user.id == by.id:
        raise DomainError(_("You cannot deactivate your own account."))
    if user.status == AccountStatus.DEACTIVATED:
        raise DomainError(_("This account is already deactivated."))
    user.status = AccountStatus.DEACTIVATED
    user.deactivated_at = utcnow()
    end_all_sessions(user, SessionEnd.DEACTIVATED)
    audit.record("account.deactivated", user, actor=by)


def reactivate_account(user: User, by: User) -> None:
    """Let a deactivated person sign in again."""
    if user.status != AccountStatus.DEACTIVATED:
        raise DomainError(_("Only a deactivated account can be reactivated."))
    user.status = AccountStatus.ACTIVE if user.password_hash else AccountStatus.INVITED
    user.deactivated_at = None
    audit.record("account.reactivated", user, actor=by)


def grant_secretariat_role(user: User, by: User) -> None:
    """Make a person a member of the secretariat."""
    if user.is_secretariat:
        raise DomainError(_("This person is already a member of the secretariat."))
    user.is_secretariat = True
    audit.record("account.role_changed", user, actor=by, secretariat=True)


def withdraw_secretariat_role(user: User, by: User) -> None:
    """Withdraw a person's secretariat role; they keep their account."""
    if user.id == by.id:
        raise DomainError(_("You cannot withdraw your own secretariat role."))
    if not user.is_secretariat:
        raise DomainError(_("This person is not a member of the secretariat."))
    user.is_secretariat = False
    audit.record("account.role_changed", user, actor=by, secretariat=False)


# Signing in ----------------------------------------------------------------------------------

def authenticate(email: str, password: str) -> User:
    """Return the person these credentials belong to, or raise DomainError; audits both."""
    user = find_user_by_email(email)
    if not verify_password(user, password):
        audit.record("sign_in.failed", user, actor=None, email=email[:254])
        raise DomainError(_("The e-mail address or password is not correct."))
    if user.status == AccountStatus.PENDING_APPROVAL:
        audit.record("sign_in.refused", user, actor=user, reason="pending_approval")
        raise DomainError(_(
            "Your profile is waiting for approval by the secretariat. You will receive an e-mail when it is approved."
        ))
    if user.status == AccountStatus.DEACTIVATED:
        audit.record("sign_in.refused", user, actor=user, reason="deactivated")
        raise DomainError(_("This account has been deactivated. Please contact the secretariat."))
    user.last_sign_in_at = utcnow()
    audit.record("sign_in.succeeded", user, actor=user)
    return user


def remember_browser_time_zone(user: User, zone: str | None) -> bool:
    """Take the browser's time zone as the person's when they have none yet; True when it was taken."""
    if user.timezone is not None or not is_time_zone(zone):
        return False
    user.timezone = zone
    return True


# Preferences ---------------------------------------------------------------------------------

def update_preferences(user: User, *, locale: str, timezone: str) -> None:
    """Change a person's language and time zone; refuse a language or zone we do not have."""
    if locale not in LANGUAGES:
        raise DomainError(_("Choose one of the languages offered."), field="locale")
    if not is_time_zone(timezone):
        raise DomainError(_("Choose a time zone from the list, such as Europe/Paris or America/Mexico_City."),
                          field="timezone")
    before = {"locale": user.locale, "timezone": user.timezone}
    if before == {"locale": locale, "timezone": timezone}:
        return
    user.locale = locale
    user.timezone = timezone
    audit.record("account.preferences_changed", user, actor=user, before=before, locale=locale, timezone=timezone)


# Password reset ------------------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:20]


def request_password_reset(email: str) -> None:
    """E-mail a reset link to an active account; says nothing about whether it exists."""
    user = find_user_by_email(email)
    if user is None or user.status != AccountStatus.ACTIVE:
        return
    token = _reset_serializer().dumps({"u": user.id, "f": _password_fingerprint(user)})
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    link = current_app.config["BASE_URL"] + url_for("accounts.reset_password", token=token)
    queue_email(user.email, "password_reset", user.locale, user=user, link=link, hours=hours)
    audit.record("password.reset_requested", user, actor=None)


def user_for_reset_token(token: str) -> User:
    """Return the person a reset link was made for, or raise DomainError saying why not."""
    max_age = current_app.config["PASSWORD_RESET_HOURS"] * 3600
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise DomainError(_("This password reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise DomainError(_("This password reset link is not valid. Check that you copied the whole link.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.status != AccountStatus.ACTIVE:
        raise DomainError(_("This password reset link is not valid. Check that you copied the whole link."))
    if data.get("f") != _password_fingerprint(user):
        raise DomainError(_("This password reset link has already been used. Ask for a new one if needed."))
    return user


def reset_password(user: User, password: str) -> None:
    """Set a new password from a reset link."""
    set_password(user, password)
    audit.record("password.reset", user, actor=user)


# States --------------------------------------------------------------------------------------

DEFAULT_STATES_FILE = Path(__file__).parent / "data" / "un_member_states.csv"


def load_states(path: Path = DEFAULT_STATES_FILE, *, update_existing: bool = True) -> tuple[int, int]:
    """Create (and unless told otherwise update) States from a CSV file; return the counts."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    existing = {state.code: state for state in db.session.scalars(select(State))}
    created = updated = 0
    for line, row in enumerate(rows, start=2):
        try:
            values = {
                "name_en": row["name_en"].strip(),
                "name_fr": row["name_fr"].strip(),
                "name_es": row["name_es"].strip(),
                "regional_group": RegionalGroup(row["regional_group"].strip()),
                "is_tip_protocol_party": row.get("tip_protocol_party", "0").strip() == "1",
            }
            code = row["code"].strip().upper()
        except (KeyError, ValueError, AttributeError) as error:
            raise DomainError(f"{path.name}, line {line}: {error}") from None
        if len(code) != 3 or not code.isalpha() or not all(values[k] for k in ("name_en", "name_fr", "name_es")):
            raise DomainError(f"{path.name}, line {line}: a code of three letters and three names are required")
        state = existing.get(code)
        if state is None:
            db.session.add(State(code=code, **values))
            created += 1
        elif update_existing and any(getattr(state, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(state, key, value)
            updated += 1
    return created, updated
