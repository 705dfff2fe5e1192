"""The outbox in the app, for development: read the e-mail the platform would send and follow its links."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup, escape
from sqlalchemy import select

from reviewmech.core.pagination import paginate
from reviewmech.core.permissions import secretariat
from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage

bp = Blueprint("notifications", __name__, template_folder="templates", url_prefix="/outbox")

_URL = re.compile(r"https?://[^\s<>\"']+")


def outbox_in_app() -> bool:
    """Whether the outbox can be read in the app: in development only, never in production."""
    return current_app.config["REVIEWMECH_ENV"] != "production" and current_app.config["OUTBOX_IN_APP"]


@bp.app_context_processor
def inject_outbox_link():
    """Let the layout link the outbox when it can be read in the app."""
    return {"outbox_in_app": outbox_in_app}


@bp.before_request
def refuse_in_production():
    """In production the outbox is not a page: e-mail holds activation and reset links."""
    if not outbox_in_app():
        abort(404)


def linked_body(body: str) -> Markup:
    """The body of an e-mail, escaped, with the links to this platform made clickable."""
    base_url = current_app.config["BASE_URL"]
    parts, position = [], 0
    for match in _URL.finditer(body):
        parts.append(escape(body[position:match.start()]))
        url = match.group(0)
        if url.startswith(base_url + "/"):
            parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        else:
            parts.append(escape(url))
        position = match.end()
    parts.append(escape(body[position:]))
    return Markup("").join(parts)


@bp.route("")
@secretariat
def outbox():
    """The e-mail written by the platform, newest first (development only)."""
    page = paginate(select(OutboxMessage).order_by(OutboxMessage.id.desc()), request.args.get("page", 1, type=int))
    return render_template("notifications/outbox.html", page=page)


@bp.route("/<int:message_id>")
@secretariat
def message(message_id):
    """One e-mail of the outbox, with its links to follow (development only)."""
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("notifications/message.html", message=message, body=linked_body(message.body))
