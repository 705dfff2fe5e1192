"""Every model, imported in one place so the metadata is complete (migrations, tests)."""

from reviewmech.accounts.models import Invitation, KeptForm, SignInSession, State, User
from reviewmech.core.audit import AuditEvent
from reviewmech.notifications.models import OutboxMessage
from reviewmech.questionnaires.models import Question, Questionnaire, Section
from reviewmech.responses.models import (
    Answer,
    AnswerRelease,
    AnswerRevision,
    Attachment,
    RefusedValue,
    Submission,
)
from reviewmech.reviews.models import LotDraw, Participant, PhaseChange, ReminderSent, Review, ReviewState

__all__ = [
    "Answer", "AnswerRelease", "AnswerRevision", "Attachment", "AuditEvent", "Invitation", "KeptForm", "LotDraw",
    "OutboxMessage", "Participant", "PhaseChange", "Question", "Questionnaire", "RefusedValue", "ReminderSent",
    "Review", "ReviewState", "Section", "SignInSession", "State", "Submission", "User",
]
