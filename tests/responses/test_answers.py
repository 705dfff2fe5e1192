"""Answering: autosave, conflicts, validation, history, contributions, submission, attachments."""

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage
from reviewmech.responses.models import Answer, AnswerRevision, Attachment, Submission
from reviewmech.reviews.models import Phase, Review
from tests.conftest import count_queries
from tests.factories import make_user
from tests.responses.helpers import answering_review


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _save(client, review, code, value, version=0):
    return client.post(f"/reviews/{review.id}/answers/autosave/{code}", json={"value": value, "version": version})


def _answer(review, code):
    from reviewmech.questionnaires.models import Question

    return db.session.scalar(select(Answer).join(Question).where(Answer.review_id == review.id,
                                                                 Question.code == code))


@pytest.fixture
def people():
    return answering_review()


# Autosave and conflicts ------------------------------------------------------------------------

def test_autosave_saves_and_returns_the_new_version_and_what_became_shown_or_hidden(sign_in, people):
    client = sign_in(people.focal_point)
    response = _save(client, people.review, "1.1", "no")
    body = response.get_json()
    assert response.status_code == 200 and body["version"] == 1 and body["errors"] == []
    assert body["shown"] == {"1.3": True}  # only what changed: 1.2 stays hidden
    assert _answer(people.review, "1.1").value == "no"
    assert db.session.get(Review, people.review.id).required_answered == 1
    assert _save(client, people.review, "1.1", "yes", version=1).get_json()["shown"] == {"1.2": True, "1.3": False}


def test_a_save_on_an_older_version_is_refused_with_both_values(sign_in, people):
    first, second = sign_in(people.focal_point), sign_in(people.expert)
    _save(first, people.review, "1.1", "no")
    _save(first, people.review, "1.3", "Because of the budget.")
    response = _save(second, people.review, "1.3", "Because of elections.", version=0)
    body = response.get_json()
    assert response.status_code == 409 and body["error"] == "conflict"
    assert body["yours"] == "Because of elections."
    assert body["current"]["value"] == "Because of the budget." and body["current"]["version"] == 1
    assert body["current"]["by"] == people.focal_point.name
    assert _answer(people.review, "1.3").value == "Because of the budget."
    history = [r.value for r in db.session.scalars(select(AnswerRevision).order_by(AnswerRevision.id))
               if r.answer_id == _answer(people.review, "1.3").id]
    assert history == ["Because of the budget.", "Because of elections."]  # both kept
    keep_mine = _save(second, people.review, "1.3", "Because of elections.", version=1)
    assert keep_mine.status_code == 200 and _answer(people.review, "1.3").version == 2


def test_saves_by_one_person_within_minutes_are_one_revision_but_not_across_people(sign_in, people):
    focal_point, expert = sign_in(people.focal_point), sign_in(people.expert)
    _save(focal_point, people.review, "1.1", "no")
    _save(focal_point, people.review, "1.3", "A")
    _save(focal_point, people.review, "1.3", "AB", version=1)
    _save(expert, people.review, "1.3", "ABC", version=2)
    answer = _answer(people.review, "1.3")
    revisions = db.session.scalars(select(AnswerRevision).where(AnswerRevision.answer_id == answer.id)
                                   .order_by(AnswerRevision.id)).all()
    assert [(r.value, r.version) for r in revisions] == [("AB", 2), ("ABC", 3)]


def test_history_shows_changes_and_restores_an_earlier_value_as_a_new_revision(sign_in, people):
    focal_point, expert = sign_in(people.focal_point), sign_in(people.expert)
    _save(focal_point, people.review, "1.1", "no")
    _save(focal_point, people.review, "1.3", "The old text")
    _save(expert, people.review, "1.3", "The new text", version=1)
    page = expert.get(f"/reviews/{people.review.id}/answers/history/1.3").get_data(as_text=True)
    assert "<del>old</del>" in page and "<ins>new</ins>" in page
    first = db.session.scalars(select(AnswerRevision).where(
        AnswerRevision.answer_id == _answer(people.review, "1.3").id).order_by(AnswerRevision.id)).first()
    expert.post(f"/reviews/{people.review.id}/answers/history/1.3/restore/{first.id}")
    answer = _answer(people.review, "1.3")
    assert answer.value == "The old text" and answer.version == 3
    assert db.session.scalars(select(AnswerRevision.source).where(
        AnswerRevision.answer_id == answer.id).order_by(AnswerRevision.id.desc())).first() == "restore"


