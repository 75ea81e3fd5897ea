"""Family members: a guardian invites a mobile number; the account with that number accepts
and may then book, cancel and see bookings for the guardian's children, and nothing else."""

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    Booking,
    BookingStatus,
    CareType,
    Child,
    ConsentCapacity,
    FamilyMember,
    InvitationStatus,
    OutboxMessage,
    Role,
    Slot,
    User,
    WaitlistEntry,
)
from careapp.services import booking, family
from tests.conftest import AuthActions

GRANDMA_PHONE = "+8613812345678"
CHILD_NAME = "陈小明"
MASKED = "陈*明"


@pytest.fixture
def sign_in(app):
    """Factory: a new test client signed in as the account ``user_id``."""

    def make(user_id: int):
        client = app.test_client()
        AuthActions(client, app).login(user_id)
        return client

    return make


@pytest.fixture
def child_of(app):
    """Factory: a consented child of ``parent_id`` aged 18 months next week; its id."""

    def make(parent_id: int, name: str = CHILD_NAME) -> int:
        with app.app_context():
            child = booking.add_child(
                db.session.get(User, parent_id),
                name=name,
                birth_date=clock.today() - timedelta(days=540),
                notes="",
                consent=True,
            )
            db.session.commit()
            return child.id

    return make


@pytest.fixture
def place(institution, open_places) -> int:
    """An hourly slot with 3 places a week ahead at a filed institution."""
    [slot_id] = open_places(institution(offers={CareType.HOURLY: (6, 36, 40)}))
    return slot_id


@pytest.fixture
def people(user, child_of):
    """A guardian with a child, the grandmother's account (by mobile number) and a stranger
    (another guardian with a child): ids in a dict."""
    guardian = user(
        Role.PARENT, display_name="陈妈妈", phone="+8613900000001", phone_verified_at=clock.now()
    )
    stranger = user(Role.PARENT, display_name="林爸爸")
    return {
        "guardian": guardian,
        "child": child_of(guardian),
        "grandma": user(
            Role.PARENT, display_name="陈奶奶", phone=GRANDMA_PHONE, phone_verified_at=clock.now()
        ),
        "stranger": stranger,
        "stranger_child": child_of(stranger, "林小红"),
    }


def invitation_rows(app) -> list[FamilyMember]:
    """Every invitation, oldest first (detached copies of their columns)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(FamilyMember).order_by(FamilyMember.id)).all()
        db.session.expunge_all()
        return rows


def outbox(app) -> list[OutboxMessage]:
    """Every queued message, oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


@pytest.fixture
def member(app, people, sign_in):
    """The grandmother, invited by the guardian and accepted: her signed-in client."""
    guardian = sign_in(people["guardian"])
    assert guardian.post("/parents/family", data={"phone": "138 1234 5678"}).status_code == 302
    [invitation] = invitation_rows(app)
    grandma = sign_in(people["grandma"])
    response = grandma.post(f"/parents/invitations/{invitation.id}/accept")
    assert response.status_code == 302
    return grandma


def book(client, slot_id: int, child_id: int, key: str = "key-1"):
    """Post the booking form."""
    return client.post(f"/parents/book/{slot_id}", data={"child_id": child_id, "request_key": key})


def only_booking(app) -> Booking:
    """The one booking there is."""
    with app.app_context():
        [found] = db.session.scalars(sa.select(Booking)).all()
        db.session.expunge_all()
        return found


# --- inviting, accepting, declining ----------------------------------------------------------


