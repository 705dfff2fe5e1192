"""What was found from outside: each leak or loss reproduced through HTTP, and what the person sees instead."""

import io
import re

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question
from reviewmech.questionnaires.schema import QuestionnaireSpec
from reviewmech.questionnaires.services import store
from reviewmech.responses.models import Answer, AnswerRelease, AnswerRevision, Attachment, RefusedValue, Submission
from reviewmech.reviews.models import Participant, Phase, PhaseChange, Review
from tests.factories import make_review, participant
from tests.questionnaires.helpers import texts
from tests.responses.helpers import answering_review

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _save(client, review, code, value, version=0):
    return client.post(f"/reviews/{review.id}/answers/autosave/{code}", json={"value": value, "version": version})


def _answer(review, code):
    return db.session.scalar(select(Answer).join(Question).where(Answer.review_id == review.id,
                                                                 Question.code == code))


def _state_of(review, code):
    answer = _answer(review, code)
    return None if answer is None else (answer.value, answer.version)


def _set_phase(review, phase):
    review.phase = phase
    review.phase_changes.append(PhaseChange(phase=phase))
    db.session.commit()


@pytest.fixture
def people():
    return answering_review()


# Confidentiality: a contributor stays within the sections assigned ----------------------------

def _nested_review():
    """A review whose OP4 has two sub-sections; a contributor is assigned OP4.A only."""
    spec = {
        "slug": "nested", "title": texts("Nested"), "source": texts("A resolution"), "languages": ["en", "es", "fr"],
        "paragraphs": ["4"],
        "sections": [{"code": "OP4", "title": texts("Paragraph 4"), "questions": [
            {"code": "4.0", "type": "text", "prompt": texts("About the whole paragraph"), "ref": {"paragraphs": ["4"]}},
        ], "sections": [
            {"code": "OP4.A", "title": texts("Part A"), "questions": [
                {"code": "4.1", "type": "text", "prompt": texts("Part A question"), "ref": {"paragraphs": ["4"]}},
                {"code": "4.2", "type": "attachments", "prompt": texts("Part A files"), "ref": {"paragraphs": ["4"]}}]},
            {"code": "OP4.B", "title": texts("Part B"), "questions": [
                {"code": "4.3", "type": "text", "prompt": texts("Part B question"), "ref": {"paragraphs": ["4"]}},
                {"code": "4.4", "type": "attachments", "prompt": texts("Part B files"), "ref": {"paragraphs": ["4"]}}]},
        ]}],
    }
    questionnaire, _new = store(QuestionnaireSpec.model_validate(spec))
    review = make_review("MEX", questionnaire=questionnaire)
    _set_phase(review, Phase.SELF_ASSESSMENT)
    contributor = participant(review, "contributor")
    db.session.scalar(select(Participant).where(Participant.user_id == contributor.id)).sections = ["OP4.A"]
    db.session.commit()
    focal_point = next(p.user for p in review.participants if p.role == "focal_point" and p.state_id == review.state_id)
    return review, focal_point, contributor


def test_a_contributor_reads_only_the_sections_assigned_not_their_parent_nor_their_siblings(sign_in):
    review, focal_point, contributor = _nested_review()
    fp = sign_in(focal_point)
    _save(fp, review, "4.0", "CANARY-PARENT")
    _save(fp, review, "4.3", "CANARY-SIBLING")
    fp.post(f"/reviews/{review.id}/answers/attachments/4.4", data={"file": (io.BytesIO(PDF), "sibling.pdf")},
            content_type="multipart/form-data")
    sibling_file = db.session.scalar(select(Attachment))
    client = sign_in(contributor)
    parent = client.get(f"/reviews/{review.id}/answers/OP4")
    page = parent.get_data(as_text=True)
    assert parent.status_code == 200 and "Part A question" in page
    assert "CANARY" not in page and "Part B question" not in page and "About the whole paragraph" not in page
    sibling = client.get(f"/reviews/{review.id}/answers/OP4.B")
    assert sibling.status_code == 403 and "This section is not assigned to you." in sibling.get_data(as_text=True)
    for code in ("4.3", "4.0"):
        history = client.get(f"/reviews/{review.id}/answers/history/{code}")
        assert history.status_code == 403 and "CANARY" not in history.get_data(as_text=True)
    assert client.get(f"/reviews/{review.id}/answers/history/4.1").status_code == 200
    download = client.get(f"/reviews/{review.id}/answers/files/{sibling_file.id}")
    assert download.status_code == 403 and download.data != PDF
    assert "CANARY" not in client.get(f"/reviews/{review.id}/answers").get_data(as_text=True)
    assert "Part B" not in client.get(f"/reviews/{review.id}").get_data(as_text=True)


