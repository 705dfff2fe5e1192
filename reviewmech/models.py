"""Every model, imported in one place so the metadata is complete (migrations, tests)."""

from reviewmech.accounts.models import Invitation, State, User
from reviewmech.core.audit import AuditEvent
from reviewmech.notifications.models import OutboxMessage
from reviewmech.questionnaires.models import Question, Questionnaire, Section

__all__ = ["AuditEvent", "Invitation", "OutboxMessage", "Question", "Questionnaire", "Section", "State", "User"]
