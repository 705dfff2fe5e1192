"""A review on a small questionnaire, in the self-assessment, with its people."""

from dataclasses import dataclass

from reviewmech.extensions import db
from reviewmech.questionnaires.schema import QuestionnaireSpec
from reviewmech.questionnaires.services import store
from reviewmech.reviews.models import Phase, PhaseChange, Review, Role
from tests.factories import make_review, participant
from tests.questionnaires.helpers import questionnaire, texts


def small_questionnaire(slug="mini", extra_questions=0):
    """The test questionnaire, with an attachments question and optionally many text questions."""
    data = questionnaire(slug=slug)
    data["sections"][1]["questions"].append({"code": "2.3", "type": "attachments", "prompt": texts("Evidence"),
                                             "ref": {"paragraphs": ["2"]}, "basis": {"recommendation": "2"}})
    data["sections"][1]["questions"] += [
        {"code": f"2.{n}", "type": "text", "prompt": texts(f"Question {n}"), "ref": {"paragraphs": ["2"]},
         "basis": {"recommendation": "2"}}
        for n in range(4, 4 + extra_questions)]
    stored, _new = store(QuestionnaireSpec.model_validate(data))
    db.session.flush()
    return stored


@dataclass
class People:
    """The review and a user per role."""

    review: Review
    focal_point: object
    expert: object
    contributor: object
    observer: object
    reviewer: object


def answering_review(phase=Phase.SELF_ASSESSMENT, extra_questions=0, slug="mini") -> People:
    """A review of Mexico on the small questionnaire, in `phase`, with one person per role."""
    review = make_review("MEX", questionnaire=small_questionnaire(slug, extra_questions))
    review.phase = phase
    review.phase_changes.append(PhaseChange(phase=phase))
    db.session.commit()
    focal_point = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                       and p.state_id == review.state_id)
    reviewer = next(p.user for p in review.participants if p.role == Role.FOCAL_POINT
                    and p.state_id != review.state_id)
    contributor = participant(review, "contributor")
    for row in review.participants:
        if row.user_id == contributor.id:
            row.sections = ["OP2"]
    db.session.commit()
    return People(review, focal_point, participant(review, "expert"), contributor, participant(review, "observer"),
                  reviewer)