def test_a_contributor_cannot_write_outside_the_sections_assigned(sign_in):
    review, _focal_point, contributor = _nested_review()
    client = sign_in(contributor)
    response = _save(client, review, "4.3", "Not mine")
    assert response.status_code == 403 and response.get_json()["message"] == "You cannot change this answer."
    assert _answer(review, "4.3") is None
    assert _save(client, review, "4.1", "Mine").status_code == 200
    assert _answer(review, "4.1").is_contribution


# Confidentiality: reviewers see the submitted answers and what is released, nothing else -------

def _in_dialogue(people, sign_in):
    """The answers submitted as 'Submitted text', then the review moved to the dialogue."""
    fp = sign_in(people.focal_point)
    _save(fp, people.review, "1.1", "no")
    _save(fp, people.review, "1.3", "Submitted text")
    assert fp.post(f"/reviews/{people.review.id}/answers/submit").status_code == 302
    _set_phase(db.session.get(Review, people.review.id), Phase.DIALOGUE)
    return fp


def test_in_the_dialogue_reviewers_see_neither_draft_edits_nor_contributions_until_released(sign_in, people):
    fp = _in_dialogue(people, sign_in)
    assert _save(fp, people.review, "1.3", "CANARY-DRAFT-EDIT", version=1).status_code == 200
    assert _save(sign_in(people.contributor), people.review, "2.2", ["ngo"]).status_code == 200  # waits for acceptance
    reviewer = sign_in(people.reviewer)
    for url in ("OP1", "OP2", "", "history/1.3"):
        page = reviewer.get(f"/reviews/{people.review.id}/answers/{url}".rstrip("/")).get_data(as_text=True)
        assert "CANARY" not in page and "NGOs" not in page
    assert "Submitted text" in reviewer.get(f"/reviews/{people.review.id}/answers/OP1").get_data(as_text=True)
    home = reviewer.get(f"/reviews/{people.review.id}").get_data(as_text=True)
    assert "CANARY" not in home

    overview = fp.get(f"/reviews/{people.review.id}/answers").get_data(as_text=True)
    assert "Revised answers not yet released" in overview and ">1.3<" in overview and ">2.2<" not in overview
    assert fp.post(f"/reviews/{people.review.id}/answers/release").status_code == 302
    assert _count(AnswerRelease) == 1
    released = reviewer.get(f"/reviews/{people.review.id}/answers/OP1").get_data(as_text=True)
    assert "CANARY-DRAFT-EDIT" in released and "revised in the dialogue" in released
    assert "NGOs" not in reviewer.get(f"/reviews/{people.review.id}/answers/OP2").get_data(as_text=True)


def test_only_the_focal_point_releases_and_nothing_is_released_twice(sign_in, people):
    fp = _in_dialogue(people, sign_in)
    expert = sign_in(people.expert)
    _save(expert, people.review, "1.3", "Revised", version=1)
    assert expert.post(f"/reviews/{people.review.id}/answers/release").status_code == 403
    assert sign_in(people.reviewer).post(f"/reviews/{people.review.id}/answers/release").status_code == 403
    assert _count(AnswerRelease) == 0
    fp.post(f"/reviews/{people.review.id}/answers/release")
    again = fp.post(f"/reviews/{people.review.id}/answers/release", follow_redirects=True)
    assert "No revised answer is ready to be released." in again.get_data(as_text=True)
    assert _count(AnswerRelease) == 1


