"""Every model, imported in one place so the metadata is complete (migrations, tests)."""

from reviewmech.accounts.models import Invitation, State, User
from reviewmech.core.audit import AuditEvent
from reviewmech.notifications.models import OutboxMessage

__all__ = ["AuditEvent", "Invitation", "OutboxMessage", "State", "User"]
