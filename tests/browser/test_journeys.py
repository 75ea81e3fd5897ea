"""End-to-end journeys of the four audiences, driven through the real UI at phone size.

Each journey makes the records it depends on (a fresh parent, slot, course or application),
so the journeys pass in any order on the one session-scoped server.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from stdnum.cn import uscc as uscc_codec

from careapp import clock
from careapp.demo.accounts import DEMO_PASSWORD
from careapp.extensions import db
from careapp.i18n import day_label
from careapp.models import (
    Authority,
    Booking,
    BookingStatus,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    Course,
    CourseRegistration,
    CourseSession,
    Institution,
    Nature,
    OutboxMessage,
    RegistrationStatus,
    Role,
    Slot,
    Status,
    Township,
)
from careapp.services import booking
from careapp.services.accounts import create_user, find_user
from careapp.services.search import get_public_institution

expect = pytest.importorskip("playwright.sync_api").expect

#: Every journey reads the English interface: its labels are the source strings.
LANGUAGE = "en"
#: The fresh parent's child, in months: inside most demo offers and classes.
CHILD_MONTHS = 24


def unique(prefix: str) -> str:
    """``prefix`` with a short random suffix, so reruns and other tests never clash."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def snap(page, artifacts, journey: str, step: str) -> None:
    """A full-page screenshot of a key step, as artifacts/journey-<journey>-<step>.png."""
    page.screenshot(path=artifacts / f"journey-{journey}-{step}.png", full_page=True)


def flash(page):
    """The messages flashed on the page."""
    return page.locator(".flashes")


def birth_date_for(months: int, on: date) -> date:
    """A birth date that makes a child ``months`` old (and a few days) on ``on``."""
    year, month_index = divmod(on.year * 12 + on.month - 1 - months, 12)
    return date(year, month_index + 1, min(on.day, 28)) - timedelta(days=5)


# --- records the journeys start from -------------------------------------------------------


@dataclass(frozen=True)
class TemporaryPlace:
    """A filed institution with a temporary place a child of CHILD_MONTHS can book."""

    institution_id: int
    name: str
    township_code: str


def institution_with_temporary_place(app) -> TemporaryPlace:
    """The first filed institution with an open temporary place in the next two weeks."""
    with app.app_context():
        now = clock.local_now()
        first, last = now.date() + timedelta(days=1), now.date() + timedelta(days=13)
        filed = db.session.scalars(
            sa.select(Institution)
            .where(Institution.status == Status.FILED)
            .order_by(Institution.id)
        )
        for institution in filed:
            openings = booking.availability(
                institution, first, last, CareType.TEMPORARY, CHILD_MONTHS, now
            )
            if any(opening.remaining for opening in openings):
                return TemporaryPlace(
                    institution.id, institution.name_for(LANGUAGE), institution.township.code
                )
    pytest.fail("the demo data has no temporary place for a child of 24 months")


def new_parent_with_child(app, months: int, on: date) -> tuple[str, str]:
    """A fresh parent (demo password) with a consented child ``months`` old on ``on``.

    Returns the parent's e-mail address and the child's name.
    """
    email = f"{unique('journey-parent')}@example.com"
    child_name = unique("Child")
    with app.app_context():
        parent = create_user(
            email=email, password=DEMO_PASSWORD, role=Role.PARENT, display_name="Journey Parent"
        )
        booking.add_child(
            parent, name=child_name, birth_date=birth_date_for(months, on), notes="", consent=True
        )
        db.session.commit()
    return email, child_name


@dataclass(frozen=True)
class StandingPlaces:
    """Where the institution account adds full-day places for the journey."""

    institution_id: int
    name: str
    class_name: str
    on_date: date
    opens_at: time
    closes_at: time
    child_months: int


