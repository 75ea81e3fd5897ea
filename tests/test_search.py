"""Search of filed institutions: the page ``/`` and ``careapp.services.search``."""

import calendar
import re
from datetime import date, time, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from careapp import clock
from careapp.config import PROJECT_ROOT
from careapp.extensions import db
from careapp.models import CareClass, CareType, ClassKind, Nature, Slot, TownshipKind
from careapp.services import availability, booking, search
from careapp.services.errors import InvalidParameters

ZH_CATALOG = PROJECT_ROOT / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"

CARD = re.compile(r'<li class="card">(.*?)</li>\s*(?=<li class="card">|</ol>)', re.S)
CARD_NAME = re.compile(r'<h3><a href="/institutions/\d+(?:[?#][^"]*)?">([^<]*)</a></h3>')
EMPTY_BOX = re.compile(r'<div class="empty">(.*?)</div>', re.S)
LINK = re.compile(r'<a href="([^"]*)">([^<]*)</a>')


# Helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def en_client(client):
    """A client whose language cookie asks for English, so messages can be compared exactly."""
    client.set_cookie("lang", "en")
    return client


def text(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def cards(response) -> list[str]:
    """The HTML of each result card, in order."""
    return CARD.findall(text(response))


def names(response) -> list[str]:
    """The institution names of the result cards, in order."""
    return [unescape(CARD_NAME.search(card).group(1)) for card in cards(response)]


def found(response) -> set[str]:
    """The institution names of the result cards, as a set (order is not the point)."""
    return set(names(response))


def widening_links(response) -> list[tuple[str, str]]:
    """``(href, text)`` of each link that widens an empty search."""
    box = EMPTY_BOX.search(text(response))
    assert box, "the page has no empty-result explanation"
    return [(unescape(href), unescape(label).strip()) for href, label in LINK.findall(box.group(1))]


def query_of(url: str) -> dict[str, str]:
    """The query parameters of ``url``."""
    return dict(parse_qsl(urlsplit(url).query))


def input_value(response, name: str) -> str | None:
    """The ``value`` attribute of the input called ``name``."""
    match = re.search(rf'<input id="{name}" name="{name}"[^>]*\svalue="([^"]*)"', text(response))
    return unescape(match.group(1)) if match else None


def selected_option(response, name: str) -> str | None:
    """The value of the selected option of the select called ``name``."""
    select = re.search(rf'<select id="{name}" name="{name}".*?</select>', text(response), re.S)
    assert select, f"no select called {name}"
    option = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return option.group(1) if option else None


def months_before(day: date, months: int) -> date:
    """The same calendar day ``months`` months before ``day`` (clamped to the month's end)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def chinese(msgid: str, **params) -> str:
    """The zh_CN catalog's translation of ``msgid``, formatted; fails when it is missing."""
    with ZH_CATALOG.open("rb") as po_file:
        catalog = read_po(po_file, locale="zh_CN")
    message = catalog.get(msgid)
    assert message is not None, f"{msgid!r} is not in the Chinese catalog"
    assert message.string, f"{msgid!r} has no Chinese translation"
    return message.string % params if params else message.string


# Filters ---------------------------------------------------------------------------------------


def test_search_without_filters_lists_every_filed_institution(client, institution):
    institution("青阳托育中心", township_code="qingyang")
    institution("陈埭托育中心", township_code="chendai")

    response = client.get("/")

    assert response.status_code == 200
    assert found(response) == {"青阳托育中心", "陈埭托育中心"}


def test_search_by_township_excludes_other_townships(client, institution):
    institution("青阳托育中心", township_code="qingyang")
    institution("陈埭托育中心", township_code="chendai")

    response = client.get("/?township=chendai")

    assert response.status_code == 200
    assert names(response) == ["陈埭托育中心"]
    assert selected_option(response, "township") == "chendai"


def test_search_by_care_type_keeps_only_institutions_offering_it(client, institution):
    institution("只有全日托", offers={CareType.FULL_DAY: (12, 36, 2800)})
    institution("只有计时托", offers={CareType.HOURLY: (12, 36, 40)})
    institution(
        "全日托和计时托", offers={CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (12, 36, 40)}
    )

    response = client.get("/?care_type=hourly")

    assert response.status_code == 200
    assert found(response) == {"只有计时托", "全日托和计时托"}
    assert selected_option(response, "care_type") == "hourly"


@pytest.mark.parametrize(
    ("age_months", "matches"),
    [
        pytest.param(11, False, id="one-month-too-young"),
        pytest.param(12, True, id="minimum-is-included"),
        pytest.param(23, True, id="last-month-before-maximum"),
        pytest.param(24, False, id="maximum-is-excluded"),
    ],
)
def test_search_by_age_keeps_offers_with_min_at_most_age_and_age_below_max(
    client, institution, open_places, age_months, matches
):
    open_places(institution("托小班", offers={CareType.FULL_DAY: (12, 24, 2800)}))

    response = client.get(f"/?age_months={age_months}")

    assert response.status_code == 200
    assert names(response) == (["托小班"] if matches else [])


@pytest.mark.parametrize("age_months", [36, 37, 48, 600])
def test_search_for_a_child_of_36_months_or_more_never_matches_and_says_why(
    en_client, institution, age_months
):
    institution("全年龄段", offers={CareType.FULL_DAY: (6, 36, 2800), CareType.HOURLY: (6, 36, 40)})

    response = en_client.get(f"/?age_months={age_months}")

    assert response.status_code == 200
    assert names(response) == []
    assert "Childcare here is for children under 3 (36 months)." in text(response)


def test_search_by_age_at_35_months_still_matches_an_offer_up_to_36(
    client, institution, open_places
):
    open_places(
        institution(
            "托大班",
            offers={CareType.FULL_DAY: (24, 36, 2800)},
            classes=((ClassKind.OLDER_TODDLER, 20, 3),),
        )
    )

    assert names(client.get("/?age_months=35")) == ["托大班"]


def test_search_by_care_type_and_age_needs_one_offer_satisfying_both(
    client, institution, open_places
):
    open_places(
        institution(
            "乳儿计时托与托大班全日托",
            offers={CareType.HOURLY: (6, 12, 40), CareType.FULL_DAY: (24, 36, 2800)},
            classes=((ClassKind.INFANT, 9, 3), (ClassKind.OLDER_TODDLER, 20, 3)),
        )
    )

    assert names(client.get("/?care_type=full_day&age_months=8")) == []
    assert names(client.get("/?care_type=hourly&age_months=8")) == ["乳儿计时托与托大班全日托"]


def test_search_by_birth_date_uses_the_completed_months_as_of_today(
    en_client, institution, open_places
):
    open_places(institution("托小班", offers={CareType.FULL_DAY: (12, 24, 2800)}))
    born = months_before(clock.today(), 12)

    response = en_client.get(f"/?birth_date={born.isoformat()}")

    assert response.status_code == 200
    assert names(response) == ["托小班"]
    assert "Showing places for a child of 12 months." in text(response)
    assert input_value(response, "birth_date") == born.isoformat()


def test_search_by_birth_date_counts_a_month_only_once_it_is_completed(en_client, institution):
    institution("托小班", offers={CareType.FULL_DAY: (12, 24, 2800)})
    born = months_before(clock.today(), 12) + timedelta(days=1)

    response = en_client.get(f"/?birth_date={born.isoformat()}")

    assert response.status_code == 200
    assert names(response) == []
    assert "Showing places for a child of 11 months." in text(response)


def test_search_by_a_birth_date_over_three_years_ago_never_matches(en_client, institution):
    institution("全年龄段", offers={CareType.FULL_DAY: (6, 36, 2800)})
    born = months_before(clock.today(), 36)

    response = en_client.get(f"/?birth_date={born.isoformat()}")

    assert response.status_code == 200
    assert names(response) == []
    assert "Childcare here is for children under 3 (36 months)." in text(response)


def test_search_by_nature_keeps_only_that_kind_of_institution(client, institution):
    institution("公办托育园", nature=Nature.PUBLIC)
    institution("普惠托育园", nature=Nature.INCLUSIVE)
    institution("民办托育园", nature=Nature.PRIVATE)

    response = client.get("/?nature=public")

    assert response.status_code == 200
    assert names(response) == ["公办托育园"]
    assert selected_option(response, "nature") == "public"


def test_search_text_matches_part_of_the_name(client, institution):
    institution("晋江市小橡树托育中心")
    institution("阳光宝贝托育园")

    response = client.get("/?q=橡树")

    assert response.status_code == 200
    assert names(response) == ["晋江市小橡树托育中心"]
    assert input_value(response, "q") == "橡树"


def test_search_text_matches_part_of_the_address(client, institution):
    institution("第一托育园", address="梅岭街道 泉安中路 88 号")
    institution("第二托育园", address="青阳街道 世纪大道 1 号")

    response = client.get("/?q=泉安中路")

    assert response.status_code == 200
    assert names(response) == ["第一托育园"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("abc", "ABC双语托育", id="lower-case-finds-upper-case-name"),
        pytest.param("ABC", "ABC双语托育", id="same-case-name"),
        pytest.param("century AVENUE", "世纪托育", id="mixed-case-finds-address"),
    ],
)
def test_search_text_ignores_letter_case(client, institution, query, expected):
    institution("ABC双语托育", address="青阳街道 梅岭路 2 号")
    institution("世纪托育", address="No. 8 Century Avenue, Qingyang")

    response = client.get("/", query_string={"q": query})

    assert response.status_code == 200
    assert names(response) == [expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("100%", "100%安心托育", id="percent-is-literal"),
        pytest.param("阳光_", "阳光_托育", id="underscore-is-literal"),
        pytest.param("A\\B", "A\\B托育", id="backslash-is-literal"),
    ],
)
def test_search_text_takes_like_wildcards_literally(client, institution, query, expected):
    institution("100%安心托育")
    institution("1000 安心托育")
    institution("阳光_托育")
    institution("阳光A托育")
    institution("A\\B托育")

    response = client.get("/", query_string={"q": query})

    assert response.status_code == 200
    assert names(response) == [expected]


