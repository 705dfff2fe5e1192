"""Strict validation of questionnaire files: every problem named with its file and path, all at once."""

import pytest

from reviewmech.questionnaires.schema import QuestionnaireFileError, read_questionnaire
from tests.pure import _no_database  # noqa: F401 - these tests need no database
from tests.questionnaires.helpers import questionnaire, texts, write


def problems(tmp_path, data) -> list[str]:
    with pytest.raises(QuestionnaireFileError) as raised:
        read_questionnaire(write(tmp_path, data))
    return [f"{p.path}: {p.message}" for p in raised.value.problems]


def test_the_base_questionnaire_is_valid(tmp_path):
    spec = read_questionnaire(write(tmp_path, questionnaire()))
    assert spec.slug == "mini" and len(spec.sections) == 2


def test_an_unknown_type_is_named_with_its_path(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][2]["type"] = "essay"
    found = problems(tmp_path, data)
    assert len(found) == 1
    assert found[0].startswith("sections[0].questions[2].type: unknown question type 'essay'")


def test_an_unknown_option_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][1]["questions"][0]["options"]["colour"] = "red"
    assert problems(tmp_path, data) == [
        "sections[1].questions[0].options.colour: unknown option 'colour' for type table"
    ]


def test_an_unknown_key_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][0]["mandatory"] = True
    assert problems(tmp_path, data) == ["sections[0].questions[0].mandatory: unknown key 'mandatory'"]


def test_duplicate_question_codes_are_refused(tmp_path):
    data = questionnaire()
    data["sections"][1]["questions"][1]["code"] = "1.1"
    assert "sections[1].questions[1].code: duplicate question code '1.1'" in problems(tmp_path, data)


def test_duplicate_section_codes_are_refused(tmp_path):
    data = questionnaire()
    data["sections"][1]["code"] = "OP1"
    assert any(p.startswith("sections[1].code: duplicate section code 'OP1'") for p in problems(tmp_path, data))


def test_a_condition_on_an_unknown_question_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][1]["show_if"] = {"question": "9.9", "in": ["yes"]}
    assert problems(tmp_path, data) == ["sections[0].questions[1].show_if: names unknown question '9.9'"]


def test_a_condition_on_a_later_question_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][1]["show_if"] = {"question": "1.3", "answered": True}
    found = problems(tmp_path, data)
    assert "sections[0].questions[1].show_if: names question '1.3', which comes later; " \
           "a condition may only name an earlier question" in found


def test_a_cycle_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][0]["show_if"] = {"question": "1.3", "answered": True}
    data["sections"][0]["questions"][2]["show_if"] = {"question": "1.1", "equals": "no"}
    found = problems(tmp_path, data)
    assert "sections: the conditions form a cycle: 1.1 → 1.3 → 1.1" in found


def test_a_question_depending_on_itself_is_a_cycle(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][2]["show_if"] = {"question": "1.3", "answered": True}
    assert "sections[0].questions[2].show_if: question '1.3' depends on itself (a cycle)" in problems(tmp_path, data)


def test_a_condition_testing_an_answer_the_question_does_not_offer_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][1]["show_if"] = {"question": "1.1", "in": ["maybe"]}
    found = problems(tmp_path, data)
    assert found == ["sections[0].questions[1].show_if: 'in' tests 'maybe', which question '1.1' does not offer "
                     "(yes, partial, no)"]


def test_a_malformed_condition_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][1]["show_if"] = {"question": "1.1", "in": ["yes"], "equals": "no"}
    assert problems(tmp_path, data) == ["sections[0].questions[1].show_if: a condition on a question needs "
                                        "exactly one of 'in', 'equals' or 'answered'"]


def test_a_missing_english_text_is_refused(tmp_path):
    data = questionnaire()
    del data["sections"][0]["questions"][0]["prompt"]["en"]
    assert problems(tmp_path, data) == ["sections[0].questions[0].prompt.en: the English text (en) is required"]


def test_duplicate_choice_keys_are_refused(tmp_path):
    data = questionnaire()
    data["sections"][1]["questions"][1]["options"]["choices"][1]["key"] = "ngo"
    found = problems(tmp_path, data)
    assert len(found) == 1 and "duplicate choice key 'ngo'" in found[0]
    assert found[0].startswith("sections[1].questions[1].options.choices:")


@pytest.mark.parametrize("part", ["rows", "columns"])
def test_a_table_without_rows_or_columns_is_refused(tmp_path, part):
    data = questionnaire()
    data["sections"][1]["questions"][0]["options"][part] = []
    found = problems(tmp_path, data)
    assert len(found) == 1
    assert found[0].startswith(f"sections[1].questions[0].options.{part}: List should have at least 1")