def standing_places_plan(app) -> StandingPlaces:
    """The institution account's filed institution, a class for full-day care and a free date."""
    with app.app_context():
        owner = find_user("institution@example.com")
        institution = db.session.scalar(
            sa.select(Institution).where(
                Institution.owner_id == owner.id, Institution.status == Status.FILED
            )
        )
        offer = institution.offer_for(CareType.FULL_DAY)
        assert offer is not None, "the demo's filed institution offers no full-day care"
        care_class, low, high = _class_for_offer(institution, offer)
        on_date = _free_date(care_class, offer.opens_at)
        return StandingPlaces(
            institution.id,
            institution.name_for(LANGUAGE),
            care_class.name,
            on_date,
            offer.opens_at,
            offer.closes_at,
            (low + high) // 2,
        )


def _class_for_offer(institution: Institution, offer: CareOffer) -> tuple[CareClass, int, int]:
    """The first class whose ages meet the offer's, with the ages both accept."""
    for care_class in institution.classes:
        low = max(care_class.standard.min_age_months, offer.min_age_months)
        high = min(care_class.standard.max_age_months, offer.max_age_months, 36)
        if low < high:
            return care_class, low, high
    pytest.fail("no class of the demo's filed institution fits its full-day offer")


def _free_date(care_class: CareClass, starts_at: time) -> date:
    """A weekday 3 to 8 weeks ahead on which the class has no full-day slot yet."""
    taken = set(
        db.session.scalars(
            sa.select(Slot.on_date).where(
                Slot.care_class_id == care_class.id,
                Slot.care_type == CareType.FULL_DAY,
                Slot.starts_at == starts_at,
            )
        )
    )
    start = clock.today() + timedelta(days=21)
    for offset in range(35):
        day = start + timedelta(days=offset)
        if day.weekday() < 5 and day not in taken:
            return day
    pytest.fail("no free date for a new full-day slot")


def application_under_review(app) -> str:
    """A new complete application waiting in the review queue; returns its (unique) name."""
    name = unique("旅程测试托育园")
    body = f"52350582{uuid.uuid4().int % 10**9:09d}"
    with app.app_context():
        township = db.session.scalar(sa.select(Township).order_by(Township.id))
        institution = Institution(
            name=name,
            township_id=township.id,
            address="世纪大道 88 号",
            phone="0595-85661234",
            nature=Nature.INCLUSIVE,
            authority=Authority.CIVIL_AFFAIRS,
            uscc=body + uscc_codec.calc_check_digit(body),
            status=Status.UNDER_REVIEW,
            submitted_at=datetime.now(UTC),
            commitment_accepted=True,
        )
        institution.offers.append(
            CareOffer(
                care_type=CareType.FULL_DAY,
                opens_at=time(8),
                closes_at=time(17, 30),
                price_yuan=2800,
                min_age_months=12,
                max_age_months=36,
            )
        )
        institution.classes.append(
            CareClass(kind=ClassKind.TODDLER, name="托小班", capacity=15, carers=3)
        )
        db.session.add(institution)
        db.session.commit()
    return name


