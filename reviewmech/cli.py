"""The `reviewmech` command: Flask's commands plus the platform's own."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from reviewmech.config import LANGUAGES, ConfigError
from reviewmech.core.errors import DomainError
from reviewmech.extensions import db


def _create_app():
    from reviewmech import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli():
    """Manage reviewmech: database, reference data, people, notifications."""


def main() -> None:
    """Console entry point; configuration errors are one line, not a traceback."""
    try:
        cli.main(prog_name="reviewmech")
    except ConfigError as error:
        click.echo(f"reviewmech: {error}", err=True)
        sys.exit(2)


def fail(message: str) -> None:
    """Stop a command with a one-line reason and a non-zero exit status."""
    db.session.rollback()
    raise click.ClickException(message)


states_group = click.Group("states", help="Reference data about States.")
users_group = click.Group("users", help="People and their accounts.")
notifications_group = click.Group("notifications", help="E-mail notifications.")
questionnaires_group = click.Group("questionnaires", help="Questionnaire definitions (YAML files).")
reviews_group = click.Group("reviews", help="Country reviews and the drawing of lots.")


@reviews_group.command("open")
@click.option("--state", "state_code", required=True, help="ISO alpha-3 code of the State under review.")
@click.option("--questionnaire", "slug", required=True, help="Questionnaire slug.")
@click.option("--version", type=int, help="Questionnaire version (default: the latest).")
@click.option("--cycle", type=click.IntRange(2020, 2100), required=True, help="Year of the review cycle.")
@with_appcontext
def reviews_open(state_code, slug, version, cycle):
    """Open a review of a State on a questionnaire version in a cycle."""
    from reviewmech.accounts.models import State
    from reviewmech.questionnaires.models import Questionnaire
    from reviewmech.questionnaires.services import latest_version
    from reviewmech.reviews.services import open_review

    state = db.session.scalar(select(State).where(State.code == state_code.upper()))
    if state is None:
        fail(f"unknown State code {state_code!r}")
    if version is None:
        questionnaire = latest_version(slug)
    else:
        questionnaire = db.session.scalar(
            select(Questionnaire).where(Questionnaire.slug == slug, Questionnaire.version == version))
    if questionnaire is None:
        fail(f"no questionnaire {slug!r}" + (f" version {version}" if version else "") + " is loaded")
    with current_app.test_request_context():
        try:
            review = open_review(state=state, questionnaire=questionnaire, cycle=cycle, by=None)
        except DomainError as error:
            fail(error.message)
    db.session.commit()
    click.echo(f"Opened review {review.id}: {state.code}, {slug} version {questionnaire.version}, cycle {cycle}.")


@reviews_group.command("draw-lots")
@click.option("--cycle", type=click.IntRange(2020, 2100), required=True)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Seed (default: a new random one).")
@click.option("--max-reviews", type=click.IntRange(1, 10),
              help="Most reviews one State may conduct in the year (default: REVIEWMECH_MAX_REVIEWS_PER_YEAR or 3).")
@with_appcontext
def reviews_draw_lots(cycle, seed, max_reviews):
    """Draw two reviewing States for every review of a cycle that has none; nothing is stored on failure."""
    from reviewmech.reviews.services import draw_reviewers

    with current_app.test_request_context():
        try:
            record, reviews = draw_reviewers(cycle=cycle, instrument="tip-protocol", by=None, seed=seed,
                                             max_reviews=max_reviews)
        except DomainError as error:
            fail(error.message)
        lines = [f"  {r.state.code}: " + ", ".join(f"{s.state.code} ({s.slot.value})" for s in r.reviewing_states)
                 for r in reviews]
    db.session.commit()
    click.echo(f"Draw {record.id}, seed {record.seed}:")
    click.echo("\n".join(lines))


@reviews_group.command("verify-draw")
@click.argument("draw_id", type=int)
@with_appcontext
def reviews_verify_draw(draw_id):
    """Draw again from a stored draw's seed and inputs and say whether the result is the same."""
    from reviewmech.reviews.lots import verify
    from reviewmech.reviews.models import LotDraw

    record = db.session.get(LotDraw, draw_id)
    if record is None or record.kind != "draw":
        fail(f"no drawing of lots with id {draw_id}")
    if not verify(record.result):
        click.echo(f"Draw {draw_id} does NOT verify: drawing again gives a different result.", err=True)
        sys.exit(1)
    click.echo(f"Draw {draw_id} verifies: seed {record.seed} and its inputs give the same pairs.")
DEFAULT_QUESTIONNAIRES = Path("questionnaires")


