"""Exports and the import of offline questionnaires: what goes in each workbook, and what comes back.

The workbooks themselves are made and read by the pure modules (`offline`, `reports`); this module
asks the review policy, loads what each person may see (`visible_answers`), takes each question's
options as they apply to the review (`options_of`) and its cells from the type registry, and
writes an import through `save_answers` in one all-or-nothing step.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from reviewmech.accounts.models import RegionalGroup, State, User
from reviewmech.core import audit
from reviewmech.core.audit import register_action_labels
from reviewmech.core.errors import DomainError
from reviewmech.core.models import utcnow
from reviewmech.exports import offline, reports
from reviewmech.exports import rules as _rules  # noqa: F401 - registers the export rules
from reviewmech.exports.safety import Limits, WorkbookRefused
from reviewmech.extensions import db
from reviewmech.questionnaires.conditions import referenced_questions, visible_codes
from reviewmech.questionnaires.models import Question, Questionnaire, Section
from reviewmech.questionnaires.services import shape_of
from reviewmech.questionnaires.types import TYPES
from reviewmech.questionnaires.views import describe_condition
from reviewmech.responses.models import Answer, Submission
from reviewmech.responses.services import (
    HIDDEN,
    AnswerChange,
    SaveOutcome,
    answers_of,
    options_of,
    save_answers,
    visible_answers,
)
from reviewmech.reviews.models import PHASE_LABELS, Phase, Review, phase_label
from reviewmech.reviews.policy import ANSWERING_PHASES, Membership, can, can_edit_answer, require

GROUP_LABELS = {
    RegionalGroup.AFRICAN: _l("African States"),
    RegionalGroup.ASIA_PACIFIC: _l("Asia-Pacific States"),
    RegionalGroup.EASTERN_EUROPEAN: _l("Eastern European States"),
    RegionalGroup.LATIN_AMERICAN_CARIBBEAN: _l("Latin American and Caribbean States"),
    RegionalGroup.WESTERN_EUROPEAN_OTHER: _l("Western European and other States"),
}
SHOWN_AS = {"live": _l("current"), "submitted": _l("submitted"), "released": _l("released in the dialogue")}
BATCH = 50

register_action_labels({
    "answers.imported": _l("imported answers from a workbook"),
    "answers.exported": _l("exported the offline questionnaire"),
})


def signing_key() -> bytes:
    """The key that signs offline questionnaires (from the app's secret; never written in a file)."""
    return offline.key_for(current_app.config["SECRET_KEY"])


def import_limits() -> Limits:
    """How large an imported workbook may be."""
    return Limits(max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])


def _structure(review: Review) -> tuple[list[Section], list[Question]]:
    sections = list(db.session.scalars(select(Section).where(Section.questionnaire_id == review.questionnaire_id)
                                       .order_by(Section.position)))
    questions = list(db.session.scalars(select(Question).where(Question.questionnaire_id == review.questionnaire_id)
                                        .order_by(Question.position)))
    return sections, questions


def review_label(review: Review, locale: str) -> str:
    """'Review of Mexico, cycle 2026' in a language."""
    return _("Review of %(state)s, cycle %(cycle)d", state=review.state.name(locale), cycle=review.cycle)


def file_stem(review: Review, what: str, locale: str) -> str:
    """A file name without extension: review-12-MEX-2026-questionnaire-es."""
    return f"review-{review.id}-{review.state.code}-{review.cycle}-{what}-{locale}"


# The offline questionnaire --------------------------------------------------------------------------

def _condition_words(review: Review, code: str, by_code: dict[str, Question], locale: str) -> str:
    conditions = dict(shape_of(review.questionnaire).items)[code]
    if not conditions:
        return ""
    words = _(" and ").join(describe_condition(c, by_code, locale, lambda q: options_of(q, review))
                            for c in conditions)
    return _("Answer if %(condition)s.", condition=words)


def _reference(question: Question) -> str:
    paragraphs = ", ".join(question.paragraphs or [])
    articles = "; ".join(question.articles or [])
    return "\n".join(part for part in (paragraphs, articles) if part)


