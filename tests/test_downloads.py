"""Whole-register downloads in constant memory, the HSDS API's pages and the paged register.

The CSV and the HSDS document are written while they are sent, from batches of institutions
read from a server-side cursor: whatever the batch size the bytes are the same, the statements
grow by a fixed number per batch, one snapshot of the register is read, and the connection goes
back to the pool when the download ends or the client goes away.
"""

import json
import math
import threading
import uuid
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from careapp import clock, open_data_files
from careapp.api.open_data import _page_url
from careapp.extensions import db
from careapp.models import (
    CareType,
    ClassKind,
    EventType,
    FilingEvent,
    Institution,
    Nature,
    Role,
    Status,
)
from careapp.services import open_data
from tests import hsds_reference
from tests.downloads import read_csv
from tests.places_desk import PlacesDesk

CSV_PATH = "/open-data/institutions.csv"
HSDS_PATH = "/api/v1/open-data/hsds.json"
PAGES_PATH = "/api/v1/open-data/hsds"
REGISTER_PATH = "/regulator/institutions"
OFFERS = {CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (6, 36, 40)}
CLASSES = ((ClassKind.TODDLER, 15, 3), (ClassKind.OLDER_TODDLER, 20, 3))
UNLISTED = (Status.DRAFT, Status.UNDER_REVIEW, Status.RETURNED, Status.DEREGISTERED)
#: Statements each further batch of institutions adds to the HSDS document: none, each array
#: is one statement read from a server-side cursor.
HSDS_STATEMENTS_PER_BATCH = 0


@pytest.fixture
def register(institution) -> dict[str, list[int]]:
    """Five filed institutions, one of each unlisted state; their ids by kind."""
    filed = [
        institution(
            f"公开托育中心{number}",
            name_en=f"Listed Nursery {number}",
            township_code=("qingyang", "chendai")[number % 2],
            offers=OFFERS,
            classes=CLASSES,
        )
        for number in range(5)
    ]
    unlisted = [institution(f"不公开托育中心{status}", status=status) for status in UNLISTED]
    return {"filed": filed, "unlisted": unlisted}


@pytest.fixture
def batch_size(app):
    """Set how many institutions a download reads at a time."""

    def set_size(size: int) -> None:
        app.config["OPEN_DATA_BATCH_SIZE"] = size

    return set_size


def jsonify_bytes(document: dict) -> bytes:
    """``document`` as ``jsonify`` writes it outside debug mode."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode()


def statements_for(client, count_queries, path: str) -> int:
    """The SQL statements of a whole download, its body read inside the count."""
    with count_queries() as statements:
        response = client.get(path)
        assert response.status_code == 200
        response.get_data()
    return len(statements)


# --- streamed, and the same bytes whatever the batch size ----------------------------------------


@pytest.mark.parametrize("path", [CSV_PATH, HSDS_PATH, f"{HSDS_PATH}?lang=en"])
def test_downloads_are_streamed_with_the_same_bytes_whatever_the_batch_size(
    client, register, batch_size, path
):
    whole = client.get(path)
    batch_size(2)
    batched = client.get(path)

    assert whole.is_streamed
    assert batched.is_streamed
    assert "Content-Length" not in batched.headers
    assert batched.get_data() == whole.get_data()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_hsds_document_is_written_exactly_as_jsonify_would_write_it(
    client, register, batch_size, lang
):
    batch_size(2)
    body = client.get(HSDS_PATH, query_string={"lang": lang}).get_data()

    document = json.loads(body)
    assert body == jsonify_bytes(document)
    assert list(document) == sorted(open_data.HSDS_ARRAYS)
    assert len(document["organizations"]) == 5


@pytest.fixture
def varied_register(app, institution) -> None:
    """Filed institutions unlike each other: every care type, none, no classes, no English,
    coordinates, descriptions, later events; and unlisted ones with events of their own."""
    everything = {
        CareType.FULL_DAY: (12, 36, 2800),
        CareType.HALF_DAY: (18, 36, 1500),
        CareType.HOURLY: (6, 36, 40),
        CareType.TEMPORARY: (24, 36, 120),
    }
    first = institution(
        "全托育中心",
        name_en="All Care",
        address_en="1 Road",
        description='说明 "引号" <b>',
        description_en="Quotes \\ and\ttabs",
        latitude=Decimal("24.781"),
        longitude=Decimal("-118.5"),
        offers=everything,
        classes=((ClassKind.INFANT, 10, 4), (ClassKind.OLDER_TODDLER, 20, 3)),
        nature=Nature.HOME_BASED,
    )
    institution("只有中文名", offers={CareType.TEMPORARY: (6, 12, 0)}, classes=())
    institution("同名", name_en="同名", township_code="chendai", nature=Nature.PUBLIC)
    gone = institution("已注销", status=Status.DEREGISTERED)
    institution("草稿", status=Status.DRAFT)
    with app.app_context():
        db.session.add_all(
            FilingEvent(
                institution_id=owner,
                event_type=kind,
                occurred_on=date(2025, 6, day),
                summary=f"变更{day}",
                summary_en=None if day % 2 else f"Change {day}",
            )
            for owner, kind, day in (
                (first, EventType.CHANGED, 2),
                (first, EventType.CHANGED, 1),
                (gone, EventType.DEREGISTERED, 3),
            )
        )
        db.session.commit()


def reference_document(app, lang: str) -> bytes:
    """The document as careapp wrote it before the fast path."""
    with app.test_request_context(HSDS_PATH, query_string={"lang": lang}):
        dumps = hsds_reference_dumps(app)
        text = hsds_reference.hsds_document_text(lang, _page_url, 2, dumps)
        return "".join(open_data.in_one_snapshot(text)).encode()


def hsds_reference_dumps(app):
    """How the reference wrote one record: the app's JSON, compact."""
    return lambda value: app.json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_fast_hsds_document_has_the_bytes_of_the_orm_one(
    client, app, varied_register, batch_size, lang
):
    batch_size(2)

    body = client.get(HSDS_PATH, query_string={"lang": lang}).get_data()

    assert body == reference_document(app, lang)
    assert len(json.loads(body)["service_capacities"]) == 3


