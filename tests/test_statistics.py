"""Statistics of the bureau's dashboard, the public page and the API (issue 7).

Every figure is computed from one small register whose answers are worked out by hand below.
Only filed institutions count; draft, under review, returned, rejected and deregistered ones
have classes and places too, and must not change a single number.

The register of Jinjiang (and one township of Yong'an, which must never leak into Jinjiang):

| township | residents | minimum | target | filed institutions (class places)        |
|----------|-----------|---------|--------|------------------------------------------|
| qingyang | 20,000    | 2       | 4.5    | 普惠 Acorn 10 + 15 = 25; public Bamboo 0  |
| anhai    | 8,000     | 2       | 4.6    | private Cedar 20 + 17 = 37               |
| xibin    | 0         | 1       | 4.5    | none                                     |
| yannan*  | 10,000    | 1       | 4.5    | Yong'an Pine 15                          |

Not counted, each with a class: a draft, two under review (14 and 7 days ago), a returned, a
rejected and a deregistered institution in Jinjiang, one under review in Yong'an (28 days ago).
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
import sqlalchemy as sa
from downloads import read_csv

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    CareType,
    Child,
    ClassKind,
    Course,
    CourseFormat,
    CourseRegistration,
    CourseSession,
    Institution,
    Inventory,
    Nature,
    OrganisationType,
    Provider,
    ProviderStatus,
    Region,
    RegistrationStatus,
    Role,
    Slot,
    SlotStatus,
    Status,
    Topic,
    Township,
    TownshipKind,
)
from careapp.services import statistics
from careapp.working_days import add_working_days

#: A fixed Wednesday for the figures computed by the services.
TODAY = date(2025, 6, 18)
#: Local time of the site on that day.
NOW = datetime(2025, 6, 18, 10, 0)

CHILD_NAME = "张小明"
FAMILY_EMAIL = "family-one@example.com"
UNFILED_NAMES = ("草稿托育", "审核中托育", "补正托育", "不予备案托育", "已注销托育", "近审托育")


# --- building the register -----------------------------------------------------------------


def set_township(app, township, code: str, kind: TownshipKind, **values) -> int:
    """Create township ``code`` of Jinjiang and set its figures; returns its id."""
    township_id = township(code, kind)
    with app.app_context():
        found = db.session.get(Township, township_id)
        for name, value in values.items():
            setattr(found, name, value)
        db.session.commit()
    return township_id


def yongan_township(app) -> int:
    """The township Yannan of a second region, Yong'an; returns its id."""
    with app.app_context():
        region = Region(code="yongan", name="永安市", name_en="Yong'an")
        found = Township(
            code="yannan",
            name="燕南街道",
            name_en="Yannan Sub-district",
            kind=TownshipKind.SUBDISTRICT,
            region=region,
            population=10_000,
            position=1,
        )
        db.session.add(found)
        db.session.commit()
        return found.id


def submitted_days_ago(today: date, days: int) -> datetime:
    """An application's submission time ``days`` calendar days before ``today`` (03:00 UTC)."""
    return datetime.combine(today - timedelta(days=days), time(3), tzinfo=UTC)


def add_slot(
    app,
    institution_id: int,
    care_type: CareType,
    on_date: date,
    taken: int,
    capacity: int,
    status: SlotStatus = SlotStatus.OPEN,
) -> int:
    """A slot of the institution's first class with ``taken`` of ``capacity`` places."""
    with app.app_context():
        found = db.session.get(Institution, institution_id)
        slot = Slot(
            institution_id=found.id,
            care_class_id=found.classes[0].id,
            inventory=Inventory(capacity=capacity, taken=taken),
            care_type=care_type,
            on_date=on_date,
            starts_at=time(9),
            ends_at=time(11),
            status=status,
        )
        db.session.add(slot)
        db.session.commit()
        return slot.id


def add_course_session(app, provider_user_id: int, starts_at: datetime) -> int:
    """A recorded course with one session starting at local ``starts_at``; returns its id."""
    with app.app_context():
        provider = db.session.scalar(sa.select(Provider).filter_by(user_id=provider_user_id))
        course = Course(
            provider_id=provider.id,
            title="科学喂养",
            topic=Topic.NUTRITION,
            format=CourseFormat.RECORDED,
            link="https://example.com/recorded",
            seats=20,
            registration_opens_at=starts_at - timedelta(days=30),
            registration_closes_at=starts_at - timedelta(hours=1),
        )
        session = CourseSession(
            course=course,
            inventory=Inventory(capacity=20),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=90),
        )
        db.session.add(session)
        db.session.commit()
        return session.id


def register_for(app, parent_id: int, session_id: int, status: RegistrationStatus) -> None:
    """A family's registration for a session, in ``status``."""
    with app.app_context():
        db.session.add(
            CourseRegistration(
                session_id=session_id,
                parent_id=parent_id,
                status=status,
                request_key=f"key-{parent_id}-{session_id}",
            )
        )
        db.session.commit()


def add_children(app, parent_id: int, *names: str) -> None:
    """Children of a parent (born 18 months ago)."""
    with app.app_context():
        for name in names:
            db.session.add(
                Child(parent_id=parent_id, name=name, birth_date=date(2024, 1, 1), notes="")
            )
        db.session.commit()


@pytest.fixture
def provider_user(app, user):
    """A verified guidance provider account; returns the user id."""
    user_id = user(Role.PROVIDER)
    with app.app_context():
        db.session.add(
            Provider(
                user_id=user_id,
                name="晋江市妇幼保健院",
                organisation_type=OrganisationType.MCH_HOSPITAL,
                phone="0595-85600000",
                status=ProviderStatus.VERIFIED,
            )
        )
        db.session.commit()
    return user_id


