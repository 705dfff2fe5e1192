"""`reviewmech export blank|responses|aggregate` and `reviewmech import answers`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from reviewmech.accounts.models import RegionalGroup
from reviewmech.config import LANGUAGES
from reviewmech.core.errors import DomainError
from reviewmech.extensions import db

DEFAULT_FOLDER = Path("exports")

export_group = click.Group("export", help="Workbooks: offline questionnaires, responses, aggregates.")
import_group = click.Group("import", help="Read workbooks back: answers of an offline questionnaire.")


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


def _review(review_id: int):
    from reviewmech.reviews.models import Review

    review = db.session.get(Review, review_id)
    if review is None:
        _fail(f"no review with id {review_id}")
    return review


def _person(email: str | None, review):
    """The standing of the person named (or of the secretariat, for a command run on the server)."""
    from reviewmech.accounts.services import find_user_by_email
    from reviewmech.reviews.policy import Membership, membership

    if email is None:
        return None, Membership(is_secretariat=True)
    user = find_user_by_email(email)
    if user is None:
        _fail(f"no person with the e-mail address {email}")
    return user, membership(user, review) if review is not None else Membership(is_secretariat=user.is_secretariat,
                                                                                user_id=user.id)


def _folder(out: Path | None) -> Path:
    folder = out or DEFAULT_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _fail(f"cannot create the folder {folder}: {error.strerror}")
    if not folder.is_dir():
        _fail(f"{folder} is not a folder")
    return folder


_locale_option = click.option("--locale", type=click.Choice(LANGUAGES), default="en", show_default=True,
                              help="Language of the labels.")
_out_option = click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                           help=f"Folder to write to (default: {DEFAULT_FOLDER}/).")
_as_option = click.option("--as", "email", help="E-mail of the person whose view is exported "
                                                "(default: the secretariat's).")


@export_group.command("blank")
@click.option("--review", "review_id", type=int, required=True, help="Review id.")
@click.option("--prefilled", is_flag=True, help="Fill in the answers (as the person sees them).")
@_as_option
@_locale_option
@_out_option
@with_appcontext
def export_blank(review_id, prefilled, email, locale, out):
    """Write the offline questionnaire of a review (blank, or pre-filled with --prefilled)."""
    from reviewmech.exports.services import export_offline, file_stem

    review = _review(review_id)
    user, standing = _person(email, review)
    folder = _folder(out)
    with current_app.test_request_context():
        path = folder / f"{file_stem(review, 'questionnaire' if prefilled else 'blank', locale)}.xlsx"
        try:
            export_offline(review, standing, user=user, locale=locale, prefilled=prefilled, out=path)
        except DomainError as error:
            _fail(error.message)
    db.session.commit()
    click.echo(f"Wrote {path}")


@export_group.command("responses")
@click.option("--review", "review_id", type=int, required=True, help="Review id.")
@click.option("--column", "columns", multiple=True, help="An optional column (e.g. verification); repeatable.")
@_as_option
@_locale_option
@_out_option
@with_appcontext
def export_responses_command(review_id, columns, email, locale, out):
    """Write the responses report of a review, as a person may see it."""
    from reviewmech.exports.services import REPORT_COLUMNS, export_responses, file_stem

    review = _review(review_id)
    unknown = [c for c in columns if c not in REPORT_COLUMNS]
    if unknown:
        _fail(f"unknown column {unknown[0]!r}; available: {', '.join(sorted(REPORT_COLUMNS))}")
    _user, standing = _person(email, review)
    folder = _folder(out)
    with current_app.test_request_context():
        path = folder / f"{file_stem(review, 'responses', locale)}.xlsx"
        try:
            export_responses(review, standing, locale=locale, columns=list(columns), out=path)
        except DomainError as error:
            _fail(error.message)
    click.echo(f"Wrote {path}")


@export_group.command("aggregate")
@click.option("--cycle", type=click.IntRange(2020, 2100), help="Only the reviews of this cycle.")
@click.option("--group", type=click.Choice([g.value for g in RegionalGroup]),
              help="Only the States of this regional group.")
@click.option("--questionnaire", "slug", default="tip-protocol-resolution", show_default=True)
@_as_option
@_locale_option
@_out_option
@with_appcontext
def export_aggregate_command(cycle, group, slug, email, locale, out):
    """Write the aggregate of submitted answers across States (the secretariat's)."""
    from reviewmech.exports.services import AggregateFilter, export_aggregate

    _user, standing = _person(email, None)
    folder = _folder(out)
    name = "-".join(["aggregate", slug, str(cycle or "all-cycles"), group or "all-groups", locale])
    path = folder / f"{name}.xlsx"
    with current_app.test_request_context():
        try:
            covered = export_aggregate(standing, AggregateFilter(slug, cycle, RegionalGroup(group) if group else None),
                                       locale=locale, out=path)
        except DomainError as error:
            _fail(error.message)
    click.echo(f"Wrote {path} ({covered} submitted review(s)).")


@import_group.command("answers")
@click.option("--review", "review_id", type=int, required=True, help="Review id.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", required=True, help="E-mail of the person importing (who may edit the answers).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--take-file", "take", multiple=True, help="For an answer changed online since the export: take the "
                                                          "workbook's (a question code, or 'all'); repeatable.")
@click.option("--keep-online", "keep", multiple=True, help="For an answer changed online since the export: keep the "
                                                            "online one (a question code, or 'all'); repeatable.")
@with_appcontext
def import_answers(review_id, file, email, dry_run, take, keep):
    """Import the answers of an offline questionnaire: a preview, then all or nothing."""
    from reviewmech.exports.services import apply_import, preview_import

    review = _review(review_id)
    user, standing = _person(email, review)
    locale = user.locale or "en"
    with current_app.test_request_context():
        try:
            preview = preview_import(review, standing, file, filename=file.name, locale=locale)
        except DomainError as error:
            _fail(error.message)
        for row in preview.changes:
            click.echo(f"change    {row.code} ({row.cell}): {_short(row.old)} → {_short(row.new)}")
        for row in preview.conflicts:
            click.echo(f"conflict  {row.code} ({row.cell}): online {_short(row.old)}, workbook {_short(row.new)}")
        for row in preview.invalid:
            click.echo(f"invalid   {row.code} ({row.cell}): {' '.join(row.reasons)}")
        click.echo(f"{len(preview.changes)} change(s), {len(preview.conflicts)} conflict(s), "
                   f"{len(preview.invalid)} invalid value(s), {preview.unchanged} unchanged.")
        if preview.invalid:
            _fail(f"nothing imported: {len(preview.invalid)} invalid value(s) in {file.name}")
        if dry_run:
            click.echo("Dry run: nothing was written.")
            return
        decisions = {}
        for row in preview.conflicts:
            if row.code in take or "all" in take:
                decisions[row.code] = "file"
            elif row.code in keep or "all" in keep:
                decisions[row.code] = "online"
        try:
            _preview, outcome = apply_import(review, standing, file, user=user, filename=file.name, locale=locale,
                                             decisions=decisions)
        except DomainError as error:
            _fail(error.message)
    db.session.commit()
    if outcome is None:
        click.echo("Nothing to import: the workbook's answers are already online.")
    else:
        click.echo(f"Imported {len(outcome.saved)} answer(s).")


def _short(text: str) -> str:
    text = " ".join((text or "—").split())
    return text if len(text) <= 60 else text[:59] + "…"
