"""Fixtures: an app per database (SQLite always, PostgreSQL when configured), clients, CLI runner."""

from __future__ import annotations

import contextvars
import os
import re
import tempfile

import pytest
import sqlalchemy as sa
from flask import current_app, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import orm

if os.environ.get("PYTEST_XDIST_WORKER") or "REVIEWMECH_INSTANCE_PATH" not in os.environ:  # one per worker
    os.environ["REVIEWMECH_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="reviewmech-test-")
os.environ.pop("REVIEWMECH_DATABASE_URL", None)
os.environ.pop("REVIEWMECH_ENV", None)

from reviewmech import create_app  # noqa: E402
from reviewmech.accounts.services import load_states  # noqa: E402
from reviewmech.extensions import db, limiter  # noqa: E402
from tests import factories  # noqa: E402

POSTGRES_URL_VARIABLE = "REVIEWMECH_TEST_DATABASE_URL"


def requires(what: str, reason: str):
    """Skip for a missing service, or fail when CI says the service must be there."""
    if os.environ.get("REVIEWMECH_TEST_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} not available: {reason}")


def postgres_url() -> str:
    """Return the PostgreSQL URL for tests, or skip/fail when there is none."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        requires("PostgreSQL", f"set {POSTGRES_URL_VARIABLE} to run the PostgreSQL suite")
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.OperationalError as error:
        requires("PostgreSQL", f"cannot connect to {url}: {str(error).splitlines()[0]}")
    return url


def worker_postgres_url(url: str, worker: str | None) -> str:
    """The database of one parallel test worker: `<database>_<worker>`, created from the given one if missing."""
    if not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar()
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres_schema(url: str) -> None:
    """Drop whatever an earlier run left in the test database."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def pytest_collection_modifyitems(config, items):
    """Run the browser tests first: they are the longest, and parallel workers then share out the rest."""
    items.sort(key=lambda item: "browser" not in item.path.parts)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """The database every test runs on: each test runs once per database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    url = worker_postgres_url(postgres_url(), getattr(request.config, "workerinput", {}).get("workerid"))
    reset_postgres_schema(url)
    return url


class RequestClient(FlaskClient):
    """A test client whose requests get their own app context, as in production.

    Tests hold an app context for factories; without this, requests would reuse it and share
    `g` (and the signed-in user) across requests. After each request the test's session is
    expired so the test reads what the request committed.
    """

    def open(self, *args, **kwargs):
        """Run the request in a fresh context, then refresh the test's view of the database."""
        if not has_app_context():  # already inside a fresh context (a followed redirect)
            return super().open(*args, **kwargs)
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "WTF_CSRF_ENABLED": False,
    "BASE_URL": "http://reviewmech.test",
    "SERVER_NAME": None,
    "RATELIMIT_STORAGE_URI": "memory://",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 1,
    # real argon2 hashes, at the lowest cost: the suite signs people in thousands of times
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 8,
    "ARGON2_PARALLELISM": 1,
}


@pytest.fixture(scope="session")
def app(database_url):
    """An app whose schema is built by the migrations, with the States loaded."""
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    app.test_client_class = RequestClient
    with app.app_context():
        upgrade()
        load_states()
        with app.test_request_context():
            factories.make_questionnaire()  # stored once per run; tests find it by its content
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _session_class(app, connection):
    """A session class bound to the test's connection for `app`, to its own engine for others."""

    class BoundSession(orm.Session):
        def __init__(self, db=None, **options):
            if current_app._get_current_object() is app:
                options.update(bind=connection, join_transaction_mode="create_savepoint")
            else:  # a test that builds another app talks to that app's own database
                options["bind"] = db.engine
            super().__init__(**options)

    return BoundSession


@pytest.fixture(autouse=True)
def _isolated(request, app):
    """Run each test inside a transaction rolled back at the end; commits become savepoints."""
    with app.test_request_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session({"class_": _session_class(app, connection)})
        limiter.reset()
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app):
    """A browser-like client with cookies."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Runs the `reviewmech` commands."""
    return app.test_cli_runner()


@pytest.fixture
def sign_in(app):
    """Return a function that signs a person in through the sign-in form and returns the client."""

    def _sign_in(user, password=factories.DEFAULT_PASSWORD, client=None):
        client = client or app.test_client()
        response = client.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return _sign_in


@pytest.fixture
def secretariat_client(sign_in):
    """A client signed in as a member of the secretariat."""
    return sign_in(factories.make_user(is_secretariat=True, state=None))


@pytest.fixture
def person_client(sign_in):
    """A client signed in as an ordinary person of a State."""
    return sign_in(factories.make_user())


def csrf_token_from(html: str) -> str:
    """Return the CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def count_queries(client, url: str) -> int:
    """The number of SQL statements a GET of `url` runs (the page must answer 200)."""
    from sqlalchemy import event

    count = 0

    def on_execute(*args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    return count
