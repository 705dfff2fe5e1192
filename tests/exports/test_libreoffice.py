"""Proof from outside: LibreOffice opens and saves each workbook; it reads our values and we read its file back.

Uses Debian's `libreoffice-calc` (headless `--convert-to xlsx`); `.ci/run` installs it, elsewhere
the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: S404 - runs LibreOffice on files this test wrote
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reviewmech.exports import offline, services
from reviewmech.exports.cells import unescape
from reviewmech.extensions import db
from reviewmech.responses.models import Submission
from reviewmech.responses.services import answer_values
from reviewmech.reviews.models import Phase
from reviewmech.reviews.policy import Membership, membership
from tests.conftest import requires
from tests.exports.helpers import answer_cell, edit
from tests.exports.test_offline import LONG, RISKY, _save
from tests.responses.helpers import answering_review


def _soffice() -> str:
    found = os.environ.get("REVIEWMECH_TEST_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        requires("LibreOffice", "install Debian's libreoffice-calc (soffice) to run the LibreOffice round trip")
    return found


def convert(paths: list[Path], out: Path) -> list[Path]:
    """Have LibreOffice open each workbook and save it again as .xlsx in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "profile"
    subprocess.run([_soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",  # noqa: S603
                    "--convert-to", "xlsx", "--outdir", str(out), *map(str, paths)],
                   check=True, capture_output=True, timeout=240)
    converted = [out / path.name for path in paths]
    assert all(path.is_file() for path in converted), list(out.iterdir())
    return converted


def _values(path: Path) -> dict[str, list]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    return {sheet.title: [[unescape(v) if isinstance(v, str) else v for v in row]
                          for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}


def _trimmed(rows: list[list]) -> list[list]:
    cleaned = [[(int(v) if isinstance(v, float) and v.is_integer() else v) for v in row] for row in rows]
    cleaned = [row[:max((i + 1 for i, v in enumerate(row) if v not in (None, "")), default=0)] for row in cleaned]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    return cleaned


@pytest.fixture
def people():
    people = answering_review(extra_questions=len(RISKY) + 1)
    texts = {f"2.{4 + n}": text.replace("\r", "\n") for n, text in enumerate(RISKY)}
    _save(people, {"1.1": "yes", "1.2": [{"title": "=1+1", "article": "-2", "year": "2019", "link": None,
                                          "excerpt": "@risky excerpt"}],
                   "2.1": {"2022": {"women": 12, "men": 3}, "2023": {"women": "n/a", "men": 1}},
                   "2.2": ["ngo"], f"2.{4 + len(RISKY)}": LONG, **texts})
    return people


def test_libreoffice_reads_and_keeps_every_value_and_validation_of_the_offline_questionnaire(people, tmp_path, app):
    _soffice()
    path = tmp_path / "questionnaire.xlsx"
    services.export_offline(people.review, membership(people.focal_point, people.review), user=people.focal_point,
                            locale="en", prefilled=True, out=path)
    [converted] = convert([path], tmp_path / "lo")

    key = offline.key_for(app.config["SECRET_KEY"])
    ours, theirs = offline.read_offline(path, key), offline.read_offline(converted, key)  # the signature holds
    assert {c: a.values for c, a in theirs.answers.items()} == {c: a.values for c, a in ours.answers.items()}
    assert theirs.answers["2.11"].values[0][0] == LONG and ours.answers["2.4"].values[0][0] == RISKY[0]

    original, saved = load_workbook(path), load_workbook(converted)
    for title in ("OP1", "OP2"):
        kept = {(v.type, str(v.sqref)) for v in saved[title].data_validations.dataValidation}
        written = {(v.type, str(v.sqref)) for v in original[title].data_validations.dataValidation}
        assert {t for t, _r in written} <= {t for t, _r in kept}
        covered = {cell for _t, ranges in kept for cell in _cells(ranges)}
        assert {cell for _t, ranges in written for cell in _cells(ranges)} <= covered
    assert any(v.type == "list" and "Lists" in v.formula1 for v in saved["OP1"].data_validations.dataValidation)
    totals = _values(converted)["OP2"]
    grid_row = int(answer_cell(original, "OP2", "2.1", grid=True)[1:])
    assert totals[grid_row - 1][6:9] == [12, 3, 15]  # LibreOffice computed our SUM formulas
    assert totals[grid_row + 1][6:9] == [12, 4, 16]
    assert saved["OP1"].protection.sheet and saved["reviewmech"].sheet_state == "hidden"


def _cells(ranges: str) -> set[str]:
    from openpyxl.utils.cell import range_boundaries

    found = set()
    for part in ranges.split():
        min_col, min_row, max_col, max_row = range_boundaries(part)
        found.update((col, row) for col in range(min_col, max_col + 1) for row in range(min_row, max_row + 1))
    return found


def test_the_round_trip_holds_after_libreoffice_saved_the_edited_workbook(people, tmp_path):
    before = answer_values(people.review)
    path = tmp_path / "edited.xlsx"
    services.export_offline(people.review, membership(people.focal_point, people.review), user=people.focal_point,
                            locale="fr", prefilled=True, out=path)
    workbook = load_workbook(path)
    edit(path, {("OP1", answer_cell(workbook, "OP1", "1.1")): "Oui, en partie",
                ("OP2", answer_cell(workbook, "OP2", "2.1", row=1, column=0, grid=True)): 9,
                ("OP2", answer_cell(workbook, "OP2", "2.5")): "+41 22 917 1234 (typed offline)"})
    [converted] = convert([path], tmp_path / "lo")

    preview, outcome = services.apply_import(people.review, membership(people.focal_point, people.review), converted,
                                             user=people.focal_point, filename=converted.name, locale="en",
                                             decisions={})
    db.session.commit()
    assert sorted(outcome.saved) == ["1.1", "2.1", "2.5"]
    assert answer_values(people.review) == {**before, "1.1": "partial",
                                            "2.1": {"2022": {"women": 12, "men": 3}, "2023": {"women": 9, "men": 1}},
                                            "2.5": "+41 22 917 1234 (typed offline)"}


def test_libreoffice_reads_the_reports_as_we_wrote_them(people, tmp_path):
    db.session.add(Submission(review_id=people.review.id, answers=answer_values(people.review)))
    people.review.phase = Phase.DESK_REVIEW
    db.session.commit()
    responses, aggregate = tmp_path / "responses.xlsx", tmp_path / "aggregate.xlsx"
    services.export_responses(people.review, membership(people.reviewer, people.review), locale="es", columns=[],
                              out=responses)
    services.export_aggregate(Membership(is_secretariat=True), services.AggregateFilter(slug="mini"), locale="en",
                              out=aggregate)
    for ours, theirs in zip([responses, aggregate], convert([responses, aggregate], tmp_path / "lo"), strict=True):
        mine, libre = _values(ours), _values(theirs)
        assert list(libre) == list(mine)
        for title in mine:
            assert _trimmed(libre[title]) == _trimmed(mine[title]), title
    rows = _values(responses)["Respuestas"]
    assert any(row[3] == RISKY[0] for row in rows)