def test_hsds_ids_are_uuid5_of_the_careapp_name():
    name = "careapp:institution:7:service:full_day"

    assert open_data.hsds_id("institution", 7, "service", CareType.FULL_DAY) == str(
        uuid.uuid5(open_data.ID_NAMESPACE, name)
    )


def test_csv_lists_every_filed_institution_once_in_id_order_across_batches(
    client, register, batch_size
):
    batch_size(2)

    rows = read_csv(client.get(CSV_PATH))

    assert [int(row[0]) for row in rows[1:]] == register["filed"]
    assert {row[9] for row in rows[1:]} == {"35"}


def test_csv_keeps_its_attachment_headers(client, register):
    response = client.get(CSV_PATH)

    assert response.headers["Content-Disposition"] == "attachment; filename=institutions.csv"
    assert response.mimetype == "text/csv"


# --- statements per batch ------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "per_batch"), [(CSV_PATH, 0), (HSDS_PATH, None)])
def test_download_statements_grow_by_one_batchs_worth_per_batch(
    client, institution, batch_size, count_queries, path, per_batch
):
    per_batch = HSDS_STATEMENTS_PER_BATCH if per_batch is None else per_batch
    batch_size(2)
    for number in range(2):
        institution(f"托育中心{number}", offers=OFFERS, classes=CLASSES)
    one_batch = statements_for(client, count_queries, path)
    for number in range(2, 6):
        institution(f"托育中心{number}", offers=OFFERS, classes=CLASSES)

    three_batches = statements_for(client, count_queries, path)

    assert three_batches - one_batch == 2 * per_batch
    assert one_batch <= 1 + len(open_data.HSDS_ARRAYS) + HSDS_STATEMENTS_PER_BATCH


def test_the_csv_is_one_statement_however_many_batches(client, register, batch_size, count_queries):
    batch_size(1)

    statements = statements_for(client, count_queries, CSV_PATH)

    # One SELECT; SQLite also counts its BEGIN.
    assert statements <= 2


# --- only filed ----------------------------------------------------------------------------------


def unlisted_names(app, register) -> list[str]:
    """The names of the unlisted institutions."""
    with app.app_context():
        return [db.session.get(Institution, id_).name for id_ in register["unlisted"]]


def every_page(client, array: str, per_page: int = 2) -> list[dict]:
    """Every record of ``array`` read page by page through the HSDS API."""
    records, page = [], 1
    while True:
        body = client.get(f"{PAGES_PATH}/{array}?page={page}&per_page={per_page}").json
        records.extend(body["contents"])
        if body["last_page"]:
            return records
        page += 1


