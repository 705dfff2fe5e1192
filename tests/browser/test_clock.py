"""One clock in a real browser: the zone comes from the browser at sign-in; the script writes times as the server."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from reviewmech.accounts.models import User
from reviewmech.core.clock import local_datetime, local_time
from reviewmech.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def newcomer(live_app):
    """A person who has never signed in: no time zone yet."""
    with live_app.app_context():
        user = make_user(state=None, name="New Comer")
        email = user.email
        db.session.remove()
    return email


def _zone_of(live_app, email):
    with live_app.app_context():
        zone = db.session.scalar(select(User.timezone).where(User.email == email))
        db.session.remove()
    return zone


def _sign_in(page, email):
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_the_browser_zone_is_taken_at_the_first_sign_in_and_the_script_writes_times_as_the_server(
        browser, live_app, newcomer):
    context = browser.new_context(base_url=live_app.config["LIVE_URL"], timezone_id="America/Mexico_City")
    page = context.new_page()
    try:
        _sign_in(page, newcomer)
        assert _zone_of(live_app, newcomer) == "America/Mexico_City"
        assert page.locator("body").get_attribute("data-timezone") == "America/Mexico_City"
        moment = datetime(2026, 12, 1, 19, 33, tzinfo=UTC)
        script = page.evaluate("""(iso) => [window.ReviewmechClock.formatDateTime(iso),
                                             window.ReviewmechClock.formatTime(iso)]""", moment.isoformat())
        assert script == [local_datetime(moment, "America/Mexico_City"), local_time(moment, "America/Mexico_City")]
        assert script[0] == "2026-12-01 13:33 (America/Mexico City)"
    finally:
        context.close()


def test_the_profile_zone_wins_over_the_browser_and_is_used_by_the_script(browser, live_app, newcomer):
    context = browser.new_context(base_url=live_app.config["LIVE_URL"], timezone_id="Asia/Tokyo")
    page = context.new_page()
    try:
        _sign_in(page, newcomer)
        page.goto("/profile")
        page.get_by_label("Time zone").select_option("Europe/Paris")
        page.get_by_role("button", name="Save my preferences").click()
        page.get_by_text("Your preferences are saved.").wait_for()
        assert _zone_of(live_app, newcomer) == "Europe/Paris"
        # The script writes in the profile's zone, not the browser's.
        noon_utc = page.evaluate("() => window.ReviewmechClock.formatTime('2026-07-01T12:00:00Z')")
        assert noon_utc == "14:00 (Europe/Paris)"
    finally:
        context.close()