# Combined filters and the empty result ---------------------------------------------------------

#: Query of the combined-filter tests, and what each near miss fails on.
COMBINED = {
    "township": "chendai",
    "care_type": "hourly",
    "age_months": "18",
    "nature": "public",
    "q": "阳光",
}


def _without(name: str) -> dict[str, str]:
    """``COMBINED`` without the filter ``name``."""
    return {key: value for key, value in COMBINED.items() if key != name}


@pytest.fixture
def near_misses(institution, open_places):
    """Institutions with places that each fail exactly one filter of ``COMBINED``."""
    hourly = {CareType.HOURLY: (12, 36, 40)}
    made = [
        institution("青阳阳光托育", township_code="qingyang", nature=Nature.PUBLIC, offers=hourly),
        institution("梅岭阳光托育", township_code="meiling", nature=Nature.PUBLIC, offers=hourly),
        institution(
            "陈埭阳光全日托",
            township_code="chendai",
            nature=Nature.PUBLIC,
            offers={CareType.FULL_DAY: (12, 36, 2800)},
        ),
        institution(
            "陈埭阳光乳儿托",
            township_code="chendai",
            nature=Nature.PUBLIC,
            offers={CareType.HOURLY: (6, 12, 40)},
        ),
        institution(
            "陈埭阳光民办托育", township_code="chendai", nature=Nature.PRIVATE, offers=hourly
        ),
        institution("陈埭月亮托育", township_code="chendai", nature=Nature.PUBLIC, offers=hourly),
        institution("陈埭星星托育", township_code="chendai", nature=Nature.PUBLIC, offers=hourly),
    ]
    for institution_id in made:
        open_places(institution_id)


