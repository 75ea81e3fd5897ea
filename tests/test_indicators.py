"""The policies' indicators, exactly (issue 17, items 8–11).

- 70 % (002 (四)) is over the registration authorities' list, imported by the bureau;
- 4.5 places per 1,000 (001 一, 002 一) is the region's figure, shown before its townships;
  each region's targets are settings;
- guidance reach (001 一, 002 (二)) is over every family with children under 3 in the area;
- 80 % certified staff (003 二) is a region aggregate, not a rule for each institution.
"""

import io
import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
import sqlalchemy as sa
from conftest import valid_uscc
from downloads import read_csv

from careapp import clock
from careapp.demo.regions import REGIONS
from careapp.extensions import db
from careapp.models import (
    Authority,
    Region,
    RegionTargets,
    RegisteredOperator,
    Role,
    Status,
    TownshipFamilies,
    TownshipKind,
)
from careapp.services import operators, statistics

TODAY = date(2026, 11, 30)


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


def plain(html: str) -> str:
    """``html`` without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def section(response, heading_id: str) -> str:
    """The text of the section labelled ``heading_id``."""
    found = re.search(
        rf'aria-labelledby="{heading_id}">(.*?)</section>', page_text(response), re.DOTALL
    )
    assert found, f"no section {heading_id}"
    return plain(found[1])


def field_error(response, field_id: str) -> str | None:
    """The error message shown with the form field ``field_id``, if any."""
    found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page_text(response))
    return found[1] if found else None


@pytest.fixture
def regulator(client, auth, user):
    """A client signed in as the county health bureau, reading English."""
    auth.login(user(Role.REGULATOR))
    client.set_cookie("lang", "en")
    return client


def jinjiang() -> Region:
    return db.session.scalar(sa.select(Region).where(Region.code == "jinjiang"))


def csv_file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def upload(client, data: bytes, code: str = "jinjiang"):
    """POST a file to the operators import of region ``code``."""
    return client.post(
        f"/regulator/regions/{code}/operators",
        data={"operators": (io.BytesIO(data), "operators.csv")},
        content_type="multipart/form-data",
    )


def stored_operators(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                RegisteredOperator.uscc,
                RegisteredOperator.name,
                RegisteredOperator.authority,
                RegisteredOperator.registered_on,
            ).order_by(RegisteredOperator.uscc)
        )
        return [tuple(row) for row in rows]


# --- 8. the share that applied for filing, over the authorities' list ---------------------

CIVIL = valid_uscc("5")
MARKET = valid_uscc("9")
STAFFING = valid_uscc("1")
OTHER = valid_uscc("5")


@pytest.fixture
def listed(app, institution, township):
    """Four operators on the list: one filed, one returned, one with a draft only, one never
    here; a filed institution whose operator is not on the list."""
    township("qingyang")
    institution("甲托育", uscc=CIVIL, status=Status.FILED)
    institution("乙托育", uscc=MARKET, authority=Authority.MARKET_REGULATION,
                status=Status.RETURNED)  # fmt: skip
    institution("丙托育", uscc=STAFFING, authority=Authority.STAFFING_OFFICE, status=Status.DRAFT)
    institution("不在名单", uscc=valid_uscc("5"), status=Status.FILED)
    with app.app_context():
        rows = operators.parse_list(
            csv_file(
                "统一社会信用代码,名称,登记机关,登记日期",
                f"{CIVIL},甲,民政,2024-01-02",
                f"{MARKET},乙,市场监管,2024/02/03",
                f"{STAFFING},丙,机构编制,2024.03.04",
                f"{OTHER},丁,civil_affairs,2024-04-05",
            ),
            TODAY,
        )
        assert rows.errors == []
        operators.import_list(jinjiang(), rows.rows, clock.now())
        db.session.commit()


def test_applied_share_is_over_the_authorities_list_not_the_applications(app, listed):
    with app.app_context():
        region = jinjiang()
        measure = statistics.applied_share(region, statistics.region_targets(region))
        missing = [operator.name for operator in statistics.operators_not_applied(region)]

    # Applied: 甲 (filed) and 乙 (returned: it applied, whatever came of it) = 2 of 4 = 50 %,
    # below the 70 % of 002 (四). A draft is no application; the filed institution that is
    # not on the list counts in neither part nor whole.
    assert (measure.part, measure.whole, measure.share) == (2, 4, Decimal("0.5"))
    assert measure.target == Decimal("0.7")
    assert measure.meets_target is False
    assert missing == ["丙", "丁"]


def test_operators_page_lists_those_that_have_not_applied(regulator, listed):
    response = regulator.get("/regulator/regions/jinjiang/operators")

    assert response.status_code == 200
    text = section(response, "not-applied-heading")
    assert f"丙 {STAFFING} Staffing office" in text or "丙" in text
    assert "丁" in text
    assert "甲" not in text
    assert "乙" not in text
    assert "2 of 4 operators have applied (50.0%)." in plain(page_text(response))


def test_operators_not_applied_csv_holds_them(regulator, listed):
    rows = read_csv(regulator.get("/regulator/dashboard/operators-not-applied.csv"))

    assert rows[0] == ["USCC", "Name", "Registration authority", "Registered on"]
    assert [row[:2] for row in rows[1:]] == [[STAFFING, "丙"], [OTHER, "丁"]]
    assert [row[3] for row in rows[1:]] == ["2024-03-04", "2024-04-05"]


def test_import_adds_then_updates_by_uscc(app, regulator, township):
    township("qingyang")
    first = upload(regulator, csv_file(f"{CIVIL},甲托育,民政,2024-01-02"))

    assert first.status_code == 302
    assert first.location == "/regulator/regions/jinjiang/operators"
    assert stored_operators(app) == [(CIVIL, "甲托育", Authority.CIVIL_AFFAIRS, date(2024, 1, 2))]

    again = upload(
        regulator,
        csv_file(f"{CIVIL},甲托育（更名）,民政,2024-01-05", f"{MARKET},乙托育,市场监管,2024-02-03"),
    )

    assert again.status_code == 302
    assert "1 operators added, 1 updated" in plain(page_text(regulator.get(again.location)))
    assert stored_operators(app) == [
        (CIVIL, "甲托育（更名）", Authority.CIVIL_AFFAIRS, date(2024, 1, 5)),
        (MARKET, "乙托育", Authority.MARKET_REGULATION, date(2024, 2, 3)),
    ]


BAD_ROWS = [
    ("91350582MA2XXXXXX0,名称,市场监管,2024-01-02", "is not a valid Unified Social Credit Code"),
    (f"{CIVIL},名称,市场监管,2024-01-02", "was not issued by the authority named"),
    (f"{CIVIL},名称,教育局,2024-01-02", "Unknown registration authority “教育局”"),
    (f"{CIVIL},,民政,2024-01-02", "Please give the name"),
    (f"{CIVIL},名称,民政,02/01/2024", "is not a registration date"),
    (f"{CIVIL},名称,民政,2099-01-02", "is not a registration date"),
    (f"{CIVIL},名称,民政", "Expected 4 columns"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_a_wrong_row_imports_nothing_and_names_its_line(app, regulator, township, row, message):
    township("qingyang")
    response = upload(regulator, csv_file(f"{MARKET},好的一行,市场监管,2024-01-02", row))

    assert response.status_code == 400
    text = plain(page_text(response))
    assert "Nothing was imported: 1 row is wrong." in text
    assert "Line 2:" in text
    assert message in text
    assert stored_operators(app) == []


def test_the_same_code_twice_is_refused(app, regulator, township):
    township("qingyang")
    response = upload(
        regulator, csv_file(f"{CIVIL},甲,民政,2024-01-02", f"{CIVIL},甲二,民政,2024-01-03")
    )

    assert response.status_code == 400
    assert "Line 2: The same code is already on line 1." in plain(page_text(response))
    assert stored_operators(app) == []


def test_row_errors_are_in_chinese_on_a_chinese_page(app, regulator, township):
    township("qingyang")
    regulator.set_cookie("lang", "zh_CN")
    response = upload(regulator, csv_file(f"{CIVIL},名称,市场监管,2024-01-02"))

    assert response.status_code == 400
    text = plain(page_text(response))
    assert "未导入任何数据" in text
    assert "第 1 行" in text
    assert "Line 1" not in text
    assert "was not issued" not in text


def test_a_file_that_is_no_text_or_no_file_is_refused(app, regulator, township):
    township("qingyang")
    binary = upload(regulator, b"\xff\xfe\x00\x81\x00")
    missing = regulator.post("/regulator/regions/jinjiang/operators", data={})

    assert binary.status_code == 400
    assert "The file is not text in UTF-8 or GB 18030." in plain(page_text(binary))
    assert missing.status_code == 400
    assert field_error(missing, "operators") == "Please choose the CSV file."
    assert stored_operators(app) == []


def test_gb18030_file_from_excel_is_read(app, regulator, township):
    township("qingyang")
    response = upload(regulator, f"{CIVIL},甲托育,民政局,2024-01-02\n".encode("gb18030"))

    assert response.status_code == 302
    assert stored_operators(app)[0][:2] == (CIVIL, "甲托育")


def test_approval_bureau_registers_by_the_codes_first_character(app):
    """004 item 10: a county's 行政审批服务局 registers non-profit and for-profit operators."""
    with app.app_context():
        parsed = operators.parse_list(
            csv_file(f"{CIVIL},甲,行政审批服务局,2024-01-02", f"{MARKET},乙,行政审批,2024-01-02"),
            TODAY,
        )

    assert parsed.errors == []
    assert [row.authority for row in parsed.rows] == [
        Authority.CIVIL_AFFAIRS,
        Authority.MARKET_REGULATION,
    ]


