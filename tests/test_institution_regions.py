"""Filing applications in a register of several regions: the region comes first, and the form
lists that region's townships and authorities and states its class rule."""

import re

import pytest
import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import Institution, Region, Role, Status, Township
from tests.test_filing import profile_form
from tests.test_regions import _region


@pytest.fixture
def two_regions(app, township):
    """Jinjiang (qingyang) and Yong'an (yanan, gongchuan; 6 children per carer in a mixed
    class, its own authorities): the townships' ids by code."""
    township("qingyang")
    _region(app, "yongan", "永安市", ["yanan", "gongchuan"])
    with app.app_context():
        yongan = db.session.scalar(sa.select(Region).filter_by(code="yongan"))
        yongan.mixed_class_children_per_carer = 6
        yongan.registration_authorities = "civil_affairs,administrative_approval"
        db.session.commit()
        return {t.code: t.id for t in db.session.scalars(sa.select(Township))}


@pytest.fixture
def applicant(client, auth, user):
    """A signed-in institution account reading English."""
    client.set_cookie("lang", "en")
    auth.login(user(Role.INSTITUTION))
    return client


def options(html: str, name: str) -> list[str]:
    """The values of the options of the select named ``name``."""
    found = re.search(rf'<select[^>]*\bname="{name}"[^>]*>.*?</select>', html, re.S)
    return re.findall(r'<option (?:selected )?value="([^"]*)"', found[0]) if found else []


def applications(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Institution.name)))


def test_an_applicant_chooses_the_region_first(applicant, two_regions):
    html = applicant.get("/institutions/new").get_data(as_text=True)

    assert options(html, "region") == ["jinjiang", "yongan"]
    assert options(html, "township_id") == []
    assert 'name="uscc"' not in html


def test_the_form_of_a_region_lists_its_townships_authorities_and_class_rule(
    applicant, two_regions
):
    html = applicant.get("/institutions/new?region=yongan").get_data(as_text=True)

    assert options(html, "township_id") == [
        str(two_regions["yanan"]),
        str(two_regions["gongchuan"]),
    ]
    assert options(html, "authority") == ["civil_affairs", "administrative_approval"]
    assert "by a local rule of the region, 1 per 6" in html


def test_an_unknown_region_is_not_found(applicant, two_regions):
    assert applicant.get("/institutions/new?region=atlantis").status_code == 404


def test_an_application_in_the_chosen_region_is_saved(app, applicant, two_regions):
    sent = applicant.post(
        "/institutions/new?region=yongan",
        data=profile_form(two_regions["yanan"], latitude="", longitude=""),
    )

    assert sent.status_code == 302
    with app.app_context():
        saved = db.session.scalars(sa.select(Institution)).one()
        assert (saved.township.code, saved.status) == ("yanan", Status.DRAFT)


def test_a_township_of_another_region_is_refused(app, applicant, two_regions):
    refused = applicant.post(
        "/institutions/new?region=yongan",
        data=profile_form(two_regions["qingyang"], latitude="", longitude=""),
    )

    assert refused.status_code == 200
    assert "Not a valid choice." in refused.get_data(as_text=True)
    assert applications(app) == []


def test_an_application_is_edited_among_its_regions_townships(app, applicant, two_regions):
    applicant.post(
        "/institutions/new?region=yongan",
        data=profile_form(two_regions["yanan"], latitude="", longitude=""),
    )
    with app.app_context():
        saved = db.session.scalar(sa.select(Institution.id))

    html = applicant.get(f"/institutions/{saved}/edit").get_data(as_text=True)

    assert options(html, "township_id") == [
        str(two_regions["yanan"]),
        str(two_regions["gongchuan"]),
    ]
    assert "by a local rule of the region, 1 per 6" in html


def test_a_single_region_register_shows_the_form_at_once(applicant, township):
    qingyang = township("qingyang")

    html = applicant.get("/institutions/new").get_data(as_text=True)

    assert options(html, "region") == []
    assert options(html, "township_id") == [str(qingyang)]
