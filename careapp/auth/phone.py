"""Views for mobile numbers: sign in or up with an SMS code, add a number to an account,
and choose how notices arrive."""

from functools import partial
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from limits import parse as parse_limit
from limits import parse_many
from werkzeug.exceptions import HTTPException

from careapp import clock
from careapp.access import home_for, safe_next
from careapp.auth import bp
from careapp.auth.forms import LoginForm, NoticeChannelForm, PhoneCodeForm, PhoneForm
from careapp.database import run_in_transaction
from careapp.extensions import db, limiter
from careapp.i18n import current_language
from careapp.models import CodePurpose, NoticeChannel, Role
from careapp.services import phone_sign_in
from careapp.services.mail import configured_sender, deliver_now
from careapp.services.sms import masked
from careapp.validators import china_mobile_e164

#: What a refused code is told, by CodeRejected.reason.
CODE_REFUSED = {
    "wrong": _l("This code is not right. Please check the SMS and type it again."),
    "tries": _l("This code was tried too often. Please ask for a new one."),
    "expired": _l("This code has expired. Please ask for a new one."),
    "none": _l("This code no longer works. Please ask for a new one."),
}

LIMITED = _l(
    "This number has been sent too many codes. Please try again later, or sign in with"
    " your e-mail address."
)


def is_booking(target: str | None) -> bool:
    """Whether ``target`` is the booking form of a place (the visitor tapped Book)."""
    if not target:
        return False
    try:
        endpoint, _values = current_app.url_map.bind("localhost").match(urlsplit(target).path)
    except HTTPException:
        return False
    return endpoint == "parents.book"


def render_login(form=None, phone_form=None, target=None, status: int = 200):
    """The sign-in page: by SMS code first, by e-mail and password second."""
    page = render_template(
        "auth/login.html",
        form=form or LoginForm(formdata=None),
        phone_form=phone_form or PhoneForm(formdata=None),
        next=target,
        booking=is_booking(target),
    )
    return page, status


def _render_code_page(form, action: str, target=None, wait: int = 0, status: int = 200):
    phone = china_mobile_e164(form.phone.data or "")
    page = render_template(
        "auth/phone_code.html",
        form=form,
        masked_phone=masked(phone) if phone else "",
        action=action,
        resend=url_for(
            "auth.send_phone_code" if action == "auth.phone_login" else "auth.send_add_phone_code"
        ),
        next=target,
        wait=wait,
        booking=is_booking(target),
    )
    return page, status


def _may_send(phone: str, purpose: CodePurpose) -> int | None:
    """Count a code for ``phone``: 0 when it may go now, the seconds to wait when one went
    moments ago, None when the number has had its share. Counters are shared by workers."""
    newest_id, wait = phone_sign_in.resend_state(phone, purpose, clock.now())
    if wait:
        return wait
    limits = parse_many(current_app.config["SMS_CODES_PER_NUMBER"])
    if not all(limiter.limiter.test(item, "sms-number", phone) for item in limits):
        return None
    # Of requests that saw the same newest code at the same moment, one sends; the others
    # are answered as if they had come just after it.
    once = parse_limit("1 per day")
    if not limiter.limiter.hit(once, "sms-after", purpose, phone, str(newest_id)):
        return current_app.config["SMS_CODE_RESEND_SECONDS"]
    for item in limits:
        limiter.limiter.hit(item, "sms-number", phone)
    return 0


def _send(phone: str, purpose: CodePurpose, user=None) -> int | None:
    """Send a code unless the limits say no (see ``_may_send``); the SMS goes at once, and
    when the provider fails, ``jobs run`` tries again."""
    wait = _may_send(phone, purpose)
    if wait != 0:
        return wait
    try:
        message = phone_sign_in.send_code(phone, purpose, clock.now(), user)
    except phone_sign_in.TooSoon as soon:
        db.session.rollback()
        return soon.seconds
    db.session.commit()
    run_in_transaction(partial(deliver_now, message.id, configured_sender()))
    return 0


def _code_form(phone_text: str) -> PhoneCodeForm:
    form = PhoneCodeForm(formdata=None)
    form.phone.data = phone_text
    return form


@bp.post("/login/phone/code")
@limiter.limit(lambda: current_app.config["SMS_CODES_PER_IP"], methods=["POST"])
def send_phone_code():
    """Send a sign-in code to a mobile number (which signs up when it has no account)."""
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or home_for(current_user))
    form = PhoneForm()
    if not form.validate_on_submit():
        return render_login(phone_form=form, target=target)
    wait = _send(china_mobile_e164(form.phone.data), CodePurpose.SIGN_IN)
    if wait is None:
        form.phone.errors.append(LIMITED)
        return render_login(phone_form=form, target=target, status=429)
    return _render_code_page(_code_form(form.phone.data), "auth.phone_login", target, wait)