def build_townships(app, township) -> dict[str, int]:
    """The three townships of Jinjiang and Yannan of Yong'an."""
    as_of = date(2025, 1, 1)
    return {
        "qingyang": set_township(
            app, township, "qingyang", TownshipKind.SUBDISTRICT, position=1,
            population=20_000, population_as_of=as_of, min_institutions=2,
            target_places_per_1000=Decimal("4.5"),
        ),
        "anhai": set_township(
            app, township, "anhai", TownshipKind.TOWN, position=2, name_en="Anhai Town",
            population=8_000, population_as_of=as_of, min_institutions=2,
            target_places_per_1000=Decimal("4.6"),
        ),
        "xibin": set_township(
            app, township, "xibin", TownshipKind.TOWN, position=3, name_en="Xibin Town",
            population=0, min_institutions=1, target_places_per_1000=Decimal("4.5"),
        ),
        "yannan": yongan_township(app),
    }  # fmt: skip


def build_institutions(institution, today: date) -> dict[str, int]:
    """Filed institutions with known places, and unfiled ones whose places must not count."""
    infant, toddler = (ClassKind.INFANT, 10, 4), (ClassKind.TODDLER, 15, 3)
    older, mixed = (ClassKind.OLDER_TODDLER, 20, 3), (ClassKind.MIXED, 17, 4)
    return {
        "acorn": institution("橡果托育", name_en="Acorn Care", township_code="qingyang",
                             nature=Nature.INCLUSIVE, classes=(infant, toddler)),
        "bamboo": institution("竹子托育", name_en="Bamboo Care", township_code="qingyang",
                              nature=Nature.PUBLIC, classes=()),
        "cedar": institution("雪松托育", name_en="Cedar Care", township_code="anhai",
                             nature=Nature.PRIVATE, classes=(older, mixed)),
        "pine": institution("永安松树托育", name_en="Pine Care", township_code="yannan",
                            nature=Nature.INCLUSIVE, classes=(toddler,)),
        "draft": institution(UNFILED_NAMES[0], status=Status.DRAFT, township_code="qingyang",
                             nature=Nature.INCLUSIVE, classes=(older,)),
        "waiting_long": institution(
            UNFILED_NAMES[1], name_en="Long Wait Care", status=Status.UNDER_REVIEW,
            township_code="anhai", classes=(older,),
            submitted_at=submitted_days_ago(today, 14),
        ),
        "returned": institution(UNFILED_NAMES[2], status=Status.RETURNED,
                                township_code="qingyang", classes=(older,)),
        "rejected": institution(UNFILED_NAMES[3], status=Status.REJECTED,
                                township_code="xibin", classes=(older,)),
        "deregistered": institution(UNFILED_NAMES[4], status=Status.DEREGISTERED,
                                    township_code="xibin", classes=(older,)),
        "waiting_short": institution(
            UNFILED_NAMES[5], name_en="Short Wait Care", status=Status.UNDER_REVIEW,
            township_code="qingyang", classes=(toddler,),
            submitted_at=submitted_days_ago(today, 7),
        ),
        "waiting_yongan": institution(
            "永安审核中托育", status=Status.UNDER_REVIEW, township_code="yannan",
            classes=(toddler,), submitted_at=submitted_days_ago(today, 28),
        ),
    }  # fmt: skip


#: Days from today of the hourly slots that count, and of the ones too old or in the future.
#: The services are tested on the edges of the window; the pages, which read the clock, a
#: day inside them, so that a day boundary between the test and the page moves nothing.
EDGES = {"first": -29, "last": 0, "too_old": -30, "future": 1}
INSIDE = {"first": -28, "last": -1, "too_old": -31, "future": 2}


def build_slots(app, ids: dict[str, int], today: date, days: dict[str, int]) -> None:
    """Slots around the 30 days up to ``today``; only some count in the fill rate."""
    day = lambda offset: today + timedelta(days=offset)  # noqa: E731
    acorn, cedar = ids["acorn"], ids["cedar"]
    add_slot(app, acorn, CareType.HOURLY, day(days["last"]), taken=2, capacity=5)  # counts
    add_slot(app, acorn, CareType.HOURLY, day(days["first"]), taken=3, capacity=4)  # counts
    add_slot(app, acorn, CareType.HOURLY, day(days["too_old"]), taken=4, capacity=4)
    add_slot(app, acorn, CareType.HOURLY, day(days["future"]), taken=1, capacity=6)
    add_slot(app, acorn, CareType.HOURLY, day(-5), 2, 5, status=SlotStatus.CANCELLED)
    add_slot(app, acorn, CareType.TEMPORARY, day(3), taken=1, capacity=5)  # future
    add_slot(app, cedar, CareType.FULL_DAY, day(-10), taken=6, capacity=20)  # counts
    add_slot(app, cedar, CareType.HALF_DAY, day(-3), 2, 10, status=SlotStatus.CANCELLED)
    add_slot(app, ids["pine"], CareType.HOURLY, day(-1), taken=3, capacity=3)  # Yong'an