def test_a_guardian_invites_by_mobile_number_and_the_invitee_accepts_on_her_home_page(
    app, people, sign_in
):
    guardian = sign_in(people["guardian"])
    response = guardian.post("/parents/family", data={"phone": "138 1234 5678"})
    assert response.status_code == 302
    [invitation] = invitation_rows(app)
    assert (invitation.phone, invitation.status) == (GRANDMA_PHONE, InvitationStatus.PENDING)
    # Grandma signs in with her verified number: she is told by SMS, naming no child.
    [notice] = outbox(app)
    assert (notice.channel, notice.recipient) == ("sms", GRANDMA_PHONE)
    assert notice.subject == "family_invitation"
    assert CHILD_NAME not in notice.body
    assert "小明" not in notice.body

    grandma = sign_in(people["grandma"])
    home = grandma.get("/parents/").get_data(as_text=True)
    assert "陈妈妈" in home
    assert f"/parents/invitations/{invitation.id}/accept" in home

    assert grandma.post(f"/parents/invitations/{invitation.id}/accept").status_code == 302
    [invitation] = invitation_rows(app)
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.member_id == people["grandma"]
    assert "accept" not in grandma.get("/parents/").get_data(as_text=True).split("invitations/")[0]
    # The guardian, with a verified number too, is told of the answer by SMS.
    told = outbox(app)[-1]
    assert (told.channel, told.recipient, told.subject) == (
        "sms",
        "+8613900000001",
        "family_answered",
    )
    assert "接受" in told.body
    assert CHILD_NAME not in told.body


def test_the_invitee_may_decline_and_then_has_no_access(app, people, sign_in, place):
    sign_in(people["guardian"]).post("/parents/family", data={"phone": "13812345678"})
    [invitation] = invitation_rows(app)
    grandma = sign_in(people["grandma"])

    assert grandma.post(f"/parents/invitations/{invitation.id}/decline").status_code == 302

    assert invitation_rows(app)[0].status == InvitationStatus.DECLINED
    assert grandma.post(f"/parents/invitations/{invitation.id}/accept").status_code == 302
    assert invitation_rows(app)[0].status == InvitationStatus.DECLINED
    page = grandma.get(f"/parents/book/{place}")
    assert page.status_code == 302  # she has no child of her own and books for nobody
    assert "/parents/children/new" in page.location


def test_booking_with_no_child_but_an_invitation_goes_to_the_invitation_and_back(
    app, people, sign_in, place
):
    sign_in(people["guardian"]).post("/parents/family", data={"phone": "13812345678"})
    [invitation] = invitation_rows(app)
    grandma = sign_in(people["grandma"])

    # Tapping Book with no child of her own: the waiting invitation comes first, not a form
    # to add (a copy of) the guardian's child.
    page = grandma.get(f"/parents/book/{place}")
    assert page.status_code == 302
    assert page.location == f"/parents/?next=/parents/book/{place}"
    home = grandma.get(page.location).get_data(as_text=True)
    assert "您的家人邀请了您。接受邀请后即可为其孩子预约。" in home
    assert "接受邀请后即可为其孩子预约您选好的托位，并直接回到该托位。" in home
    accept = f"/parents/invitations/{invitation.id}/accept?next=/parents/book/{place}"
    assert f'action="{accept}"' in home
    assert f'href="/parents/children/new?next=/parents/book/{place}"' in home

    answered = grandma.post(accept)
    assert (answered.status_code, answered.location) == (302, f"/parents/book/{place}")
    form = grandma.get(answered.location).get_data(as_text=True)
    # The guardian's child is the only choice, so it is chosen already (masked).
    assert re.findall(r"<option[^>]*>([^<]*)</option>", form) == [MASKED]
    assert book(grandma, place, people["child"]).status_code == 302
    made = only_booking(app)
    assert (made.parent_id, made.booked_by_id) == (people["guardian"], people["grandma"])
    assert made.consent_capacity == ConsentCapacity.FAMILY_MEMBER


def test_declining_on_the_way_to_a_booking_stays_on_the_home_page(app, people, sign_in, place):
    sign_in(people["guardian"]).post("/parents/family", data={"phone": "13812345678"})
    [invitation] = invitation_rows(app)
    grandma = sign_in(people["grandma"])

    declined = grandma.post(
        f"/parents/invitations/{invitation.id}/decline?next=/parents/book/{place}"
    )
    assert declined.location == f"/parents/?next=/parents/book/{place}"
    # With nothing to accept, the booking asks for her own child as before.
    assert "/parents/children/new" in grandma.get(f"/parents/book/{place}").location


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_accepting_never_leads_off_the_site(app, people, sign_in, target):
    sign_in(people["guardian"]).post("/parents/family", data={"phone": "13812345678"})
    [invitation] = invitation_rows(app)
    grandma = sign_in(people["grandma"])

    answered = grandma.post(
        f"/parents/invitations/{invitation.id}/accept", query_string={"next": target}
    )
    assert answered.location == "/parents/"
    assert invitation_rows(app)[0].status == InvitationStatus.ACCEPTED


