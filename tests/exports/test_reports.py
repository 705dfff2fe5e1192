"""The aggregate across States and the responses report, read back as a person opens them."""

from __future__ import annotations

from openpyxl import load_workbook

from reviewmech.accounts.models import RegionalGroup
from reviewmech.exports import services
from reviewmech.extensions import db
from reviewmech.responses.models import Submission
from reviewmech.responses.services import AnswerChange, answer_values, answers_of, save_answers
from reviewmech.reviews.models import Phase
from reviewmech.reviews.policy import Membership, membership
from tests.exports.test_offline import LONG
from tests.factories import make_review
from tests.responses.helpers import answering_review

SECRETARIAT = Membership(is_secretariat=True)


def _save(review, user, changes):
    versions = {code: answer.version for code, answer in answers_of(review).items()}
    save_answers(review, [AnswerChange(c, v, versions.get(c, 0)) for c, v in changes.items()], user=user,
                 standing=membership(user, review))
    db.session.commit()


def _submit(review):
    db.session.add(Submission(review_id=review.id, answers=answer_values(review)))
    review.phase = Phase.DESK_REVIEW
    db.session.commit()


def _sheets(path):
    workbook = load_workbook(path, read_only=True)
    return {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}


def _two_states():
    mexico = answering_review()
    _save(mexico.review, mexico.focal_point, {"1.1": "yes", "2.1": {"2022": {"women": 12, "men": 3},
                                                                     "2023": {"women": "n/a", "men": 1}},
                                              "2.2": ["ngo", "academia"]})
    _submit(mexico.review)
    mexico.review.phase = Phase.SELF_ASSESSMENT
    db.session.commit()
    _save(mexico.review, mexico.focal_point, {"1.1": "no"})  # a draft after submission: never counted
    france = make_review("FRA", questionnaire=mexico.review.questionnaire, reviewers=("DEU", "MEX"))
    db.session.add(Submission(review_id=france.id, answers={"1.1": "partial", "2.1": {"2022": {"women": 5}},
                                                            "2.2": ["ngo"]}))
    france.phase = Phase.DIALOGUE
    db.session.commit()
    make_review("ARG", questionnaire=mexico.review.questionnaire, reviewers=("CHL", "FRA"))  # nothing submitted
    return mexico, france


def test_the_aggregate_counts_only_submitted_answers_state_by_state(tmp_path):
    _two_states()
    path = tmp_path / "aggregate.xlsx"
    covered = services.export_aggregate(SECRETARIAT, services.AggregateFilter(slug="mini"), locale="en", out=path)
    sheets = _sheets(path)
    assert covered == 2
    answers = sheets["Answers"]
    assert answers[0][:6] == ["State code", "State", "Regional group", "Cycle", "Phase", "Submitted on"]
    columns = answers[0]
    rows = {row[0]: dict(zip(columns, row, strict=False)) for row in answers[2:]}
    assert rows["MEX"]["1.1"] == "Yes" and rows["MEX"]["2.2"] == "NGOs; Academia"
    assert rows["FRA"]["1.1"] == "Yes, in part"
    assert "ARG" not in rows
    counts = {(r[0], r[1]): r[-1] for r in sheets["Counts"][1:]}
    assert counts[("1.1", "Yes")] == 1 and counts[("1.1", "Yes, in part")] == 1 and counts[("1.1", "No")] == 0
    assert counts[("2.2", "NGOs")] == 2
    table = sheets["Table 2.1"]
    assert table[0] == ["State code", "State", "Regional group", "Cycle", "2.1", "Women", "Men", "Total"]
    assert ["MEX", "Mexico", "Latin American and Caribbean States", 2026, "2022", 12, 3, 15] in table
    assert ["MEX", "Mexico", "Latin American and Caribbean States", 2026, "2023", "n/a", 1, 1] in table
    assert ["All States", None, None, None, "2022", 17, 3, 20] in table
    phases = {r[0]: r[-1] for r in sheets["Reviews per phase"][1:]}
    assert phases["Self-assessment"] == 1 and phases["Dialogue"] == 1 and phases["Preparation"] == 1


def test_the_aggregate_filters_by_regional_group_and_cycle(tmp_path):
    _two_states()
    path = tmp_path / "weog.xlsx"
    services.export_aggregate(SECRETARIAT, services.AggregateFilter("mini", 2026, RegionalGroup.WESTERN_EUROPEAN_OTHER),
                              locale="fr", out=path)
    sheets = _sheets(path)
    assert "Réponses" in sheets and "Examens par phase" in sheets
    rows = [row for title, rows in sheets.items() for row in rows if row and row[0] in ("MEX", "FRA")]
    assert {row[0] for row in rows} == {"FRA"}
    assert services.export_aggregate(SECRETARIAT, services.AggregateFilter("mini", 2031), locale="en",
                                     out=tmp_path / "none.xlsx") == 0


def test_a_long_answer_is_carried_whole_in_the_responses_report(tmp_path):
    people = answering_review()
    _save(people.review, people.focal_point, {"1.1": "no", "1.3": LONG})  # kept as a draft with its problem
    path = tmp_path / "responses.xlsx"
    services.export_responses(people.review, membership(people.focal_point, people.review), locale="en",
                              columns=[], out=path)
    rows = _sheets(path)["Responses"]
    index = next(i for i, row in enumerate(rows) if row[1] == "1.3")
    pieces = [rows[index][3]] + [row[3] for row in rows[index + 1:] if row[1] == "(continued)"]
    assert "".join(pieces) == LONG and len(pieces) == 2


def test_the_responses_report_continues_on_a_new_sheet_when_one_is_full(tmp_path):
    people = answering_review()
    report = services.responses_report(people.review, membership(people.focal_point, people.review), locale="en")
    path = tmp_path / "r.xlsx"
    services.reports.write_responses(report, path, max_rows=3)
    sheets = {title: rows for title, rows in _sheets(path).items() if title.startswith("Responses")}
    assert list(sheets) == ["Responses", "Responses (2)"]
    assert all(rows[0][1] == "Code" and len(rows) <= 3 for rows in sheets.values())
    assert [row[1] for rows in sheets.values() for row in rows[1:]] == ["1.1", "2.1", "2.2", "2.3"]


def test_a_hidden_answer_is_not_counted(tmp_path):
    review = make_review("NGA", cycle=2027)
    db.session.add(Submission(review_id=review.id, answers={"1.1": "ratification", "1.3": "needed"}))
    db.session.commit()
    path = tmp_path / "tip.xlsx"
    services.export_aggregate(SECRETARIAT, services.AggregateFilter(cycle=2027), locale="en", out=path)
    answers = _sheets(path)["Answers"]
    row = dict(zip(answers[0], next(r for r in answers if r[0] == "NGA"), strict=False))
    assert row["1.1"] == "Party, by ratification, acceptance or approval"
    assert row.get("1.3") is None  # 1.3 is asked only of signatories and non-parties