# --- 9. places per 1,000 region-wide first; targets are settings -------------------------


def set_population(app, code: str, population: int) -> None:
    from careapp.models import Township

    with app.app_context():
        db.session.execute(
            sa.update(Township).where(Township.code == code).values(population=population)
        )
        db.session.commit()


@pytest.fixture
def two_townships(app, institution, township):
    """Qingyang 20,000 residents with 15 places, Anhai 10,000 with none."""
    township("qingyang", position=1)
    township("anhai", TownshipKind.TOWN, name="安海镇", position=2)
    institution("甲托育")
    set_population(app, "qingyang", 20_000)
    set_population(app, "anhai", 10_000)


def test_public_page_leads_with_the_region_figure(client, two_townships):
    response = client.get("/statistics", query_string={"lang": "en"})

    html = page_text(response)
    assert html.index('id="region-heading"') < html.index('id="townships-heading"')
    text = section(response, "region-heading")
    # 15 places for 30,000 residents: 0.5 per 1,000, against 4.5; 1 of 2 townships covered.
    assert "Places per 1,000 residents 0.50" in text
    assert "Target for 2025 4.5 Missed" in text
    assert "50.0% · target 80.0% Missed" in text


def test_public_page_region_figure_in_chinese(client, two_townships):
    response = client.get("/statistics", query_string={"lang": "zh_CN"})

    text = section(response, "region-heading")
    assert "全市" in text or "全区" in text or "整个地区" in text
    assert not re.search(r"Places|Target|Townships", text)


