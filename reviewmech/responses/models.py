"""Answers with their versions and history, attachments, and the snapshots kept at submission."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewmech.accounts.models import User
from reviewmech.core.audit import register_action_labels
from reviewmech.core.models import JSONValue, utcnow
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question


class Answer(db.Model):
    """A State's answer to one question in one review; `version` guards against silent overwrites."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    value: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    errors: Mapped[list] = mapped_column(JSONValue, default=list)
    version: Mapped[int] = mapped_column(default=1)
    is_contribution: Mapped[bool] = mapped_column(Boolean, default=False)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship()
    updated_by: Mapped[User | None] = relationship()
    revisions: Mapped[list[AnswerRevision]] = relationship(
        back_populates="answer", order_by="AnswerRevision.id", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("review_id", "question_id", name="uq_answers_review_question"),)


class AnswerRevision(db.Model):
    """One step of an answer's history: never changed, except a person's own saves coalesced within minutes."""

    __tablename__ = "answer_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    value: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(20), default="web")  # web, import, restore, conflict, api
    reason: Mapped[str] = mapped_column(Text, default="")
    session_key: Mapped[str | None] = mapped_column(String(64))  # the sign-in session that typed it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    answer: Mapped[Answer] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()


class Attachment(db.Model):
    """A file attached to an answer; the bytes live in the instance folder under a random key."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]  # removed from the live answer; kept for the versions reviewers saw

    uploaded_by: Mapped[User | None] = relationship()

    def was_attached_at(self, moment: datetime) -> bool:
        """Whether the file belonged to the answer at a moment (a submission, a release)."""
        return self.uploaded_at <= moment and (self.removed_at is None or self.removed_at > moment)


class Submission(db.Model):
    """The answers as the focal point submitted them, kept as they were."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answers: Mapped[dict] = mapped_column(JSONValue)

    submitted_by: Mapped[User | None] = relationship()


class RefusedValue(db.Model):
    """A value that was sent and refused (wrong kind, characters that cannot be stored): kept, never lost."""

    __tablename__ = "refused_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    value: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="web")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class AnswerRelease(db.Model):
    """A revised answer the focal point released to the reviewing States during the dialogue."""

    __tablename__ = "answer_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    answer_version: Mapped[int]
    value: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    released_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    released_by: Mapped[User | None] = relationship()


register_action_labels({
    "answers.submitted": _l("submitted the answers"),
    "answers.reopened": _l("reopened the answers"),
    "answer.contribution_accepted": _l("accepted a contribution"),
    "answer.attachment_removed": _l("removed an attached file"),
    "answers.released": _l("released revised answers to the reviewing States"),
})

from reviewmech.responses import history  # noqa: E402,F401 - registers how the audit log tells its events