def test_during_the_self_assessment_reviewers_see_no_progress_figure(sign_in, people):
    _save(sign_in(people.focal_point), people.review, "1.1", "no")
    page = sign_in(people.reviewer).get(f"/reviews/{people.review.id}").get_data(as_text=True)
    assert "required questions answered" not in page and not re.search(r"\d+/\d+</td>", page)
    assert "The answers become visible to the reviewing States once they are submitted." in page
    own = sign_in(people.observer).get(f"/reviews/{people.review.id}").get_data(as_text=True)
    assert "1 of 1 required questions answered" in own


def test_reviewers_count_progress_from_the_submitted_answers(sign_in, people):
    fp = _in_dialogue(people, sign_in)
    _save(fp, people.review, "1.1", "yes", version=1)  # a draft edit: hides 1.3, shows 1.2
    page = sign_in(people.reviewer).get(f"/reviews/{people.review.id}").get_data(as_text=True)
    assert "1 of 1 required questions answered (as submitted)" in page


def test_reviewers_get_the_files_of_the_submitted_version_only(sign_in, people, app):
    fp = sign_in(people.focal_point)
    _save(fp, people.review, "1.1", "no")
    _save(fp, people.review, "1.3", "Because")
    fp.post(f"/reviews/{people.review.id}/answers/attachments/2.3", data={"file": (io.BytesIO(PDF), "submitted.pdf")},
            content_type="multipart/form-data")
    submitted_file = db.session.scalar(select(Attachment))
    fp.post(f"/reviews/{people.review.id}/answers/submit")
    _set_phase(db.session.get(Review, people.review.id), Phase.DIALOGUE)
    fp.post(f"/reviews/{people.review.id}/answers/attachments/2.3", data={"file": (io.BytesIO(PDF), "CANARY.pdf")},
            content_type="multipart/form-data")
    later_file = db.session.scalar(select(Attachment).where(Attachment.id != submitted_file.id))
    assert fp.post(f"/reviews/{people.review.id}/answers/files/{submitted_file.id}/delete").status_code == 302
    reviewer = sign_in(people.reviewer)
    page = reviewer.get(f"/reviews/{people.review.id}/answers/OP2").get_data(as_text=True)
    assert "submitted.pdf" in page and "CANARY" not in page
    kept = reviewer.get(f"/reviews/{people.review.id}/answers/files/{submitted_file.id}")
    assert kept.status_code == 200 and kept.data == PDF  # removed from the live answer, kept for what was submitted
    kept.close()
    assert reviewer.get(f"/reviews/{people.review.id}/answers/files/{later_file.id}").status_code == 404
    own = fp.get(f"/reviews/{people.review.id}/answers/OP2").get_data(as_text=True)
    assert ">CANARY.pdf</a>" in own and ">submitted.pdf</a>" not in own


# Lost or silently changed input ------------------------------------------------------------------

@pytest.mark.parametrize("code, stored, sent", [
    ("1.2", [{"title": "Penal Code"}], "Penal Code, art. 3"),
    ("1.2", [{"title": "Penal Code"}], [{"title": 5}]),
    ("2.1", {"2022": {"women": 3}}, [3]),
    ("2.1", {"2022": {"women": 3}}, {"1999": {"women": 3}}),
    ("2.2", ["ngo"], {"ngo": True}),
])
def test_a_value_of_the_wrong_kind_is_refused_and_the_answer_is_kept(sign_in, people, code, stored, sent):
    client = sign_in(people.focal_point)
    _save(client, people.review, "1.1", "yes")
    assert _save(client, people.review, code, stored).status_code == 200
    before = _state_of(people.review, code)
    response = _save(client, people.review, code, sent, version=1)
    assert response.status_code == 422 and response.get_json()["error"] == "refused"
    assert response.get_json()["message"]
    assert _state_of(people.review, code) == before  # never replaced by an empty answer
    kept = db.session.scalar(select(RefusedValue).order_by(RefusedValue.id.desc()))
    assert kept.value == sent and kept.reason == response.get_json()["message"]
    history = client.get(f"/reviews/{people.review.id}/answers/history/{code}").get_data(as_text=True)
    assert "Sent but not saved" in history


