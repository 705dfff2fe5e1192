"""The interface in English, Spanish and French; every string is translated."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from reviewmech.config import LANGUAGES
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "reviewmech" / "translations"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages the code and templates use now."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--no-location", str(ROOT)],
        check=True, cwd=ROOT, capture_output=True,
    )
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.mark.parametrize("locale", [code for code in LANGUAGES if code != "en"])
def test_every_message_is_translated(extracted, locale):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        message.id for message in catalog
        if message.id and not message.fuzzy
        and (all(message.string) if isinstance(message.string, tuple) else message.string)
    }
    missing = sorted(str(m) for m in extracted - translated)
    assert not missing, f"{len(missing)} messages miss a {locale} translation (run `make messages`): {missing[:10]}"


def test_the_language_switch_changes_the_interface(client):
    assert "Iniciar sesión" not in client.get("/sign-in").get_data(as_text=True)
    client.post("/language", data={"locale": "es"}, headers={"Referer": "http://localhost/sign-in"})
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="es">' in page and "Contraseña" in page


def test_the_browser_language_is_used_before_any_choice(client):
    page = client.get("/sign-in", headers={"Accept-Language": "fr-CH, fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Mot de passe" in page


def test_a_signed_in_person_keeps_their_language(sign_in):
    client = sign_in(make_user(locale="fr"))
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)


def test_an_unknown_language_is_refused_and_nothing_changes(client):
    client.post("/language", data={"locale": "xx"})
    assert '<html lang="en">' in client.get("/sign-in").get_data(as_text=True)


def test_an_off_site_referrer_is_not_followed(client):
    response = client.post("/language", data={"locale": "fr"}, headers={"Referer": "https://evil.example/x"})
    assert response.location == "/"
