"""Opening reviews, drawing reviewers, participants, phases, deadlines and reminders."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from reviewmech.core.audit import AuditEvent
from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage
from reviewmech.reviews.models import LotDraw, Participant, Phase, ReminderSent, Review, ReviewState, Role
from reviewmech.reviews.services import queue_reminders, today_utc
from tests.factories import get_state, make_questionnaire, make_review, make_user, participant


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _flash(client, response):
    return client.get(response.location).get_data(as_text=True)


# Opening ---------------------------------------------------------------------------------------

def test_the_secretariat_opens_a_review_that_pins_its_questionnaire_version(secretariat_client):
    questionnaire = make_questionnaire()
    db.session.commit()
    response = secretariat_client.post("/reviews/open", data={
        "state": "MEX", "questionnaire": questionnaire.id, "cycle": 2027,
        "self_assessment_months": 6, "desk_review_months": 6})
    review = db.session.scalar(select(Review))
    assert response.status_code == 302 and response.location == f"/reviews/{review.id}"
    assert review.phase == Phase.PREPARATION and review.questionnaire_id == questionnaire.id
    assert review.required_total > 0 and review.required_answered == 0
    assert _events("review.opened")[0].details["state"] == "MEX"


@pytest.mark.parametrize("state, message", [
    ("MEX", "A review of Mexico on this questionnaire in 2026 already exists."),
    ("PNG", "is not a party to the Protocol"),
])
def test_opening_a_duplicate_or_a_non_party_review_is_refused(secretariat_client, state, message):
    review = make_review("MEX")
    before = _count(Review)
    response = secretariat_client.post("/reviews/open", data={
        "state": state, "questionnaire": review.questionnaire_id, "cycle": 2026,
        "self_assessment_months": 6, "desk_review_months": 6})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _count(Review) == before


def test_opening_with_bad_numbers_is_refused(secretariat_client):
    questionnaire = make_questionnaire()
    db.session.commit()
    response = secretariat_client.post("/reviews/open", data={
        "state": "MEX", "questionnaire": questionnaire.id, "cycle": 1999,
        "self_assessment_months": 0, "desk_review_months": 6})
    assert "Number must be between 2020 and 2100." in response.get_data(as_text=True)
    assert _count(Review) == 0


# Drawing of lots -------------------------------------------------------------------------------

def _open(runner, *codes, cycle=2027):
    make_questionnaire()
    db.session.commit()
    for code in codes:
        result = runner.invoke(args=["reviews", "open", "--state", code, "--questionnaire",
                                     "tip-protocol-resolution", "--cycle", str(cycle)])
        assert result.exit_code == 0, result.output


def test_draw_lots_gives_each_review_two_reviewers_and_verifies_from_its_seed(runner):
    _open(runner, "MEX", "NGA", "FRA", "JPN")
    result = runner.invoke(args=["reviews", "draw-lots", "--cycle", "2027", "--seed", "42"])
    assert result.exit_code == 0, result.output
    reviews = db.session.scalars(select(Review)).all()
    for review in reviews:
        same, other = review.reviewing_states
        assert same.state.regional_group == review.state.regional_group
        assert other.state.regional_group != review.state.regional_group
        assert review.state_id not in (same.state_id, other.state_id)
        assert same.state.is_tip_protocol_party and other.state.is_tip_protocol_party
    record = db.session.scalar(select(LotDraw))
    assert record.seed == 42
    assert runner.invoke(args=["reviews", "verify-draw", str(record.id)]).exit_code == 0
    assert len(_events("review.reviewers_drawn")) == 4


def test_the_same_seed_and_inputs_give_the_same_pairs(runner):
    _open(runner, "MEX", "NGA", "FRA", "JPN")
    runner.invoke(args=["reviews", "draw-lots", "--cycle", "2027", "--seed", "7"])
    first = {r.state.code: [s.state.code for s in r.reviewing_states] for r in db.session.scalars(select(Review))}
    db.session.execute(ReviewState.__table__.delete().where(ReviewState.role == "reviewing"))
    db.session.commit()
    runner.invoke(args=["reviews", "draw-lots", "--cycle", "2027", "--seed", "7"])
    db.session.expire_all()
    second = {r.state.code: [s.state.code for s in r.reviewing_states] for r in db.session.scalars(select(Review))}
    assert first == second


def test_a_draw_that_cannot_be_met_names_the_state_and_stores_nothing(runner):
    _open(runner, "MEX")
    for state in db.session.scalars(select(type(get_state()))):
        if state.regional_group.value == "latin_american_caribbean" and state.code != "MEX":
            state.is_tip_protocol_party = False
    db.session.commit()
    result = runner.invoke(args=["reviews", "draw-lots", "--cycle", "2027"])
    assert result.exit_code == 1
    assert "MEX" in result.output and "own regional group" in result.output
    assert _count(LotDraw) == 0 and _count(ReviewState, ReviewState.role == "reviewing") == 0


def test_a_draw_for_a_year_without_reviews_is_refused(runner):
    result = runner.invoke(args=["reviews", "draw-lots", "--cycle", "2031"])
    assert result.exit_code == 1 and "No review is open for 2031: open the reviews first." in result.output
    assert _count(LotDraw) == 0


def test_a_draw_with_every_review_already_drawn_is_refused(runner):
    _open(runner, "MEX")
    runner.invoke(args=["reviews", "draw-lots", "--cycle", "2027"])
    result = runner.invoke(args=["reviews", "draw-lots", "--cycle", "2027"])
    assert result.exit_code == 1 and "already has its reviewing States" in result.output


def test_the_state_under_review_may_ask_for_one_redraw(sign_in):
    review = make_review("MEX")
    focal_point = db.session.scalar(select(Participant).where(Participant.role == Role.FOCAL_POINT,
                                                              Participant.state_id == review.state_id)).user
    client = sign_in(focal_point)
    old = {s.slot: s.state.code for s in review.reviewing_states}
    response = client.post(f"/reviews/{review.id}/redraw", data={"slot": "other_group"})
    assert "has been drawn instead" in _flash(client, response)
    db.session.refresh(review)
    new = {s.slot: s.state.code for s in review.reviewing_states}
    assert new["same_group"] == old["same_group"] and new["other_group"] != old["other_group"]
    assert get_state(new["other_group"]).regional_group != review.state.regional_group
    assert len(_events("review.reviewer_redrawn")) == 1
    # The replaced State's people no longer take part.
    assert not [p for p in review.participants if p.is_active and p.state.code == old["other_group"]]
    again = client.post(f"/reviews/{review.id}/redraw", data={"slot": "same_group"})
    assert "This review has used its 1 redraw(s)." in _flash(client, again)


def test_a_reviewing_state_cannot_ask_for_a_redraw(sign_in):
    review = make_review("MEX")
    user = participant(review, "expert", "FRA")
    client = sign_in(user)
    response = client.post(f"/reviews/{review.id}/redraw", data={"slot": "other_group"})
    assert "Only the focal point of the State under review" in _flash(client, response)
    assert len(_events("review.reviewer_redrawn")) == 0


# Participants ----------------------------------------------------------------------------------

def test_replacing_a_focal_point_is_audited_and_notified(secretariat_client):
    review = make_review("MEX")
    old = next(p for p in review.participants if p.role == Role.FOCAL_POINT and p.state_id == review.state_id)
    new = make_user(state=get_state("MEX"), email="new.fp@example.org")
    response = secretariat_client.post(f"/reviews/{review.id}/participants", data={
        "state": str(review.state_id), "role": "focal_point", "email": new.email, "locale": "en"})
    assert response.status_code == 302
    active = [p for p in db.session.scalars(select(Participant).where(
        Participant.review_id == review.id, Participant.role == Role.FOCAL_POINT,
        Participant.state_id == review.state_id, Participant.ended_at.is_(None)))]
    assert [p.user.email for p in active] == ["new.fp@example.org"]
    assert db.session.get(Participant, old.id).ended_at is not None
    assert _events("review.focal_point_replaced")[0].details["new"] == "new.fp@example.org"
    assert _count(OutboxMessage, OutboxMessage.kind == "focal_point_replaced",
                  OutboxMessage.to_address == old.user.email) == 1


@pytest.mark.parametrize("data, message", [
    ({"state": "GTM_ID", "role": "focal_point", "email": "x@example.org"}, "Not a valid choice."),
    ({"role": "contributor", "email": "c@example.org", "name": "C"}, "Assign at least one section"),
    ({"role": "expert", "email": "stranger@example.org"}, "give their name to invite them"),
    ({"role": "expert", "email": "FRENCH"}, "is registered for another State."),
    ({"role": "expert", "email": "x" * 300 + "@example.org"}, "Field cannot be longer than 254 characters."),
])
def test_adding_a_participant_with_bad_input_changes_nothing(secretariat_client, data, message):
    review = make_review("MEX")
    french = make_user(state=get_state("FRA"))
    data = {"state": str(review.state_id), "locale": "en", **data}
    if data["state"] == "GTM_ID":
        data["state"] = str(get_state("KEN").id)
    if data["email"] == "FRENCH":
        data["email"] = french.email
    before = (_count(Participant), _count(type(french)))
    response = secretariat_client.post(f"/reviews/{review.id}/participants", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert (_count(Participant), _count(type(french))) == before


def test_a_focal_point_invites_an_expert_of_their_own_state(sign_in):
    review = make_review("MEX")
    focal_point = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                       and p.state_id == review.state_id)
    client = sign_in(focal_point)
    response = client.post(f"/reviews/{review.id}/participants", data={
        "state": str(review.state_id), "role": "expert", "email": "nuevo@example.mx", "name": "Nuevo Experto",
        "locale": "es"})
    assert response.status_code == 302
    added = db.session.scalar(select(Participant).where(Participant.role == Role.EXPERT))
    assert added.user.email == "nuevo@example.mx" and added.user.status.value == "invited"
    assert _count(OutboxMessage, OutboxMessage.kind == "invitation") == 1


def test_a_focal_point_cannot_add_people_of_another_state_or_name_a_focal_point(sign_in):
    review = make_review("MEX")
    focal_point = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                       and p.state_id == review.state_id)
    client = sign_in(focal_point)
    before = _count(Participant)
    other = client.post(f"/reviews/{review.id}/participants", data={
        "state": str(get_state("FRA").id), "role": "expert", "email": "a@example.fr", "name": "A", "locale": "fr"})
    assert "Not a valid choice." in other.get_data(as_text=True)
    fp = client.post(f"/reviews/{review.id}/participants", data={
        "state": str(review.state_id), "role": "focal_point", "email": "b@example.mx", "name": "B", "locale": "es"})
    assert "Not a valid choice." in fp.get_data(as_text=True)
    assert _count(Participant) == before


def test_a_contributor_gets_the_sections_assigned(secretariat_client):
    review = make_review("MEX")
    response = secretariat_client.post(f"/reviews/{review.id}/participants", data={
        "state": str(review.state_id), "role": "contributor", "email": "ngo@example.mx", "name": "NGO person",
        "locale": "es", "sections": ["OP4", "OP13(g)"]})
    assert response.status_code == 302
    assert db.session.scalar(select(Participant.sections).where(Participant.role == Role.CONTRIBUTOR)) == \
        ["OP4", "OP13(g)"]


# Phases ----------------------------------------------------------------------------------------

def test_the_secretariat_starts_the_self_assessment_and_the_clock(secretariat_client):
    review = make_review("MEX")
    response = secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    assert "now in the phase “Self-assessment”" in _flash(secretariat_client, response)
    review = db.session.get(Review, review.id)
    assert review.phase == Phase.SELF_ASSESSMENT
    assert (review.self_assessment_due_on - today_utc()).days in range(181, 185)
    assert _events("review.phase_changed")[0].details == {"before": "preparation", "after": "self_assessment"}
    assert _count(OutboxMessage, OutboxMessage.kind == "phase_changed") == 3  # the three focal points


@pytest.mark.parametrize("target, message", [
    ("desk_review", "cannot move to “Desk review”"),
    ("final", "cannot move to “Final”"),
    ("nonsense", "Choose the next phase."),
])
def test_a_transition_out_of_order_is_refused(secretariat_client, target, message):
    review = make_review("MEX")
    response = secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": target})
    assert message in _flash(secretariat_client, response)
    assert db.session.get(Review, review.id).phase == Phase.PREPARATION
    assert not _events("review.phase_changed")


def test_a_transition_by_the_wrong_role_is_refused(sign_in):
    review = make_review("MEX")
    expert = participant(review, "expert")
    client = sign_in(expert)
    response = client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    assert "Only the secretariat can move this review to “Self-assessment”." in _flash(client, response)
    assert db.session.get(Review, review.id).phase == Phase.PREPARATION


def test_the_self_assessment_needs_reviewers_and_a_focal_point(secretariat_client):
    review = make_review("MEX", focal_point=False)
    response = secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    assert "Name the focal point of the State under review" in _flash(secretariat_client, response)


def test_the_focal_point_submits_and_the_desk_review_clock_starts(sign_in, secretariat_client):
    review = make_review("MEX")
    secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    focal_point = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                       and p.state_id == review.state_id)
    client = sign_in(focal_point)
    detour = client.post(f"/reviews/{review.id}/phase", data={"phase": "desk_review"})
    assert detour.location == f"/reviews/{review.id}/answers/submit"
    assert db.session.get(Review, review.id).phase == Phase.SELF_ASSESSMENT
    from reviewmech.reviews.policy import membership
    from reviewmech.reviews.services import move_review

    move_review(review, Phase.DESK_REVIEW, by=focal_point, standing=membership(focal_point, review), today=today_utc())
    db.session.commit()
    review = db.session.get(Review, review.id)
    assert review.phase == Phase.DESK_REVIEW and review.submitted_at is not None
    assert review.desk_review_due_on is not None


# Deadlines and reminders -----------------------------------------------------------------------

def _in_self_assessment(secretariat_client):
    review = make_review("MEX")
    secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    return db.session.get(Review, review.id)


@pytest.mark.parametrize("days, reason, message", [
    (-1, "Elections", "The new deadline must be in the future."),
    (10, "Elections", "The new deadline must be later than the current one"),
    (400, "", "This field is required."),
])
def test_a_bad_extension_changes_nothing(secretariat_client, days, reason, message):
    review = _in_self_assessment(secretariat_client)
    due = review.self_assessment_due_on
    new = today_utc() + timedelta(days=days)
    response = secretariat_client.post(f"/reviews/{review.id}/deadline",
                                       data={"due_on": new.isoformat(), "reason": reason})
    assert message in _flash(secretariat_client, response)
    assert db.session.get(Review, review.id).self_assessment_due_on == due
    assert not _events("review.deadline_extended")


def test_the_secretariat_extends_a_deadline_with_a_reason(secretariat_client, sign_in):
    review = _in_self_assessment(secretariat_client)
    new = review.self_assessment_due_on + timedelta(days=30)
    secretariat_client.post(f"/reviews/{review.id}/deadline", data={"due_on": new.isoformat(),
                                                                    "reason": "National elections"})
    assert db.session.get(Review, review.id).self_assessment_due_on == new
    assert _events("review.deadline_extended")[0].details["reason"] == "National elections"
    expert = participant(review, "expert")
    refused = sign_in(expert).post(f"/reviews/{review.id}/deadline", data={"due_on": new.isoformat(),
                                                                           "reason": "x"})
    assert refused.status_code == 403


def test_each_reminder_is_queued_once_however_often_the_command_runs(secretariat_client, runner):
    review = _in_self_assessment(secretariat_client)
    due = review.self_assessment_due_on

    def remind(day: date):
        return runner.invoke(args=["notifications", "remind", "--today", day.isoformat()]).output

    assert "0 review(s)" in remind(due - timedelta(days=31))
    assert "1 review(s)" in remind(due - timedelta(days=30))
    assert "0 review(s)" in remind(due - timedelta(days=29))
    assert "1 review(s)" in remind(due - timedelta(days=5))   # the 7-day reminder, late but once
    assert "0 review(s)" in remind(due - timedelta(days=5))
    assert "1 review(s)" in remind(due - timedelta(days=1))
    assert "1 review(s)" in remind(due + timedelta(days=1))   # the day it passed
    assert "0 review(s)" in remind(due + timedelta(days=2))
    days = sorted(r.days_before for r in db.session.scalars(select(ReminderSent)))
    assert days == [0, 1, 7, 30]
    reminders = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "deadline_reminder")).all()
    assert len(reminders) == 4  # one focal point of Mexico, four reminders
    assert "the deadline has passed" in reminders[-1].subject


def test_reminders_start_again_for_an_extended_deadline(secretariat_client):
    review = _in_self_assessment(secretariat_client)
    due = review.self_assessment_due_on
    assert queue_reminders(due - timedelta(days=1)) == 1
    review.self_assessment_due_on = due + timedelta(days=60)
    db.session.commit()
    assert queue_reminders(due + timedelta(days=30)) == 1  # 30 days before the new deadline
