"""Signing in and out: messages, refusals, session handling, rate limits, audit."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from reviewmech.accounts.models import AccountStatus
from reviewmech.core.audit import AuditEvent
from reviewmech.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import DEFAULT_PASSWORD, make_user

WRONG = "The e-mail address or password is not correct."


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_a_person_signs_in_and_sees_the_dashboard(client):
    user = make_user(name="Ana Lima")
    response = client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert "Welcome, Ana Lima" in client.get("/").get_data(as_text=True)
    assert len(_events("sign_in.succeeded")) == 1


def test_the_email_is_matched_without_regard_to_case(client):
    user = make_user(email="mixed.case@example.org")
    response = client.post("/sign-in", data={"email": "Mixed.Case@EXAMPLE.org", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert _events("sign_in.succeeded")[0].actor_id == user.id


@pytest.mark.parametrize("email, password", [
    ("person-who-does-not-exist@example.org", DEFAULT_PASSWORD),
    (None, "not the password at all"),
])
def test_wrong_credentials_get_one_message_and_are_audited(client, email, password):
    user = make_user()
    response = client.post("/sign-in", data={"email": email or user.email, "password": password})
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out
    failures = _events("sign_in.failed")
    assert len(failures) == 1 and failures[0].details["email"] == (email or user.email)


@pytest.mark.parametrize("status, message", [
    (AccountStatus.PENDING_APPROVAL, "Your profile is waiting for approval by the secretariat."),
    (AccountStatus.DEACTIVATED, "This account has been deactivated. Please contact the secretariat."),
])
def test_accounts_that_may_not_sign_in_are_told_why(client, status, message):
    user = make_user(status=status)
    response = client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert message in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert db.session.get(type(user), user.id).last_sign_in_at is None


def test_an_invited_account_without_password_cannot_sign_in(client):
    user = make_user(status=AccountStatus.INVITED, password_hash=None)
    response = client.post("/sign-in", data={"email": user.email, "password": "anything at all here"})
    assert WRONG in response.get_data(as_text=True)


def test_an_off_site_next_is_refused(client):
    user = make_user()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(f"/sign-in?next={target}", data={"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.location == "/", target
        client.post("/sign-out")


def test_an_on_site_next_is_followed(client):
    user = make_user(is_secretariat=True, state=None)
    response = client.post("/sign-in?next=/people", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.location == "/people"


def test_the_session_is_new_after_sign_in(client):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == str(user.id) and session["sign_in"]


def test_sign_out_ends_the_session(person_client):
    response = person_client.post("/sign-out")
    assert response.status_code == 302
    assert person_client.get("/").status_code == 302


def test_sign_out_needs_the_csrf_token(app, person_client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = person_client.post("/sign-out")
        assert response.status_code == 400
        assert "Your form expired" in response.get_data(as_text=True)
        assert person_client.get("/").status_code == 200  # still signed in
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_sign_in_form_carries_a_csrf_token_and_refuses_a_post_without_it(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        user = make_user()
        token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
        refused = client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD})
        assert refused.status_code == 400
        accepted = client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                                 "csrf_token": token})
        assert accepted.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_repeated_failures_are_rate_limited_with_a_clear_message_and_audited(client):
    user = make_user()
    for _ in range(5):
        assert client.post("/sign-in", data={"email": user.email, "password": "wrong password here"}).status_code == 200
    response = client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert len(_events("sign_in.rate_limited")) >= 1
    assert not _events("sign_in.succeeded")


def test_successful_sign_ins_do_not_count_against_the_limit(client):
    user = make_user()
    for _ in range(7):
        assert client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
        client.post("/sign-out")


@pytest.mark.parametrize("data, message", [
    ({"email": "", "password": ""}, "This field is required."),
    ({"email": "x" * 10_000 + "@example.org", "password": "p"}, "Field cannot be longer than 254 characters."),
    ({"email": "a@example.org", "password": "p" * 10_000}, "Field cannot be longer than 1024 characters."),
])
def test_bad_input_is_answered_next_to_the_field(client, data, message):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post("/sign-in", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_a_non_ascii_email_signs_in(client):
    user = make_user(email="josé.núñez@ejemplo.es")
    response = client.post("/sign-in", data={"email": "José.Núñez@ejemplo.es", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert _events("sign_in.succeeded")[0].actor_id == user.id


def test_deactivation_ends_existing_sessions(sign_in, secretariat_client):
    user = make_user()
    person = sign_in(user)
    assert person.get("/").status_code == 200
    secretariat_client.post(f"/people/{user.id}/deactivate")
    assert person.get("/").status_code == 302


def test_a_password_hashed_at_another_cost_is_hashed_again_at_sign_in(sign_in):
    from argon2 import PasswordHasher

    from reviewmech.accounts.models import User

    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(DEFAULT_PASSWORD)
    user = make_user(password_hash=older)
    sign_in(user)
    stored = db.session.get(User, user.id).password_hash
    assert stored != older and stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # the configured cost


def test_production_hashes_use_argon2s_recommended_cost(app):
    from reviewmech.config import settings_from_environment

    settings = settings_from_environment(Path(app.instance_path))
    cost = (settings["ARGON2_TIME_COST"], settings["ARGON2_MEMORY_KIB"], settings["ARGON2_PARALLELISM"])
    assert cost == (3, 65536, 4)
