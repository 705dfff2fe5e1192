"""Failures that tell the truth: a database that is down or hangs, and errors after a commit."""

import time

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from reviewmech import create_app
from reviewmech.core.permissions import public
from reviewmech.extensions import db
from reviewmech.responses.models import Answer, AnswerRevision
from tests.conftest import TEST_SETTINGS, postgres_url
from tests.responses.helpers import answering_review

DOWN = "The database is not answering at the moment, so nothing was saved by this request."
SAVED = "Your change was saved, but the page could not be shown. Reload the page to see it."
NOT_SAVED = "Nothing you typed was saved by this request"


def _app_on(url, **settings):
    return create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, **settings})


def _with_cookie_of(client, app):
    """A browser of `app` carrying the session cookie of `client` (same secret key): a signed-in person."""
    browser = app.test_client()
    browser.set_cookie("session", client.get_cookie("session").value)
    return browser


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.fixture
def signed_in(sign_in):
    """A focal point signed in on the test database, and their review."""
    people = answering_review()
    return sign_in(people.focal_point), people.review


DOWN_DATABASES = {
    "sqlite file that cannot be opened": "sqlite:////nonexistent-folder/reviewmech.sqlite3",
    "postgresql refusing connections": "postgresql+psycopg://postgres@127.0.0.1:9/reviewmech",
}


@pytest.mark.parametrize("url", DOWN_DATABASES.values(), ids=DOWN_DATABASES.keys())
def test_a_signed_in_person_gets_a_clear_503_page_when_the_database_is_down(signed_in, url):
    client, review = signed_in
    browser = _with_cookie_of(client, _app_on(url))
    response = browser.get(f"/reviews/{review.id}/answers/OP1")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert DOWN in page and "<html" in page and response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", DOWN_DATABASES.values(), ids=DOWN_DATABASES.keys())
def test_autosave_gets_json_503_when_the_database_is_down(signed_in, url):
    client, review = signed_in
    browser = _with_cookie_of(client, _app_on(url))
    response = browser.post(f"/reviews/{review.id}/answers/autosave/1.1", json={"value": "yes", "version": 0})
    assert response.status_code == 503
    assert response.get_json() == {"error": "unavailable", "message": DOWN + " Please try again in a few minutes.",
                                   "saved": False}
    assert _count(Answer) == 0


@pytest.mark.parametrize("url", DOWN_DATABASES.values(), ids=DOWN_DATABASES.keys())
def test_other_error_pages_render_while_the_database_is_down(signed_in, url):
    client, _review = signed_in
    browser = _with_cookie_of(client, _app_on(url))
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    assert "This page does not exist" in response.get_data(as_text=True)
    scripted = browser.get("/no-such-page", headers={"Accept": "application/json"})
    assert scripted.get_json()["error"] == "not_found"


def test_the_error_page_speaks_the_language_of_the_session_while_the_database_is_down(sign_in, signed_in):
    client, review = signed_in
    with client.session_transaction() as session:
        session["locale"] = "es"
    browser = _with_cookie_of(client, _app_on(DOWN_DATABASES["sqlite file that cannot be opened"]))
    page = browser.get("/").get_data(as_text=True)
    assert 'lang="es"' in page and "La base de datos no responde" in page


def test_the_health_check_answers_503_within_seconds_when_the_host_never_answers(once, silent_host):
    app = _app_on(f"postgresql+psycopg://postgres@127.0.0.1:{silent_host}/reviewmech")  # the default timeouts
    response, seconds = _timed(lambda: app.test_client().get("/healthz"))
    assert response.status_code == 503 and response.get_data(as_text=True) == "database unavailable"
    assert seconds < 5, seconds


def test_autosave_answers_503_within_seconds_when_the_host_never_answers(signed_in, silent_host):
    client, review = signed_in
    app = _app_on(f"postgresql+psycopg://postgres@127.0.0.1:{silent_host}/reviewmech")
    browser = _with_cookie_of(client, app)
    response, seconds = _timed(lambda: browser.post(f"/reviews/{review.id}/answers/autosave/1.1",
                                                    json={"value": "yes", "version": 0}))
    assert response.status_code == 503 and response.get_json()["error"] == "unavailable"
    assert seconds < 5, seconds
    assert _count(Answer) == 0