@bp.post("/login/phone")
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def phone_login():
    """Sign in (or up, as a parent) with the code sent to a mobile number."""
    from careapp.auth.views import sign_in_session

    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or home_for(current_user))
    form = PhoneCodeForm()
    if not form.validate_on_submit():
        return _render_code_page(form, "auth.phone_login", target)
    phone = china_mobile_e164(form.phone.data)
    try:
        signed_in = phone_sign_in.sign_in(phone, form.code.data, clock.now(), current_language())
    except phone_sign_in.CodeRejected as refused:
        db.session.commit()  # the try counts
        form.code.errors.append(CODE_REFUSED[refused.reason])
        return _render_code_page(form, "auth.phone_login", target)
    if signed_in is None:
        db.session.commit()
        form.code.errors.append(_("This account cannot sign in. Please contact the service."))
        return _render_code_page(form, "auth.phone_login", target)
    sign_in_session(signed_in.user)
    db.session.commit()
    welcome = _("Welcome! Your account is ready.") if signed_in.created else _("You are signed in.")
    flash(welcome, "success")
    return redirect(target or home_for(signed_in.user))


# --- settings ------------------------------------------------------------------------------


def _render_settings(phone_form=None, channel_form=None, status: int = 200):
    if channel_form is None:
        channel_form = NoticeChannelForm(formdata=None)
        channel_form.channel.data = _current_channel(current_user)
    page = render_template(
        "auth/settings.html",
        phone_form=phone_form or PhoneForm(formdata=None),
        channel_form=channel_form,
        verified_phone=masked(current_user.verified_phone) if current_user.verified_phone else None,
    )
    return page, status


def _current_channel(user) -> str:
    """The choice the form shows: the stored one, else what the default amounts to."""
    if user.notice_channel:
        return str(user.notice_channel)
    return NoticeChannel.SMS.value if user.verified_phone else NoticeChannel.EMAIL.value


@bp.get("/account/settings")
@login_required
def settings():
    """Mobile number, notices and password in one place."""
    return _render_settings()


@bp.post("/account/phone/code")
@login_required
@limiter.limit(lambda: current_app.config["SMS_CODES_PER_IP"], methods=["POST"])
def send_add_phone_code():
    """Send a code to the number the signed-in account wants to add."""
    form = PhoneForm()
    if not form.validate_on_submit():
        return _render_settings(phone_form=form)
    wait = _send(china_mobile_e164(form.phone.data), CodePurpose.ADD_PHONE, current_user)
    if wait is None:
        form.phone.errors.append(LIMITED)
        return _render_settings(phone_form=form, status=429)
    return _render_code_page(_code_form(form.phone.data), "auth.add_phone", wait=wait)


@bp.post("/account/phone")
@login_required
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def add_phone():
    """Make the number the account's verified one with the code sent to it."""
    form = PhoneCodeForm()
    if not form.validate_on_submit():
        return _render_code_page(form, "auth.add_phone")
    phone = china_mobile_e164(form.phone.data)
    try:
        phone_sign_in.add_phone(current_user, phone, form.code.data, clock.now())
    except phone_sign_in.CodeRejected as refused:
        db.session.commit()  # the try counts
        form.code.errors.append(CODE_REFUSED[refused.reason])
        return _render_code_page(form, "auth.add_phone")
    except phone_sign_in.PhoneTaken:
        db.session.commit()
        form.phone.errors.append(_("Another account signs in with this number already."))
        return _render_code_page(form, "auth.add_phone")
    db.session.commit()
    flash(_("Your mobile number is verified. You can sign in with it, too."), "success")
    return redirect(url_for("auth.settings"))


@bp.post("/account/notices")
@login_required
def notice_channel():
    """A parent chooses SMS, e-mail or both for booking notices."""
    if current_user.role != Role.PARENT:
        abort(403)
    form = NoticeChannelForm()
    if form.validate_on_submit():
        choice = NoticeChannel(form.channel.data)
        problem = _channel_problem(current_user, choice)
        if problem is None:
            current_user.notice_channel = choice
            db.session.commit()
            flash(_("Your choice is saved."), "success")
            return redirect(url_for("auth.settings"))
        form.channel.errors.append(problem)
    return _render_settings(channel_form=form)


def _channel_problem(user, choice: NoticeChannel) -> str | None:
    """Why the account cannot receive notices this way, if it cannot."""
    if choice != NoticeChannel.EMAIL and not user.verified_phone:
        return _("Please add and verify a mobile number first.")
    if choice != NoticeChannel.SMS and not user.email:
        return _("Your account has no e-mail address; choose SMS.")
    return None