def offline_questionnaire(review: Review, standing: Membership, *, locale: str,
                          prefilled: bool) -> offline.OfflineQuestionnaire:
    """What the offline questionnaire of a review holds for this person (pre-filled with what they see)."""
    require("export_questionnaire", standing, review)
    sections, questions = _structure(review)
    shape = shape_of(review.questionnaire)
    shown = visible_answers(review, standing)
    live = answers_of(review) if not prefilled else {}
    values = {code: answer.value for code, answer in shown.items()} if prefilled else {}
    visible = shape.shown(values)
    by_code = {q.code: q for q in questions}
    by_section: dict[int, list[Question]] = {}
    for question in questions:
        by_section.setdefault(question.section_id, []).append(question)
    with force_locale(locale):
        sheets = []
        section_by_id = {s.id: s for s in sections}
        for top in [s for s in sections if s.parent_id is None]:
            items: list = []
            for section in _subtree(top, sections, section_by_id):
                chain = _chain_codes(section, section_by_id)
                if not can("read_section", standing, review, chain=chain,
                           subtree=[s.code for s in _subtree(section, sections, section_by_id)]):
                    continue
                if section is not top:
                    items.append(offline.Heading(section.code, section.text("title", locale)[0],
                                                 section.text("help", locale)[0]))
                for question in by_section.get(section.id, []):
                    if not can("read_question", standing, review, chain=shape.chains[question.code]):
                        continue
                    items.append(_offline_question(review, question, shown, live, values, visible, by_code, locale,
                                                   prefilled))
            if items:
                sheets.append(offline.OfflineSheet(top.code, top.text("title", locale)[0],
                                                   top.text("help", locale)[0], items))
        return offline.OfflineQuestionnaire(
            review_id=review.id, review_label=review_label(review, locale),
            title=review.questionnaire.text("title", locale)[0], slug=review.questionnaire.slug,
            version=review.questionnaire.version, content_hash=review.questionnaire.content_hash, locale=locale,
            exported_at=utcnow().replace(microsecond=0), is_prefilled=prefilled, sheets=sheets,
            instructions=_instructions())


def _instructions() -> list[str]:
    return [
        _("Write your answers in the white cells of column F (and of the tables and lists of legislation beside "
          "and below a question). Every other cell is protected so that the layout survives."),
        _("Choose answers from the lists offered; write numbers with digits; dates as dates; “n/a” where a figure "
          "is not available. Totals are computed by the workbook."),
        _("A question that depends on an earlier answer says so (“Answer if …”); answer it only then."),
        _("Files cannot be attached in the workbook: attach them on the website."),
        _("When you are done, import this file on the review's Excel page. You will see every change before "
          "anything is saved, and decide for each answer that was changed online meanwhile."),
        _("Do not copy answers into another review's workbook, and keep the hidden sheet as it is: the import "
          "checks it."),
    ]


def _subtree(root: Section, sections: list[Section], by_id: dict[int, Section]) -> list[Section]:
    ids = {root.id}
    found = [root]
    for section in sections:
        if section.parent_id in ids and section.id not in ids:
            ids.add(section.id)
            found.append(section)
    return found


def _chain_codes(section: Section, by_id: dict[int, Section]) -> list[str]:
    chain = [section.code]
    while section.parent_id is not None:
        section = by_id[section.parent_id]
        chain.insert(0, section.code)
    return chain


def _offline_question(review, question, shown, live, values, visible, by_code, locale, prefilled):
    kind = question.question_type
    options = options_of(question, review)
    answer = shown.get(question.code)
    value = answer.value if answer is not None and prefilled and question.code in visible else None
    version = answer.version if answer is not None else (live[question.code].version if question.code in live else 0)
    layout = kind.cell_layout(options, locale) if kind.importable else None
    cells = kind.to_cells(value, options, locale) if layout is not None and not kind.is_empty(value) else []
    return offline.OfflineQuestion(
        code=question.code, prompt=question.text("prompt", locale)[0], guidance=question.text("help", locale)[0],
        paragraphs=_reference(question), condition=_condition_words(review, question.code, by_code, locale),
        is_required=question.is_required, layout=layout, cells=cells, version=version,
        digest=offline.digest(kind.normalize(value, options).value))


def export_offline(review: Review, standing: Membership, *, user: User | None, locale: str, prefilled: bool,
                   out: str | Path | BinaryIO) -> None:
    """Write the offline questionnaire of a review; the export is audited."""
    data = offline_questionnaire(review, standing, locale=locale, prefilled=prefilled)
    with force_locale(locale):
        offline.write_offline(data, signing_key(), out)
    audit.record("answers.exported", review, actor=user, review_id=review.id, locale=locale, prefilled=prefilled,
                 exported_at=data.exported_at.isoformat())


