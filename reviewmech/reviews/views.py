"""Pages of reviews: the secretariat's overview, opening, drawing lots, a review's home, participants."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from reviewmech.accounts.forms import regional_group_choices
from reviewmech.accounts.models import RegionalGroup, State
from reviewmech.core.audit import AuditEvent
from reviewmech.core.errors import DomainError
from reviewmech.core.forms import ConfirmForm
from reviewmech.core.permissions import secretariat, signed_in
from reviewmech.extensions import db
from reviewmech.questionnaires.models import Questionnaire, Section
from reviewmech.reviews import lots, services
from reviewmech.reviews.forms import (
    DashboardFilterForm,
    DeadlineForm,
    DrawForm,
    OpenReviewForm,
    ParticipantForm,
    PhaseForm,
    RedrawForm,
)
from reviewmech.reviews.models import (
    PHASE_LABELS,
    ROLE_LABELS,
    LotDraw,
    Participant,
    Phase,
    Review,
    ReviewState,
    Role,
    Slot,
)
from reviewmech.reviews.policy import can, require, review_for, review_member

bp = Blueprint("reviews", __name__, template_folder="templates", url_prefix="/reviews")
dashboard_bp = Blueprint("dashboard", __name__)

SLOT_LABELS = {Slot.SAME_GROUP: _l("from the same regional group"), Slot.OTHER_GROUP: _l("from another regional group")}


def _locale() -> str:
    return str(get_locale() or "en")


def _fail(form, error: DomainError, default_field: str) -> None:
    db.session.rollback()
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, error.message]


@dashboard_bp.route("/")
@signed_in
def index():
    """The signed-in person's home page: their reviews by role, and the secretariat's tasks."""
    today = services.today_utc()
    cycle = services.cycle_overview(today) if current_user.is_secretariat else None
    return render_template("reviews/dashboard.html", cycle=cycle, groups=services.my_reviews(current_user),
                           next_action=services.next_action, role_labels=ROLE_LABELS, today=today,
                           phase_labels=PHASE_LABELS, locale=_locale())


@bp.route("")
@secretariat
def overview():
    """Every review with its States, phase, deadline and progress; filters by phase, group and year."""
    form = DashboardFilterForm(request.args)
    form.phase.choices = [SelectChoice("", _("All phases"))] + [SelectChoice(p.value, str(PHASE_LABELS[p]))
                                                               for p in Phase]
    form.group.choices = [SelectChoice("", _("All groups")), *regional_group_choices()]
    query = (select(Review).join(Review.state)
             .options(selectinload(Review.state), selectinload(Review.states).selectinload(ReviewState.state))
             .order_by(Review.cycle.desc(), State.name_en))
    if form.validate():
        if form.phase.data:
            query = query.where(Review.phase == Phase(form.phase.data))
        if form.group.data:
            query = query.where(State.regional_group == RegionalGroup(form.group.data))
        if form.cycle.data:
            query = query.where(Review.cycle == form.cycle.data)
    reviews = db.session.scalars(query).all()
    return render_template("reviews/overview.html", form=form, reviews=reviews, counts=services.counts_per_phase(),
                           today=services.today_utc(), phase_labels=PHASE_LABELS, locale=_locale())


@bp.route("/open", methods=["GET", "POST"])
@secretariat
def open_review():
    """Open a review of a State on a questionnaire version."""
    form = OpenReviewForm()
    locale = _locale()
    form.state.choices = [SelectChoice("", _("Choose a State"))] + [
        SelectChoice(s.code, s.name(locale)) for s in db.session.scalars(select(State).order_by(State.name_en))]
    form.questionnaire.choices = [
        SelectChoice(q.id, f"{q.text('title', locale)[0]} — {_('version %(n)d', n=q.version)}")
        for q in db.session.scalars(select(Questionnaire).order_by(Questionnaire.slug, Questionnaire.version.desc()))]
    if request.method == "GET" and not form.cycle.data:
        form.cycle.data = services.today_utc().year
    if form.validate_on_submit():
        state = db.session.scalar(select(State).where(State.code == form.state.data))
        try:
            review = services.open_review(state=state, questionnaire=db.session.get(Questionnaire,
                                                                                    form.questionnaire.data),
                                          cycle=form.cycle.data, by=current_user,
                                          self_assessment_months=form.self_assessment_months.data,
                                          desk_review_months=form.desk_review_months.data)
        except DomainError as error:
            _fail(form, error, "state")
        else:
            db.session.commit()
            flash(_("The review of %(state)s is open. Draw its reviewing States next.", state=state.name(locale)),
                  "success")
            return redirect(url_for("reviews.home", review_id=review.id))
    return render_template("reviews/open.html", form=form)


@bp.route("/draw", methods=["GET", "POST"])
@secretariat
def draw():
    """Draw the reviewing States of every review of a cycle that has none."""
    form = DrawForm()
    if request.method == "GET" and not form.cycle.data:
        form.cycle.data = services.today_utc().year
    if form.validate_on_submit():
        try:
            record, reviews = services.draw_reviewers(cycle=form.cycle.data, instrument="tip-protocol",
                                                      by=current_user, seed=form.seed.data,
                                                      max_reviews=form.max_reviews.data)
        except DomainError as error:
            _fail(form, error, "cycle")
        else:
            db.session.commit()
            flash(_("Reviewing States drawn for %(n)d review(s).", n=len(reviews)), "success")
            return redirect(url_for("reviews.draw_record", draw_id=record.id))
    draws = db.session.scalars(select(LotDraw).order_by(LotDraw.id.desc()).limit(20)).all()
    return render_template("reviews/draw.html", form=form, draws=draws)


@bp.route("/draws/<int:draw_id>")
@secretariat
def draw_record(draw_id):
    """A drawing of lots: its seed, inputs and result, verified again from them."""
    record = db.get_or_404(LotDraw, draw_id)
    verified = lots.verify(record.result) if record.kind == "draw" else None
    states = {state.code: state for state in db.session.scalars(select(State))}
    return render_template("reviews/draw_record.html", record=record, verified=verified, states=states,
                           summary=services.draw_summary(record), locale=_locale())


# Blocks that features above reviews show on a review's home (answers' progress, threads, …), in order.
HOME_BLOCKS: list[tuple[int, Callable]] = []


def register_home_block(position: int, render: Callable) -> None:
    """Let a feature show a block on a review's home: `render(review, standing)` returns HTML or None."""
    HOME_BLOCKS.append((position, render))
    HOME_BLOCKS.sort(key=lambda item: item[0])


