"""How the app talks to its database: timeouts, SQLite's locking, and knowing whether a request saved.

PostgreSQL gets a connect timeout and a statement timeout from psycopg's connection options, so a
database that is down or hangs is noticed within seconds. SQLite (the embedded default) gets the
equivalent: a busy timeout (how long a write waits for another one) and a statement deadline enforced
by a progress handler. Requests that may write (every method but GET, HEAD and OPTIONS) open their
SQLite transactions with `BEGIN IMMEDIATE`: they take the write lock before reading, so two of them
never read the same snapshot and then fail to write ("database is locked"); they wait their turn instead.
"""

from __future__ import annotations

import math
import sqlite3
import time

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SQLITE_BUSY_FALLBACK_SECONDS = 5  # when the statement timeout is switched off
_PROGRESS_STEPS = 10_000  # SQLite virtual machine steps between two looks at the clock


def engine_options(config: dict) -> dict:
    """SQLAlchemy engine options for the configured database, timeouts included."""
    options = {"pool_pre_ping": True, **config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    connect_timeout = config["DB_CONNECT_TIMEOUT"]
    statement_ms = round(config["DB_STATEMENT_TIMEOUT"] * 1000)
    if url.get_backend_name() == "postgresql":
        connect_args = options["connect_args"] = {**options.get("connect_args", {})}
        # libpq counts whole seconds and waits at least 2.
        connect_args.setdefault("connect_timeout", max(2, math.ceil(connect_timeout)))
        connect_args.setdefault("options", f"-c statement_timeout={statement_ms}")
        options.setdefault("pool_timeout", connect_timeout)
    return options


def configure_engine(engine: Engine, config: dict) -> None:
    """Give an SQLite engine its pragmas, busy timeout, statement deadline and write transactions."""
    if engine.dialect.name != "sqlite":
        return
    statement_seconds = config["DB_STATEMENT_TIMEOUT"]
    busy_ms = round((statement_seconds or SQLITE_BUSY_FALLBACK_SECONDS) * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # Transactions are begun by the "begin" listener below, so savepoints work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()
        if statement_seconds:
            deadline = connection_record.info.setdefault("statement_deadline", [None])

            def past_deadline() -> int:
                return int(deadline[0] is not None and time.monotonic() > deadline[0])

            dbapi_connection.set_progress_handler(past_deadline, _PROGRESS_STEPS)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if request_may_write() else "BEGIN")

    if not statement_seconds:
        return

    def _set_deadline(connection, value):
        holder = connection.connection.info.get("statement_deadline")
        if holder is not None:
            holder[0] = value

    @event.listens_for(engine, "before_cursor_execute")
    def _start_deadline(connection, cursor, statement, parameters, context, executemany):
        _set_deadline(connection, time.monotonic() + statement_seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _clear_after_execute(connection, cursor, statement, parameters, context, executemany):
        _set_deadline(connection, None)

    @event.listens_for(engine, "handle_error")
    def _clear_after_error(context):
        if context.connection is not None and not context.connection.closed:
            _set_deadline(context.connection, None)

    for name in ("commit", "rollback"):  # never interrupt the end of a transaction
        event.listen(engine, name, lambda connection: _set_deadline(connection, None))


def request_may_write() -> bool:
    """Whether the current request may change data (any method but GET, HEAD, OPTIONS)."""
    return has_request_context() and request.method not in READING_METHODS


def is_sqlite_busy(error: BaseException) -> bool:
    """Whether an error is SQLite saying another connection holds the lock."""
    original = getattr(error, "orig", None)
    return isinstance(original, sqlite3.OperationalError) and "locked" in str(original)


# Whether this request saved something ------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _note_write(session, flush_context):
    session.info["has_unsaved_writes"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(orm_execute_state):
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        orm_execute_state.session.info["has_unsaved_writes"] = True


@event.listens_for(Session, "after_commit")
def _note_commit(session):
    if session.info.pop("has_unsaved_writes", False) and has_request_context() and not g.get("quiet_commit"):
        g.request_saved = True


@event.listens_for(Session, "after_rollback")
def _forget_writes(session):
    session.info.pop("has_unsaved_writes", None)


def request_saved() -> bool:
    """Whether this request committed a change to the database (bookkeeping such as "last seen" aside)."""
    return has_request_context() and bool(g.get("request_saved"))


def init_app(app: Flask, db) -> None:
    """Configure the app's engines; call after `db.init_app(app)`."""
    with app.app_context():
        configure_engine(db.engine, app.config)
