"""Answering in a real browser: live conditions, autosave, conflicts, signed-out sessions, drafts, escaping."""

import json
import random
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reviewmech.extensions import db

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CONDITIONS_JS = ROOT / "reviewmech" / "static" / "js" / "conditions.js"
FOCAL_POINT = "focal.point@example.org"
WAIT = 20_000  # ms: generous, the machine running the tests may be slow
SAVED = re.compile("Saved at")
PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture
def mexico(live_app):
    """The id of the demo's review of Mexico, in self-assessment; the questionnaire is loaded if the demo did not."""
    from reviewmech.accounts.models import State
    from reviewmech.demo import DEMO_CYCLE, DEMO_QUESTIONNAIRE, seed_demo
    from reviewmech.questionnaires.services import latest_version, load
    from reviewmech.reviews.models import Phase, Review

    def find():
        return db.session.scalar(select(Review).join(State, State.id == Review.state_id)
                                 .where(State.code == "MEX", Review.cycle == DEMO_CYCLE))

    with live_app.app_context():
        if find() is None:
            if latest_version(DEMO_QUESTIONNAIRE) is None:
                load([ROOT / "questionnaires" / f"{DEMO_QUESTIONNAIRE}.yaml"])
            with live_app.test_request_context():
                seed_demo()
            db.session.commit()
        review = find()
        assert review is not None and review.phase == Phase.SELF_ASSESSMENT
        review_id = review.id
        db.session.remove()
    return review_id


def watch(page, problems):
    """Note every script error and everything the content security policy refuses on a page."""
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    return page


@pytest.fixture
def watched(page):
    """The page, failing the test if a script throws or the content security policy refuses something."""
    problems = []
    yield watch(page, problems)
    assert problems == []


@pytest.fixture
def two_people(browser, live_app):
    """Two browsers (contexts) signed in as the focal point of Mexico; fails on script errors in either."""
    contexts = [browser.new_context(base_url=live_app.config["LIVE_URL"]) for _ in range(2)]
    problems = []
    pages = [watch(context.new_page(), problems) for context in contexts]
    for page in pages:
        sign_in(page, live_app)
    yield pages
    for context in contexts:
        context.close()
    assert problems == []


