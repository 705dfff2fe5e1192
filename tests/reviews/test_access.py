"""Who reaches what in a review, over every route, role and phase (the policy itself: test_policy.py)."""

from datetime import date

import pytest
from sqlalchemy import select

from reviewmech.extensions import db
from reviewmech.reviews.models import Phase, Review, Role
from tests.conftest import count_queries
from tests.factories import get_state, make_questionnaire, make_review, make_user, participant

PEOPLE = ["outsider", "secretariat", "under_review:focal_point", "under_review:expert", "under_review:contributor",
          "under_review:observer", "reviewing:focal_point", "reviewing:expert", "reviewing:observer"]

def _person(review, who):
    if who == "outsider":
        return make_user(state=get_state("KEN"))
    if who == "secretariat":
        return make_user(state=None, is_secretariat=True)
    side, role = who.split(":")
    if role == "focal_point":
        state_id = review.state_id if side == "under_review" else review.reviewing_states[0].state_id
        return next(p.user for p in review.participants if p.role == Role.FOCAL_POINT and p.state_id == state_id)
    code = review.state.code if side == "under_review" else review.reviewing_states[0].state.code
    return participant(review, role, code)


GET_ROUTES = ["/reviews/{id}", "/reviews/{id}/participants"]
POST_ROUTES = ["/reviews/{id}/phase", "/reviews/{id}/redraw", "/reviews/{id}/deadline",
               "/reviews/{id}/participants", "/reviews/{id}/participants/{pid}/end"]


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("who", PEOPLE)
def test_every_route_of_a_review_by_role_and_phase(sign_in, who, phase):
    review = make_review("MEX")
    db.session.execute(Review.__table__.update().where(Review.id == review.id).values(phase=phase.value))
    db.session.commit()
    person = _person(review, who)
    pid = review.participants[0].id
    client = sign_in(person)
    for route in GET_ROUTES:
        status = client.get(route.format(id=review.id)).status_code
        assert status == (404 if who == "outsider" else 200), (route, status)
    for route in POST_ROUTES:
        status = client.post(route.format(id=review.id, pid=pid), data={}).status_code
        if who == "outsider":
            expected = {404}
        elif route.endswith("/deadline") and who != "secretariat":
            expected = {403}
        elif route.endswith("/participants") and who not in ("secretariat", "under_review:focal_point",
                                                               "reviewing:focal_point"):
            expected = {403}
        else:
            expected = {200, 302}  # a form answered with its message, or a redirect with a flash
        assert status in expected, (route, status)
    assert db.session.get(Review, review.id).phase == phase  # nothing moved: no form data


def test_an_unknown_review_is_not_found_like_one_outside_a_persons_reviews(person_client):
    assert person_client.get("/reviews/999999").status_code == 404


def test_the_secretariat_overview_lists_reviews_with_overdue_highlighted(secretariat_client):
    review = make_review("MEX")
    secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    db.session.execute(Review.__table__.update().values(self_assessment_due_on=date(2020, 1, 1)))
    db.session.commit()
    page = secretariat_client.get("/reviews").get_data(as_text=True)
    assert "Mexico" in page and "Guatemala; France" in page and 'class="overdue"' in page
    assert "Self-assessment: <strong>1</strong>" in page
    filtered = secretariat_client.get("/reviews?phase=final").get_data(as_text=True)
    assert "No review matches." in filtered
    by_group = secretariat_client.get("/reviews?group=african&cycle=2026").get_data(as_text=True)
    assert "No review matches." in by_group




def test_the_secretariat_overview_needs_as_many_queries_for_200_reviews_as_for_2(secretariat_client):
    from reviewmech.accounts.models import State
    from reviewmech.reviews.services import open_review

    questionnaire = make_questionnaire()
    parties = db.session.scalars(select(State).where(State.is_tip_protocol_party.is_(True)).order_by(State.code)).all()
    for state in parties[:2]:
        open_review(state=state, questionnaire=questionnaire, cycle=2030, by=None)
    db.session.commit()
    few = count_queries(secretariat_client, "/reviews")
    for cycle in (2031, 2032):
        for state in parties[:99]:
            open_review(state=state, questionnaire=questionnaire, cycle=cycle, by=None)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Review)) == 200
    many = count_queries(secretariat_client, "/reviews")
    assert many == few, (few, many)


def test_a_person_sees_their_reviews_by_role_with_the_next_action_and_deadline(sign_in, secretariat_client):
    review = make_review("MEX")
    secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    focal_point = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                       and p.state_id == review.state_id)
    page = sign_in(focal_point).get("/").get_data(as_text=True)
    assert "As focal point" in page and "Review of Mexico" in page
    assert "Coordinate, clear and submit the answers" in page
    assert db.session.get(Review, review.id).self_assessment_due_on.isoformat() in page
    reviewer = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                    and p.state_id != review.state_id)
    assert "Wait for the answers of the State under review" in sign_in(reviewer).get("/").get_data(as_text=True)


def test_a_reviews_home_shows_timeline_states_participants_and_activity(secretariat_client):
    review = make_review("MEX")
    page = secretariat_client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'aria-current="step"' in page and "Preparation" in page
    assert "Guatemala" in page and "France" in page
    assert "Focal point" in page
    assert "0 of" in page and "required questions answered" in page
    assert "the system opened the review" in page and "review.opened" not in page