# The import ------------------------------------------------------------------------------------

@dataclass
class ImportRow:
    """One question the workbook changes: from what online to what, or why it cannot be taken."""

    code: str
    prompt: str
    cell: str
    old: str
    new: str
    value: Any = None
    online_version: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class ImportPreview:
    """What importing a workbook would do; nothing is written to make it."""

    filename: str
    sha256: str
    exported_at: str
    changes: list[ImportRow] = field(default_factory=list)
    conflicts: list[ImportRow] = field(default_factory=list)
    invalid: list[ImportRow] = field(default_factory=list)
    unchanged: int = 0

    @property
    def versions(self) -> dict[str, int]:
        """The online version of every answer to change, as the preview saw them."""
        return {row.code: row.online_version for row in [*self.changes, *self.conflicts]}


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _check_open(review: Review, standing: Membership) -> None:
    if review.phase not in ANSWERING_PHASES:
        raise DomainError(_("The answers of this review are locked: it is in the phase “%(phase)s”.",
                            phase=phase_label(review.phase)))
    require("import_answers", standing, review)


def preview_import(review: Review, standing: Membership, path: Path, *, filename: str, locale: str) -> ImportPreview:
    """Read a workbook and say what importing it would change; refuse a foreign, tampered or unsafe file."""
    _check_open(review, standing)
    workbook = offline.read_offline(path, signing_key(), import_limits())
    if workbook.review_id != review.id:
        raise WorkbookRefused(_("This workbook is the questionnaire of another review (number %(n)d), not of this "
                                "one.", n=workbook.review_id))
    if workbook.content_hash != review.questionnaire.content_hash:
        raise WorkbookRefused(_("This workbook holds version %(file)d of the questionnaire; this review answers "
                                "version %(review)d. Export the questionnaire again.", file=workbook.version,
                                review=review.questionnaire.version))
    formulas = [cell for answer in workbook.answers.values() for cell in answer.formulas]
    if formulas:
        raise WorkbookRefused(_("An answer cannot be a formula: replace the formula in %(cells)s with its value, "
                                "then import again.", cells=", ".join(formulas[:5]) + ("…" if len(formulas) > 5
                                                                                        else "")))
    _sections, questions = _structure(review)
    shape = shape_of(review.questionnaire)
    online = answers_of(review)
    preview = ImportPreview(filename=filename, sha256=_file_digest(path), exported_at=workbook.exported_at)
    values = {code: answer.value for code, answer in online.items()}
    with force_locale(locale):
        for question in questions:
            cells = workbook.answers.get(question.code)
            kind = question.question_type
            if cells is None or not kind.importable:
                continue
            options = options_of(question, review)
            raw = kind.from_cells(cells.values, options, workbook.locale)
            current = online.get(question.code)
            current_value = current.value if current is not None else kind.normalize(None, options).value
            row = ImportRow(question.code, question.text("prompt", locale)[0], cells.cell(),
                            old=kind.display(current_value, options, locale), new="",
                            online_version=current.version if current is not None else 0)
            refusal = kind.refusal(raw, options)
            if refusal is not None:
                row.new = str(raw)[:200]
                row.reasons.append(kind.message(refusal, options, locale))
                preview.invalid.append(row)
                continue
            normalized = kind.normalize(raw, options)
            row.value, row.new = normalized.value, kind.display(normalized.value, options, locale)
            errors = [p.as_json() for p in normalized.errors]
            if offline.digest(normalized.value) == cells.digest or (
                    normalized.value == current_value and (current.errors if current else []) == errors):
                preview.unchanged += 1  # untouched in the workbook, or already so online
                continue
            if not can_edit_answer(standing, review, chain=shape.chains[question.code]):
                row.reasons.append(_("You cannot change this answer."))
            for problem in normalized.errors:
                row.reasons.append(kind.message(problem, options, locale))
                row.cell = _problem_cell(cells, problem, options, kind, locale) or row.cell
            if row.reasons:
                preview.invalid.append(row)
                continue
            values[question.code] = normalized.value
            (preview.changes if cells.version == row.online_version else preview.conflicts).append(row)
        shown = shape.shown(values)
        for row in [*preview.changes, *preview.conflicts]:
            if row.code not in shown:
                row.reasons.append(str(HIDDEN))
                preview.invalid.append(row)
        preview.changes = [row for row in preview.changes if not row.reasons]
        preview.conflicts = [row for row in preview.conflicts if not row.reasons]
    return preview