@pytest.mark.parametrize("batch", [1, 1000])
def test_unfiled_institutions_appear_in_no_download_and_no_page(
    client, app, register, batch_size, batch
):
    batch_size(batch)
    outputs = [
        client.get(CSV_PATH).get_data(as_text=True),
        client.get(HSDS_PATH).get_data(as_text=True),
        *(
            json.dumps(every_page(client, array), ensure_ascii=False)
            for array in open_data.PAGED_ARRAYS
        ),
    ]
    unlisted_ids = [open_data.hsds_id("institution", id_) for id_ in register["unlisted"]]

    for output in outputs:
        for fact in unlisted_names(app, register) + unlisted_ids:
            assert fact not in output
    assert "公开托育中心4" in outputs[0]
    assert "公开托育中心4" in outputs[1]


# --- one snapshot, and the connection released ---------------------------------------------------


def test_a_change_during_a_download_does_not_reach_it(client, app, register, batch_size):
    batch_size(1)
    response = client.get(HSDS_PATH, buffered=False)
    chunks = iter(response.response)
    started = [next(chunks) for _ in range(3)]  # "{", "addresses":[ and the first address
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.update(Institution)
            .where(Institution.id == register["filed"][-1])
            .values(status=Status.DEREGISTERED)
        )

    document = json.loads(b"".join(started) + b"".join(chunks))
    response.close()

    # Every pass read the register as it was when the download began.
    assert len(document["addresses"]) == len(document["organizations"]) == 5
    assert len(document["services"]) == 10
    assert len(client.get(HSDS_PATH).json["organizations"]) == 4


def test_a_client_that_goes_away_gives_the_connection_back(client, app, register, batch_size):
    batch_size(1)
    with app.app_context():
        pool = db.engine.pool
    response = client.get(HSDS_PATH, buffered=False)
    chunks = iter(response.response)
    for _ in range(4):
        next(chunks)
    reading = pool.checkedout()

    response.close()

    assert reading == 1
    assert pool.checkedout() == 0


# --- HSDS in pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("array", ["organizations", "services", "service_at_locations"])
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_hsds_pages_hold_the_documents_records_in_its_order(client, register, array, lang):
    document = client.get(HSDS_PATH, query_string={"lang": lang}).json
    pages = []
    for page in (1, 2, 3, 4, 5, 6):
        query = {"page": page, "per_page": 2, "lang": lang}
        pages.extend(client.get(f"{PAGES_PATH}/{array}", query_string=query).json["contents"])

    assert pages == document[array]


@pytest.mark.parametrize("array", ["taxonomies", "taxonomy_terms"])
def test_hsds_taxonomy_pages_hold_the_documents_taxonomies(client, register, array):
    document = client.get(HSDS_PATH).json

    assert every_page(client, array, per_page=3) == document[array]


def test_an_hsds_page_carries_the_hsds_page_envelope(client, register):
    body = client.get(f"{PAGES_PATH}/services?page=2&per_page=4").json

    assert {key: value for key, value in body.items() if key != "contents"} == {
        "total_items": 10,
        "total_pages": 3,
        "page_number": 2,
        "size": 4,
        "first_page": False,
        "last_page": False,
        "empty": False,
    }
    assert len(body["contents"]) == 4


def test_an_hsds_page_after_the_last_is_empty(client, register):
    body = client.get(f"{PAGES_PATH}/organizations?page=4&per_page=2").json

    assert (body["total_items"], body["total_pages"], body["size"]) == (5, 3, 0)
    assert (body["empty"], body["first_page"], body["last_page"]) == (True, False, True)
    assert body["contents"] == []


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=100001",
        "per_page=0",
        "per_page=501",
        "per_page=2.5",
        "page=%00",
    ],
)
def test_bad_hsds_paging_answers_400_in_the_api_error_shape(client, register, query):
    response = client.get(f"{PAGES_PATH}/organizations?{query}")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_parameter"
    assert response.json["error"]["message"]


def test_an_unknown_hsds_list_is_not_found(client):
    response = client.get(f"{PAGES_PATH}/phones")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_hsds_pages_cost_the_same_statements_whatever_the_register(
    client, institution, count_queries
):
    institution("第一家托育中心", offers=OFFERS, classes=CLASSES)
    few = statements_for(client, count_queries, f"{PAGES_PATH}/services?per_page=3")
    for number in range(8):
        institution(f"托育中心{number}", offers=OFFERS, classes=CLASSES)

    many = statements_for(client, count_queries, f"{PAGES_PATH}/services?per_page=3")

    assert many == few <= 3