def test_only_the_account_with_the_invited_number_may_answer(app, people, sign_in):
    sign_in(people["guardian"]).post("/parents/family", data={"phone": "13812345678"})
    [invitation] = invitation_rows(app)
    stranger = sign_in(people["stranger"])

    assert f"invitations/{invitation.id}" not in stranger.get("/parents/").get_data(as_text=True)
    assert stranger.post(f"/parents/invitations/{invitation.id}/accept").status_code == 404
    assert stranger.post(f"/parents/invitations/{invitation.id}/decline").status_code == 404
    assert invitation_rows(app)[0].status == InvitationStatus.PENDING


def test_an_invitation_to_a_number_without_an_account_waits_for_one(app, people, sign_in, user):
    sign_in(people["guardian"]).post("/parents/family", data={"phone": "15912345678"})
    [invitation] = invitation_rows(app)
    assert invitation.status == InvitationStatus.PENDING
    # Nobody has the number yet: a text invites it to sign up, naming nobody.
    [notice] = outbox(app)
    assert (notice.channel, notice.recipient, notice.subject) == (
        "sms",
        "+8615912345678",
        "family_invitation",
    )

    newcomer = user(
        Role.PARENT, display_name="陈爷爷", phone="+8615912345678", phone_verified_at=clock.now()
    )
    client = sign_in(newcomer)
    assert "陈妈妈" in client.get("/parents/").get_data(as_text=True)
    assert client.post(f"/parents/invitations/{invitation.id}/accept").status_code == 302
    assert invitation_rows(app)[0].member_id == newcomer


