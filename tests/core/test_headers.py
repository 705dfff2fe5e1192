"""Caching, HSTS and content types: what a browser or a proxy may keep of a State's data."""

import io

from sqlalchemy import select

from reviewmech import create_app
from reviewmech.extensions import db
from reviewmech.responses.models import Attachment
from tests.conftest import TEST_SETTINGS
from tests.responses.helpers import answering_review


def test_every_page_to_a_signed_in_person_says_no_store(sign_in):
    people = answering_review()
    client = sign_in(people.focal_point)
    for url in ("/", f"/reviews/{people.review.id}", f"/reviews/{people.review.id}/answers",
                f"/reviews/{people.review.id}/answers/OP1", "/csrf-token", "/no-such-page"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url


def test_an_attachment_download_says_no_store_and_its_charset_once(sign_in):
    people = answering_review()
    client = sign_in(people.focal_point)
    client.post(f"/reviews/{people.review.id}/answers/attachments/2.3",
                data={"file": (io.BytesIO("Ley de trata, artículo 5.\n".encode()), "ley.txt")},
                content_type="multipart/form-data")
    attachment = db.session.scalar(select(Attachment))
    response = client.get(f"/reviews/{people.review.id}/answers/files/{attachment.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data(as_text=True) == "Ley de trata, artículo 5.\n"
    response.close()


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_production_sends_hsts(tmp_path):
    app = create_app({**TEST_SETTINGS, "REVIEWMECH_ENV": "production",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/h.sqlite3"})
    response = app.test_client().get("/sign-in")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
