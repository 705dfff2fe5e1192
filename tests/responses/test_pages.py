"""The answering pages as a person reads them: headings, the section bar, parts of long sections, progress, steps."""

import re

import pytest

from reviewmech.extensions import db
from reviewmech.reviews.models import Phase, PhaseChange, Role
from tests.factories import make_review


@pytest.fixture
def tip_review():
    review = make_review("MEX")
    review.phase = Phase.SELF_ASSESSMENT
    review.phase_changes.append(PhaseChange(phase=Phase.SELF_ASSESSMENT))
    db.session.commit()
    focal_point = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                       and p.state_id == review.state_id)
    return review, focal_point


def test_a_section_page_has_one_heading_translated_short_titles_progress_and_steps(sign_in, tip_review):
    review, focal_point = tip_review
    client = sign_in(focal_point)
    page = client.get(f"/reviews/{review.id}/answers/OP4").get_data(as_text=True)
    assert page.count("<h1") == 1 and "Operative paragraph 4 — Criminalization" in page
    start = page.index('class="section-pager"')
    bar = page[start:page.index("</nav>", start)]
    assert ">Operative paragraph 4</a>" in bar and ">OP4</a>" not in bar
    assert re.search(r"This page: 0 of \d+ required questions answered", page)
    assert re.search(r"whole questionnaire: 0 of \d+", page)
    steps = page[page.index('class="page-steps"'):]
    assert 'rel="prev"' in steps and ">← Operative paragraph 2</a>" in steps and "Operative paragraph 5 →" in steps
    assert 'class="save-bar"' in page and "data-page-status" in page
    spanish = client.post("/language", data={"locale": "es"}, headers={"Referer": f"http://localhost/reviews/{review.id}/answers/OP4"},
                          follow_redirects=True).get_data(as_text=True)
    assert ">Párrafo 4 de la parte dispositiva</a>" in spanish


def test_follow_up_questions_are_indented_under_the_question_that_shows_them(sign_in, tip_review):
    review, focal_point = tip_review
    page = sign_in(focal_point).get(f"/reviews/{review.id}/answers/OP4").get_data(as_text=True)
    follow_ups = re.findall(r'class="answer[^"]*follow-up follow-up-(\d)[^"]*" id="q-([^"]+)"', page)
    assert follow_ups and all(depth in "123" for depth, _code in follow_ups)
    first = re.search(r'class="answer[^"]*" id="q-4\.1"', page).group(0)
    assert "follow-up" not in first  # a question nothing shows stands at the margin


def test_a_long_section_is_answered_a_part_a_page(sign_in, tip_review):
    review, focal_point = tip_review
    client = sign_in(focal_point)
    landing = client.get(f"/reviews/{review.id}/answers/OP13").get_data(as_text=True)
    assert "This paragraph is answered in parts, one page each:" in landing
    assert 'id="q-13a.1"' not in landing and f'/reviews/{review.id}/answers/OP13(a)' in landing
    part = client.get(f"/reviews/{review.id}/answers/OP13(d)").get_data(as_text=True)
    assert 'id="q-13d.1"' in part and 'id="q-13a.1"' not in part and 'id="q-13d.10"' in part  # its detail too
    assert 'class="sub-pager"' in part and 'aria-current="page">Operative paragraph 13 (d)</a>' in part
    assert len(part.encode()) < 250_000


def test_the_check_page_groups_what_needs_attention_by_section(sign_in, tip_review):
    review, focal_point = tip_review
    page = sign_in(focal_point).get(f"/reviews/{review.id}/answers/submit").get_data(as_text=True)
    headings = re.findall(r"<h2>([^<]+) <small>\((\d+) questions?\)</small></h2>", page)
    assert len(headings) >= 5 and headings[0][0].startswith("Operative paragraph 1")
    assert f'href="/reviews/{review.id}/answers/OP13(a)#q-13a.1"' in page  # a part of a long section links its page
