"""Changes to an institution's staff register in the regulator's audit log.

Who added, changed or took off a person, when, and at which institution; of the person only
the ID number's last four characters, as for the ban list. A removal stays in the log after
the person's row is gone. The log's institution number is ASCII digits only.
"""
# ruff: noqa: F811

from datetime import date

import pytest
import sqlalchemy as sa
from downloads import read_csv
from flask_migrate import downgrade, upgrade
from test_access_matrix import complete_declarations
from test_audit import (
    at,
    field_error,
    input_value,
    log_rows,
    log_times,
    page_text,
    sign_in,  # noqa: F401 (a fixture)
)
from test_staff_register import ban, person

from careapp.extensions import db
from careapp.models import Role, StaffChange, StaffChangeKind, StaffMember, Status

OWNER = "向阳花园长 head@sunflower.example.com · A childcare institution"
OTHER_OWNER = "海滨托育负责人 other@seaside.example.com · A childcare institution"
OWNER_PHONE = "13800138000"
ADDED = "Added a person to the staff register"
EDITED = "Changed a person on the staff register"
REMOVED = "Took a person off the staff register"

FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


# --- accounts and changes ------------------------------------------------------------------


@pytest.fixture
def bureau(user):
    """The county health bureau's account."""
    return user(Role.REGULATOR, email="bureau@example.com", display_name="晋江市卫健局")


@pytest.fixture
def owner(user):
    """The account of the institution whose register changes (with a phone on file)."""
    return user(
        Role.INSTITUTION,
        email="head@sunflower.example.com",
        display_name="向阳花园长",
        phone=OWNER_PHONE,
    )


@pytest.fixture
def other_owner(user):
    """The account of another institution."""
    return user(Role.INSTITUTION, email="other@seaside.example.com", display_name="海滨托育负责人")


@pytest.fixture
def draft(institution, owner):
    """The owner's institution, applying for filing (its register may change)."""
    return institution(
        "向阳花托育园", status=Status.DRAFT, owner_id=owner, **complete_declarations()
    )


@pytest.fixture
def other(institution, other_owner):
    """Another institution, applying for filing."""
    return institution(
        "海滨托育园", status=Status.DRAFT, owner_id=other_owner, **complete_declarations()
    )


def add_person(client, institution_id: int, **changes) -> dict:
    """Add a person through the register page; returns the form data sent."""
    data = person(**changes)
    response = client.post(f"/institutions/{institution_id}/staff", data=data)
    assert response.status_code == 302
    return data


def member_ids(app, institution_id: int) -> dict[str, int]:
    """The register's ids by name."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(StaffMember.name, StaffMember.id).where(
                StaffMember.institution_id == institution_id
            )
        )
        return dict(rows.all())


def recorded(app) -> list[tuple[str, int, int, str]]:
    """Every recorded change as (action, institution, actor, ID tail), oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(StaffChange).order_by(StaffChange.id))
        return [(r.action.value, r.institution_id, r.actor_id, r.id_number_tail) for r in rows]


@pytest.fixture
def changed(app, sign_in, owner, other_owner, draft, other) -> dict[str, str]:
    """Through the register pages, the owner adds 王丽华 and 林老师, makes 王丽华 a manager
    and takes 林老师 off; the other institution adds 陈晓燕. Returns the ID numbers."""
    client = sign_in(owner)
    kept = add_person(client, draft)
    left = add_person(client, draft, name="林老师")
    ids = member_ids(app, draft)
    edited = client.post(
        f"/institutions/{draft}/staff/{ids['王丽华']}/edit",
        data=person(role="manager", certificate_type="", certificate_number=""),
    )
    removed = client.post(f"/institutions/{draft}/staff/{ids['林老师']}/delete")
    assert (edited.status_code, removed.status_code) == (302, 302)
    elsewhere = add_person(sign_in(other_owner), other, name="陈晓燕")
    return {
        "kept": kept["id_number"],
        "left": left["id_number"],
        "elsewhere": elsewhere["id_number"],
    }


def ending(id_number: str) -> str:
    """What the log says of a person: the ID number's last four characters."""
    return f"ID number ending {id_number[-4:]}"


# --- the log -------------------------------------------------------------------------------


