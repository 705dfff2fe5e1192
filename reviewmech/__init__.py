"""reviewmech: peer review of treaty implementation."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.engine import Engine

from reviewmech.config import LANGUAGE_NAMES, LANGUAGES, settings_from_environment


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """Foreign keys on, WAL journal, and transactions SQLAlchemy controls (savepoints work)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides settings read from the environment."""
    instance_path = os.environ.get("REVIEWMECH_INSTANCE_PATH")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()) if instance_path else None,
                instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings_from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)

    if app.config["PROXY_COUNT"]:
        # Behind reverse proxies: trust their X-Forwarded-* headers (client address for rate limits, https).
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_error_pages(app)

    from reviewmech.cli import register_commands

    register_commands(app)
    return app


def _init_extensions(app: Flask) -> None:
    from reviewmech import models  # noqa: F401 - every model, so the metadata is complete for migrations
    from reviewmech.core.i18n import select_locale
    from reviewmech.core.permissions import enforce_access
    from reviewmech.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    # Access rules run before the CSRF check: a signed-out script is told so (401), not "form expired".
    app.before_request(enforce_access)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _lazy("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from reviewmech.accounts.models import User

        raw_id, _sep, token = user_id.partition(":")
        if not raw_id.isdigit():
            return None
        user = db.session.get(User, int(raw_id))
        if user is None or not user.is_active or user.session_token != token:
            return None
        return user


def _lazy(text: str):
    from flask_babel import lazy_gettext

    return lazy_gettext(text)


def _register_blueprints(app: Flask) -> None:
    from reviewmech.accounts.views import bp as accounts_bp
    from reviewmech.core.views import bp as core_bp
    from reviewmech.exports.views import bp as exports_bp
    from reviewmech.questionnaires.views import bp as questionnaires_bp
    from reviewmech.responses.views import bp as responses_bp
    from reviewmech.reviews.views import bp as reviews_bp
    from reviewmech.reviews.views import dashboard_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(questionnaires_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(responses_bp)
    app.register_blueprint(exports_bp)


def _register_hooks(app: Flask) -> None:
    from flask_wtf.csrf import generate_csrf

    from reviewmech.core.forms import ConfirmForm, LanguageForm
    from reviewmech.core.security import add_security_headers

    app.after_request(add_security_headers)

    from reviewmech.core.audit import action_label
    from reviewmech.reviews.models import phase_label
    from reviewmech.reviews.policy import template_can

    app.jinja_env.globals["phase_label"] = phase_label
    app.jinja_env.globals["can"] = template_can
    app.jinja_env.globals["action_label"] = action_label

    @app.context_processor
    def inject_layout():
        from flask_babel import get_locale

        locale = str(get_locale() or "en")
        return {
            "current_locale": locale,
            "language_names": LANGUAGE_NAMES,
            "languages": LANGUAGES,
            "language_form": LanguageForm(locale=locale),
            "sign_out_form": ConfirmForm(),
            "csrf_token": generate_csrf,
        }


def _register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from reviewmech.core.errors import NotAllowed

    messages = {
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("This page does not exist, or you do not have access to it."),
        405: lambda: _("This address does not accept this kind of request."),
        410: lambda: _("This link is no longer valid."),
        413: lambda: _("The file or form you sent is too large."),
        429: lambda: _("Too many attempts. Please wait a few minutes and try again."),
        500: lambda: _(
            "Something went wrong on our side. Nothing you typed was saved by this request; please try again."
        ),
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        description = messages.get(code, messages[500])()
        custom = getattr(error, "description", None)
        if code in (403, 429) and custom and custom != type(error).description:
            description = str(custom)
        if request.is_json:
            return jsonify(error=str(code), message=description), code
        return render_template("errors/error.html", code=code, message=description), code

    for code in messages:
        app.register_error_handler(code, render_error)

    @app.errorhandler(NotAllowed)
    def not_allowed(error):
        if request.is_json or request.accept_mimetypes.best == "application/json":
            return jsonify(error="not_allowed", message=error.message), 403
        return render_template("errors/error.html", code=403, message=error.message), 403

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("Your form expired or came from another page. Go back, reload the page and send it again.")
        if request.is_json:
            return jsonify(error="csrf", message=message), 400
        return render_template("errors/error.html", code=400, message=message), 400