def test_combined_filters_keep_only_institutions_matching_all_of_them(
    client, institution, open_places, near_misses
):
    open_places(
        institution(
            "陈埭阳光托育",
            township_code="chendai",
            nature=Nature.PUBLIC,
            offers={CareType.HOURLY: (12, 36, 40)},
        )
    )

    response = client.get("/", query_string=COMBINED)

    assert response.status_code == 200
    assert names(response) == ["陈埭阳光托育"]


def test_empty_result_explains_and_offers_one_widening_link_per_filter(en_client, near_misses):
    response = en_client.get("/", query_string=COMBINED)

    assert response.status_code == 200
    assert names(response) == []
    assert "0 institutions found" in text(response)
    assert "No filed institution matches all of these filters." in text(response)
    links = {label: query_of(href) for href, label in widening_links(response)}
    assert links == {
        "Search every township (2 results)": _without("township"),
        "Any care type (1 result)": _without("care_type"),
        "Any age (1 result)": _without("age_months"),
        "Any kind of institution (1 result)": _without("nature"),
        "Without the name or address (2 results)": _without("q"),
    }


def test_each_widening_link_finds_as_many_results_as_it_announces(en_client, near_misses):
    response = en_client.get("/", query_string=COMBINED)

    links = widening_links(response)
    assert len(links) == len(COMBINED)
    for href, label in links:
        announced = int(re.search(r"\((\d+) results?\)", label).group(1))
        widened = en_client.get(href)
        assert widened.status_code == 200
        assert len(names(widened)) == announced, label