def test_api_gives_the_region_figures_beside_the_townships(client, two_townships):
    body = client.get("/api/v1/statistics/townships").json

    assert body["region"] == {
        "code": "jinjiang",
        "name": "晋江市",
        "places": 15,
        "population": 30000,
        "places_per_1000": 0.5,
        "target_places_per_1000": 4.5,
        "covered_share": 0.5,
        "target_covered_share": 0.8,
    }
    assert [item["code"] for item in body["items"]] == ["qingyang", "anhai"]


def test_region_targets_are_settings_the_bureau_edits(app, client, regulator, two_townships):
    assert client.get("/api/v1/statistics/townships").json["region"]["target_covered_share"] == 0.8
    client.get("/statistics")  # kept by the front cache

    saved = regulator.post(
        "/regulator/regions/jinjiang",
        data={"places_per_1000": "5.0", "covered_share": "90", "applied_share": "",
              "guidance_share": "95", "newborn_guidance_share": "50",
              "certified_staff_share": "80"},
    )  # fmt: skip

    assert saved.status_code == 302
    with app.app_context():
        targets = db.session.get(RegionTargets, jinjiang().id)
        assert targets.places_per_1000 == Decimal("5.0")
        assert targets.covered_share == Decimal("0.9")
        assert targets.applied_share is None
        assert targets.certified_staff_share == Decimal("0.8")
    regulator.get("/logout")
    anonymous = client.get("/statistics", query_string={"lang": "en"})
    assert "Target for 2025 5.0" in section(anonymous, "region-heading")
    assert "target 90.0%" in section(anonymous, "region-heading")
    region = client.get("/api/v1/statistics/townships").json["region"]
    assert (region["target_places_per_1000"], region["target_covered_share"]) == (5.0, 0.9)


