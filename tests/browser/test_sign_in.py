"""A person signs in with a real browser and sees the dashboard."""

import pytest

pytestmark = pytest.mark.browser


def test_the_demo_secretariat_signs_in_and_sees_the_dashboard(page, live_app):
    page.goto("/")
    assert "/sign-in" in page.url
    page.get_by_label("E-mail address").fill("secretariat@example.org")
    page.get_by_label("Password").fill(live_app.config["DEMO_PASSWORD"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Sam Secretariat"
    assert page.get_by_role("link", name="Invite a person").is_visible()


def test_a_wrong_password_is_announced_next_to_the_field(page):
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill("secretariat@example.org")
    page.get_by_label("Password").fill("not the right password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").first.is_visible()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
