"""Class caps and carer ratios, offer ages and filing numbers, in the database and forms."""

from datetime import date, time

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from sqlalchemy.exc import IntegrityError

from careapp.config import PROJECT_ROOT
from careapp.extensions import db
from careapp.institutions.forms import CareClassForm
from careapp.models import (
    CLASS_STANDARDS,
    Authority,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    Institution,
    Nature,
    Status,
)

ZH_CATALOG = PROJECT_ROOT / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
CAP_MESSAGE = "A class of this type may have at most %(count)d children."
RATIO_MESSAGE = (
    "With %(carers)d carers this class may have at most %(count)d children"
    " (one carer for every %(ratio)d children)."
)
LOCAL_RATIO_MESSAGE = (
    "With %(carers)d carers this class may have at most %(count)d children (one carer"
    " for every %(ratio)d children, a local rule of the region)."
)

#: 托育机构设置标准（试行） as the domain brief states it:
#: kind → (youngest months, months from which too old, max children, children per carer).
NATIONAL_STANDARDS = {
    ClassKind.INFANT: (6, 12, 10, 3),
    ClassKind.TODDLER: (12, 24, 15, 5),
    ClassKind.OLDER_TODDLER: (24, 36, 20, 7),
    ClassKind.MIXED: (18, 36, 18, 5),
    ClassKind.HOME_GROUP: (6, 36, 5, 3),
}

#: For every kind: at the cap, one above the cap (ratio respected), at the ratio, one above it.
CLASS_CASES = [
    pytest.param(ClassKind.INFANT, 10, 4, None, id="infant-at-cap"),
    pytest.param(ClassKind.INFANT, 11, 4, "cap", id="infant-above-cap"),
    pytest.param(ClassKind.INFANT, 6, 2, None, id="infant-at-ratio"),
    pytest.param(ClassKind.INFANT, 7, 2, "ratio", id="infant-above-ratio"),
    pytest.param(ClassKind.TODDLER, 15, 3, None, id="toddler-at-cap"),
    pytest.param(ClassKind.TODDLER, 16, 4, "cap", id="toddler-above-cap"),
    pytest.param(ClassKind.TODDLER, 10, 2, None, id="toddler-at-ratio"),
    pytest.param(ClassKind.TODDLER, 11, 2, "ratio", id="toddler-above-ratio"),
    pytest.param(ClassKind.OLDER_TODDLER, 20, 3, None, id="older-toddler-at-cap"),
    pytest.param(ClassKind.OLDER_TODDLER, 21, 4, "cap", id="older-toddler-above-cap"),
    pytest.param(ClassKind.OLDER_TODDLER, 14, 2, None, id="older-toddler-at-ratio"),
    pytest.param(ClassKind.OLDER_TODDLER, 15, 2, "ratio", id="older-toddler-above-ratio"),
    pytest.param(ClassKind.MIXED, 18, 4, None, id="mixed-at-cap"),
    pytest.param(ClassKind.MIXED, 19, 4, "cap", id="mixed-above-cap"),
    pytest.param(ClassKind.MIXED, 10, 2, None, id="mixed-at-ratio"),
    pytest.param(ClassKind.MIXED, 11, 2, "ratio", id="mixed-above-ratio"),
    pytest.param(ClassKind.HOME_GROUP, 5, 2, None, id="home-group-at-cap"),
    pytest.param(ClassKind.HOME_GROUP, 6, 2, "cap", id="home-group-above-cap"),
    pytest.param(ClassKind.HOME_GROUP, 3, 1, None, id="home-group-at-ratio"),
    pytest.param(ClassKind.HOME_GROUP, 4, 1, "ratio", id="home-group-above-ratio"),
]

ACCEPTED_CLASSES = [case for case in CLASS_CASES if case.values[3] is None]
REFUSED_CLASSES = [case for case in CLASS_CASES if case.values[3] is not None]
#: The mixed-age class's ratio is a regional setting, not the national standard's: the
#: database holds the cap, the services the region's ratio (tests/test_policy_rules.py).
LOCAL_RATIO_CASES = [
    c for c in REFUSED_CLASSES if c.values[0] == ClassKind.MIXED and c.values[3] == "ratio"
]
DATABASE_REFUSED_CLASSES = [c for c in REFUSED_CLASSES if c not in LOCAL_RATIO_CASES]


def test_every_class_kind_has_a_national_standard():
    assert set(CLASS_STANDARDS) == set(ClassKind) == set(NATIONAL_STANDARDS)


@pytest.mark.parametrize("kind", list(ClassKind))
def test_class_standards_are_the_national_ones(kind):
    standard = CLASS_STANDARDS[kind]

    assert (
        standard.min_age_months,
        standard.max_age_months,
        standard.max_children,
        standard.children_per_carer,
    ) == NATIONAL_STANDARDS[kind]