# --- the regulator's register, paged -------------------------------------------------------------


@pytest.fixture
def regulator(user, auth):
    """The client signed in as the county health bureau."""
    auth.login(user(Role.REGULATOR))


def register_rows(html: str) -> int:
    """How many institutions a register page lists."""
    return html.count('href="/regulator/institutions/')


def test_the_register_list_is_paged(client, register, regulator):
    first = client.get(f"{REGISTER_PATH}?per_page=4").get_data(as_text=True)
    last = client.get(f"{REGISTER_PATH}?per_page=4&page=3").get_data(as_text=True)

    assert register_rows(first) == 4
    assert register_rows(last) == 1
    assert "9 institutions" in client.get(f"{REGISTER_PATH}?lang=en").get_data(as_text=True)
    assert 'rel="next" href="/regulator/institutions?per_page=4&amp;page=2"' in first


def test_the_register_list_pages_within_a_status(client, register, regulator):
    html = client.get(f"{REGISTER_PATH}?status=filed&per_page=2&page=3").get_data(as_text=True)

    assert register_rows(html) == 1
    assert f'/regulator/institutions/{register["filed"][4]}"' in html
    assert 'rel="prev" href="/regulator/institutions?status=filed&amp;per_page=2&amp;page=2"' in (
        html
    )


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=201", "per_page=0"])
def test_bad_register_paging_answers_400(client, register, regulator, query):
    assert client.get(f"{REGISTER_PATH}?{query}").status_code == 400


def test_the_register_list_costs_the_same_statements_whatever_its_size(
    client, institution, regulator, count_queries
):
    institution("第一家托育中心")
    few = statements_for(client, count_queries, REGISTER_PATH)
    for number in range(60):
        institution(f"托育中心{number}", status=(Status.FILED, Status.DRAFT)[number % 2])

    many = statements_for(client, count_queries, REGISTER_PATH)

    assert many == few
    html = client.get(REGISTER_PATH).get_data(as_text=True)
    assert register_rows(html) == 50


def test_total_pages_is_the_ceiling_of_items_per_page(client, register):
    body = client.get(f"{PAGES_PATH}/taxonomy_terms?per_page=4").json

    assert body["total_pages"] == math.ceil(body["total_items"] / 4)


# --- built once per register version by open-data build, served as a file ----------------

BOTH_DOWNLOADS = [CSV_PATH, HSDS_PATH, f"{HSDS_PATH}?lang=en", f"{CSV_PATH}?lang=en"]


@pytest.fixture
def kept_files(app, tmp_path):
    """Downloads kept under a folder of this test's, linked as the test client's host."""
    app.config["OPEN_DATA_DIR"] = str(tmp_path)
    app.config["SITE_URL"] = "http://localhost"
    return tmp_path


def fetch(client, path: str, **options):
    """A download read whole, the file it was sent from closed."""
    return client.get(path, buffered=True, **options)


def from_file(response) -> bool:
    """Whether a download was sent from a kept file (streamed ones have neither header)."""
    return "Content-Length" in response.headers and "ETag" in response.headers


def build_files(app) -> str:
    """Run ``flask open-data build`` and return what it printed."""
    result = app.test_cli_runner().invoke(args=["open-data", "build"])
    assert result.exit_code == 0, result.output
    return result.output


def kept_names(folder) -> list[str]:
    """The files in ``folder``, temporary ones included."""
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("path", BOTH_DOWNLOADS)
def test_open_data_build_builds_files_that_are_served_with_the_streamed_bytes(
    client, app, register, kept_files, path
):
    streamed = fetch(client, path)

    output = build_files(app)
    served = fetch(client, path)

    assert "Open-data files built: 4." in output
    assert not from_file(streamed)
    assert from_file(served)
    assert served.get_data() == streamed.get_data()
    assert served.headers["Content-Length"] == str(len(streamed.get_data()))
    assert served.headers["Content-Type"] == streamed.headers["Content-Type"]
    assert served.headers.get("Content-Disposition") == streamed.headers.get("Content-Disposition")
    assert served.headers["ETag"]
    assert served.last_modified is not None
    assert "Open-data files built: 0." in build_files(app)


def test_the_files_are_one_per_download_and_language_named_by_the_version(
    app, register, kept_files
):
    build_files(app)
    with app.app_context():
        version = db.session.scalar(
            sa.text("SELECT version FROM cache_versions WHERE scope = 'register'")
        )

    assert kept_names(kept_files) == sorted(
        f"{name}-{lang}-v{version}{suffix}"
        for name, suffix in (("hsds", ".json"), ("institutions", ".csv"))
        for lang in ("zh_CN", "en")
    )


