"""Account pages: register, confirm the address, log in and out, passwords, the account page."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from marketplace import uow
from marketplace.accounts import services as accounts
from marketplace.accounts import sessions
from marketplace.accounts.forms import (
    ChangePasswordForm,
    EmailForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from marketplace.accounts.landing import landing_url
from marketplace.accounts.models import normalize_email
from marketplace.extensions import limiter
from marketplace.i18n import LANG_COOKIE, current_locale_code
from marketplace.urls import safe_next

bp = Blueprint("accounts", __name__)

# Throttling: limits are read from the config on each request, so tests and deployments
# can change them without touching the code.
def _config_limit(key: str):
    def limit() -> str:
        return current_app.config[key]

    return limit


def _form_email_key() -> str:
    return "email:" + normalize_email(request.form.get("email", ""))


def _failed_login(response) -> bool:
    # Only failed attempts count: a successful login redirects. Colleagues sharing one office
    # IP address are not locked out by each other's daily logins.
    return response.status_code != 302


_POST = ["POST"]
_LOGIN_PER_IP = limiter.limit(
    _config_limit("LOGIN_RATE_LIMIT"), methods=_POST, deduct_when=_failed_login
)
_LOGIN_PER_EMAIL = limiter.limit(
    _config_limit("LOGIN_PER_EMAIL_RATE_LIMIT"),
    key_func=_form_email_key,
    methods=_POST,
    deduct_when=_failed_login,
)
_REGISTER = limiter.limit(_config_limit("REGISTER_RATE_LIMIT"), methods=_POST)
_RESET_PER_IP = limiter.limit(_config_limit("PASSWORD_RESET_RATE_LIMIT"), methods=_POST)
_RESET_PER_EMAIL = limiter.limit(
    _config_limit("PASSWORD_RESET_RATE_LIMIT"), key_func=_form_email_key, methods=_POST
)
_RESEND = _config_limit("VERIFICATION_RESEND_RATE_LIMIT")
_RESEND_PER_IP = limiter.limit(_RESEND, methods=_POST)
_RESEND_PER_EMAIL = limiter.limit(_RESEND, key_func=_form_email_key, methods=_POST)


def _check_inbox(message, *, offer_resend: bool):
    """The page that says a mail is on its way (and never whether the account exists)."""
    return render_template(
        "accounts/check_inbox.html", title=_("Check your inbox"), message=message,
        offer_resend=offer_resend,
    )


def _safe_next_or_none() -> str | None:
    """The `next` query parameter when it is a path on this site, else None."""
    target = request.args.get("next")
    return target if target and safe_next(target) == target else None


def _attach_error(form, exc: accounts.AccountError) -> None:
    """Show a service's refusal under its field, or above the form."""
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


# Registration and email confirmation -------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@_REGISTER
def register():
    next_path = _safe_next_or_none()
    if current_user.is_authenticated:
        return redirect(next_path or url_for("accounts.account"))
    form = RegisterForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]  # e.g. from an invitation
    if form.validate_on_submit():
        try:
            accounts.register(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                locale=current_locale_code(),
                next_path=next_path,
            )
        except accounts.AccountError as exc:
            uow.refuse()  # the form is shown again: nothing of this attempt is kept
            _attach_error(form, exc)
        else:
            # Same page whether the address was new or already had an account.
            return _check_inbox(_(
                "We have sent an email to %(email)s. Open the link in it to confirm your "
                "address and finish creating your account.",
                email=normalize_email(form.email.data),
            ), offer_resend=True)
    return render_template("accounts/register.html", form=form, next=next_path)


@bp.get("/verify-email/<token>")
def verify_email(token: str):
    try:
        _user, newly_verified = accounts.verify_email(token)
    except accounts.InvalidToken as exc:
        form = EmailForm(formdata=None, email=exc.email)
        return render_template(
            "accounts/resend_verification.html", form=form, invalid_link=exc.message
        ), 400
    if newly_verified:
        flash(_("Thank you, your email address is confirmed. You can now log in."), "success")
    else:
        flash(_("Your email address was already confirmed. You can log in."), "info")
    next_path = _safe_next_or_none()
    if current_user.is_authenticated:
        return redirect(next_path or url_for("accounts.account"))
    return redirect(url_for("accounts.login", next=next_path))