def build_families(app, user, provider_user: int, now: datetime) -> dict[str, int]:
    """Four families with a child, one of them reached by a course in the last 12 months."""
    families = {
        "reached": user(Role.PARENT, email=FAMILY_EMAIL),
        "long_ago": user(Role.PARENT),
        "not_attended": user(Role.PARENT),
        "two_children": user(Role.PARENT),
        "childless": user(Role.PARENT),
    }
    add_children(app, families["reached"], CHILD_NAME)
    add_children(app, families["long_ago"], "李小红")
    add_children(app, families["not_attended"], "王小刚")
    add_children(app, families["two_children"], "陈大宝", "陈二宝")
    recent = add_course_session(app, provider_user, now - timedelta(days=10))
    earlier = add_course_session(app, provider_user, now - timedelta(days=20))
    old = add_course_session(app, provider_user, now - timedelta(days=400))
    last_week = add_course_session(app, provider_user, now - timedelta(days=5))
    register_for(app, families["reached"], recent, RegistrationStatus.ATTENDED)
    register_for(app, families["reached"], earlier, RegistrationStatus.ATTENDED)  # same family
    register_for(app, families["long_ago"], old, RegistrationStatus.ATTENDED)  # 400 days ago
    register_for(app, families["not_attended"], last_week, RegistrationStatus.REGISTERED)
    register_for(app, families["two_children"], last_week, RegistrationStatus.NO_SHOW)
    register_for(app, families["childless"], last_week, RegistrationStatus.CANCELLED)
    return families


@pytest.fixture
def register(app, township, institution, user, provider_user):
    """Factory: the whole register, dated around ``today`` and local ``now``; returns ids."""

    def make(today: date, now: datetime, days: dict[str, int]) -> dict[str, int]:
        ids = build_townships(app, township)
        ids |= build_institutions(institution, today)
        build_slots(app, ids, today, days)
        ids |= build_families(app, user, provider_user, now)
        return ids

    return make


@pytest.fixture
def fixed_register(register):
    """The register around the fixed Wednesday ``TODAY``."""
    return register(TODAY, NOW, EDGES)


@pytest.fixture
def live_register(register):
    """The register around the real today, for the pages (which read the clock)."""
    return register(clock.today(), clock.local_now(), INSIDE)


def jinjiang() -> Region:
    """The region Jinjiang, loaded in the current session."""
    return db.session.scalar(sa.select(Region).filter_by(code="jinjiang"))


# --- reading responses ---------------------------------------------------------------------


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