@bp.route("/<int:review_id>")
@review_member
def home(review_id):
    """A review's home: phases with dates, States, participants, the features' blocks and recent activity."""
    review, standing = review_for(current_user, review_id)
    activity = db.session.scalars(
        select(AuditEvent).where(AuditEvent.review_id == review.id).order_by(AuditEvent.id.desc()).limit(15)
    ).all()
    # Submitting (self-assessment → desk review) goes through the check page, reopening through the answers page.
    next_phases = [to for to in review.allowed_moves(standing) if to.index > review.phase.index
                   and (review.phase, to) != (Phase.SELF_ASSESSMENT, Phase.DESK_REVIEW)]
    phase_form = PhaseForm()
    phase_form.phase.choices = [SelectChoice(p.value, str(PHASE_LABELS[p])) for p in next_phases]
    redraw_form = RedrawForm()
    redraw_form.slot.choices = [SelectChoice(s.slot.value, f"{s.state.name(_locale())} ({SLOT_LABELS[s.slot]})")
                                for s in review.reviewing_states]
    entered = {change.phase: change.changed_at for change in review.phase_changes}
    blocks = [html for _position, render in HOME_BLOCKS if (html := render(review, standing))]
    return render_template(
        "reviews/home.html", review=review, standing=standing, activity=activity, phase_form=phase_form,
        deadline_form=DeadlineForm(), redraw_form=redraw_form, entered=entered, phases=list(Phase),
        phase_labels=PHASE_LABELS, role_labels=ROLE_LABELS, slot_labels=SLOT_LABELS, today=services.today_utc(),
        blocks=blocks, can_redraw=can("request_redraw", standing, review) and bool(review.reviewing_states),
        can_manage=can("manage_participants", standing, review), locale=_locale(),
    )