@pytest.mark.parametrize("raw, character", [('"Trafficking\\u0000 in persons"', "U+0000"),
                                            ('"half a pair \\ud800"', "U+D800")])
def test_characters_that_cannot_be_stored_are_named_and_the_text_is_kept(sign_in, people, raw, character):
    client = sign_in(people.focal_point)
    _save(client, people.review, "1.1", "no")
    response = client.post(f"/reviews/{people.review.id}/answers/autosave/1.3",
                           data=f'{{"value": {raw}, "version": 0}}', content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["message"] == (
        f"The answer contains a character that cannot be stored ({character}). Remove it and save again.")
    assert _answer(people.review, "1.3") is None
    kept = db.session.scalar(select(RefusedValue))
    assert "\ufffd" in kept.value and kept.value.replace("\ufffd", "") in ("Trafficking in persons", "half a pair ")


@pytest.mark.parametrize("body", ['{"value": NaN, "version": 0}', '{"value": Infinity, "version": 0}',
                                  '{"value": -Infinity, "version": 0}', '{"value": 1, "version": NaN}'])
def test_numbers_json_does_not_have_are_refused_as_unreadable(sign_in, people, body):
    client = sign_in(people.focal_point)
    _save(client, people.review, "1.1", "no")
    response = client.post(f"/reviews/{people.review.id}/answers/autosave/1.1", data=body,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"] == "The answer could not be read; reload the page and try again."
    assert _state_of(people.review, "1.1") == ("no", 1)


@pytest.mark.parametrize("code", ["1.1%00", "%00", "1.1%2F..%2F1.3", "x" * 300])
def test_a_question_code_with_characters_no_code_has_is_not_found(sign_in, people, code):
    client = sign_in(people.focal_point)
    response = client.post(f"/reviews/{people.review.id}/answers/autosave/{code}", json={"value": "yes", "version": 0})
    assert response.status_code == 404  # a NUL is refused by the address itself, anything else by the review
    assert response.get_json()["message"] in ("This question is not part of this review.",
                                              "This page does not exist, or you do not have access to it.")
    assert client.get(f"/reviews/{people.review.id}/answers/history/{code}").status_code == 404
    assert _count(Answer) == 0


def test_two_sessions_of_one_account_each_keep_their_revision(sign_in, people):
    first, second = sign_in(people.focal_point), sign_in(people.focal_point)
    _save(first, people.review, "1.1", "no")
    assert _save(first, people.review, "1.3", "Typed in the office").status_code == 200
    assert _save(second, people.review, "1.3", "Typed at home", version=1).status_code == 200
    values = db.session.scalars(select(AnswerRevision.value).where(
        AnswerRevision.answer_id == _answer(people.review, "1.3").id).order_by(AnswerRevision.id)).all()
    assert values == ["Typed in the office", "Typed at home"]
    assert _save(second, people.review, "1.3", "Typed at home, then more", version=2).status_code == 200
    values = db.session.scalars(select(AnswerRevision.value).where(
        AnswerRevision.answer_id == _answer(people.review, "1.3").id).order_by(AnswerRevision.id)).all()
    assert values == ["Typed in the office", "Typed at home, then more"]  # one session's typing is one revision


def test_the_section_form_posted_from_an_older_page_saves_what_was_changed_without_false_conflicts(sign_in, people):
    expert, focal_point = sign_in(people.expert), sign_in(people.focal_point)
    _save(expert, people.review, "2.2", ["ngo"])
    page_versions = {"version-2.1": 0, "version-2.2": 1}
    _save(focal_point, people.review, "2.2", ["ngo", "academia"], version=1)  # meanwhile, on another page
    response = expert.post(f"/reviews/{people.review.id}/answers/OP2", data={
        **page_versions, "a-2.2": ["ngo"], "a-2.1-2022-women": "4"})
    assert response.status_code == 302  # the expert did not touch 2.2: no conflict there
    assert _answer(people.review, "2.1").value == {"2022": {"women": 4}}
    assert _answer(people.review, "2.2").value == ["ngo", "academia"]


def _statements_of_post(client, url, data) -> int:
    count = 0

    def on_execute(*args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = client.post(url, data=data)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return count


def test_saving_40_answers_by_form_runs_as_many_statements_as_saving_2(sign_in):
    people = answering_review(extra_questions=80)
    client = sign_in(people.focal_point)
    url = f"/reviews/{people.review.id}/answers/OP2"
    first, second = [f"2.{n}" for n in range(4, 44)], [f"2.{n}" for n in range(44, 84)]

    def form(codes, changed, text, version):
        return {**{f"version-{c}": version for c in codes}, **{f"a-{c}": f"{text} {c}" for c in changed}}

    _save(client, people.review, "2.2", ["ngo"])  # answers exist from the start, as in both measured posts
    new_two = _statements_of_post(client, url, form(first, first[:2], "new", 0))
    new_forty = _statements_of_post(client, url, form(second, second, "new", 0))
    assert _count(Answer) == 43 and new_forty == new_two, (new_two, new_forty)
    client.post(url, data=form(first, first, "all", 0) | {f"version-{c}": 1 for c in first[:2]})
    assert _count(Answer) == 81
    changed_two = _statements_of_post(client, url, form(first, first[:2], "again", 1)
                                      | {f"version-{c}": 2 for c in first[:2]}
                                      | {f"a-{c}": f"all {c}" for c in first[2:]})
    changed_forty = _statements_of_post(client, url, form(second, second, "again", 1))
    assert changed_forty == changed_two, (changed_two, changed_forty)
    assert _answer(people.review, "2.83").value == "again 2.83" and _answer(people.review, "2.83").version == 2


def test_a_locked_review_refuses_every_write_path_and_changes_nothing(sign_in, people):
    fp = sign_in(people.focal_point)
    _save(fp, people.review, "1.1", "no")
    _set_phase(db.session.get(Review, people.review.id), Phase.OBSERVATIONS)
    response = _save(fp, people.review, "1.1", "yes", version=1)
    assert response.status_code == 422 and "locked" in response.get_json()["message"]
    form = fp.post(f"/reviews/{people.review.id}/answers/OP1", data={"version-1.1": 1, "a-1.1": "yes"})
    assert form.status_code == 422 and "The answers of this review are locked" in form.get_data(as_text=True)
    assert _state_of(people.review, "1.1") == ("no", 1) and _count(Submission) == 0


def _lazy_loads(client, url) -> list[str]:
    """The relationships a GET of `url` loads lazily (one query per object: a page must load them up front)."""
    found = []

    def on_execute(state):
        if state.lazy_loaded_from is not None:
            found.append(f"{state.lazy_loaded_from.class_.__name__}: {str(state.statement)[:80]}")

    event.listen(Session, "do_orm_execute", on_execute)  # every session: each request has its own
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(Session, "do_orm_execute", on_execute)
    return found


@pytest.mark.parametrize("who", ["focal_point", "reviewer"])
def test_answering_pages_load_nothing_lazily(sign_in, people, who):
    fp = sign_in(people.focal_point)
    _save(fp, people.review, "1.1", "no")
    _save(fp, people.review, "1.3", "Because")
    if who == "reviewer":
        fp.post(f"/reviews/{people.review.id}/answers/submit")
    client = sign_in(getattr(people, who))
    base = f"/reviews/{people.review.id}/answers"
    pages = [base, f"{base}/OP1", f"{base}/OP2"] + ([f"{base}/history/1.3", f"{base}/submit"]
                                                    if who == "focal_point" else [])
    assert _lazy_loads(client, f"/reviews/{people.review.id}")  # the check sees lazy loads (the home has some)
    for url in pages:
        assert _lazy_loads(client, url) == [], url
