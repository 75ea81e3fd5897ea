"""The regulator's pages about parenting guidance providers: the list, verify and suspend."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from careapp.extensions import db
from careapp.institutions.forms import ConfirmForm
from careapp.models import Course, Provider, ProviderStatus, Township
from careapp.regulator import bp
from careapp.regulator.forms import ReasonForm
from careapp.services import courses
from careapp.services.courses import CourseError

#: The order of the groups on the list: those waiting for a decision first.
STATUS_ORDER = (ProviderStatus.PENDING, ProviderStatus.VERIFIED, ProviderStatus.SUSPENDED)


def _course_counts() -> dict[int, int]:
    """How many courses each provider has posted, by provider id."""
    rows = db.session.execute(
        sa.select(Course.provider_id, sa.func.count(Course.id)).group_by(Course.provider_id)
    )
    return {provider_id: count for provider_id, count in rows}


def _providers_page(sent: dict | None = None, status: int = 200):
    """The list by status; ``sent`` holds a suspend form just sent back, by provider id."""
    found = courses.providers_by_status()
    page = render_template(
        "regulator/providers.html",
        groups=[(state, [p for p in found if p.status == state]) for state in STATUS_ORDER],
        course_counts=_course_counts(),
        townships={t.id: t for t in db.session.scalars(sa.select(Township))},
        sent=sent or {},
        suspend_form=ReasonForm(prefix="suspend", formdata=None),
        verify_form=ConfirmForm(),
    )
    return page, status


def _decided(message: str, provider: Provider):
    """Commit the decision and go back to the provider on the list."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("regulator.providers") + f"#provider-{provider.id}")


@bp.get("/providers")
def providers():
    """Every guidance provider by status, pending first, with its courses counted."""
    return _providers_page()


@bp.post("/providers/<id:provider_id>/verify")
def verify_provider(provider_id: int):
    """Verify a provider (or lift a suspension): its courses become public."""
    provider = db.get_or_404(Provider, provider_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    courses.verify_provider(provider)
    return _decided(
        _("%(name)s is verified; its courses are public now.", name=provider.name), provider
    )


@bp.post("/providers/<id:provider_id>/suspend")
def suspend_provider(provider_id: int):
    """Suspend a provider with a reason: its courses are unlisted at once."""
    provider = db.get_or_404(Provider, provider_id)
    form = ReasonForm(prefix="suspend")
    if not form.validate_on_submit():
        return _providers_page({provider.id: form}, 400)
    try:
        courses.suspend_provider(provider, form.reason.data)
    except CourseError as error:
        flash(str(error.message), "error")
        return _providers_page({provider.id: form}, 400)
    return _decided(
        _("%(name)s is suspended; its courses are no longer public.", name=provider.name),
        provider,
    )
