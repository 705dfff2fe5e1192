"""Questionnaire versions, their sections and questions; a stored version is never changed."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from pydantic import BaseModel
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewmech.core.models import JSONValue, utcnow
from reviewmech.extensions import db
from reviewmech.questionnaires.types import TYPES, QuestionType, Texts


def localized(texts: dict | None, locale: str) -> tuple[str, bool]:
    """A stored text in `locale`, and whether it fell back to English."""
    if not texts:
        return "", False
    return Texts.model_validate(texts).get(locale)


class SectionTexts:
    """What a section (a stored row, or its entry in a version's catalogue) says in each language."""

    def text(self, field: str, locale: str) -> tuple[str, bool]:
        """The title or help in a language, and whether it fell back to English."""
        return localized(getattr(self, field), locale)

    def short_title(self, locale: str) -> str:
        """The title up to its dash ('Operative paragraph 4 — Criminalization' → 'Operative paragraph 4')."""
        title = self.text("title", locale)[0]
        return title.split(" — ", 1)[0] if " — " in title else title


class QuestionBehaviour:
    """What a question (a stored row, or its entry in a version's catalogue) knows: type, options, texts."""

    @property
    def question_type(self) -> QuestionType:
        """The type's behaviour from the registry."""
        return TYPES[self.type]

    @cached_property
    def parsed_options(self) -> BaseModel:
        """The type's options, validated (a table's years still relative to a cycle)."""
        return self.question_type.parse_options(self.options)

    @cached_property
    def _options_by_cycle(self) -> dict[int | None, BaseModel]:
        return {}

    def options_for(self, cycle: int | None) -> BaseModel:
        """The options as a review of this cycle uses them: a table's years become concrete rows."""
        if cycle not in self._options_by_cycle:
            self._options_by_cycle[cycle] = self.question_type.options_for_cycle(self.parsed_options, cycle)
        return self._options_by_cycle[cycle]

    @property
    def is_recommendation(self) -> bool:
        """Whether the question rests on a recommendation of the resolution (a No is then not a failure to comply)."""
        return bool(self.basis and self.basis.get("recommendation"))

    def text(self, field: str, locale: str) -> tuple[str, bool]:
        """The prompt or help in a language, and whether it fell back to English."""
        return localized(getattr(self, field), locale)


class Questionnaire(db.Model):
    """One version of a questionnaire, identified by the hash of its content."""

    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[dict] = mapped_column(JSONValue)
    source: Mapped[dict] = mapped_column(JSONValue)
    languages: Mapped[list] = mapped_column(JSONValue)
    definition: Mapped[dict] = mapped_column(JSONValue, deferred=True)  # the whole file: loaded only when asked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sections: Mapped[list[Section]] = relationship(
        back_populates="questionnaire", order_by="Section.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="questionnaire", order_by="Question.position", cascade="all, delete-orphan",
        overlaps="questions",
    )

    __table_args__ = (
        UniqueConstraint("slug", "version", name="uq_questionnaires_slug_version"),
        UniqueConstraint("slug", "content_hash", name="uq_questionnaires_slug_content_hash"),
    )

    def text(self, field: str, locale: str) -> tuple[str, bool]:
        """The title or source in a language, and whether it fell back to English."""
        return localized(getattr(self, field), locale)


class Section(SectionTexts, db.Model):
    """A section of a questionnaire version; sections nest."""

    __tablename__ = "questionnaire_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire_sections.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    depth: Mapped[int] = mapped_column(default=0)
    title: Mapped[dict] = mapped_column(JSONValue)
    help: Mapped[dict | None] = mapped_column(JSONValue)
    show_if: Mapped[dict | None] = mapped_column(JSONValue)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="sections")
    parent: Mapped[Section | None] = relationship(remote_side=[id])
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position", overlaps="questions"
    )

    __table_args__ = (UniqueConstraint("questionnaire_id", "code", name="uq_questionnaire_sections_code"),)


class Question(QuestionBehaviour, db.Model):
    """A question of a questionnaire version."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_sections.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    prompt: Mapped[dict] = mapped_column(JSONValue)
    help: Mapped[dict | None] = mapped_column(JSONValue)
    is_required: Mapped[bool] = mapped_column(Boolean, default=False)
    show_if: Mapped[dict | None] = mapped_column(JSONValue)
    options: Mapped[dict] = mapped_column(JSONValue, default=dict)
    paragraphs: Mapped[list] = mapped_column(JSONValue, default=list)
    articles: Mapped[list] = mapped_column(JSONValue, default=list)
    basis: Mapped[dict | None] = mapped_column(JSONValue)  # {obligation: article} or {recommendation: paragraph}

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions", overlaps="questions")
    section: Mapped[Section] = relationship(back_populates="questions", overlaps="questions")

    __table_args__ = (UniqueConstraint("questionnaire_id", "code", name="uq_questions_code"),)


@event.listens_for(Questionnaire, "before_update")
@event.listens_for(Section, "before_update")
@event.listens_for(Question, "before_update")
def _refuse_change(mapper, connection, target):
    raise RuntimeError("a stored questionnaire version is never changed; load a new version instead")


from reviewmech.questionnaires import history  # noqa: E402,F401 - registers how the audit log tells its events
