"""What a refused form shows again, and what a choice field answers for a bad value.

Characters no form keeps (NUL, the other C0 control characters but tab, line feed and carriage
return, and DEL) are refused, and the form shown again holds what was typed without them: never
the characters themselves, which PostgreSQL cannot store (NUL) and an HTML page must not hold.
A choice field (select, radio buttons, check boxes) answers one message for any value none of
its options has: empty, not a number, or not offered. Pages are read in English unless a test
says otherwise (the ``lang`` cookie).
"""

# ruff: noqa: F811
import re
from datetime import timedelta
from html import unescape

import pytest
from conftest import AuthActions, Factories, delete_every_row
from test_access_matrix import (
    ACTORS,
    ANONYMOUS,
    POST_MATRIX,
    build_world,
    database_state,
    filled,
)
from test_courses import (
    course,  # noqa: F401 (a fixture)
    first_session,
    provider,  # noqa: F401 (a fixture)
    qingyang,  # noqa: F401 (a fixture)
    signed_in,  # noqa: F401 (a fixture)
    verified,  # noqa: F401 (a fixture)
)
from test_fuzz_forms import harvest, rightful
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from careapp import clock
from careapp.extensions import db
from careapp.forms import SiteForm, choices
from careapp.models import (
    Role,
    Status,
    User,
)
from careapp.services import booking

UNKEPT_MESSAGE = (
    "Invisible control characters have been removed from this field."
    " Please check it and send the form again."
)
CHOICE_MESSAGES = {"en": "Not a valid choice.", "zh_CN": "不是有效的选项。"}


# --- helpers -------------------------------------------------------------------------------


def body(response) -> str:
    """A response body as sent (entities not decoded: a NUL would be sent as it is)."""
    return response.get_data(as_text=True)


