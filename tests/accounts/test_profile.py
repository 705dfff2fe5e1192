"""One clock and one language: the person's time zone and language, from the browser, the sign-in page, the profile."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from reviewmech.core.audit import AuditEvent
from reviewmech.core.clock import local_date, local_datetime, local_time
from reviewmech.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user


def _sign_in(client, user, **extra):
    response = client.post("/sign-in", data={"email": user.email, "password": DEFAULT_PASSWORD, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def _events(action):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


# The time helpers ------------------------------------------------------------------------------

def test_a_moment_is_written_in_the_given_zone_with_the_zone_named():
    moment = datetime(2026, 12, 1, 19, 33, tzinfo=UTC)
    assert local_datetime(moment, "America/Mexico_City") == "2026-12-01 13:33 (America/Mexico City)"
    assert local_time(moment, "Europe/Paris") == "20:33 (Europe/Paris)"
    assert local_date(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "Asia/Tokyo") == "2026-12-02"
    assert local_datetime(None) == ""


def test_an_unknown_zone_falls_back_to_utc():
    moment = datetime(2026, 12, 1, 19, 33, tzinfo=UTC)
    assert local_datetime(moment, "Mars/Olympus_Mons") == "2026-12-01 19:33 (UTC)"
    assert local_datetime(moment, "../../etc/passwd") == "2026-12-01 19:33 (UTC)"


# The browser's zone, taken at sign-in ----------------------------------------------------------

def test_the_browser_zone_becomes_the_profile_zone_at_the_first_sign_in(client):
    user = make_user()
    _sign_in(client, user, timezone="America/Mexico_City")
    db.session.refresh(user)
    assert user.timezone == "America/Mexico_City"
    assert 'data-timezone="America/Mexico_City"' in client.get("/").get_data(as_text=True)


def test_a_zone_chosen_in_the_profile_is_not_replaced_by_the_browser(client):
    user = make_user(timezone="Europe/Paris")
    _sign_in(client, user, timezone="Asia/Tokyo")
    db.session.refresh(user)
    assert user.timezone == "Europe/Paris"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "x" * 5000, "Europe/../../etc/passwd"])
def test_an_unknown_browser_zone_is_ignored_and_times_stay_utc(client, zone):
    user = make_user()
    _sign_in(client, user, timezone=zone)
    db.session.refresh(user)
    assert user.timezone is None
    assert 'data-timezone="UTC"' in client.get("/").get_data(as_text=True)


# The profile page ------------------------------------------------------------------------------

def test_a_person_changes_their_language_and_time_zone(sign_in):
    user = make_user(locale="en", timezone="UTC")
    client = sign_in(user)
    page = client.get("/profile").get_data(as_text=True)
    assert "<h1>My profile</h1>" in page and "(UTC)" in page
    response = client.post("/profile", data={"locale": "es", "timezone": "America/Bogota"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Se han guardado sus preferencias." in page
    assert "(America/Bogota)" in page
    db.session.refresh(user)
    assert (user.locale, user.timezone) == ("es", "America/Bogota")
    assert _events("account.preferences_changed") == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"locale": "en", "timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the list"),
    ({"locale": "en", "timezone": "y" * 300}, "Choose a time zone from the list"),
    ({"locale": "xx", "timezone": "Europe/Paris"}, "Choose one of the languages offered."),
    ({"locale": "", "timezone": "Europe/Paris"}, "This field is required."),
])
def test_a_zone_or_language_we_do_not_have_is_refused_and_nothing_changes(sign_in, data, message):
    user = make_user(locale="en", timezone="UTC")
    client = sign_in(user)
    response = client.post("/profile", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert (user.locale, user.timezone) == ("en", "UTC")
    assert _events("account.preferences_changed") == 0


# The language chosen on the sign-in page -------------------------------------------------------

def _choose_language_then_sign_in(client, user, locale):
    client.post("/language", data={"locale": locale}, headers={"Referer": "http://localhost/sign-in"})
    _sign_in(client, user)


def test_a_language_chosen_on_the_sign_in_page_is_kept_after_sign_in_and_offered_to_be_saved(client):
    user = make_user(locale="en")
    _choose_language_then_sign_in(client, user, "fr")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Garder Français pour mon compte" in page
    db.session.refresh(user)
    assert user.locale == "en"  # offered, not saved without asking


def test_keeping_the_sign_in_language_saves_it_in_the_profile(client):
    user = make_user(locale="en")
    _choose_language_then_sign_in(client, user, "fr")
    response = client.post("/profile/language/keep", headers={"Referer": "http://localhost/"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Français est désormais la langue de votre compte." in page
    assert "Garder Français pour mon compte" not in page
    db.session.refresh(user)
    assert user.locale == "fr"


def test_declining_goes_back_to_the_account_language(client):
    user = make_user(locale="es")
    _choose_language_then_sign_in(client, user, "fr")
    response = client.post("/profile/language/decline", headers={"Referer": "http://localhost/"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Garder" not in page
    db.session.refresh(user)
    assert user.locale == "es"


def test_no_offer_when_the_language_is_the_account_one(client):
    user = make_user(locale="fr")
    _choose_language_then_sign_in(client, user, "fr")
    assert "pour mon compte" not in client.get("/").get_data(as_text=True)


def test_an_unknown_answer_to_the_offer_is_a_404_and_changes_nothing(client):
    user = make_user(locale="en")
    _choose_language_then_sign_in(client, user, "fr")
    assert client.post("/profile/language/maybe").status_code == 404
    db.session.refresh(user)
    assert user.locale == "en"
