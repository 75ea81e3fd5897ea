"""A parent's private iCalendar feed of their bookings (the ``icalendar`` library)."""

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event

from careapp import clock
from careapp.labels import label
from careapp.models import User
from careapp.models.base import as_utc
from careapp.services import booking, courses
from careapp.services.locations import public_address
from careapp.services.privacy import given_name

PRODUCT_ID = "-//careapp//bookings//ZH"


#: iCalendar's names of the ISO weekdays, Monday first.
ICAL_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _event(item, language: str) -> Event:
    slot = item.slot
    event = Event()
    event.add("uid", f"booking-{item.id}@careapp")
    event.add(
        "summary",
        _(
            "%(care_type)s for %(child)s at %(institution)s",
            care_type=label("care_type", slot.care_type),
            child=given_name(item.child.name),
            institution=slot.institution.name_for(language),
        ),
    )
    event.add("dtstart", datetime.combine(item.first_day, slot.starts_at, clock.zone()))
    event.add("dtend", datetime.combine(item.first_day, slot.ends_at, clock.zone()))
    if slot.is_standing:
        # A standing place: every week, on the days its class runs, from its first day.
        days = [ICAL_WEEKDAYS[int(day) - 1] for day in slot.care_class.weekdays]
        event.add("rrule", {"freq": "weekly", "byday": days})
    event.add("dtstamp", as_utc(item.created_at))
    # The full address is the family's once the place is confirmed (a home-based point's flat).
    institution = slot.institution
    confirmed = item.status == "confirmed"
    address = (
        institution.address_for(language) if confirmed else public_address(institution, language)
    )
    event.add("location", address)
    event.add("status", "TENTATIVE" if item.status == "applied" else "CONFIRMED")
    return event


def _course_event(registration) -> Event:
    session = registration.session
    event = Event()
    event.add("uid", f"course-registration-{registration.id}@careapp")
    event.add("summary", session.course.title)
    event.add("dtstart", session.starts_at.replace(tzinfo=clock.zone()))
    event.add("dtend", session.ends_at.replace(tzinfo=clock.zone()))
    event.add("dtstamp", as_utc(registration.created_at))
    if session.course.address:
        event.add("location", session.course.address)
    event.add("status", "CONFIRMED")
    return event


def feed_for(parent: User, language: str) -> bytes:
    """The parent's active bookings and course registrations as an iCalendar document."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    with force_locale(language):
        calendar.add("x-wr-calname", _("My childcare bookings"))
        for item in booking.bookings_of(parent):
            if item.is_active:
                calendar.add_component(_event(item, language))
        for registration in courses.registrations_of(parent):
            course = registration.session.course
            public = course.provider.is_verified and not course.cancelled
            if registration.is_active and registration.session.is_scheduled and public:
                calendar.add_component(_course_event(registration))
    return calendar.to_ical()