def field_errors(response) -> dict[str, str]:
    """The error message next to each field, by field id."""
    found = re.findall(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', body(response))
    return {name: unescape(message) for name, message in found}


def reader(client, language: str = "en"):
    """``client`` reading ``language``."""
    client.set_cookie("lang", language)
    return client


@pytest.fixture
def parent_with_child(app, user):
    """A parent account with a child of 18 months; its id."""
    parent_id = user(Role.PARENT)
    with app.app_context():
        booking.add_child(
            db.session.get(User, parent_id),
            name="小明",
            birth_date=clock.today() - timedelta(days=18 * 30),
            notes="",
            consent=True,
        )
        db.session.commit()
    return parent_id


@pytest.fixture
def course_session(app, course, verified):
    """Factory: the first session of a verified provider's course in person, registration
    open, one seat per family unless ``allow_second_seat``; its id."""
    return lambda allow_second_seat=False: first_session(
        app, course(verified, allow_second_seat=allow_second_seat)
    )


# --- characters no form keeps: the form itself ---------------------------------------------


class Sample(SiteForm):
    name = StringField(validators=[DataRequired()])
    notes = TextAreaField()


def sample(app, data: dict) -> Sample:
    """The sample form sent ``data``, validated."""
    with app.test_request_context("/", method="POST", data=data):
        form = Sample(meta={"csrf": False})
        form.is_valid = form.validate()
        return form


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f"])
def test_a_control_character_is_refused_and_the_form_keeps_the_rest_of_the_text(app, character):
    form = sample(app, {"name": f"张{character}三", "notes": "fine"})

    assert form.is_valid is False
    assert [str(message) for message in form.name.errors] == [UNKEPT_MESSAGE]
    assert not form.notes.errors
    assert form.name.data == "张三"
    assert 'value="张三"' in form.name()


def test_tab_line_feed_and_carriage_return_are_kept(app):
    form = sample(app, {"name": "张\t三", "notes": "line one\r\nline two"})

    assert form.is_valid is True
    assert (form.name.data, form.notes.data) == ("张\t三", "line one\r\nline two")


def test_a_form_sent_several_values_of_one_name_keeps_each_without_control_characters(app):
    class Tags(SiteForm):
        tags = SelectMultipleField(choices=choices([("a", "A"), ("b", "B")]))

    data = MultiDict([("tags", "a\x00"), ("tags", "b")])
    with app.test_request_context("/", method="POST", data=data):
        form = Tags(meta={"csrf": False})

        assert form.validate() is False
        assert form.tags.data == ["a", "b"]


# --- characters no form keeps: over HTTP ---------------------------------------------------


def test_sign_up_shows_the_name_again_without_the_nul_and_makes_no_account(app, client):
    before = database_state(app)

    response = reader(client).post(
        "/register",
        data={
            "role": "parent",
            "display_name": "张\x00三",
            "email": "zhang\x00@example.com",
            "password": "correct-horse-42-x",
            "confirm": "correct-horse-42-x",
        },
    )

    assert response.status_code == 200
    assert "\x00" not in body(response)
    assert 'value="张三"' in body(response)
    assert 'value="zhang@example.com"' in body(response)
    assert field_errors(response) == {"display_name": UNKEPT_MESSAGE, "email": UNKEPT_MESSAGE}
    assert database_state(app) == before


def test_a_report_of_a_concern_shows_the_text_again_without_the_nul_and_stores_nothing(
    app, client, township
):
    township("qingyang")
    before = database_state(app)

    response = reader(client).post(
        "/report",
        data={
            "category": "unfiled_care",
            "place_name": "3 号楼\x00的家庭托育点",
            "description": "押金没有退。\r\n\x00第二行",
        },
    )

    assert response.status_code == 400
    assert "\x00" not in body(response)
    assert 'value="3 号楼的家庭托育点"' in body(response)
    assert "押金没有退。\r\n第二行</textarea>" in body(response)
    assert database_state(app) == before


def test_an_institution_profile_shows_the_text_again_without_the_nul_and_saves_nothing(
    app, user, institution, signed_in
):
    owner = user(Role.INSTITUTION)
    draft = institution("草稿托育园", status=Status.DRAFT, owner_id=owner)
    client = signed_in(owner)
    before = database_state(app)

    response = client.post(
        f"/institutions/{draft}/edit",
        data={"name": "新\x00名字", "description": "安静的\x07院子\n有滑梯"},
    )

    assert response.status_code == 200
    assert "\x00" not in body(response)
    assert "\x07" not in body(response)
    assert 'value="新名字"' in body(response)
    assert "安静的院子\n有滑梯</textarea>" in body(response)
    assert field_errors(response) == {"name": UNKEPT_MESSAGE, "description": UNKEPT_MESSAGE}
    assert database_state(app) == before


def test_the_booking_form_shows_the_start_date_again_without_the_nul_and_books_nothing(
    app, institution, open_places, parent_with_child, signed_in
):
    slot_id = open_places(institution())[0]
    client = signed_in(parent_with_child)
    start = (clock.today() + timedelta(days=14)).isoformat()
    before = database_state(app)

    response = client.post(
        f"/parents/book/{slot_id}",
        data={"child_id": "1", "starts_on": start[:4] + "\x00" + start[4:], "request_key": "k-1"},
    )

    assert response.status_code == 200
    assert "\x00" not in body(response)
    assert f'value="{start}"' in body(response)
    assert field_errors(response) == {"starts_on": UNKEPT_MESSAGE}
    assert database_state(app) == before


def test_the_course_registration_form_keeps_its_key_without_the_nul_and_registers_nothing(
    app, course_session, parent_with_child, signed_in
):
    session_id = course_session()
    client = signed_in(parent_with_child)
    before = database_state(app)

    response = client.post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "1", "request_key": "key\x00-1"}
    )

    assert response.status_code == 200
    assert "\x00" not in body(response)
    assert 'name="request_key" type="hidden" value="key-1"' in body(response)
    assert "Part of this page could not be read, so nothing was saved." in body(response)
    assert database_state(app) == before


@pytest.fixture(scope="module")
def every_form(session_app):
    """One world, an English client per actor signed in once, and every form field's name."""
    factories = Factories(session_app)
    world = build_world(session_app, factories.user, factories.institution)
    clients = {}
    for actor in ACTORS:
        clients[actor] = reader(session_app.test_client())
        if actor != ANONYMOUS:
            AuthActions(clients[actor], session_app).login(world["accounts"][actor])
    yield world, clients, sorted(harvest(clients, world))
    with session_app.app_context():
        db.session.remove()
        delete_every_row()


#: Posts that end the account's sessions: later posts would only meet the sign-in page.
SIGNING_OUT = ("/logout", "/account/sessions/end")
#: Forms whose text fields the world's pages show, and so must show again.
TEXT_FORMS = (
    "/register",
    "/report",
    "/parents/children/new",
    "/providers/organisation",
    "/institutions/{draft}/edit",
    "/regulator/institutions/{review}/return",
)