def sign_in(page, live_app, email=FOCAL_POINT):
    """Sign in through the form."""
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(live_app.config["DEMO_PASSWORD"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def answer(page, code):
    """The block of one question."""
    return page.locator(f'.answer[data-question="{code}"]')


def status(page, code):
    """The save status of one question."""
    return answer(page, code).locator("[data-status]")


def is_autosave(code):
    """Match the autosave request of a question."""
    return lambda response: response.request.method == "POST" and response.url.endswith(f"/autosave/{code}")


def choose(page, code, label):
    """Tick an answer of a choice question and wait until it is saved."""
    with page.expect_response(is_autosave(code), timeout=WAIT) as saved:
        answer(page, code).get_by_label(label, exact=True).check()
    assert saved.value.status == 200


def type_and_wait(page, code, text):
    """Type into a text answer and wait until it is saved."""
    with page.expect_response(is_autosave(code), timeout=WAIT) as saved:
        answer(page, code).locator("textarea").fill(text)
    assert saved.value.status == 200
    expect(status(page, code)).to_have_text(SAVED, timeout=WAIT)


def test_conditions_show_follow_ups_live_and_answers_survive_a_reload(watched, live_app, mexico):
    page = watched
    sign_in(page, live_app)
    page.goto(f"/reviews/{mexico}/answers/OP4")
    if_yes, if_no = answer(page, "4.2"), answer(page, "4.6")
    expect(if_yes).to_be_hidden()
    expect(if_no).to_be_hidden()

    # The server does not answer meanwhile: the follow-ups change in the page itself.
    holding, held = [True], []
    page.route("**/autosave/**", lambda route: held.append(route) if holding[0] else route.continue_())
    answer(page, "4.1").get_by_label("No", exact=True).check()
    expect(if_no).to_be_visible()
    expect(if_yes).to_be_hidden()
    answer(page, "4.1").get_by_label("Yes", exact=True).check()
    expect(if_yes).to_be_visible()
    expect(if_no).to_be_hidden()
    answer(page, "4.1").get_by_label("No", exact=True).check()
    expect(if_no).to_be_visible()
    expect(if_yes).to_be_hidden()
    holding[0] = False
    for route in held:
        route.continue_()
    expect(status(page, "4.1")).to_have_text(SAVED, timeout=WAIT)
    type_and_wait(page, "4.6", "The penal code covers trafficking of children only.")

    choose(page, "4.1", "Yes")
    expect(if_yes).to_be_visible()
    expect(if_no).to_be_hidden()

    page.reload()
    expect(answer(page, "4.1").get_by_label("Yes", exact=True)).to_be_checked()
    expect(if_yes).to_be_visible()
    expect(if_no).to_be_hidden()
    expect(if_no.locator("textarea")).to_have_value("The penal code covers trafficking of children only.")

    choose(page, "4.1", "No")  # the hidden answer was kept
    expect(if_no).to_be_visible()
    expect(if_no.locator("textarea")).to_have_value("The penal code covers trafficking of children only.")


def test_a_conflict_shows_both_versions_and_keep_mine_saves_mine(two_people, mexico):
    first, second = two_people
    for page in (first, second):
        page.goto(f"/reviews/{mexico}/answers/OP12")

    type_and_wait(first, "12.gaps", "First version, from the ministry of justice.")
    second_answer = answer(second, "12.gaps")
    with second.expect_response(is_autosave("12.gaps"), timeout=WAIT) as refused:
        second_answer.locator("textarea").fill("Second version, from the police.")
    assert refused.value.status == 409

    conflict = second_answer.locator("[data-conflict]")
    expect(conflict).to_be_visible(timeout=WAIT)
    expect(conflict).to_contain_text("Your version")
    expect(conflict).to_contain_text("Second version, from the police.")
    expect(conflict).to_contain_text("Saved by")
    expect(conflict).to_contain_text("Fatima Focal")
    expect(conflict).to_contain_text("First version, from the ministry of justice.")
    expect(conflict.get_by_role("button", name="Merge")).to_be_visible()

    with second.expect_response(is_autosave("12.gaps"), timeout=WAIT) as kept:
        conflict.get_by_role("button", name="Keep mine").click()
    assert kept.value.status == 200
    expect(conflict).to_be_hidden()
    expect(status(second, "12.gaps")).to_have_text(SAVED, timeout=WAIT)

    for page in (second, first):
        page.reload()
        expect(answer(page, "12.gaps").locator("textarea")).to_have_value("Second version, from the police.")


def test_merge_saves_the_text_of_both(two_people, mexico):
    first, second = two_people
    for page in (first, second):
        page.goto(f"/reviews/{mexico}/answers/OP13(h)")
    type_and_wait(first, "13h.gaps", "Figures from the prosecution service.")
    answer(second, "13h.gaps").locator("textarea").fill("Figures from the courts.")
    conflict = answer(second, "13h.gaps").locator("[data-conflict]")
    conflict.get_by_role("button", name="Merge").click(timeout=WAIT)
    merged = conflict.locator("textarea")
    expect(merged).to_have_value(re.compile(r"prosecution service\.[\s\S]*courts\."))
    with second.expect_response(is_autosave("13h.gaps"), timeout=WAIT) as saved:
        conflict.get_by_role("button", name=re.compile("merged")).click()
    assert saved.value.status == 200
    second.reload()
    expect(answer(second, "13h.gaps").locator("textarea")).to_have_value(
        re.compile(r"prosecution service\.[\s\S]*courts\."))


def test_keep_theirs_on_a_table_takes_the_saved_figures_from_the_server(two_people, mexico):
    from reviewmech.demo import DEMO_CYCLE

    cell = f'[name="a-S.2-{DEMO_CYCLE - 5}_investigated-women"]'  # the first of the five years before the cycle
    first, second = two_people
    for page in (first, second):
        page.goto(f"/reviews/{mexico}/answers/STATS")
    with first.expect_response(is_autosave("S.2"), timeout=WAIT) as saved:
        answer(first, "S.2").locator(cell).fill("12")
    assert saved.value.status == 200
    with second.expect_response(is_autosave("S.2"), timeout=WAIT) as refused:
        answer(second, "S.2").locator(cell).fill("15")
    assert refused.value.status == 409
    conflict = answer(second, "S.2").locator("[data-conflict]")
    expect(conflict).to_contain_text("12", timeout=WAIT)
    expect(conflict.get_by_role("button", name="Merge")).to_have_count(0)
    conflict.get_by_role("button", name="Keep theirs").click()
    expect(answer(second, "S.2").locator(cell)).to_have_value("12", timeout=WAIT)
    expect(answer(second, "S.2").locator("[data-conflict]")).to_be_hidden()

    with second.expect_response(is_autosave("S.2"), timeout=WAIT) as saved:  # the page took the new version
        answer(second, "S.2").locator(cell).fill("13")
    assert saved.value.status == 200
    first.reload()
    expect(answer(first, "S.2").locator(cell)).to_have_value("13")


def test_the_whole_form_can_still_be_posted_while_autosave_is_on_its_way(watched, live_app, mexico):
    page = watched
    sign_in(page, live_app)
    page.goto(f"/reviews/{mexico}/answers/STATS")
    cell = answer(page, "S.2").locator('[name$="_convicted-men"]').nth(1)
    cell.fill("7")
    page.get_by_role("button", name="Save the answers").click()
    expect(page.locator(".flash-success")).to_be_visible(timeout=WAIT)
    expect(page.locator(".flash-error")).to_have_count(0)
    expect(cell).to_have_value("7")


def test_html_in_answers_and_conflicts_is_shown_as_text_and_never_runs(two_people, mexico):
    first, second = two_people
    for page in (first, second):
        page.goto(f"/reviews/{mexico}/answers/OP4")
    choose(first, "4.9", "Yes")
    second.reload()
    type_and_wait(first, "4.10", PAYLOAD)
    with second.expect_response(is_autosave("4.10"), timeout=WAIT):
        answer(second, "4.10").locator("textarea").fill(PAYLOAD + " <b>mine</b>")
    conflict = answer(second, "4.10").locator("[data-conflict]")
    expect(conflict).to_contain_text(PAYLOAD + " <b>mine</b>", timeout=WAIT)
    expect(conflict).to_contain_text(PAYLOAD)
    assert conflict.locator("img, script, b").count() == 0

    conflict.get_by_role("button", name="Keep theirs").click()
    expect(conflict).to_be_hidden()
    expect(answer(second, "4.10").locator("textarea")).to_have_value(PAYLOAD)

    for page in (first, second):
        page.reload()
        expect(answer(page, "4.10").locator("textarea")).to_have_value(PAYLOAD)
        assert page.locator("img[src=x]").count() == 0
        assert page.evaluate("() => typeof window.__pwned") == "undefined"


def test_a_signed_out_person_keeps_the_text_signs_in_in_another_tab_and_retries(watched, live_app, mexico):
    page = watched
    sign_in(page, live_app)
    page.goto(f"/reviews/{mexico}/answers/OP4")
    choose(page, "4.7", "No")
    page.context.clear_cookies()

    with page.expect_response(is_autosave("4.8"), timeout=WAIT) as refused:
        answer(page, "4.8").locator("textarea").fill("Children are protected up to 16 years of age.")
    assert refused.value.status in (400, 401)  # the CSRF check may speak first; the token refresh then fails
    notice = page.locator(".signed-out-notice")
    expect(notice).to_be_visible(timeout=WAIT)
    link = notice.get_by_role("link")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("href", "/sign-in")
    draft = page.evaluate(f"() => localStorage.getItem('reviewmech:draft:{mexico}:4.8')")
    assert json.loads(draft)["value"] == "Children are protected up to 16 years of age."

    other_tab = page.context.new_page()
    sign_in(other_tab, live_app)
    other_tab.close()
    with page.expect_response(lambda r: is_autosave("4.8")(r) and r.status == 200, timeout=WAIT):
        notice.get_by_role("button", name="Retry").click()
    expect(notice).to_be_hidden()
    expect(status(page, "4.8")).to_have_text(SAVED, timeout=WAIT)
    assert page.evaluate(f"() => localStorage.getItem('reviewmech:draft:{mexico}:4.8')") is None
    page.reload()
    expect(answer(page, "4.8").locator("textarea")).to_have_value("Children are protected up to 16 years of age.")


def test_a_failed_save_is_retried_and_leaving_meanwhile_asks_first(watched, live_app, mexico):
    page = watched
    sign_in(page, live_app)
    page.goto(f"/reviews/{mexico}/answers/OP4")
    choose(page, "4.15", "No")
    page.route("**/autosave/4.16", lambda route: route.abort("internetdisconnected"))
    answer(page, "4.16").locator("textarea").fill("Only transnational cases are covered.")
    expect(status(page, "4.16")).to_contain_text("Not saved", timeout=WAIT)

    with page.expect_event("dialog", timeout=WAIT) as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()  # stay on the page
    expect(page.locator("body")).to_be_visible()

    page.unroute("**/autosave/4.16")
    expect(status(page, "4.16")).to_have_text(SAVED, timeout=WAIT * 3)
    page.reload()
    expect(answer(page, "4.16").locator("textarea")).to_have_value("Only transnational cases are covered.")


def test_an_unsaved_draft_is_offered_again_on_the_next_visit(watched, live_app, mexico):
    page = watched
    sign_in(page, live_app)
    page.goto(f"/reviews/{mexico}/answers/OP13(i)")
    key = f"reviewmech:draft:{mexico}:13i.gaps"
    page.evaluate("([key, draft]) => localStorage.setItem(key, JSON.stringify(draft))",
                  [key, {"value": "42", "version": 0}])
    page.reload()
    block = answer(page, "13i.gaps")
    with page.expect_response(is_autosave("13i.gaps"), timeout=WAIT) as saved:
        block.get_by_role("button", name="Restore my unsaved text").click(timeout=WAIT)
    assert saved.value.status == 200
    expect(block.locator('[name="a-13i.gaps"]')).to_have_value("42")
    expect(status(page, "13i.gaps")).to_have_text(SAVED, timeout=WAIT)
    assert page.evaluate("(key) => localStorage.getItem(key)", key) is None

    page.evaluate("([key, draft]) => localStorage.setItem(key, JSON.stringify(draft))",
                  [key, {"value": "17", "version": 1}])
    page.reload()
    block.get_by_role("button", name="Discard").click(timeout=WAIT)
    expect(block.get_by_role("button", name="Restore my unsaved text")).to_have_count(0)
    assert page.evaluate("(key) => localStorage.getItem(key)", key) is None
    page.reload()
    expect(block.locator('[name="a-13i.gaps"]')).to_have_value("42")
    expect(block.get_by_role("button", name="Restore my unsaved text")).to_have_count(0)


def test_add_a_citation_clones_the_last_row_empty(watched, live_app, mexico):
    page = watched
    sign_in(page, live_app)
    page.goto(f"/reviews/{mexico}/answers/OP4")
    choose(page, "4.13", "Yes")
    block = answer(page, "4.14")
    with page.expect_response(is_autosave("4.14"), timeout=WAIT):
        block.locator('[name="a-4.14-0-title"]').fill("Penal Code")
        block.locator('[name="a-4.14-0-year"]').fill("2012")
    block.get_by_role("button", name="Add a citation").click()
    new_title = block.locator('[name="a-4.14-1-title"]')
    expect(new_title).to_have_value("")
    expect(new_title).to_be_focused()
    expect(block.locator("legend").nth(1)).to_have_text("Citation 2")
    with page.expect_response(lambda r: is_autosave("4.14")(r) and "Law on Migration" in (r.request.post_data or ""),
                              timeout=WAIT) as saved:
        new_title.fill("Law on Migration")
    assert saved.value.status == 200
    page.reload()
    expect(block.locator('[name="a-4.14-1-title"]')).to_have_value("Law on Migration")
    expect(block.locator('[name="a-4.14-0-year"]')).to_have_value("2012")
    expect(block.locator('[name="a-4.14-2-title"]')).to_have_value("")  # the empty row the server adds


# The browser's conditions against the server's --------------------------------------------------

CODES = ["a", "b", "c", "d"]
VALUES = ["yes", "no", "partial", 1, 0, True, False, ""]


def _random_condition(rng, depth=0):
    kind = rng.choice(["in", "equals", "answered"] + (["all", "any", "not"] if depth < 3 else []))
    if kind in ("all", "any"):
        return {kind: [_random_condition(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    if kind == "not":
        return {"not": _random_condition(rng, depth + 1)}
    question = rng.choice(CODES)
    if kind == "answered":
        return {"question": question, "answered": rng.choice([True, False])}
    if kind == "equals":
        return {"question": question, "equals": rng.choice(VALUES)}
    return {"question": question, "in": rng.sample(VALUES, rng.randint(1, 3))}


def _random_answer(rng):
    return rng.choice([None, "", [], {}, "yes", "no", 1, 0, True, ["yes"], ["no", "partial"], {"r": {"c": 1}},
                       rng.sample(VALUES, 2)])


def test_the_browser_evaluates_conditions_exactly_as_the_server(page):
    from reviewmech.questionnaires.conditions import evaluate, visible_codes

    rng = random.Random(20261128)
    cases = []
    for _ in range(400):
        answers = {code: _random_answer(rng) for code in CODES if rng.random() < 0.8}
        items = [[code, [rng.choice([None, _random_condition(rng)]) for _ in range(rng.randint(0, 2))]]
                 for code in CODES]
        condition = _random_condition(rng)
        cases.append({"condition": condition, "answers": answers, "items": items,
                      "holds": evaluate(condition, answers), "shown": sorted(visible_codes(items, answers))})
    page.goto("about:blank")
    page.add_script_tag(path=str(CONDITIONS_JS))
    results = page.evaluate("""(cases) => cases.map((c) => ({
        holds: window.ReviewmechConditions.evaluate(c.condition, c.answers),
        shown: [...window.ReviewmechConditions.visibleCodes(c.items, c.answers)].sort(),
    }))""", cases)
    mismatches = [(case, result) for case, result in zip(cases, results, strict=True)
                  if result != {"holds": case["holds"], "shown": case["shown"]}]
    assert mismatches == []


def test_progress_follows_the_answers_live_and_the_save_status_stays_in_view(watched, live_app, mexico):
    page = watched
    sign_in(page, live_app)
    page.set_viewport_size({"width": 390, "height": 700})
    page.goto(f"/reviews/{mexico}/answers/OP8")
    progress = page.locator("[data-progress]")
    for choice in ("no", "yes"):
        with page.expect_response(is_autosave("8.1"), timeout=WAIT) as saved:
            answer(page, "8.1").locator(f'input[value="{choice}"]').check()
        assert saved.value.status == 200
        expect(page.locator("[data-page-status]")).to_have_text("All changes saved", timeout=WAIT)
        live = " ".join(progress.inner_text().split())
        page.reload()
        assert " ".join(progress.inner_text().split()) == live  # what the script counted is what the server counts
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator("#answers-form").bounding_box()["y"] < 700  # the answers start on a phone's first screen
    for code in ("8.1", "8.gaps"):
        answer(page, code).scroll_into_view_if_needed()
        box = page.locator(".save-bar").bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 700  # the status stays in view
