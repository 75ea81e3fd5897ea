"""Messages (e-mail, SMS, calendar) name a child by the given name only, whatever the script."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import CareType, OutboxMessage, Role, Slot
from careapp.services import booking
from careapp.services.privacy import COMPOUND_SURNAMES, given_name
from tests.places_desk import PlacesDesk

#: Single surnames drawn for generated names.
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高")
#: Characters of given names: none of them ends a compound surname or is a surname above.
GIVEN_CHARACTERS = "小明娜华伟芳静丽强磊洋艳勇杰娟涛超秀霞平桂英子轩涵萱睿"
LATIN_GIVEN = ["Emma", "Olivia", "Noah", "Leo", "Zoé", "Sophie", "Xiaoming", "Haoran", "Anya"]
WESTERN_SURNAMES = ["Smith", "Brown", "Müller", "Dupont", "Garcia", "Ivanova"]
PINYIN_SURNAMES = ["Wang", "Li", "Zhang", "Chen", "Ouyang"]

chinese_surname = st.sampled_from(SURNAMES + sorted(COMPOUND_SURNAMES))
chinese_given = st.text(GIVEN_CHARACTERS, min_size=1, max_size=2)
latin_given = st.sampled_from(LATIN_GIVEN)


@st.composite
def names(draw) -> tuple[str, str, str]:
    """``(full name, surname, given name)`` in one of the ways names are written here."""
    form = draw(st.integers(0, 7))
    if form <= 1:  # 张小明, 欧阳娜娜 / 王 小明
        surname, given_part = draw(chinese_surname), draw(chinese_given)
        return (f"{surname} {given_part}" if form else surname + given_part), surname, given_part
    given_part = draw(latin_given)
    if form == 2:  # Emma Smith
        surname = draw(st.sampled_from(WESTERN_SURNAMES))
        return f"{given_part} {surname}", surname, given_part
    if form == 3:  # Wang Xiaoming
        surname = draw(st.sampled_from(PINYIN_SURNAMES))
        return f"{surname} {given_part}", surname, given_part
    if form == 4:  # SMITH Emma
        surname = draw(st.sampled_from(WESTERN_SURNAMES)).upper()
        return f"{surname} {given_part}", surname, given_part
    surname = draw(chinese_surname)
    if form == 5:  # 王Emma
        return surname + given_part, surname, given_part
    if form == 6:  # Emma 王
        return f"{given_part} {surname}", surname, given_part
    return f"{surname}{draw(chinese_given)} {given_part}", surname, given_part  # 王小明 Emma


@given(names())
@settings(max_examples=300, deadline=None)
def test_the_given_name_never_holds_the_surname(written):
    full, surname, expected = written
    found = given_name(full)
    assert found == expected
    assert surname not in found
    assert found != full


@pytest.mark.parametrize(
    ("name", "given_part"),
    [
        ("张小明", "小明"),
        ("欧阳娜娜", "娜娜"),
        ("司马光", "光"),
        ("王 小明", "小明"),
        ("王Emma", "Emma"),
        ("Emma王", "Emma"),
        ("Emma Wang", "Emma"),
        ("Wang Xiaoming", "Xiaoming"),
        ("WANG Xiaoming", "Xiaoming"),
        ("Xiaoming WANG", "Xiaoming"),
        ("WANG XIAOMING", "XIAOMING"),
        ("王小明 Emma", "Emma"),
        ("小明 Wang", "小明"),
        ("艾力·买买提", "艾力"),
        ("김민준", "민준"),
        ("  张  小明 ", "小明"),
        ("Emma", "Emma"),
    ],
)
def test_given_name_by_script(name, given_part):
    assert given_name(name) == given_part


# --- the messages themselves ----------------------------------------------------------------

#: Children's names of every script, with the surname that must never be sent.
FAMILIES = [
    ("张小明", "张"),
    ("欧阳娜娜", "欧阳"),
    ("王Emma", "王"),
    ("Emma Wang", "Wang"),
    ("Wang Xiaoming", "Wang"),
    ("王小明 Emma", "王"),
]


@pytest.fixture
def owned_home(institution, user) -> int:
    """A filed institution whose account is told of new bookings."""
    owner_id = user(Role.INSTITUTION)
    return institution("名字托育中心", offers={CareType.HOURLY: (6, 36, 40)}, owner_id=owner_id)


@pytest.mark.parametrize(("name", "surname"), FAMILIES)
def test_no_message_carries_the_surname_or_the_full_name(
    app, user, owned_home, open_places, name, surname
):
    slot_id = open_places(owned_home)[0]
    desk = PlacesDesk(app, user, clock.local_now(), clock.today() - timedelta(days=540))
    desk.book(desk.family(name), slot_id)
    with app.app_context():
        run_in_transaction(
            lambda: booking.cancel_slot(db.session.get(Slot, slot_id), "暴雨停园", clock.now())
        )
        texts = [
            f"{message.subject}\n{message.body}"
            for message in db.session.scalars(sa.select(OutboxMessage))
        ]

    assert len(texts) >= 3  # the institution's, the confirmation, the cancellation
    assert any(given_name(name) in text for text in texts)
    assert not [text for text in texts if name in text or surname in text]
