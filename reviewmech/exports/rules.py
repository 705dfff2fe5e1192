"""Who may export and import what: rules of the review policy, registered by this feature."""

from __future__ import annotations

from flask_babel import gettext as _

from reviewmech.reviews.models import Review
from reviewmech.reviews.policy import AnswerView, Membership, answer_view, can_edit_answers, can_read_answers, rule


@rule("export_questionnaire", lambda: _("Only the State under review and the secretariat download the offline "
                                        "questionnaire of a review."))
def can_export_questionnaire(standing: Membership, review: Review) -> bool:
    """The State under review's people and the secretariat: it carries the live answers and their versions."""
    return answer_view(standing, review) == AnswerView.LIVE


@rule("import_answers", lambda: _("Only the people of the State under review who may change its answers import a "
                                  "workbook, while the answers are open."))
def can_import_answers(standing: Membership, review: Review) -> bool:
    """Whoever may edit the answers now (contributors within their sections)."""
    return can_edit_answers(standing, review)


@rule("export_responses", lambda: _("The answers become visible to the reviewing States once they are submitted."))
def can_export_responses(standing: Membership, review: Review) -> bool:
    """Anyone who reads the answers, each getting what they may see."""
    return can_read_answers(standing, review)


@rule("export_aggregate", lambda: _("Only the secretariat exports answers across States."))
def can_export_aggregate(standing: Membership, review: Review | None = None) -> bool:
    """The secretariat, across reviews (the review is not looked at)."""
    return standing.is_secretariat
