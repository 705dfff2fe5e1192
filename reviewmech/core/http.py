"""HTTP details shared by every route: URL converters that refuse what cannot be stored, body limits, responses."""

from __future__ import annotations

import io

import flask
from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

# Ids are INTEGER columns on both databases: a larger number cannot name a row, so the URL does not exist.
MAX_ID = 2**31 - 1
_UNSTORABLE = "\x00-\x1f\x7f"  # control characters: PostgreSQL refuses NUL, and none belongs in a code


class IdConverter(IntegerConverter):
    """`<int:…>` that matches only numbers a row id can be, so a huge one is a 404, not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class SegmentConverter(UnicodeConverter):
    """The default `<name>` converter, refusing control characters (`%00` and the like): a 404."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", f"[^/{_UNSTORABLE}]")


class StoredPathConverter(PathConverter):
    """`<path:…>`, refusing control characters."""

    regex = f"[^/{_UNSTORABLE}][^{_UNSTORABLE}]*?"


URL_CONVERTERS = {"default": SegmentConverter, "string": SegmentConverter, "path": StoredPathConverter,
                  "int": IdConverter}


# Body limits -------------------------------------------------------------------------------------

def body_limit(max_bytes: int, message=None):
    """Declare the largest request body a view accepts, counted on the bytes read (chunked or not).

    A larger body is answered 413 with `message` (a lazy text), or the general one.
    """

    def decorator(view):
        view.body_limit = (max_bytes, message)
        return view

    return decorator


def apply_body_limit() -> None:
    """Before anything reads the body: apply the view's limit, or the app's, to the bytes read (before CSRF)."""
    view = current_app.view_functions.get(request.endpoint or "")
    declared = getattr(view, "body_limit", None)
    limit = declared[0] if declared else current_app.config["MAX_CONTENT_LENGTH"]
    if declared:
        g.body_limit_message = declared[1]
    if limit is None:
        return
    if request.content_length is None and "wsgi.input_terminated" in request.environ:
        # Chunked: werkzeug stops reading at its limit and returns what it has, a body cut short without a
        # word. Let it read one byte more, and refuse when that byte arrives.
        request.environ["wsgi.input"] = _CappedInput(request.environ["wsgi.input"], limit)
        request.max_content_length = limit + 1
    else:
        request.max_content_length = limit


class _CappedInput(io.RawIOBase):
    """A request body that raises 413 as soon as more than `limit` bytes have been read."""

    def __init__(self, stream, limit: int):
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._count = 0

    def readable(self) -> bool:
        """A body is read, never written."""
        return True

    def readinto(self, buffer) -> int:
        """Read into `buffer`; 413 once the body is longer than the limit."""
        data = self._stream.read(len(buffer))
        self._count += len(data)
        if self._count > self._limit:
            raise RequestEntityTooLarge()
        buffer[: len(data)] = data
        return len(data)


def body_limit_message():
    """The message the view declared for a body that is too large, or None."""
    return g.get("body_limit_message")


class Request(flask.Request):
    """Flask's request, closing every uploaded file it opened, also those of a body refused half-way (413)."""

    def _get_file_stream(self, *args, **kwargs):
        stream = super()._get_file_stream(*args, **kwargs)
        self.__dict__.setdefault("_opened_file_streams", []).append(stream)
        return stream

    def close(self) -> None:
        """Close the uploaded files, parsed or not."""
        for stream in self.__dict__.pop("_opened_file_streams", []):
            stream.close()
        super().close()


class Response(flask.Response):
    """Flask's response, keeping a content type that already names its charset as it is (not `charset` twice)."""

    def __init__(self, response=None, status=None, headers=None, mimetype=None, content_type=None,
                 direct_passthrough=False):
        if mimetype is not None and content_type is None and "charset=" in mimetype.lower():
            mimetype, content_type = None, mimetype
        super().__init__(response, status=status, headers=headers, mimetype=mimetype, content_type=content_type,
                         direct_passthrough=direct_passthrough)
