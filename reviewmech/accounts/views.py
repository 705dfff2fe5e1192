"""Sign-in, activation, password reset, and the secretariat's pages about people and States."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from wtforms import SelectChoice

from reviewmech.accounts import kept_forms, services, sessions
from reviewmech.accounts.forms import (
    ActivationForm,
    AuditFilterForm,
    ForgotPasswordForm,
    InviteForm,
    PeopleFilterForm,
    ProfileForm,
    ResetPasswordForm,
    SignInForm,
    StateForm,
)
from reviewmech.accounts.models import AccountStatus, RegionalGroup, SessionEnd, State, User
from reviewmech.config import LANGUAGE_NAMES, LANGUAGES
from reviewmech.core import audit
from reviewmech.core.audit import AuditEvent
from reviewmech.core.clock import reader_time_zone
from reviewmech.core.errors import DomainError
from reviewmech.core.forms import ConfirmForm
from reviewmech.core.models import utcnow
from reviewmech.core.pagination import paginate
from reviewmech.core.permissions import public, secretariat, signed_in
from reviewmech.core.security import local_path, local_referrer
from reviewmech.extensions import db, limiter

bp = Blueprint("accounts", __name__, template_folder="templates")


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_LIMIT"]


def _sign_in_failed(response) -> bool:
    return response.status_code != 302


def _email_key() -> str:
    return "sign-in:" + (request.form.get("email") or "").strip().lower()[:254]


def _sign_in_blocked(limit) -> None:
    audit.record("sign_in.rate_limited", actor=None, email=(request.form.get("email") or "")[:254])
    db.session.commit()


def _too_many_attempts() -> str:
    return _("Too many failed sign-in attempts. Please wait 15 minutes and try again, or reset your password.")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"], deduct_when=_sign_in_failed,
               on_breach=_sign_in_blocked, error_message=_too_many_attempts)
@limiter.limit(_sign_in_limit, methods=["POST"], key_func=_email_key, deduct_when=_sign_in_failed,
               on_breach=_sign_in_blocked, error_message=_too_many_attempts)
@public
def sign_in():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignInForm()
    next_url = local_path(request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            db.session.commit()  # keep the audit event of the failure
            form.password.errors.append(error.message)
        else:
            chosen = session.get("locale")  # a language chosen on the sign-in page stays after sign-in
            _restart_browser_session(keep=(kept_forms.COOKIE_KEY,))  # nothing else from before survives
            session["locale"] = chosen or user.locale
            sessions.start_session(user)
            services.remember_browser_time_zone(user, form.timezone.data)
            db.session.commit()
            return redirect(next_url or url_for("dashboard.index"))
    return render_template("accounts/sign_in.html", form=form, next_url=next_url)


def _restart_browser_session(keep: tuple[str, ...] = ()) -> None:
    """Empty the Flask session but for the interface language and the entries named in `keep`."""
    kept = {name: session[name] for name in ("locale", *keep) if name in session}
    session.clear()
    session.update(kept)


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out():
    """Sign out: the session ends on the server, so its cookie no longer signs anyone in."""
    form = ConfirmForm()
    if form.validate_on_submit():
        audit.record("sign_out", current_user)
        sessions.end_current_session(SessionEnd.SIGNED_OUT)
        db.session.commit()
        # The ended session's key and the form token stay: a form posted later from another tab is kept for this
        # person through the next sign-in (see kept_forms); neither signs anyone in.
        _restart_browser_session(keep=(sessions.COOKIE_KEY, current_app.config["WTF_CSRF_FIELD_NAME"]))
        flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/activate/<token>", methods=["GET", "POST"])
@public
def activate(token):
    """Set a password and complete the profile from an invitation link."""
    try:
        invitation = services.invitation_for_token(token)
    except DomainError as error:
        return render_template("accounts/link_problem.html", message=error.message), 410
    form = ActivationForm(obj=invitation.user if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.activate_account(
                invitation,
                password=form.password.data,
                name=form.name.data,
                job_title=form.job_title.data,
                organization=form.organization.data,
                locale=form.locale.data,
            )
        except DomainError as error:
            db.session.rollback()
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            return render_template("accounts/activated.html")
    return render_template("accounts/activate.html", form=form, user=invitation.user)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@public
def forgot_password():
    """Ask for a password reset link; the answer is the same whether or not the address exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an active account uses this address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    """Choose a new password from an e-mailed link."""
    try:
        user = services.user_for_reset_token(token)
    except DomainError as error:
        return render_template("accounts/link_problem.html", message=error.message), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data)
        except DomainError as error:
            db.session.rollback()
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your password has been changed. You can sign in with it now."), "success")
            return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form)


