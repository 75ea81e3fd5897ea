"""Quality grades and demonstration (示范) designations: recorded by the bureau, public and
searchable."""

import pytest
import sqlalchemy as sa
from conftest import AuthActions

from careapp import clock
from careapp.extensions import db
from careapp.models import Designation, Institution, Role, Status

ASSESSMENT = {
    "assessment-grade": "good",
    "assessment-assessed_on": "2026-06-01",
    "assessment-assessor": "晋江市卫健局评估组",
    "assessment-standard": "托育机构质量评估标准",
}
DESIGNATION = {
    "designation-title": "晋江市示范性托育机构",
    "designation-designated_on": "2026-09-01",
}


@pytest.fixture
def bureau(client, auth, user):
    """The client, signed in as a regulator."""
    auth.login(user(Role.REGULATOR))
    return client


def institution_row(app, institution_id: int) -> Institution:
    """The institution as stored."""
    with app.app_context():
        found = db.session.get(Institution, institution_id)
        db.session.expunge(found)
        return found


def quality_url(institution_id: int, tail: str = "") -> str:
    return f"/regulator/institutions/{institution_id}/quality{tail}"


def test_recorded_grade_shows_on_the_public_page_with_its_date_assessor_and_standard(
    app, bureau, institution
):
    filed = institution()

    saved = bureau.post(quality_url(filed, "/assessments"), data=ASSESSMENT)
    bureau.post("/logout")
    page = bureau.get(f"/institutions/{filed}").get_data(as_text=True)

    assert saved.status_code == 302
    assert saved.location.endswith(quality_url(filed))
    assert institution_row(app, filed).quality_grade == "good"
    section = page[page.index('id="quality-heading"') :]
    assert "良好" in section
    assert "2026-06-01" in section
    assert "晋江市卫健局评估组" in section
    assert "托育机构质量评估标准" in section


def test_the_latest_assessment_by_date_gives_the_grade(app, bureau, institution):
    filed = institution()

    bureau.post(quality_url(filed, "/assessments"), data=ASSESSMENT)
    bureau.post(
        quality_url(filed, "/assessments"),
        data=ASSESSMENT | {"assessment-grade": "excellent", "assessment-assessed_on": "2026-01-01"},
    )

    assert institution_row(app, filed).quality_grade == "good"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"assessment-grade": ""}, "assessment-grade"),
        ({"assessment-grade": "perfect"}, "assessment-grade"),
        ({"assessment-assessor": ""}, "assessment-assessor"),
        ({"assessment-standard": ""}, "assessment-standard"),
        ({"assessment-assessed_on": "2999-01-01"}, "assessment-assessed_on"),
    ],
)
def test_an_incomplete_assessment_is_refused_and_kept(app, bureau, institution, change, field):
    filed = institution()

    response = bureau.post(quality_url(filed, "/assessments"), data=ASSESSMENT | change)

    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert institution_row(app, filed).quality_grade is None


def test_designation_drives_the_demonstration_flag_and_can_be_revoked(app, bureau, institution):
    filed = institution()

    designated = bureau.post(quality_url(filed, "/designation"), data=DESIGNATION)
    flagged = institution_row(app, filed).is_demonstration
    public = bureau.get(f"/institutions/{filed}").get_data(as_text=True)
    revoked = bureau.post(
        quality_url(filed, "/designation/revoke"),
        data={"revoke-revoked_on": clock.today().isoformat(), "revoke-reason": "复评不合格"},
    )

    assert (designated.status_code, revoked.status_code) == (302, 302)
    assert flagged is True
    assert "晋江市示范性托育机构" in public
    assert "2026-09-01" in public
    assert institution_row(app, filed).is_demonstration is False
    with app.app_context():
        [record] = db.session.scalars(sa.select(Designation)).all()
        assert (record.revoked_on, record.revoke_reason) == (clock.today(), "复评不合格")


def test_a_second_designation_while_one_stands_is_refused(app, bureau, institution):
    filed = institution()
    bureau.post(quality_url(filed, "/designation"), data=DESIGNATION)

    again = bureau.post(quality_url(filed, "/designation"), data=DESIGNATION)

    assert again.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Designation.id))) == 1


def test_revoking_without_a_designation_changes_nothing(app, bureau, institution):
    filed = institution()

    response = bureau.post(
        quality_url(filed, "/designation/revoke"),
        data={"revoke-revoked_on": clock.today().isoformat(), "revoke-reason": "x"},
    )

    assert response.status_code == 409
    assert institution_row(app, filed).is_demonstration is False


def test_revocation_cannot_predate_the_designation(app, bureau, institution):
    filed = institution()
    bureau.post(quality_url(filed, "/designation"), data=DESIGNATION)

    response = bureau.post(
        quality_url(filed, "/designation/revoke"),
        data={"revoke-revoked_on": "2026-08-01", "revoke-reason": "x"},
    )

    assert response.status_code == 409
    assert institution_row(app, filed).is_demonstration is True


@pytest.mark.parametrize("status", [Status.DRAFT, Status.UNDER_REVIEW, Status.DEREGISTERED])
def test_only_filed_institutions_are_graded(app, bureau, institution, status):
    hidden = institution(status=status)

    answers = [
        bureau.get(quality_url(hidden)).status_code,
        bureau.post(quality_url(hidden, "/assessments"), data=ASSESSMENT).status_code,
        bureau.post(quality_url(hidden, "/designation"), data=DESIGNATION).status_code,
    ]

    assert answers == [404, 404, 404]


