"""The staff register, the bureau's lifetime ban list (终身禁入) and staff facts in filing.

An institution keeps its staff privately; the public sees counts and shares. A person on the
ban list cannot be added, the institution learns nothing beyond that, and the bureau is told.
An application is submitted only when every person has a current health certificate and
every carer a qualification certificate.
"""

import itertools
import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from stdnum.cn import ric
from test_access_matrix import complete_declarations

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    BanAlert,
    Institution,
    LifetimeBan,
    OutboxMessage,
    Role,
    StaffMember,
    StaffRole,
    Status,
    User,
)
from careapp.services import staff

_serials = itertools.count(1)


def make_id_number() -> str:
    """A valid, unique resident identity card number (Beijing Dongcheng, born 1990)."""
    body = f"11010119900101{next(_serials) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def text(response) -> str:
    """The response body as text, HTML entities decoded."""
    return unescape(response.get_data(as_text=True))


def person(**changes) -> dict:
    """Form data of a certified caregiver with a current health certificate."""
    today = clock.today()
    data = {
        "name": "王丽华",
        "id_number": make_id_number(),
        "role": "caregiver",
        "certificate_type": "childcare_worker",
        "certificate_number": "BY2024-0001",
        "health_checked_on": (today - timedelta(days=30)).isoformat(),
        "health_check_expires_on": (today + timedelta(days=335)).isoformat(),
        "training_hours": "120",
    }
    return data | changes


@pytest.fixture
def owner(user):
    return user(Role.INSTITUTION)


@pytest.fixture
def regulator(user):
    return user(Role.REGULATOR, email="bureau@example.com")


@pytest.fixture
def draft(institution, owner):
    return institution("草稿托育园", status=Status.DRAFT, owner_id=owner, **complete_declarations())


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


def members(app, institution_id: int) -> list[StaffMember]:
    with app.app_context():
        found = db.session.scalars(
            sa.select(StaffMember).where(StaffMember.institution_id == institution_id)
        ).all()
        db.session.expunge_all()
        return list(found)


def stored(app, institution_id: int, *names: str) -> tuple:
    with app.app_context():
        found = db.session.get(Institution, institution_id)
        return tuple(getattr(found, name) for name in names)


def ban(app, regulator_id: int, id_number: str, name: str = "李某") -> None:
    with app.app_context():
        actor = db.session.get(User, regulator_id)
        staff.add_ban(actor, name, id_number, "虐童，法院判决", clock.today())
        db.session.commit()


# --- keeping the register -------------------------------------------------------------------


def test_owner_adds_a_person_and_only_a_keyed_fingerprint_of_the_id_number_is_kept(
    app, english, auth, owner, draft
):
    auth.login(owner)
    data = person()

    response = english.post(f"/institutions/{draft}/staff", data=data)

    assert response.status_code == 302
    assert response.location.endswith(f"/institutions/{draft}/staff")
    [member] = members(app, draft)
    assert (member.name, member.role, member.id_number_tail) == (
        "王丽华",
        StaffRole.CAREGIVER,
        data["id_number"][-4:],
    )
    assert data["id_number"] not in member.id_number_hash
    assert len(member.id_number_hash) == 64
    page = text(english.get(f"/institutions/{draft}/staff"))
    assert "王丽华" in page
    assert data["id_number"] not in page


def test_register_counts_replace_the_typed_staff_numbers(app, english, auth, owner, draft):
    auth.login(owner)
    english.post(f"/institutions/{draft}/staff", data=person())
    english.post(
        f"/institutions/{draft}/staff",
        data=person(name="陈师傅", role="cook", certificate_type="", certificate_number=""),
    )

    assert stored(app, draft, "staff_count", "certified_staff_count") == (2, 1)
    form = text(english.get(f"/institutions/{draft}/edit"))
    assert "Counted from your staff register: 2 staff, 1 with a qualification certificate." in form
    assert 'name="staff_count"' not in form


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id_number": "110101199001010000"}, "This is not a valid ID card number."),
        ({"id_number": ""}, "Enter the person's ID card number."),
        ({"name": ""}, "Name"),
        ({"certificate_number": ""}, "Enter the certificate's number."),
        ({"certificate_type": ""}, "Choose the type of the certificate."),
        ({"health_check_expires_on": "2000-01-01"}, "valid after the day of the check"),
        ({"role": "dictator"}, "Role"),
    ],
)
def test_invalid_entries_are_shown_again_with_a_message_and_nothing_is_stored(
    app, english, auth, owner, draft, changes, message
):
    auth.login(owner)

    response = english.post(f"/institutions/{draft}/staff", data=person(**changes))

    assert response.status_code == 400
    assert message in text(response)
    assert members(app, draft) == []


