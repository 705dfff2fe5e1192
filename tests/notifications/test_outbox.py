"""E-mail goes through the outbox and arrives at a real SMTP server; nothing is lost when it is down."""

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage, OutboxStatus


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        """Keep the message."""
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback, and the app pointed at it."""
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = port
    try:
        yield mailbox
    finally:
        app.config["SMTP_PORT"] = previous
        controller.stop()


def _queue(n=1):
    for i in range(n):
        db.session.add(OutboxMessage(to_address=f"r{i}@example.org", subject=f"Subject {i}", body="Body ✓",
                                     kind="test"))
    db.session.commit()


def test_queued_mail_arrives_at_the_smtp_server(runner, smtp_server):
    _queue(2)
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 2" in result.output
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == ["r0@example.org", "r1@example.org"]
    assert "Body" in smtp_server.messages[0].content.decode()
    assert all(m.status == OutboxStatus.SENT for m in db.session.scalars(select(OutboxMessage)))


def test_nothing_is_lost_when_the_smtp_server_is_down(runner, app):
    _queue(3)
    app.config["SMTP_PORT"] = _free_port()  # nobody listens there
    try:
        result = runner.invoke(args=["notifications", "send"])
    finally:
        app.config["SMTP_PORT"] = 1
    assert result.exit_code == 1
    assert "could not be reached" in result.output
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.status for m in messages] == [OutboxStatus.PENDING] * 3
    assert messages[0].attempts == 1 and "Connection refused" in messages[0].last_error
    assert messages[0].next_attempt_at > utcnow()


def test_a_message_is_retried_later_and_then_delivered(runner, app, smtp_server):
    _queue(1)
    port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = _free_port()
    runner.invoke(args=["notifications", "send"])
    app.config["SMTP_PORT"] = port
    assert runner.invoke(args=["notifications", "send"]).output.startswith("Sent 0")  # not due yet
    message = db.session.scalar(select(OutboxMessage))
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert runner.invoke(args=["notifications", "send"]).output.startswith("Sent 1")
    assert len(smtp_server.messages) == 1
    assert db.session.scalar(select(OutboxMessage)).attempts == 2


def test_a_message_fails_for_good_after_the_last_attempt(runner, app):
    _queue(1)
    message = db.session.scalar(select(OutboxMessage))
    message.attempts = app.config["MAIL_MAX_ATTEMPTS"] - 1
    db.session.commit()
    runner.invoke(args=["notifications", "send"])
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.FAILED and message.last_error


def test_an_invitation_is_queued_in_the_same_transaction_as_the_account(secretariat_client):
    secretariat_client.post("/people/invite", data={"name": "A B", "email": "ab@example.org", "state": "BRA",
                                                    "locale": "es"})
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "ab@example.org"))
    assert message.kind == "invitation" and message.status == OutboxStatus.PENDING
