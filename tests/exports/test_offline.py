"""The offline questionnaire: exported pre-filled, edited as a person would, imported back all or nothing."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from reviewmech.core.audit import AuditEvent
from reviewmech.core.errors import DomainError
from reviewmech.exports import services
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question
from reviewmech.responses.models import Answer, AnswerRevision
from reviewmech.responses.services import AnswerChange, answer_values, save_answers
from reviewmech.reviews.models import Phase
from reviewmech.reviews.policy import membership
from tests.exports.helpers import answer_cell, cells_of, edit
from tests.responses.helpers import answering_review

LONG = "Article 3 of the Act defines trafficking. " * 1200  # about 50,000 characters: more than one cell holds
RISKY = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-3", "@SUM(1)", "\tindented", "\rreturn", "#N/A"]


@pytest.fixture
def people():
    return answering_review()


def _save(people, changes, user=None):
    user = user or people.focal_point
    review = people.review
    versions = {code: answer.version for code, answer in services.answers_of(review).items()}
    save_answers(review, [AnswerChange(code, value, versions.get(code, 0)) for code, value in changes.items()],
                 user=user, standing=membership(user, review))
    db.session.commit()


def _export(people, tmp_path, user=None, prefilled=True, locale="en", name="questionnaire.xlsx"):
    user = user or people.focal_point
    path = tmp_path / name
    services.export_offline(people.review, membership(user, people.review), user=user, locale=locale,
                            prefilled=prefilled, out=path)
    db.session.commit()
    return path


def _import(people, path, user=None, decisions=None, locale="en"):
    user = user or people.focal_point
    preview, outcome = services.apply_import(people.review, membership(user, people.review), path, user=user,
                                             filename=path.name, locale=locale, decisions=decisions or {})
    db.session.commit()
    return preview, outcome


def _preview(people, path, user=None):
    user = user or people.focal_point
    return services.preview_import(people.review, membership(user, people.review), path, filename=path.name,
                                   locale="en")


def _revisions():
    return db.session.scalar(select(func.count()).select_from(AnswerRevision))


ANSWERED = {"1.1": "yes", "1.2": [{"title": "Penal Code", "article": "art. 201", "year": "2012",
                                   "link": "https://example.org/code", "excerpt": LONG}],
            "2.1": {"2022": {"women": 12, "men": 3}, "2023": {"women": "n/a"}}, "2.2": ["ngo"]}


def test_the_round_trip_takes_the_edits_and_nothing_else(people, tmp_path, app):
    _save(people, ANSWERED)
    before = answer_values(people.review)
    path = _export(people, tmp_path)
    workbook = load_workbook(path)
    edit(path, {("OP1", answer_cell(workbook, "OP1", "1.1")): "Yes, in part",
                ("OP2", answer_cell(workbook, "OP2", "2.1", row=1, column=1, grid=True)): 7,
                ("OP2", answer_cell(workbook, "OP2", "2.2")): "NGOs; Academia"})

    preview, outcome = _import(people, path)

    after = answer_values(people.review)
    assert after == {**before, "1.1": "partial", "2.1": {"2022": {"women": 12, "men": 3}, "2023": {"women": "n/a",
                                                                                                  "men": 7}},
                     "2.2": ["ngo", "academia"]}
    assert sorted(outcome.saved) == ["1.1", "2.1", "2.2"]
    assert cells_of(path, app.config["SECRET_KEY"]).answers["1.2"].values[0][4] == LONG.strip()  # whole, over two rows
    sources = set(db.session.scalars(select(AnswerRevision.source).where(AnswerRevision.version > 1)))
    assert sources == {"import"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "answers.imported"))
    assert event.details["saved"] == ["1.1", "2.1", "2.2"]


def test_citations_are_rows_and_a_row_added_offline_becomes_a_citation(people, tmp_path):
    first = {"title": "Penal Code", "article": "art. 201", "year": "2012", "link": "https://example.org/code",
             "excerpt": "Whoever recruits…"}
    _save(people, {"1.1": "yes", "1.2": [first]})
    path = _export(people, tmp_path)
    workbook = load_workbook(path)
    edit(path, {("OP1", answer_cell(workbook, "OP1", "1.2", row=2, column=0)): "Labour Code",
                ("OP1", answer_cell(workbook, "OP1", "1.2", row=2, column=2)): "2019"})
    _import(people, path)
    assert answer_values(people.review)["1.2"] == [first, {"title": "Labour Code", "article": None, "year": "2019",
                                                           "link": None, "excerpt": None}]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(people, tmp_path):
    _save(people, {"1.1": "no", "1.3": "Not yet."})
    path = _export(people, tmp_path)
    edit(path, {("OP1", answer_cell(load_workbook(path), "OP1", "1.3")): "A bill is before parliament."})
    _import(people, path)
    revisions, values = _revisions(), answer_values(people.review)

    preview, outcome = _import(people, path)

    assert outcome is None and preview.changes == [] and preview.conflicts == []
    assert _revisions() == revisions and answer_values(people.review) == values


def test_an_untouched_workbook_changes_nothing(people, tmp_path):
    _save(people, ANSWERED)
    path = _export(people, tmp_path)
    revisions = _revisions()
    preview, outcome = _import(people, path)
    assert outcome is None and preview.unchanged >= 4
    assert _revisions() == revisions


def test_no_text_becomes_a_formula_and_each_reads_back_identical(people, tmp_path):
    codes = ["1.3"]
    for text in RISKY:
        _save(people, {"1.1": "no", "1.3": text})
        path = _export(people, tmp_path)
        cell = load_workbook(path)["OP1"][answer_cell(load_workbook(path), "OP1", codes[0])]
        assert cell.data_type == "s" and cell.value == text.replace("\r", "\n")
        assert _preview(people, path).changes == []  # reads back as the very value exported


def test_an_answer_changed_online_after_the_export_is_a_conflict_the_person_decides(people, tmp_path):
    _save(people, {"1.1": "no", "1.3": "First draft."})
    path = _export(people, tmp_path)
    _save(people, {"1.3": "Edited online meanwhile."}, user=people.expert)
    edit(path, {("OP1", answer_cell(load_workbook(path), "OP1", "1.3")): "Edited offline."})

    preview = _preview(people, path)
    assert [row.code for row in preview.conflicts] == ["1.3"]
    assert preview.conflicts[0].old == "Edited online meanwhile." and preview.conflicts[0].new == "Edited offline."
    with pytest.raises(DomainError, match="changed online since the export"):
        _import(people, path)
    assert answer_values(people.review)["1.3"] == "Edited online meanwhile."

    _import(people, path, decisions={"1.3": "online"})
    assert answer_values(people.review)["1.3"] == "Edited online meanwhile."
    _import(people, path, decisions={"1.3": "file"})
    assert answer_values(people.review)["1.3"] == "Edited offline."


def test_invalid_values_are_named_with_their_cell_and_nothing_is_written(people, tmp_path):
    _save(people, {"1.1": "yes"})
    path = _export(people, tmp_path)
    workbook = load_workbook(path)
    table_cell = answer_cell(workbook, "OP2", "2.1", row=0, column=1, grid=True)
    edit(path, {("OP2", table_cell): -4, ("OP1", answer_cell(workbook, "OP1", "1.1")): "Maybe"})
    revisions, values = _revisions(), answer_values(people.review)

    preview = _preview(people, path)
    reasons = {row.code: (row.cell, " ".join(row.reasons)) for row in preview.invalid}
    assert reasons["2.1"] == (f"OP2!{table_cell}", "2022 × Men: a figure cannot be negative.")
    assert reasons["1.1"] == (f"OP1!{answer_cell(workbook, 'OP1', '1.1')}", "Choose one of the offered answers.")
    with pytest.raises(DomainError, match="2 value"):
        _import(people, path)
    assert _revisions() == revisions and answer_values(people.review) == values


def test_a_blank_questionnaire_fills_a_review(people, tmp_path):
    path = _export(people, tmp_path, prefilled=False, locale="fr")
    edit(path, {("OP1", answer_cell(load_workbook(path), "OP1", "1.1")): "Non"})
    _import(people, path)
    assert answer_values(people.review)["1.1"] == "no"


def test_a_contributor_exports_and_imports_only_the_sections_assigned(people, tmp_path):
    path = _export(people, tmp_path, user=people.contributor)
    assert [name for name in load_workbook(path).sheetnames if not name.startswith(("Instr", "Lists", "review"))] \
        == ["OP2"]
    edit(path, {("OP2", answer_cell(load_workbook(path), "OP2", "2.2")): "Academia"})
    _import(people, path, user=people.contributor)
    answer = db.session.scalar(select(Answer).join(Question).where(Question.code == "2.2"))
    assert answer.value == ["academia"] and answer.is_contribution


def test_the_workbook_shows_conditions_in_words_lists_from_a_hidden_sheet_and_protects_its_layout(people, tmp_path):
    path = _export(people, tmp_path, locale="es")
    workbook = load_workbook(path)
    sheet = workbook["OP1"]
    row = answer_cell(workbook, "OP1", "1.3")[1:]
    assert "1.1" in sheet[f"E{row}"].value and "No" in sheet[f"E{row}"].value
    assert sheet.protection.sheet and not sheet[f"F{row}"].protection.locked and sheet[f"B{row}"].protection.locked
    assert workbook["Lists"].sheet_state == "hidden" and workbook["reviewmech"].sheet_state == "hidden"
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert lists and all(v.formula1.startswith("'Lists'!") for v in lists)
    assert sheet.freeze_panes == "C3"
    totals = workbook["OP2"]
    formulas = [c.value for r in totals.iter_rows() for c in r if c.data_type == "f"]
    assert "=SUM(G5:H5)" in formulas or any(f.startswith("=SUM(") for f in formulas)


# Refusals: a clear message, nothing written ------------------------------------------------------

def _refused(people, path, message, user=None):
    revisions, values = _revisions(), answer_values(people.review)
    with pytest.raises(DomainError) as caught:
        _preview(people, path, user=user)
    assert message in caught.value.message
    assert _revisions() == revisions and answer_values(people.review) == values


def test_a_workbook_of_another_review_is_refused(people, tmp_path):
    other = answering_review(slug="mini2")
    path = tmp_path / "other.xlsx"
    services.export_offline(other.review, membership(other.focal_point, other.review), user=other.focal_point,
                            locale="en", prefilled=True, out=path)
    _refused(people, path, "another review")


def test_a_tampered_hidden_sheet_is_refused(people, tmp_path):
    path = _export(people, tmp_path)
    workbook = load_workbook(path)
    meta = workbook["reviewmech"]
    for row in meta.iter_rows():
        if row[0].value == "answer" and row[1].value == "1.1":
            row[2].value = "99"
    workbook.save(path)
    _refused(people, path, "hidden sheet of this workbook was changed")


def test_a_formula_in_an_answer_cell_is_refused(people, tmp_path):
    path = _export(people, tmp_path)
    cell = answer_cell(load_workbook(path), "OP1", "1.1")
    edit(path, {("OP1", cell): "=CONCAT(\"Y\",\"es\")"})
    _refused(people, path, f"OP1!{cell}")


def test_a_locked_review_refuses_the_import(people, tmp_path):
    path = _export(people, tmp_path)
    people.review.phase = Phase.DESK_REVIEW
    db.session.commit()
    _refused(people, path, "locked")


def test_only_those_who_may_edit_the_answers_import(people, tmp_path):
    path = _export(people, tmp_path)
    _refused(people, path, "Only the people of the State under review", user=people.observer)