def test_a_required_question_in_a_section_that_can_never_show_is_refused(tmp_path):
    data = questionnaire()
    never = [{"question": "1.1", "equals": "yes"}, {"question": "1.1", "equals": "no"}]
    data["sections"][1]["show_if"] = {"all": never}
    data["sections"][1]["questions"][0]["required"] = True
    assert problems(tmp_path, data) == [
        "sections[1].questions[0]: required question '2.1' is in a section that can never show "
        "(its show_if can never hold)"
    ]


def test_a_section_that_can_show_sometimes_is_accepted(tmp_path):
    data = questionnaire()
    data["sections"][1]["show_if"] = {"not": {"question": "1.1", "equals": "no"}}
    data["sections"][1]["questions"][0]["required"] = True
    assert read_questionnaire(write(tmp_path, data)).sections[1].show_if


def test_malformed_yaml_is_reported_with_its_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("slug: mini\ntitle:\n  en: [unclosed\nsections: []\n")
    with pytest.raises(QuestionnaireFileError) as raised:
        read_questionnaire(path)
    (problem,) = raised.value.problems
    assert problem.file == str(path) and problem.path.startswith("line 4") and "malformed YAML" in problem.message


def test_a_duplicate_yaml_key_is_reported(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("slug: mini\nslug: other\n")
    with pytest.raises(QuestionnaireFileError) as raised:
        read_questionnaire(path)
    assert "duplicate key 'slug'" in raised.value.problems[0].message
    assert raised.value.problems[0].path == "line 2, column 1"


def test_bare_yes_and_no_stay_answers_not_booleans(tmp_path):
    path = tmp_path / "bare.yaml"
    text = write(tmp_path, questionnaire()).read_text()
    text = text.replace("- 'yes'", "- yes").replace("equals: 'no'", "equals: no")
    path.write_text(text)
    spec = read_questionnaire(path)
    assert spec.sections[0].questions[1].show_if == {"question": "1.1", "in": ["yes", "partial"]}
    assert spec.sections[0].questions[2].show_if == {"question": "1.1", "equals": "no"}


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][2]["type"] = "essay"
    del data["sections"][1]["title"]["en"]
    data["sections"][1]["questions"][1]["options"]["choices"][1]["key"] = "ngo"
    found = problems(tmp_path, data)
    assert len(found) == 3
    assert any(p.startswith("sections[1].title.en:") for p in found)


def test_a_reference_to_a_paragraph_the_questionnaire_does_not_have_is_refused(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][0]["ref"]["paragraphs"] = ["99"]
    assert problems(tmp_path, data) == [
        "sections[0].questions[0].ref.paragraphs[0]: paragraph '99' is not among the questionnaire's paragraphs"
    ]


def test_texts_in_other_languages_are_optional(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][0]["prompt"] = {"en": "Only English"}
    assert read_questionnaire(write(tmp_path, data)).sections[0].questions[0].prompt.get("es") == ("Only English", True)


def test_blank_texts_are_refused(tmp_path):
    data = questionnaire(title=texts("x") | {"fr": "   "})
    assert problems(tmp_path, data) == ["title.fr: a text cannot be blank"]


def test_every_question_must_state_its_basis(tmp_path):
    data = questionnaire()
    del data["sections"][0]["questions"][1]["basis"]
    assert problems(tmp_path, data) == [
        "sections[0].questions[1].basis: every question states its basis: {obligation: <article>} or "
        "{recommendation: <paragraph of the resolution>}"]


@pytest.mark.parametrize("basis, message", [
    ({"obligation": "Protocol, art. 5", "recommendation": "1"}, "give either obligation"),
    ({}, "give either obligation"),
    ({"recommendation": "13"}, "paragraph '13' is not among the questionnaire's paragraphs"),
    ({"recommendation": "para 1"}, "String should match pattern"),
])
def test_a_basis_is_one_obligation_or_one_recommendation_of_a_known_paragraph(tmp_path, basis, message):
    data = questionnaire()
    data["sections"][0]["questions"][0]["basis"] = basis
    found = problems(tmp_path, data)
    assert len(found) == 1 and found[0].startswith("sections[0].questions[0].basis") and message in found[0]


def test_a_condition_may_test_not_yet_considered_only_on_the_measures_scale(tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][2]["show_if"] = {"question": "1.1", "equals": "not_considered"}
    assert problems(tmp_path, data) == ["sections[0].questions[2].show_if: 'equals' tests 'not_considered', which "
                                        "question '1.1' does not offer (yes, partial, no)"]
    data["sections"][0]["questions"][0]["options"] = {"scale": "measures"}
    assert read_questionnaire(write(tmp_path, data)).sections[0].questions[2].show_if["equals"] == "not_considered"