# A person's own profile -------------------------------------------------------------------------

@bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    """A person's own profile: their language and time zone."""
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    if request.method == "GET":
        form.locale.data = str(get_locale())
        form.timezone.data = current_user.timezone or reader_time_zone()
    if form.validate_on_submit():
        try:
            services.update_preferences(current_user, locale=form.locale.data, timezone=form.timezone.data)
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "locale").errors.append(error.message)
        else:
            db.session.commit()
            session["locale"] = current_user.locale
            flash(_("Your preferences are saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, now=utcnow())


def _language_offer() -> str | None:
    """The language chosen before signing in, when it is not the account's (offered to be saved)."""
    chosen = session.get("locale")
    if current_user.is_authenticated and chosen in LANGUAGES and chosen != current_user.locale:
        return chosen
    return None


@bp.app_context_processor
def inject_language_offer():
    """Let the layout offer to keep, in the profile, a language chosen on the sign-in page."""
    if request.endpoint == "accounts.profile":
        return {"language_offer": None}
    return {"language_offer": _language_offer(), "language_offer_form": ConfirmForm(formdata=None)}


@bp.route("/profile/language/<choice>", methods=["POST"])
@signed_in
def answer_language_offer(choice):
    """Keep the language chosen on the sign-in page in the profile, or go back to the profile's."""
    offered = _language_offer()
    if choice not in {"keep", "decline"}:
        abort(404)
    if ConfirmForm().validate_on_submit() and offered is not None:
        if choice == "keep":
            services.update_preferences(current_user, locale=offered,
                                        timezone=current_user.timezone or reader_time_zone())
            db.session.commit()
            flash(_("%(language)s is now the language of your account.", language=LANGUAGE_NAMES[offered]), "success")
        else:
            session["locale"] = current_user.locale
    return redirect(local_referrer() or url_for("dashboard.index"))


# Secretariat: people ---------------------------------------------------------------------------

PERSON_HISTORY_LENGTH = 30  # latest events shown on a person's page; the audit log has them all

STATUS_LABELS = {
    AccountStatus.INVITED: _l("Invited"),
    AccountStatus.PENDING_APPROVAL: _l("Waiting for approval"),
    AccountStatus.ACTIVE: _l("Active"),
    AccountStatus.DEACTIVATED: _l("Deactivated"),
}


def _state_choices(blank_label: str):
    states = db.session.scalars(select(State).order_by(State.name_en)).all()
    locale = str(get_locale())
    return [SelectChoice("", blank_label)] + [SelectChoice(s.code, s.name(locale)) for s in states]


@bp.route("/people")
@secretariat
def people():
    """List and search people."""
    form = PeopleFilterForm(request.args)
    form.status.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(status.value, str(label)) for status, label in STATUS_LABELS.items()
    ]
    form.state.choices = _state_choices(_("All States"))
    query = select(User).order_by(User.name)
    if form.validate():
        if form.q.data:
            pattern = f"%{form.q.data.strip().lower()}%"
            query = query.where(or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern)))
        if form.status.data:
            query = query.where(User.status == AccountStatus(form.status.data))
        if form.state.data:
            query = query.join(User.state).where(State.code == form.state.data)
    page = paginate(query, request.args.get("page", 1, type=int))
    pending = db.session.scalar(
        select(func.count()).select_from(User).where(User.status == AccountStatus.PENDING_APPROVAL)
    )
    return render_template("accounts/people.html", form=form, page=page, pending=pending,
                           status_labels=STATUS_LABELS)


