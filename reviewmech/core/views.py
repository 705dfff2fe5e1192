"""The health check, a fresh CSRF token and the language switch."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reviewmech.core.forms import LanguageForm
from reviewmech.core.permissions import public, signed_in
from reviewmech.core.security import local_referrer
from reviewmech.extensions import db

bp = Blueprint("core", __name__)


HEALTH_CHECK_SECONDS = 3  # with the connect timeout, a load balancer hears 503 within seconds


@bp.route("/healthz")
@public
def healthz():
    """Answer 200 `ok` when the database answers (its schema is there and not locked), 503 otherwise."""
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL statement_timeout = {HEALTH_CHECK_SECONDS * 1000}"))
        db.session.execute(text("SELECT version_num FROM alembic_version"))
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
    return redirect(local_referrer() or url_for("dashboard.index"))
