"""The append-only audit log and the one helper that writes to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
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


# Events as sentences ---------------------------------------------------------------------------
#
# A feature registers, for each action it audits, a sentence: a lazy text with the placeholders
# %(actor)s (who did it), %(object)s (what it was done to) and any key of the event's details; or a
# function of the event that returns such a text, or (text, extra words). It registers too, for each
# kind of object it audits, how to load many at once, name one and link to it, so that a page of
# events costs one query per kind of object, not one per event.

Sentence = object  # a lazy text, or a callable(event) -> text | (text, dict of extra words)


@dataclass(frozen=True)
class ObjectKind:
    """How the events' objects of one type are loaded (by id, all at once), named and linked."""

    load: Callable[[list[str]], dict[str, object]]
    name: Callable[[object], str]
    link: Callable[[object], str | None]


ACTION_SENTENCES: dict[str, Sentence] = {}
OBJECT_KINDS: dict[str, ObjectKind] = {}


def register_action_sentences(sentences: dict[str, Sentence]) -> None:
    """Let a feature tell its audited actions as sentences (see the comment above)."""
    ACTION_SENTENCES.update(sentences)


def register_object_kind(type_name: str, *, load, name, link) -> None:
    """Let a feature load, name and link the objects of its audit events (`object_type == type_name`)."""
    OBJECT_KINDS[type_name] = ObjectKind(load=load, name=name, link=link)


class _Words(dict):
    """The words of a sentence; a placeholder without a value reads as a dash rather than failing."""

    def __missing__(self, key):
        return "—"


def _linked(text: str, url: str | None) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, text) if url else escape(text)


def _load_objects(events) -> dict[tuple[str, str], object]:
    wanted: dict[str, set[str]] = {}
    for item in events:
        if item.object_type in OBJECT_KINDS and item.object_id is not None:
            wanted.setdefault(item.object_type, set()).add(item.object_id)
    wanted.setdefault("User", set()).update(str(e.actor_id) for e in events if e.actor_id is not None)
    found = {}
    for type_name, ids in wanted.items():
        kind = OBJECT_KINDS.get(type_name)
        if kind is not None and ids:
            found.update({(type_name, key): obj for key, obj in kind.load(sorted(ids)).items()})
    return found


def _object_words(type_name: str | None, object_id: str | None, objects: dict, links: bool) -> Markup:
    if type_name is None:
        return Markup("")
    kind = OBJECT_KINDS.get(type_name)
    obj = objects.get((type_name, object_id))
    if kind is None or obj is None:
        return escape(f"{type_name} {object_id}" if kind is None else _("an object that no longer exists"))
    return _linked(kind.name(obj), kind.link(obj) if links else None)


def describe_events(events, *, links: bool = True) -> list[Markup]:
    """Each event as a sentence in the reader's language, with links to the people and objects it names."""
    events = list(events)
    objects = _load_objects(events)
    sentences = []
    for item in events:
        if item.actor_id is not None:
            actor = _object_words("User", str(item.actor_id), objects, links)
        else:
            actor = escape(_("The platform"))
        words = _Words({key: value for key, value in (item.details or {}).items()
                        if isinstance(value, str | int | float)})
        words.update(actor=actor, object=_object_words(item.object_type, item.object_id, objects, links),
                     label=action_label(item.action))
        sentence = ACTION_SENTENCES.get(item.action)
        if callable(sentence):
            sentence = sentence(item)
            if isinstance(sentence, tuple):
                sentence, extra = sentence
                words.update(extra)
        if sentence is None:
            sentence = _("%(actor)s: %(label)s (%(object)s).") if item.object_type else _("%(actor)s: %(label)s.")
        sentences.append(escape(str(sentence)) % words)  # the text escaped, then its words (links) put in
    return sentences


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