def test_only_an_account_that_verified_the_number_may_answer(app, people, sign_in, user):
    sign_in(people["guardian"]).post("/parents/family", data={"phone": "15912345678"})
    [invitation] = invitation_rows(app)
    claimant = sign_in(user(Role.PARENT, display_name="冒名者", phone="+8615912345678"))

    assert "陈妈妈" not in claimant.get("/parents/").get_data(as_text=True)
    assert claimant.post(f"/parents/invitations/{invitation.id}/accept").status_code == 404
    assert invitation_rows(app)[0].status == InvitationStatus.PENDING


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param("12345", "11-digit mainland China mobile number", id="too-short"),
        pytest.param("0595-85661234", "11-digit mainland China mobile number", id="landline"),
        pytest.param("+1 650 253 0000", "11-digit mainland China mobile number", id="foreign"),
        pytest.param("", "11-digit mainland China mobile number", id="empty"),
        pytest.param("139 0000 0001", "your own mobile number", id="own-number"),
    ],
)
def test_a_bad_number_gets_a_message_keeps_the_input_and_writes_nothing(
    app, people, sign_in, typed, message
):
    guardian = sign_in(people["guardian"])
    with force_locale("en"):
        response = guardian.post("/parents/family?lang=en", data={"phone": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert f'value="{typed}"' in page or typed == ""
    assert 'aria-invalid="true"' in page
    assert invitation_rows(app) == []


def test_a_number_invited_already_gets_a_message_in_chinese(app, people, sign_in):
    guardian = sign_in(people["guardian"])
    guardian.post("/parents/family", data={"phone": "13812345678"})

    response = guardian.post("/parents/family", data={"phone": "+86 138-1234-5678"})

    assert response.status_code == 400
    assert "已经邀请过这个号码" in response.get_data(as_text=True)
    assert len(invitation_rows(app)) == 1


# --- what a member may do --------------------------------------------------------------------


def test_a_member_books_and_cancels_for_the_guardians_child_and_the_guardian_sees_who(
    app, people, member, sign_in, place
):
    form = member.get(f"/parents/book/{place}").get_data(as_text=True)
    assert MASKED in form
    assert CHILD_NAME not in form

    response = book(member, place, people["child"])
    assert response.status_code == 302
    made = only_booking(app)
    assert made.status == BookingStatus.CONFIRMED
    assert made.parent_id == people["guardian"]  # the booking stays the guardian's
    assert (made.booked_by_id, made.consent_capacity) == (
        people["grandma"],
        ConsentCapacity.FAMILY_MEMBER,
    )
    assert member.get(f"/parents/bookings/{made.id}").status_code == 200

    assert member.post(f"/parents/bookings/{made.id}/cancel").status_code == 302
    cancelled = only_booking(app)
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.cancelled_by_id == people["grandma"]

    guardian = sign_in(people["guardian"])
    page = guardian.get("/parents/family").get_data(as_text=True)
    assert "陈奶奶预约了" in page
    assert "陈奶奶取消了" in page
    assert CHILD_NAME not in page
    assert MASKED in page
    detail = guardian.get(f"/parents/bookings/{made.id}").get_data(as_text=True)
    assert "陈奶奶" in detail
    assert "经监护人同意" in detail


def test_a_member_sees_the_guardians_bookings_and_waiting_list_with_masked_names(
    app, people, member, sign_in, institution, open_places
):
    [full_slot] = open_places(institution("满园托育", offers={CareType.HOURLY: (6, 36, 40)}))
    with app.app_context():
        db.session.get(Slot, full_slot).inventory.capacity = 0
        db.session.commit()
    guardian = sign_in(people["guardian"])
    [slot_id] = open_places(
        institution("第二托育", offers={CareType.HOURLY: (6, 36, 40)}), days_ahead=8
    )
    assert book(guardian, slot_id, people["child"]).status_code == 302
    joined = guardian.post(
        f"/parents/book/{full_slot}/waitlist", data={"waitlist-child_id": people["child"]}
    )
    assert joined.location.endswith("/parents/bookings")

    page = member.get("/parents/bookings").get_data(as_text=True)
    assert "第二托育" in page
    assert "满园托育" in page
    assert MASKED in page
    assert CHILD_NAME not in page
    home = member.get("/parents/").get_data(as_text=True)
    assert MASKED in home
    assert CHILD_NAME not in home
    with app.app_context():
        entry_id = db.session.scalar(sa.select(WaitlistEntry.id))
    assert member.post(f"/parents/waitlist/{entry_id}/leave").status_code == 302
    with app.app_context():
        assert db.session.get(WaitlistEntry, entry_id).status == "left"


def test_a_member_cannot_act_on_another_guardians_children(app, people, member, sign_in, place):
    stranger = sign_in(people["stranger"])
    assert book(stranger, place, people["stranger_child"]).status_code == 302
    theirs = only_booking(app)

    assert member.get(f"/parents/bookings/{theirs.id}").status_code == 404
    assert member.post(f"/parents/bookings/{theirs.id}/cancel").status_code == 404
    refused = book(member, place, people["stranger_child"], key="key-2")
    assert refused.status_code == 200  # not among the children offered: the form is shown again
    assert len(db_bookings(app)) == 1
    assert "林" not in member.get("/parents/bookings").get_data(as_text=True)


def db_bookings(app) -> list[int]:
    """The ids of every booking."""
    with app.app_context():
        return list(db.session.scalars(sa.select(Booking.id)))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("get", "/parents/children/{child}/delete", id="delete-page"),
        pytest.param("post", "/parents/children/{child}/delete", id="delete"),
        pytest.param("get", "/parents/children/{child}/export", id="export"),
        pytest.param("get", "/parents/family/{invitation}/revoke", id="revoke-page"),
        pytest.param("post", "/parents/family/{invitation}/revoke", id="revoke"),
    ],
)
def test_a_member_cannot_change_the_guardians_children_or_members(
    app, people, member, method, path
):
    [invitation] = invitation_rows(app)
    url = path.format(child=people["child"], invitation=invitation.id)

    assert getattr(member, method)(url).status_code == 404

    with app.app_context():
        assert db.session.get(Child, people["child"]) is not None
    assert invitation_rows(app)[0].status == InvitationStatus.ACCEPTED


