"""Concurrent saves of one answer on PostgreSQL: exactly one wins per version, none is lost, no error."""

import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from reviewmech import create_app
from reviewmech.accounts.services import load_states
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question
from reviewmech.responses.models import Answer, AnswerRevision
from tests.conftest import TEST_SETTINGS, postgres_url, worker_postgres_url
from tests.factories import DEFAULT_PASSWORD
from tests.responses.helpers import answering_review

THREADS = 8


@pytest.fixture
def committing_app(request):
    """An app on a database of its own where every request really commits."""
    if request.node.callspec.params.get("database_url") == "sqlite":
        pytest.skip("runs once, on PostgreSQL")
    url = sa.engine.make_url(worker_postgres_url(postgres_url(), getattr(request.config, "workerinput", {})
                                                 .get("workerid")))
    database = f"{url.database}_concurrency_check"  # per test database, so parallel runs do not collide
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {database}"))
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url.set(database=database).render_as_string(
        hide_password=False)})
    with app.app_context():
        upgrade()
        load_states()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    admin.dispose()


def _race(app, review_id, emails, code, version):
    clients = []
    for email in emails:
        client = app.test_client()
        assert client.post("/sign-in", data={"email": email, "password": DEFAULT_PASSWORD}).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def save(index, client):
        barrier.wait()
        response = client.post(f"/reviews/{review_id}/answers/autosave/{code}",
                               json={"value": f"text from writer {index} in round {version}", "version": version})
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=save, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def winner_value(results, version):
    """The text the acknowledged writer sent (each round's texts differ: resending a stored text is no race)."""
    index = next(i for i, (status, _body) in enumerate(results) if status == 200)
    return f"text from writer {index} in round {version}"


def test_concurrent_saves_of_one_answer(committing_app):
    with committing_app.app_context(), committing_app.test_request_context():
        people = answering_review()
        review_id = people.review.id
        emails = [people.focal_point.email, people.expert.email] * (THREADS // 2)
        db.session.commit()
    client = committing_app.test_client()
    client.post("/sign-in", data={"email": emails[0], "password": DEFAULT_PASSWORD})
    assert client.post(f"/reviews/{review_id}/answers/autosave/1.1", json={"value": "no", "version": 0}) \
        .status_code == 200
    for version in (0, 1, 2):
        results = _race(committing_app, review_id, emails, "1.3", version)
        statuses = sorted(status for status, _body in results)
        assert statuses == [200] + [409] * (THREADS - 1), (statuses, results)
        winner = next(body for status, body in results if status == 200)
        assert winner["version"] == version + 1
        with committing_app.app_context():
            stored = db.session.scalar(select(Answer).join(Question).where(Answer.review_id == review_id,
                                                                           Question.code == "1.3"))
            assert stored.version == version + 1 and stored.value == winner_value(results, version)
            acknowledged = [body for status, body in results if status == 200]
            assert len(acknowledged) == 1
            refused = db.session.scalar(select(sa.func.count()).select_from(AnswerRevision).where(
                AnswerRevision.answer_id == stored.id, AnswerRevision.source == "conflict"))
            assert refused == (THREADS - 1) * (version + 1)  # every refused text is kept in the history
            db.session.remove()
