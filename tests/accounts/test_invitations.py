"""Invite → activate → approve: the account flow of the review mechanism."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reviewmech.accounts.models import AccountStatus, Invitation, User
from reviewmech.core.audit import AuditEvent
from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage
from tests.factories import make_user

STRONG = "Correct horse battery staple 2026"


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _invite(secretariat_client, **overrides):
    data = {"name": "Marie Curie", "email": "marie@example.fr", "state": "FRA", "locale": "fr"}
    data.update(overrides)
    return secretariat_client.post("/people/invite", data=data)


def _activation_link(email):
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == email, OutboxMessage.kind == "invitation")
    ).all()[-1]
    return re.search(r"http://reviewmech\.test(/activate/\S+)", message.body).group(1)


def _activation_data(**overrides):
    data = {"name": "Marie Curie", "job_title": "Prosecutor", "organization": "Ministère de la Justice",
            "locale": "fr", "password": STRONG, "confirm": STRONG}
    data.update(overrides)
    return data


def test_the_secretariat_invites_a_person_who_receives_a_link_in_their_language(secretariat_client):
    response = _invite(secretariat_client)
    user = db.session.scalar(select(User).where(User.email == "marie@example.fr"))
    assert response.status_code == 302 and response.location == f"/people/{user.id}"
    assert user.status == AccountStatus.INVITED and user.state.code == "FRA"
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "marie@example.fr"))
    assert "/activate/" in message.body
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    assert (invitation.expires_at - utcnow()) > timedelta(days=9, hours=23)
    assert _activation_link("marie@example.fr").split("/")[-1] not in invitation.token_hash
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.invited")).object_id == str(user.id)


def test_the_whole_flow_from_invitation_to_first_sign_in(client, secretariat_client):
    _invite(secretariat_client)
    link = _activation_link("marie@example.fr")
    page = client.get(link)
    assert page.status_code == 200 and "marie@example.fr" in page.get_data(as_text=True)
    response = client.post(link, data=_activation_data())
    assert response.status_code == 200
    assert "sent for approval" in response.get_data(as_text=True) or "approbation" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "marie@example.fr"))
    assert user.status == AccountStatus.PENDING_APPROVAL and user.job_title == "Prosecutor"
    refused = client.post("/sign-in", data={"email": "marie@example.fr", "password": STRONG})
    assert refused.status_code == 200 and client.get("/").status_code == 302
    assert secretariat_client.post(f"/people/{user.id}/approve").status_code == 302
    assert db.session.get(User, user.id).status == AccountStatus.ACTIVE
    assert client.post("/sign-in", data={"email": "marie@example.fr", "password": STRONG}).status_code == 302
    assert client.get("/").status_code == 200
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.to_address == "marie@example.fr")).all()
    assert sorted(kinds) == ["approved", "invitation"]


def test_a_used_link_gets_a_clear_page(client, secretariat_client):
    _invite(secretariat_client)
    link = _activation_link("marie@example.fr")
    client.post(link, data=_activation_data())
    response = client.get(link)
    assert response.status_code == 410
    assert "already been used" in response.get_data(as_text=True)


def test_an_expired_link_gets_a_clear_page_and_changes_nothing(client, secretariat_client):
    _invite(secretariat_client)
    link = _activation_link("marie@example.fr")
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post(link, data=_activation_data())
    assert response.status_code == 410
    assert "has expired. Ask the secretariat to send you a new one." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "marie@example.fr")).password_hash is None


def test_a_tampered_link_gets_a_clear_page(client, secretariat_client):
    _invite(secretariat_client)
    response = client.get(_activation_link("marie@example.fr") + "x")
    assert response.status_code == 410
    assert "This activation link is not valid" in response.get_data(as_text=True)


def test_a_new_link_replaces_the_old_one(client, secretariat_client):
    _invite(secretariat_client)
    old = _activation_link("marie@example.fr")
    user = db.session.scalar(select(User).where(User.email == "marie@example.fr"))
    secretariat_client.post(f"/people/{user.id}/resend-invitation")
    new = _activation_link("marie@example.fr")
    assert new != old
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200


@pytest.mark.parametrize("overrides, message", [
    ({"password": "short pw", "confirm": "short pw"}, "Use at least 12 characters."),
    ({"password": "marie@example.fr", "confirm": "marie@example.fr"}, "must not be your e-mail address"),
    ({"password": "password1234", "confirm": "password1234"}, "too common"),
    ({"password": "iloveyouiloveyou", "confirm": "iloveyouiloveyou"}, "too common"),
    ({"confirm": "something else entirely"}, "The two passwords are not the same."),
    ({"name": "   "}, "This field is required."),
    ({"name": "x" * 10_000}, "Field cannot be longer than 200 characters."),
    ({"password": "p" * 10_000, "confirm": "p" * 10_000}, "Field cannot be longer than 1024 characters."),
])
def test_activation_refuses_bad_input_and_saves_nothing(client, secretariat_client, overrides, message):
    _invite(secretariat_client)
    link = _activation_link("marie@example.fr")
    response = client.post(link, data=_activation_data(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "marie@example.fr"))
    assert user.status == AccountStatus.INVITED and user.password_hash is None
    assert db.session.scalar(select(Invitation)).used_at is None


def test_a_non_ascii_name_and_email_are_kept(client, secretariat_client):
    response = _invite(secretariat_client, name="Đặng Thị Ngọc Thịnh", email="ngọc@việtnam.vn", state="VNM")
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.name == "Đặng Thị Ngọc Thịnh"))
    assert user.email == "ngọc@việtnam.vn"


@pytest.mark.parametrize("overrides, message", [
    ({"email": "not-an-address"}, "Enter a valid e-mail address."),
    ({"email": ""}, "This field is required."),
    ({"name": "x" * 10_000}, "Field cannot be longer than 200 characters."),
    ({"email": "a" * 10_000 + "@example.org"}, "Field cannot be longer than 254 characters."),
    ({"state": ""}, "Choose the State this person represents."),
    ({"state": "XXX"}, "Not a valid choice."),
])
def test_invitations_refuse_bad_input_and_create_nothing(secretariat_client, overrides, message):
    users, messages = _count(User), _count(OutboxMessage)
    response = _invite(secretariat_client, **overrides)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert (_count(User), _count(OutboxMessage)) == (users, messages)


def test_an_address_already_in_use_is_refused(secretariat_client):
    make_user(email="taken@example.org")
    users = _count(User)
    response = _invite(secretariat_client, email="TAKEN@example.org")
    assert "already has an account" in response.get_data(as_text=True)
    assert _count(User) == users


def test_approving_an_account_that_has_not_completed_its_profile_is_refused(secretariat_client):
    _invite(secretariat_client)
    user = db.session.scalar(select(User).where(User.email == "marie@example.fr"))
    response = secretariat_client.post(f"/people/{user.id}/approve", follow_redirects=True)
    assert "Only a completed profile that waits for approval can be approved." in response.get_data(as_text=True)
    assert db.session.get(User, user.id).status == AccountStatus.INVITED
