"""Load questionnaire files as versions, list them and compare two versions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from reviewmech.core import audit
from reviewmech.extensions import db
from reviewmech.questionnaires.conditions import visible_codes
from reviewmech.questionnaires.models import Question, Questionnaire, Section
from reviewmech.questionnaires.schema import (
    Problem,
    QuestionnaireFileError,
    QuestionnaireSpec,
    SectionSpec,
    iter_questions,
    questionnaire_files,
    read_questionnaire,
)
from reviewmech.questionnaires.types import TYPES


def content_hash(spec: QuestionnaireSpec) -> str:
    """The hash of a questionnaire's content, independent of the file's layout and comments."""
    canonical = json.dumps(spec.model_dump(mode="json", exclude_none=True), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_all(paths: list[Path]) -> list[QuestionnaireSpec]:
    """Read and validate every file; raise one QuestionnaireFileError listing every problem of every file."""
    specs, problems = [], []
    files = questionnaire_files(paths)
    if not files:
        raise QuestionnaireFileError([Problem(", ".join(map(str, paths)), "", "no questionnaire file (*.yaml) found")])
    for path in files:
        try:
            specs.append(read_questionnaire(path))
        except QuestionnaireFileError as error:
            problems.extend(error.problems)
    if problems:
        raise QuestionnaireFileError(problems)
    slugs = [spec.slug for spec in specs]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise QuestionnaireFileError([Problem("(several files)", "slug", f"slug '{s}' is used by more than one file")
                                      for s in duplicates])
    return specs


def latest_version(slug: str) -> Questionnaire | None:
    """The newest stored version of a questionnaire."""
    return db.session.scalar(
        select(Questionnaire).where(Questionnaire.slug == slug).order_by(Questionnaire.version.desc()).limit(1)
    )


def store(spec: QuestionnaireSpec) -> tuple[Questionnaire, bool]:
    """Store a questionnaire as a new version unless that content is already stored; return it and whether new."""
    digest = content_hash(spec)
    existing = db.session.scalar(
        select(Questionnaire).where(Questionnaire.slug == spec.slug, Questionnaire.content_hash == digest)
    )
    if existing is not None:
        return existing, False
    latest = latest_version(spec.slug)
    dumped = spec.model_dump(mode="json", exclude_none=True)
    questionnaire = Questionnaire(
        slug=spec.slug,
        version=(latest.version + 1) if latest else 1,
        content_hash=digest,
        title=dumped["title"],
        source=dumped["source"],
        languages=spec.languages,
        definition=dumped,
    )
    db.session.add(questionnaire)
    counter = {"section": 0, "question": 0}

    def add_sections(specs: list[SectionSpec], parent: Section | None, depth: int) -> None:
        for section_spec in specs:
            section = Section(
                questionnaire=questionnaire, parent=parent, code=section_spec.code, position=counter["section"],
                depth=depth, title=section_spec.title.model_dump(exclude_none=True),
                help=section_spec.help.model_dump(exclude_none=True) if section_spec.help else None,
                show_if=section_spec.show_if,
            )
            counter["section"] += 1
            db.session.add(section)
            for question_spec in section_spec.questions:
                db.session.add(Question(
                    questionnaire=questionnaire, section=section, code=question_spec.code,
                    position=counter["question"], type=question_spec.type,
                    prompt=question_spec.prompt.model_dump(exclude_none=True),
                    help=question_spec.help.model_dump(exclude_none=True) if question_spec.help else None,
                    is_required=question_spec.required, show_if=question_spec.show_if,
                    options=question_spec.options, paragraphs=question_spec.ref.paragraphs,
                    articles=question_spec.ref.articles,
                    basis=question_spec.basis.model_dump(exclude_none=True) if question_spec.basis else None,
                ))
                counter["question"] += 1
            add_sections(section_spec.sections, section, depth + 1)

    add_sections(spec.sections, None, 0)
    db.session.flush()
    audit.record("questionnaire.loaded", questionnaire, actor=None, slug=spec.slug,
                 version=questionnaire.version, content_hash=digest)
    return questionnaire, True


@dataclass(frozen=True)
class Shape:
    """What deciding visibility and progress needs of a questionnaire version, without its texts."""

    codes: tuple[str, ...]
    items: tuple[tuple[str, tuple], ...]  # (code, conditions of its sections and its own)
    types: dict[str, str]
    required: frozenset[str]
    top_sections: dict[str, str]  # question code → code of its top-level section

    def shown(self, answers: dict) -> set[str]:
        """The codes shown for these answers (code → value); hidden answers count as none."""
        return visible_codes([(code, list(conditions)) for code, conditions in self.items], answers,
                             lambda code, value: TYPES[self.types[code]].is_empty(value))

    def is_answered(self, code: str, answers: dict) -> bool:
        """Whether a question holds a non-empty answer."""
        return not TYPES[self.types[code]].is_empty(answers.get(code))


_SHAPES: dict[tuple[int, str], Shape] = {}
_SHAPES_KEPT = 32


def shape_of(questionnaire: Questionnaire) -> Shape:
    """A version's shape, read once per process: a stored version never changes (two light queries)."""
    key = (questionnaire.id, questionnaire.content_hash)
    if key in _SHAPES:
        return _SHAPES[key]
    sections = {row.id: row for row in db.session.execute(
        select(Section.id, Section.code, Section.parent_id, Section.show_if)
        .where(Section.questionnaire_id == questionnaire.id))}
    rows = db.session.execute(
        select(Question.code, Question.section_id, Question.show_if, Question.type, Question.is_required)
        .where(Question.questionnaire_id == questionnaire.id).order_by(Question.position)).all()

    def chain(section_id):
        found = []
        while section_id is not None:
            found.insert(0, sections[section_id].show_if)
            top, section_id = sections[section_id].code, sections[section_id].parent_id
        return found, top

    items, tops = [], {}
    for row in rows:
        conditions, tops[row.code] = chain(row.section_id)
        items.append((row.code, tuple(c for c in [*conditions, row.show_if] if c)))
    shape = Shape(codes=tuple(r.code for r in rows), items=tuple(items), types={r.code: r.type for r in rows},
                  required=frozenset(r.code for r in rows if r.is_required), top_sections=tops)
    if len(_SHAPES) >= _SHAPES_KEPT:
        _SHAPES.pop(next(iter(_SHAPES)))
    _SHAPES[key] = shape
    return shape


