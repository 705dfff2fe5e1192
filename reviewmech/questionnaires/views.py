"""Browse questionnaires in one's language; the secretariat sees versions and what changed."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from reviewmech.core.models import utcnow
from reviewmech.core.permissions import secretariat, signed_in
from reviewmech.extensions import db
from reviewmech.questionnaires import services
from reviewmech.questionnaires.conditions import as_json
from reviewmech.questionnaires.forms import build_form
from reviewmech.questionnaires.models import Question, Questionnaire, Section
from reviewmech.questionnaires.types import TYPES

bp = Blueprint("questionnaires", __name__, template_folder="templates", url_prefix="/questionnaires")


def _version_or_404(slug: str, version: int) -> Questionnaire:
    questionnaire = db.session.scalar(
        select(Questionnaire).where(Questionnaire.slug == slug, Questionnaire.version == version)
    )
    return questionnaire or abort(404)


def describe_condition(condition, questions: dict[str, Question], locale: str, options_of=None) -> str:
    """A condition in words: 'Shown when 4.1 is Yes or Yes, in part' (`options_of(question)`: a review's options)."""
    if not condition:
        return ""
    if "all" in condition:
        return _(" and ").join(f"({describe_condition(c, questions, locale, options_of)})" for c in condition["all"])
    if "any" in condition:
        return _(" or ").join(f"({describe_condition(c, questions, locale, options_of)})" for c in condition["any"])
    if "not" in condition:
        return _("not %(condition)s", condition=describe_condition(condition["not"], questions, locale, options_of))
    code = condition["question"]
    question = questions.get(code)
    if "answered" in condition:
        return _("%(code)s is answered", code=code) if condition["answered"] else _("%(code)s is not answered",
                                                                                       code=code)
    values = condition["in"] if "in" in condition else [condition["equals"]]
    if question is not None:
        options = options_of(question) if options_of else question.parsed_options
        labels = [question.question_type.key_label(v, options, locale) for v in values]
    else:
        labels = [str(v) for v in values]
    return _("%(code)s is %(values)s", code=code, values=_(" or ").join(labels))


def _tree(sections: list[Section]) -> list[dict]:
    nodes = {s.id: {"section": s, "children": []} for s in sections}
    roots = []
    for section in sections:
        (nodes[section.parent_id]["children"] if section.parent_id else roots).append(nodes[section.id])
    return roots


def _page_context(questionnaire: Questionnaire, sections: list[Section], questions: list[Question]) -> dict:
    locale = str(get_locale() or "en")
    by_section: dict[int, list[Question]] = {}
    for question in questions:
        by_section.setdefault(question.section_id, []).append(question)
    by_code = {q.code: q for q in questions}
    return {
        "questionnaire": questionnaire,
        "locale": locale,
        "tree": _tree(sections),
        "by_section": by_section,
        "describe": lambda condition: describe_condition(condition, by_code, locale),
        "types": TYPES,
        "preview": {"cycle": (cycle := utcnow().year),
                    "form": build_form(questions, {}, locale, {q.code: q.options_for(cycle) for q in questions},
                                       preview=True)},
        "is_missing_language": locale not in questionnaire.languages
        or services.translation_completeness(questionnaire.definition, locale) < 1,
        "conditions_json": as_json({q.code: q.show_if for q in questions if q.show_if}),
    }


@bp.route("")
@signed_in
def index():
    """The questionnaires, latest version of each."""
    newest = select(Questionnaire.slug, func.max(Questionnaire.version).label("version")).group_by(
        Questionnaire.slug).subquery()
    questionnaires = db.session.scalars(
        select(Questionnaire).join(newest, (Questionnaire.slug == newest.c.slug)
                                   & (Questionnaire.version == newest.c.version)).order_by(Questionnaire.slug)
    ).all()
    counts = services.question_counts([q.id for q in questionnaires])
    return render_template("questionnaires/index.html", questionnaires=questionnaires, counts=counts,
                           locale=str(get_locale() or "en"))


@bp.route("/<slug>/<int:version>")
@signed_in
def browse(slug, version):
    """One questionnaire version: the section tree and the questions of one top-level section."""
    questionnaire = _version_or_404(slug, version)
    sections = db.session.scalars(
        select(Section).where(Section.questionnaire_id == questionnaire.id).order_by(Section.position)
    ).all()
    roots = [s for s in sections if s.parent_id is None]
    wanted = request.args.get("section") or roots[0].code
    current = next((s for s in roots if s.code == wanted), None)
    if current is None:
        abort(404)
    all_questions = db.session.scalars(
        select(Question).where(Question.questionnaire_id == questionnaire.id).order_by(Question.position)
    ).all()
    context = _page_context(questionnaire, sections, all_questions)
    context["current"] = next(node for node in context["tree"] if node["section"].id == current.id)
    root_code: dict[int, str] = {}
    for section in sections:
        root_code[section.id] = root_code[section.parent_id] if section.parent_id else section.code

    def nav_url(section: Section) -> str:
        url = url_for("questionnaires.browse", slug=slug, version=version, section=root_code[section.id])
        return url + (f"#s-{section.code}" if section.parent_id else "")

    context["nav_url"] = nav_url
    return render_template("questionnaires/browse.html", **context)


@bp.route("/<slug>/<int:version>/print")
@signed_in
def print_view(slug, version):
    """The whole questionnaire on one page, for printing."""
    questionnaire = _version_or_404(slug, version)
    sections = db.session.scalars(
        select(Section).where(Section.questionnaire_id == questionnaire.id).order_by(Section.position)
    ).all()
    questions = db.session.scalars(
        select(Question).where(Question.questionnaire_id == questionnaire.id).order_by(Question.position)
    ).all()
    context = _page_context(questionnaire, sections, questions)
    context["not_addressed"] = questionnaire.definition.get("not_addressed", [])
    return render_template("questionnaires/print.html", **context)


@bp.route("/<slug>/versions")
@secretariat
def versions(slug):
    """Every version of a questionnaire, with its hash and size."""
    found = services.versions_of(slug) or abort(404)
    counts = services.question_counts([q.id for q in found])
    return render_template("questionnaires/versions.html", versions=found, counts=counts, slug=slug,
                           locale=str(get_locale() or "en"))


@bp.route("/<slug>/compare")
@secretariat
def compare(slug):
    """What changed between two versions: added, removed, reworded and otherwise changed questions."""
    old = _version_or_404(slug, request.args.get("from", type=int) or 0)
    new = _version_or_404(slug, request.args.get("to", type=int) or 0)
    return render_template("questionnaires/compare.html", old=old, new=new, comparison=services.compare(old, new),
                           locale=str(get_locale() or "en"))