@bp.route("/people/invite", methods=["GET", "POST"])
@secretariat
def invite():
    """Invite a person: they receive an activation link valid 10 days."""
    form = InviteForm()
    form.state.choices = _state_choices(_("— None (secretariat only) —"))
    if form.validate_on_submit():
        state = db.session.scalar(select(State).where(State.code == form.state.data)) if form.state.data else None
        try:
            user, _token = services.invite_person(
                name=form.name.data,
                email=form.email.data,
                state=state,
                invited_by=current_user,
                locale=form.locale.data,
                is_secretariat=form.is_secretariat.data,
            )
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("An activation link has been sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.person", user_id=user.id))
    return render_template("accounts/invite.html", form=form)


@bp.route("/people/<int:user_id>")
@secretariat
def person(user_id):
    """One person's profile and the actions on it."""
    user = db.get_or_404(User, user_id)
    events = db.session.scalars(
        select(audit.AuditEvent)
        .where(or_(and_(audit.AuditEvent.object_type == "User", audit.AuditEvent.object_id == str(user.id)),
                   audit.AuditEvent.actor_id == user.id))
        .order_by(audit.AuditEvent.id.desc())
        .limit(PERSON_HISTORY_LENGTH)
    ).all()
    return render_template("accounts/person.html", user=user, form=ConfirmForm(),
                           history=list(zip(events, audit.describe_events(events), strict=True)),
                           status_labels=STATUS_LABELS)


PERSON_ACTIONS = {
    "approve": (services.approve_account, _l("The profile is approved; the person can sign in.")),
    "deactivate": (services.deactivate_account, _l("The account is deactivated.")),
    "reactivate": (services.reactivate_account, _l("The account is active again.")),
    "resend-invitation": (services.resend_invitation, _l("A new activation link has been sent.")),
    "grant-secretariat": (services.grant_secretariat_role, _l("The person is now a member of the secretariat.")),
    "withdraw-secretariat": (services.withdraw_secretariat_role, _l("The secretariat role has been withdrawn.")),
}


@bp.route("/people/<int:user_id>/<action>", methods=["POST"])
@secretariat
def person_action(user_id, action):
    """Approve, deactivate, reactivate, re-invite a person, or change their secretariat role."""
    if action not in PERSON_ACTIONS:
        abort(404)
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("accounts.person", user_id=user.id))
    perform, message = PERSON_ACTIONS[action]
    try:
        perform(user, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(str(message), "success")
    return redirect(url_for("accounts.person", user_id=user.id))


# Secretariat: States ---------------------------------------------------------------------------

@bp.route("/states")
@secretariat
def states():
    """The Member States with their regional groups."""
    group = request.args.get("group", "")
    query = select(State).order_by(State.name_en)
    if group in {g.value for g in RegionalGroup}:
        query = query.where(State.regional_group == RegionalGroup(group))
    return render_template("accounts/states.html", states=db.session.scalars(query).all(), group=group)


@bp.route("/states/<code>/edit", methods=["GET", "POST"])
@secretariat
def edit_state(code):
    """Edit a State's names, regional group and party status."""
    state = db.session.scalar(select(State).where(State.code == code.upper())) or abort(404)
    form = StateForm(obj=state)
    if request.method == "GET":
        form.regional_group.data = state.regional_group.value
    if form.validate_on_submit():
        before = {"name_en": state.name_en, "regional_group": state.regional_group.value}
        form.populate_obj(state)
        state.regional_group = RegionalGroup(form.regional_group.data)
        audit.record("state.edited", state, before=before)
        db.session.commit()
        flash(_("%(state)s has been saved.", state=state.name_en), "success")
        return redirect(url_for("accounts.states"))
    return render_template("accounts/edit_state.html", form=form, state=state)


@bp.route("/audit")
@secretariat
def audit_log():
    """The audit log, newest first, filtered by action and person."""
    form = AuditFilterForm(request.args)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if form.validate():
        if form.action.data:
            query = query.where(AuditEvent.action.like(f"{form.action.data.strip()}%"))
        if form.actor.data:
            query = query.join(AuditEvent.actor).where(
                func.lower(User.email).like(f"%{form.actor.data.strip().lower()}%")
            )
    page = paginate(query, request.args.get("page", 1, type=int))
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template("accounts/audit.html", form=form, page=page, actions=actions, title=_("Audit log"),
                           rows=list(zip(page.items, audit.describe_events(page.items), strict=True)))