def _questionnaire_paths(paths) -> list[Path]:
    if paths:
        return list(paths)
    if not DEFAULT_QUESTIONNAIRES.is_dir():
        fail(f"no PATH given and no {DEFAULT_QUESTIONNAIRES}/ folder here")
    return [DEFAULT_QUESTIONNAIRES]


@questionnaires_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def questionnaires_validate(paths):
    """Check questionnaire files (default: questionnaires/); list every problem and exit 1 if any."""
    from reviewmech.questionnaires.schema import QuestionnaireFileError
    from reviewmech.questionnaires.services import read_all

    try:
        specs = read_all(_questionnaire_paths(paths))
    except QuestionnaireFileError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(error.problems)} problem(s) found.", err=True)
        sys.exit(1)
    for spec in specs:
        click.echo(f"{spec.slug}: valid")


@questionnaires_group.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def questionnaires_load(paths):
    """Store questionnaire files as versions; unchanged content is not stored twice; a bad file stores nothing."""
    from reviewmech.questionnaires.schema import QuestionnaireFileError
    from reviewmech.questionnaires.services import load

    try:
        results = load(_questionnaire_paths(paths))
    except QuestionnaireFileError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(str(problem), err=True)
        click.echo(f"Nothing loaded: {len(error.problems)} problem(s) found.", err=True)
        sys.exit(1)
    db.session.commit()
    for questionnaire, is_new in results:
        state = "loaded as version" if is_new else "unchanged, still version"
        click.echo(f"{questionnaire.slug}: {state} {questionnaire.version} ({questionnaire.content_hash[:12]})")


@questionnaires_group.command("list")
@with_appcontext
def questionnaires_list():
    """Show each stored questionnaire version: questions per section, languages, translations."""
    from reviewmech.questionnaires.models import Questionnaire
    from reviewmech.questionnaires.services import questions_per_section, translation_completeness

    questionnaires = db.session.scalars(select(Questionnaire).order_by(Questionnaire.slug, Questionnaire.version))
    found = False
    for questionnaire in questionnaires:
        found = True
        sections = questions_per_section(questionnaire)
        total = sum(n for _code, n in sections)
        completeness = ", ".join(
            f"{language} {translation_completeness(questionnaire.definition, language):.0%}"
            for language in questionnaire.languages
        )
        click.echo(f"{questionnaire.slug} version {questionnaire.version} ({questionnaire.content_hash[:12]}): "
                   f"{len(sections)} sections, {total} questions; translations: {completeness}")
        for code, count in sections:
            click.echo(f"  {code:<12} {count:>4} questions")
    if not found:
        click.echo("No questionnaire is loaded; run `reviewmech questionnaires load`.")


@questionnaires_group.command("burden")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--runs", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="Number of random answer sets.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the simulation (the same seed gives the same figures).")
def questionnaires_burden(paths, runs, seed):
    """Simulate States answering at random and print how many questions they are shown (default: questionnaires/)."""
    from reviewmech.questionnaires.burden import simulate
    from reviewmech.questionnaires.schema import QuestionnaireFileError
    from reviewmech.questionnaires.services import read_all

    try:
        specs = read_all(_questionnaire_paths(paths))
    except QuestionnaireFileError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(error.problems)} problem(s) found; nothing simulated.") from None
    for spec in specs:
        burden = simulate(spec, runs=runs, seed=seed)
        click.echo(f"{spec.slug}: {burden.questions} questions, {burden.required} required; "
                   f"{burden.runs} random answer sets (seed {burden.seed})")
        for label, spread in (("shown", burden.shown), ("required and shown", burden.required_shown)):
            click.echo(f"  {label + ':':<20} median {spread.median:g}, 10th percentile {spread.p10:g}, "
                       f"90th percentile {spread.p90:g}")
        click.echo(f"  answering \"Yes, in part\" throughout: {burden.partial_throughout[0]} shown, "
                   f"{burden.partial_throughout[1]} required and shown")