def plain(html: str) -> str:
    """``html`` without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def table_rows(response, heading_id: str) -> list[list[str]]:
    """The body rows of the table in the section labelled ``heading_id``, as cell texts."""
    html = page_text(response)
    section = re.search(rf'aria-labelledby="{heading_id}">(.*?)</section>', html, re.DOTALL)
    assert section, f"no section {heading_id}"
    body = re.search(r"<tbody>(.*?)</tbody>", section[1], re.DOTALL)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [[plain(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
            for row in rows]  # fmt: skip


@pytest.fixture
def regulator(client, auth, user):
    """A client signed in as the county health bureau, reading English."""
    auth.login(user(Role.REGULATOR, display_name="晋江市卫健局"))
    client.set_cookie("lang", "en")
    return client


# --- township figures ----------------------------------------------------------------------


def test_township_figures_count_filed_institutions_and_their_class_places_only(app, fixed_register):
    with app.app_context():
        rows = statistics.township_figures(jinjiang())
        found = [
            (
                row.township.code,
                row.filed_institutions,
                row.places,
                row.population,
                row.places_per_1000,
                row.meets_places_target,
                row.min_institutions,
                row.meets_minimum,
                row.covered,
            )
            for row in rows
        ]

    assert found == [
        # Acorn 10 + 15 = 25 and Bamboo 0; 25 * 1000 / 20,000 = 1.25 < 4.5; 2 >= minimum 2.
        ("qingyang", 2, 25, 20_000, Decimal("1.25"), False, 2, True, True),
        # Cedar 20 + 17 = 37; 37 * 1000 / 8,000 = 4.625, half up 4.63 >= 4.6; 1 < minimum 2.
        ("anhai", 1, 37, 8_000, Decimal("4.63"), True, 2, False, True),
        # No resident figure: no rate and no verdict; 0 < minimum 1, not covered.
        ("xibin", 0, 0, 0, None, None, 1, False, False),
    ]


def test_places_per_1000_is_rounded_half_up_to_two_decimals(app, township):
    township_id = set_township(app, township, "qingyang", TownshipKind.SUBDISTRICT)
    with app.app_context():
        found = db.session.get(Township, township_id)
        found.population = 8_000
        row = statistics.TownshipFigures(found, filed_institutions=1, places=37)
        # 37 * 1000 / 8,000 = 4.625: half up gives 4.63 (banker's rounding would give 4.62).
        assert row.places_per_1000 == Decimal("4.63")
        found.population = 3_000
        row = statistics.TownshipFigures(found, filed_institutions=1, places=10)
        # 10 * 1000 / 3,000 = 3.3333...: 3.33.
        assert row.places_per_1000 == Decimal("3.33")


def test_township_figures_without_a_region_cover_every_region_in_official_order(
    app, fixed_register
):
    with app.app_context():
        rows = statistics.township_figures()
        found = [(row.township.code, row.filed_institutions, row.places) for row in rows]

    # Yannan: Pine's toddler class of 15; Yong'an's application under review does not count.
    assert found == [("qingyang", 2, 25), ("anhai", 1, 37), ("xibin", 0, 0), ("yannan", 1, 15)]


# --- region figures ------------------------------------------------------------------------


def test_region_shares_are_counted_against_their_targets(app, fixed_register):
    with app.app_context():
        figures = statistics.region_figures(jinjiang(), TODAY, NOW)
        covered, applied, inclusive = (
            figures.covered_townships,
            figures.applied_share,
            figures.inclusive_places,
        )

        # Qingyang and Anhai of 3 townships: 2 / 3 = 0.6667 < 0.8.
        assert (covered.part, covered.whole, covered.share) == (2, 3, Decimal("0.6667"))
        assert covered.target == Decimal("0.8")
        assert covered.meets_target is False
        # The applied share is over the registration authorities' list (002 (四)), not over
        # the applications received here: without a list there is no figure.
        assert (applied.part, applied.whole, applied.share) == (0, 0, None)
        assert applied.target == Decimal("0.7")
        assert applied.meets_target is None
        # Region-wide: 62 places for 28,000 residents = 2.2142… → 2.21, against 4.5.
        assert figures.totals.places_per_1000 == Decimal("2.21")
        assert figures.totals.meets_places_target is False
        # Inclusive places: Acorn's 25 of 25 + 0 + 37 = 62 filed places; 25 / 62 = 0.4032.
        assert (inclusive.part, inclusive.whole, inclusive.share) == (25, 62, Decimal("0.4032"))
        assert inclusive.meets_target is None
        assert (figures.filed_institutions, figures.places) == (3, 62)


def test_applied_count_counts_the_applications_received_here(app, fixed_register):
    with app.app_context():
        # Applied in Jinjiang: 3 filed + 2 under review + 1 returned + 1 rejected = 7.
        assert statistics.applied_count(jinjiang()) == 7


def test_waiting_applications_count_working_days_and_those_over_the_limit(app, fixed_register):
    with app.app_context():
        waiting = statistics.waiting_applications(jinjiang(), TODAY)

    # Submitted 14 days ago: two whole weeks, 10 working days > 5, overdue. Submitted 7 days
    # ago: one whole week, 5 working days, within the limit. Yong'an's application is not
    # Jinjiang's.
    assert (waiting.count, waiting.oldest_working_days, waiting.overdue) == (2, 10, 1)
    assert waiting.limit == 5


def test_fill_rate_counts_the_slots_of_the_last_30_days_per_care_type(app, fixed_register):
    with app.app_context():
        rates = statistics.fill_rates(jinjiang(), TODAY)

    assert [(rate.care_type, rate.taken, rate.offered, rate.share) for rate in rates] == [
        # Cedar's slot 10 days ago: 6 of 20 = 0.3.
        (CareType.FULL_DAY, 6, 20, Decimal("0.3")),
        # Only a cancelled slot: nothing offered, no rate.
        (CareType.HALF_DAY, 0, 0, None),
        # Today 2 of 5 and 29 days ago 3 of 4: 5 / 9 = 0.5556. Not the slot 30 days ago,
        # tomorrow's, the cancelled one, nor Yong'an's.
        (CareType.HOURLY, 5, 9, Decimal("0.5556")),
        # Only a future slot.
        (CareType.TEMPORARY, 0, 0, None),
    ]


def test_families_reached_count_each_family_with_an_attended_course_once(app, fixed_register):
    with app.app_context():
        reached = statistics.families_reached(NOW)

    # Reached: the family that attended 10 and 20 days ago, once. Not: attended 400 days ago,
    # registered but not attended, no-show. Families known: the 4 with a child (the one with
    # two children once) and the reached one among them; the childless one not. 1 / 4 = 0.25.
    assert (reached.part, reached.whole, reached.share) == (1, 4, Decimal("0.25"))


def test_family_reached_by_a_course_one_hour_ago_is_counted_on_the_dashboard(
    app, regulator, user, provider_user
):
    """The dashboard passes the current time to the families figure in the sessions' frame.

    Sessions start at local (Beijing) times; a course that started an hour ago is within
    the last 12 months whatever time of day it is.
    """
    parent_id = user(Role.PARENT)
    add_children(app, parent_id, CHILD_NAME)
    session_id = add_course_session(app, provider_user, clock.local_now() - timedelta(hours=1))
    register_for(app, parent_id, session_id, RegistrationStatus.ATTENDED)
    with app.app_context():
        db.session.add(Region(code="jinjiang", name="晋江市", name_en="Jinjiang"))
        db.session.commit()

    rows = read_csv(regulator.get("/regulator/dashboard/indicators.csv"))

    # 1 family reached; no families with children under 3 entered for the area: no share.
    assert rows[4][:4] == ["Families with children under 3 reached by guidance", "1", "0", ""]


def test_sorting_townships_by_a_column_and_back(app, fixed_register):
    with app.app_context():
        rows = statistics.township_figures(jinjiang())
        order = lambda sort, descending: [  # noqa: E731
            row.township.code for row in statistics.sorted_townships(rows, sort, descending)
        ]

        assert order("places", True) == ["anhai", "qingyang", "xibin"]  # 37, 25, 0
        assert order("places", False) == ["xibin", "qingyang", "anhai"]
        assert order("per_1000", True) == ["anhai", "qingyang", "xibin"]  # 4.63, 1.25, none
        assert order("population", False) == ["xibin", "anhai", "qingyang"]
        assert order("unknown", False) == ["qingyang", "anhai", "xibin"]
        assert statistics.shared_target(rows) is None  # 4.5, 4.6, 4.5
        assert statistics.shared_target([rows[0], rows[2]]) == Decimal("4.5")


# --- the API -------------------------------------------------------------------------------


#: 62 places for 28,000 residents: 2.2142… → 2.21; 2 of 3 townships covered.
JINJIANG_REGION = {
    "code": "jinjiang",
    "name": "晋江市",
    "places": 62,
    "population": 28000,
    "places_per_1000": 2.21,
    "target_places_per_1000": 4.5,
    "covered_share": 0.6667,
    "target_covered_share": 0.8,
}

JINJIANG_ITEMS = [
    {
        "code": "qingyang",
        "name": "qingyang街道",
        "filed_institutions": 2,
        "places": 25,
        "population": 20000,
        "places_per_1000": 1.25,
        "target_places_per_1000": 4.5,
    },
    {
        "code": "anhai",
        "name": "anhai街道",
        "filed_institutions": 1,
        "places": 37,
        "population": 8000,
        "places_per_1000": 4.63,
        "target_places_per_1000": 4.6,
    },
    {
        "code": "xibin",
        "name": "xibin街道",
        "filed_institutions": 0,
        "places": 0,
        "population": 0,
        "places_per_1000": None,
        "target_places_per_1000": 4.5,
    },
]


def api(client, **query):
    """GET the township statistics of the API with ``query``."""
    return client.get("/api/v1/statistics/townships", query_string=query)


def test_api_lists_the_hand_computed_figures_of_each_township(client, fixed_register):
    response = api(client, region="jinjiang")

    assert response.status_code == 200
    assert response.json == {
        "items": JINJIANG_ITEMS,
        "total": 3,
        "page": 1,
        "per_page": 20,
        "region": JINJIANG_REGION,
    }


def test_api_names_follow_the_language(client, fixed_register):
    response = api(client, region="jinjiang", lang="en")

    assert [item["name"] for item in response.json["items"]] == [
        "Qingyang Sub-district",
        "Anhai Town",
        "Xibin Town",
    ]


def test_api_pages_through_every_region_without_a_region(client, fixed_register):
    first = api(client, per_page=2)
    second = api(client, per_page=2, page=2)

    assert first.status_code == second.status_code == 200
    assert {key: first.json[key] for key in ("total", "page", "per_page")} == {
        "total": 4,
        "page": 1,
        "per_page": 2,
    }
    assert [item["code"] for item in first.json["items"]] == ["qingyang", "anhai"]
    assert second.json["page"] == 2
    assert [(item["code"], item["places"]) for item in second.json["items"]] == [
        ("xibin", 0),
        ("yannan", 15),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"region": "unknown"}, "There is no region with this code."),
        ({"per_page": "0"}, "Please enter a number from 1 to 100."),
        ({"page": "x"}, "Please enter a whole number."),
    ],
)
def test_api_refuses_a_bad_parameter_with_the_error_shape(client, fixed_register, query, message):
    response = api(client, lang="en", **query)

    assert response.status_code == 400
    assert response.json == {"error": {"code": "invalid_parameter", "message": message}}


def add_unfiled_everywhere(institution) -> None:
    """An institution in every unfiled state, with a full class, in every township."""
    for code in ("qingyang", "anhai", "xibin"):
        for status in (
            Status.DRAFT,
            Status.UNDER_REVIEW,
            Status.RETURNED,
            Status.REJECTED,
            Status.DEREGISTERED,
        ):
            institution(
                f"{code}-{status}",
                status=status,
                township_code=code,
                nature=Nature.INCLUSIVE,
                classes=((ClassKind.OLDER_TODDLER, 20, 3),),
            )


def test_unfiled_institutions_change_no_figure_of_the_api(client, institution, fixed_register):
    before = api(client, region="jinjiang").json

    add_unfiled_everywhere(institution)

    after = api(client, region="jinjiang").json
    assert after == before
    assert after["items"] == JINJIANG_ITEMS


def test_api_holds_no_personal_data_and_no_institution(client, fixed_register):
    body = api(client, lang="en").get_data(as_text=True)

    assert "@" not in body
    assert CHILD_NAME not in body
    for name in (*UNFILED_NAMES, "橡果托育", "Acorn Care", "Cedar Care"):
        assert name not in body


# --- the public page -----------------------------------------------------------------------


def township_table(response) -> list[list[str]]:
    """The rows of the township table: name, filed, places, residents, per 1,000, target."""
    return table_rows(response, "townships-heading")


def test_public_page_shows_the_figures_and_marks_a_missed_target_in_words(client, fixed_register):
    response = client.get("/statistics", query_string={"lang": "en"})

    assert response.status_code == 200
    assert township_table(response) == [
        ["Qingyang Sub-district", "2", "25", "20,000 (2025-01-01)", "1.25", "4.5 Missed"],
        ["Anhai Town", "1", "37", "8,000 (2025-01-01)", "4.63", "4.6 Met"],
        ["Xibin Town No filed institution", "0", "0", "0", "no figure", "4.5"],
    ]
    text = plain(page_text(response))
    assert "2 townships have at least one filed institution" in text
    assert "3 townships in all" in text
    assert "Yannan" not in text


def test_public_page_sorts_by_places_descending_and_says_so(client, fixed_register):
    response = client.get(
        "/statistics", query_string={"lang": "en", "sort": "places", "order": "desc"}
    )

    assert [row[0] for row in township_table(response)] == [
        "Anhai Town",
        "Qingyang Sub-district",
        "Xibin Town No filed institution",
    ]
    heads = re.findall(r'<th scope="col"([^>]*)>\s*<a[^>]*>([^<]+)', page_text(response))
    assert [(attrs, name.strip()) for attrs, name in heads if "aria-sort" in attrs] == [
        (' aria-sort="descending"', "Places")
    ]


def test_public_page_sorts_ascending_and_ignores_an_unknown_column(client, fixed_register):
    ascending = client.get("/statistics", query_string={"lang": "en", "sort": "places"})
    unknown = client.get("/statistics", query_string={"lang": "en", "sort": "owner"})

    assert [row[2] for row in township_table(ascending)] == ["0", "25", "37"]
    assert 'aria-sort="ascending"' in page_text(ascending)
    assert unknown.status_code == 200
    assert [row[2] for row in township_table(unknown)] == ["25", "37", "0"]


def test_public_page_of_another_region_shows_its_townships_only(client, fixed_register):
    response = client.get("/statistics", query_string={"lang": "en", "region": "yongan"})

    assert township_table(response) == [
        ["Yannan Sub-district", "1", "15", "10,000", "1.50", "4.5 Missed"],  # 15000/10000
    ]


def test_public_page_holds_no_personal_data_and_no_unfiled_institution(
    client, institution, fixed_register
):
    before = township_table(client.get("/statistics", query_string={"lang": "en"}))
    add_unfiled_everywhere(institution)
    response = client.get("/statistics", query_string={"lang": "en"})
    text = page_text(response)

    assert township_table(response) == before
    assert FAMILY_EMAIL not in text
    assert CHILD_NAME not in text
    for name in UNFILED_NAMES:
        assert name not in text


def test_public_page_without_any_region_is_not_found(client):
    assert client.get("/statistics").status_code == 404


# --- the dashboard -------------------------------------------------------------------------


def test_dashboard_shows_the_region_figures_against_their_targets(regulator, live_register):
    response = regulator.get("/regulator/dashboard")

    assert response.status_code == 200
    assert table_rows(response, "indicators-heading") == [
        [
            "Places per 1,000 residents, region-wide",
            "2.21 (62 places for 28,000 residents)",
            "4.5 Missed",
        ],
        ["Townships with a filed institution", "66.7% (2 of 3)", "at least 80.0% Missed"],
        [
            "Registered operators that applied for filing",
            "no figure (0 of 0 on the registration authorities' list)"
            " Import the list and see who has not applied",
            "at least 70.0%",
        ],
        [
            "Places in inclusive (普惠) institutions",
            "40.3% (25 of 62 places)",
            "no target set",
        ],
        [
            "Applications waiting",
            "2 (longest wait 10 working days)",
            "answer within 5 working days 1 over the limit",
        ],
        [
            "Families with children under 3 reached by guidance",
            "no figure (1 families reached by a course in the last 12 months, of 0 families"
            " with children under 3 in the area)",
            "no target set",
        ],
        [
            "Newborn families reached by guidance",
            "no figure (0 of 0 newborn families in the area)",
            "at least 50.0%",
        ],
        [
            "Certified staff of filed institutions",
            "no figure (0 of 0 staff, as the institutions declare)",
            "no target set",
        ],
    ]


def test_dashboard_lists_townships_fill_rates_and_the_waiting_applications(
    regulator, live_register
):
    response = regulator.get("/regulator/dashboard")

    assert table_rows(response, "townships-heading") == [
        ["Qingyang Sub-district", "2", "2 Met", "25", "20,000 (2025-01-01)", "1.25", "4.5 Missed"],
        ["Anhai Town", "1", "2 Missed", "37", "8,000 (2025-01-01)", "4.63", "4.6 Met"],
        ["Xibin Town No filed institution", "0", "1 Missed", "0", "0", "no figure", "4.5"],
    ]
    assert table_rows(response, "fill-heading") == [
        ["Full-day care", "6", "20", "30.0%"],
        ["Half-day care", "0", "0", "no figure"],
        ["Hourly care", "5", "9", "55.6%"],
        ["Temporary care", "0", "0", "no figure"],
    ]
    today = clock.today()
    due = [add_working_days(today - timedelta(days=days), 5).isoformat() for days in (14, 7)]
    assert table_rows(response, "waiting-heading") == [
        ["Long Wait Care", "Anhai Town", "10 working days Over the limit", due[0]],
        ["Short Wait Care", "Qingyang Sub-district", "5 working days", due[1]],
    ]
    assert 'href="/regulator/townships/anhai"' in page_text(response)


def township_cards(response) -> list[tuple[str, list[tuple[str, str]], str]]:
    """The phone's township cards: name, the key figures (term, value) in order, the rest."""
    html = page_text(response)
    cards = re.findall(r'<li class="card">\s*<h3>(.*?)</h3>(.*?)</li>', html, re.DOTALL)
    return [
        (
            plain(name),
            [(plain(t), plain(d)) for t, d in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", body)],
            plain(re.search(r'<p class="hint">(.*?)</p>', body, re.DOTALL)[1]),
        )
        for name, body in cards
    ]


def test_dashboard_leads_each_township_with_the_figures_a_phone_can_show(regulator, live_register):
    response = regulator.get("/regulator/dashboard")

    key = [(name, figures) for name, figures, _rest in township_cards(response)]
    assert key == [
        (
            "Qingyang Sub-district",
            [("Places per 1,000", "1.25"), ("Target", "4.5"), ("Target met?", "Missed")],
        ),
        ("Anhai Town", [("Places per 1,000", "4.63"), ("Target", "4.6"), ("Target met?", "Met")]),
        (
            "Xibin Town",
            [("Places per 1,000", "no figure"), ("Target", "4.5"), ("Target met?", "no figure")],
        ),
    ]
    rest = [rest for _name, _figures, rest in township_cards(response)]
    assert rest[0] == "2 filed institutions · 25 places · 20,000 residents · minimum 2 Met"
    assert rest[2].endswith("No filed institution")


def test_places_chart_names_its_unit_above_the_bars(regulator, live_register):
    html = page_text(regulator.get("/regulator/dashboard"))

    chart = re.search(r'<figure class="chart">(.*?)</figure>', html, re.DOTALL)[1]
    unit = chart.index("Places per 1,000 residents</text>")
    assert unit < chart.index("<rect")
    assert unit < chart.index("<figcaption")


def test_dashboard_sorts_the_townships_like_the_public_page(regulator, live_register):
    response = regulator.get(
        "/regulator/dashboard", query_string={"sort": "minimum", "order": "asc"}
    )

    # Minimum missed first, by how far: Xibin 0 - 1 = -1 and Anhai 1 - 2 = -1, then Qingyang.
    assert [row[0] for row in table_rows(response, "townships-heading")] == [
        "Anhai Town",
        "Xibin Town No filed institution",
        "Qingyang Sub-district",
    ]


def test_dashboard_of_another_region_has_its_own_figures(regulator, live_register):
    response = regulator.get("/regulator/dashboard", query_string={"region": "yongan"})

    rows = table_rows(response, "indicators-heading")
    assert rows[1][1] == "100.0% (1 of 1)"
    assert rows[3][1] == "100.0% (15 of 15 places)"
    # Submitted 28 days ago: four whole weeks, 20 working days.
    assert rows[4][1] == "1 (longest wait 20 working days)"


def test_township_csv_holds_the_hand_computed_rows(regulator, live_register):
    rows = read_csv(regulator.get("/regulator/dashboard/townships.csv"))

    assert rows == [
        [
            "Code", "Township", "Filed institutions", "Minimum filed institutions", "Minimum met",
            "Places", "Residents", "Figure dated", "Places per 1,000 residents",
            "Target places per 1,000 residents", "Target met", "Covered",
        ],
        ["qingyang", "Qingyang Sub-district", "2", "2", "met", "25", "20000", "2025-01-01",
         "1.25", "4.5", "missed", "yes"],
        ["anhai", "Anhai Town", "1", "2", "missed", "37", "8000", "2025-01-01",
         "4.63", "4.6", "met", "yes"],
        ["xibin", "Xibin Town", "0", "1", "missed", "0", "0", "", "", "4.5", "", "no"],
    ]  # fmt: skip


def test_indicator_csv_holds_the_hand_computed_shares(regulator, live_register):
    rows = read_csv(regulator.get("/regulator/dashboard/indicators.csv"))

    assert rows == [
        ["Indicator", "Count", "Out of", "Share (%)", "Target (%)", "Target met"],
        ["Townships with a filed institution", "2", "3", "66.7", "80.0", "missed"],
        ["Registered operators that applied for filing", "0", "0", "", "70.0", ""],
        ["Places in inclusive (普惠) institutions", "25", "62", "40.3", "", ""],
        ["Families with children under 3 reached by guidance", "1", "0", "", "", ""],
        ["Newborn families reached by guidance", "0", "0", "", "50.0", ""],
        ["Certified staff of filed institutions", "0", "0", "", "", ""],
    ]


def test_fill_rate_csv_holds_the_hand_computed_rates(regulator, live_register):
    rows = read_csv(regulator.get("/regulator/dashboard/fill-rates.csv"))

    assert rows == [
        ["Care type", "Places taken", "Places offered", "Fill rate (%)"],
        ["Full-day care", "6", "20", "30.0"],
        ["Half-day care", "0", "0", ""],
        ["Hourly care", "5", "9", "55.6"],
        ["Temporary care", "0", "0", ""],
    ]


def test_waiting_csv_lists_the_regions_applications_oldest_first(regulator, live_register):
    rows = read_csv(regulator.get("/regulator/dashboard/waiting.csv"))
    today = clock.today()

    long_ago, short_ago = today - timedelta(days=14), today - timedelta(days=7)
    assert rows == [
        [
            "Institution",
            "Township",
            "Submitted",
            "Working days waiting",
            "Within the limit",
            "Answer due",
        ],
        [
            "Long Wait Care",
            "Anhai Town",
            long_ago.isoformat(),
            "10",
            "missed",
            add_working_days(long_ago, 5).isoformat(),
        ],
        [
            "Short Wait Care",
            "Qingyang Sub-district",
            short_ago.isoformat(),
            "5",
            "met",
            add_working_days(short_ago, 5).isoformat(),
        ],
    ]


def test_csv_is_named_after_region_table_and_day(regulator, live_register):
    response = regulator.get(
        "/regulator/dashboard/townships.csv", query_string={"region": "yongan"}
    )

    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=yongan-townships-{clock.today().isoformat()}.csv"
    )
    assert [row[0] for row in read_csv(response)[1:]] == ["yannan"]


