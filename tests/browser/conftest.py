"""A live server on its own SQLite database and a real Chromium driven by Playwright."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from reviewmech import create_app
from reviewmech.extensions import db
from tests.conftest import TEST_SETTINGS, requires

CHROMIUM = os.environ.get("REVIEWMECH_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium, or a skip (a failure in CI) when there is none."""
    if not Path(CHROMIUM).exists():
        requires("Chromium", f"no browser at {CHROMIUM}; install Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """An app with its own migrated SQLite database, served on a loopback port."""
    from flask_migrate import upgrade

    from reviewmech.demo import seed_demo

    path = tmp_path_factory.mktemp("live") / "live.sqlite3"
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "WTF_CSRF_ENABLED": True})
    with app.app_context():
        upgrade()
        with app.test_request_context():
            seed_demo()
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()


@pytest.fixture
def page(browser, live_app):
    """A fresh browser context and page."""
    context = browser.new_context(base_url=live_app.config["LIVE_URL"])
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True, name="_isolated")
def _own_live_server():
    """Browser tests drive a live server with its own database: no test transaction, one run (not one per database)."""
    yield


@pytest.fixture(scope="session")
def full_demo(live_app):
    """The live server's demo data with the questionnaire loaded: one review in each phase and their people."""
    from reviewmech.demo import DEMO_QUESTIONNAIRE, seed_demo
    from reviewmech.questionnaires.services import latest_version, load

    with live_app.app_context():
        if latest_version(DEMO_QUESTIONNAIRE) is None:
            load([Path(__file__).resolve().parents[2] / "questionnaires" / f"{DEMO_QUESTIONNAIRE}.yaml"])
        with live_app.test_request_context():
            accounts = seed_demo()
        db.session.commit()
        db.session.remove()
    return accounts
