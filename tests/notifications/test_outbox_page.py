"""A newcomer's first minutes: the outbox in the app (development only) and links that point where make run serves."""

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]


def _invite(client, email="marie@example.fr"):
    response = client.post("/people/invite", data={"name": "Marie Curie", "email": email, "state": "FRA",
                                                   "locale": "en"})
    assert response.status_code == 302


def test_the_secretariat_reads_the_outbox_and_follows_an_activation_link(secretariat_client, client):
    _invite(secretariat_client)
    listing = secretariat_client.get("/outbox").get_data(as_text=True)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "marie@example.fr"))
    assert "marie@example.fr" in listing and f'href="/outbox/{message.id}"' in listing
    page = secretariat_client.get(f"/outbox/{message.id}").get_data(as_text=True)
    link = re.search(r'<a href="(http://reviewmech\.test/activate/[^"]+)">', page)
    assert link, page
    # The newcomer opens the link (here in another browser) and sees the activation form.
    activation = client.get(link.group(1).removeprefix("http://reviewmech.test"))
    assert activation.status_code == 200 and "Activate my account" in activation.get_data(as_text=True)


def test_only_links_to_the_platform_are_made_clickable(app):
    from reviewmech.notifications.views import linked_body

    with app.test_request_context():
        body = str(linked_body('Go to http://reviewmech.test/sign-in or http://evil.example/x <b>"hi"</b>'))
    assert '<a href="http://reviewmech.test/sign-in">' in body
    assert "evil.example/x" in body and '<a href="http://evil.example' not in body
    assert "&lt;b&gt;&#34;hi&#34;&lt;/b&gt;" in body


def test_the_outbox_is_the_secretariats_only(person_client):
    assert person_client.get("/outbox").status_code == 403


def test_the_outbox_is_not_a_page_in_production(app, secretariat_client, monkeypatch):
    _invite(secretariat_client)
    message = db.session.scalar(select(OutboxMessage))
    monkeypatch.setitem(app.config, "REVIEWMECH_ENV", "production")
    assert secretariat_client.get("/outbox").status_code == 404
    assert secretariat_client.get(f"/outbox/{message.id}").status_code == 404
    assert 'href="/outbox"' not in secretariat_client.get("/").get_data(as_text=True)


def test_a_forged_host_header_does_not_change_the_links_in_e_mail(client):
    from tests.factories import DEFAULT_PASSWORD, make_user

    forged = {"Host": "evil.example"}
    secretariat = make_user(is_secretariat=True, state=None)
    client.post("/sign-in", headers=forged, data={"email": secretariat.email, "password": DEFAULT_PASSWORD})
    response = client.post("/people/invite", headers=forged,
                           data={"name": "Marie Curie", "email": "marie@example.fr", "state": "FRA", "locale": "en"})
    assert response.status_code == 302 and response.location.startswith("/people/"), response.location
    body = db.session.scalar(select(OutboxMessage)).body
    assert "http://reviewmech.test/activate/" in body and "evil.example" not in body


@pytest.mark.parametrize(("args", "base_url"), [
    (["PORT=5123"], "http://127.0.0.1:5123"),
    (["PORT=8080", "HOST=0.0.0.0"], "http://0.0.0.0:8080"),
    (["PORT=5123", "REVIEWMECH_BASE_URL=https://review.example.org"], "https://review.example.org"),
])
def test_make_run_points_e_mail_links_at_the_address_it_serves(args, base_url):
    result = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603,S607
                            check=True, env={"PATH": "/usr/bin:/bin"})
    port = args[0].split("=")[1]
    assert f"REVIEWMECH_BASE_URL={base_url} .venv/bin/reviewmech demo" in result.stdout
    assert re.search(rf"REVIEWMECH_BASE_URL={re.escape(base_url)} .venv/bin/reviewmech run --host \S+ --port {port}",
                     result.stdout)


def test_demo_prints_each_accounts_state_role_review_and_phase(runner):
    from tests.factories import make_questionnaire

    make_questionnaire()
    db.session.commit()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split(None, 1)[1] for line in result.output.splitlines()[1:]}
    assert lines["secretariat@example.org"] == "secretariat, every review"
    assert lines["focal.point@example.org"] == "Mexico: focal point in the review of Mexico 2026 (Self-assessment)"
    assert lines["observer@example.org"] == "Mexico: observer in the review of Mexico 2026 (Self-assessment)"
    assert any("as reviewing State" in line for line in lines.values())
