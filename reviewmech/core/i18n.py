"""The interface language: chosen by the person, remembered, with English as the fallback."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_login import current_user

from reviewmech.config import LANGUAGES


def select_locale() -> str:
    """Return the language of this request: the one chosen in this session, the account's, the browser's.

    A language chosen on the sign-in page stays after sign-in (and is offered to be saved in the profile).
    """
    if not has_request_context():  # commands: English
        return "en"
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def localized(texts: dict | None, locale: str, fallback: str = "en") -> tuple[str, bool]:
    """Return a text in the wanted language and whether it fell back to another one."""
    if not texts:
        return "", False
    if texts.get(locale):
        return texts[locale], False
    return texts.get(fallback, ""), True