def test_unknown_dashboard_table_is_not_found(regulator, live_register):
    assert regulator.get("/regulator/dashboard/people.csv").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/regulator/dashboard",
        "/regulator/dashboard/townships.csv",
        "/regulator/townships/qingyang",
        "/regulator/regions/jinjiang",
    ],
)
@pytest.mark.parametrize("role", [Role.PARENT, Role.INSTITUTION, Role.PROVIDER])
def test_only_the_regulator_opens_the_dashboard_and_its_settings(
    client, auth, user, township, path, role
):
    township("qingyang")
    auth.login(user(role))

    assert client.get(path).status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in_from_the_dashboard(client, township):
    township("qingyang")
    response = client.get("/regulator/dashboard/townships.csv")

    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert "dashboard" in response.location


# --- the settings behind the figures -------------------------------------------------------


def stored_township(app, code: str) -> tuple:
    """A township's population, date of the figure, minimum and target."""
    with app.app_context():
        found = db.session.scalar(sa.select(Township).filter_by(code=code))
        return (
            found.population,
            found.population_as_of,
            found.min_institutions,
            found.target_places_per_1000,
        )


TOWNSHIP_FORM = {
    "population": "21000",
    "population_as_of": "2025-07-01",
    "min_institutions": "3",
    "target_places_per_1000": "4.0",
}


