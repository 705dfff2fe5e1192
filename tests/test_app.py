"""The application factory, configuration, health check and response headers."""

import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import text

from reviewmech import create_app
from reviewmech.config import ConfigError
from reviewmech.extensions import db


def test_health_check_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_health_check_answers_503_when_the_database_does_not(tmp_path):
    broken = create_app({"TESTING": True, "SECRET_KEY": "x",
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert "database unavailable" in response.get_data(as_text=True)


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("REVIEWMECH_ENV", "production")
    monkeypatch.delenv("REVIEWMECH_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="REVIEWMECH_SECRET_KEY must be set"):
        create_app()


def test_the_command_says_so_in_one_line_without_a_secret_key_in_production(tmp_path):
    env = {"REVIEWMECH_ENV": "production", "REVIEWMECH_INSTANCE_PATH": str(tmp_path), "PATH": ""}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "from reviewmech.cli import main; main()", "routes"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "reviewmech: REVIEWMECH_SECRET_KEY must be set when REVIEWMECH_ENV=production"
    ]


def test_development_secret_key_is_generated_once_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("REVIEWMECH_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("REVIEWMECH_SECRET_KEY", raising=False)
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("REVIEWMECH_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'reviewmech.sqlite3'}"


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
    assert sqlite3.connect(tmp_path / "x.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_pages_carry_security_headers(client):
    response = client.get("/sign-in")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_unknown_page_answers_a_clear_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "This page does not exist" in response.get_data(as_text=True)


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(monkeypatch, tmp_path):
    from flask import request

    from reviewmech.core.permissions import public

    monkeypatch.setenv("REVIEWMECH_PROXY_COUNT", "1")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite3"})
    seen = {}

    @app.get("/_client-address")
    @public
    def client_address():
        seen["address"] = request.remote_addr
        return "ok"

    app.test_client().get("/_client-address", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                          headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen["address"] == "203.0.113.7"