def test_the_same_person_twice_is_refused(app, english, auth, owner, draft):
    auth.login(owner)
    data = person()
    english.post(f"/institutions/{draft}/staff", data=data)

    response = english.post(
        f"/institutions/{draft}/staff", data=person(id_number=data["id_number"])
    )

    assert response.status_code == 409
    assert "on your staff register already" in text(response)
    assert len(members(app, draft)) == 1


def test_edit_and_remove_update_the_counts(app, english, auth, owner, draft):
    auth.login(owner)
    english.post(f"/institutions/{draft}/staff", data=person())
    english.post(f"/institutions/{draft}/staff", data=person(name="林老师"))
    first, second = members(app, draft)

    edited = english.post(
        f"/institutions/{draft}/staff/{first.id}/edit",
        data=person(role="manager", certificate_type="", certificate_number=""),
    )
    removed = english.post(f"/institutions/{draft}/staff/{second.id}/delete")

    assert (edited.status_code, removed.status_code) == (302, 302)
    [kept] = members(app, draft)
    assert (kept.role, kept.certificate_number) == (StaffRole.MANAGER, None)
    assert stored(app, draft, "staff_count", "certified_staff_count") == (1, 0)


def test_register_is_frozen_while_the_application_is_under_review(
    app, english, auth, owner, institution
):
    review = institution(
        "审核中托育园", status=Status.UNDER_REVIEW, owner_id=owner, **complete_declarations()
    )
    auth.login(owner)

    response = english.post(f"/institutions/{review}/staff", data=person())

    assert response.status_code == 409
    assert "cannot be changed while the application is under review" in text(response)
    assert members(app, review) == []


def test_another_institution_parent_and_anonymous_never_reach_a_register(
    app, client, auth, user, owner, draft
):
    auth.login(owner)
    client.post(f"/institutions/{draft}/staff", data=person())
    [member] = members(app, draft)
    paths = (
        f"/institutions/{draft}/staff",
        f"/institutions/{draft}/staff/{member.id}/edit",
    )
    auth.logout()
    observed = {"anonymous": [client.get(path).status_code for path in paths]}
    for role in (Role.INSTITUTION, Role.PARENT, Role.PROVIDER):
        auth.login(user(role))
        observed[str(role)] = [client.get(path).status_code for path in paths]
        observed[str(role)].append(
            client.post(f"/institutions/{draft}/staff/{member.id}/delete").status_code
        )
        auth.logout()

    assert observed == {
        "anonymous": [302, 302],
        "institution": [404, 404, 404],
        "parent": [403, 403, 403],
        "provider": [403, 403, 403],
    }
    assert len(members(app, draft)) == 1


# --- the ban list -----------------------------------------------------------------------------


def test_a_banned_person_is_refused_without_revealing_the_list_and_the_bureau_is_told(
    app, english, auth, owner, draft, regulator
):
    banned = make_id_number()
    ban(app, regulator, banned, name="李某")
    auth.login(owner)

    response = english.post(
        f"/institutions/{draft}/staff", data=person(name="李某某", id_number=banned)
    )

    assert response.status_code == 302
    page = text(english.get(response.location))
    assert "This person cannot be employed in childcare. The county health bureau has been" in page
    assert "虐童" not in page
    assert "李某 " not in page
    assert members(app, draft) == []
    with app.app_context():
        alert = db.session.scalars(sa.select(BanAlert)).one()
        assert (alert.institution_id, alert.attempted_by_id) == (draft, owner)
        mail = db.session.scalars(sa.select(OutboxMessage)).one()
        assert mail.recipient == "bureau@example.com"
        assert "草稿托育园" in mail.body
        assert banned not in mail.body


def test_the_bureau_sees_attempts_and_banned_people_already_employed(
    app, english, auth, owner, draft, regulator
):
    auth.login(owner)
    worker = person(name="赵某")
    english.post(f"/institutions/{draft}/staff", data=worker)
    auth.logout()
    auth.login(regulator)

    added = english.post(
        "/regulator/bans",
        data={
            "name": "赵某",
            "id_number": worker["id_number"],
            "decided_on": clock.today().isoformat(),
            "reason": "Abuse of a child, court ruling 2026",
        },
    )
    page = text(english.get("/regulator/bans"))

    assert added.status_code == 302
    assert "赵某 (**************" + worker["id_number"][-4:] + ") works at 草稿托育园." in page
    assert worker["id_number"] not in page
    with app.app_context():
        stored_ban = db.session.scalars(sa.select(LifetimeBan)).one()
        assert stored_ban.id_number_hash == staff_hash(app, worker["id_number"])