def field_error(response, field_id: str) -> str | None:
    """The error message shown with the form field ``field_id``, if any."""
    found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page_text(response))
    return found[1] if found else None


def input_value(response, field_id: str) -> str | None:
    """The value the ``<input>`` with ``field_id`` is filled with."""
    found = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page_text(response))
    value = re.search(r'\bvalue="([^"]*)"', found[0]) if found else None
    return value[1] if value else None


def test_township_form_shows_the_current_figures(regulator, live_register):
    response = regulator.get("/regulator/townships/anhai")

    assert response.status_code == 200
    assert input_value(response, "population") == "8000"
    assert input_value(response, "population_as_of") == "2025-01-01"
    assert input_value(response, "min_institutions") == "2"
    assert input_value(response, "target_places_per_1000") == "4.6"


def test_township_form_saves_the_figures_and_the_dashboard_uses_them(app, regulator, live_register):
    response = regulator.post("/regulator/townships/qingyang", data=TOWNSHIP_FORM)

    assert response.status_code == 302
    assert response.location == "/regulator/dashboard?region=jinjiang"
    assert stored_township(app, "qingyang") == (21_000, date(2025, 7, 1), 3, Decimal("4.0"))
    rows = read_csv(regulator.get("/regulator/dashboard/townships.csv"))
    # 25 * 1000 / 21,000 = 1.1905 -> 1.19 < 4.0; 2 filed < new minimum 3.
    assert rows[1] == ["qingyang", "Qingyang Sub-district", "2", "3", "missed", "25", "21000",
                       "2025-07-01", "1.19", "4.0", "missed", "yes"]  # fmt: skip


