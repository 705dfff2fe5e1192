"""How the audit log tells the accounts' events: sentences, and the people and States they name."""

from __future__ import annotations

from flask import g, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from reviewmech.accounts.models import State, User
from reviewmech.config import LANGUAGE_NAMES
from reviewmech.core.audit import register_action_labels, register_action_sentences, register_object_kind
from reviewmech.extensions import db


def _locale() -> str:
    return str(get_locale() or "en")


def _by_id(model, ids: list[str]) -> dict[str, object]:
    numbers = [int(i) for i in ids if i.isdigit()]
    return {str(obj.id): obj for obj in db.session.scalars(select(model).where(model.id.in_(numbers)))}


def state_name(code: str | None) -> str:
    """A State's name in the reader's language from its code (all States read once per request)."""
    if "state_names" not in g:
        g.state_names = {state.code: state for state in db.session.scalars(select(State))}
    state = g.state_names.get(code or "")
    return state.name(_locale()) if state is not None else (code or "—")


def _role_changed(event):
    if (event.details or {}).get("secretariat"):
        return _l("%(actor)s made %(object)s a member of the secretariat.")
    return _l("%(actor)s withdrew the secretariat role of %(object)s.")


def _sign_in_refused(event):
    if (event.details or {}).get("reason") == "deactivated":
        return _l("%(object)s could not sign in: the account is deactivated.")
    return _l("%(object)s could not sign in: the profile waits for approval.")


def _preferences_changed(event):
    details = event.details or {}
    return (_l("%(actor)s set their language to %(language)s and their time zone to %(timezone)s."),
            {"language": LANGUAGE_NAMES.get(details.get("locale"), details.get("locale", "—"))})


register_object_kind("User", load=lambda ids: _by_id(User, ids), name=lambda user: user.name,
                     link=lambda user: url_for("accounts.person", user_id=user.id))
register_object_kind("State", load=lambda ids: _by_id(State, ids), name=lambda state: state.name(_locale()),
                     link=lambda state: url_for("accounts.edit_state", code=state.code))

register_action_labels({
    "account.invitation_resent": _l("sent a new activation link"),
    "account.created_by_command": _l("created an account with the command"),
    "account.preferences_changed": _l("changed their preferences"),
    "sign_in.succeeded": _l("signed in"),
    "sign_in.failed": _l("failed to sign in"),
    "sign_in.refused": _l("was refused sign-in"),
    "sign_in.rate_limited": _l("was blocked after too many failed sign-ins"),
    "sign_out": _l("signed out"),
    "password.reset_requested": _l("asked for a password reset"),
    "password.reset": _l("chose a new password"),
    "state.edited": _l("edited a State"),
})

register_action_sentences({
    "account.invited": _l("%(actor)s invited %(object)s (%(email)s)."),
    "account.invitation_resent": _l("%(actor)s sent a new activation link to %(object)s."),
    "account.activated": _l("%(object)s completed their profile, which then waited for approval."),
    "account.approved": _l("%(actor)s approved the profile of %(object)s."),
    "account.deactivated": _l("%(actor)s deactivated the account of %(object)s."),
    "account.reactivated": _l("%(actor)s reactivated the account of %(object)s."),
    "account.role_changed": _role_changed,
    "account.created_by_command": _l("The account of %(object)s was created with the reviewmech command."),
    "account.preferences_changed": _preferences_changed,
    "sign_in.succeeded": _l("%(object)s signed in."),
    "sign_in.failed": _l("Someone tried to sign in as %(email)s with a wrong e-mail address or password."),
    "sign_in.refused": _sign_in_refused,
    "sign_in.rate_limited": _l("Sign-ins as %(email)s were blocked for a while after too many failed attempts."),
    "sign_out": _l("%(actor)s signed out."),
    "password.reset_requested": _l("A link to choose a new password was sent to %(object)s."),
    "password.reset": _l("%(object)s chose a new password."),
    "state.edited": _l("%(actor)s edited the names or regional group of %(object)s."),
})