def staff_hash(app, id_number: str) -> str:
    with app.test_request_context():
        return staff.identity_hash(id_number)


def test_the_same_person_is_banned_once_and_bad_numbers_are_refused(app, english, auth, regulator):
    auth.login(regulator)
    number = make_id_number()
    form = {"name": "钱某", "decided_on": clock.today().isoformat(), "reason": "Abuse"}

    first = english.post("/regulator/bans", data=form | {"id_number": number})
    again = english.post("/regulator/bans", data=form | {"id_number": number.lower()})
    wrong = english.post("/regulator/bans", data=form | {"id_number": "123"})

    assert (first.status_code, again.status_code, wrong.status_code) == (302, 409, 400)
    assert "on the ban list already" in text(again)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LifetimeBan.id))) == 1


def test_identity_hash_is_keyed_normalised_and_not_the_plain_sha256(app):
    number = make_id_number()
    with app.test_request_context():
        keyed = staff.identity_hash(number)
        spaced = staff.identity_hash(f" {number[:6]} {number[6:]} ".lower())
        app.config["IDENTITY_HASH_KEY"] = "another-key"
        rekeyed = staff.identity_hash(number)

    import hashlib

    assert keyed == spaced
    assert keyed != rekeyed
    assert keyed != hashlib.sha256(number.encode()).hexdigest()


# --- filing: health and qualification certificates ------------------------------------------


def test_submission_lists_expired_health_certificates_and_carers_without_certificates(
    app, english, auth, owner, draft
):
    today = clock.today()
    auth.login(owner)
    english.post(
        f"/institutions/{draft}/staff",
        data=person(
            name="周阿姨",
            health_checked_on=(today - timedelta(days=400)).isoformat(),
            health_check_expires_on=(today - timedelta(days=35)).isoformat(),
        ),
    )
    english.post(
        f"/institutions/{draft}/staff",
        data=person(name="吴老师", role="infant_carer", certificate_type="", certificate_number=""),
    )

    response = english.post(f"/institutions/{draft}/submit", follow_redirects=True)

    page = text(response)
    expired_on = (today - timedelta(days=35)).isoformat()
    assert f"The health certificate of 周阿姨 expired on {expired_on}." in page
    assert "吴老师 looks after children but has no qualification certificate." in page
    assert stored(app, draft, "status") == (Status.DRAFT,)


def test_submission_goes_through_once_the_register_is_complete(app, english, auth, owner, draft):
    auth.login(owner)
    english.post(f"/institutions/{draft}/staff", data=person())
    english.post(
        f"/institutions/{draft}/staff",
        data=person(name="保安老张", role="security", certificate_type="", certificate_number=""),
    )

    english.post(f"/institutions/{draft}/submit")

    assert stored(app, draft, "status", "staff_count", "certified_staff_count") == (
        Status.UNDER_REVIEW,
        2,
        1,
    )


def test_the_reviewer_sees_the_register_beside_the_declarations(
    app, english, auth, owner, draft, regulator
):
    auth.login(owner)
    english.post(f"/institutions/{draft}/staff", data=person(name="郑老师"))
    auth.logout()
    auth.login(regulator)

    page = text(english.get(f"/regulator/institutions/{draft}"))

    assert "Declarations and documents" in page
    assert re.search(r"<th scope=\"row\">郑老师</th>", page)


# --- what the public sees ---------------------------------------------------------------------


def test_public_page_shows_counts_and_shares_but_never_a_person(
    app, client, auth, owner, institution
):
    filed = institution("已备案托育园", owner_id=owner, **complete_declarations())
    today = clock.today()
    auth.login(owner)
    client.post(f"/institutions/{filed}/staff", data=person(name="冯老师"))
    client.post(
        f"/institutions/{filed}/staff",
        data=person(
            name="何师傅",
            role="cook",
            certificate_type="",
            certificate_number="",
            health_checked_on=(today - timedelta(days=400)).isoformat(),
            health_check_expires_on=(today - timedelta(days=1)).isoformat(),
        ),
    )
    auth.logout()

    english = text(client.get(f"/institutions/{filed}?lang=en"))
    chinese = text(client.get(f"/institutions/{filed}?lang=zh_CN"))

    assert "Staff on the register" in english
    assert "1 (50%)" in english
    assert "冯老师" not in english
    assert "何师傅" not in english
    assert "持有资格证书" in chinese
    assert "Staff on the register" not in chinese


def test_register_page_reads_in_chinese(app, client, auth, owner, draft):
    auth.login(owner)
    client.set_cookie("lang", "zh_CN")

    page = text(client.get(f"/institutions/{draft}/staff"))

    assert "员工名册" in page
    assert "Staff register" not in page
    assert "Add a person" not in page


