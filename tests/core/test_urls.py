"""Addresses that cannot name anything stored answer 404, never a database error."""

import pytest
from sqlalchemy import func, select

from reviewmech.core.audit import AuditEvent
from reviewmech.extensions import db
from reviewmech.responses.models import Answer, AnswerRevision
from tests.responses.helpers import answering_review

NOT_FOUND = "This page does not exist, or you do not have access to it."


def _counts():
    return [db.session.scalar(select(func.count()).select_from(model)) for model in (Answer, AnswerRevision,
                                                                                    AuditEvent)]


@pytest.mark.parametrize("path", [
    "/reviews/99999999999999999999999",
    "/reviews/2147483648",
    "/reviews/99999999999999999999999/answers",
    "/people/99999999999999999999999",
])
def test_an_id_too_large_for_any_row_is_not_found(secretariat_client, path):
    response = secretariat_client.get(path)
    assert response.status_code == 404
    assert NOT_FOUND in response.get_data(as_text=True)


def test_the_largest_id_a_row_can_have_is_looked_up(secretariat_client):
    assert secretariat_client.get("/reviews/2147483647").status_code == 404  # asked, and there is none


@pytest.mark.parametrize("method, suffix", [
    ("GET", "/answers/OP%00"),
    ("GET", "/answers/OP1%01"),
    ("GET", "/answers/history/1.1%00"),
    ("POST", "/answers/autosave/1.1%00"),
    ("POST", "/answers/OP1%00"),
    ("POST", "/answers/accept/1.1%1F"),
])
def test_control_characters_in_a_code_are_not_found_and_change_nothing(sign_in, method, suffix):
    people = answering_review()
    client = sign_in(people.focal_point)
    before = _counts()
    url = f"/reviews/{people.review.id}{suffix}"
    if method == "POST":
        response = client.post(url, json={"value": "yes", "version": 0}, headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert response.get_json() == {"error": "not_found", "message": NOT_FOUND}
    else:
        response = client.get(url)
        assert response.status_code == 404
        assert NOT_FOUND in response.get_data(as_text=True)
    assert _counts() == before
