"""The secretariat's pages in words: the drawing of lots, the audit log, a person's history, the dashboard."""

import re
from datetime import timedelta

from sqlalchemy import select

from reviewmech.accounts.models import AccountStatus
from reviewmech.extensions import db
from reviewmech.reviews.models import LotDraw, Phase
from reviewmech.reviews.services import today_utc
from tests.conftest import count_queries
from tests.factories import make_questionnaire, make_review, make_user


def _text(html: str) -> str:
    """The page's words, without tags."""
    inline = re.sub(r"</?(a|strong|small)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline))


def _draw(runner, *codes, cycle=2027, seed=42):
    make_questionnaire()
    db.session.commit()
    for code in codes:
        assert runner.invoke(args=["reviews", "open", "--state", code, "--questionnaire", "tip-protocol-resolution",
                                   "--cycle", str(cycle)]).exit_code == 0
    assert runner.invoke(args=["reviews", "draw-lots", "--cycle", str(cycle), "--seed", str(seed)]).exit_code == 0
    return db.session.scalar(select(LotDraw).order_by(LotDraw.id.desc()))


# The drawing of lots ---------------------------------------------------------------------------

def test_a_draw_reads_as_a_table_of_states_by_name_and_regional_group(runner, secretariat_client):
    record = _draw(runner, "MEX", "NGA")
    html = secretariat_client.get(f"/reviews/draws/{record.id}").get_data(as_text=True)
    text = _text(html)
    assert "Who reviews whom" in text
    assert "Reviewing State from the same regional group" in text
    rows = {}
    for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", html, re.S):
        cells = [_text(cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0].split(" ")[0]] = cells
    for assignment in record.result["assignments"]:
        cells = rows[_name(assignment["reviewed"]).split(" ")[0]]
        assert cells[1].startswith(_name(assignment["same_group"])), cells
        assert cells[2].startswith(_name(assignment["other_group"])), cells
    assert "Latin American and Caribbean States" in text and "African States" in text
    assert "one from its own regional group and one from another group" in text
    # The stored record is kept, folded away, for whoever wants to draw again.
    visible = html.split("<details>")[0]
    assert '"assignments"' not in visible and "MEX" not in _text(visible)


def _name(code):
    from tests.factories import get_state

    return get_state(code).name_en


def test_a_redraw_says_who_was_drawn_instead_of_whom(sign_in):
    review = make_review("MEX", reviewers=("GTM", "FRA"))
    client = sign_in(make_user(is_secretariat=True, state=None))
    client.post(f"/reviews/{review.id}/redraw", data={"slot": "other_group"})
    record = db.session.scalar(select(LotDraw).where(LotDraw.kind == "redraw"))
    text = _text(client.get(f"/reviews/draws/{record.id}").get_data(as_text=True))
    assert "Redraw of" in text
    assert re.search(r"At the request of Mexico, [^.]+? was drawn instead of France as its reviewing State from "
                     r"another regional group\.", text), text


def test_a_draw_record_of_an_unknown_shape_is_shown_without_failing(secretariat_client):
    record = LotDraw(kind="draw", cycle=2027, instrument="tip-protocol", seed=1, inputs={}, result={"odd": [1]})
    db.session.add(record)
    db.session.commit()
    response = secretariat_client.get(f"/reviews/draws/{record.id}")
    assert response.status_code == 200
    assert "This record holds no assignment." in response.get_data(as_text=True)


# The audit log and a person's history ----------------------------------------------------------

def test_the_audit_log_reads_as_sentences_with_links(sign_in):
    secretariat = make_user(is_secretariat=True, state=None, name="Sam Secretariat")
    waiting = make_user(name="Ana Lima", status=AccountStatus.PENDING_APPROVAL)
    client = sign_in(secretariat)
    client.post(f"/people/{waiting.id}/approve")
    html = client.get("/audit").get_data(as_text=True)
    assert (f'<a href="/people/{secretariat.id}">Sam Secretariat</a> approved the profile of '
            f'<a href="/people/{waiting.id}">Ana Lima</a>.') in html
    assert f'<a href="/people/{secretariat.id}">Sam Secretariat</a> signed in.' in html
    for raw in ("account.approved", "sign_in.succeeded", "User 1", "{}"):
        assert raw not in _text(html.split("<datalist")[0] + html.split("</datalist>")[1]), raw


def test_review_events_name_the_review_states_roles_and_phases(secretariat_client):
    review = make_review("MEX", reviewers=("GTM", "FRA"))
    secretariat_client.post(f"/reviews/{review.id}/phase", data={"phase": "self_assessment"})
    html = secretariat_client.get("/audit").get_data(as_text=True)
    text = _text(html)
    assert f'<a href="/reviews/{review.id}">the review of Mexico (2026)</a>' in html
    assert "from “Preparation” to “Self-assessment”." in text
    assert re.search(r"added person\d+@example\.org to the review of Mexico \(2026\) as focal point for Guatemala\.",
                     text), text


def test_names_in_sentences_are_escaped(sign_in):
    secretariat = make_user(is_secretariat=True, state=None, name="<script>alert(1)</script>")
    client = sign_in(secretariat)
    html = client.get("/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a> signed in." in html


def test_the_audit_log_costs_the_same_queries_for_few_or_many_events(secretariat_client):
    make_review("MEX", reviewers=("GTM", "FRA"))
    few = count_queries(secretariat_client, "/audit")
    for code, reviewers in (("NGA", ("GHA", "FRA")), ("JPN", ("KOR", "ARG")), ("KEN", ("UGA", "ITA"))):
        make_review(code, reviewers=reviewers)
    many = count_queries(secretariat_client, "/audit")
    assert many == few


def test_a_persons_history_tells_what_was_done_to_them_and_by_them(sign_in):
    secretariat = make_user(is_secretariat=True, state=None, name="Sam Secretariat")
    person = make_user(name="Ana Lima")
    sign_in(person)
    client = sign_in(secretariat)
    client.post(f"/people/{person.id}/deactivate")
    text = _text(client.get(f"/people/{person.id}").get_data(as_text=True))
    assert "Sam Secretariat deactivated the account of Ana Lima." in text
    assert "Ana Lima signed in." in text
    assert "Everything Ana Lima did, in the audit log" in text


# The secretariat's dashboard -------------------------------------------------------------------

def test_the_secretariat_dashboard_shows_the_cycle(secretariat_client):
    late = make_review("MEX", reviewers=("GTM", "FRA"))
    late.phase = Phase.SELF_ASSESSMENT
    late.self_assessment_due_on = today_utc() - timedelta(days=3)
    soon = make_review("NGA", reviewers=("GHA", "FRA"))
    soon.phase = Phase.DESK_REVIEW
    soon.desk_review_due_on = today_utc() + timedelta(days=10)
    waiting = make_user(name="Ana Lima", status=AccountStatus.PENDING_APPROVAL, commit=False)
    db.session.commit()
    html = secretariat_client.get("/").get_data(as_text=True)
    text = _text(html)
    assert "The review cycle" in text
    assert "Self-assessment: 1" in text and "Desk review: 1" in text
    deadlines_passed = text.split("Deadlines passed")[1].split("Deadlines in the next 30 days")[0]
    assert "Review of Mexico (2026)" in deadlines_passed and "3 days late" in deadlines_passed
    due_soon = text.split("Deadlines in the next 30 days")[1].split("Profiles waiting for approval")[0]
    assert "Review of Nigeria (2026)" in due_soon and "Mexico" not in due_soon
    assert f'<a href="/people/{waiting.id}">Ana Lima</a>' in html
    assert "You take part in no review yet" not in text


def test_reviews_without_reviewing_states_are_listed_for_a_draw(secretariat_client):
    make_questionnaire()
    from reviewmech.reviews.services import open_review
    from tests.factories import get_state

    open_review(state=get_state("KEN"), questionnaire=make_questionnaire(), cycle=2027, by=None)
    db.session.commit()
    text = _text(secretariat_client.get("/").get_data(as_text=True))
    assert "Reviews waiting for their reviewing States" in text and "Review of Kenya (2027)" in text


def test_a_person_without_reviews_is_told_so(person_client):
    text = _text(person_client.get("/").get_data(as_text=True))
    assert "You take part in no review yet" in text and "The review cycle" not in text