@pytest.fixture
def postgres_app(request):
    """An app of its own on the PostgreSQL test database (its own connections, not the test's transaction)."""
    if request.node.callspec.params.get("database_url") == "sqlite":
        pytest.skip("runs once, on PostgreSQL")
    app = _app_on(postgres_url(), DB_STATEMENT_TIMEOUT=1, SESSION_PROTECTION=None)
    yield app
    with app.app_context():
        db.engine.dispose()


def _locked(table):
    """A connection holding an exclusive lock on a table until it is closed.

    The test's own transaction must not have touched the table, or the lock would wait for it.
    """
    engine = sa.create_engine(postgres_url())
    connection = engine.connect()
    connection.execute(sa.text("SET lock_timeout = '5s'"))
    connection.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    return engine, connection


def test_the_health_check_answers_503_within_seconds_when_a_statement_hangs(postgres_app):
    engine, connection = _locked("alembic_version")
    try:
        response, seconds = _timed(lambda: postgres_app.test_client().get("/healthz"))
    finally:
        connection.close()
        engine.dispose()
    assert response.status_code == 503 and seconds < 5, seconds
    assert postgres_app.test_client().get("/healthz").status_code == 200


def test_autosave_answers_503_within_the_statement_timeout_when_the_database_hangs(postgres_app):
    browser = postgres_app.test_client()
    with browser.session_transaction() as session:  # a signed-in cookie; its session is looked up, and waits
        session.update({"_user_id": "1", "sign_in": "a-key-that-is-looked-up"})
    engine, connection = _locked("sign_in_sessions")
    try:
        response, seconds = _timed(lambda: browser.post("/reviews/1/answers/autosave/1.1",
                                                        json={"value": "yes", "version": 0}))
    finally:
        connection.close()
        engine.dispose()
    assert response.status_code == 503 and response.get_json()["error"] == "unavailable"
    assert seconds < 3, seconds


def test_a_slow_statement_on_sqlite_is_stopped_at_the_statement_timeout(once, tmp_path):
    app = _app_on(f"sqlite:///{tmp_path}/slow.sqlite3", DB_STATEMENT_TIMEOUT=0.5)

    @app.get("/_slow")
    @public
    def slow():
        db.session.execute(sa.text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"))
        return "never"

    response, seconds = _timed(lambda: app.test_client().get("/_slow", headers={"Accept": "application/json"}))
    assert response.status_code == 503 and response.get_json()["error"] == "unavailable"
    assert 0.4 < seconds < 3, seconds
    with app.app_context():
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1  # the connection is usable again
        db.session.remove()
        db.engine.dispose()


# After a commit, never "nothing was saved" ----------------------------------------------------------

@pytest.fixture
def unhandled_errors_answered(app):
    """Let unhandled exceptions reach the 500 page, as in production (tests otherwise re-raise them)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = None


def _fail(*args, **kwargs):
    raise RuntimeError("the page could not be built")


def test_a_failure_after_the_section_form_was_saved_says_it_was_saved(signed_in, monkeypatch,
                                                                       unhandled_errors_answered):
    client, review = signed_in
    monkeypatch.setattr("reviewmech.responses.views.redirect", _fail)
    response = client.post(f"/reviews/{review.id}/answers/OP1", data={"version-1.1": "0", "a-1.1": "yes"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert SAVED in page and NOT_SAVED not in page
    assert db.session.scalar(select(Answer.value)) == "yes"


def test_a_failure_after_autosave_committed_says_saved_in_json(signed_in, monkeypatch, unhandled_errors_answered):
    client, review = signed_in
    monkeypatch.setattr("reviewmech.responses.views.jsonify", _fail)
    response = client.post(f"/reviews/{review.id}/answers/autosave/1.1", json={"value": "yes", "version": 0})
    assert response.status_code == 500
    assert response.get_json() == {"error": "server_error", "message": SAVED, "saved": True}
    assert db.session.scalar(select(Answer.value)) == "yes"


def test_a_failure_before_anything_was_saved_says_nothing_was_saved(signed_in, monkeypatch,
                                                                     unhandled_errors_answered):
    client, review = signed_in
    monkeypatch.setattr("reviewmech.responses.services.save_answers", _fail)
    response = client.post(f"/reviews/{review.id}/answers/OP1", data={"version-1.1": "0", "a-1.1": "yes"})
    assert response.status_code == 500
    assert NOT_SAVED in response.get_data(as_text=True)
    assert _count(Answer) == 0 and _count(AnswerRevision) == 0
