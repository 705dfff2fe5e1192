"""How the audit log tells the reviews' events: sentences, and the reviews they name."""

from __future__ import annotations

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from reviewmech.accounts.history import state_name
from reviewmech.core.audit import register_action_sentences, register_object_kind
from reviewmech.extensions import db
from reviewmech.reviews.models import PHASE_LABELS, ROLE_LABELS, Phase, Review, Role


def _load(ids: list[str]) -> dict[str, object]:
    numbers = [int(i) for i in ids if i.isdigit()]
    query = select(Review).where(Review.id.in_(numbers)).options(selectinload(Review.state))
    return {str(review.id): review for review in db.session.scalars(query)}


def _name(review: Review) -> str:
    return _("the review of %(state)s (%(cycle)d)", state=review.state.name(str(get_locale() or "en")),
             cycle=review.cycle)


def _phase(value) -> str:
    try:
        return str(PHASE_LABELS[Phase(value)])
    except ValueError:
        return str(value)


def _role(value) -> str:
    try:
        return str(ROLE_LABELS[Role(value)]).lower()
    except ValueError:
        return str(value)


def _drawn(event):
    details = event.details or {}
    return (_l("%(actor)s drew the reviewing States of %(object)s: %(same)s from its own regional group and "
               "%(other)s from another (seed %(seed)s)."),
            {"same": state_name(details.get("same_group")), "other": state_name(details.get("other_group"))})


def _redrawn(event):
    details = event.details or {}
    return (_l("%(actor)s redrew a reviewing State of %(object)s: %(drawn)s instead of %(replaced)s."),
            {"drawn": state_name(details.get("drawn")), "replaced": state_name(details.get("replaced"))})


def _with_state_and_role(template):
    def sentence(event):
        details = event.details or {}
        return template, {"state": state_name(details.get("state")), "role": _role(details.get("role"))}

    return sentence


def _phase_changed(event):
    details = event.details or {}
    return (_l("%(actor)s moved %(object)s from “%(before)s” to “%(after)s”."),
            {"before": _phase(details.get("before")), "after": _phase(details.get("after"))})


register_object_kind("Review", load=_load, name=_name, link=lambda review: url_for("reviews.home", review_id=review.id))

register_action_sentences({
    "review.opened": _l("%(actor)s opened %(object)s on the questionnaire %(questionnaire)s."),
    "review.reviewers_drawn": _drawn,
    "review.reviewer_redrawn": _redrawn,
    "review.focal_point_replaced": _with_state_and_role(
        _l("%(actor)s made %(new)s the focal point of %(state)s in %(object)s, instead of %(previous)s.")),
    "review.participant_added": _with_state_and_role(
        _l("%(actor)s added %(email)s to %(object)s as %(role)s for %(state)s.")),
    "review.participant_removed": _with_state_and_role(
        _l("%(actor)s ended the part of %(email)s (%(role)s) in %(object)s.")),
    "review.phase_changed": _phase_changed,
    "review.deadline_extended": _l("%(actor)s extended the deadline of %(object)s from %(before)s to %(after)s, "
                                   "because: %(reason)s"),
})
