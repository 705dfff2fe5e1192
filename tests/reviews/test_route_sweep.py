"""Every page of a review, as every kind of person, in every phase: canary texts never reach who may not see them."""

import io
import re

import pytest
from sqlalchemy import select

from reviewmech.extensions import db
from reviewmech.responses.models import Attachment, Submission
from reviewmech.reviews.models import Phase, PhaseChange, Review, Role
from tests.factories import get_state, make_user
from tests.responses.helpers import answering_review

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DRAFT, CONTRIBUTION, LATE_FILE = "CANARY-DRAFT-7f3a", "CANARY-CONTRIBUTION-19be", "CANARY-FILE-c2d4"
SUBMITTED = "Submitted answer 55e1"
PEOPLE = ["outsider", "secretariat", "under_review:focal_point", "under_review:expert", "under_review:contributor",
          "under_review:observer", "reviewing:focal_point", "reviewing:expert", "reviewing:observer"]
SAMPLES = {"section_code": ["OP1", "OP2"], "code": ["1.3", "2.4"]}  # every argument of a review's routes


def _save(client, review, code, value, version=0):
    response = client.post(f"/reviews/{review.id}/answers/autosave/{code}", json={"value": value, "version": version})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["version"]


def _prepare(people, phase, sign_in):
    """Answers in `phase`: submitted (from the desk review on), then edited as drafts; a contribution; a late file."""
    review = people.review
    fp = sign_in(people.focal_point)
    _save(fp, review, "1.1", "no")
    version = _save(fp, review, "1.3", SUBMITTED if phase.index >= Phase.DESK_REVIEW.index else DRAFT)
    if phase.index >= Phase.DESK_REVIEW.index:
        assert fp.post(f"/reviews/{review.id}/answers/submit").status_code == 302
        assert db.session.scalar(select(Submission)) is not None
        _set_phase(review, Phase.DIALOGUE)
        _save(fp, review, "1.3", DRAFT, version)  # typed after the submission: never released
        fp.post(f"/reviews/{review.id}/answers/attachments/2.3", data={"file": (io.BytesIO(PDF), f"{LATE_FILE}.pdf")},
                content_type="multipart/form-data")
        _save(sign_in(people.contributor), review, "2.4", CONTRIBUTION)
    else:
        _set_phase(review, Phase.SELF_ASSESSMENT)
        fp.post(f"/reviews/{review.id}/answers/attachments/2.3", data={"file": (io.BytesIO(PDF), f"{LATE_FILE}.pdf")},
                content_type="multipart/form-data")
        _save(sign_in(people.contributor), review, "2.4", CONTRIBUTION)
    _set_phase(review, phase)


def _set_phase(review, phase):
    db.session.execute(Review.__table__.update().where(Review.id == review.id).values(phase=phase.value))
    db.session.add(PhaseChange(review_id=review.id, phase=phase))
    db.session.commit()


def _person(people, who):
    if who == "outsider":
        return make_user(state=get_state("KEN"))
    if who == "secretariat":
        return make_user(state=None, is_secretariat=True)
    return {"under_review:focal_point": people.focal_point, "under_review:expert": people.expert,
            "under_review:contributor": people.contributor, "under_review:observer": people.observer,
            "reviewing:focal_point": people.reviewer}.get(who) or _reviewing_person(people, who.split(":")[1])


def _reviewing_person(people, role):
    from tests.factories import participant

    state = next(s.state for s in people.review.reviewing_states)
    return participant(people.review, Role(role), state.code)


def _review_pages(app, review, attachment_id, method="GET"):
    """Every route of a review answering `method`, with each sample of its arguments."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "review_id" not in rule.arguments or method not in rule.methods:
            continue
        arguments = sorted(rule.arguments - {"review_id"})
        unknown = [name for name in arguments if name not in SAMPLES and name != "attachment_id"]
        assert method != "GET" or not unknown, f"{rule.rule}: add sample values for {unknown} to SAMPLES"
        variants = [{}]
        for name in arguments:
            values = [attachment_id] if name == "attachment_id" else SAMPLES.get(name, [1])
            variants = [dict(v, **{name: value}) for v in variants for value in values]
        for values in variants:
            path = rule.rule
            for name, value in {"review_id": review.id, **values}.items():
                path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
            pages.append(path)
    return pages


def _sees(who, phase):
    """Which canaries a person may meet: drafts and contributions are the State's own."""
    own = who in ("secretariat", "under_review:focal_point", "under_review:expert", "under_review:observer")
    return {DRAFT: own, CONTRIBUTION: own or who == "under_review:contributor", LATE_FILE: own
            or who == "under_review:contributor"}


@pytest.mark.parametrize("phase", list(Phase))
def test_no_page_of_a_review_shows_anyone_what_they_may_not_see(app, sign_in, phase):
    people = answering_review(extra_questions=1)
    _prepare(people, phase, sign_in)
    attachment_id = db.session.scalar(select(Attachment.id).order_by(Attachment.id.desc()))
    pages = _review_pages(app, people.review, attachment_id)
    assert len(pages) >= 8
    for who in PEOPLE:
        client = sign_in(_person(people, who))
        seen = ""
        for path in pages:
            response = client.get(path)
            assert response.status_code < 500, (who, path, response.status_code)
            if who == "outsider":
                assert response.status_code == 404, (who, path, response.status_code)
            body = response.get_data().decode("utf-8", "replace")
            response.close()
            seen += body
        for canary, may_see in _sees(who, phase).items():
            if not may_see:
                assert canary not in seen, (who, phase.value, canary)
        if who == "under_review:focal_point":  # the sweep reaches the canaries at all
            assert DRAFT in seen and CONTRIBUTION in seen and LATE_FILE in seen
        if who.startswith("reviewing:") and phase.index >= Phase.DESK_REVIEW.index:
            assert SUBMITTED in seen


@pytest.mark.parametrize("phase", [Phase.SELF_ASSESSMENT, Phase.DIALOGUE, Phase.FINAL])
def test_every_action_of_a_review_answers_every_person_without_an_error(app, sign_in, phase):
    people = answering_review(extra_questions=1)
    _prepare(people, phase, sign_in)
    attachment_id = db.session.scalar(select(Attachment.id).order_by(Attachment.id.desc()))
    actions = _review_pages(app, people.review, attachment_id, method="POST")
    assert len(actions) >= 10
    for who in PEOPLE:
        client = sign_in(_person(people, who))
        for path in actions:
            response = client.post(path, data={})
            assert response.status_code < 500, (who, path, response.status_code)
            if who == "outsider":
                assert response.status_code == 404, (who, path, response.status_code)
