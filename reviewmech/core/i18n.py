"""The interface language: chosen by the person, remembered, with English as the fallback."""

from __future__ import annotations

from flask import g, has_request_context, request, session

from reviewmech.config import LANGUAGES


def select_locale() -> str:
    """Return the language of this request: the one of this session, the account's, the browser's.

    The session holds the language chosen on the sign-in page (it stays after sign-in and is offered to be
    saved in the profile) or, once signed in, the account's: an error page can choose its language while
    the database is down. The account is asked only when this request has already loaded it.
    """
    if not has_request_context():  # commands: English
        return "en"
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    user = g.get("_login_user")
    if user is not None and user.is_authenticated and user.locale in LANGUAGES:
        return user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def localized(texts: dict | None, locale: str, fallback: str = "en") -> tuple[str, bool]:
    """Return a text in the wanted language and whether it fell back to another one."""
    if not texts:
        return "", False
    if texts.get(locale):
        return texts[locale], False
    return texts.get(fallback, ""), True