def test_no_form_of_the_site_sends_a_control_character_back(every_form):
    world, clients, fields = every_form
    echoed, kept = [], set()
    for path, _data, expected, _changes in POST_MATRIX:
        if path in SIGNING_OUT:
            continue
        page = body(
            clients[rightful(expected)].post(
                filled(path, world), data=dict.fromkeys(fields, "ab\x00\x01cd")
            )
        )
        if "\x00" in page or "\x01" in page:
            echoed.append(path)
        elif "abcd" in page:
            kept.add(path)

    assert echoed == []
    assert set(TEXT_FORMS) <= kept


# --- one message for every bad value of a choice field -------------------------------------


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("seats", ["", " ", "abc", "1.5", "0", "-1", "2", "99999999999999999999"])
def test_every_bad_number_of_seats_answers_the_same_message(
    app, course_session, parent_with_child, signed_in, language, seats
):
    session_id = course_session(allow_second_seat=False)
    client = reader(signed_in(parent_with_child), language)
    before = database_state(app)

    response = client.post(
        f"/parents/courses/sessions/{session_id}", data={"seats": seats, "request_key": "key-1"}
    )

    assert response.status_code == 200
    assert field_errors(response) == {"seats": CHOICE_MESSAGES[language]}
    assert database_state(app) == before


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("child_id", ["", "abc", "0", "-1", "2147483648"])
def test_every_bad_child_of_the_booking_form_answers_the_same_message(
    app, institution, open_places, parent_with_child, signed_in, language, child_id
):
    slot_id = open_places(institution())[0]
    client = reader(signed_in(parent_with_child), language)
    before = database_state(app)

    response = client.post(
        f"/parents/book/{slot_id}", data={"child_id": child_id, "request_key": "k-1"}
    )

    assert response.status_code == 200
    assert field_errors(response)["child_id"] == CHOICE_MESSAGES[language]
    assert database_state(app) == before


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("role", ["", "abc", "regulator"])
def test_every_bad_role_on_sign_up_answers_the_same_message(app, client, language, role):
    before = database_state(app)

    response = reader(client, language).post(
        "/register",
        data={"role": role, "display_name": "张三", "email": "zhang@example.com"},
    )

    assert field_errors(response)["role"] == CHOICE_MESSAGES[language]
    assert database_state(app) == before


class Choices(SiteForm):
    number = SelectField(coerce=int, choices=choices([(1, "one"), (2, "two")]))
    required = SelectField(
        coerce=int, choices=choices([(1, "one")]), validators=[DataRequired(), InputRequired()]
    )
    radio = RadioField(choices=choices([("a", "A"), ("b", "B")]), validators=[InputRequired()])
    boxes = SelectMultipleField(coerce=int, choices=choices([(1, "one"), (2, "two")]))
    optional = SelectField(choices=choices([("a", "A")]), validators=[Optional()])


VALID_CHOICES = {"number": "1", "required": "1", "radio": "a", "boxes": "2", "optional": "a"}


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("name", ["number", "required", "radio", "boxes"])
@pytest.mark.parametrize("value", ["", "abc", "3", "-1", "1.0"])
def test_a_choice_field_answers_one_message_for_any_value_it_does_not_offer(
    app, language, name, value
):
    data = VALID_CHOICES | {name: value}
    with app.test_request_context(f"/?lang={language}", method="POST", data=data):
        form = Choices(meta={"csrf": False})

        assert form.validate() is False
        assert {field: [str(m) for m in errors] for field, errors in form.errors.items()} == {
            name: [CHOICE_MESSAGES[language]]
        }


def test_a_choice_left_unanswered_answers_required_and_an_optional_one_may_be_left_empty(app):
    data = VALID_CHOICES | {"optional": ""}
    del data["radio"]
    with app.test_request_context("/?lang=en", method="POST", data=data):
        form = Choices(meta={"csrf": False})

        assert form.validate() is False
        assert form.errors == {"radio": ["This field is required."]}


def test_a_choice_field_that_names_its_own_message_keeps_it(app):
    class Own(SiteForm):
        pick = SelectField(
            coerce=int, choices=choices([(1, "one")]), invalid_choice_message="Pick one."
        )

    with app.test_request_context("/?lang=en", method="POST", data={"pick": "2"}):
        form = Own(meta={"csrf": False})

        assert form.validate() is False
        assert form.errors == {"pick": ["Pick one."]}