def test_a_cached_public_page_shows_a_new_grade_and_designation_at_once(
    app, client, user, institution
):
    filed = institution()
    before = client.get(f"/institutions/{filed}").get_data(as_text=True)
    assert client.get(f"/institutions/{filed}").headers["X-Page-Cache"] == "hit"
    regulator = app.test_client()
    AuthActions(regulator, app).login(user(Role.REGULATOR))
    regulator.post(quality_url(filed, "/assessments"), data=ASSESSMENT)
    regulator.post(quality_url(filed, "/designation"), data=DESIGNATION)

    answer = client.get(f"/institutions/{filed}")
    listing = client.get("/").get_data(as_text=True)

    assert "尚未评估" in before
    assert answer.headers["X-Page-Cache"] == "miss"
    assert "良好" in answer.get_data(as_text=True)
    assert "晋江市示范性托育机构" in answer.get_data(as_text=True)
    assert "示范" in listing[listing.index('id="results"') :]


# --- search ---------------------------------------------------------------------------------


@pytest.fixture
def graded(institution) -> dict[str, int]:
    """Four filed institutions: one per grade, the good one a demonstration institution, and
    one never assessed."""
    return {
        "excellent": institution("优秀托育园", quality_grade="excellent"),
        "good": institution("良好托育园", quality_grade="good", is_demonstration=True),
        "qualified": institution("合格托育园", quality_grade="qualified"),
        "none": institution("未评估托育园"),
    }


def listed_names(client, query: str) -> set[str]:
    """Names of the institutions the API lists for ``query``."""
    return {item["name"] for item in client.get(f"/api/v1/institutions?{query}").json["items"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quality_grade=excellent", {"优秀托育园"}),
        ("quality_grade=good", {"优秀托育园", "良好托育园"}),
        ("quality_grade=qualified", {"优秀托育园", "良好托育园", "合格托育园"}),
        ("demonstration=true", {"良好托育园"}),
        ("demonstration=1&quality_grade=excellent", set()),
        ("demonstration=false", {"优秀托育园", "良好托育园", "合格托育园", "未评估托育园"}),
    ],
)
def test_api_filters_by_grade_or_better_and_by_demonstration(client, graded, query, expected):
    assert listed_names(client, query) == expected


def test_api_items_carry_the_grade(client, graded):
    item = client.get(f"/api/v1/institutions/{graded['good']}").json

    assert (item["quality_grade"], item["is_demonstration"]) == ("good", True)


@pytest.mark.parametrize("query", ["quality_grade=perfect", "demonstration=maybe"])
def test_unknown_filter_values_answer_400(client, graded, query):
    assert client.get(f"/api/v1/institutions?{query}").status_code == 400
    assert client.get(f"/?{query}").status_code == 400


def test_search_page_offers_both_filters_and_applies_them(client, graded):
    page = client.get("/?quality_grade=good&lang=en").get_data(as_text=True)
    results = page[page.index('id="results"') :]

    assert '<label for="quality_grade">Quality grade</label>' in page
    assert '<label for="demonstration">Demonstration institutions only</label>' in page
    assert 'value="good" selected' in page
    assert "良好托育园" in results
    assert "合格托育园" not in results


def test_empty_filtered_search_suggests_dropping_the_grade(client, graded):
    page = client.get("/?quality_grade=excellent&demonstration=1&lang=en").get_data(as_text=True)

    assert "Any quality grade (1 result)" in page
    assert "Demonstration or not (1 result)" in page


# --- both languages -------------------------------------------------------------------------


def test_quality_section_is_in_chinese_and_in_english(client, institution):
    filed = institution(quality_grade="excellent", is_demonstration=False)

    chinese = client.get(f"/institutions/{filed}?lang=zh_CN").get_data(as_text=True)
    english = client.get(f"/institutions/{filed}?lang=en").get_data(as_text=True)

    assert "质量等级" in chinese
    assert "Quality grade" not in chinese
    assert "Quality grade" in english
    assert "质量等级" not in english


def test_regulator_quality_page_is_in_both_languages_and_small(bureau, institution):
    filed = institution()

    chinese = bureau.get(quality_url(filed) + "?lang=zh_CN")
    english = bureau.get(quality_url(filed) + "?lang=en")

    assert "录入评估结果" in chinese.get_data(as_text=True)
    assert "Record an assessment" in english.get_data(as_text=True)
    assert max(len(chinese.data), len(english.data)) < 60_000


def test_demo_designates_the_demonstration_institutions_and_grades_some_once(app, institution):
    from careapp.demo.quality import seed_quality

    flagged = institution("示范托育园", is_demonstration=True)
    institution("普通托育园")
    with app.app_context():
        first = seed_quality(clock.today())
        again = seed_quality(clock.today())
        db.session.commit()
        designations = db.session.scalars(sa.select(Designation)).all()

    assert (first["designations"], first["assessments"], first["reports"]) == (1, 1, 2)
    assert set(again.values()) == {0}
    assert [designation.institution_id for designation in designations] == [flagged]


def test_search_cards_show_the_grade(client, graded):
    page = client.get("/?lang=zh_CN").get_data(as_text=True)
    results = page[page.index('id="results"') :]

    assert "质量：优秀" in results
    assert "质量：良好" in results
    assert results.count("质量：") == 3