def test_a_matching_etag_answers_304_and_a_range_its_bytes(client, app, register, kept_files):
    build_files(app)
    whole = fetch(client, HSDS_PATH)

    again = fetch(client, HSDS_PATH, headers={"If-None-Match": whole.headers["ETag"]})
    part = fetch(client, HSDS_PATH, headers={"Range": "bytes=10-19"})

    assert again.status_code == 304
    assert again.get_data() == b""
    assert part.status_code == 206
    assert part.get_data() == whole.get_data()[10:20]


def test_a_change_to_the_register_is_streamed_until_open_data_build_rebuilds(
    client, app, register, kept_files
):
    build_files(app)
    before = fetch(client, HSDS_PATH)
    with app.app_context():
        db.session.get(Institution, register["filed"][0]).name = "改名托育中心"
        db.session.commit()

    after = fetch(client, HSDS_PATH)
    build_files(app)
    rebuilt = fetch(client, HSDS_PATH)

    assert from_file(before)
    assert not from_file(after)
    assert "改名托育中心" in after.get_data(as_text=True)
    assert from_file(rebuilt)
    assert rebuilt.get_data() == after.get_data()
    assert rebuilt.headers["ETag"] != before.headers["ETag"]
    assert len(kept_names(kept_files)) == 4  # the older version's files are gone


def test_a_booking_leaves_the_files_current(client, app, institution, user, kept_files):
    kept = institution("小橡树", offers={CareType.HOURLY: (12, 36, 30)})
    desk = PlacesDesk(app, user, clock.local_now(), clock.today() - timedelta(days=600))
    with app.app_context():
        class_id = db.session.get(Institution, kept).classes[0].id
    slot = desk.add_slot(
        class_id, CareType.HOURLY, clock.today() + timedelta(days=2), (time(9), time(11)), 2
    )
    build_files(app)
    etag = fetch(client, CSV_PATH).headers["ETag"]

    desk.book(desk.family(), slot)

    served = fetch(client, CSV_PATH)
    assert from_file(served)
    assert served.headers["ETag"] == etag


def test_two_builds_at_once_leave_one_correct_file(client, app, register, kept_files):
    streamed = fetch(client, HSDS_PATH).get_data()
    start = threading.Barrier(2)
    failures = []

    def build() -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                open_data_files.build("hsds", "zh_CN")
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            failures.append(error)

    builders = [threading.Thread(target=build) for _ in range(2)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join(timeout=60)

    assert failures == []
    assert [name.startswith("hsds-zh_CN-v") for name in kept_names(kept_files)] == [True]
    served = fetch(client, HSDS_PATH)
    assert from_file(served)
    assert served.get_data() == streamed


@pytest.mark.parametrize("path", BOTH_DOWNLOADS)
def test_unfiled_institutions_never_appear_in_a_kept_file(client, app, register, kept_files, path):
    build_files(app)

    served = fetch(client, path)
    body = served.get_data(as_text=True)

    assert from_file(served)
    assert "公开托育中心4" in body or "Listed Nursery 4" in body
    for fact in unlisted_names(app, register):
        assert fact not in body


def test_without_a_folder_open_data_build_builds_nothing_and_downloads_stream(
    client, app, register
):
    app.config["OPEN_DATA_DIR"] = "off"

    assert "Open-data files built: 0." in build_files(app)
    assert not from_file(fetch(client, HSDS_PATH))


def test_a_folder_that_cannot_be_written_costs_only_the_files(client, app, register, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app.config["OPEN_DATA_DIR"] = str(blocker / "open-data")

    assert "Open-data files built: 0." in build_files(app)
    assert not from_file(fetch(client, HSDS_PATH))


def test_a_rebuild_removes_older_files_and_what_killed_builds_left(app, register, kept_files):
    build_files(app)
    with app.app_context():
        version = open_data_files.register_version()
    for name in (f"hsds-en-v{version - 1}.json", f".hsds-en-v{version - 1}.json.x1.part"):
        (kept_files / name).write_text("old")
    (kept_files / f"hsds-en-v{version}.json").unlink()

    build_files(app)

    assert f"hsds-en-v{version}.json" in kept_names(kept_files)
    assert not [name for name in kept_names(kept_files) if f"v{version - 1}." in name]
