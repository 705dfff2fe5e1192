"""reviewmech: peer review of treaty implementation."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from reviewmech.config import LANGUAGE_NAMES, LANGUAGES, settings_from_environment


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides settings read from the environment."""
    from reviewmech.core.database import engine_options
    from reviewmech.core.http import URL_CONVERTERS, Request, Response

    instance_path = os.environ.get("REVIEWMECH_INSTANCE_PATH")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()) if instance_path else None,
                instance_relative_config=True)
    app.request_class = Request
    app.response_class = Response
    app.url_map.converters.update(URL_CONVERTERS)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings_from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)

    if app.config["PROXY_COUNT"]:
        # Behind reverse proxies: trust their X-Forwarded-* headers (client address for rate limits, https).
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    _init_extensions(app)
    _init_static(app)
    _register_blueprints(app)
    _register_hooks(app)

    from reviewmech.core.failures import register_error_handlers

    register_error_handlers(app)

    from reviewmech.cli import register_commands

    register_commands(app)
    return app


def _init_extensions(app: Flask) -> None:
    from reviewmech import models  # noqa: F401 - every model, so the metadata is complete for migrations
    from reviewmech.accounts.kept_forms import send_to_sign_in
    from reviewmech.accounts.sessions import load_signed_in_user
    from reviewmech.core import database
    from reviewmech.core.clock import reader_time_zone
    from reviewmech.core.http import apply_body_limit
    from reviewmech.core.i18n import select_locale
    from reviewmech.core.permissions import enforce_access
    from reviewmech.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    database.init_app(app, db)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    # Before anything reads the body: the view's own limit on its size.
    app.before_request(apply_body_limit)
    # Access rules run before the CSRF check: a signed-out script is told so (401), not "form expired".
    app.before_request(enforce_access)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=reader_time_zone)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _lazy("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_signed_in_user)
    login_manager.unauthorized_handler(send_to_sign_in)


def _init_static(app: Flask) -> None:
    from reviewmech.core.clock import init_clock
    from reviewmech.core.static import init_static

    init_static(app)
    init_clock(app)


def _lazy(text: str):
    from flask_babel import lazy_gettext

    return lazy_gettext(text)


def _register_blueprints(app: Flask) -> None:
    from reviewmech.accounts.views import bp as accounts_bp
    from reviewmech.core.views import bp as core_bp
    from reviewmech.exports.views import bp as exports_bp
    from reviewmech.notifications.views import bp as notifications_bp
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
    app.register_blueprint(notifications_bp)
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
    from reviewmech.core.permissions import can_use

    app.jinja_env.globals["can_use"] = can_use
    app.jinja_env.globals["action_label"] = action_label

    @app.context_processor
    def inject_layout():
        from flask_babel import get_locale

        locale = str(get_locale() or "en")
        return {
            "current_locale": locale,
            "language_names": LANGUAGE_NAMES,
            "languages": LANGUAGES,
            # Never bound to the posted body: the layout must render even when that body was refused (413).
            "language_form": LanguageForm(formdata=None, locale=locale),
            "sign_out_form": ConfirmForm(formdata=None),
            "csrf_token": generate_csrf,
        }
