"""Searches that never scan: text through the gram table, counts kept per township, bounded
totals and keyset paging, with the same answers as reading the whole register."""

from datetime import date

import pytest
import sqlalchemy as sa

from careapp.demo import seed_demo
from careapp.extensions import db
from careapp.models import (
    CareClass,
    ClassKind,
    EventType,
    FilingEvent,
    Institution,
    InstitutionSearchTerm,
    Role,
    Status,
    Township,
    User,
)
from careapp.models.listing import rebuild_listing
from careapp.services import filing, search
from careapp.services.cursors import encode


def _api(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _names(client, query: str) -> list[str]:
    return [item["name"] for item in _api(client, f"/api/v1/institutions?{query}")["items"]]


# Text search ---------------------------------------------------------------------------------


@pytest.fixture
def texts(institution):
    """Institutions whose names and addresses the text tests look for."""
    return {
        "chendai": institution(
            "晋江市陈埭镇彩虹托育园",
            address="陈埭镇湖中路 8 号",
            name_en="Rainbow Nursery",
            address_en="8 Huzhong Road, Chendai",
        ),
        "qingyang": institution(
            "小橡树托育中心",
            address="青阳街道世纪大道 100 号",
            name_en="Little Oak Childcare",
            address_en="100 Century Avenue, Qingyang",
        ),
        "percent": institution("百分百_托育%中心", address="安海镇 1 号"),
        "draft": institution("陈埭草稿托育", status=Status.DRAFT, address="陈埭镇 2 号"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("陈埭", ["晋江市陈埭镇彩虹托育园"]),  # two characters, in the name and the address
        ("青阳", ["小橡树托育中心"]),  # two characters, in the address only
        ("湖中路", ["晋江市陈埭镇彩虹托育园"]),
        ("rainbow", ["晋江市陈埭镇彩虹托育园"]),  # English name, any case
        ("CENTURY AVE", ["小橡树托育中心"]),  # English address, any case
        ("橡", ["小橡树托育中心"]),  # one character: no bigram, still found
        ("k", ["小橡树托育中心"]),  # one Latin character: "Oak"
        ("%", ["百分百_托育%中心"]),  # wildcards are taken literally
        ("_托", ["百分百_托育%中心"]),
        ("百_托育%中", ["百分百_托育%中心"]),
        ("托育", ["小橡树托育中心", "晋江市陈埭镇彩虹托育园", "百分百_托育%中心"]),
        ("陈埭草稿", []),  # only filed institutions
        ("虹托育园x", []),  # every bigram is there, the text is not
        ("Rainbow Oak", []),
    ],
)
def test_text_search_finds_substrings_of_name_or_address_in_either_language(
    client, texts, query, expected
):
    assert sorted(_names(client, f"q={query}")) == sorted(expected)


def test_text_search_of_many_characters_checks_the_whole_text(client, institution):
    institution("一二三四五六七八九十托育中心")
    institution("一二三四五六七八九托育中心")

    assert _names(client, "q=一二三四五六七八九十托") == ["一二三四五六七八九十托育中心"]


def test_grams_follow_renames_and_leave_with_deregistration(app, client, texts, user):
    with app.app_context():
        record = db.session.get(Institution, texts["qingyang"])
        record.name = "大榕树托育中心"
        db.session.commit()
    assert _names(client, "q=橡树") == []
    assert _names(client, "q=榕树") == ["大榕树托育中心"]

    regulator = user(Role.REGULATOR)
    with app.app_context():
        record = db.session.get(Institution, texts["qingyang"])
        filing.revoke(record, db.session.get(User, regulator), "停办", date(2024, 9, 1))
        db.session.commit()
        grams = db.session.scalar(
            sa.select(sa.func.count()).where(
                InstitutionSearchTerm.institution_id == texts["qingyang"]
            )
        )
    assert grams == 0
    assert _names(client, "q=榕树") == []


def test_grams_are_those_of_the_rebuild(app, texts):
    """The grams the flush writes are exactly those a rebuild from the register writes."""
    with app.app_context():
        query = sa.select(InstitutionSearchTerm.gram, InstitutionSearchTerm.institution_id)
        kept = set(db.session.execute(query))
        rebuild_listing(db.session.connection())
        rebuilt = set(db.session.execute(query))
        db.session.rollback()
    assert kept == rebuilt
    assert ("陈埭", texts["chendai"]) in kept
    assert not any(institution_id == texts["draft"] for _gram, institution_id in kept)


# Counts kept per township ---------------------------------------------------------------------


def _fresh_counts() -> dict[str, tuple[int, int]]:
    """Filed institutions and places per township, counted now from the register."""
    places = (
        sa.select(CareClass.institution_id, sa.func.sum(CareClass.capacity).label("places"))
        .group_by(CareClass.institution_id)
        .subquery()
    )
    filed = (
        sa.select(Institution.township_id, sa.func.coalesce(places.c.places, 0).label("places"))
        .outerjoin(places, places.c.institution_id == Institution.id)
        .where(Institution.status == Status.FILED)
        .subquery()
    )
    query = (
        sa.select(
            Township.code,
            sa.func.count(filed.c.township_id),
            sa.func.coalesce(sa.func.sum(filed.c.places), 0),
        )
        .outerjoin(filed, filed.c.township_id == Township.id)
        .group_by(Township.code)
    )
    return {code: (int(count), int(total)) for code, count, total in db.session.execute(query)}


def _kept_counts() -> dict[str, tuple[int, int]]:
    query = sa.select(Township.code, Township.listed_institutions, Township.listed_places)
    return {code: (count, places) for code, count, places in db.session.execute(query)}


def assert_counts_are_fresh(app) -> dict[str, tuple[int, int]]:
    """The kept counts equal a fresh GROUP BY; returns them."""
    with app.app_context():
        kept, fresh = _kept_counts(), _fresh_counts()
    assert kept == fresh
    return kept


def _change(app, institution_id: int, change) -> None:
    with app.app_context():
        change(db.session.get(Institution, institution_id))
        db.session.commit()


def test_kept_counts_equal_a_fresh_count_after_every_kind_of_change(
    app, institution, township, user
):
    township("chendai")
    regulator = user(Role.REGULATOR)
    oak = institution("小橡树", classes=((ClassKind.TODDLER, 15, 3),))
    sun = institution("阳光", township_code="chendai", classes=((ClassKind.TODDLER, 10, 3),))
    draft = institution("草稿", status=Status.UNDER_REVIEW)
    assert assert_counts_are_fresh(app) == {"qingyang": (1, 15), "chendai": (1, 10)}

    def approve(record):
        filing.approve(record, db.session.get(User, regulator), date(2024, 9, 1))

    def move(record):
        record.township = db.session.scalar(sa.select(Township).filter_by(code="qingyang"))

    def move_by_id(record):
        record.township_id = db.session.scalar(sa.select(Township.id).filter_by(code="chendai"))

    def grow(record):
        record.classes[0].capacity = 12

    def add_class(record):
        record.classes.append(
            CareClass(kind=ClassKind.OLDER_TODDLER, name="托大班", capacity=20, carers=3)
        )

    def drop_class(record):
        record.classes.pop(0)

    def deregister(record):
        filing.revoke(record, db.session.get(User, regulator), "停办", date(2024, 9, 2))

    for institution_id, change in [
        (draft, approve),
        (sun, move),
        (sun, move_by_id),
        (oak, grow),
        (oak, add_class),
        (oak, drop_class),
        (sun, deregister),
        (oak, lambda record: setattr(record, "name", "新名字")),
        (oak, lambda record: db.session.delete(record)),
    ]:
        _change(app, institution_id, change)
        assert_counts_are_fresh(app)

    assert assert_counts_are_fresh(app) == {"qingyang": (1, 15), "chendai": (0, 0)}


def test_a_status_change_and_a_class_change_in_one_flush_count_once(app, institution, user):
    regulator = user(Role.REGULATOR)
    filed = institution("阳光", classes=((ClassKind.TODDLER, 10, 3),))

    def deregister_after_growing(record):
        record.classes[0].capacity = 12
        filing.revoke(record, db.session.get(User, regulator), "停办", date(2024, 9, 2))

    _change(app, filed, deregister_after_growing)

    assert assert_counts_are_fresh(app)["qingyang"] == (0, 0)


def test_demo_seeding_keeps_the_counts(app):
    with app.app_context():
        seed_demo("jinjiang", date(2026, 11, 30))
        db.session.commit()
    kept = assert_counts_are_fresh(app)
    assert sum(count for count, _places in kept.values()) > 0


def test_township_menu_and_api_read_the_kept_counts(app, client, institution):
    institution("一")
    institution("二")
    institution("三", status=Status.DEREGISTERED)
    with app.app_context():
        # The menu shows what is kept, not a count of the register.
        db.session.execute(sa.update(Township).values(listed_institutions=7))
        db.session.commit()

    body = _api(client, "/api/v1/townships")

    assert [item["institution_count"] for item in body["items"]] == [7]


# Bounded totals -------------------------------------------------------------------------------


@pytest.fixture
def small_count_limit(monkeypatch):
    """Totals counted exactly up to 3 only."""
    monkeypatch.setattr(search, "COUNT_LIMIT", 3)


def test_filtered_total_is_a_lower_bound_past_the_count_limit(
    client, institution, small_count_limit
):
    for number in range(5):
        institution(f"托育{number}")

    filtered = _api(client, "/api/v1/institutions?q=托育&per_page=2")
    unfiltered = _api(client, "/api/v1/institutions?per_page=2")
    exact = _api(client, "/api/v1/institutions?q=托育3")

    assert (filtered["total"], filtered["total_is_exact"]) == (3, False)
    assert (unfiltered["total"], unfiltered["total_is_exact"]) == (5, True)
    assert (exact["total"], exact["total_is_exact"]) == (1, True)
    page = client.get("/?q=托育&lang=en")
    assert "More than 3 institutions found" in page.get_data(as_text=True)


def test_a_township_total_comes_exactly_from_the_kept_count(client, institution, township):
    township("chendai")
    for number in range(3):
        institution(f"陈埭{number}", township_code="chendai")
    institution("青阳")

    body = _api(client, "/api/v1/institutions?township=chendai")

    assert (body["total"], body["total_is_exact"]) == (3, True)


def test_registry_total_is_a_lower_bound_past_the_count_limit(
    client, institution, small_count_limit, monkeypatch
):
    from careapp.services import registry

    monkeypatch.setattr(registry, "COUNT_LIMIT", 3)
    for number in range(4):
        institution(f"托育{number}")

    body = _api(client, "/api/v1/registry/events")

    assert (body["total"], body["total_is_exact"], len(body["items"])) == (3, False, 4)
    page = client.get("/registry?lang=en")
    assert "More than 3 events" in page.get_data(as_text=True)


# Keyset paging --------------------------------------------------------------------------------


def _walk(client, path: str) -> list[dict]:
    """Every item of ``path``, following ``next`` cursors."""
    items, cursor = [], None
    for _ in range(100):
        separator = "&" if "?" in path else "?"
        body = _api(client, f"{path}{separator}after={cursor}" if cursor else path)
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items
    raise AssertionError("the cursors never ended")


def test_keyset_paging_walks_every_institution_once_in_list_order_despite_ties(client, institution):
    for number in range(7):
        institution("同名托育", is_demonstration=number % 3 == 0)
    for number in range(4):
        institution(f"托育{number % 2}")

    walked = _walk(client, "/api/v1/institutions?per_page=2")
    by_page = _api(client, "/api/v1/institutions?per_page=100")["items"]

    assert [item["id"] for item in walked] == [item["id"] for item in by_page]
    assert len({item["id"] for item in walked}) == 11


def test_keyset_paging_keeps_the_filters(client, institution, township):
    township("chendai")
    for number in range(5):
        institution(f"陈埭{number}", township_code="chendai", is_demonstration=number == 2)
        institution(f"青阳{number}")

    walked = _walk(client, "/api/v1/institutions?township=chendai&per_page=2")

    assert sorted(item["name"] for item in walked) == [f"陈埭{number}" for number in range(5)]


def test_page_numbers_still_page_and_give_a_cursor(client, institution):
    for number in range(5):
        institution(f"托育{number}")

    second = _api(client, "/api/v1/institutions?per_page=2&page=2")
    last = _api(client, "/api/v1/institutions?per_page=2&page=3")
    following = _api(client, f"/api/v1/institutions?per_page=2&after={second['next']}")

    assert [item["name"] for item in second["items"]] == ["托育2", "托育3"]
    assert following["items"] == last["items"]
    assert last["next"] is None


def test_keyset_paging_walks_every_disclosure_event_once(app, client, institution):
    ids = [institution(f"托育{number}") for number in range(4)]
    with app.app_context():
        for institution_id in ids:
            for day in (1, 1, 2):
                db.session.add(
                    FilingEvent(
                        institution_id=institution_id,
                        event_type=EventType.CHANGED,
                        occurred_on=date(2024, 6, day),
                        summary="变更",
                    )
                )
        db.session.commit()

    walked = _walk(client, "/api/v1/registry/events?per_page=3")
    by_page = _api(client, "/api/v1/registry/events?per_page=100")["items"]

    assert walked == by_page
    assert len(walked) == 16


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "!!!",
        encode(("x", "y", 1)),
        encode((True, "名", 2**40)),
        encode((1, "名", 3)),
        encode((True, "名")),
        "A" * 2000,
    ],
)
def test_a_cursor_not_written_here_answers_400(client, cursor):
    for path in ("/api/v1/institutions", "/api/v1/registry/events"):
        response = client.get(f"{path}?after={cursor}")

        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_a_rare_text_starts_from_its_few_holders_and_finds_the_same(app, client, institution):
    for number in range(9):
        institution(f"托育园{number}", address=f"安海镇 {number} 号")
    institution("陈埭彩虹托育园", address="陈埭镇 1 号", is_demonstration=True)
    institution("陈埭星星托育园", address="陈埭镇 2 号")
    with app.app_context():
        assert search._text_plan("陈埭") == (["陈埭"], True)
        assert search._text_plan("托育")[1] is False

    assert _names(client, "q=陈埭") == ["陈埭彩虹托育园", "陈埭星星托育园"]
    assert _names(client, "q=陈埭星") == ["陈埭星星托育园"]
    assert [item["name"] for item in _walk(client, "/api/v1/institutions?q=陈埭&per_page=1")] == [
        "陈埭彩虹托育园",
        "陈埭星星托育园",
    ]