def test_widening_a_birth_date_search_drops_the_birth_date_for_any_age(
    en_client, institution, open_places
):
    open_places(institution("只有全日托", offers={CareType.FULL_DAY: (6, 36, 2800)}))
    born = months_before(clock.today(), 18).isoformat()

    response = en_client.get("/", query_string={"birth_date": born, "care_type": "hourly"})

    assert response.status_code == 200
    links = {label: query_of(href) for href, label in widening_links(response)}
    assert links == {
        "Any care type (1 result)": {"birth_date": born},
        "Any age (0 results)": {"care_type": "hourly"},
    }


def test_search_for_36_months_offers_to_drop_the_age(en_client, institution):
    institution("全年龄段", offers={CareType.FULL_DAY: (6, 36, 2800)})

    response = en_client.get("/?age_months=36")

    assert widening_links(response) == [("/", "Any age (1 result)")]


def test_empty_register_says_nothing_is_filed_yet_without_widening_links(en_client):
    response = en_client.get("/")

    assert response.status_code == 200
    assert "No institution has been filed yet." in text(response)
    assert widening_links(response) == []


# Paging ----------------------------------------------------------------------------------------


def test_search_shows_20_per_page_and_page_2_shows_the_rest(en_client, institution):
    every_name = {f"托育中心{number:02d}" for number in range(21)}
    for name in sorted(every_name):
        institution(name)

    first = en_client.get("/")
    second = en_client.get("/?page=2")

    assert first.status_code == second.status_code == 200
    assert len(names(first)) == 20
    assert len(names(second)) == 1
    assert found(first) | found(second) == every_name
    assert "21 institutions found" in text(first)
    assert "21 institutions found" in text(second)
    assert "Page 1 of 2" in text(first)
    assert "Page 2 of 2" in text(second)
    assert re.search(r'<a rel="next" href="/\?page=2">', text(first))
    assert re.search(r'<a rel="prev" href="/\?page=1">', text(second))


def test_next_page_link_keeps_the_filters(en_client, institution):
    for number in range(21):
        institution(f"陈埭托育{number:02d}", township_code="chendai")
    institution("青阳托育", township_code="qingyang")

    first = en_client.get("/?township=chendai")
    next_href = unescape(re.search(r'<a rel="next" href="([^"]*)"', text(first)).group(1))

    assert query_of(next_href) == {"township": "chendai", "page": "2"}
    assert len(names(en_client.get(next_href))) == 1


# What a result shows ---------------------------------------------------------------------------


@pytest.fixture
def little_oak(institution, township):
    """A filed institution with two offers in Chendai, with English names."""
    township("chendai", TownshipKind.TOWN, name="陈埭镇", name_en="Chendai Town")
    return institution(
        "晋江市小橡树托育中心",
        name_en="Little Oak Nursery",
        township_code="chendai",
        address="陈埭镇 江头路 12 号",
        address_en="12 Jiangtou Road, Chendai",
        filing_number="JJ-TY-2024-0099",
        offers={CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (6, 36, 45)},
    )


def test_result_shows_name_township_care_types_ages_prices_and_filing_number(en_client, little_oak):
    response = en_client.get("/")

    assert response.status_code == 200
    [card] = cards(response)
    assert f'<a href="/institutions/{little_oak}">Little Oak Nursery</a>' in card
    assert "Chendai Town" in card
    assert "12 Jiangtou Road, Chendai" in card
    assert "Full-day care: ¥2,800 per month" in card
    assert "Hourly care: ¥45 per hour" in card
    assert "Ages: 6 to 36 months" in card
    assert "Filing number JJ-TY-2024-0099" in card


def test_result_is_shown_in_chinese_by_default(client, little_oak):
    response = client.get("/")

    assert response.status_code == 200
    [card] = cards(response)
    assert "晋江市小橡树托育中心" in card
    assert "陈埭镇" in card
    assert "全日托: ¥2,800/月" in card
    assert "计时托: ¥45/小时" in card
    assert "备案编号：JJ-TY-2024-0099" in card


