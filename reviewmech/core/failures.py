"""Error pages and JSON errors: they render without the database and say truthfully whether anything was saved."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from reviewmech.core.database import is_sqlite_busy, request_saved
from reviewmech.core.errors import NotAllowed
from reviewmech.core.http import body_limit_message
from reviewmech.extensions import db, login_manager

MESSAGES = {
    400: _l("The request could not be read. Go back, reload the page and try again."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist, or you do not have access to it."),
    405: _l("This address does not accept this kind of request."),
    410: _l("This link is no longer valid."),
    413: _l("The file or form you sent is too large."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Nothing you typed was saved by this request; please try again."),
    503: _l("The database is not answering at the moment, so nothing was saved by this request. "
            "Please try again in a few minutes."),
}
SAVED_BUT_NOT_SHOWN = _l("Your change was saved, but the page could not be shown. Reload the page to see it.")
BUSY = _l("Too many people are saving at this moment, so nothing was saved by this request. Please try again.")
ERROR_NAMES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 410: "gone",
               413: "too_large", 429: "too_many_requests", 500: "server_error", 503: "unavailable"}
# The database did not answer, or not in time: connection refused or lost, timeouts, a full pool, SQLite locked.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                        sa_exc.DisconnectionError)


def wants_json() -> bool:
    """Whether the request comes from a script that expects JSON (autosave, token refresh)."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        current_app.logger.warning("rollback failed after an error", exc_info=True)


def _settle_current_user(*, database_answers: bool) -> None:
    """Know who is signed in for the page's header, without waiting on a database that does not answer."""
    if g.get("_login_user") is not None:  # Flask-Login's per-request cache: already loaded
        return
    if database_answers:
        try:
            current_user.is_authenticated  # noqa: B018 - loads the person
            return
        except sa_exc.SQLAlchemyError:
            _rollback_quietly()
    g._login_user = login_manager.anonymous_user()


def error_response(code: int, message, *, error: str | None = None, saved: bool | None = None):
    """An error as JSON for scripts or as a page for people; a plain page if even the template fails."""
    error = error or ERROR_NAMES.get(code, str(code))
    if wants_json():
        body = {"error": error, "message": str(message)}
        if saved is not None:
            body["saved"] = saved
        return jsonify(body), code
    try:
        return render_template("errors/error.html", code=code, message=message), code
    except Exception:  # the page must say something even when the layout cannot be built
        current_app.logger.exception("the error page could not be rendered")
        html = f"<!doctype html><title>{code}</title><h1>{escape(str(message))}</h1>"
        return html, code, {"Content-Type": "text/html; charset=utf-8"}


def http_error(error: HTTPException):
    """Werkzeug's HTTP errors (403, 404, 413, …) and unhandled exceptions (500)."""
    code = error.code or 500
    _rollback_quietly()
    _settle_current_user(database_answers=code < 500)
    message = MESSAGES.get(code, MESSAGES[500])
    custom = error.description
    if code in (403, 429) and custom and custom != type(error).description:
        message = str(custom)
    if code == 413:
        message = body_limit_message() or message
    saved = None
    if code >= 500:
        saved = request_saved()
        if saved:
            message = SAVED_BUT_NOT_SHOWN
    return error_response(code, message, saved=saved)


def database_unavailable(error: Exception):
    """The database is down, does not answer in time, or (SQLite) stays locked: 503, never a bare 500."""
    current_app.logger.warning("database unavailable: %s", str(error).splitlines()[0] if str(error) else error)
    _rollback_quietly()
    _settle_current_user(database_answers=False)
    saved = request_saved()
    message = SAVED_BUT_NOT_SHOWN if saved else (BUSY if is_sqlite_busy(error) else MESSAGES[503])
    response = error_response(503, message, saved=saved)
    return response[0], 503, {"Retry-After": "10"}


def csrf_error(error: CSRFError):
    """A form whose token aged or came from another page."""
    _settle_current_user(database_answers=True)
    message = _l("Your form expired or came from another page. Go back, reload the page and send it again.")
    return error_response(400, message, error="csrf")


def not_allowed(error: NotAllowed):
    """A rule of the review policy refused the action: 403 with the rule's own words."""
    _rollback_quietly()
    _settle_current_user(database_answers=True)
    return error_response(403, error.message, error="not_allowed")


def register_error_handlers(app: Flask) -> None:
    """Answer every error with a page or JSON that needs no database."""
    for code in MESSAGES:
        app.register_error_handler(code, http_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(NotAllowed, not_allowed)
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)
