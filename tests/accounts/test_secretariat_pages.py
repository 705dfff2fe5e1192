"""The secretariat's pages: people, States, audit log."""

import pytest
from sqlalchemy import select

from reviewmech.accounts.models import AccountStatus, RegionalGroup, State, User
from reviewmech.core.audit import AuditEvent
from reviewmech.extensions import db
from tests.factories import get_state, make_user


def test_people_can_be_searched_by_name_or_email(secretariat_client):
    make_user(name="Zoé Zimmermann", email="zz@example.org")
    make_user(name="Someone Else")
    page = secretariat_client.get("/people?q=zimmer").get_data(as_text=True)
    assert "Zoé Zimmermann" in page and "Someone Else" not in page
    page = secretariat_client.get("/people?q=ZZ@EXAMPLE").get_data(as_text=True)
    assert "Zoé Zimmermann" in page


def test_people_can_be_filtered_by_status_and_state(secretariat_client):
    make_user(name="Waiting Person", status=AccountStatus.PENDING_APPROVAL, state=get_state("KEN"))
    make_user(name="Active Person", state=get_state("KEN"))
    page = secretariat_client.get("/people?status=pending_approval").get_data(as_text=True)
    assert "Waiting Person" in page and "Active Person" not in page
    page = secretariat_client.get("/people?state=KEN").get_data(as_text=True)
    assert "Waiting Person" in page and "Active Person" in page


def test_a_bad_filter_is_ignored_with_the_full_list(secretariat_client):
    make_user(name="Listed Person")
    response = secretariat_client.get("/people?status=nonsense&q=" + "x" * 10_000)
    assert response.status_code == 200
    assert "Listed Person" in response.get_data(as_text=True)


def test_the_secretariat_cannot_deactivate_itself(app, secretariat_client):
    me = db.session.scalar(select(User).where(User.is_secretariat.is_(True)))
    response = secretariat_client.post(f"/people/{me.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert db.session.get(User, me.id).status == AccountStatus.ACTIVE


def test_roles_can_be_granted_and_are_audited(secretariat_client):
    user = make_user()
    secretariat_client.post(f"/people/{user.id}/grant-secretariat")
    assert db.session.get(User, user.id).is_secretariat
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.role_changed"))
    assert event.object_id == str(user.id) and event.details == {"secretariat": True}


def test_an_unknown_action_on_a_person_is_not_found(secretariat_client):
    user = make_user()
    assert secretariat_client.post(f"/people/{user.id}/delete-everything").status_code == 404


def test_the_list_of_states_has_all_193_member_states_in_five_groups(secretariat_client):
    page = secretariat_client.get("/states").get_data(as_text=True)
    assert "193 States" in page
    counts = {group: db.session.query(State).filter_by(regional_group=group).count() for group in RegionalGroup}
    assert sum(counts.values()) == 193 and all(counts.values())
    assert "54 States" in secretariat_client.get("/states?group=african").get_data(as_text=True)


def test_a_state_can_be_edited_and_the_change_is_audited(secretariat_client):
    response = secretariat_client.post("/states/FRA/edit", data={
        "name_en": "France", "name_fr": "France", "name_es": "Francia (edited)",
        "regional_group": "western_european_other", "is_tip_protocol_party": "y"})
    assert response.status_code == 302
    assert get_state("FRA").name_es == "Francia (edited)"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "state.edited")) is not None


@pytest.mark.parametrize("overrides, message", [
    ({"name_en": ""}, "This field is required."),
    ({"name_fr": "   "}, "This field is required."),
    ({"name_es": "x" * 10_000}, "Field cannot be longer than 200 characters."),
    ({"regional_group": "atlantis"}, "Not a valid choice."),
])
def test_a_state_edit_with_bad_input_changes_nothing(secretariat_client, overrides, message):
    data = {"name_en": "France", "name_fr": "France", "name_es": "Francia", "regional_group": "western_european_other"}
    data.update(overrides)
    response = secretariat_client.post("/states/FRA/edit", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    state = get_state("FRA")
    assert (state.name_en, state.name_fr, state.name_es) == ("France", "France", "Francia")


def test_an_unknown_state_is_not_found(secretariat_client):
    assert secretariat_client.get("/states/XYZ/edit").status_code == 404


def test_the_audit_log_lists_and_filters_events(secretariat_client, client):
    user = make_user(email="audited@example.org")
    client.post("/sign-in", data={"email": user.email, "password": "wrong password here"})
    failed = "Someone tried to sign in as audited@example.org with a wrong e-mail address or password."
    page = secretariat_client.get("/audit?action=sign_in.failed").get_data(as_text=True)
    assert failed in page and " signed in." not in page
    page = secretariat_client.get("/audit?actor=audited@").get_data(as_text=True)
    assert "No event matches." in page  # the failure has no actor: nobody signed in
    page = secretariat_client.get("/audit?action=sign_in.succeeded").get_data(as_text=True)
    assert " signed in." in page and failed not in page


def test_audit_events_cannot_be_changed(secretariat_client):
    event = db.session.scalars(select(AuditEvent)).first()
    event.action = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