def test_invalid_values_are_kept_as_drafts_with_their_errors(sign_in, people):
    client = sign_in(people.focal_point)
    response = _save(client, people.review, "2.1", {"2022": {"women": "twelve", "men": "4"}})
    assert response.status_code == 200
    assert response.get_json()["errors"] == ["2022 × Women: enter a number or n/a."]
    answer = _answer(people.review, "2.1")
    assert answer.value == {"2022": {"women": "twelve", "men": 4}} and answer.errors
    page = client.get(f"/reviews/{people.review.id}/answers/OP2").get_data(as_text=True)
    assert "2022 × Women: enter a number or n/a." in page and 'value="twelve"' in page


@pytest.mark.parametrize("body, status, message", [
    ("not json", 400, "The answer could not be read"),
    ({"value": "yes"}, 400, "The answer could not be read"),
    ({"value": "yes", "version": "1"}, 400, "The answer could not be read"),
    ({"value": "x", "version": 0, "__code": "9.9"}, 404, "This question is not part of this review."),
    ({"value": "text", "version": 0, "__code": "1.3"}, 422, "is not shown for the answers given so far"),
    ({"value": "x" * 1_000_000, "version": 0, "__code": "1.3"}, 413, "This answer is too long to be saved"),
])
def test_bad_autosave_input_is_refused_with_a_message_and_changes_nothing(sign_in, people, body, status, message):
    client = sign_in(people.focal_point)
    body = dict(body) if isinstance(body, dict) else body  # parameters are shared by both databases' runs
    code = body.pop("__code", "1.1") if isinstance(body, dict) else "1.1"
    url = f"/reviews/{people.review.id}/answers/autosave/{code}"
    if isinstance(body, str):
        response = client.post(url, data=body, content_type="application/json")
    else:
        response = client.post(url, json=body)
    assert response.status_code == status
    assert message in response.get_json()["message"]
    assert _count(Answer) == 0 and _count(AnswerRevision) == 0


def test_a_question_of_another_questionnaire_is_not_found(sign_in, people):
    other = answering_review(slug="other-mini")
    client = sign_in(people.focal_point)
    response = _save(client, people.review, "1.1", "yes")
    assert response.status_code == 200
    assert _save(sign_in(people.focal_point), other.review, "1.1", "yes").status_code == 404  # not their review


def test_a_locked_review_refuses_answers(sign_in):
    people = answering_review(phase=Phase.DESK_REVIEW)
    response = _save(sign_in(people.focal_point), people.review, "1.1", "yes")
    assert response.status_code == 422 and "locked" in response.get_json()["message"]
    assert _count(Answer) == 0


@pytest.mark.parametrize("who", ["observer", "reviewer"])
def test_people_who_may_not_edit_are_refused(sign_in, people, who):
    response = _save(sign_in(getattr(people, who)), people.review, "1.1", "yes")
    assert response.status_code == 403
    assert _count(Answer) == 0


def test_a_signed_out_autosave_gets_401_json_not_a_redirect(client, people):
    response = _save(client, people.review, "1.1", "yes")
    assert response.status_code == 401 and response.get_json()["error"] == "signed_out"


def test_an_aged_csrf_token_gets_a_json_answer_and_a_new_token_is_available(app, sign_in, people):
    client = sign_in(people.focal_point)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _save(client, people.review, "1.1", "yes")
        assert response.status_code == 400 and response.get_json()["error"] == "csrf"
        token = client.get("/csrf-token").get_json()["csrf_token"]
        retried = client.post(f"/reviews/{people.review.id}/answers/autosave/1.1",
                              json={"value": "yes", "version": 0}, headers={"X-CSRFToken": token})
        assert retried.status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_html_and_script_in_answers_are_shown_as_text(sign_in, people):
    client = sign_in(people.focal_point)
    _save(client, people.review, "1.1", "no")
    _save(client, people.review, "1.3", '<script>alert(1)</script><img src=x onerror="x()">')
    page = client.get(f"/reviews/{people.review.id}/answers/OP1").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    history = client.get(f"/reviews/{people.review.id}/answers/history/1.3").get_data(as_text=True)
    assert "<img src=x" not in history


# The page without JavaScript ---------------------------------------------------------------------

def test_the_section_form_saves_without_javascript(sign_in, people):
    client = sign_in(people.focal_point)
    response = client.post(f"/reviews/{people.review.id}/answers/OP2", data={
        "version-2.1": "0", "a-2.1-2022-women": "5", "a-2.1-2023-men": "n/a",
        "version-2.2": "0", "a-2.2": ["ngo", "academia"]})
    assert response.status_code == 302
    assert _answer(people.review, "2.1").value == {"2022": {"women": 5}, "2023": {"men": "n/a"}}
    assert _answer(people.review, "2.2").value == ["ngo", "academia"]
    page = client.get(response.location).get_data(as_text=True)
    assert "2 answer(s) saved." in page


