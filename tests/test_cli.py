"""The `reviewmech` command: reference data, demo data, accounts."""

from sqlalchemy import func, select

from reviewmech.accounts.models import AccountStatus, State, User
from reviewmech.extensions import db


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_states_load_is_idempotent(runner):
    result = runner.invoke(args=["states", "load"])
    assert result.exit_code == 0
    assert result.output.strip() == "States: 0 created, 0 updated."
    assert _count(State) == 193


def test_states_load_refuses_a_bad_file_and_changes_nothing(runner, tmp_path):
    bad = tmp_path / "states.csv"
    bad.write_text("code,name_en,name_fr,name_es,regional_group\nXX,Atlantis,Atlantide,Atlántida,oceanic\n")
    result = runner.invoke(args=["states", "load", str(bad)])
    assert result.exit_code == 1
    assert "states.csv, line 2" in result.output
    assert _count(State) == 193


def test_demo_creates_accounts_once(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "secretariat@example.org" in first.output
    users = _count(User)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert _count(User) == users and _count(State) == 193


def test_demo_is_refused_in_production(app, runner):
    app.config["REVIEWMECH_ENV"] = "production"
    try:
        result = runner.invoke(args=["demo"])
    finally:
        app.config["REVIEWMECH_ENV"] = "development"
    assert result.exit_code == 1 and "refusing to load demo data" in result.output


def test_users_create_makes_an_active_secretariat_account(runner, client):
    result = runner.invoke(args=["users", "create", "--email", "Boss@Example.org", "--name", "Boss",
                                 "--secretariat", "--password", "a very good passphrase"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.is_secretariat and user.status == AccountStatus.ACTIVE
    response = client.post("/sign-in", data={"email": "boss@example.org", "password": "a very good passphrase"})
    assert response.status_code == 302


def test_users_create_refuses_bad_input_in_one_line(runner):
    users = _count(User)
    cases = [
        (["--email", "nope", "--name", "X", "--secretariat", "--password", "a very good passphrase"],
         "Enter a valid e-mail address."),
        (["--email", "a@example.org", "--name", "X", "--password", "a very good passphrase"],
         "give --state CODE"),
        (["--email", "a@example.org", "--name", "X", "--state", "XXX", "--password", "a very good passphrase"],
         "unknown State code"),
        (["--email", "a@example.org", "--name", "X", "--secretariat", "--password", "short"],
         "password refused: Use at least 12 characters."),
    ]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code == 1, args
        assert message in result.output
    assert _count(User) == users


def test_users_invite_queues_an_activation_link(runner):
    result = runner.invoke(args=["users", "invite", "--email", "new@example.org", "--name", "New", "--state", "ARG"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.status == AccountStatus.INVITED and user.state.code == "ARG"