def load(paths: list[Path]) -> list[tuple[Questionnaire, bool]]:
    """Validate every file, then store each; the caller commits once, so a bad file changes nothing."""
    return [store(spec) for spec in read_all(paths)]


def translation_completeness(spec: dict, language: str) -> float:
    """The share (0–1) of a questionnaire's texts that exist in a language."""
    total = present = 0

    def visit(node):
        nonlocal total, present
        if isinstance(node, dict):
            if "en" in node and all(isinstance(v, str) for v in node.values()):
                total += 1
                present += 1 if node.get(language) else 0
                return
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit({k: v for k, v in spec.items() if k != "languages"})
    return present / total if total else 1.0


def questions_per_section(questionnaire: Questionnaire) -> list[tuple[str, int]]:
    """Top-level section code → number of questions in it and its sub-sections."""
    spec = QuestionnaireSpec.model_validate(questionnaire.definition)
    counts: dict[str, int] = {section.code: 0 for section in spec.sections}
    for _question, chain in iter_questions(spec):
        counts[chain[0].code] += 1
    return list(counts.items())


def versions_of(slug: str) -> list[Questionnaire]:
    """Every version of a questionnaire, newest first."""
    return list(db.session.scalars(
        select(Questionnaire).where(Questionnaire.slug == slug).order_by(Questionnaire.version.desc())
    ))


def question_counts(questionnaire_ids: list[int]) -> dict[int, int]:
    """Number of questions per questionnaire version, in one query."""
    rows = db.session.execute(
        select(Question.questionnaire_id, func.count()).where(Question.questionnaire_id.in_(questionnaire_ids))
        .group_by(Question.questionnaire_id)
    )
    return dict(rows.all())


@dataclass
class Comparison:
    """What changed between two versions, by question code."""

    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    reworded: list[tuple[dict, dict]] = field(default_factory=list)
    changed: list[tuple[dict, dict, list[str]]] = field(default_factory=list)


def compare(old: Questionnaire, new: Questionnaire) -> Comparison:
    """Added, removed, reworded (prompt or help) and otherwise changed questions."""

    def by_code(questionnaire):
        spec = QuestionnaireSpec.model_validate(questionnaire.definition)
        return {q.code: q.model_dump(mode="json", exclude_none=True) for q, _chain in iter_questions(spec)}

    before, after = by_code(old), by_code(new)
    result = Comparison()
    for code, question in after.items():
        if code not in before:
            result.added.append(question)
            continue
        previous = question_before = before[code]
        if (previous.get("prompt"), previous.get("help")) != (question.get("prompt"), question.get("help")):
            result.reworded.append((question_before, question))
        fields = [k for k in ("type", "required", "show_if", "options", "ref", "basis")
                  if previous.get(k) != question.get(k)]
        if fields:
            result.changed.append((question_before, question, fields))
    result.removed = [question for code, question in before.items() if code not in after]
    return result