def _problem_cell(cells: offline.AnswerCells, problem, options, kind, locale) -> str | None:
    """The cell a problem is about, when the type lays out several (a grid's row and column, a citation)."""
    layout = kind.cell_layout(options, locale)
    if layout is None or layout.kind == "cell":
        return None
    if layout.kind == "grid" and "row" in problem.params and "column" in problem.params:
        rows = [getattr(r, "key", None) for r in getattr(options, "rows", [])]
        columns = [getattr(c, "key", None) for c in getattr(options, "columns", [])]
        if problem.params["row"] in rows and problem.params["column"] in columns:
            return cells.cell(rows.index(problem.params["row"]), columns.index(problem.params["column"]))
    if layout.kind == "rows" and isinstance(problem.params.get("n"), int):
        filled = [i for i, row in enumerate(cells.values) if any(v not in (None, "") for v in row)]
        number = problem.params["n"] - 1
        if 0 <= number < len(filled):
            return cells.cell(filled[number])
    return None


class ImportNeedsDecisions(DomainError):
    """Answers changed online since the export: the person decides for each before anything is written."""


def apply_import(review: Review, standing: Membership, path: Path, *, user: User, filename: str, locale: str,
                 decisions: dict[str, str], seen_versions: dict[str, int] | None = None) -> tuple[ImportPreview,
                                                                                                 SaveOutcome | None]:
    """Import a workbook: every change and each conflict decided for the file, all or nothing; audited.

    `decisions` maps a conflicting question to `file` or `online`; `seen_versions` are the online
    versions the person saw in the preview (a newer one makes the whole import a conflict).
    """
    preview = preview_import(review, standing, path, filename=filename, locale=locale)
    if preview.invalid:
        raise DomainError(_("Nothing was imported: %(n)d value(s) in the workbook cannot be taken; correct them and "
                            "import again.", n=len(preview.invalid)))
    undecided = [row.code for row in preview.conflicts if decisions.get(row.code) not in ("file", "online")]
    if undecided:
        raise ImportNeedsDecisions(_("Nothing was imported: %(n)d answer(s) changed online since the export (%(codes)s)"
                                     "; decide for each whether to keep the online answer or take the workbook's.",
                                     n=len(undecided), codes=", ".join(undecided)))
    seen = seen_versions if seen_versions is not None else preview.versions
    taken = [*preview.changes, *[row for row in preview.conflicts if decisions[row.code] == "file"]]
    if any(row.code not in seen for row in taken):
        raise ImportNeedsDecisions(_("Nothing was imported: answers changed online since the preview; look at the "
                                     "preview again."))
    kept = [row.code for row in preview.conflicts if decisions[row.code] == "online"]
    if not taken:
        return preview, None
    outcome = save_answers(review, [AnswerChange(row.code, row.value, seen[row.code]) for row in taken], user=user,
                           standing=standing, source="import", atomic=True,
                           reason=_("imported from %(file)s", file=filename[:120]))
    audit.record("answers.imported", review, actor=user, review_id=review.id, file=filename[:200],
                 sha256=preview.sha256, exported_at=preview.exported_at, saved=sorted(outcome.saved),
                 kept_online=kept)
    return preview, outcome


# The responses report -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportColumn:
    """An optional column of the responses report, filled by a feature for what one person may see."""

    key: str
    label: Callable[[], str]
    values: Callable[[Review, Membership, list[Question]], dict[str, Any]]  # question code → cell
    is_available: Callable[[Review, Membership], bool] = lambda review, standing: True


REPORT_COLUMNS: dict[str, ReportColumn] = {}


def register_report_column(column: ReportColumn) -> None:
    """Let a feature add an optional column to the responses report (e.g. the threads a person may see)."""
    REPORT_COLUMNS[column.key] = column