# Classes in the database -----------------------------------------------------------------------


@pytest.fixture
def bare_institution(institution):
    """A filed institution without classes."""
    return institution(classes=())


@pytest.mark.parametrize(("kind", "capacity", "carers", "violation"), ACCEPTED_CLASSES)
def test_database_accepts_a_class_within_cap_and_ratio(
    app, bare_institution, kind, capacity, carers, violation
):
    with app.app_context():
        db.session.add(
            CareClass(
                institution_id=bare_institution,
                kind=kind,
                name="一班",
                capacity=capacity,
                carers=carers,
            )
        )
        db.session.commit()

        stored = db.session.scalar(sa.select(CareClass))
        assert (stored.kind, stored.capacity, stored.carers) == (kind, capacity, carers)


@pytest.mark.parametrize(("kind", "capacity", "carers", "violation"), DATABASE_REFUSED_CLASSES)
def test_database_refuses_a_class_above_cap_or_ratio(
    app, bare_institution, kind, capacity, carers, violation
):
    with app.app_context():
        db.session.add(
            CareClass(
                institution_id=bare_institution,
                kind=kind,
                name="一班",
                capacity=capacity,
                carers=carers,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize(
    ("capacity", "carers"),
    [
        pytest.param(0, 1, id="no-place"),
        pytest.param(1, 0, id="no-carer"),
        pytest.param(-1, 1, id="negative-capacity"),
    ],
)
def test_database_refuses_a_class_without_places_or_carers(app, bare_institution, capacity, carers):
    with app.app_context():
        db.session.add(
            CareClass(
                institution_id=bare_institution,
                kind=ClassKind.TODDLER,
                name="一班",
                capacity=capacity,
                carers=carers,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_database_refuses_raising_a_stored_class_above_its_cap(app, institution):
    institution_id = institution(classes=((ClassKind.INFANT, 9, 4),))

    with app.app_context():
        stored = db.session.scalar(sa.select(CareClass).filter_by(institution_id=institution_id))
        stored.capacity = 11
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize(("kind", "capacity", "carers", "violation"), CLASS_CASES)
def test_standard_violation_names_the_broken_limit(kind, capacity, carers, violation):
    care_class = CareClass(kind=kind, name="一班", capacity=capacity, carers=carers)

    assert care_class.standard_violation() == violation


def test_standard_violation_reports_the_cap_when_both_limits_are_broken():
    care_class = CareClass(kind=ClassKind.TODDLER, name="一班", capacity=16, carers=1)

    assert care_class.standard_violation() == "cap"


# Offers ----------------------------------------------------------------------------------------


def add_offer(institution_id: int, min_age: int, max_age: int) -> None:
    """Add a full-day offer with the given age range to the session and flush it."""
    db.session.add(
        CareOffer(
            institution_id=institution_id,
            care_type=CareType.FULL_DAY,
            opens_at=time(8),
            closes_at=time(17),
            price_yuan=2000,
            min_age_months=min_age,
            max_age_months=max_age,
        )
    )
    db.session.flush()


@pytest.mark.parametrize(
    ("min_age", "max_age"),
    [
        pytest.param(6, 36, id="the-whole-range"),
        pytest.param(6, 7, id="one-month-at-the-start"),
        pytest.param(35, 36, id="one-month-at-the-end"),
    ],
)
def test_database_accepts_an_offer_inside_6_to_36_months(app, institution, min_age, max_age):
    institution_id = institution(offers={CareType.HOURLY: (12, 36, 40)})

    with app.app_context():
        add_offer(institution_id, min_age, max_age)
        db.session.commit()

        assert db.session.scalar(sa.select(sa.func.count(CareOffer.id))) == 2


@pytest.mark.parametrize(
    ("min_age", "max_age"),
    [
        pytest.param(5, 12, id="younger-than-6-months"),
        pytest.param(0, 12, id="newborns"),
        pytest.param(12, 37, id="36-months-or-older"),
        pytest.param(24, 24, id="empty-range"),
        pytest.param(24, 12, id="minimum-above-maximum"),
    ],
)
def test_database_refuses_an_offer_outside_6_to_36_months(app, institution, min_age, max_age):
    institution_id = institution(offers={CareType.HOURLY: (12, 36, 40)})

    with app.app_context():
        with pytest.raises(IntegrityError):
            add_offer(institution_id, min_age, max_age)
        db.session.rollback()


# Filing ----------------------------------------------------------------------------------------


def new_institution(township_id: int, **fields) -> Institution:
    """An institution with every required column, overridden by ``fields``."""
    values = {
        "name": "新托育园",
        "township_id": township_id,
        "address": "世纪大道 1 号",
        "phone": "0595-85661234",
        "nature": Nature.PRIVATE,
        "authority": Authority.MARKET_REGULATION,
        "uscc": "91350582MA00000001",
        "status": Status.DRAFT,
    }
    return Institution(**(values | fields))


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"filing_number": None, "filed_on": date(2024, 3, 1)}, id="no-number"),
        pytest.param({"filing_number": "JJ-TY-2024-0001", "filed_on": None}, id="no-date"),
        pytest.param({"filing_number": None, "filed_on": None}, id="neither"),
    ],
)
def test_database_refuses_a_filed_institution_without_filing_number_and_date(app, township, fields):
    township_id = township("qingyang")

    with app.app_context():
        db.session.add(new_institution(township_id, status=Status.FILED, **fields))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_database_refuses_filing_a_draft_without_a_filing_number(app, institution):
    draft_id = institution(status=Status.DRAFT)

    with app.app_context():
        draft = db.session.get(Institution, draft_id)
        draft.status = Status.FILED
        draft.filed_on = date(2024, 3, 1)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("status", [Status.DRAFT, Status.UNDER_REVIEW, Status.REJECTED])