@bp.route("/verify-email/resend", methods=["GET", "POST"])
@_RESEND_PER_IP
@_RESEND_PER_EMAIL
def resend_verification():
    form = EmailForm()
    if form.validate_on_submit():
        accounts.resend_verification(form.email.data)
        return _check_inbox(_(
            "If an account is waiting for confirmation at %(email)s, we have sent a new "
            "link to it.",
            email=normalize_email(form.email.data),
        ), offer_resend=False)
    return render_template("accounts/resend_verification.html", form=form, invalid_link=None)


# Login and logout --------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@_LOGIN_PER_IP
@_LOGIN_PER_EMAIL
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.EmailNotConfirmed as exc:
            form.form_errors.append(exc.message)  # the unit commits: the new link is sent
        except accounts.AccountError as exc:
            uow.refuse()
            form.form_errors.append(exc.message)
        else:
            remember = bool(form.remember_me.data)
            sessions.start_session(user, remembered=remember, user_agent=request.user_agent.string)
            login_user(user, remember=remember)
            # The page asked for; else staff go to their organization, shoppers home.
            return redirect(_safe_next_or_none() or landing_url(user) or next_url)
    return render_template("accounts/login.html", form=form, next=_safe_next_or_none())


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Ended on the server: a copy of this browser's cookies opens nothing any more.
        sessions.end_session(current_user, current_user.session_id)
    logout_user()
    flash(_("You are logged out. See you soon!"), "info")
    return redirect(url_for("site.home"))


@bp.after_app_request
def _note_session_in_use(response):
    """Write down now and then (sessions.TOUCH_EVERY) that this request's session is in use:
    the write joins the request's unit of work (an error answer, rolled back, writes nothing:
    the next request does)."""
    user = g.get("_login_user")  # set by Flask-Login when this request loaded the user
    if user is not None and response.status_code < 400 and sessions.needs_touch(user):
        sessions.touch(user)
    return response


# Password reset ----------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@_RESET_PER_IP
@_RESET_PER_EMAIL
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return _check_inbox(_(
            "If an account exists for %(email)s, we have sent it a link to choose a new "
            "password. The link works only once.",
            email=normalize_email(form.email.data),
        ), offer_resend=False)
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = accounts.user_for_reset_token(token)
    except accounts.InvalidToken as exc:
        return render_template("accounts/reset_invalid.html", message=exc.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, new_password=form.password.data)
        except accounts.InvalidToken as exc:
            return render_template("accounts/reset_invalid.html", message=exc.message), 400
        except accounts.AccountError as exc:
            uow.refuse()
            _attach_error(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()  # this browser's session ended with all the others
            flash(_("Your password was changed. You can now log in with it."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form, user=user)


# The account page --------------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            accounts.update_profile(current_user, name=form.name.data, locale=form.locale.data)
        except accounts.AccountError as exc:
            uow.refuse()
            _attach_error(form, exc)
        else:
            flash(_("Your details were saved."), "success")
            response = redirect(url_for("accounts.account"))
            _set_language_cookie(response, current_user.locale)
            return response
    memberships = sorted(current_user.memberships, key=lambda m: m.organization.name.lower())
    return render_template(
        "accounts/account.html", form=form, memberships=memberships,
        # This device first, then the most recently used.
        logins=sorted(sessions.sessions_of(current_user),
                      key=lambda login: login.id != current_user.session_id),
        device_label=sessions.device_label,
    )


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """Log out one of the devices listed on the account page."""
    ended = sessions.end_session(current_user, session_id)
    if ended is None:
        abort(404)
    if ended.id == current_user.session_id:
        logout_user()
        flash(_("You are logged out. See you soon!"), "info")
        return redirect(url_for("site.home"))
    flash(_("%(device)s is logged out.", device=sessions.device_label(ended)), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/sessions/end-all")
@login_required
def end_all_sessions():
    """Log out of every device, this one included; "stay logged in" ends everywhere too."""
    sessions.end_all_sessions(current_user)
    logout_user()
    flash(_("You are logged out of every device."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(
                user, current_password=form.current_password.data, new_password=form.password.data,
                keep_session_id=user.session_id,
            )
        except accounts.AccountError as exc:
            uow.refuse()
            _attach_error(form, exc)
        else:
            flash(
                _("Your password was changed. Your other devices have been logged out."), "success"
            )
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)


def _set_language_cookie(response, language: str) -> None:
    # Same cookie as the footer's language switch, so the choice survives logging out.
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