RESIDENTS_MESSAGE = "Please enter the number of residents, a whole number from 0 to 10,000,000."
TARGET_MESSAGE = "Please enter the target, a number from 0 to 99, for example 4.5."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("population", "-1", RESIDENTS_MESSAGE),
        ("population", "many", RESIDENTS_MESSAGE),
        ("population", "", RESIDENTS_MESSAGE),
        ("population_as_of", "2025-13-01", "Please enter the date of the figure."),
        ("population_as_of", "", "Please enter the date of the figure."),
        ("min_institutions", "100", "Please enter the minimum, a whole number from 0 to 99."),
        ("min_institutions", "", "Please enter the minimum, a whole number from 0 to 99."),
        ("target_places_per_1000", "-0.5", TARGET_MESSAGE),
        ("target_places_per_1000", "four", TARGET_MESSAGE),
        ("target_places_per_1000", "", TARGET_MESSAGE),
    ],
)
def test_township_form_refuses_bad_input_next_to_the_field_and_saves_nothing(
    app, regulator, live_register, field, value, message
):
    """One translated message per field, whatever the mistake (as the providers' forms do)."""
    before = stored_township(app, "qingyang")

    response = regulator.post("/regulator/townships/qingyang", data=TOWNSHIP_FORM | {field: value})

    assert response.status_code == 400
    assert field_error(response, field) == message
    typed = TOWNSHIP_FORM | {field: value}
    assert {name: input_value(response, name) for name in TOWNSHIP_FORM} == typed
    assert stored_township(app, "qingyang") == before


