"""How the audit log tells the questionnaires' events."""

from __future__ import annotations

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from reviewmech.core.audit import register_action_labels, register_action_sentences, register_object_kind
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Questionnaire


def _load(ids: list[str]) -> dict[str, object]:
    numbers = [int(i) for i in ids if i.isdigit()]
    return {str(q.id): q for q in db.session.scalars(select(Questionnaire).where(Questionnaire.id.in_(numbers)))}


def _name(questionnaire: Questionnaire) -> str:
    return questionnaire.text("title", str(get_locale() or "en"))[0]


register_object_kind("Questionnaire", load=_load, name=_name,
                     link=lambda q: url_for("questionnaires.browse", slug=q.slug, version=q.version))
register_action_labels({"questionnaire.loaded": _l("loaded a questionnaire")})
register_action_sentences({
    "questionnaire.loaded": _l("%(actor)s loaded %(object)s as version %(version)s."),
})
