"""Request bodies are limited on the bytes read, with or without Content-Length, and answered 413."""

import io

import pytest
from sqlalchemy import func, select

from reviewmech.extensions import db
from reviewmech.responses.models import Answer, AnswerRevision, Attachment
from tests.responses.helpers import answering_review

TOO_LONG = "This answer is too long to be saved (more than 250 KB)."
TOO_LARGE = "The file or form you sent is too large."


def _counts():
    return [db.session.scalar(select(func.count()).select_from(model)) for model in (Answer, AnswerRevision,
                                                                                    Attachment)]


@pytest.fixture
def focal_point(sign_in):
    people = answering_review()
    client = sign_in(people.focal_point)
    assert client.post(f"/reviews/{people.review.id}/answers/autosave/1.1",
                       json={"value": "no", "version": 0}).status_code == 200  # 1.3 is shown after "no"
    return client, people.review


def _chunked(client, url, body: bytes, content_type: str, **kwargs):
    """POST without Content-Length, as a chunked request reaches the app from gunicorn or werkzeug's server."""
    return client.post(url, input_stream=io.BytesIO(body), content_type=content_type,
                       headers={"Transfer-Encoding": "chunked", **kwargs.pop("headers", {})},
                       environ_overrides={"wsgi.input_terminated": True}, **kwargs)


def test_a_chunked_autosave_of_10_mb_is_refused_with_413_and_stores_nothing(focal_point):
    client, review = focal_point
    before = _counts()
    body = b'{"value": "' + b"x" * 10_000_000 + b'", "version": 0}'
    response = _chunked(client, f"/reviews/{review.id}/answers/autosave/1.3", body, "application/json")
    assert response.status_code == 413
    assert response.get_json() == {"error": "too_large", "message": TOO_LONG}
    assert _counts() == before


def test_a_chunked_autosave_within_the_limit_is_saved(focal_point):
    client, review = focal_point
    body = b'{"value": "' + b"x" * 200_000 + b'", "version": 0}'
    response = _chunked(client, f"/reviews/{review.id}/answers/autosave/1.3", body, "application/json")
    assert response.status_code == 200


def test_an_autosave_announcing_more_than_the_limit_is_refused_before_it_is_read(focal_point):
    client, review = focal_point
    before = _counts()
    response = client.post(f"/reviews/{review.id}/answers/autosave/1.3", data=b"{" + b" " * 300_000 + b"}",
                           content_type="application/json")
    assert response.status_code == 413 and response.get_json()["message"] == TOO_LONG
    assert _counts() == before


BOUNDARY = "reviewmech-boundary"


def _multipart_pdf(size: int) -> bytes:
    """A multipart body carrying one PDF of `size` bytes (built here: the test client would spool it to a file)."""
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"large.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + b"%PDF-1.4\n" + b"x" * size \
        + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_25_mb_upload_gets_the_413_page_and_leaves_nothing(focal_point):
    client, review = focal_point
    before = _counts()
    response = client.post(f"/reviews/{review.id}/answers/attachments/2.3", data=_multipart_pdf(25_000_000),
                           content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert TOO_LARGE in page and "<html" in page
    assert _counts() == before


def test_a_chunked_25_mb_upload_gets_the_413_page_and_leaves_nothing(focal_point):
    client, review = focal_point
    before = _counts()
    response = _chunked(client, f"/reviews/{review.id}/answers/attachments/2.3", _multipart_pdf(25_000_000),
                        f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 413
    assert TOO_LARGE in response.get_data(as_text=True)
    assert _counts() == before