def test_the_section_form_shows_a_conflict_without_losing_the_entry(sign_in, people):
    first, second = sign_in(people.focal_point), sign_in(people.expert)
    first.post(f"/reviews/{people.review.id}/answers/OP1", data={"version-1.1": "0", "a-1.1": "yes"})
    response = second.post(f"/reviews/{people.review.id}/answers/OP1", data={"version-1.1": "0", "a-1.1": "no"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved a newer version of 1.1" in page
    assert re.search(r'<input[^>]*value="no" checked', page)  # the person's entry stays
    assert _answer(people.review, "1.1").value == "yes"


# Contributions ---------------------------------------------------------------------------------

def test_a_contributor_edits_only_assigned_sections_and_an_expert_accepts(sign_in, people):
    contributor = sign_in(people.contributor)
    assert _save(contributor, people.review, "1.1", "yes").status_code == 403  # OP1 not assigned
    assert _save(contributor, people.review, "2.2", ["ngo"]).status_code == 200
    answer = _answer(people.review, "2.2")
    assert answer.is_contribution
    overview = sign_in(people.focal_point).get(f"/reviews/{people.review.id}/answers").get_data(as_text=True)
    assert people.contributor.name in overview and "question 2.2" in overview
    refused = contributor.get(f"/reviews/{people.review.id}/answers/OP1")
    assert refused.status_code == 403 and "This section is not assigned to you." in refused.get_data(as_text=True)
    assert "Paragraph 1" not in contributor.get(f"/reviews/{people.review.id}/answers").get_data(as_text=True)
    sign_in(people.expert).post(f"/reviews/{people.review.id}/answers/accept/2.2")
    assert not _answer(people.review, "2.2").is_contribution


# Who sees answers ------------------------------------------------------------------------------

def test_reviewers_see_the_answers_only_once_submitted(sign_in, people):
    reviewer = sign_in(people.reviewer)
    assert reviewer.get(f"/reviews/{people.review.id}/answers/OP1").status_code == 403
    outsider = sign_in(make_user())
    assert outsider.get(f"/reviews/{people.review.id}/answers/OP1").status_code == 404
    assert outsider.get(f"/reviews/{people.review.id}/answers").status_code == 404


# Submission ------------------------------------------------------------------------------------

def test_the_check_page_lists_what_blocks_submission_and_submit_is_refused(sign_in, people):
    client = sign_in(people.focal_point)
    _save(client, people.review, "2.1", {"2022": {"women": "x"}})
    page = client.get(f"/reviews/{people.review.id}/answers/submit").get_data(as_text=True)
    assert "1.1" in page and "A required question is not answered." in page
    assert "enter a number or n/a" in page
    client.post(f"/reviews/{people.review.id}/answers/submit")
    assert db.session.get(Review, people.review.id).phase == Phase.SELF_ASSESSMENT
    assert _count(Submission) == 0


def test_submission_locks_keeps_a_snapshot_starts_the_clock_and_tells_the_reviewers(sign_in, people):
    client = sign_in(people.focal_point)
    _save(client, people.review, "1.1", "partial")
    response = client.post(f"/reviews/{people.review.id}/answers/submit")
    assert response.status_code == 302
    review = db.session.get(Review, people.review.id)
    assert review.phase == Phase.DESK_REVIEW and review.desk_review_due_on is not None
    assert db.session.scalar(select(Submission)).answers == {"1.1": "partial"}
    assert _count(OutboxMessage, OutboxMessage.to_address == people.reviewer.email,
                  OutboxMessage.kind == "phase_changed") == 1
    history = sign_in(people.reviewer).get(f"/reviews/{people.review.id}/answers/history/1.1")
    assert history.status_code == 403 and "holds its drafts" in history.get_data(as_text=True)
    assert _save(client, people.review, "1.1", "yes", version=1).status_code == 422
    assert sign_in(people.reviewer).get(f"/reviews/{people.review.id}/answers/OP1").status_code == 200


def test_only_the_focal_point_submits(sign_in, people):
    assert sign_in(people.expert).get(f"/reviews/{people.review.id}/answers/submit").status_code == 403


def test_a_reopening_shows_reviewers_what_changed_since_submission(sign_in, secretariat_client, people):
    client = sign_in(people.focal_point)
    _save(client, people.review, "1.1", "partial")
    client.post(f"/reviews/{people.review.id}/answers/submit")
    refused = secretariat_client.post(f"/reviews/{people.review.id}/answers/reopen", data={"reason": ""})
    assert refused.status_code == 302 and db.session.get(Review, people.review.id).phase == Phase.DESK_REVIEW
    secretariat_client.post(f"/reviews/{people.review.id}/answers/reopen", data={"reason": "New law adopted"})
    assert db.session.get(Review, people.review.id).phase == Phase.SELF_ASSESSMENT
    _save(client, people.review, "1.1", "yes", version=1)
    client.post(f"/reviews/{people.review.id}/answers/submit")
    page = sign_in(people.reviewer).get(f"/reviews/{people.review.id}/answers/OP1").get_data(as_text=True)
    assert "changed since submission" in page


# Attachments -----------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(client, review, data, name, code="2.3"):
    return client.post(f"/reviews/{review.id}/answers/attachments/{code}",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _stored_files(app):
    folder = Path(app.instance_path) / "attachments"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_attachment_is_stored_and_served_only_to_people_who_may_see_it(app, sign_in, people):
    client = sign_in(people.focal_point)
    before = _stored_files(app)
    response = _upload(client, people.review, PDF, "Ley 123.pdf")
    assert response.status_code == 302
    attachment = db.session.scalar(select(Attachment))
    assert attachment.filename == "Ley 123.pdf" and attachment.size == len(PDF) and len(attachment.sha256) == 64
    assert _answer(people.review, "2.3").value == [attachment.id]
    assert len(_stored_files(app)) == len(before) + 1
    download = client.get(f"/reviews/{people.review.id}/answers/files/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    assert sign_in(make_user()).get(f"/reviews/{people.review.id}/answers/files/{attachment.id}").status_code == 404
    assert sign_in(people.reviewer).get(
        f"/reviews/{people.review.id}/answers/files/{attachment.id}").status_code == 403


@pytest.mark.parametrize("data, name, message", [
    (b"PK\x03\x04 not really a document", "report.docx", "does not match its extension .docx"),
    (b"", "empty.pdf", "The file is empty."),
    (b"MZ\x90\x00", "tool.exe", "Files of this type are not accepted"),
    (PDF * 100, "big.pdf", "The file is larger than the limit"),
])
def test_a_bad_upload_leaves_nothing_behind(app, sign_in, people, data, name, message):
    client = sign_in(people.focal_point)
    before = _stored_files(app)
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        response = _upload(client, people.review, data, name)
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = 20 * 1024 * 1024
    assert message in client.get(response.location).get_data(as_text=True)
    assert _count(Attachment) == 0 and _answer(people.review, "2.3") is None
    assert _stored_files(app) == before


# Speed -----------------------------------------------------------------------------------------



def test_a_section_page_needs_as_many_queries_for_60_questions_as_for_10(sign_in):
    small = answering_review(extra_questions=6, slug="ten")
    large = answering_review(extra_questions=56, slug="sixty")
    counts = []
    for people in (small, large):
        client = sign_in(people.focal_point)
        _save(client, people.review, "2.4", "Some text")
        _save(client, people.review, "2.5", "More text")
        counts.append(count_queries(client, f"/reviews/{people.review.id}/answers/OP2"))
    assert counts[0] == counts[1], counts


def test_a_signed_out_script_is_told_so_even_with_csrf_on(app, client, people):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _save(client, people.review, "1.1", "yes")
        assert response.status_code == 401 and response.get_json()["error"] == "signed_out"
        token = client.get("/csrf-token", headers={"Accept": "application/json"})
        assert token.status_code == 401 and token.get_json()["error"] == "signed_out"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_an_attachment_can_be_removed_while_answering_and_the_removal_is_audited(app, sign_in, people):
    from reviewmech.core.audit import AuditEvent

    client = sign_in(people.focal_point)
    before = _stored_files(app)
    _upload(client, people.review, PDF, "old law.pdf")
    attachment = db.session.scalar(select(Attachment))
    assert sign_in(people.observer).post(
        f"/reviews/{people.review.id}/answers/files/{attachment.id}/delete").status_code == 403
    response = client.post(f"/reviews/{people.review.id}/answers/files/{attachment.id}/delete")
    assert "old law.pdf is no longer attached." in client.get(response.location).get_data(as_text=True)
    assert _count(Attachment) == 0 and _answer(people.review, "2.3").value == []
    assert _stored_files(app) == before
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "answer.attachment_removed"))
    assert event.details["filename"] == "old law.pdf"