# Bad parameters --------------------------------------------------------------------------------

#: A valid value for every filter, sent beside the bad one to check that it is kept.
GOOD_VALUES = {
    "township": "qingyang",
    "care_type": "full_day",
    "nature": "inclusive",
    "q": "阳光",
}

BAD_PARAMETERS = [
    pytest.param("township", "atlantis", "There is no such township.", id="unknown-township"),
    pytest.param("care_type", "boarding", "There is no such care type.", id="unknown-care-type"),
    pytest.param("nature", "charity", "There is no such kind of institution.", id="unknown-nature"),
    pytest.param("age_months", "-1", "Please enter a number from 0 to 600.", id="negative-age"),
    pytest.param("age_months", "601", "Please enter a number from 0 to 600.", id="huge-age"),
    pytest.param("age_months", "abc", "Please enter a whole number.", id="age-not-a-number"),
    pytest.param(
        "birth_date",
        "2024-02-30",
        "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
        id="impossible-birth-date",
    ),
    pytest.param(
        "birth_date",
        "15/05/2023",
        "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
        id="malformed-birth-date",
    ),
    pytest.param(
        "birth_date", "2099-01-01", "The birth date cannot be in the future.", id="future-birth"
    ),
    pytest.param("q", "托" * 101, "Please use at most 100 characters.", id="text-too-long"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_PARAMETERS)
def test_bad_parameter_answers_400_with_the_message_next_to_its_field(
    en_client, institution, field, value, message
):
    institution("青阳托育", township_code="qingyang")

    response = en_client.get("/", query_string={field: value})

    assert response.status_code == 400
    body = text(response)
    assert "Please correct the marked fields." in body
    assert f'<p class="error" id="{field}-error">{message}</p>' in body
    control = re.search(rf'<(?:input|select) id="{field}" name="{field}"[^>]*>', body).group(0)
    assert re.search(rf'aria-describedby="[^"]*\b{field}-error\b', control)
    assert 'aria-invalid="true"' in control


@pytest.mark.parametrize(("field", "value", "message"), BAD_PARAMETERS)
def test_bad_parameter_keeps_what_the_user_typed(en_client, institution, field, value, message):
    institution("青阳托育", township_code="qingyang")
    sent = {name: good for name, good in GOOD_VALUES.items() if name != field} | {field: value}

    response = en_client.get("/", query_string=sent)

    assert response.status_code == 400
    for name, typed in sent.items():
        if name in ("q", "age_months", "birth_date"):
            assert input_value(response, name) == typed, name
        elif name != field:
            assert selected_option(response, name) == typed, name


def test_typed_text_is_kept_escaped(en_client):
    typed = '"><script>alert(1)</script>'

    response = en_client.get("/", query_string={"q": typed, "age_months": "-1"})

    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in text(response)
    assert input_value(response, "q") == typed


def test_every_bad_parameter_gets_its_own_message(en_client):
    response = en_client.get("/?township=atlantis&age_months=abc&birth_date=2024-13-01")

    assert response.status_code == 400
    body = text(response)
    assert '<p class="error" id="township-error">There is no such township.</p>' in body
    assert '<p class="error" id="age_months-error">Please enter a whole number.</p>' in body
    assert '<p class="error" id="birth_date-error">Please enter a date as YYYY-MM-DD' in body


@pytest.mark.parametrize(
    ("page", "message"),
    [
        pytest.param("0", "Please enter a number from 1 to 100000.", id="page-0"),
        pytest.param("-1", "Please enter a number from 1 to 100000.", id="negative-page"),
        pytest.param("abc", "Please enter a whole number.", id="page-not-a-number"),
    ],
)
def test_bad_page_number_answers_400_and_says_what_is_wrong(en_client, institution, page, message):
    institution("青阳托育")

    response = en_client.get("/", query_string={"page": page})

    assert response.status_code == 400
    assert "Please correct the marked fields." in text(response)
    # No input holds the page number, so the message is the only way to tell what is wrong.
    assert message in text(response)


@pytest.mark.parametrize(
    ("field", "value", "msgid", "params"),
    [
        ("township", "atlantis", "There is no such township.", {}),
        ("care_type", "boarding", "There is no such care type.", {}),
        (
            "age_months",
            "-1",
            "Please enter a number from %(minimum)d to %(maximum)d.",
            {"minimum": 0, "maximum": 600},
        ),
        ("age_months", "abc", "Please enter a whole number.", {}),
        (
            "birth_date",
            "2024-02-30",
            "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
            {},
        ),
        ("birth_date", "2099-01-01", "The birth date cannot be in the future.", {}),
    ],
)
def test_bad_parameter_message_is_in_chinese_by_default(client, field, value, msgid, params):
    response = client.get("/", query_string={field: value})

    assert response.status_code == 400
    assert '<html lang="zh-CN">' in text(response)
    expected = chinese(msgid, **params)
    assert f'<p class="error" id="{field}-error">{expected}</p>' in text(response)


# The search service ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "today", "age_months"),
    [
        pytest.param("2024-05-15", date(2024, 5, 15), 0, id="born-today"),
        pytest.param("2023-05-15", date(2024, 5, 15), 12, id="first-birthday"),
        pytest.param("2023-05-15", date(2024, 5, 14), 11, id="day-before-first-birthday"),
        pytest.param("2023-12-20", date(2024, 2, 19), 1, id="across-new-year"),
        pytest.param("2021-05-15", date(2024, 5, 15), 36, id="third-birthday"),
    ],
)
def test_parse_criteria_turns_a_birth_date_into_completed_months(
    app, birth_date, today, age_months
):
    with app.app_context():
        criteria = search.parse_criteria({"birth_date": birth_date}, today)

    assert criteria.age_months == age_months


