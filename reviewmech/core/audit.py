"""The append-only audit log and the one helper that writes to it."""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewmech.core.models import JSONValue, utcnow
from reviewmech.extensions import db


class AuditEvent(db.Model):
    """Something that happened, who did it, from where; never changed once written."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    review_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[dict] = mapped_column(JSONValue, default=dict)

    actor = relationship("User", lazy="joined")

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


ACTION_LABELS: dict[str, object] = {}


def register_action_labels(labels: dict[str, object]) -> None:
    """Let a feature name its audited actions in words (lazy texts, translated when shown)."""
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    """An audited action in words, or its code when it has none."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def record(action: str, obj=None, *, actor=None, review_id=None, **details) -> AuditEvent:
    """Add an audit event to the current transaction; the caller commits."""
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event_ = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        ip_address=request.remote_addr if has_request_context() else None,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None else None,
        review_id=review_id,
        details=details,
    )
    db.session.add(event_)
    return event_