@bp.route("/<int:review_id>/phase", methods=["POST"])
@review_member
def move(review_id):
    """Move the review to its next phase."""
    review, standing = review_for(current_user, review_id)
    form = PhaseForm()
    form.phase.choices = [SelectChoice(p.value, p.value) for p in Phase]
    if not form.validate_on_submit():
        flash(_("Choose the next phase."), "error")
        return redirect(url_for("reviews.home", review_id=review.id))
    if form.phase.data == Phase.DESK_REVIEW and review.phase == Phase.SELF_ASSESSMENT:
        flash(_("The answers are submitted from the check page, which lists what still needs attention."), "info")
        return redirect(url_for("responses.submit", review_id=review.id))
    try:
        services.move_review(review, Phase(form.phase.data), by=current_user, standing=standing,
                             today=services.today_utc(), note=form.note.data or "")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The review is now in the phase “%(phase)s”.", phase=str(PHASE_LABELS[review.phase])), "success")
    return redirect(url_for("reviews.home", review_id=review.id))


@bp.route("/<int:review_id>/deadline", methods=["POST"])
@review_member
def extend(review_id):
    """Extend the current deadline (secretariat), with a reason."""
    review, standing = review_for(current_user, review_id)
    require("extend_deadline", standing, review)
    form = DeadlineForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("reviews.home", review_id=review.id))
    try:
        services.extend_deadline(review, form.due_on.data, form.reason.data, by=current_user,
                                 today=services.today_utc())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The deadline is now %(date)s.", date=form.due_on.data.isoformat()), "success")
    return redirect(url_for("reviews.home", review_id=review.id))


@bp.route("/<int:review_id>/redraw", methods=["POST"])
@review_member
def redraw(review_id):
    """Replace one reviewing State by a new lot."""
    review, standing = review_for(current_user, review_id)
    form = RedrawForm()
    form.slot.choices = [SelectChoice(s.value, s.value) for s in Slot]
    if not form.validate_on_submit():
        flash(_("Choose the reviewing State to redraw."), "error")
        return redirect(url_for("reviews.home", review_id=review.id))
    try:
        row = services.redraw_reviewer(review, Slot(form.slot.data), by=current_user, standing=standing)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(state)s has been drawn instead.", state=row.state.name(_locale())), "success")
    return redirect(url_for("reviews.home", review_id=review.id))


def _participant_form(review, standing) -> ParticipantForm:
    form = ParticipantForm()
    locale = _locale()
    form.state.choices = [SelectChoice(str(s.state_id), s.state.name(locale)) for s in review.states
                          if can("manage_participants", standing, review, state_id=s.state_id)]
    roles = list(Role) if can("name_focal_point", standing, review) else [Role.EXPERT, Role.CONTRIBUTOR, Role.OBSERVER]
    form.role.choices = [SelectChoice(r.value, str(ROLE_LABELS[r])) for r in roles]
    form.sections.choices = [
        SelectChoice(s.code, f"{'— ' * s.depth}{s.text('title', locale)[0]}") for s in db.session.scalars(
            select(Section).where(Section.questionnaire_id == review.questionnaire_id).order_by(Section.position))]
    return form


@bp.route("/<int:review_id>/participants", methods=["GET", "POST"])
@review_member
def participants(review_id):
    """The people of a review; the secretariat and focal points add people."""
    review, standing = review_for(current_user, review_id)
    can_manage = can("manage_participants", standing, review)
    form = _participant_form(review, standing) if can_manage else None
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            state = db.session.get(State, int(form.state.data))
            try:
                services.add_participant(review, state=state, role=Role(form.role.data), by=current_user,
                                         standing=standing, email=form.email.data, name=form.name.data,
                                         sections=form.sections.data, locale=form.locale.data)
            except DomainError as error:
                _fail(form, error, "email")
            else:
                db.session.commit()
                flash(_("%(email)s takes part in the review.", email=form.email.data), "success")
                return redirect(url_for("reviews.participants", review_id=review.id))
    rows = db.session.scalars(
        select(Participant).where(Participant.review_id == review.id)
        .options(selectinload(Participant.user), selectinload(Participant.state)).order_by(Participant.id)
    ).all()
    return render_template("reviews/participants.html", review=review, standing=standing, form=form, rows=rows,
                           role_labels=ROLE_LABELS,
                           end_form=ConfirmForm(), locale=_locale())


@bp.route("/<int:review_id>/participants/<int:participant_id>/end", methods=["POST"])
@review_member
def end_participant(review_id, participant_id):
    """End a person's part in the review (kept as history)."""
    review, standing = review_for(current_user, review_id)
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.review_id != review.id:
        abort(404)
    try:
        services.remove_participant(participant, by=current_user, standing=standing)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(name)s no longer takes part.", name=participant.user.name), "success")
    return redirect(url_for("reviews.participants", review_id=review.id))