def test_parse_criteria_refuses_a_birth_date_after_today(app):
    with app.app_context(), pytest.raises(InvalidParameters) as refused:
        search.parse_criteria({"birth_date": "2024-05-16"}, date(2024, 5, 15))

    assert set(refused.value.errors) == {"birth_date"}


def test_parse_criteria_reports_every_bad_parameter_at_once(app, township):
    township("qingyang")
    args = {"township": "atlantis", "care_type": "boarding", "age_months": "-1", "q": "x" * 101}

    with app.app_context(), pytest.raises(InvalidParameters) as refused:
        search.parse_criteria(args, date(2024, 5, 15))

    assert set(refused.value.errors) == {"township", "care_type", "age_months", "q"}


def test_parse_criteria_accepts_known_values_and_strips_spaces(app, township):
    township("qingyang")
    args = {"township": " qingyang ", "care_type": "hourly", "age_months": "18", "q": " 阳光 "}

    with app.app_context():
        criteria = search.parse_criteria(args, date(2024, 5, 15))

    assert criteria == search.SearchCriteria(
        township="qingyang", care_type="hourly", age_months=18, q="阳光"
    )


def test_search_service_counts_all_matches_and_pages_them(app, institution):
    for number in range(5):
        institution(f"托育{number}", offers={CareType.HOURLY: (12, 36, 40)})
    institution("只有全日托")
    criteria = search.SearchCriteria(care_type="hourly")

    with app.app_context():
        total = search.count_matching(criteria)
        page = search.search_institutions(criteria, page=2, per_page=2)

        assert total == 5
        assert (page.total, page.page, page.pages, len(page.items)) == (5, 2, 3, 2)
        assert all(item.offer_for(CareType.HOURLY) for item in page.items)


# Places a child can book --------------------------------------------------------------------


def _slot_in(app, institution_id: int, kind: ClassKind, care_type: CareType, day, hours) -> int:
    """A slot of three places in the institution's class of ``kind``."""
    with app.app_context():
        care_class = db.session.scalar(
            sa.select(CareClass).where(
                CareClass.institution_id == institution_id, CareClass.kind == kind
            )
        )
        made = booking.add_slot(care_class, care_type, day, *hours, 3, day)
        db.session.commit()
        return made.id


def test_care_type_and_age_find_only_a_place_in_a_class_of_that_age(app, client, institution):
    sunshine = institution(
        "陈埭小太阳托育园",
        township_code="chendai",
        offers={CareType.TEMPORARY: (12, 36, 150), CareType.FULL_DAY: (12, 36, 2800)},
        classes=((ClassKind.TODDLER, 15, 3), (ClassKind.OLDER_TODDLER, 20, 3)),
    )
    week = clock.today() + timedelta(days=7)
    day_hours = (time(8), time(17, 30))
    _slot_in(app, sunshine, ClassKind.OLDER_TODDLER, CareType.TEMPORARY, week, day_hours)
    _slot_in(app, sunshine, ClassKind.TODDLER, CareType.FULL_DAY, week, day_hours)
    query = "/?township=chendai&care_type=temporary&age_months=20"

    assert names(client.get(query)) == [], "its temporary places are all for 24–36 months"
    _slot_in(app, sunshine, ClassKind.TODDLER, CareType.TEMPORARY, week, day_hours)
    assert names(client.get(query)) == ["陈埭小太阳托育园"]


