"""Forms posted after the session ended are kept through sign-in, then handed to their view again.

A view declares it with `@keeps_form_across_sign_in`. When such a view receives a POST from a browser
whose sign-in session has ended, the form is stored (`KeptForm`, at most `KEPT_FORM_HOURS`), tied to
the browser by a random key in its cookie and to the person whose session it was; the person is sent
to sign in, told that their entries are kept. Once the same person has signed in again in the same
browser, the next GET of the page hands the stored form to the view as if it had just been posted
(with a fresh CSRF token). Only a form whose CSRF token was valid for the ended session is kept, so a
page elsewhere cannot plant values, and a form is never replayed into another person's account.
Uploaded files are not kept.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login.utils import make_next_param
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from sqlalchemy import delete, select
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import ValidationError

from reviewmech.accounts.models import KeptForm
from reviewmech.accounts.sessions import key_hash, session_of_browser
from reviewmech.core.models import utcnow
from reviewmech.extensions import db, login_manager

COOKIE_KEY = "kept_form"


def keeps_form_across_sign_in(view):
    """Declare that a view's POST is kept when the session has ended, and replayed after sign-in."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method == "GET" and COOKIE_KEY in session:
            kept = _take_kept_form()
            if kept is not None:
                _replay(kept)
        return view(*args, **kwargs)

    wrapper.keeps_form_across_sign_in = True
    return wrapper


def _view_keeps_forms() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "keeps_form_across_sign_in", False))


def _csrf_is_valid() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    try:
        validate_csrf(request.form.get(field))
    except (ValidationError, CSRFError):
        return False
    return True


def send_to_sign_in():
    """Flask-Login's answer to a signed-out person: keep the form where the view asks for it, then go to sign in."""
    kept = keep_posted_form()
    if kept is not None:
        return kept
    flash(str(login_manager.login_message), login_manager.login_message_category)
    return redirect(_sign_in_url())


def _sign_in_url() -> str:
    login_url = url_for(login_manager.login_view)
    return url_for(login_manager.login_view, next=make_next_param(login_url, request.url))


def keep_posted_form():
    """Keep this signed-out POST when its view asks for it and its person is known; return a redirect or None."""
    if request.method != "POST" or not _view_keeps_forms():
        return None
    ended = session_of_browser()
    if ended is None or not _csrf_is_valid():
        return None
    now = utcnow()
    db.session.execute(delete(KeptForm).where(KeptForm.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.session.add(KeptForm(
        key_hash=key_hash(key), user_id=ended.user_id, endpoint=request.endpoint, path=request.path,
        fields=[[name, value] for name, value in request.form.items(multi=True)], created_at=now,
        expires_at=now + timedelta(hours=current_app.config["KEPT_FORM_HOURS"]),
    ))
    db.session.commit()
    session[COOKIE_KEY] = key
    flash(_("Your session had ended, so nothing was saved yet. Your entries are kept: sign in again and they "
            "will be saved."), "info")
    return redirect(_sign_in_url())


def _take_kept_form() -> KeptForm | None:
    """The form kept in this browser for this page and the signed-in person; its removal commits with the view."""
    kept = db.session.scalar(select(KeptForm).where(KeptForm.key_hash == key_hash(session[COOKIE_KEY])))
    if kept is None or kept.user_id != current_user.id or kept.is_expired:
        session.pop(COOKIE_KEY)  # never another person's entries; an expired row is removed later
        return None
    if (kept.endpoint, kept.path) != (request.endpoint, request.path):
        return None  # kept for another page: wait until the person goes there
    session.pop(COOKIE_KEY)
    db.session.delete(kept)
    return kept


def _replay(kept: KeptForm) -> None:
    """Make the current GET look like the POST that was kept, with a CSRF token of the new session."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    pairs = [(name, value) for name, value in kept.fields if name != field]
    pairs.append((field, generate_csrf()))
    request.method = "POST"
    request.form = ImmutableMultiDict(pairs)
    request.files = ImmutableMultiDict()
    flash(_("You are signed in again; the entries you sent before have now been sent."), "info")
