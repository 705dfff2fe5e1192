"""Sign-in sessions kept on the server.

Signing in creates a `SignInSession` row; the Flask session cookie carries its random key (the
database keeps only the key's SHA-256). Every request's user loader checks the row: a session
that was ended (sign-out, password change, deactivation), that has been idle longer than
`SESSION_IDLE_SECONDS`, or that is older than `SESSION_MAX_SECONDS` no longer signs anyone in,
whatever the cookie says. Activity extends the idle timeout; "last seen" is written at most once
a minute, not on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from reviewmech.accounts.models import SessionEnd, SignInSession, User
from reviewmech.core.models import utcnow
from reviewmech.extensions import db

COOKIE_KEY = "sign_in"  # the entry of the Flask session that holds the sign-in session's key
TOUCH_INTERVAL = timedelta(seconds=60)
KEPT_ROWS = timedelta(days=30)  # ended sessions are kept this long, then removed at the person's next sign-in


def key_hash(key: str) -> str:
    """The SHA-256 of a secret key, as stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(user: User) -> SignInSession:
    """Sign `user` in with a new server-side session in this browser (the caller commits)."""
    now = utcnow()
    db.session.execute(delete(SignInSession).where(SignInSession.user_id == user.id,
                                                   SignInSession.created_at < now - KEPT_ROWS))
    key = secrets.token_urlsafe(32)
    row = SignInSession(key_hash=key_hash(key), user=user, created_at=now, last_seen_at=now,
                        ip_address=request.remote_addr, user_agent=(request.user_agent.string or "")[:200])
    db.session.add(row)
    session[COOKIE_KEY] = key
    login_user(user)
    return row


def end_current_session(reason: SessionEnd = SessionEnd.SIGNED_OUT) -> None:
    """End this browser's sign-in session on the server and sign out (the caller commits)."""
    row = session_of_browser()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason
    logout_user()


def end_all_sessions(user: User, reason: SessionEnd) -> None:
    """End every open sign-in session of a person, in every browser (the caller commits)."""
    if user.id is None:
        return
    db.session.execute(update(SignInSession)
                       .where(SignInSession.user_id == user.id, SignInSession.ended_at.is_(None))
                       .values(ended_at=utcnow(), end_reason=reason))


def session_of_browser() -> SignInSession | None:
    """Return the browser's sign-in session according to its cookie, open or ended, or None."""
    key = session.get(COOKIE_KEY)
    if not isinstance(key, str) or not key:
        return None
    return db.session.scalar(select(SignInSession).options(joinedload(SignInSession.user))
                             .where(SignInSession.key_hash == key_hash(key)))


def load_signed_in_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the person of this browser's sign-in session, while that session is open."""
    row = session_of_browser()
    if row is None or str(row.user_id) != user_id:
        return None
    now = utcnow()
    reason = None
    if row.ended_at is not None:
        return None
    if not row.user.is_active:
        reason = SessionEnd.DEACTIVATED
    elif now - row.created_at >= timedelta(seconds=current_app.config["SESSION_MAX_SECONDS"]):
        reason = SessionEnd.EXPIRED
    elif now - row.last_seen_at >= timedelta(seconds=current_app.config["SESSION_IDLE_SECONDS"]):
        reason = SessionEnd.IDLE
    if reason is not None:
        _write_quietly(update(SignInSession).where(SignInSession.id == row.id, SignInSession.ended_at.is_(None))
                       .values(ended_at=now, end_reason=reason))
        return None
    g.sign_in_session_key = row.key_hash
    user = row.user
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        _write_quietly(update(SignInSession).where(SignInSession.id == row.id).values(last_seen_at=now))
    return user


def _write_quietly(statement) -> None:
    """Run a bookkeeping write in a short transaction of its own, unless the request is in the middle of one.

    It is not a change the person made, so it does not count as "this request saved something"; on SQLite
    a busy database skips it (the next request writes it).
    """
    if db.session.new or db.session.dirty or db.session.deleted or db.session.info.get("has_unsaved_writes"):
        return
    g.quiet_commit = True
    try:
        db.session.commit()  # end the reading transaction: the write starts a fresh one (SQLite takes its lock first)
        db.session.execute(statement)
        db.session.commit()
    except OperationalError:
        db.session.rollback()
    finally:
        g.pop("quiet_commit", None)


def current_session_key() -> str | None:
    """An opaque, stable identifier of the current sign-in session (not its secret key); None when signed out.

    Two browsers of the same person have different keys; requests of one browser share one until it signs out.
    """
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return g.get("sign_in_session_key")