def test_database_accepts_an_unfiled_institution_without_a_filing_number(app, township, status):
    township_id = township("qingyang")

    with app.app_context():
        db.session.add(new_institution(township_id, status=status))
        db.session.commit()

        assert db.session.scalar(sa.select(Institution.status)) == status


def test_database_accepts_a_filed_institution_with_number_and_date(app, township):
    township_id = township("qingyang")

    with app.app_context():
        db.session.add(
            new_institution(
                township_id,
                status=Status.FILED,
                filing_number="JJ-TY-2024-0001",
                filed_on=date(2024, 3, 1),
            )
        )
        db.session.commit()

        assert db.session.scalar(sa.select(Institution.filing_number)) == "JJ-TY-2024-0001"


# The class form --------------------------------------------------------------------------------


def expected_form_message(kind: ClassKind, carers: int, violation: str) -> str:
    """The English message the form gives for ``violation``, from the national table."""
    _youngest, _too_old, max_children, per_carer = NATIONAL_STANDARDS[kind]
    if violation == "cap":
        return CAP_MESSAGE % {"count": max_children}
    message = LOCAL_RATIO_MESSAGE if kind == ClassKind.MIXED else RATIO_MESSAGE
    return message % {
        "carers": carers,
        "count": min(max_children, carers * per_carer),
        "ratio": per_carer,
    }


def post_class_form(app, data: dict, language: str) -> tuple[bool, dict[str, list[str]]]:
    """Validate a CareClassForm posted with ``data`` in ``language``: (valid, messages by field)."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context(f"/?lang={language}", method="POST", data=data):
        form = CareClassForm()
        valid = form.validate()
        # Turn the lazy messages into text while the request's language is active.
        messages = {
            name: [str(error) for error in field.errors] for name, field in form._fields.items()
        }
    return valid, messages


#: WTForms 3.3 deprecates tuple choices; test_class_form_builds_without_warnings reports that,
#: so the rule tests below can still say whether the cap and ratio are checked.


def test_class_form_builds_without_warnings(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context("/", method="POST", data={}):
        CareClassForm()


@pytest.mark.parametrize(("kind", "capacity", "carers", "violation"), CLASS_CASES)
def test_class_form_checks_cap_and_ratio_on_the_capacity_field(
    app, kind, capacity, carers, violation
):
    data = {"kind": kind.value, "name": "一班", "capacity": str(capacity), "carers": str(carers)}

    valid, messages = post_class_form(app, data, "en")

    if violation is None:
        assert valid, messages
    else:
        assert not valid
        assert messages["capacity"] == [expected_form_message(kind, carers, violation)]
        assert messages["carers"] == []
        assert messages["kind"] == []


@pytest.mark.parametrize(
    ("capacity", "carers", "msgid", "params"),
    [
        pytest.param(16, 4, CAP_MESSAGE, {"count": 15}, id="above-cap"),
        pytest.param(
            11, 2, RATIO_MESSAGE, {"carers": 2, "count": 10, "ratio": 5}, id="above-ratio"
        ),
    ],
)
def test_class_form_message_is_in_chinese_by_default(app, capacity, carers, msgid, params):
    with ZH_CATALOG.open("rb") as po_file:
        catalog = read_po(po_file, locale="zh_CN")
    data = {"kind": "toddler", "name": "托小一班", "capacity": str(capacity), "carers": str(carers)}

    valid, messages = post_class_form(app, data, "zh_CN")

    assert not valid
    assert catalog.get(msgid) is not None, "the message is not in the Chinese catalog"
    assert catalog.get(msgid).string, "the message has no Chinese translation"
    assert messages["capacity"] == [catalog.get(msgid).string % params]
