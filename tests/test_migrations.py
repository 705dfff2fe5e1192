"""The migrations build the schema of the models, and go down and up again, on both databases."""

import io
from contextlib import redirect_stdout

import pytest
import sqlalchemy as sa
from flask_migrate import check, downgrade, upgrade

from reviewmech import create_app
from reviewmech.extensions import db
from tests.conftest import postgres_url, worker_postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """An empty database, apart from the one the rest of the suite uses."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    url = sa.engine.make_url(worker_postgres_url(postgres_url(), getattr(request.config, "workerinput", {})
                                                 .get("workerid")))
    migration_database = f"{url.database}_migration_check"  # per test database, so parallel runs do not collide
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {migration_database} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {migration_database}"))
    yield url.set(database=migration_database).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {migration_database} WITH (FORCE)"))
    admin.dispose()


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_check_downgrade_upgrade(empty_database_url):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context(), redirect_stdout(io.StringIO()):
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        try:
            check()
        except SystemExit:  # Flask-Migrate exits 1 when autogenerate finds differences
            pytest.fail("models and migrations differ: run `reviewmech db check` for the list")
        downgrade(revision="base")
        assert _tables(db.engine) == set()
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        db.session.remove()
        db.engine.dispose()
