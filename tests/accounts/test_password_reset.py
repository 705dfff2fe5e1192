"""Password reset by e-mailed link."""

import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from reviewmech.accounts.models import AccountStatus
from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage
from tests.factories import DEFAULT_PASSWORD, make_user

NEW = "Another long passphrase 42"
SAME_ANSWER = "If an active account uses this address"


def _reset_link(email):
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == email))
    return re.search(r"http://reviewmech\.test(/password/reset/\S+)", message.body).group(1)


@pytest.mark.parametrize("known", [True, False])
def test_the_answer_is_the_same_whether_or_not_the_address_exists(client, known):
    make_user(email="known@example.org")
    email = "known@example.org" if known else "unknown@example.org"
    response = client.post("/password/forgot", data={"email": email}, follow_redirects=True)
    assert SAME_ANSWER in response.get_data(as_text=True)
    sent = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert sent == (1 if known else 0)


def test_a_reset_link_changes_the_password_once(client):
    user = make_user(email="known@example.org")
    client.post("/password/forgot", data={"email": "known@example.org"})
    link = _reset_link("known@example.org")
    response = client.post(link, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    assert client.post("/sign-in", data={"email": user.email, "password": NEW}).status_code == 302
    again = client.get(link)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_no_link_is_sent_to_a_deactivated_account(client):
    make_user(email="gone@example.org", status=AccountStatus.DEACTIVATED)
    client.post("/password/forgot", data={"email": "gone@example.org"})
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_expired_link_gets_a_clear_page(app, client):
    user = make_user()
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset")
    token = serializer.dumps({"u": user.id, "f": "x"})
    app.config["PASSWORD_RESET_HOURS"] = -1
    try:
        response = client.get(f"/password/reset/{token}")
    finally:
        app.config["PASSWORD_RESET_HOURS"] = 2
    assert response.status_code == 410 and "has expired" in response.get_data(as_text=True)


def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client):
    user = make_user(email="known@example.org")
    before = user.password_hash
    client.post("/password/forgot", data={"email": "known@example.org"})
    link = _reset_link("known@example.org")
    response = client.post(link[:-3] + "abc", data={"password": NEW, "confirm": NEW})
    assert response.status_code == 410 and "is not valid" in response.get_data(as_text=True)
    assert db.session.get(type(user), user.id).password_hash == before


def test_a_weak_new_password_is_refused_and_nothing_changes(client):
    user = make_user(email="known@example.org")
    before = user.password_hash
    client.post("/password/forgot", data={"email": "known@example.org"})
    weak = {"password": "qwertyuiop12", "confirm": "qwertyuiop12"}
    response = client.post(_reset_link("known@example.org"), data=weak)
    assert response.status_code == 200 and "too common" in response.get_data(as_text=True)
    assert db.session.get(type(user), user.id).password_hash == before
