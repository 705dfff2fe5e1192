"""HTTP headers that every response carries, and the check that a redirect stays on this site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"  # a year; subdomains are left to whoever runs the parent domain
# Long-lived caching of the static files is decided elsewhere; everything else may show a State's data.
CACHEABLE_ENDPOINTS = frozenset({"static"})
_CONTROL_OR_BACKSLASH = re.compile(r"[\x00-\x20\x7f\\]")


def add_security_headers(response):
    """Add a strict content security policy and related headers; no caching of pages and downloads."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    if current_app.config.get("REVIEWMECH_ENV") == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def local_path(target: str | None) -> str | None:
    """Return `target` when it is a path of this site ("/…"), or None for anything that could lead elsewhere.

    Refused: absolute URLs, scheme-relative `//host`, backslashes (browsers read a backslash as a slash),
    spaces and control characters (browsers drop tabs and newlines, so "/<tab>/host" becomes `//host`).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if _CONTROL_OR_BACKSLASH.search(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def local_referrer() -> str | None:
    """The page the request came from, as a path of this site, or None when it came from elsewhere."""
    target = request.referrer
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))
