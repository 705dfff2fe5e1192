"""The Excel pages through HTTP, as each person uses them."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from reviewmech.extensions import db
from reviewmech.responses.models import AnswerRevision, Submission
from reviewmech.responses.services import AnswerChange, answer_values, answers_of, save_answers
from reviewmech.reviews.models import Phase
from reviewmech.reviews.policy import membership
from tests.exports.helpers import answer_cell, edit
from tests.responses.helpers import answering_review

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def people():
    return answering_review()


def _save(people, changes, user=None):
    user = user or people.focal_point
    versions = {code: answer.version for code, answer in answers_of(people.review).items()}
    save_answers(people.review, [AnswerChange(c, v, versions.get(c, 0)) for c, v in changes.items()], user=user,
                 standing=membership(user, people.review))
    db.session.commit()


def _download(client, review, tmp_path, **args):
    response = client.get(f"/reviews/{review.id}/excel/questionnaire.xlsx", query_string=args)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    path = tmp_path / "downloaded.xlsx"
    path.write_bytes(response.data)
    return path


def _upload(client, review, path):
    return client.post(f"/reviews/{review.id}/excel/import",
                       data={"file": (io.BytesIO(path.read_bytes()), "answers.xlsx")},
                       content_type="multipart/form-data")


def _apply_data(html, **decisions):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    versions = re.search(r'name="versions" type="hidden" value="([^"]*)"', html).group(1).replace("&#34;", '"')
    return {"token": token, "versions": versions, **decisions}


def _revisions():
    return db.session.scalar(select(func.count()).select_from(AnswerRevision))


def test_the_focal_point_downloads_edits_previews_and_imports(people, sign_in, tmp_path):
    _save(people, {"1.1": "no", "1.3": "Not yet."})
    client = sign_in(people.focal_point)
    assert "Excel workbooks" in client.get(f"/reviews/{people.review.id}").get_data(as_text=True)
    path = _download(client, people.review, tmp_path, locale="es", prefilled="y")
    workbook = load_workbook(path)
    assert workbook["OP1"]["F2"].value == "Respuesta"
    edit(path, {("OP1", answer_cell(workbook, "OP1", "1.3")): "Un proyecto de ley está ante el parlamento."})

    response = _upload(client, people.review, path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not yet." in html and "Un proyecto de ley está ante el parlamento." in html
    assert answer_values(people.review)["1.3"] == "Not yet."  # nothing written by the preview

    response = client.post(f"/reviews/{people.review.id}/excel/import/apply", data=_apply_data(html))
    assert response.status_code == 302
    assert answer_values(people.review)["1.3"] == "Un proyecto de ley está ante el parlamento."
    assert "1 answer(s) imported" in client.get(response.location).get_data(as_text=True)
    assert not list((tmp_path.parent).glob("imports/*"))


def test_a_conflict_needs_a_decision_and_nothing_is_written_without_it(people, sign_in, tmp_path):
    _save(people, {"1.1": "no", "1.3": "First."})
    client = sign_in(people.focal_point)
    path = _download(client, people.review, tmp_path, locale="en", prefilled="y")
    _save(people, {"1.3": "Changed online."}, user=people.expert)
    edit(path, {("OP1", answer_cell(load_workbook(path), "OP1", "1.3")): "Changed offline."})
    html = _upload(client, people.review, path).get_data(as_text=True)
    assert "1 answer changed online since the export" in html and "Changed online." in html
    revisions = _revisions()

    response = client.post(f"/reviews/{people.review.id}/excel/import/apply", data=_apply_data(html))
    assert response.status_code == 422
    assert "Decide which answer to keep." in response.get_data(as_text=True)
    assert _revisions() == revisions and answer_values(people.review)["1.3"] == "Changed online."

    response = client.post(f"/reviews/{people.review.id}/excel/import/apply", data=_apply_data(html, c0="file"))
    assert response.status_code == 302
    assert answer_values(people.review)["1.3"] == "Changed offline."


def test_an_answer_changed_between_the_preview_and_the_import_is_not_overwritten(people, sign_in, tmp_path):
    _save(people, {"1.1": "no", "1.3": "First."})
    client = sign_in(people.focal_point)
    path = _download(client, people.review, tmp_path, locale="en", prefilled="y")
    edit(path, {("OP1", answer_cell(load_workbook(path), "OP1", "1.3")): "Offline."})
    html = _upload(client, people.review, path).get_data(as_text=True)
    _save(people, {"1.3": "Typed online after the preview."}, user=people.expert)

    response = client.post(f"/reviews/{people.review.id}/excel/import/apply", data=_apply_data(html))
    assert response.status_code in (409, 422)
    assert answer_values(people.review)["1.3"] == "Typed online after the preview."


def test_an_invalid_cell_is_shown_with_its_address_and_blocks_the_import(people, sign_in, tmp_path):
    client = sign_in(people.focal_point)
    path = _download(client, people.review, tmp_path, locale="en", prefilled="y")
    cell = answer_cell(load_workbook(path), "OP2", "2.1", grid=True)
    edit(path, {("OP2", cell): 2.5})
    html = _upload(client, people.review, path).get_data(as_text=True)
    assert f"OP2!{cell}" in html and "a count cannot have decimals" in html
    assert "Import these answers" not in html
    revisions = _revisions()
    response = client.post(f"/reviews/{people.review.id}/excel/import/apply", data=_apply_data(html))
    assert response.status_code == 409
    assert "cannot be taken" in response.get_data(as_text=True)
    assert _revisions() == revisions


def test_a_file_that_is_not_a_workbook_is_refused_with_a_message(people, sign_in, tmp_path):
    client = sign_in(people.focal_point)
    path = tmp_path / "notes.xlsx"
    path.write_text("1.1 yes")
    revisions = _revisions()
    response = _upload(client, people.review, path)
    assert response.status_code == 302
    assert "not an Excel workbook" in client.get(response.location).get_data(as_text=True)
    assert _revisions() == revisions


def test_an_observer_neither_imports_nor_gets_the_upload_form(people, sign_in, tmp_path):
    focal = sign_in(people.focal_point)
    path = _download(focal, people.review, tmp_path, locale="en", prefilled="y")
    client = sign_in(people.observer)
    page = client.get(f"/reviews/{people.review.id}/excel").get_data(as_text=True)
    assert "Import a filled-in questionnaire" not in page
    revisions = _revisions()
    assert _upload(client, people.review, path).status_code == 403
    assert _revisions() == revisions


def test_reviewers_get_no_questionnaire_and_a_report_of_the_submitted_answers_only(people, sign_in, tmp_path):
    _save(people, {"1.1": "no", "1.3": "As submitted."})
    client = sign_in(people.reviewer)
    assert client.get(f"/reviews/{people.review.id}/excel/responses.xlsx").status_code == 403
    db.session.add(Submission(review_id=people.review.id, answers=answer_values(people.review)))
    people.review.phase = Phase.DIALOGUE
    db.session.commit()
    _save(people, {"1.3": "A draft edit the reviewers must not see."})

    assert client.get(f"/reviews/{people.review.id}/excel/questionnaire.xlsx").status_code == 403
    response = client.get(f"/reviews/{people.review.id}/excel/responses.xlsx", query_string={"locale": "fr"})
    assert response.status_code == 200
    path = tmp_path / "responses.xlsx"
    path.write_bytes(response.data)
    rows = [list(r) for r in load_workbook(path).worksheets[1].iter_rows(values_only=True)]
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["1.3"][3] == "As submitted."
    assert "A draft edit" not in str(rows)
    assert rows[0][3] == "Réponse"


def test_the_responses_report_carries_the_verification_column_when_asked(people, sign_in, tmp_path):
    _save(people, {"1.1": "yes"})
    answers_of(people.review)["1.1"].is_verified = True
    db.session.commit()
    client = sign_in(people.focal_point)
    response = client.get(f"/reviews/{people.review.id}/excel/responses.xlsx",
                          query_string={"locale": "en", "columns": "verification"})
    path = tmp_path / "r.xlsx"
    path.write_bytes(response.data)
    rows = [list(r) for r in load_workbook(path).worksheets[1].iter_rows(values_only=True)]
    assert rows[0][-1] == "Verification"
    assert {r[1]: r[-1] for r in rows[1:]}["1.1"] == "verified"


def test_the_aggregate_is_the_secretariats(secretariat_client, person_client):
    assert person_client.get("/exports/aggregate.xlsx").status_code == 403
    page = secretariat_client.get("/exports").get_data(as_text=True)
    assert "Exports across States" in page
    response = secretariat_client.get("/exports/aggregate.xlsx", query_string={"cycle": "2026", "locale": "en"})
    assert response.status_code == 200 and response.mimetype == XLSX


def test_an_aggregate_with_a_bad_cycle_says_so(secretariat_client):
    response = secretariat_client.get("/exports/aggregate.xlsx", query_string={"cycle": "1900"})
    assert response.status_code == 400
    assert "Number must be between 2020 and 2100." in response.get_data(as_text=True)
