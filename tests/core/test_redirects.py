"""The language switch goes back only to a page of this site."""

import pytest

from reviewmech.core.security import local_path
from reviewmech.extensions import db
from tests.factories import make_user

OFF_SITE = [
    "http://localhost//other.host/x",
    "http://localhost/\\other.host/x",
    "http://localhost/\\\\other.host",
    "//other.host/x",
    "https://other.host/x",
    "http://other.host/",
    "javascript:alert(1)",
    "data:text/html,hello",
    "http://localhost@other.host/",
    "ftp://localhost/people",
]


@pytest.mark.parametrize("referrer", OFF_SITE)
def test_the_language_switch_never_leaves_the_site(client, referrer):
    response = client.post("/language", data={"locale": "fr"}, headers={"Referer": referrer})
    assert response.status_code == 302
    assert response.location == "/", referrer
    assert 'lang="fr"' in client.get("/sign-in").get_data(as_text=True)  # the language did change


def test_the_language_switch_goes_back_to_the_page_with_its_query(secretariat_client):
    response = secretariat_client.post("/language", data={"locale": "es"},
                                       headers={"Referer": "http://localhost/people?q=ana&page=2"})
    assert response.location == "/people?q=ana&page=2"
    assert 'lang="es"' in secretariat_client.get("/people").get_data(as_text=True)


def test_a_signed_in_person_keeps_the_language_chosen(sign_in):
    user = make_user(locale="en")
    client = sign_in(user)
    client.post("/language", data={"locale": "fr"}, headers={"Referer": "http://localhost//other.host/"})
    assert db.session.get(type(user), user.id).locale == "fr"


@pytest.mark.parametrize("target", ["//host", "/\\host", "/\\/host", "/\t/host", "/\n/host", "/ok\\..", "https://x/",
                                    "x/y", "", None, "/\x00", "/ /host"])
def test_off_site_or_unsafe_targets_are_not_local_paths(target):
    assert local_path(target) is None


@pytest.mark.parametrize("target", ["/", "/people?q=a%20b", "/reviews/3/answers/OP13(d)",
                                    "/reviews/3/answers/OP4#q-4.1"])
def test_paths_of_the_site_are_local(target):
    assert local_path(target) == target
