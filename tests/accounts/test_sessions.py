"""Sign-in sessions kept on the server: sign-out, idle timeout, absolute maximum, ending every session."""

import contextvars
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from reviewmech import create_app
from reviewmech.accounts.models import SessionEnd, SignInSession
from reviewmech.accounts.sessions import current_session_key
from reviewmech.config import ConfigError
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from tests.factories import make_user


def _rows(user):
    return db.session.scalars(select(SignInSession).where(SignInSession.user_id == user.id)
                              .order_by(SignInSession.id)).all()


def _cookie(client):
    return client.get_cookie("session").value


def _browser_with(app, cookie):
    browser = app.test_client()
    browser.set_cookie("session", cookie)
    return browser


def _age(row, *, idle=timedelta(0), age=timedelta(0)):
    now = utcnow()
    row.last_seen_at = now - idle
    row.created_at = now - max(age, idle)
    db.session.commit()


def test_a_sign_in_opens_one_session_on_the_server(sign_in):
    user = make_user()
    sign_in(user)
    [row] = _rows(user)
    assert row.ended_at is None and row.ip_address == "127.0.0.1"
    assert len(row.key_hash) == 64


def test_after_sign_out_the_old_cookie_signs_no_one_in(app, sign_in):
    user = make_user()
    client = sign_in(user)
    copied = _cookie(client)
    assert _browser_with(app, copied).get("/").status_code == 200
    client.post("/sign-out")
    replay = _browser_with(app, copied)
    response = replay.get("/")
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    [row] = _rows(user)
    assert row.ended_at is not None and row.end_reason == SessionEnd.SIGNED_OUT


def test_a_script_with_the_cookie_of_an_ended_session_is_told_it_is_signed_out(app, sign_in):
    client = sign_in(make_user())
    copied = _cookie(client)
    client.post("/sign-out")
    response = _browser_with(app, copied).get("/csrf-token", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.get_json()["error"] == "signed_out"


def test_signing_out_in_one_browser_leaves_the_other_signed_in(sign_in):
    user = make_user()
    first, second = sign_in(user), sign_in(user)
    first.post("/sign-out")
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 200


def test_an_idle_session_ends(sign_in, app):
    user = make_user()
    client = sign_in(user)
    _age(_rows(user)[0], idle=timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 1))
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    [row] = _rows(user)
    assert row.end_reason == SessionEnd.IDLE


def test_activity_extends_the_idle_timeout(sign_in, app):
    user = make_user()
    client = sign_in(user)
    idle = app.config["SESSION_IDLE_SECONDS"]
    _age(_rows(user)[0], idle=timedelta(seconds=idle - 30))
    assert client.get("/").status_code == 200  # still within the timeout: it starts again from now
    row = _rows(user)[0]
    assert utcnow() - row.last_seen_at < timedelta(seconds=5)
    _age(row, idle=timedelta(seconds=idle - 30), age=timedelta(seconds=2 * idle))
    assert client.get("/").status_code == 200  # twice the idle time after sign-in, thanks to the activity


def test_no_session_outlives_the_absolute_maximum_however_active(sign_in, app):
    user = make_user()
    client = sign_in(user)
    _age(_rows(user)[0], age=timedelta(seconds=app.config["SESSION_MAX_SECONDS"] + 1))
    assert client.get("/").status_code == 302
    assert _rows(user)[0].end_reason == SessionEnd.EXPIRED


def test_last_seen_is_written_at_most_once_a_minute(sign_in, app):
    user = make_user()
    client = sign_in(user)
    writes = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        for _ in range(3):
            assert client.get("/").status_code == 200
        assert writes == []
        _age(_rows(user)[0], idle=timedelta(seconds=61))
        writes.clear()
        for _ in range(3):
            assert client.get("/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert len(writes) == 1 and "sign_in_sessions" in writes[0]


def test_a_new_password_ends_every_session_of_the_person(app, sign_in):
    from reviewmech.accounts.services import set_password

    user = make_user()
    first, second = sign_in(user), sign_in(user)
    set_password(db.session.get(type(user), user.id), "another long enough passphrase")
    db.session.commit()
    assert first.get("/").status_code == 302 and second.get("/").status_code == 302
    assert {row.end_reason for row in _rows(user)} == {SessionEnd.PASSWORD_CHANGED}


def test_deactivation_ends_every_session_of_the_person(sign_in, secretariat_client):
    user = make_user()
    person = sign_in(user)
    secretariat_client.post(f"/people/{user.id}/deactivate")
    assert person.get("/").status_code == 302
    assert {row.end_reason for row in _rows(user)} == {SessionEnd.DEACTIVATED}


def test_a_forged_or_unknown_session_key_signs_no_one_in(app, sign_in):
    user = make_user()
    client = sign_in(user)
    with client.session_transaction() as session:
        session["sign_in"] = "not-the-key"
    assert client.get("/").status_code == 302
    assert _rows(user)[0].ended_at is None  # nothing was ended by a guess


def _key_in(app, client):
    """current_session_key() in a request carrying the client's cookie, in a context of its own."""
    headers = {"Cookie": f"session={_cookie(client)}", "User-Agent": client.environ_base["HTTP_USER_AGENT"]}

    def read():
        with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            return current_session_key()

    return contextvars.Context().run(read)


def test_the_session_key_is_stable_within_a_sign_in_and_differs_between_browsers(app, sign_in):
    user = make_user()
    first, second = sign_in(user), sign_in(user)
    assert _key_in(app, first) == _key_in(app, first) is not None
    assert _key_in(app, second) not in (None, _key_in(app, first))
    first.get("/")  # requests do not change it
    assert _key_in(app, first) == _rows(user)[0].key_hash


def test_there_is_no_session_key_when_signed_out(app, sign_in):
    client = sign_in(make_user())
    client.post("/sign-out")
    assert _key_in(app, client) is None


def test_session_durations_are_read_in_hours_with_fractions(monkeypatch, tmp_path):
    monkeypatch.setenv("REVIEWMECH_SESSION_IDLE_HOURS", "0.25")
    monkeypatch.setenv("REVIEWMECH_SESSION_MAX_HOURS", "8.5")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/s.sqlite3"})
    assert app.config["SESSION_IDLE_SECONDS"] == 900
    assert app.config["SESSION_MAX_SECONDS"] == app.config["PERMANENT_SESSION_LIFETIME"] == 8.5 * 3600


def test_the_defaults_are_half_an_hour_idle_and_twelve_hours_at_most(app):
    assert app.config["SESSION_IDLE_SECONDS"] == 1800
    assert app.config["SESSION_MAX_SECONDS"] == 12 * 3600


@pytest.mark.parametrize("value, message", [
    ("half", "REVIEWMECH_SESSION_IDLE_HOURS must be a number of hours such as 0.5 or 12, not 'half'"),
    ("0", "REVIEWMECH_SESSION_IDLE_HOURS must be more than 0 hours and less than a year, not '0'"),
    ("-1", "REVIEWMECH_SESSION_IDLE_HOURS must be more than 0 hours and less than a year, not '-1'"),
])
def test_a_bad_session_duration_stops_the_start_with_one_line(monkeypatch, value, message):
    monkeypatch.setenv("REVIEWMECH_SESSION_IDLE_HOURS", value)
    with pytest.raises(ConfigError) as raised:
        create_app()
    assert str(raised.value) == message