def test_unknown_township_or_region_form_is_not_found(regulator, live_register):
    assert regulator.get("/regulator/townships/nowhere").status_code == 404
    assert regulator.get("/regulator/regions/nowhere").status_code == 404


# --- queries -------------------------------------------------------------------------------


def grow_register(app, township, institution, count: int) -> None:
    """``count`` more townships, each with filed and unfiled institutions and slots."""
    today = clock.today()
    for number in range(count):
        code = f"extra{number}"
        set_township(app, township, code, TownshipKind.TOWN, position=10 + number,
                     population=5_000 + number)  # fmt: skip
        filed = institution(f"新增托育{number}", township_code=code,
                            classes=((ClassKind.TODDLER, 15, 3),))  # fmt: skip
        institution(f"新增审核{number}", status=Status.UNDER_REVIEW, township_code=code,
                    submitted_at=submitted_days_ago(today, number + 1))  # fmt: skip
        add_slot(app, filed, CareType.HOURLY, today - timedelta(days=1), taken=1, capacity=3)


def queries_for(client, count_queries, path: str) -> int:
    """How many SQL statements a GET of ``path`` runs."""
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


QUERY_PATHS = [
    "/regulator/dashboard",
    "/regulator/dashboard/townships.csv",
    "/regulator/dashboard/indicators.csv",
    "/regulator/dashboard/fill-rates.csv",
    "/regulator/dashboard/waiting.csv",
    "/statistics",
    "/statistics?sort=places&order=desc",
    "/api/v1/statistics/townships?region=jinjiang&per_page=100",
]


def test_figures_cost_the_same_queries_however_large_the_register(
    app, regulator, count_queries, township, institution, live_register
):
    few = {path: queries_for(regulator, count_queries, path) for path in QUERY_PATHS}

    grow_register(app, township, institution, 12)
    many = {path: queries_for(regulator, count_queries, path) for path in QUERY_PATHS}

    assert many == few
    assert max(few.values()) <= 20
