"""No input ever answers a server error: generated values posted to every form, and sent as
every query parameter, by the account each page is for (Hypothesis).

The field names come from the site itself: every form on every page of the page matrix is
read once, with the values its selects offer. Each example posts a random handful of those
fields, with values that mix the page's own with the kinds of input that broke pages before
(far dates, huge and negative numbers, NaN, NUL bytes, long text), to one route.
"""

import re
from html import unescape
from urllib.parse import parse_qsl

import pytest
from conftest import AuthActions, Factories
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_access_matrix import (
    ACTORS,
    ANONYMOUS,
    GET_MATRIX,
    LOGIN,
    POST_MATRIX,
    build_world,
    filled,
)

from careapp.forms import SiteForm

FORM = re.compile(r"<form\b(.*?)</form>", re.S)
FIELD = re.compile(r'<(input|select|textarea)\b[^>]*\bname="([^"]+)"[^>]*>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"')
VALUE = re.compile(r'\bvalue="([^"]*)"')
#: Inputs that broke pages before, and their kin.
TROUBLE = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "2147483648",
    "9223372036854775808",
    "9" * 40,
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "25:61",
    "00:00",
    "23:59",
    "\x00",
    "a\x00b",
    "é" * 300,
    "x" * 5000,
    "１２",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "true",
    "on",
]
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def harvest(clients: dict, world: dict) -> dict[str, list[str]]:
    """Every form field on every page, by name, with the values its page offers."""
    fields: dict[str, set[str]] = {}
    for path, expected in GET_MATRIX:
        for actor, outcome in expected.items():
            if outcome != 200:
                continue
            response = clients[actor].get(filled(path, world))
            if response.mimetype != "text/html":  # the icon, downloads: no forms
                break
            page = response.get_data(as_text=True)
            for form in FORM.findall(page):
                for tag, name in FIELD.findall(form):
                    values = fields.setdefault(name, set())
                    values.update(unescape(v) for v in OPTION.findall(form))
                    if tag == "input":
                        values.update(unescape(v) for v in VALUE.findall(form)[:3])
            break
    return {name: sorted(values)[:20] for name, values in fields.items()}


@pytest.fixture(scope="module")
def site(session_app):
    """One world, one signed-in client per actor, and the fields of every form."""
    from conftest import delete_every_row

    session_app.config["WTF_CSRF_ENABLED"] = False
    factories = Factories(session_app)
    world = build_world(session_app, factories.user, factories.institution)
    clients = {}
    for actor in ACTORS:
        client = session_app.test_client()
        client.set_cookie("lang", "en")
        if actor != ANONYMOUS:
            AuthActions(client, session_app).login(world["accounts"][actor])
        clients[actor] = client
    yield world, clients, harvest(clients, world)
    from careapp.extensions import db

    with session_app.app_context():
        db.session.remove()
        delete_every_row()


def value_for(samples: list[str]):
    """A value for one field: one of its page's own, or trouble."""
    ours = [st.sampled_from(samples)] if samples else []
    return st.one_of(*ours, st.sampled_from(TROUBLE), st.text(max_size=30))


def rightful(expected: dict) -> str:
    """Who a route is for: the first actor it does not refuse."""
    for actor in ACTORS:
        if expected[actor] not in (403, 404, LOGIN) and actor != ANONYMOUS:
            return actor
    return ANONYMOUS


@pytest.mark.parametrize(
    ("path", "expected"),
    [pytest.param(path, expected, id=path) for path, _data, expected, _changes in POST_MATRIX],
)
def test_no_form_input_answers_a_server_error(site, path, expected):
    world, clients, fields = site
    client = clients[rightful(expected)]
    names = sorted(fields)

    @SETTINGS
    @given(data=st.data())
    def post(data):
        chosen = data.draw(st.lists(st.sampled_from(names), max_size=12, unique=True))
        form = {name: data.draw(value_for(fields[name]), label=name) for name in chosen}
        response = client.post(filled(path, world), data=form)
        assert response.status_code < 500, (form, response.status_code)

    post()


#: Query parameters pages read, besides those of their own filter forms.
QUERY = (
    "page",
    "per_page",
    "from",
    "to",
    "since",
    "date",
    "birth_date",
    "age_months",
    "class",
    "status",
    "sort",
    "order",
    "lang",
)
#: Dates and numbers at the far ends, sent as every parameter of every page.
FAR_OFF = ("0001-01-01", "9999-12-31", "99999999999999999999", "-99999999999999999999")


@pytest.mark.parametrize(
    ("path", "expected"), [pytest.param(path, expected, id=path) for path, expected in GET_MATRIX]
)
def test_no_query_parameter_answers_a_server_error(site, path, expected):
    world, clients, fields = site
    client = clients[rightful(expected)]
    names = sorted(set(fields) | set(QUERY))
    base, _, fixed = filled(path, world).partition("?")

    @SETTINGS
    @given(data=st.data())
    def get(data):
        chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True))
        query = dict(parse_qsl(fixed))
        query |= {name: data.draw(value_for(fields.get(name, [])), label=name) for name in chosen}
        response = client.get(base, query_string=query)
        assert response.status_code < 500, (query, response.status_code)

    get()


@pytest.mark.parametrize(
    ("path", "expected"), [pytest.param(path, expected, id=path) for path, expected in GET_MATRIX]
)
def test_far_off_dates_and_numbers_in_any_parameter_never_answer_a_server_error(
    site, path, expected
):
    world, clients, _fields = site
    client = clients[rightful(expected)]
    base, _, fixed = filled(path, world).partition("?")
    failures = []
    for name in QUERY:
        for value in FAR_OFF:
            query = dict(parse_qsl(fixed)) | {name: value}
            status = client.get(base, query_string=query).status_code
            if status >= 500:
                failures.append((name, value, status))

    assert failures == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [pytest.param(path, expected, id=path) for path, _data, expected, _changes in POST_MATRIX],
)
def test_a_nul_character_in_every_field_of_a_form_answers_no_server_error(site, path, expected):
    world, clients, fields = site
    client = clients[rightful(expected)]
    form = dict.fromkeys(fields, "a\x00b")

    response = client.post(filled(path, world), data=form)

    assert response.status_code < 500


@pytest.mark.parametrize(
    ("path", "expected"),
    [pytest.param(path, expected, id=path) for path, _data, expected, _changes in POST_MATRIX],
)
def test_a_nul_character_in_one_field_beside_junk_in_the_others_answers_no_server_error(
    site, path, expected
):
    """A refused NUL character stops the fields' own checks: the checks across fields must
    not then run on values no field check has seen (a "1" where a choice is expected)."""
    world, clients, fields = site
    client = clients[rightful(expected)]
    form = dict.fromkeys(fields, "1")
    form[sorted(fields)[0]] = "a\x00b"

    response = client.post(filled(path, world), data=form)

    assert response.status_code < 500


def test_no_form_replaces_validate_so_checks_across_fields_see_only_checked_values(app):
    """Forms add their checks across fields in ``check_together``, which runs after the
    fields' own checks: a form replacing ``validate`` would run them on unchecked input."""
    replacing = [
        form.__qualname__
        for form in _every_subclass(SiteForm)
        if form.__module__.startswith("careapp") and "validate" in vars(form)
    ]

    assert replacing == []


def _every_subclass(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_every_subclass(sub)]
    return found
