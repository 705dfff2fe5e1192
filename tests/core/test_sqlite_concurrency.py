"""The embedded SQLite default takes a handful of people signing in at the same moment."""

import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from reviewmech import create_app
from reviewmech.accounts.models import AccountStatus, SignInSession, User
from reviewmech.core.audit import AuditEvent
from reviewmech.extensions import db
from tests.conftest import TEST_SETTINGS
from tests.factories import DEFAULT_PASSWORD, _default_password_hash

PEOPLE = 8


@pytest.fixture
def sqlite_app(once, tmp_path):
    """An app on an SQLite file of its own, where every request really commits."""
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'busy.sqlite3'}"})
    with app.app_context():
        upgrade()
        db.session.add_all(User(email=f"person{n}@example.org", name=f"Person {n}", status=AccountStatus.ACTIVE,
                                password_hash=_default_password_hash()) for n in range(PEOPLE))
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _all_at_once(count, action):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        barrier.wait()
        try:
            results[index] = action(index)
        except Exception as error:  # every failure is reported, not only the first
            results[index] = repr(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_people_signing_in_at_the_same_moment_all_get_in(sqlite_app):
    def sign_in_and_look(index):
        client = sqlite_app.test_client()
        signed_in = client.post("/sign-in", data={"email": f"person{index}@example.org",
                                                  "password": DEFAULT_PASSWORD})
        return signed_in.status_code, client.get("/").status_code

    results = _all_at_once(PEOPLE, sign_in_and_look)
    assert results == [(302, 200)] * PEOPLE
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignInSession)) == PEOPLE
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "sign_in.succeeded")) == PEOPLE
        db.session.remove()


def test_people_saving_at_the_same_moment_all_get_through(sqlite_app):
    clients = []
    for index in range(PEOPLE):
        client = sqlite_app.test_client()
        client.post("/sign-in", data={"email": f"person{index}@example.org", "password": DEFAULT_PASSWORD})
        clients.append(client)

    results = _all_at_once(PEOPLE, lambda index: clients[index].post(
        "/language", data={"locale": "fr"}, headers={"Referer": "http://localhost/"}).status_code)
    assert results == [302] * PEOPLE
    with sqlite_app.app_context():
        assert set(db.session.scalars(select(User.locale))) == {"fr"}
        db.session.remove()