def _verification(review: Review, standing: Membership, questions: list[Question]) -> dict[str, Any]:
    rows = db.session.execute(select(Question.code).join(Answer, Answer.question_id == Question.id)
                              .where(Answer.review_id == review.id, Answer.is_verified.is_(True))).scalars()
    label = _("verified")
    return {code: label for code in rows}


register_report_column(ReportColumn("verification", lambda: _("Verification"), _verification))


def report_columns(review: Review, standing: Membership) -> list[ReportColumn]:
    """The optional columns this person may add."""
    return [column for column in REPORT_COLUMNS.values() if column.is_available(review, standing)]


def responses_report(review: Review, standing: Membership, *, locale: str,
                     columns: list[str] = ()) -> reports.ResponsesReport:
    """Every answer this person may see, readable, with the optional columns asked for."""
    require("export_responses", standing, review)
    sections, questions = _structure(review)
    shape = shape_of(review.questionnaire)
    shown = visible_answers(review, standing)
    visible = shape.shown({code: answer.value for code, answer in shown.items()})
    readable = [q for q in questions if q.code in visible
                and can("read_question", standing, review, chain=shape.chains[q.code])]
    chosen = [REPORT_COLUMNS[key] for key in columns if key in REPORT_COLUMNS
              and REPORT_COLUMNS[key].is_available(review, standing)]
    with force_locale(locale):
        extra = [column.values(review, standing, readable) for column in chosen]
        headers = [_("Section"), _("Code"), _("Question"), _("Answer"), _("Version shown"), _("As of"),
                   *[column.label() for column in chosen]]
        about = [review_label(review, locale), _("Answers as you may see them, exported %(time)s (UTC).",
                                                 time=utcnow().strftime("%Y-%m-%d %H:%M")),
                 _("Questions not shown for the answers given are left out.")]

        def rows() -> Iterator[reports.ResponseRow]:
            for question in readable:
                answer = shown.get(question.code)
                yield reports.ResponseRow(
                    section=shape.top_sections[question.code], code=question.code,
                    prompt=question.text("prompt", locale)[0],
                    answer=_readable(question, review, answer.value if answer else None, locale),
                    shown_as=str(SHOWN_AS[answer.source]) if answer else "",
                    as_of=reports.as_date(answer.as_of or (answer.answer.updated_at if answer.answer else None))
                    if answer else None,
                    extra=[values.get(question.code) for values in extra])

        return reports.ResponsesReport(title=review.questionnaire.text("title", locale)[0], about=about,
                                       headers=headers, rows=rows(), extra_widths=[24] * len(chosen))


def _readable(question: Question, review: Review, value: Any, locale: str) -> Any:
    """One cell: a number or a date as itself, anything else as the words the website shows."""
    kind = question.question_type
    if kind.is_empty(value):
        return None
    options = options_of(question, review)
    layout = kind.cell_layout(options, locale)
    if layout is not None and layout.kind == "cell":
        cells = kind.to_cells(value, options, locale)
        cell = cells[0][0] if cells and cells[0] else None
        if cell is not None and not isinstance(cell, str):
            return cell
    return kind.display(value, options, locale) or None


def export_responses(review: Review, standing: Membership, *, locale: str, columns: list[str],
                     out: str | Path | BinaryIO) -> None:
    """Write the responses report of a review for this person."""
    report = responses_report(review, standing, locale=locale, columns=columns)
    with force_locale(locale):
        reports.write_responses(report, out)


# The aggregate across States ----------------------------------------------------------------------

@dataclass(frozen=True)
class AggregateFilter:
    """Which reviews the aggregate covers."""

    slug: str = "tip-protocol-resolution"
    cycle: int | None = None
    group: RegionalGroup | None = None


def _reviews_query(selection: AggregateFilter):
    query = (select(Review.id).join(State, State.id == Review.state_id)
             .join(Questionnaire, Questionnaire.id == Review.questionnaire_id)
             .where(Questionnaire.slug == selection.slug))
    if selection.cycle is not None:
        query = query.where(Review.cycle == selection.cycle)
    if selection.group is not None:
        query = query.where(State.regional_group == selection.group)
    return query