def test_card_finds_a_free_place_after_more_candidates_than_it_reads_first_lack_room(
    app, en_client, institution
):
    """A card reads each institution's first few candidate slots, then the rest only when
    those all lack room: a full class in the morning must not hide the afternoon's place."""
    hourly_and_temporary = {CareType.HOURLY: (6, 36, 40), CareType.TEMPORARY: (6, 36, 150)}
    busy = institution(
        "上午满员", offers=hourly_and_temporary, classes=((ClassKind.TODDLER, 3, 1),)
    )
    tomorrow = clock.local_now().date() + timedelta(days=1)
    blocked = availability.FIRST_CANDIDATES + 1
    for hour in range(8, 8 + blocked):
        _slot_in(
            app, busy, ClassKind.TODDLER, CareType.HOURLY, tomorrow, (time(hour), time(hour + 1))
        )
    morning_end = time(8 + blocked)
    filling = _slot_in(
        app, busy, ClassKind.TODDLER, CareType.TEMPORARY, tomorrow, (time(8), morning_end)
    )
    _slot_in(app, busy, ClassKind.TODDLER, CareType.HOURLY, tomorrow, (time(15), time(16)))
    with app.app_context():
        # Three children fill the class of three places all morning.
        db.session.get(Slot, filling).inventory.taken = 3
        db.session.commit()

    card = unescape(cards(en_client.get("/?care_type=hourly"))[0])

    assert "tomorrow from 15:00: 3 places free" in card


def test_card_never_skips_an_unread_candidate_for_a_later_slot_holding_children(
    app, en_client, institution
):
    """Slots holding children are read beside the first candidates: one of them, later than
    a candidate not read yet, must not be shown as the next free place."""
    hourly_and_temporary = {CareType.HOURLY: (6, 36, 40), CareType.TEMPORARY: (6, 36, 150)}
    busy = institution(
        "上午满员", offers=hourly_and_temporary, classes=((ClassKind.TODDLER, 3, 1),)
    )
    tomorrow = clock.local_now().date() + timedelta(days=1)
    blocked = availability.FIRST_CANDIDATES
    for hour in range(8, 8 + blocked + 1):
        _slot_in(
            app, busy, ClassKind.TODDLER, CareType.HOURLY, tomorrow, (time(hour), time(hour + 1))
        )
    filling = _slot_in(
        app, busy, ClassKind.TODDLER, CareType.TEMPORARY, tomorrow, (time(8), time(8 + blocked))
    )
    later = _slot_in(app, busy, ClassKind.TODDLER, CareType.HOURLY, tomorrow, (time(15), time(16)))
    with app.app_context():
        # The class is full until the first candidate after the blocked ones; one child
        # is booked at 15:00 already.
        db.session.get(Slot, filling).inventory.taken = 3
        db.session.get(Slot, later).inventory.taken = 1
        db.session.commit()

    card = unescape(cards(en_client.get("/?care_type=hourly"))[0])

    assert f"tomorrow from {8 + blocked}:00: 3 places free" in card


def test_result_card_shows_the_next_free_place_for_the_criteria(app, en_client, institution):
    hourly = {CareType.HOURLY: (6, 36, 40)}
    open_soon = institution("明天有空位", offers=hourly)
    institution("暂无空位", offers=hourly)
    tomorrow = clock.local_now().date() + timedelta(days=1)
    _slot_in(app, open_soon, ClassKind.TODDLER, CareType.HOURLY, tomorrow, (time(14), time(16)))

    response = en_client.get("/?care_type=hourly")

    by_name = {unescape(CARD_NAME.search(card).group(1)): card for card in cards(response)}
    assert "tomorrow from 14:00: 3 places free" in unescape(by_name["明天有空位"])
    assert "No free place in the next 14 days" in unescape(by_name["暂无空位"])