PER_CENT_MESSAGE = "Please enter a per cent from 0 to 100, or nothing for no target."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("covered_share", "101", PER_CENT_MESSAGE),
        ("applied_share", "seventy", PER_CENT_MESSAGE),
        ("places_per_1000", "", "Please enter the target, a number from 0 to 99, for example 4.5."),
    ],
)  # fmt: skip
def test_region_targets_form_refuses_bad_input_and_saves_nothing(
    app, regulator, two_townships, field, value, message
):
    data = {"places_per_1000": "4.5", "covered_share": "80", "applied_share": "70", field: value}
    response = regulator.post("/regulator/regions/jinjiang", data=data)

    assert response.status_code == 400
    assert field_error(response, field) == message
    assert f'value="{value}"' in page_text(response)
    with app.app_context():
        assert db.session.get(RegionTargets, jinjiang().id) is None


def test_yongan_minimums_are_only_those_001_names_and_xiang_is_its_own_kind():
    townships = {township.code: township for township in REGIONS["yongan"].townships}
    minimums = {code: township.min_institutions for code, township in townships.items()}

    # 001 二(一)1: 燕南 4; 燕东、燕西、燕北 2; 曹远、大湖、安砂、小陶、西洋、贡川 1.
    assert minimums == {
        "yandong": 2, "yanxi": 2, "yannan": 4, "yanbei": 2,
        "xiyang": 1, "gongchuan": 1, "ansha": 1, "xiaotao": 1, "dahu": 1, "caoyuan": 1,
        "hongtian": 0, "huainan": 0, "shangping": 0, "luofang": 0, "qingshui": 0,
    }  # fmt: skip
    xiang = {code for code, township in townships.items() if township.kind == TownshipKind.TOWNSHIP}
    assert xiang == {"shangping", "luofang", "qingshui"}
    assert townships["shangping"].name == "上坪乡"
    assert townships["qingshui"].name == "青水畲族乡"
    assert all(
        township.name.endswith("镇")
        for township in townships.values()
        if township.kind == TownshipKind.TOWN
    )


# --- 10. guidance reach over every family of the area ------------------------------------


def test_township_form_saves_the_families_and_the_dashboard_divides_by_them(
    app, regulator, two_townships
):
    saved = regulator.post(
        "/regulator/townships/qingyang",
        data={"population": "20000", "population_as_of": "2025-01-01", "min_institutions": "1",
              "target_places_per_1000": "4.5", "families_under_3": "400",
              "newborn_families": "120", "families_as_of": "2025-06-30"},
    )  # fmt: skip

    assert saved.status_code == 302
    with app.app_context():
        families = db.session.get(TownshipFamilies, two_townships_id(app, "qingyang"))
        assert (families.families_under_3, families.newborn_families) == (400, 120)
        assert families.as_of == date(2025, 6, 30)
    rows = read_csv(regulator.get("/regulator/dashboard/indicators.csv"))
    by_name = {row[0]: row for row in rows}
    assert by_name["Families with children under 3 reached by guidance"][1:3] == ["0", "400"]
    assert by_name["Newborn families reached by guidance"][1:5] == ["0", "120", "0.0", "50.0"]
    dashboard = regulator.get("/regulator/dashboard")
    assert "the oldest figure is dated 2025-06-30" in section(dashboard, "indicators-heading")