def test_a_rare_texts_pages_follow_the_public_order_through_renames_and_designations(
    app, client, institution
):
    """A page of a rare text walks its gram's holders in the order their terms keep: the same
    order as the whole register's, demonstration first, also after a holder is renamed and
    another designated (the terms move with them)."""
    for number in range(20):
        institution(f"托育园{number}", address=f"安海镇 {number} 号")
    holders = {
        name: institution(name, address="陈埭镇 1 号", is_demonstration=name == "陈埭甲托育园")
        for name in ("陈埭丁托育园", "陈埭甲托育园", "陈埭乙托育园", "陈埭丙托育园")
    }

    def in_register_order() -> list[str]:
        everything = _names(client, "per_page=100")
        return [name for name in everything if name.startswith("陈埭")]

    def as_found() -> tuple[list[str], list[str], list[str]]:
        paged = _names(client, "q=陈埭&per_page=2") + _names(client, "q=陈埭&per_page=2&page=2")
        walked = [item["name"] for item in _walk(client, "/api/v1/institutions?q=陈埭&per_page=1")]
        return _names(client, "q=陈埭"), paged, walked

    with app.app_context():
        assert search._text_plan("陈埭") == (["陈埭"], True)
    expected = in_register_order()
    assert expected[0] == "陈埭甲托育园"
    assert len(expected) == 4
    assert as_found() == (expected, expected, expected)

    with app.app_context():
        db.session.get(Institution, holders["陈埭丙托育园"]).name = "陈埭一托育园"
        db.session.get(Institution, holders["陈埭乙托育园"]).is_demonstration = True
        db.session.commit()
        kept = db.session.execute(
            sa.select(InstitutionSearchTerm.name, InstitutionSearchTerm.is_demonstration).where(
                InstitutionSearchTerm.institution_id.in_(
                    [holders["陈埭丙托育园"], holders["陈埭乙托育园"]]
                )
            )
        ).all()
    assert set(kept) == {("陈埭一托育园", False), ("陈埭乙托育园", True)}
    moved = in_register_order()
    assert moved != expected
    assert set(moved[:2]) == {"陈埭甲托育园", "陈埭乙托育园"}
    assert as_found() == (moved, moved, moved)
