"""The API keeps to its OpenAPI document: schemathesis generates requests for every
operation the document describes and checks every answer: never a server error, and the
status, content type and body the document promises."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from careapp.models import CareType, ClassKind

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def api_schema(app, institution, open_places, township):
    """The API's own document, served by an app with filed institutions and places."""
    township("chendai", name="陈埭镇")
    for code, kind in (("qingyang", ClassKind.TODDLER), ("chendai", ClassKind.OLDER_TODDLER)):
        open_places(
            institution(
                f"{code}托育中心",
                township_code=code,
                offers={CareType.HOURLY: (6, 36, 40), CareType.FULL_DAY: (12, 36, 2800)},
                classes=((kind, 15, 3),),
            )
        )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


#: The operations of the document, by path and method (it is read from the app itself).
OPERATIONS = [
    ("GET", "/api/v1/townships"),
    ("GET", "/api/v1/institutions"),
    ("GET", "/api/v1/institutions/{institution_id}"),
    ("GET", "/api/v1/institutions/{institution_id}/availability"),
    ("GET", "/api/v1/registry/events"),
    ("GET", "/api/v1/courses"),
    ("GET", "/api/v1/statistics/townships"),
    ("GET", "/api/v1/open-data/hsds.json"),
    ("GET", "/api/v1/open-data/hsds/organizations"),
    ("GET", "/api/v1/open-data/hsds/services"),
    ("GET", "/api/v1/open-data/hsds/service_at_locations"),
    ("GET", "/api/v1/open-data/hsds/taxonomies"),
    ("GET", "/api/v1/open-data/hsds/taxonomy_terms"),
    ("GET", "/healthz"),
]
#: What every answer must keep to: no server error, a documented status, content type,
#: headers and body. (Whether a request the document allows is accepted is not checked:
#: the document cannot say that dates must lie between 1900 and 2100.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
]
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_the_document_lists_every_operation_tested_here(api_schema):
    documented = {
        (result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()
    }

    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_api_answer_keeps_to_the_document(api_schema, method, path):
    operation = api_schema[path][method]

    @SETTINGS
    @given(case=operation.as_strategy())
    def call(case):
        case.call_and_validate(checks=CHECKS)

    call()


def test_the_township_filter_lists_the_register_townships(client, township):
    township("qingyang")
    township("chendai")

    document = client.get("/api/v1/openapi.json").json

    filter_schema = document["components"]["parameters"]["TownshipFilter"]["schema"]
    assert filter_schema["enum"] == ["chendai", "qingyang"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_another_method_answers_405_with_allow(client, method):
    response = client.open("/api/v1/institutions", method=method)

    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
    assert response.json["error"]["code"] == "method_not_allowed"