def two_townships_id(app, code: str) -> int:
    from careapp.models import Township

    with app.app_context():
        return db.session.scalar(sa.select(Township.id).where(Township.code == code))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"families_under_3": "100", "newborn_families": "200", "families_as_of": "2025-06-30"},
         "newborn_families", "Newborn families are some of the families with children under 3."),
        ({"families_under_3": "100", "families_as_of": ""},
         "families_as_of", "Please enter the date of the figure."),
        ({"families_under_3": "-1", "families_as_of": "2025-06-30"},
         "families_under_3", "Please enter a whole number from 0 to 10,000,000, or nothing."),
    ],
)  # fmt: skip
def test_township_families_refuse_bad_input_and_save_nothing(
    app, regulator, two_townships, data, field, message
):
    base = {"population": "20000", "population_as_of": "2025-01-01", "min_institutions": "1",
            "target_places_per_1000": "4.5"}  # fmt: skip
    response = regulator.post("/regulator/townships/qingyang", data={**base, **data})

    assert response.status_code == 400
    assert field_error(response, field) == message
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TownshipFamilies)) == 0


# --- 11. certified staff: a region aggregate, a fact per institution ---------------------


def test_certified_staff_is_the_regions_aggregate_against_its_own_target(
    app, institution, township
):
    township("qingyang")
    institution("甲", staff_count=10, certified_staff_count=9)
    institution("乙", staff_count=10, certified_staff_count=6)
    institution("未备案", status=Status.UNDER_REVIEW, staff_count=10, certified_staff_count=0)
    with app.app_context():
        region = jinjiang()
        without = statistics.certified_staff(region, statistics.region_targets(region))
        targets = RegionTargets.defaults_for(region)
        targets.certified_staff_share = Decimal("0.8")
        db.session.add(targets)
        db.session.commit()
        with_target = statistics.certified_staff(region, statistics.region_targets(region))

    # Filed only: 15 of 20 = 75 %. No target unless the region sets one (003 二 is Lucheng's).
    assert (without.part, without.whole, without.share) == (15, 20, Decimal("0.75"))
    assert without.target is None
    assert without.meets_target is None
    assert with_target.meets_target is False


def test_institution_page_states_the_certified_share_as_a_fact(client, institution, township):
    township("qingyang")
    institution_id = institution("乙", staff_count=10, certified_staff_count=6)

    text = plain(page_text(client.get(f"/institutions/{institution_id}?lang=en")))

    assert "6 of 10 staff hold a childcare certificate. (60.0%)" in text
    assert "target" not in text.split("6 of 10 staff")[1][:80]


# --- cost --------------------------------------------------------------------------------


def test_dashboard_costs_the_same_queries_however_long_the_list(
    app, regulator, listed, count_queries
):
    regulator.get("/regulator/dashboard")
    with count_queries() as few:
        regulator.get("/regulator/dashboard")
    with app.app_context():
        region = jinjiang()
        db.session.add_all(
            RegisteredOperator(region_id=region.id, uscc=valid_uscc("9"), name=f"运营者{n}",
                               authority=Authority.MARKET_REGULATION,
                               registered_on=date(2024, 1, 1))
            for n in range(40)
        )  # fmt: skip
        db.session.commit()
    with count_queries() as many:
        regulator.get("/regulator/dashboard")

    assert len(many) == len(few)


def test_xiang_is_its_own_kind_in_the_api_and_the_township_menu(client, township):
    township("shangping", TownshipKind.TOWNSHIP, name="上坪乡", name_en="Shangping Township")

    items = client.get("/api/v1/townships").json["items"]
    menu = page_text(client.get("/", query_string={"lang": "en"}))

    assert [(item["code"], item["kind"]) for item in items] == [("shangping", "township")]
    assert '<optgroup label="Townships (乡)">' in menu
