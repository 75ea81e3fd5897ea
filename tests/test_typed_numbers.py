"""Numbers people type and numbers in addresses: full-width digits (what a Chinese input method
types in full-width mode) read as the digits they are; other characters Python's ``int`` or
``str.isdigit`` take for digits ("²", "٣", "1_0", "+1", thousands of digits) are refused with
a message, never a 500; an object has one address."""
# ruff: noqa: F811

import re

import pytest
import sqlalchemy as sa
from test_staff_register import (
    ban,
    draft,  # noqa: F401 (a fixture)
    make_id_number,
    members,
    owner,  # noqa: F401 (a fixture)
    person,
)

from careapp.extensions import db
from careapp.models import LifetimeBan, Role
from careapp.services import sessions, staff
from careapp.services.params import ParamReader, half_width

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    ("typed", "number"),
    [("20", 20), (" ２０ ", 20), ("2０", 20), ("-3", -3), ("0007", 7)],
)
def test_a_whole_number_is_read_in_either_width(typed, number):
    reader = ParamReader({"n": typed})

    assert reader.integer("n", -10, 100) == number
    assert reader.errors == {}


@pytest.mark.parametrize("typed", ["²", "٣", "1_0", "+1", "1.0", "1e3", "一", "--1"])
def test_other_digits_and_signs_are_not_a_whole_number(app, typed):
    reader = ParamReader({"n": typed})

    with app.test_request_context("/?lang=en"):
        assert reader.integer("n", -10, 100) is None
        assert str(reader.errors["n"]) == "Please enter a whole number."


def test_a_number_of_thousands_of_digits_is_out_of_range_not_an_error(app):
    # int() refuses to read more than 4,300 digits, with a ValueError.
    reader = ParamReader({"n": "9" * 5000})

    with app.test_request_context("/?lang=en"):
        assert reader.integer("n", 1, 100) is None
        assert str(reader.errors["n"]) == "Please enter a number from 1 to 100."


def test_half_width_reads_full_width_ascii_only():
    assert half_width("３５０５８２ｘ－Ａ（１）") == "350582x-A(1)"
    assert half_width("²٣　一") == "²٣　一"


def results(response) -> object:
    """What an answer lists: the API's items, or the search page's cards."""
    if response.is_json:
        return response.get_json()["items"]
    return re.findall(r'<h3><a href="([^"]+)">([^<]+)</a>', response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("path", "number"),
    [
        ("/?page={n}", "1"),
        ("/api/v1/institutions?page={n}", "1"),
    ],
)
def test_pages_read_full_width_numbers_and_refuse_other_digits(client, institution, path, number):
    institution()

    ascii_answer = client.get(path.format(n=number) + "&lang=en")
    full_width = client.get(path.format(n=number.translate(FULL_WIDTH)) + "&lang=en")
    superscript = client.get(path.format(n="²") + "&lang=en")

    assert ascii_answer.status_code == full_width.status_code == 200
    assert "小橡树" in str(results(ascii_answer))
    assert results(full_width) == results(ascii_answer)
    assert superscript.status_code == 400
    assert "Please enter a whole number." in superscript.get_data(as_text=True)


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda n: f"0{n}", id="leading-zero"),
        pytest.param(lambda n: str(n).translate(FULL_WIDTH), id="full-width"),
        pytest.param(lambda n: str(n).translate(ARABIC_INDIC), id="arabic-indic"),
    ],
)
@pytest.mark.parametrize("route", ["/institutions/{id}", "/api/v1/institutions/{id}"])
def test_an_object_has_one_address(client, institution, spelling, route):
    filed = institution()

    assert client.get(route.format(id=filed)).status_code == 200
    assert client.get(route.format(id=spelling(filed))).status_code == 404


def test_a_session_cookie_naming_no_ascii_number_signs_nobody_in():
    # "²".isdigit() is True, and int("²") raises.
    assert sessions._parse("²³.secret") is None
    assert sessions._parse("١٢.secret") is None
    assert sessions._parse("12.secret") == (12, "secret")


# --- ID card numbers on the staff register and the ban list ---------------------------------


def test_an_id_number_typed_in_full_width_is_the_same_person(app, client, auth, owner, draft):
    number = make_id_number()
    auth.login(owner)

    added = client.post(
        f"/institutions/{draft}/staff", data=person(id_number=number.translate(FULL_WIDTH))
    )

    assert added.status_code == 302
    [member] = members(app, draft)
    with app.test_request_context():
        assert member.id_number_hash == staff.identity_hash(number)


def test_a_banned_person_typed_in_full_width_is_still_refused(
    app, client, auth, owner, draft, user
):
    number = make_id_number()
    ban(app, user(Role.REGULATOR), number)
    auth.login(owner)

    client.post(f"/institutions/{draft}/staff", data=person(id_number=number.translate(FULL_WIDTH)))

    assert members(app, draft) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LifetimeBan)) == 1


@pytest.mark.parametrize("character", ["²", "٣"])
def test_an_id_number_with_other_digits_is_refused_with_a_message(
    app, client, auth, owner, draft, character
):
    number = make_id_number()
    auth.login(owner)

    refused = client.post(
        f"/institutions/{draft}/staff?lang=en",
        data=person(id_number=number[:10] + character * 4 + number[14:]),
    )

    assert refused.status_code == 400
    assert "This is not a valid ID card number." in refused.get_data(as_text=True)
    assert members(app, draft) == []
