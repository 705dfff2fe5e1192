"""Load questionnaire files as versions, list them and compare two versions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import func, select

from reviewmech.core import audit
from reviewmech.extensions import db
from reviewmech.questionnaires.conditions import visible_codes
from reviewmech.questionnaires.models import Question, QuestionBehaviour, Questionnaire, Section, SectionTexts
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
    chains: dict[str, tuple[str, ...]]  # question code → codes of its section and those around it, outermost first

    def shown(self, answers: dict) -> set[str]:
        """The codes shown for these answers (code → value); hidden answers count as none."""
        return visible_codes([(code, list(conditions)) for code, conditions in self.items], answers,
                             lambda code, value: TYPES[self.types[code]].is_empty(value))

    def is_answered(self, code: str, answers: dict) -> bool:
        """Whether a question holds a non-empty answer."""
        return not TYPES[self.types[code]].is_empty(answers.get(code))


@dataclass(eq=False)
class SectionEntry(SectionTexts):
    """A section of a stored version, kept in memory: a version never changes."""

    id: int
    code: str
    parent_id: int | None
    position: int
    depth: int
    title: dict
    help: dict | None
    show_if: dict | None


@dataclass(eq=False)
class QuestionEntry(QuestionBehaviour):
    """A question of a stored version, kept in memory with its parsed options."""

    id: int
    questionnaire_id: int
    section_id: int
    code: str
    position: int
    type: str
    prompt: dict
    help: dict | None
    is_required: bool
    show_if: dict | None
    options: dict
    paragraphs: list
    articles: list
    basis: dict | None = None


@dataclass(frozen=True, eq=False)
class Catalogue:
    """A questionnaire version's sections and questions, in order, read once per process."""

    sections: tuple[SectionEntry, ...]
    questions: tuple[QuestionEntry, ...]
    shape: Shape

    @cached_property
    def section_by_id(self) -> dict[int, SectionEntry]:
        """Sections by id."""
        return {s.id: s for s in self.sections}

    @cached_property
    def section_by_code(self) -> dict[str, SectionEntry]:
        """Sections by code."""
        return {s.code: s for s in self.sections}

    @cached_property
    def question_by_id(self) -> dict[int, QuestionEntry]:
        """Questions by id."""
        return {q.id: q for q in self.questions}

    @cached_property
    def question_by_code(self) -> dict[str, QuestionEntry]:
        """Questions by code."""
        return {q.code: q for q in self.questions}

    @property
    def roots(self) -> list[SectionEntry]:
        """The top-level sections."""
        return [s for s in self.sections if s.parent_id is None]

    def children(self, section: SectionEntry) -> list[SectionEntry]:
        """The sections directly inside a section."""
        return [s for s in self.sections if s.parent_id == section.id]

    def is_split(self, section: SectionEntry) -> bool:
        """Whether a top-level section is too long for one page: then each of its sub-sections is a page."""
        return (section.parent_id is None and bool(self.children(section))
                and len(self.questions_in(self.subtree(section))) > SPLIT_AFTER_QUESTIONS)

    def page_sections(self, section: SectionEntry) -> list[SectionEntry]:
        """The sections a section's page shows: its own questions only when it is split, else all inside it."""
        return [section] if self.is_split(section) else self.subtree(section)

    @cached_property
    def pages(self) -> tuple[SectionEntry, ...]:
        """The answering pages in order: each top-level section, and the sub-sections of a split one."""
        found = []
        for root in self.roots:
            if not self.is_split(root):
                found.append(root)
                continue
            if self.questions_in([root]):
                found.append(root)
            found.extend(self.children(root))
        return tuple(found)

    @cached_property
    def _page_by_section(self) -> dict[int, SectionEntry]:
        return {section.id: page for page in self.pages for section in self.page_sections(page)}

    def page_of(self, question: QuestionEntry) -> SectionEntry:
        """The answering page a question is on."""
        return self._page_by_section[question.section_id]

    def root_of(self, section: SectionEntry) -> SectionEntry:
        """The top-level section a section belongs to."""
        return self.chain(section)[0]

    def chain(self, section: SectionEntry) -> list[SectionEntry]:
        """A section and the sections around it, outermost first."""
        found = [section]
        while found[0].parent_id is not None:
            found.insert(0, self.section_by_id[found[0].parent_id])
        return found

    def subtree(self, section: SectionEntry) -> list[SectionEntry]:
        """A section and every section inside it, in order."""
        ids = {section.id}
        for other in self.sections:  # in file order: parents first
            if other.parent_id in ids:
                ids.add(other.id)
        return [s for s in self.sections if s.id in ids]

    def questions_in(self, sections: list[SectionEntry]) -> list[QuestionEntry]:
        """The questions of these sections, in order."""
        ids = {s.id for s in sections}
        return [q for q in self.questions if q.section_id in ids]


SPLIT_AFTER_QUESTIONS = 40  # a longer top-level section is answered a sub-section a page (slow links, phones)
_CATALOGUES: dict[tuple, Catalogue] = {}
_CATALOGUES_KEPT = 32


def catalogue_of(questionnaire: Questionnaire) -> Catalogue:
    """A version's sections and questions, read once per process (two queries): a stored version never changes."""
    key = (questionnaire.id, questionnaire.content_hash, questionnaire.created_at)
    if key in _CATALOGUES:
        return _CATALOGUES[key]
    sections = tuple(SectionEntry(id=s.id, code=s.code, parent_id=s.parent_id, position=s.position, depth=s.depth,
                                  title=s.title, help=s.help, show_if=s.show_if)
                     for s in db.session.execute(select(Section.__table__).where(
                         Section.questionnaire_id == questionnaire.id).order_by(Section.position)))
    questions = tuple(QuestionEntry(
        id=q.id, questionnaire_id=q.questionnaire_id, section_id=q.section_id, code=q.code, position=q.position,
        type=q.type, prompt=q.prompt, help=q.help, is_required=q.is_required, show_if=q.show_if,
        options=q.options or {}, paragraphs=q.paragraphs or [], articles=q.articles or [], basis=q.basis)
        for q in db.session.execute(select(Question.__table__).where(
            Question.questionnaire_id == questionnaire.id).order_by(Question.position)))
    catalogue = Catalogue(sections=sections, questions=questions, shape=_shape(sections, questions))
    if len(_CATALOGUES) >= _CATALOGUES_KEPT:
        _CATALOGUES.pop(next(iter(_CATALOGUES)))
    _CATALOGUES[key] = catalogue
    return catalogue


def _shape(sections: tuple[SectionEntry, ...], questions: tuple[QuestionEntry, ...]) -> Shape:
    by_id = {s.id: s for s in sections}

    def chain(section_id):
        found, codes = [], []
        while section_id is not None:
            found.insert(0, by_id[section_id].show_if)
            codes.insert(0, by_id[section_id].code)
            section_id = by_id[section_id].parent_id
        return found, tuple(codes)

    items, tops, chains = [], {}, {}
    for question in questions:
        conditions, chains[question.code] = chain(question.section_id)
        tops[question.code] = chains[question.code][0]
        items.append((question.code, tuple(c for c in [*conditions, question.show_if] if c)))
    return Shape(codes=tuple(q.code for q in questions), items=tuple(items), types={q.code: q.type for q in questions},
                 required=frozenset(q.code for q in questions if q.is_required), top_sections=tops, chains=chains)


def shape_of(questionnaire: Questionnaire) -> Shape:
    """What deciding visibility and progress needs of a version (from its catalogue)."""
    return catalogue_of(questionnaire).shape


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
