"""States, people and their invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewmech.core.audit import register_action_labels
from reviewmech.core.models import JSONValue, utcnow
from reviewmech.extensions import db


class RegionalGroup(enum.StrEnum):
    """The five UN regional groups."""

    AFRICAN = "african"
    ASIA_PACIFIC = "asia_pacific"
    EASTERN_EUROPEAN = "eastern_european"
    LATIN_AMERICAN_CARIBBEAN = "latin_american_caribbean"
    WESTERN_EUROPEAN_OTHER = "western_european_other"


class State(db.Model):
    """A UN Member State, with its names per language and its regional group."""

    __tablename__ = "states"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    name_es: Mapped[str] = mapped_column(String(200))
    regional_group: Mapped[RegionalGroup] = mapped_column(
        Enum(RegionalGroup, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e])
    )
    is_tip_protocol_party: Mapped[bool] = mapped_column(Boolean, default=False)

    def name(self, locale: str | None = None) -> str:
        """Return the State's name in the given language, English when unknown."""
        return getattr(self, f"name_{locale}", None) or self.name_en

    def __repr__(self) -> str:
        return f"<State {self.code}>"


class AccountStatus(enum.StrEnum):
    """Where an account stands in the invite → activate → approve flow."""

    INVITED = "invited"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class User(db.Model):
    """A person who uses the platform; roles in reviews live on the review, not here."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA name; None until the browser tells us
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_secretariat: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=AccountStatus.INVITED,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deactivated_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]

    state: Mapped[State | None] = relationship(lazy="joined")
    approved_by: Mapped[User | None] = relationship(remote_side=[id])

    # Flask-Login
    @property
    def is_authenticated(self) -> bool:
        """Every loaded user is authenticated; the loader refuses inactive ones."""
        return True

    @property
    def is_active(self) -> bool:
        """Only approved, not deactivated accounts may sign in."""
        return self.status == AccountStatus.ACTIVE

    @property
    def is_anonymous(self) -> bool:
        """A User row is never anonymous."""
        return False

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the cookie; the sign-in session decides whether it still counts."""
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class SessionEnd(enum.StrEnum):
    """Why a sign-in session ended."""

    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    EXPIRED = "expired"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    DEACTIVATED = "deactivated"


class SignInSession(db.Model):
    """One sign-in of a person in one browser; the cookie carries its key, the database only the key's hash."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[SessionEnd | None] = mapped_column(
        Enum(SessionEnd, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<SignInSession {self.id} of user {self.user_id}>"


class KeptForm(db.Model):
    """A form posted after its sender's session ended, kept until they sign in again (at most a day)."""

    __tablename__ = "kept_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(2000))
    fields: Mapped[list] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    @property
    def is_expired(self) -> bool:
        """Whether the form is older than it may be kept."""
        return utcnow() >= self.expires_at


class Invitation(db.Model):
    """An activation link sent to a person; only the token's hash is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_expired(self) -> bool:
        """Whether the link's validity has run out."""
        return utcnow() >= self.expires_at


register_action_labels({
    "account.invited": _l("invited a person"),
    "account.activated": _l("completed their profile"),
    "account.approved": _l("approved a profile"),
    "account.deactivated": _l("deactivated an account"),
    "account.reactivated": _l("reactivated an account"),
    "account.role_changed": _l("changed a secretariat role"),
})


from reviewmech.accounts import history  # noqa: E402,F401 - registers how the audit log tells its events
