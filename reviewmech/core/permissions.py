"""Who may use each route: every view declares one access rule, enforced before the request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from reviewmech.core.failures import wants_json
from reviewmech.extensions import login_manager


@dataclass(frozen=True)
class AccessRule:
    """A named rule; `allows(user, view_args)` is checked for signed-in people.

    Anonymous people are sent to sign in for every rule but the public one.
    """

    name: str
    is_public: bool = False
    allows: Callable[[object, dict], bool] | None = None


PUBLIC = AccessRule("public", is_public=True)
SIGNED_IN = AccessRule("signed-in", allows=lambda user, view_args: True)
SECRETARIAT = AccessRule("secretariat", allows=lambda user, view_args: user.is_secretariat)

# Endpoints that Flask or extensions register; their rule is stated here.
BUILT_IN_RULES = {"static": PUBLIC}


def declare(rule: AccessRule):
    """A decorator stating a view's access rule."""

    def decorator(view):
        view.access_rule = rule
        return view

    return decorator


public = declare(PUBLIC)
signed_in = declare(SIGNED_IN)
secretariat = declare(SECRETARIAT)


def rule_for_endpoint(endpoint: str | None) -> AccessRule | None:
    """Return the access rule a route declares, or None when it declares nothing."""
    if endpoint is None:
        return None
    if endpoint in BUILT_IN_RULES:
        return BUILT_IN_RULES[endpoint]
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def can_use(endpoint: str) -> bool:
    """For templates: whether the current person may open a route that takes no review (menus, links)."""
    rule = rule_for_endpoint(endpoint)
    if rule is None:
        return False
    if rule.is_public:
        return True
    return current_user.is_authenticated and (rule.allows is None or rule.allows(current_user, {}))


def enforce_access():
    """Refuse the request unless the route's rule lets the current person in."""
    if request.endpoint is None:  # 404 or 405: let Flask answer
        return None
    rule = rule_for_endpoint(request.endpoint)
    if rule is None:
        current_app.logger.error("route %s declares no access rule", request.endpoint)
        abort(403)
    if rule.is_public:
        return None
    if not current_user.is_authenticated:
        if wants_json():  # a script: say so, no redirect
            return jsonify(error="signed_out", message=_("Your session has ended. Sign in again to save.")), 401
        return login_manager.unauthorized()
    if rule.allows is not None and not rule.allows(current_user, request.view_args or {}):
        abort(403)
    return None