def sign_up_link(app, email: str) -> str:
    """The path of the sign-up link the site mailed to ``email``."""
    with app.app_context():
        body = db.session.scalar(
            sa.select(OutboxMessage.body)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    return re.search(r"(/register/confirm/\S+)", body).group(1)


# --- 1. a parent books a temporary place and cancels it ------------------------------------


def test_parent_finds_registers_books_and_cancels_a_temporary_place(
    live_server, page_for, artifacts
):
    base, app = live_server
    place = institution_with_temporary_place(app)
    email = f"{unique('journey-new-parent')}@example.com"
    page = page_for()

    page.goto(base + "/")
    page.get_by_label("Township").select_option(place.township_code)
    page.get_by_label("Care type").select_option(CareType.TEMPORARY.value)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=re.compile(r"\d+ institutions? found"))).to_be_visible()
    snap(page, artifacts, "parent", "1-results")
    page.get_by_role("link", name=place.name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(place.name)

    # Anonymous: booking asks to sign in; the parent creates an account instead.
    _show_temporary_places(page)
    page.get_by_role("link", name="Book", exact=True).last.click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_role("link", name="No account yet? Create one").click()
    page.get_by_label("A parent or family member").check()
    page.get_by_label("Your name or your organisation's name").fill("Journey Parent")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill("journey-password-1")
    page.get_by_label("Repeat the password").fill("journey-password-1")
    snap(page, artifacts, "parent", "2-register")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(base + sign_up_link(app, email))
    expect(flash(page)).to_contain_text("Welcome! Your account is ready.")

    # Signing up went on to the booking, which asks for the child first and then comes back.
    expect(page).to_have_url(re.compile(r"/parents/children/new\?next="))
    page.get_by_label("Child's name").fill("Journey Child")
    page.get_by_label("Birth date").fill(birth_date_for(CHILD_MONTHS, clock.today()).isoformat())
    page.get_by_label("I am the child's guardian").check()
    snap(page, artifacts, "parent", "3-child")
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_contain_text("Journey Child has been added.")

    expect(page.get_by_role("heading", name="Book a place")).to_be_visible()
    page.get_by_label("For which child?").select_option(label="Journey Child")
    snap(page, artifacts, "parent", "4-book")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(flash(page)).to_contain_text("Your place is booked.")
    booking_id = int(re.search(r"/parents/bookings/(\d+)$", page.url).group(1))
    expect(page.locator(".confirmation .badge")).to_have_text("Confirmed")

    page.get_by_role("link", name="All my bookings").click()
    upcoming = page.get_by_role("region", name="Upcoming", exact=True)
    card = upcoming.get_by_role("listitem").filter(has_text=place.name)
    expect(card).to_contain_text("Journey Child")
    expect(card).to_contain_text("Temporary")
    snap(page, artifacts, "parent", "5-my-bookings")

    card.get_by_role("link", name="Details").click()
    page.get_by_role("link", name="Cancel the booking…").click()
    expect(page.get_by_role("heading", name="Cancel this booking?")).to_be_visible()
    expect(page.locator(".waiting-note")).to_contain_text("Nobody is waiting")
    page.get_by_role("button", name="Yes, cancel the booking").click()
    expect(flash(page)).to_contain_text("The booking is cancelled.")
    expect(page.locator(".confirmation .badge")).to_have_text("Cancelled")
    page.get_by_role("link", name="All my bookings").click()
    past = page.get_by_role("region", name="Past and cancelled")
    expect(past.get_by_role("listitem").filter(has_text=place.name)).to_contain_text("Cancelled")
    expect(page.get_by_role("region", name="Upcoming", exact=True)).not_to_contain_text(place.name)
    snap(page, artifacts, "parent", "6-cancelled")

    with app.app_context():
        made = db.session.get(Booking, booking_id)
        assert made.status == BookingStatus.CANCELLED
        assert made.parent_id == find_user(email).id
        assert made.slot.care_type == CareType.TEMPORARY


def _show_temporary_places(page) -> None:
    """On an institution's page: list the free temporary places for a child of 24 months."""
    places = page.get_by_role("region", name="Free places")
    places.get_by_label("Care type").select_option(CareType.TEMPORARY.value)
    places.get_by_label("Age in months").fill(str(CHILD_MONTHS))
    places.get_by_role("button", name="Show free places").click()
    expect(page.get_by_role("link", name="Book", exact=True).first).to_be_visible()


# --- 2. an institution adds full-day places and accepts an application ---------------------


def test_institution_adds_a_slot_and_accepts_a_full_day_application(
    live_server, page_for, artifacts
):
    base, app = live_server
    plan = standing_places_plan(app)
    parent_email, child_name = new_parent_with_child(app, plan.child_months, plan.on_date)
    staff = page_for("institution@example.com")

    staff.get_by_role("link", name=plan.name).click()
    staff.get_by_role("link", name="Places and bookings").click()
    add = staff.get_by_role("region", name="Add a slot")
    add.get_by_label("Class").select_option(label=plan.class_name)
    add.get_by_label("Care type").select_option(CareType.FULL_DAY.value)
    add.get_by_label("Date").fill(plan.on_date.isoformat())
    add.get_by_label("Start").fill(plan.opens_at.strftime("%H:%M"))
    add.get_by_label("End").fill(plan.closes_at.strftime("%H:%M"))
    add.get_by_label("Places", exact=True).fill("1")
    snap(staff, artifacts, "institution", "1-add-slot")
    add.get_by_role("button", name="Add the slot").click()
    expect(flash(staff)).to_contain_text(f"The slot on {plan.on_date.isoformat()} is added.")
    with app.app_context():
        slot_id = db.session.scalar(
            sa.select(Slot.id).where(
                Slot.institution_id == plan.institution_id,
                Slot.care_type == CareType.FULL_DAY,
                Slot.on_date == plan.on_date,
            )
        )
    assert slot_id is not None

    parent = page_for(parent_email)
    parent.goto(f"{base}/institutions/{plan.institution_id}")
    places = parent.get_by_role("region", name="Free places")
    places.get_by_label("Care type").select_option(CareType.FULL_DAY.value)
    places.get_by_label("From", exact=True).fill(plan.on_date.isoformat())
    places.get_by_role("button", name="Show free places").click()
    apply = parent.locator(f"a[href='/parents/book/{slot_id}']")
    expect(apply).to_have_text("Apply")
    apply.click()
    expect(parent.get_by_role("heading", name="Apply for a place")).to_be_visible()
    parent.get_by_label("For which child?").select_option(label=child_name)
    parent.get_by_role("button", name="Send the application").click()
    expect(flash(parent)).to_contain_text("Your application has been sent.")
    expect(parent.locator(".confirmation .badge")).to_have_text("Application sent")
    snap(parent, artifacts, "institution", "2-application-sent")
    booking_id = int(re.search(r"/parents/bookings/(\d+)$", parent.url).group(1))

    staff.get_by_role("link", name="Applications").click()
    application = staff.locator(f"#application-{booking_id}")
    expect(application).to_contain_text(plan.class_name)
    expect(application).to_contain_text("From ")
    snap(staff, artifacts, "institution", "3-applications")
    application.get_by_role("button", name="Admit", exact=True).click()
    expect(flash(staff)).to_contain_text("is admitted. The parent has been told.")
    expect(staff.locator(f"#application-{booking_id}")).to_have_count(0)
    snap(staff, artifacts, "institution", "4-accepted")

    parent.reload()
    expect(parent.locator(".confirmation .badge")).to_have_text("Admitted")
    snap(parent, artifacts, "institution", "5-parent-confirmed")
    with app.app_context():
        decided = db.session.get(Booking, booking_id)
        assert decided.status == BookingStatus.CONFIRMED
        assert decided.slot_id == slot_id
        assert decided.decided_at is not None


# --- 3. a provider posts a course and a parent registers for it ----------------------------


def test_provider_posts_a_course_and_a_parent_registers_for_it(live_server, page_for, artifacts):
    base, app = live_server
    title = unique("Journey course")
    first_day = clock.today() + timedelta(days=30)
    with app.app_context():
        township = db.session.scalar(sa.select(Township).order_by(Township.id))
        township_name, township_code = township.name_for(LANGUAGE), township.code
        family = find_user("parent@example.com")
        parent_id, parent_name = family.id, family.display_name
    provider = page_for("provider@example.com")

    provider.get_by_role("link", name="Post a new course").click()
    provider.get_by_label("Title").fill(title)
    provider.get_by_label("Description").fill("Feeding toddlers, with time for questions.")
    provider.get_by_label("Topic").select_option(label="Nutrition")
    provider.get_by_label("In person").check()
    provider.get_by_label("Township").select_option(label=township_name)
    provider.get_by_label("Address").fill("Community centre, third floor")
    provider.get_by_label("Date of the first session").fill(first_day.isoformat())
    provider.get_by_label("Start time").fill("10:00")
    provider.get_by_label("Length of each session in minutes").fill("90")
    provider.get_by_label("Number of weekly sessions").fill("1")
    provider.get_by_label("Seats in each session").fill("20")
    opens = datetime.combine(clock.today() - timedelta(days=1), time(8))
    closes = datetime.combine(first_day, time(8))
    provider.get_by_label("Registration opens at").fill(opens.strftime("%Y-%m-%dT%H:%M"))
    provider.get_by_label("Registration closes at").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    snap(provider, artifacts, "provider", "1-course-form")
    provider.get_by_role("button", name="Post the course").click()
    expect(flash(provider)).to_contain_text("The course is posted and public now.")
    expect(provider.get_by_role("heading", level=1)).to_have_text(title)
    snap(provider, artifacts, "provider", "2-posted")
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.title == title))
        assert [s.starts_at for s in course.sessions] == [datetime.combine(first_day, time(10))]

    parent = page_for("parent@example.com")
    parent.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Parenting courses"
    ).click()
    parent.get_by_label("Township").select_option(township_code)
    parent.get_by_label("From", exact=True).fill(first_day.isoformat())
    parent.get_by_label("To", exact=True).fill(first_day.isoformat())
    parent.get_by_role("button", name="Show courses").click()
    snap(parent, artifacts, "provider", "3-parent-finds")
    parent.get_by_role("link", name=title).click()
    parent.get_by_role("link", name="Register", exact=True).click()
    parent.get_by_label("Seats", exact=True).select_option(label="One seat")
    parent.get_by_role("button", name="Register", exact=True).click()
    expect(flash(parent)).to_contain_text("Your family is registered.")
    expect(parent.get_by_text("Your family has 1 seat in this session.")).to_be_visible()
    snap(parent, artifacts, "provider", "4-registered")

    parent.goto(base + "/parents/bookings")
    courses = parent.get_by_role("region", name="Parenting courses")
    card = courses.get_by_role("listitem").filter(has_text=title)
    expect(card).to_contain_text("Registered")
    with app.test_request_context(), force_locale("en"):
        day = day_label(first_day, clock.today())
    expect(card).to_contain_text(f"{day} 10:00")
    snap(parent, artifacts, "provider", "5-my-bookings")

    provider.reload()
    expect(provider.get_by_role("heading", name=parent_name)).to_be_visible()
    snap(provider, artifacts, "provider", "6-provider-sees-family")
    with app.app_context():
        registration = db.session.scalar(
            sa.select(CourseRegistration)
            .join(CourseRegistration.session)
            .join(CourseSession.course)
            .where(Course.title == title, CourseRegistration.parent_id == parent_id)
        )
        assert registration.status == RegistrationStatus.REGISTERED
        assert registration.seats == 1


