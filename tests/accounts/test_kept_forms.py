"""A form posted after the session ended keeps its values through sign-in, then is saved."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reviewmech.accounts.models import KeptForm, SignInSession
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question
from reviewmech.responses.models import Answer, AnswerRevision
from tests.conftest import csrf_token_from
from tests.factories import DEFAULT_PASSWORD
from tests.responses.helpers import answering_review

KEPT = "Your session had ended, so nothing was saved yet. Your entries are kept: sign in again and they will be saved."


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def people():
    return answering_review()


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _value(review, code):
    return db.session.scalar(select(Answer.value).join(Question).where(Answer.review_id == review.id,
                                                                         Question.code == code))


def _sign_in(client, user):
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token})


def _open_section(client, user, review):
    """Sign in, open OP1 and return the CSRF token its form carries."""
    _sign_in(client, user)
    return csrf_token_from(client.get(f"/reviews/{review.id}/answers/OP1").get_data(as_text=True))


def _end_sessions_by_idling(user):
    for row in db.session.scalars(select(SignInSession).where(SignInSession.user_id == user.id)):
        row.last_seen_at = utcnow() - timedelta(hours=2)
    db.session.commit()


def test_a_form_posted_after_the_session_ended_is_saved_after_sign_in(client, csrf_on, people):
    token = _open_section(client, people.focal_point, people.review)
    _end_sessions_by_idling(people.focal_point)
    posted = client.post(f"/reviews/{people.review.id}/answers/OP1",
                         data={"csrf_token": token, "version-1.1": "0", "a-1.1": "no", "version-1.3": "0",
                               "a-1.3": "Because the budget law was delayed."})
    assert posted.status_code == 302
    assert posted.location == f"/sign-in?next=/reviews/{people.review.id}/answers/OP1"
    sign_in_page = client.get(posted.location).get_data(as_text=True)
    assert KEPT in sign_in_page
    assert _count(Answer) == 0 and _count(KeptForm) == 1  # nothing saved until the person is back

    signed_in = client.post(posted.location, data={"email": people.focal_point.email,
                                                   "password": DEFAULT_PASSWORD,
                                                   "csrf_token": csrf_token_from(sign_in_page)})
    assert signed_in.location == f"/reviews/{people.review.id}/answers/OP1"
    replayed = client.get(signed_in.location)
    assert replayed.status_code == 302  # processed as the post it was, then shown again
    page = client.get(replayed.location).get_data(as_text=True)
    assert "2 answer(s) saved." in page
    assert _value(people.review, "1.1") == "no"
    assert _value(people.review, "1.3") == "Because the budget law was delayed."
    assert _count(KeptForm) == 0
    assert client.get(f"/reviews/{people.review.id}/answers/OP1").status_code == 200  # once, not again


def test_a_form_posted_after_sign_out_in_another_tab_is_kept_too(client, csrf_on, people):
    token = _open_section(client, people.focal_point, people.review)
    client.post("/sign-out", data={"csrf_token": token})
    posted = client.post(f"/reviews/{people.review.id}/answers/OP1",
                         data={"csrf_token": token, "version-1.1": "0", "a-1.1": "yes"})
    assert KEPT in client.get(posted.location).get_data(as_text=True)
    _sign_in(client, people.focal_point)
    client.get(f"/reviews/{people.review.id}/answers/OP1")
    assert _value(people.review, "1.1") == "yes"


def test_a_kept_form_meets_a_newer_answer_in_the_conflict_view(app, client, csrf_on, people):
    token = _open_section(client, people.focal_point, people.review)
    _end_sessions_by_idling(people.focal_point)
    client.post(f"/reviews/{people.review.id}/answers/OP1",
                data={"csrf_token": token, "version-1.1": "0", "a-1.1": "no"})
    colleague = app.test_client()
    _sign_in(colleague, people.expert)
    colleague.post(f"/reviews/{people.review.id}/answers/autosave/1.1", json={"value": "partial", "version": 0},
                   headers={"X-CSRFToken": csrf_token_from(colleague.get("/").get_data(as_text=True))})
    _sign_in(client, people.focal_point)
    response = client.get(f"/reviews/{people.review.id}/answers/OP1")
    assert response.status_code == 409
    assert "Someone else saved a newer version of 1.1" in response.get_data(as_text=True)
    assert _value(people.review, "1.1") == "partial"
    kept_in_history = db.session.scalars(select(AnswerRevision.value).order_by(AnswerRevision.id)).all()
    assert kept_in_history == ["partial", "no"]  # the refused entry is in the history


def test_another_person_signing_in_in_that_browser_never_gets_the_entries(client, csrf_on, people):
    token = _open_section(client, people.focal_point, people.review)
    _end_sessions_by_idling(people.focal_point)
    client.post(f"/reviews/{people.review.id}/answers/OP1",
                data={"csrf_token": token, "version-1.1": "0", "a-1.1": "no"})
    _sign_in(client, people.expert)
    response = client.get(f"/reviews/{people.review.id}/answers/OP1")
    assert response.status_code == 200
    assert _count(Answer) == 0
    client.post("/sign-out", data={"csrf_token": csrf_token_from(response.get_data(as_text=True))})
    _sign_in(client, people.focal_point)  # and the browser no longer holds them
    client.get(f"/reviews/{people.review.id}/answers/OP1")
    assert _count(Answer) == 0


def test_a_post_from_another_site_is_not_kept(client, csrf_on, people):
    _open_section(client, people.focal_point, people.review)
    _end_sessions_by_idling(people.focal_point)
    response = client.post(f"/reviews/{people.review.id}/answers/OP1",
                           data={"csrf_token": "forged", "version-1.1": "0", "a-1.1": "no"})
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    assert KEPT not in client.get(response.location).get_data(as_text=True)
    assert _count(KeptForm) == 0 and _count(Answer) == 0


def test_a_post_from_a_browser_that_never_signed_in_is_not_kept(client, people):
    response = client.post(f"/reviews/{people.review.id}/answers/OP1", data={"version-1.1": "0", "a-1.1": "no"})
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    assert "Please sign in to see this page." in client.get(response.location).get_data(as_text=True)
    assert _count(KeptForm) == 0


def test_a_kept_form_older_than_a_day_is_not_saved(client, csrf_on, people):
    token = _open_section(client, people.focal_point, people.review)
    _end_sessions_by_idling(people.focal_point)
    client.post(f"/reviews/{people.review.id}/answers/OP1",
                data={"csrf_token": token, "version-1.1": "0", "a-1.1": "no"})
    db.session.scalar(select(KeptForm)).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    _sign_in(client, people.focal_point)
    assert client.get(f"/reviews/{people.review.id}/answers/OP1").status_code == 200
    assert _count(Answer) == 0


def test_autosave_after_the_session_ended_still_gets_401_json(client, people):
    response = client.post(f"/reviews/{people.review.id}/answers/autosave/1.1", json={"value": "no", "version": 0})
    assert response.status_code == 401 and response.get_json()["error"] == "signed_out"
    assert _count(KeptForm) == 0
