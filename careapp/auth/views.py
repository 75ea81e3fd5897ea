"""Views of the auth blueprint."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse as parse_limit

from careapp import clock
from careapp.access import home_for, safe_next
from careapp.auth import bp
from careapp.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    RegisterForm,
    ResetPasswordForm,
)
from careapp.auth.phone import render_login
from careapp.database import begin_write
from careapp.extensions import db, limiter
from careapp.i18n import current_language
from careapp.models import Role
from careapp.services import accounts, sessions, shortlist
from careapp.validators import china_mobile_e164


def _failed_attempt(response) -> bool:
    """Only attempts that did not sign in count against the limits."""
    return response.status_code != 302


def _account_limit():
    """The limit of failed password attempts per account, and this account's key in it."""
    item = parse_limit(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    return item, "login-account:" + accounts.normalize_email(request.form.get("email", ""))


def sign_in_session(user) -> None:
    """Start a fresh server-side session for ``user`` (nothing of the old one survives but
    the signed-out shortlist, which moves onto the account)."""
    starred = shortlist.take_from_session()
    session.clear()
    user.login_token = sessions.start(user, clock.now())
    login_user(user)
    shortlist.merge_into_account(user, starred)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=_failed_attempt,
)
def login():
    """Sign in, then go to ``next`` when it is a path on this site, else to one's home.

    When an account's failed attempts are used up, its password is not even tried: its
    owner is sent a one-time sign-in link instead, so a stranger can guess no further and
    cannot lock the owner out either.
    """
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or home_for(current_user))
    form = LoginForm()
    if request.method != "POST":
        return render_login(form, target=target)
    limit, key = _account_limit()
    if not limiter.limiter.test(limit, key):
        if form.validate_on_submit():
            accounts.send_sign_in_link(form.email.data, clock.now())
            db.session.commit()
        form.password.errors.append(PAUSED)
        return render_login(form, target=target, status=429)
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            sign_in_session(user)
            db.session.commit()
            return redirect(target or home_for(user))
        form.password.errors.append(_("The e-mail address or the password is not right."))
    limiter.limiter.hit(limit, key)
    return render_login(form, target=target)


#: Shown instead of trying the password once an account's attempts are used up.
PAUSED = _l(
    "Signing in with a password is paused for this account after too many attempts. If the"
    " account is yours, we have e-mailed it a one-time sign-in link."
)


@bp.get("/login/link/<token>")
def sign_in_link(token: str):
    """Sign in with a one-time link sent by e-mail (it works once, for minutes)."""
    begin_write()  # a GET that writes: the token is used up and a session starts
    user = accounts.user_for_sign_in_link(token, clock.now())
    return _signed_in_by_link(user, "auth/reset_invalid.html", _("You are signed in."))


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Sign out; a GET shows the button so that signing out always carries a CSRF token."""
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            sessions.end(current_user.login_token, clock.now())
            db.session.commit()
        logout_user()
        session.clear()
        flash(_("You have signed out."), "success")
        return redirect(url_for("public.index"))
    return render_template("auth/logout.html", form=form)


@bp.post("/account/sessions/end")
@login_required
def sign_out_everywhere():
    """End every session of the account, on every device, this one too."""
    if not LogoutForm().validate_on_submit():
        abort(400)
    ended = sessions.end_all(current_user, clock.now())
    db.session.commit()
    logout_user()
    session.clear()
    flash(
        ngettext(
            "You have been signed out of %(num)d session.",
            "You have been signed out of %(num)d sessions.",
            ended,
        ),
        "success",
    )
    return redirect(url_for("public.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_LIMIT_PER_IP"], methods=["POST"])
def register():
    """Sign up: the address is sent a link that finishes it. The answer is the same whether
    or not the address has an account already (its owner is told by mail instead)."""
    target = safe_next(request.values.get("next"))
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("auth/register.html", form=form, next=target)
    if _may_mail_address(form.email.data):
        details = accounts.SignUp(
            email=form.email.data,
            password=form.password.data,
            role=Role(form.role.data),
            display_name=form.display_name.data,
            phone=china_mobile_e164(form.phone.data) if form.phone.data else None,
            language=current_language(),
        )
        accounts.sign_up(details, clock.now(), next_path=target)
        db.session.commit()
    hours = current_app.config["SIGN_UP_LINK_MAX_AGE"] // 3600
    return render_template("auth/sign_up_sent.html", email=form.email.data, hours=hours)


def _may_mail_address(email: str) -> bool:
    """Count a sign-up mail to ``email``; False once the address has had its share, so that
    no one can flood a mailbox through the form."""
    item = parse_limit(current_app.config["SIGNUP_MAILS_PER_ADDRESS"])
    return limiter.limiter.hit(item, "sign-up-address:" + accounts.normalize_email(email))


@bp.get("/register/confirm/<token>")
def confirm_sign_up(token: str):
    """Finish a sign-up from its e-mailed link: the account is ready and signed in."""
    begin_write()  # a GET that writes: the address is confirmed and a session starts
    user = accounts.confirm_sign_up(token, clock.now())
    message = _("Welcome! Your account is ready.")
    return _signed_in_by_link(user, "auth/sign_up_invalid.html", message)


def _signed_in_by_link(user, spent_page: str, welcome: str):
    """Sign in the account an e-mailed link was for and go on, or show ``spent_page`` (400)
    when the link did not work."""
    if user is None:
        return render_template(spent_page), 400
    sign_in_session(user)
    db.session.commit()
    flash(welcome, "success")
    return redirect(safe_next(request.args.get("next")) or home_for(user))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; other sessions are signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.password.data)
        except accounts.WrongPassword:
            form.current_password.errors.append(_("This is not your current password."))
        else:
            sessions.end_all(current_user, clock.now(), keep=current_user.login_token)
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(home_for(current_user))
    return render_template("auth/change_password.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def forgot_password():
    """Send a one-time reset link; the answer is the same whether the account exists or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data, clock.now())
        db.session.commit()
        flash(
            _("If an account uses this address, a link to reset its password is on its way."),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an e-mailed link that is fresh and not yet used."""
    if accounts.user_for_reset_token(token, clock.now()) is None:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        if accounts.reset_password(token, form.password.data, clock.now()) is None:
            return render_template("auth/reset_invalid.html"), 400
        db.session.commit()
        flash(_("Your password has been changed. Please sign in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)
