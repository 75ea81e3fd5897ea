"""A page costs a fixed number of queries however many results it shows (no N+1)."""

import pytest

from careapp.models import CareType, ClassKind

OFFERS = {CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (6, 36, 40)}
CLASSES = ((ClassKind.TODDLER, 15, 3), (ClassKind.OLDER_TODDLER, 20, 3))


def _queries_for(client, count_queries, path: str) -> int:
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/v1/institutions",
        "/?care_type=hourly&age_months=14",
        "/registry",
        "/api/v1/registry/events",
        "/api/v1/townships",
    ],
)
def test_query_count_does_not_grow_with_the_number_of_results(
    app, client, institution, count_queries, path
):
    app.config["PAGE_CACHE"] = False  # the view's own statements, rendered every time
    institution("第一家托育中心", offers=OFFERS, classes=CLASSES)
    few = _queries_for(client, count_queries, path)
    for number in range(24):
        institution(
            f"托育中心{number}",
            township_code=("qingyang", "chendai")[number % 2],
            offers=OFFERS,
            classes=CLASSES,
        )
    many = _queries_for(client, count_queries, path)
    assert many == few
    assert many <= 6


def test_institution_page_query_count_does_not_grow_with_classes_and_offers(
    client, institution, count_queries
):
    small = institution("小园", offers={CareType.FULL_DAY: (12, 36, 2800)}, classes=CLASSES[:1])
    large = institution(
        "大园",
        offers={care_type: (12, 36, 100) for care_type in CareType},
        classes=CLASSES * 4,
    )
    assert _queries_for(client, count_queries, f"/institutions/{small}") == _queries_for(
        client, count_queries, f"/institutions/{large}"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/?township=chendai",
        "/?nature=inclusive",
        "/?care_type=hourly",
        "/?q=托育",
        "/?q=托育中心",
        "/?q=托",
        "/?q=托育&township=qingyang&care_type=full_day&age_months=14",
        "/api/v1/institutions?per_page=1&page=3",
        "/api/v1/institutions?q=中心&per_page=2",
        "/api/v1/institutions?township=qingyang&per_page=2&page=2",
        "/registry?township=qingyang",
        "/api/v1/registry/events?type=filed",
        "/statistics",
        "/api/v1/statistics/townships",
    ],
)
def test_public_lists_run_as_many_statements_for_30_institutions_as_for_3(
    client, institution, count_queries, path
):
    def fill(up_to: int) -> None:
        for number in range(fill.made, up_to):
            institution(
                f"托育中心{number}",
                township_code=("qingyang", "chendai")[number % 2],
                offers=OFFERS,
                classes=CLASSES,
            )
        fill.made = up_to

    fill.made = 0
    fill(3)
    few = _queries_for(client, count_queries, path)
    fill(30)

    assert _queries_for(client, count_queries, path) == few
