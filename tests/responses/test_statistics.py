"""Figures by year: a table's years are those before the review's cycle; the basis of each question is shown."""

import pytest
from sqlalchemy import select

from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question
from reviewmech.questionnaires.schema import QuestionnaireSpec
from reviewmech.questionnaires.services import store
from reviewmech.responses.models import Answer
from reviewmech.reviews.models import Phase, PhaseChange, Role
from tests.factories import make_review
from tests.questionnaires.helpers import questionnaire, texts
from tests.responses.helpers import answering_review


def _years_questionnaire():
    data = questionnaire(slug="years")
    data["sections"][1]["questions"][0]["options"] = {
        "years_before_cycle": 3, "rows": [{"key": "prosecuted", "label": texts("Prosecuted")}],
        "columns": [{"key": "women", "label": texts("Women")}, {"key": "men", "label": texts("Men")}]}
    stored, _new = store(QuestionnaireSpec.model_validate(data))
    db.session.flush()
    return stored


def _review_in(cycle, questionnaire_=None, state="MEX"):
    review = make_review(state, cycle=cycle, questionnaire=questionnaire_)
    review.phase = Phase.SELF_ASSESSMENT
    review.phase_changes.append(PhaseChange(phase=Phase.SELF_ASSESSMENT))
    db.session.commit()
    focal_point = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                       and p.state_id == review.state_id)
    return review, focal_point


def _answer(review, code):
    return db.session.scalar(select(Answer).join(Question).where(Answer.review_id == review.id, Question.code == code))


@pytest.mark.parametrize("cycle, years", [(2026, [2023, 2024, 2025]), (2030, [2027, 2028, 2029])])
def test_the_table_asks_for_the_full_years_before_the_cycle(sign_in, cycle, years):
    review, focal_point = _review_in(cycle, _years_questionnaire())
    page = sign_in(focal_point).get(f"/reviews/{review.id}/answers/OP2").get_data(as_text=True)
    for year in years:
        assert f'name="a-2.1-{year}_prosecuted-women"' in page and f"{year} — Prosecuted" in page
    assert f'a-2.1-{years[0] - 1}_prosecuted' not in page and f'a-2.1-{cycle}_prosecuted' not in page


def test_figures_for_the_cycles_years_are_saved_and_other_years_refused(sign_in):
    review, focal_point = _review_in(2026, _years_questionnaire())
    client = sign_in(focal_point)
    saved = client.post(f"/reviews/{review.id}/answers/autosave/2.1",
                        json={"value": {"2025_prosecuted": {"women": "4", "men": "n/a"}}, "version": 0})
    assert saved.status_code == 200 and saved.get_json()["errors"] == []
    assert _answer(review, "2.1").value == {"2025_prosecuted": {"women": 4, "men": "n/a"}}
    refused = client.post(f"/reviews/{review.id}/answers/autosave/2.1",
                          json={"value": {"2020_prosecuted": {"women": 1}}, "version": 1})
    assert refused.status_code == 422 and refused.get_json()["message"] == "The table has no row 2020_prosecuted."
    assert _answer(review, "2.1").value == {"2025_prosecuted": {"women": 4, "men": "n/a"}}  # unchanged


def test_the_whole_section_form_saves_the_years_cells(sign_in):
    review, focal_point = _review_in(2026, _years_questionnaire())
    client = sign_in(focal_point)
    response = client.post(f"/reviews/{review.id}/answers/OP2", data={
        "version-2.1": "0", "a-2.1-2023_prosecuted-men": "7", "version-2.2": "0"})
    assert response.status_code == 302
    assert _answer(review, "2.1").value == {"2023_prosecuted": {"men": 7}}


def test_the_tip_statistics_annex_follows_the_cycle_of_the_review(sign_in):
    review, focal_point = _review_in(2026)
    page = sign_in(focal_point).get(f"/reviews/{review.id}/answers/STATS").get_data(as_text=True)
    for year in range(2021, 2026):
        assert f'name="a-S.2-{year}_convicted-girls"' in page
        assert f'name="a-S.3-{year}_boys-forced_labour"' in page
        assert f'name="a-S.1-removal_of_organs-{year}"' in page
    assert "a-S.2-2020_" not in page and "a-S.2-2026_" not in page
    assert "write n/a when the figure is not collected" in page


def test_the_answering_page_shows_the_basis_of_each_question(sign_in):
    people = answering_review()
    client = sign_in(people.focal_point)
    first = client.get(f"/reviews/{people.review.id}/answers/OP1").get_data(as_text=True)
    assert first.count("Treaty obligation: Protocol, art. 5(1)") == 3
    second = client.get(f"/reviews/{people.review.id}/answers/OP2").get_data(as_text=True)
    assert "Recommendation of the resolution (operative paragraph 2): a No is not a failure to comply." in second


def test_a_recommendation_offers_not_yet_considered_and_keeps_it(sign_in):
    data = questionnaire(slug="measures")
    data["sections"][0]["questions"][0]["options"] = {"scale": "measures"}
    data["sections"][0]["questions"][2]["show_if"] = {"question": "1.1", "in": ["no", "not_considered"]}
    stored, _new = store(QuestionnaireSpec.model_validate(data))
    review, focal_point = _review_in(2026, stored)
    client = sign_in(focal_point)
    page = client.get(f"/reviews/{review.id}/answers/OP1").get_data(as_text=True)
    assert 'value="not_considered"' in page and "Not yet considered" in page
    response = client.post(f"/reviews/{review.id}/answers/autosave/1.1", json={"value": "not_considered",
                                                                               "version": 0})
    assert response.status_code == 200 and response.get_json()["shown"]["1.3"] is True
    assert _answer(review, "1.1").value == "not_considered"
    refused = client.post(f"/reviews/{review.id}/answers/autosave/1.1", json={"value": "maybe", "version": 1})
    assert refused.get_json()["errors"] == ["Choose one of the offered answers."]
    assert _answer(review, "1.1").errors == [{"code": "choose_offered", "params": {}}]  # kept as a draft, not valid