def test_additions_changes_and_removals_are_in_the_log_with_who_made_them(
    app, sign_in, bureau, draft, changed
):
    response = sign_in(bureau).get("/regulator/audit", query_string={"institution": draft})

    assert response.status_code == 200
    where = f"向阳花托育园 ({draft})"
    assert [row[1:] for row in log_rows(response)] == [
        [OWNER, REMOVED, where, ending(changed["left"])],
        [OWNER, EDITED, where, ending(changed["kept"])],
        [OWNER, ADDED, where, ending(changed["left"])],
        [OWNER, ADDED, where, ending(changed["kept"])],
    ]
    assert f'href="/regulator/institutions/{draft}"' in page_text(response)


def test_a_removal_stays_in_the_log_after_the_person_is_off_the_register(
    app, sign_in, bureau, owner, draft, changed
):
    assert list(member_ids(app, draft)) == ["王丽华"]
    assert (StaffChangeKind.REMOVED.value, draft, owner, changed["left"][-4:]) in recorded(app)

    rows = log_rows(
        sign_in(bureau).get("/regulator/audit", query_string={"action": "staff_removed"})
    )

    assert [row[1:] for row in rows] == [
        [OWNER, REMOVED, f"向阳花托育园 ({draft})", ending(changed["left"])]
    ]


def test_another_institutions_changes_are_left_out_when_filtering_by_institution(
    sign_in, bureau, draft, other, changed
):
    log = sign_in(bureau)

    mine = log_rows(log.get("/regulator/audit", query_string={"institution": draft}))
    theirs = log_rows(log.get("/regulator/audit", query_string={"institution": other}))

    assert ending(changed["elsewhere"]) not in [row[4] for row in mine]
    assert [row[1:] for row in theirs] == [
        [OTHER_OWNER, ADDED, f"海滨托育园 ({other})", ending(changed["elsewhere"])]
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, [ADDED, REMOVED, EDITED, ADDED, ADDED], id="everything"),
        pytest.param({"action": "staff_added"}, [ADDED] * 3, id="action-added"),
        pytest.param({"action": "staff_edited"}, [EDITED], id="action-edited"),
        pytest.param({"action": "staff_removed"}, [REMOVED], id="action-removed"),
        pytest.param({"action": "approved"}, [], id="action-of-another-kind"),
        pytest.param({"actor": "SUNFLOWER"}, [REMOVED, EDITED, ADDED, ADDED], id="actor-email"),
        pytest.param({"actor": "海滨"}, [ADDED], id="actor-name"),
        pytest.param({"actor": "卫健局"}, [], id="actor-who-changed-nothing"),
    ],
)
def test_the_log_filters_staff_changes_by_action_and_actor(
    sign_in, bureau, changed, query, expected
):
    response = sign_in(bureau).get("/regulator/audit", query_string=query)

    assert response.status_code == 200
    assert [row[2] for row in log_rows(response)] == expected


def test_staff_changes_are_kept_to_the_chosen_days(app, sign_in, bureau, owner, draft):
    with app.app_context():
        for action, moment in (
            (StaffChangeKind.ADDED, at(date(2025, 3, 1), 2)),  # 10:00 local, 1 March
            (StaffChangeKind.REMOVED, at(date(2025, 3, 1), 17)),  # 01:00 local, 2 March
        ):
            db.session.add(
                StaffChange(
                    institution_id=draft,
                    action=action,
                    id_number_tail="123X",
                    actor_id=owner,
                    changed_at=moment,
                )
            )
        db.session.commit()
    log = sign_in(bureau)

    first = log.get("/regulator/audit", query_string={"to": "2025-03-01"})
    second = log.get("/regulator/audit", query_string={"from": "2025-03-02"})

    assert (log_times(first), log_times(second)) == (["2025-03-01 10:00"], ["2025-03-02 01:00"])
    assert [row[2] for row in log_rows(second)] == [REMOVED]


def test_the_download_holds_staff_changes(app, sign_in, bureau, draft, changed):
    rows = read_csv(
        sign_in(bureau).get(
            "/regulator/audit.csv", query_string={"institution": draft, "action": "staff_removed"}
        )
    )

    assert [row[1:] for row in rows[1:]] == [
        [
            REMOVED,
            "向阳花园长",
            "head@sunflower.example.com",
            "A childcare institution",
            "向阳花托育园",
            str(draft),
            ending(changed["left"]),
        ]
    ]