def test_a_member_invites_only_to_her_own_account(app, people, member):
    assert "13812345678" not in member.get("/parents/family").get_data(as_text=True)
    member.post("/parents/family", data={"phone": "15912345678"})
    newest = invitation_rows(app)[-1]
    assert newest.guardian_id == people["grandma"]  # her own family, not the guardian's


def test_a_revoked_member_is_refused_at_once_also_for_the_bookings_she_made(
    app, people, member, sign_in, place
):
    assert book(member, place, people["child"]).status_code == 302
    made = only_booking(app)
    [invitation] = invitation_rows(app)
    guardian = sign_in(people["guardian"])
    confirm = guardian.get(f"/parents/family/{invitation.id}/revoke")
    assert confirm.status_code == 200
    assert "138 1234 5678" in confirm.get_data(as_text=True)

    assert guardian.post(f"/parents/family/{invitation.id}/revoke").status_code == 302

    assert invitation_rows(app)[0].status == InvitationStatus.REVOKED
    assert member.get(f"/parents/bookings/{made.id}").status_code == 404
    assert member.post(f"/parents/bookings/{made.id}/cancel").status_code == 404
    assert "/parents/children/new" in member.get(f"/parents/book/{place}").location
    assert MASKED not in member.get("/parents/bookings").get_data(as_text=True)
    assert only_booking(app).status == BookingStatus.CONFIRMED  # the booking itself stays


def test_the_services_refuse_a_revoked_member(app, people, member, sign_in, place):
    [invitation] = invitation_rows(app)
    sign_in(people["guardian"]).post(f"/parents/family/{invitation.id}/revoke")
    with app.app_context(), force_locale("en"):
        grandma = db.session.get(User, people["grandma"])
        child = db.session.get(Child, people["child"])
        with pytest.raises(booking.BookingError, match="not on your account"):
            booking.book(grandma, child.id, db.session.get(Slot, place), "k", clock.local_now())
        assert booking.children_for(grandma) == []


# --- consent -----------------------------------------------------------------------------------


def test_the_guardian_consents_as_guardian_and_a_member_on_the_guardians_behalf(
    app, people, member, sign_in, place
):
    guardian = sign_in(people["guardian"])
    own = guardian.get(f"/parents/book/{place}").get_data(as_text=True)
    helped = member.get(f"/parents/book/{place}").get_data(as_text=True)
    assert "本人是该孩子的监护人" in own
    assert "经监护人同意代为办理" not in own
    assert "经监护人同意代为办理" in helped
    assert "本人是该孩子的监护人" not in helped
    english = member.get(f"/parents/book/{place}?lang=en").get_data(as_text=True)
    assert "With the guardian's consent, I am doing this on their behalf" in english

    assert book(guardian, place, people["child"]).status_code == 302
    made = only_booking(app)
    assert (made.booked_by_id, made.consent_capacity) == (
        people["guardian"],
        ConsentCapacity.GUARDIAN,
    )


def test_a_member_with_children_of_her_own_reads_both_consents(
    app, people, member, child_of, place
):
    child_of(people["grandma"], "王小华")
    page = member.get(f"/parents/book/{place}").get_data(as_text=True)
    assert "本人是该孩子的监护人" in page
    assert "经监护人同意代为办理" in page
    assert "王小华" in page
    assert MASKED in page


# --- races -------------------------------------------------------------------------------------


def test_accept_and_revoke_at_once_exactly_one_wins(app, people, sign_in):
    """Each round: a pending invitation; the invitee accepts while the guardian withdraws it,
    each in a thread with its own connection, released at one barrier."""
    guardian_client = sign_in(people["guardian"])
    for round_number in range(8):
        guardian_client.post("/parents/family", data={"phone": "13812345678"})
        invitation_id = invitation_rows(app)[-1].id
        outcomes = race_accept_and_withdraw(app, people, invitation_id)
        assert sorted(outcomes) == ["done", "settled"], (round_number, outcomes)
        final = invitation_rows(app)[-1]
        if outcomes[0] == "done":
            assert (final.status, final.member_id) == (InvitationStatus.ACCEPTED, people["grandma"])
        else:
            assert (final.status, final.member_id) == (InvitationStatus.REVOKED, None)
        if final.status == InvitationStatus.ACCEPTED:  # clear the way for the next round
            guardian_client.post(f"/parents/family/{final.id}/revoke")


