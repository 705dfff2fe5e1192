"""Static files under content-hashed URLs, cached for a year by browsers, sent compressed.

`url_for('static', filename='css/app.css')` gives `/static/css/app.<digest>.css`, the digest being the
first characters of the file's SHA-256. A URL whose digest is the file's current one is answered with
`Cache-Control: public, max-age=31536000, immutable`: the browser never asks again, and a changed file
gets a new URL. A URL without a digest, or with an old one (a page cached before a release), is answered
with the current file and `no-cache`; anything else is a 404. Text files are compressed once (brotli and
gzip) and kept in memory; the files are read again when they change on disk.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from flask import Flask, abort, current_app, request
from werkzeug.security import safe_join

DIGEST_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "application/json", "image/svg+xml",
                "text/plain", "text/markdown", "text/html"}
_HASHED_NAME = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)?$")


@dataclass
class Asset:
    """One static file as last read: its digest and its bodies per content encoding."""

    path: Path
    stamp: tuple[int, int]  # (mtime_ns, size) when read
    digest: str
    mimetype: str
    bodies: dict[str, bytes] = field(default_factory=dict)  # "identity", "br", "gzip"


def hashed_name(filename: str, digest: str) -> str:
    """Put a digest before the file's last suffix: `css/app.css` → `css/app.<digest>.css`."""
    folder, _slash, name = filename.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    hashed = f"{stem}.{digest}.{suffix}" if dot and stem else f"{name}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def split_hashed_name(filename: str) -> tuple[str, str] | None:
    """Return (original name, digest) of a hashed name, or None when the name carries no digest."""
    folder, _slash, name = filename.rpartition("/")
    match = _HASHED_NAME.match(name)
    if match is None:
        return None
    original = match["stem"] + (match["suffix"] or "")
    return (f"{folder}/{original}" if folder else original), match["digest"]


class StaticFiles:
    """The static folder's files, read and compressed once each, re-read when they change."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = str(folder)
        self._assets: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def asset(self, filename: str) -> Asset | None:
        """The current state of a file of the folder, or None when there is no such file."""
        joined = safe_join(self.folder, filename)
        if joined is None:
            return None
        path = Path(joined)
        try:
            status = path.stat()
        except (OSError, ValueError):
            return None
        if not path.is_file():
            return None
        stamp = (status.st_mtime_ns, status.st_size)
        known = self._assets.get(filename)
        if known is not None and known.stamp == stamp:
            return known
        with self._lock:
            data = path.read_bytes()
            mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            asset = Asset(path=path, stamp=stamp, digest=hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH],
                          mimetype=mimetype, bodies={"identity": data})
            if mimetype in COMPRESSIBLE and data:
                for encoding, body in (("br", brotli.compress(data, quality=11)),
                                       ("gzip", gzip.compress(data, compresslevel=9, mtime=0))):
                    if len(body) < len(data):
                        asset.bodies[encoding] = body
            self._assets[filename] = asset
            return asset

    def resolve(self, filename: str) -> tuple[Asset, bool] | None:
        """The file a URL names and whether the URL carries its current digest (so may be cached for good)."""
        asset = self.asset(filename)
        if asset is not None:
            return asset, False
        split = split_hashed_name(filename)
        if split is None:
            return None
        original, digest = split
        asset = self.asset(original)
        if asset is None:
            return None
        return asset, digest == asset.digest


def _files() -> StaticFiles:
    return current_app.extensions["reviewmech.static"]


def _preferred_encoding(asset: Asset) -> str:
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if encoding in asset.bodies and accepted[encoding] > 0:
            return encoding
    return "identity"


def serve_static(filename: str):
    """Answer a static URL: the file, compressed when the browser accepts it; a 404 for anything else."""
    found = _files().resolve(filename)
    if found is None:
        abort(404)
    asset, is_current = found
    encoding = _preferred_encoding(asset)
    response = current_app.response_class(asset.bodies[encoding], mimetype=asset.mimetype)
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = IMMUTABLE if is_current else REVALIDATE
    response.set_etag(f"{asset.digest}-{encoding}")
    return response.make_conditional(request)


def add_digest(endpoint: str, values: dict) -> None:
    """Give `url_for('static', filename=…)` the file's content-hashed name (unchanged when there is no file)."""
    if endpoint != "static" or "filename" not in values:
        return
    asset = _files().asset(values["filename"])
    if asset is not None:
        values["filename"] = hashed_name(values["filename"], asset.digest)


def init_static(app: Flask) -> None:
    """Serve the static folder under content-hashed URLs, and compress HTML and JSON answers."""
    from flask_compress import Compress

    app.extensions["reviewmech.static"] = StaticFiles(app.static_folder)
    app.view_functions["static"] = serve_static
    app.url_defaults(add_digest)
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html", "application/json", "text/css", "text/javascript",
                                                 "application/javascript"])
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "deflate"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    Compress(app)