def test_neither_the_log_nor_its_download_shows_an_id_number_a_name_or_a_phone(
    sign_in, bureau, changed
):
    log = sign_in(bureau)

    page = page_text(log.get("/regulator/audit"))
    download = log.get("/regulator/audit.csv").get_data(as_text=True)

    for text in (page, download):
        assert all(ending(id_number) in text for id_number in changed.values())
        for private in (*changed.values(), "王丽华", "林老师", "陈晓燕", "BY2024-0001"):
            assert private not in text
        assert OWNER_PHONE not in text


# --- what records nothing ------------------------------------------------------------------


def test_a_save_that_changes_nothing_records_no_change(app, sign_in, owner, draft):
    client = sign_in(owner)
    add_person(client, draft)
    [member_id] = member_ids(app, draft).values()

    response = client.post(f"/institutions/{draft}/staff/{member_id}/edit", data=person())

    assert response.status_code == 302
    assert [change[0] for change in recorded(app)] == ["staff_added"]


def test_refused_changes_record_nothing(app, sign_in, owner, bureau, institution):
    review = institution(
        "审核中托育园", status=Status.UNDER_REVIEW, owner_id=owner, **complete_declarations()
    )
    applying = institution(
        "草稿托育园", status=Status.DRAFT, owner_id=owner, **complete_declarations()
    )
    banned = person()
    ban(app, bureau, banned["id_number"])
    client = sign_in(owner)

    frozen = client.post(f"/institutions/{review}/staff", data=person())
    refused = client.post(f"/institutions/{applying}/staff", data=banned)

    assert (frozen.status_code, refused.status_code) == (409, 302)
    assert member_ids(app, applying) == {}
    assert recorded(app) == []


# --- the institution filter ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param("٣", "Please enter a whole number.", id="arabic-indic-digit"),
        pytest.param("²", "Please enter a whole number.", id="superscript-digit"),
        pytest.param("1_0", "Please enter a whole number.", id="underscore"),
        pytest.param("+1", "Please enter a whole number.", id="plus-sign"),
        pytest.param("-1", "Please enter a number from 1 to 2147483647.", id="negative"),
        pytest.param("9" * 5000, "Please enter a number from 1 to 2147483647.", id="5000-digits"),
    ],
)
def test_the_institution_number_is_digits_only(sign_in, bureau, draft, changed, typed, message):
    log = sign_in(bureau)

    response = log.get("/regulator/audit", query_string={"institution": typed})
    download = log.get("/regulator/audit.csv", query_string={"institution": typed})
    download.close()  # a download that went through would hold the database otherwise

    assert response.status_code == 400
    assert field_error(response, "institution") == message
    assert input_value(response, "institution") == typed
    assert "Download these entries" not in page_text(response)
    assert (download.status_code, download.mimetype) == (400, "text/html")


@pytest.mark.parametrize("width", ["ascii", "full-width"])
def test_an_institution_number_filters_in_either_width(sign_in, bureau, other, changed, width):
    # A Chinese input method in full-width mode types １２ for 12.
    typed = str(other) if width == "ascii" else str(other).translate(FULL_WIDTH_DIGITS)

    response = sign_in(bureau).get("/regulator/audit", query_string={"institution": f" {typed} "})

    assert response.status_code == 200
    assert [row[3] for row in log_rows(response)] == [f"海滨托育园 ({other})"]


# --- the migration -------------------------------------------------------------------------


def test_migration_0030_adds_the_staff_changes_table_and_takes_it_back(empty_app):
    with empty_app.app_context():
        upgrade(revision="0029")
        before = set(sa.inspect(db.engine).get_table_names())
        upgrade(revision="0030")
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("staff_changes")}
        downgrade(revision="0029")
        after = set(sa.inspect(db.engine).get_table_names())

    assert "staff_changes" not in before
    assert columns == {"id", "institution_id", "action", "id_number_tail", "actor_id", "changed_at"}
    assert after == before
