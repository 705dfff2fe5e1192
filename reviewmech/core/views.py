"""The dashboard, the health check, the language switch and the audit log."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from reviewmech.accounts.forms import AuditFilterForm, LanguageForm
from reviewmech.accounts.models import AccountStatus, User
from reviewmech.core.audit import AuditEvent
from reviewmech.core.pagination import paginate
from reviewmech.core.permissions import public, secretariat, signed_in
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


@bp.route("/")
@signed_in
def dashboard():
    """The signed-in person's home page."""
    pending = None
    if current_user.is_secretariat:
        pending = db.session.scalar(
            select(func.count()).select_from(User).where(User.status == AccountStatus.PENDING_APPROVAL)
        )
    from reviewmech.reviews.models import ROLE_LABELS
    from reviewmech.reviews.services import my_reviews, next_action, today_utc

    return render_template("dashboard.html", pending=pending, groups=my_reviews(current_user), next_action=next_action,
                           role_labels=ROLE_LABELS, today=today_utc())


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
        return redirect(url_for("core.dashboard"))
    return redirect(parts.path + (f"?{parts.query}" if parts.query else ""))


@bp.route("/audit")
@secretariat
def audit_log():
    """The audit log, newest first, filtered by action and person."""
    form = AuditFilterForm(request.args)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if form.validate():
        if form.action.data:
            query = query.where(AuditEvent.action.like(f"{form.action.data.strip()}%"))
        if form.actor.data:
            query = query.join(AuditEvent.actor).where(
                func.lower(User.email).like(f"%{form.actor.data.strip().lower()}%")
            )
    page = paginate(query, request.args.get("page", 1, type=int))
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template("audit.html", form=form, page=page, actions=actions, title=_("Audit log"))
