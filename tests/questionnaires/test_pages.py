"""Browsing questionnaires in one's language; versions and changes for the secretariat."""

import pytest

from reviewmech.extensions import db
from reviewmech.questionnaires.schema import QuestionnaireSpec
from reviewmech.questionnaires.services import store
from tests.conftest import count_queries
from tests.factories import make_user
from tests.questionnaires.helpers import questionnaire, texts

BROWSE = "/questionnaires/mini/1"


def _load(data=None):
    questionnaire_, _new = store(QuestionnaireSpec.model_validate(data or questionnaire()))
    db.session.commit()
    return questionnaire_


@pytest.fixture
def loaded():
    return _load()


def test_anyone_signed_in_browses_sections_questions_help_and_paragraphs(person_client, loaded):
    page = person_client.get(BROWSE).get_data(as_text=True)
    assert "Mini questionnaire" in page and "Is it done?" in page
    assert "Operative paragraph 1" in page
    assert "Shown when 1.1 is Yes or Yes, in part" in page
    assert 'aria-current="page">Paragraph 1<' in page
    assert "Figures" not in page  # another top-level section
    assert "Figures" in person_client.get(BROWSE + "?section=OP2").get_data(as_text=True)


@pytest.mark.parametrize("language, prompt", [("es", "Is it done? (es)"), ("fr", "Is it done? (fr)")])
def test_the_questionnaire_shows_in_the_readers_language(sign_in, loaded, language, prompt):
    client = sign_in(make_user(locale=language))
    page = client.get(BROWSE).get_data(as_text=True)
    assert prompt in page


def test_a_missing_translation_falls_back_to_english_and_says_so(sign_in):
    data = questionnaire()
    data["sections"][0]["questions"][0]["prompt"] = {"en": "Only in English"}
    _load(data)
    page = sign_in(make_user(locale="fr")).get(BROWSE).get_data(as_text=True)
    assert '<span lang="en">Only in English</span>' in page
    assert "not yet translated" in page or "pas encore traduit" in page


def test_the_print_view_has_every_section(person_client, loaded):
    page = person_client.get(BROWSE + "/print").get_data(as_text=True)
    assert "Is it done?" in page and "Figures" in page and "Who?" in page


def test_an_unknown_questionnaire_version_or_section_is_not_found(person_client, loaded):
    assert person_client.get("/questionnaires/mini/9").status_code == 404
    assert person_client.get("/questionnaires/other/1").status_code == 404
    assert person_client.get(BROWSE + "?section=OP9").status_code == 404


def test_the_secretariat_sees_versions_and_what_changed(secretariat_client, loaded):
    changed = questionnaire()
    changed["sections"][0]["questions"][0]["prompt"] = texts("Is it fully done?")
    changed["sections"][0]["questions"].pop(2)
    changed["sections"][1]["questions"].append({"code": "2.3", "type": "date", "prompt": texts("When?"),
                                                "ref": {"paragraphs": ["2"]}, "basis": {"recommendation": "2"}})
    changed["sections"][1]["questions"][0]["required"] = True
    _load(changed)
    versions = secretariat_client.get("/questionnaires/mini/versions").get_data(as_text=True)
    assert "What changed since version 1" in versions
    page = secretariat_client.get("/questionnaires/mini/compare?from=1&to=2").get_data(as_text=True)
    assert "1 question added" in page and "When?" in page
    assert "1 question removed" in page and "Why not?" in page
    assert "1 question reworded" in page and "Is it fully done?" in page
    assert "1 question otherwise changed" in page and "2.1</strong>: required" in page


def test_versions_are_for_the_secretariat_only(person_client, loaded):
    assert person_client.get("/questionnaires/mini/versions").status_code == 403
    assert person_client.get("/questionnaires/mini/compare?from=1&to=1").status_code == 403


def test_comparing_an_unknown_version_is_not_found(secretariat_client, loaded):
    assert secretariat_client.get("/questionnaires/mini/compare?from=1&to=x").status_code == 404




def test_the_browse_page_needs_as_many_queries_for_many_questions_as_for_few(person_client):
    small = questionnaire()
    large = questionnaire(slug="large")
    large["sections"][0]["questions"] += [
        {"code": f"1.{n}", "type": "text", "prompt": texts(f"Question {n}"), "ref": {"paragraphs": ["1"]},
         "basis": {"recommendation": "1"}, "show_if": {"question": "1.1", "equals": "no"}} for n in range(4, 64)]
    _load(small)
    _load(large)
    few = count_queries(person_client, "/questionnaires/mini/1")
    many = count_queries(person_client, "/questionnaires/large/1")
    assert many == few


def test_each_question_shows_its_basis_and_a_recommendation_says_a_no_is_not_a_failure(person_client, loaded):
    page = person_client.get(BROWSE).get_data(as_text=True)
    assert "Treaty obligation: Protocol, art. 5(1)" in page
    other = person_client.get(BROWSE + "?section=OP2").get_data(as_text=True)
    assert "Recommendation of the resolution (operative paragraph 2): a No is not a failure to comply." in other
    assert "Treaty obligation" not in other


def test_a_measures_question_lists_its_answers_and_a_table_of_years_says_which_years(person_client):
    data = questionnaire()
    data["sections"][0]["questions"][0]["options"] = {"scale": "measures"}
    data["sections"][1]["questions"][0]["options"] = {
        "years_before_cycle": 5, "columns": data["sections"][1]["questions"][0]["options"]["columns"]}
    _load(data)
    page = person_client.get(BROWSE).get_data(as_text=True)
    for label in ("Measures taken", "Some measures taken", "Considered, no measures taken", "Not yet considered"):
        assert f"> {label}</label>" in page  # the answers offered, shown as a preview
    table = person_client.get(BROWSE + "?section=OP2").get_data(as_text=True)
    assert "For each of the 5 full years before the year of the review’s cycle." in table
    assert "Shown here for a review of" in table


def test_a_version_stored_before_questions_had_a_basis_still_browses_compares_and_lists(
        secretariat_client, runner):
    old = questionnaire()
    for section in old["sections"]:
        for question in section["questions"]:
            del question["basis"]
    _load(old)  # as version 1 was stored: its definition has no basis
    _load()
    assert "Treaty obligation" not in secretariat_client.get(BROWSE).get_data(as_text=True)
    assert "Treaty obligation: Protocol, art. 5(1)" in secretariat_client.get("/questionnaires/mini/2").get_data(
        as_text=True)
    compared = secretariat_client.get("/questionnaires/mini/compare?from=1&to=2")
    assert compared.status_code == 200 and "0 questions added" in compared.get_data(as_text=True)
    assert "1.1</strong>: basis" in compared.get_data(as_text=True)
    listed = runner.invoke(args=["questionnaires", "list"])
    assert "mini version 1 (" in listed.output and "mini version 2 (" in listed.output
