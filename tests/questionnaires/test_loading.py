"""Loading questionnaire files as versions, from the command line."""

import pytest
from sqlalchemy import func, select

from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question, Questionnaire
from tests.questionnaires.helpers import questionnaire, texts, write


def _count(model):
    """Rows of the test files' questionnaires (the TIP questionnaire is stored once for the whole run)."""
    query = select(func.count()).select_from(model)
    if model is Question:
        query = query.join(Questionnaire, Questionnaire.id == Question.questionnaire_id)
    return db.session.scalar(query.where(Questionnaire.slug != "tip-protocol-resolution"))


def test_validate_exits_0_for_valid_files(runner, tmp_path):
    write(tmp_path, questionnaire())
    result = runner.invoke(args=["questionnaires", "validate", str(tmp_path)])
    assert result.exit_code == 0 and result.output.strip() == "mini: valid"


def test_validate_exits_1_with_every_problem(runner, tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][2]["type"] = "essay"
    del data["sections"][1]["title"]["en"]
    path = write(tmp_path, data)
    result = runner.invoke(args=["questionnaires", "validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}: sections[0].questions[2].type: unknown question type 'essay'" in result.output
    assert f"{path}: sections[1].title.en: the English text (en) is required" in result.output
    assert "2 problem(s) found." in result.output


def test_loading_the_same_content_twice_changes_nothing(runner, tmp_path):
    path = write(tmp_path, questionnaire())
    first = runner.invoke(args=["questionnaires", "load", str(path)])
    assert first.exit_code == 0 and "mini: loaded as version 1" in first.output
    counts = (_count(Questionnaire), _count(Question))
    path.write_text("# a comment and other layout do not make a new version\n" + path.read_text())
    second = runner.invoke(args=["questionnaires", "load", str(path)])
    assert "mini: unchanged, still version 1" in second.output
    assert (_count(Questionnaire), _count(Question)) == counts == (1, 5)


def test_changed_content_creates_the_next_version_and_keeps_the_first(runner, tmp_path):
    runner.invoke(args=["questionnaires", "load", str(write(tmp_path, questionnaire()))])
    changed = questionnaire()
    changed["sections"][0]["questions"][0]["prompt"] = texts("Is it fully done?")
    result = runner.invoke(args=["questionnaires", "load", str(write(tmp_path, changed))])
    assert "mini: loaded as version 2" in result.output
    versions = db.session.scalars(select(Questionnaire).where(Questionnaire.slug == "mini")
                                  .order_by(Questionnaire.version)).all()
    assert [v.version for v in versions] == [1, 2]
    prompts = [db.session.scalar(select(Question.prompt).where(Question.questionnaire_id == v.id,
                                                               Question.code == "1.1")) for v in versions]
    assert prompts[0]["en"] == "Is it done?" and prompts[1]["en"] == "Is it fully done?"


def test_a_bad_file_loads_nothing_even_beside_good_ones(runner, tmp_path):
    write(tmp_path, questionnaire())
    bad = questionnaire(slug="other")
    bad["sections"][0]["questions"][0]["type"] = "essay"
    write(tmp_path, bad, "other.yaml")
    result = runner.invoke(args=["questionnaires", "load", str(tmp_path)])
    assert result.exit_code == 1 and "Nothing loaded: 1 problem(s) found." in result.output
    assert _count(Questionnaire) == 0 and _count(Question) == 0


def test_two_files_with_one_slug_are_refused(runner, tmp_path):
    write(tmp_path, questionnaire(), "a.yaml")
    write(tmp_path, questionnaire(), "b.yaml")
    result = runner.invoke(args=["questionnaires", "validate", str(tmp_path)])
    assert result.exit_code == 1 and "slug 'mini' is used by more than one file" in result.output


def test_a_folder_without_questionnaires_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["questionnaires", "validate", str(tmp_path)])
    assert result.exit_code == 1 and "no questionnaire file (*.yaml) found" in result.output


def test_list_shows_sections_languages_and_translations(runner, tmp_path):
    data = questionnaire()
    data["sections"][0]["questions"][0]["prompt"] = {"en": "Only English", "es": "Solo español"}
    runner.invoke(args=["questionnaires", "load", str(write(tmp_path, data))])
    result = runner.invoke(args=["questionnaires", "list"])
    lines = result.output.splitlines()
    assert lines[0].startswith("mini version 1 (")
    assert "2 sections, 5 questions; translations: en 100%, es 100%, fr 93%" in lines[0]
    assert lines[1].split() == ["OP1", "3", "questions"] and lines[2].split() == ["OP2", "2", "questions"]


def test_a_stored_version_cannot_be_changed(runner, tmp_path):
    runner.invoke(args=["questionnaires", "load", str(write(tmp_path, questionnaire()))])
    question = db.session.scalar(select(Question).where(Question.code == "1.1"))
    question.prompt = {"en": "Rewritten"}
    with pytest.raises(RuntimeError, match="never changed"):
        db.session.flush()
    db.session.rollback()
