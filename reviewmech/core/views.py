"""The health check, a fresh CSRF token and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reviewmech.core.forms import LanguageForm
from reviewmech.core.permissions import public, signed_in
from reviewmech.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz():
    """Answer 200 `ok` when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "database unavailable", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/csrf-token")
@signed_in
def csrf_token_json():
    """A fresh CSRF token for a page whose token aged (autosave retries with it)."""
    from flask_wtf.csrf import generate_csrf

    return jsonify(csrf_token=generate_csrf())


@bp.route("/language", methods=["POST"])
@public
def change_language():
    """Switch the interface language and go back to the page the person was on."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    target = request.referrer or ""
    parts = urlsplit(target)
    if parts.netloc != request.host or not parts.path.startswith("/"):
        return redirect(url_for("dashboard.index"))
    return redirect(parts.path + (f"?{parts.query}" if parts.query else ""))