@states_group.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Also overwrite States that exist (edits made on the States page).")
@with_appcontext
def states_load(path, update):
    """Create the UN Member States missing from the database, from the data file (or PATH)."""
    from reviewmech.accounts.services import DEFAULT_STATES_FILE, load_states

    try:
        created, updated = load_states(path or DEFAULT_STATES_FILE, update_existing=update)
    except DomainError as error:
        fail(error.message)
    db.session.commit()
    click.echo(f"States: {created} created, {updated} updated.")


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--state", "state_code", help="ISO alpha-3 code of the person's State.")
@click.option("--secretariat", is_flag=True, help="Give the secretariat role.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def users_create(email, name, state_code, secretariat, password):
    """Create an active, approved account (for the first secretariat member)."""
    from reviewmech.accounts.models import AccountStatus, State, User
    from reviewmech.accounts.services import find_user_by_email, normalize_email, set_password
    from reviewmech.core import audit
    from reviewmech.core.models import utcnow

    try:
        email = normalize_email(email)
    except DomainError as error:
        fail(error.message)
    if find_user_by_email(email):
        fail(f"a person with the e-mail address {email} already exists")
    state = None
    if state_code:
        state = db.session.scalar(select(State).where(State.code == state_code.upper()))
        if state is None:
            fail(f"unknown State code {state_code!r}; run `reviewmech states load` first?")
    if state is None and not secretariat:
        fail("give --state CODE, or --secretariat for a member of the secretariat")
    user = User(email=email, name=name.strip(), state=state, is_secretariat=secretariat,
                status=AccountStatus.ACTIVE, activated_at=utcnow(), approved_at=utcnow())
    try:
        set_password(user, password)
    except DomainError as error:
        fail(f"password refused: {error.message}")
    db.session.add(user)
    audit.record("account.created_by_command", user, actor=None, secretariat=secretariat)
    db.session.commit()
    click.echo(f"Created {email}.")


@users_group.command("invite")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--state", "state_code", help="ISO alpha-3 code of the person's State.")
@click.option("--secretariat", is_flag=True)
@click.option("--locale", type=click.Choice(LANGUAGES), default="en", show_default=True)
@with_appcontext
def users_invite(email, name, state_code, secretariat, locale):
    """Invite a person: an activation link is queued in the outbox."""
    from reviewmech.accounts.models import State
    from reviewmech.accounts.services import invite_person

    state = None
    if state_code:
        state = db.session.scalar(select(State).where(State.code == state_code.upper()))
        if state is None:
            fail(f"unknown State code {state_code!r}")
    with current_app.test_request_context():
        try:
            user, token = invite_person(name=name, email=email, state=state, invited_by=None,
                                        locale=locale, is_secretariat=secretariat)
        except DomainError as error:
            fail(error.message)
    db.session.commit()
    click.echo(f"Invited {user.email}; the activation link is in the outbox (`reviewmech notifications send`).")


@notifications_group.command("send")
@with_appcontext
def notifications_send():
    """Deliver the e-mail waiting in the outbox; failures stay queued and are retried."""
    from reviewmech.notifications.services import send_pending

    report = send_pending()
    click.echo(f"Sent {report.sent}, will retry {report.retrying}, failed for good {report.failed}.")
    if report.server_unreachable:
        click.echo("The SMTP server could not be reached; the messages stay in the outbox.", err=True)
        sys.exit(1)


@notifications_group.command("remind")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Pretend today is this date (UTC).")
@with_appcontext
def notifications_remind(today):
    """Queue deadline reminders (30, 7, 1 days before and on the day); run daily, each is sent once."""
    from reviewmech.reviews.services import queue_reminders, today_utc

    with current_app.test_request_context():
        queued = queue_reminders(today.date() if today else today_utc())
    db.session.commit()
    click.echo(f"Queued reminders for {queued} review(s).")


@click.command("demo")
@with_appcontext
def demo():
    """Load States and demo accounts (idempotent); prints the demo accounts."""
    from reviewmech.demo import seed_demo

    if current_app.config["REVIEWMECH_ENV"] == "production":
        fail("refusing to load demo data with REVIEWMECH_ENV=production")
    with current_app.test_request_context():
        accounts = seed_demo()
    db.session.commit()
    password = current_app.config["DEMO_PASSWORD"]
    click.echo(f"Demo accounts (password for all: {password}):")
    for email, description in accounts:
        click.echo(f"  {email:<40} {description}")


@click.command("backup")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the archive (default: the instance folder's backups/).")
@with_appcontext
def backup(out_dir):
    """Write the database and the attached files into one archive (restore: docs/deployment.md)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from reviewmech.core.backup import BackupError, make_backup
    from reviewmech.core.models import utcnow

    try:
        migration = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        fail("the database does not answer or has no schema; run `reviewmech db upgrade` first")
    db.session.rollback()
    target = out_dir or Path(current_app.instance_path) / "backups"
    try:
        archive = make_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], Path(current_app.instance_path), target,
                              now=utcnow(), migration=migration)
    except BackupError as error:
        fail(f"no backup made: {error}")
    click.echo(f"Backup written to {archive} ({archive.stat().st_size // 1024} KB).")


def register_commands(app) -> None:
    """Attach the platform's command groups to the app's CLI."""
    from reviewmech.exports.commands import export_group, import_group

    for command in (states_group, users_group, notifications_group, questionnaires_group, reviews_group, demo,
                    backup, export_group, import_group):
        app.cli.add_command(command)
