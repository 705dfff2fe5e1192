"""How the audit log tells the answers' events: sentences, and the answers and files they name."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from reviewmech.core.audit import register_action_sentences, register_object_kind
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Question
from reviewmech.responses.models import Answer, Attachment


def _numbers(ids: list[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit()]


def _load_answers(ids: list[str]) -> dict[str, object]:
    rows = db.session.execute(select(Answer, Question.code).join(Question, Question.id == Answer.question_id)
                              .where(Answer.id.in_(_numbers(ids)))).all()
    found = {}
    for answer, code in rows:
        answer.question_code = code
        found[str(answer.id)] = answer
    return found


def _load_files(ids: list[str]) -> dict[str, object]:
    query = select(Attachment).where(Attachment.id.in_(_numbers(ids))).options(selectinload(Attachment.uploaded_by))
    return {str(attachment.id): attachment for attachment in db.session.scalars(query)}


register_object_kind(
    "Answer", load=_load_answers, name=lambda answer: _("the answer to question %(code)s", code=answer.question_code),
    link=lambda answer: url_for("responses.history", review_id=answer.review_id, code=answer.question_code))
register_object_kind("Attachment", load=_load_files, name=lambda attachment: attachment.filename, link=lambda _a: None)


def _released(event):
    questions = (event.details or {}).get("questions") or []
    return (_l("%(actor)s released %(count)s revised answer(s) of %(object)s to the reviewing States: %(codes)s."),
            {"count": str(len(questions)), "codes": ", ".join(map(str, questions))})


register_action_sentences({
    "answers.submitted": _l("%(actor)s cleared and submitted the answers of %(object)s (%(answers)s answers)."),
    "answers.reopened": _l("%(actor)s reopened the submitted answers of %(object)s, because: %(reason)s"),
    "answers.released": _released,
    "answer.contribution_accepted": _l("%(actor)s accepted the contribution to %(object)s."),
    "answer.attachment_removed": _l("%(actor)s removed the file %(object)s (question %(question)s)."),
})