def race_accept_and_withdraw(app, people, invitation_id: int) -> list[str]:
    """The invitee's accept and the guardian's withdrawal, each loaded first, then run at once;
    each outcome is "done", "settled" or the error."""
    start_line = threading.Barrier(2, timeout=30)
    outcomes = ["not run", "not run"]
    acts = [
        (people["grandma"], lambda user, found: family.answer(user, found, True)),
        (people["guardian"], lambda user, found: family.revoke(user, found, "pending")),
    ]

    def attempt(index: int) -> None:
        user_id, act = acts[index]
        with app.app_context(), force_locale("en"):
            try:
                user = db.session.get(User, user_id)
                found = db.session.get(FamilyMember, invitation_id)
                db.session.commit()
                start_line.wait()
                run_in_transaction(lambda: act(user, found))
                outcomes[index] = "done"
            except family.InvitationSettled:
                outcomes[index] = "settled"
            except Exception as error:  # every other error is a finding
                outcomes[index] = f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_family_page_has_labels_and_a_tel_keyboard(app, people, member, sign_in, lang):
    page = sign_in(people["guardian"]).get(f"/parents/family?lang={lang}").get_data(as_text=True)
    field = re.search(r"<input[^>]*name=\"phone\"[^>]*>", page).group(0)
    assert 'type="tel"' in field
    assert 'inputmode="tel"' in field
    assert re.search(r'<label for="phone">', page)
    assert "138 1234 5678" in page
    assert len(page.encode()) < 60_000


def test_family_forms_need_their_csrf_token(app, people, sign_in):
    guardian = sign_in(people["guardian"])
    app.config["WTF_CSRF_ENABLED"] = True
    page = guardian.get("/parents/family").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    assert guardian.post("/parents/family", data={"phone": "13812345678"}).status_code == 400
    assert invitation_rows(app) == []
    sent = guardian.post("/parents/family", data={"phone": "13812345678", "csrf_token": token})
    assert sent.status_code == 302
    [invitation] = invitation_rows(app)
    grandma = sign_in(people["grandma"])
    assert grandma.post(f"/parents/invitations/{invitation.id}/accept").status_code == 400
    assert guardian.post(f"/parents/family/{invitation.id}/revoke").status_code == 400
    assert invitation_rows(app)[0].status == InvitationStatus.PENDING


def test_a_grandparent_adding_the_child_consents_as_family_and_books_so(app, user, sign_in):
    """A grandparent with an account of her own records the child as family acting with the
    guardian's consent; her bookings then read and record that consent, not a guardian's."""
    grandma = sign_in(user(Role.PARENT, display_name="陈奶奶"))
    form = grandma.get("/parents/children/new").get_data(as_text=True)
    assert "经监护人同意代为办理" in form
    assert "本人是该孩子的监护人" in form

    grandma.post(
        "/parents/children/new",
        data={"name": "小宝", "birth_date": "2025-04-01", "consent": "family_member"},
    )

    with app.app_context():
        [child] = db.session.scalars(sa.select(Child)).all()
        assert child.consent_capacity == ConsentCapacity.FAMILY_MEMBER
        [consent] = child.consents
        assert consent.capacity == ConsentCapacity.FAMILY_MEMBER
        assert family.consent_capacity(db.session.get(User, child.parent_id), child) == (
            ConsentCapacity.FAMILY_MEMBER
        )


def test_a_child_form_without_a_consent_choice_records_nothing(app, user, sign_in):
    client = sign_in(user(Role.PARENT))
    for choice in ({}, {"consent": "y"}, {"consent": "stranger"}):
        response = client.post(
            "/parents/children/new", data={"name": "小宝", "birth_date": "2025-04-01", **choice}
        )
        assert response.status_code == 200
        assert "小宝" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(Child)).all() == []
