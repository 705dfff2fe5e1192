"""Queue e-mail in the outbox and deliver it over SMTP with retries."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from reviewmech.core.models import utcnow
from reviewmech.extensions import db
from reviewmech.notifications.models import OutboxMessage, OutboxStatus

# Minutes to wait after the n-th failed attempt.
RETRY_DELAYS = (1, 5, 15, 60, 180, 360, 720)


def queue_email(to_address: str, kind: str, locale: str = "en", **context) -> OutboxMessage:
    """Render an e-mail in the recipient's language and add it to the outbox."""
    with force_locale(locale):
        subject = render_template(f"email/{kind}.subject.txt", **context).strip()
        body = render_template(f"email/{kind}.txt", **context)
    message = OutboxMessage(to_address=to_address, kind=kind, subject=subject, body=body)
    db.session.add(message)
    return message


@dataclass
class DeliveryReport:
    """What one run of the sender did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    server_unreachable: bool = False


def _smtp_connection():
    config = current_app.config
    smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
    if config["SMTP_STARTTLS"]:
        smtp.starttls(context=ssl.create_default_context())
    if config["SMTP_USERNAME"]:
        smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
    return smtp


def _as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body)
    return email


def _next_due_message() -> OutboxMessage | None:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Two workers never send the same message: each locks the row it sends.
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def _record_failure(message: OutboxMessage, error: Exception, report: DeliveryReport) -> None:
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        report.failed += 1
    else:
        delay = RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS)) - 1]
        message.next_attempt_at = utcnow() + timedelta(minutes=delay)
        report.retrying += 1


def send_pending(batch_size: int = 500) -> DeliveryReport:
    """Send due messages one by one, committing each; a failure is retried later, never dropped."""
    report = DeliveryReport()
    smtp = None
    try:
        for _ in range(batch_size):
            message = _next_due_message()
            if message is None:
                break
            message.attempts += 1
            if smtp is None:
                try:
                    smtp = _smtp_connection()
                except (OSError, smtplib.SMTPException) as error:
                    # The server is down: note it on this message, leave the rest queued.
                    _record_failure(message, error, report)
                    report.server_unreachable = True
                    db.session.commit()
                    break
            try:
                smtp.send_message(_as_email(message))
            except (OSError, smtplib.SMTPException) as error:
                _record_failure(message, error, report)
                if isinstance(error, smtplib.SMTPServerDisconnected):
                    smtp = None
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = utcnow()
                message.last_error = None
                report.sent += 1
            db.session.commit()
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return report