# --- 4. the regulator files an application and it becomes searchable -----------------------


def test_regulator_files_an_application_and_it_appears_in_public_search(
    live_server, page_for, artifacts
):
    base, app = live_server
    name = application_under_review(app)
    anonymous = page_for()
    anonymous.goto(base + "/")
    anonymous.get_by_label("Name or address").fill(name)
    anonymous.get_by_role("button", name="Search").click()
    expect(anonymous.get_by_role("heading", name="0 institutions found")).to_be_visible()

    regulator = page_for("regulator@example.com")
    queue = regulator.get_by_role("region", name=re.compile(r"applications? waiting"))
    snap(regulator, artifacts, "regulator", "1-queue")
    queue.get_by_role("link", name=name).click()
    expect(regulator.locator(".badge")).to_have_text("Under review")
    regulator.get_by_role("button", name="File this institution…").click()
    expect(regulator.get_by_role("heading", name=f"File {name}?")).to_be_visible()
    regulator.get_by_role("button", name="Yes, file and publish it").click()
    expect(flash(regulator)).to_contain_text("the institution is public now.")
    expect(regulator.locator(".meta .badge")).to_have_text("Filed")
    snap(regulator, artifacts, "regulator", "2-filed")

    regulator.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Find childcare"
    ).click()
    regulator.get_by_label("Name or address").fill(name)
    regulator.get_by_role("button", name="Search").click()
    expect(regulator.get_by_role("heading", name="1 institution found")).to_be_visible()
    regulator.get_by_role("link", name=name).click()
    expect(regulator.get_by_role("heading", level=1)).to_have_text(name)
    snap(regulator, artifacts, "regulator", "3-public")

    with app.app_context():
        filed = db.session.scalar(sa.select(Institution).where(Institution.name == name))
        assert filed.status == Status.FILED
        assert filed.filing_number
        assert get_public_institution(filed.id) is not None