def export_aggregate(standing: Membership, selection: AggregateFilter, *, locale: str,
                     out: str | Path | BinaryIO, max_rows: int | None = None) -> int:
    """Write the aggregate of submitted answers across States (secretariat); return the reviews covered."""
    require("export_aggregate", standing, None)
    reference = db.session.scalar(select(Questionnaire).where(Questionnaire.slug == selection.slug)
                                  .order_by(Questionnaire.version.desc()).limit(1))
    if reference is None:
        raise DomainError(_("No questionnaire “%(slug)s” is loaded.", slug=selection.slug))
    cycle = selection.cycle or db.session.scalar(select(func.max(Review.cycle))) or utcnow().year
    with force_locale(locale):
        reference_questions = list(db.session.scalars(select(Question).where(Question.questionnaire_id == reference.id)
                                                      .order_by(Question.position)))
        closed, tables = [], []
        for question in reference_questions:
            kind, options = question.question_type, question.options_for(cycle)
            keys = kind.answer_keys(options)
            layout = kind.cell_layout(options, locale)
            prompt = question.text("prompt", locale)[0]
            if keys is not None:
                closed.append(reports.ClosedColumn(question.code, prompt,
                                                   tuple(kind.key_label(k, options, locale) for k in keys)))
            elif layout is not None and layout.kind == "grid":
                tables.append(reports.TableSheet(question.code, prompt, layout.columns))
        groups = [group for group in RegionalGroup if selection.group in (None, group)]
        about = [_("Submitted answers of every State under review, exported %(time)s (UTC).",
                   time=utcnow().strftime("%Y-%m-%d %H:%M")),
                 _("Cycle: %(cycle)s. Regional group: %(group)s.",
                   cycle=selection.cycle or _("every cycle"),
                   group=GROUP_LABELS[selection.group] if selection.group else _("every group")),
                 _("Only answers as submitted by each State's focal point are counted; questions not shown for the "
                   "answers given count as unanswered.")]
        writer = reports.AggregateWriter(reference.text("title", locale)[0], about, closed, tables,
                                         [str(GROUP_LABELS[g]) for g in groups],
                                         **({"max_rows": max_rows} if max_rows else {}))
        covered = 0
        for line in _review_lines(selection, closed, tables, locale):
            writer.add(line)
            covered += 1
        writer.save(_phases(selection), out)
    return covered


def _review_lines(selection: AggregateFilter, closed, tables, locale: str) -> Iterator[reports.ReviewLine]:
    """Each review's submitted answers, loaded in batches (never the whole result at once)."""
    ids = list(db.session.scalars(_reviews_query(selection).order_by(Review.cycle, State.code)))
    questions_of: dict[int, dict[str, Question]] = {}
    forms = _AnswerForms(locale)
    needed = {c.code for c in closed} | {t.code for t in tables}
    for questionnaire in db.session.scalars(select(Questionnaire).where(Questionnaire.slug == selection.slug)):
        needed |= {code for _code, conditions in shape_of(questionnaire).items for condition in conditions
                   for code in referenced_questions(condition)}
    needed = sorted(needed)
    visibility: dict[int, tuple] = {}  # the conditions of the needed questions only: enough to decide their visibility
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        reviews = {r.id: r for r in db.session.scalars(select(Review).where(Review.id.in_(batch)))}
        states = {s.id: s for s in db.session.scalars(select(State).where(State.id.in_(
            {r.state_id for r in reviews.values()})))}
        newest = select(func.max(Submission.id)).where(Submission.review_id.in_(batch)).group_by(Submission.review_id)
        submissions = _submitted_values(newest, needed)
        for review in reviews.values():
            if review.questionnaire_id not in questions_of:
                questions_of[review.questionnaire_id] = {q.code: q for q in db.session.scalars(
                    select(Question).where(Question.questionnaire_id == review.questionnaire_id))}
                shape = shape_of(review.questionnaire)
                items = [(code, list(conditions)) for code, conditions in shape.items if code in set(needed)]
                visibility[review.questionnaire_id] = (items, _emptiness(shape))
        for review_id in batch:
            review, submission = reviews[review_id], submissions.get(review_id)
            if submission is not None:
                submitted_at, values = submission
                items, is_empty = visibility[review.questionnaire_id]
                shown = visible_codes(items, values, is_empty)
                yield _line(review, states[review.state_id], values, submitted_at,
                            questions_of[review.questionnaire_id], shown, closed, tables, forms)