# --- demo data ----------------------------------------------------------------------------------


def test_demo_registers_match_the_declared_staff_and_meet_the_filing_rules(app, institution, user):
    from careapp.demo.staff import seed_staff

    user(Role.REGULATOR)
    filed = institution(
        "示范托育园", **complete_declarations() | {"staff_count": 7, "certified_staff_count": 6}
    )
    gone = institution("已注销托育园", status=Status.DEREGISTERED, **complete_declarations())
    with app.test_request_context():
        first = seed_staff(clock.today())
        db.session.commit()
        again = seed_staff(clock.today())
        db.session.commit()
        found = db.session.get(Institution, filed)
        problems = staff.staff_problems(found, clock.today())
        counts = (found.staff_count, found.certified_staff_count)

    assert first == {"staff_members": 7, "lifetime_bans": 1}
    assert again == {"staff_members": 0, "lifetime_bans": 0}
    assert problems == []
    assert counts == (7, 6)
    assert members(app, gone) == []


def test_register_and_review_pages_read_a_fixed_number_of_statements(
    app, client, auth, owner, draft, regulator, count_queries
):
    def statements(path: str) -> int:
        with count_queries() as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    auth.login(owner)
    client.post(f"/institutions/{draft}/staff", data=person())
    register_with_one = statements(f"/institutions/{draft}/staff")
    for name in ("林一", "林二", "林三", "林四"):
        client.post(f"/institutions/{draft}/staff", data=person(name=name))
    register_with_five = statements(f"/institutions/{draft}/staff")
    auth.logout()
    auth.login(regulator)
    review = statements(f"/regulator/institutions/{draft}")
    banned = make_id_number()
    ban(app, regulator, banned)
    bans_page = statements("/regulator/bans")

    assert register_with_five == register_with_one
    assert review < 40
    assert bans_page < 20


def test_a_change_to_the_register_shows_on_the_cached_public_page_at_once(
    app, client, auth, owner, institution
):
    filed = institution("已备案托育园", owner_id=owner, **complete_declarations())
    auth.login(owner)
    client.post(f"/institutions/{filed}/staff", data=person(name="冯老师"))
    auth.logout()
    before = text(client.get(f"/institutions/{filed}?lang=en"))
    auth.login(owner)
    client.post(f"/institutions/{filed}/staff", data=person(name="褚老师"))
    auth.logout()

    after = text(client.get(f"/institutions/{filed}?lang=en"))

    assert "<dt>Staff on the register</dt><dd>1</dd>" in before
    assert "<dt>Staff on the register</dt><dd>2</dd>" in after


def test_ban_list_reads_in_chinese(app, client, auth, regulator):
    client.set_cookie("lang", "zh_CN")
    auth.login(regulator)

    page = text(client.get("/regulator/bans"))

    assert "终身禁入名单" in page
    assert "Lifetime ban list" not in page
    assert "Attempts to employ" not in page


def jinjiang_id_number(born: str) -> str:
    """A resident identity card number of 晋江 (county code 350582, in use since 1992) of a
    person born on ``born`` (YYYYMMDD)."""
    body = f"350582{born}123"
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    ("id_number", "valid"),
    [
        (jinjiang_id_number("19800101"), True),  # born before the county took its code
        (jinjiang_id_number("19950101"), True),
        (jinjiang_id_number("19800101")[:-1] + "0", False),  # wrong check digit
        ("35999919800101123" + ric.calc_check_digit("359999198001011230"), False),  # no county
        (jinjiang_id_number("19800230"), False),  # no such day
        ("11010119900101001", False),  # 17 characters
    ],
)
def test_an_id_number_is_valid_by_its_check_digit_birth_date_and_a_known_county_code(
    id_number, valid
):
    assert staff.is_valid_id_number(id_number) is valid


def test_a_resident_born_before_the_county_took_its_code_is_registered_and_banned(
    app, english, auth, owner, draft, user
):
    """A card takes the code of the county that issues it: 350582 (晋江) since 1992 on the card
    of a resident born in 1980, whom the register and the ban list must both accept."""
    auth.login(owner)
    added = english.post(
        f"/institutions/{draft}/staff", data=person(id_number=jinjiang_id_number("19800101"))
    )
    auth.logout()
    auth.login(user(Role.REGULATOR))
    banned = english.post(
        "/regulator/bans",
        data={
            "name": "李某",
            "id_number": jinjiang_id_number("19790505"),
            "reason": "虐待儿童",
            "decided_on": clock.today().isoformat(),
        },
    )

    assert added.status_code == 302
    assert len(members(app, draft)) == 1
    assert banned.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LifetimeBan.id))) == 1
