"""`reviewmech export …` and `reviewmech import answers`: files written, one-line reasons, nothing changed."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from reviewmech.extensions import db
from reviewmech.responses.models import AnswerRevision
from reviewmech.responses.services import AnswerChange, answer_values, answers_of, save_answers
from reviewmech.reviews.policy import membership
from tests.exports.helpers import answer_cell, edit
from tests.responses.helpers import answering_review


@pytest.fixture
def people():
    return answering_review()


def _save(people, changes, user=None):
    user = user or people.focal_point
    versions = {code: answer.version for code, answer in answers_of(people.review).items()}
    save_answers(people.review, [AnswerChange(c, v, versions.get(c, 0)) for c, v in changes.items()], user=user,
                 standing=membership(user, people.review))
    db.session.commit()


def _revisions():
    return db.session.scalar(select(func.count()).select_from(AnswerRevision))


def _export(runner, people, tmp_path):
    result = runner.invoke(args=["export", "blank", "--review", str(people.review.id), "--prefilled", "--as",
                                 people.focal_point.email, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path / f"review-{people.review.id}-MEX-2026-questionnaire-en.xlsx"


def test_export_and_import_from_the_command_line(runner, people, tmp_path):
    _save(people, {"1.1": "no", "1.3": "Before."})
    path = _export(runner, people, tmp_path)
    edit(path, {("OP1", answer_cell(load_workbook(path), "OP1", "1.3")): "After."})
    args = ["import", "answers", "--review", str(people.review.id), str(path), "--as", people.focal_point.email]

    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "change    1.3 (OP1!F" in dry.output and "Before. → After." in dry.output
    assert answer_values(people.review)["1.3"] == "Before."

    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "Imported 1 answer(s)." in result.output
    assert answer_values(people.review)["1.3"] == "After."
    again = runner.invoke(args=args)
    assert again.exit_code == 0 and "already online" in again.output


def test_a_conflict_on_the_command_line_is_decided_with_an_option(runner, people, tmp_path):
    _save(people, {"1.1": "no", "1.3": "Before."})
    path = _export(runner, people, tmp_path)
    _save(people, {"1.3": "Online."}, user=people.expert)
    edit(path, {("OP1", answer_cell(load_workbook(path), "OP1", "1.3")): "Offline."})
    args = ["import", "answers", "--review", str(people.review.id), str(path), "--as", people.focal_point.email]
    revisions = _revisions()
    refused = runner.invoke(args=args)
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1].startswith("Error: Nothing was imported: 1 answer(s) changed")
    assert _revisions() == revisions
    assert runner.invoke(args=[*args, "--take-file", "1.3"]).exit_code == 0
    assert answer_values(people.review)["1.3"] == "Offline."


@pytest.mark.parametrize("args, message", [
    (["export", "blank", "--review", "999999"], "no review with id 999999"),
    (["export", "responses", "--review", "{review}", "--column", "gossip"], "unknown column 'gossip'"),
    (["export", "responses", "--review", "{review}", "--as", "nobody@example.org"], "no person with the e-mail"),
    (["export", "aggregate", "--questionnaire", "nothing-here"], "No questionnaire “nothing-here” is loaded."),
])
def test_bad_input_exits_with_a_one_line_reason(runner, people, tmp_path, args, message):
    args = [a.replace("{review}", str(people.review.id)) for a in args]
    result = runner.invoke(args=[*args, "--out", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]


def test_importing_a_file_that_is_not_a_workbook_exits_non_zero_and_writes_nothing(runner, people, tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("hello")
    revisions = _revisions()
    result = runner.invoke(args=["import", "answers", "--review", str(people.review.id), str(path), "--as",
                                 people.focal_point.email])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: This file is not an Excel workbook (.xlsx)."
    assert _revisions() == revisions


def test_the_aggregate_and_the_responses_are_written_to_the_folder(runner, people, tmp_path):
    out = tmp_path / "nested" / "folder"
    assert runner.invoke(args=["export", "aggregate", "--questionnaire", "mini", "--cycle", "2026",
                               "--out", str(out)]).exit_code == 0
    assert runner.invoke(args=["export", "responses", "--review", str(people.review.id), "--locale", "es",
                               "--out", str(out)]).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["aggregate-mini-2026-all-groups-en.xlsx",
                                                     f"review-{people.review.id}-MEX-2026-responses-es.xlsx"]