def _submitted_values(submission_ids, codes: list[str]) -> dict[int, tuple[datetime, dict]]:
    """The submitted values of these questions only, by review (each document read once, long texts left there)."""
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite") and codes:
        each = func.jsonb_each if dialect == "postgresql" else func.json_each
        gather = func.jsonb_object_agg if dialect == "postgresql" else func.json_group_object
        pairs = each(Submission.answers).table_valued("key", "value")
        extracted = select(gather(pairs.c.key, pairs.c.value)).where(pairs.c.key.in_(codes)).scalar_subquery()
    else:
        extracted = Submission.answers
    found = {}
    for review_id, submitted_at, answers in db.session.execute(
            select(Submission.review_id, Submission.submitted_at, extracted).where(Submission.id.in_(submission_ids))):
        if isinstance(answers, str):
            answers = json.loads(answers)
        found[review_id] = (submitted_at, {code: value for code, value in (answers or {}).items()
                                           if value is not None})
    return found


class _AnswerForms:
    """The words and layouts of answers, worked out once per question and cycle rather than once per State."""

    def __init__(self, locale: str):
        self.locale = locale
        self.labels: dict[tuple[int, int], dict[str, str]] = {}
        self.layouts: dict[tuple[int, int], Any] = {}

    def label(self, question: Question, review: Review, key: Any) -> str:
        """One answer in words."""
        known = self.labels.setdefault((question.id, review.cycle), {})
        if not isinstance(key, str):
            return question.question_type.key_label(key, options_of(question, review), self.locale)
        if key not in known:
            known[key] = question.question_type.key_label(key, options_of(question, review), self.locale)
        return known[key]

    def layout(self, question: Question, review: Review):
        """A question's cell layout for a review."""
        found = (question.id, review.cycle)
        if found not in self.layouts:
            self.layouts[found] = question.question_type.cell_layout(options_of(question, review), self.locale)
        return self.layouts[found]


def _emptiness(shape):
    """Whether a question's value counts as no answer, by its type."""
    return lambda code, value: TYPES[shape.types[code]].is_empty(value)


def _line(review: Review, state: State, values: dict, submitted_at: datetime, questions: dict[str, Question],
          shown: set[str], closed, tables, forms: _AnswerForms) -> reports.ReviewLine:
    answers: dict[str, list[str]] = {}
    for column in closed:
        value = values.get(column.code)
        if value is None or value == [] or column.code not in shown or column.code not in questions:
            continue
        question = questions[column.code]
        keys = value if isinstance(value, list) else [value]
        answers[column.code] = [forms.label(question, review, key) for key in keys]
    grids: dict[str, list] = {}
    for table in tables:
        question = questions.get(table.code)
        if question is None or table.code not in shown or question.question_type.is_empty(values.get(table.code)):
            continue
        layout = forms.layout(question, review)
        if layout is None or layout.kind != "grid":
            continue
        cells = question.question_type.to_cells(values.get(table.code), options_of(question, review), forms.locale)
        position = {label: index for index, label in enumerate(layout.columns)}
        rows = []
        for label, row in zip(layout.rows, cells, strict=False):
            ordered = [row[position[c]] if c in position and position[c] < len(row) else None for c in table.columns]
            rows.append((label, ordered))
        grids[table.code] = rows
    return reports.ReviewLine(state.code, state.name(forms.locale), str(GROUP_LABELS[state.regional_group]),
                              review.cycle, phase_label(review.phase), reports.as_date(submitted_at), answers, grids)


def _phases(selection: AggregateFilter) -> list[tuple[str, dict[str, int]]]:
    """Reviews per phase and regional group (one query)."""
    query = (select(Review.phase, State.regional_group, func.count()).select_from(Review)
             .join(State, State.id == Review.state_id).join(Questionnaire, Questionnaire.id == Review.questionnaire_id)
             .where(Questionnaire.slug == selection.slug).group_by(Review.phase, State.regional_group))
    if selection.cycle is not None:
        query = query.where(Review.cycle == selection.cycle)
    if selection.group is not None:
        query = query.where(State.regional_group == selection.group)
    counts: dict[Phase, dict[str, int]] = {}
    for phase, group, count in db.session.execute(query):
        counts.setdefault(phase, {})[str(GROUP_LABELS[group])] = count
    return [(str(PHASE_LABELS[phase]), counts.get(phase, {})) for phase in Phase]
