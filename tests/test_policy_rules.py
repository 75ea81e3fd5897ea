"""The policies' own rules (issue 17): registration authorities, kindergarten toddler classes,
the home-based group, the mixed-age class ratio as a local rule, price regimes beside the
nature, and WTForms' messages in the page's language on every form."""

import re

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from werkzeug.datastructures import MultiDict

from careapp import clock
from careapp import forms as site_forms
from careapp.config import PROJECT_ROOT
from careapp.extensions import db
from careapp.models import (
    Authority,
    ChangeRequest,
    ClassKind,
    Institution,
    Nature,
    PriceRegime,
    Region,
    Role,
    Status,
    Township,
)
from careapp.models.institution import NATURE_PRICE_REGIMES
from careapp.services import filing, policy_rules
from tests.test_filing import (
    FULL_DAY,
    HOURLY,
    OLDER_TODDLER_CLASS,
    TODDLER_CLASS,
    apply,
    field_errors,
    make_uscc,
    profile_form,
)


@pytest.fixture
def township_id(app, township):
    """Qingyang, in Jinjiang."""
    return township("qingyang")


@pytest.fixture
def owner(user):
    """An institution account."""
    return user(Role.INSTITUTION, display_name="向阳花托育")


@pytest.fixture
def regulator(user):
    """A county health bureau account."""
    return user(Role.REGULATOR, display_name="晋江市卫健局")


@pytest.fixture
def act_as(client, auth):
    """Switch ``client`` (reading English) to another account."""
    client.set_cookie("lang", "en")

    def switch(user_id: int) -> None:
        auth.logout()
        assert auth.login(user_id).status_code == 302

    return switch


INFANT_CLASS = {"kind": "infant", "name": "乳儿班", "capacity": "9", "carers": "3"}
MIXED_CLASS = {"kind": "mixed", "name": "混龄班", "capacity": "10", "carers": "2"}
HOME_GROUP = {"kind": "home_group", "name": "家庭组", "capacity": "5", "carers": "2"}
KINDERGARTEN_OFFER = {**FULL_DAY, "min_age_months": "24", "max_age_months": "36"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def text(response) -> str:
    return response.get_data(as_text=True)


def count_institutions(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Institution.id)))


def set_region(app, township: int, **values) -> None:
    """Change the settings of ``township``'s region."""
    with app.app_context():
        region = db.session.get(Township, township).region
        for name, value in values.items():
            setattr(region, name, value)
        db.session.commit()


def kindergarten_form(township: int, **changes) -> dict:
    """A kindergarten toddler class's valid application."""
    values = {
        "nature": "kindergarten_class",
        "authority": "staffing_office",
        "uscc": make_uscc("1"),
        "classes": (OLDER_TODDLER_CLASS,),
        "offers": {"full_day": KINDERGARTEN_OFFER},
    }
    return profile_form(township, **{**values, **changes})


def refused(client, data: dict) -> list[tuple[str, str]]:
    """Post the application form, expect it refused; the field errors shown."""
    response = client.post("/institutions/new", data=data)
    assert response.status_code == 200
    return field_errors(response)


# --- 1. registration authorities ----------------------------------------------------------


def test_education_bureau_is_no_registration_authority_in_the_model():
    assert "education" not in Authority.values()
    assert Authority.ADMINISTRATIVE_APPROVAL in Authority


def test_form_offers_the_regions_authorities_and_never_the_education_bureau(
    client, act_as, owner, township_id
):
    act_as(owner)

    page = text(client.get("/institutions/new"))
    offered = re.findall(r'<option[^>]*value="([a-z_]+)"', page.split('name="authority"')[1])

    assert offered[:3] == ["staffing_office", "civil_affairs", "market_regulation"]
    assert "education" not in page.split('name="authority"')[1].split("</select>")[0]
    assert "administrative_approval" not in offered[:4]


def test_education_bureau_posted_as_authority_is_refused(app, client, act_as, owner, township_id):
    act_as(owner)
    before = count_institutions(app)

    errors = refused(client, kindergarten_form(township_id, authority="education"))

    assert ("authority", "Not a valid choice.") in errors
    assert count_institutions(app) == before


def test_administrative_approval_bureau_is_offered_where_the_region_lists_it(
    app, client, act_as, owner, township_id
):
    set_region(app, township_id, registration_authorities="administrative_approval")
    act_as(owner)

    page = text(client.get("/institutions/new"))
    select = page.split('name="authority"')[1].split("</select>")[0]

    assert "administrative_approval" in select
    assert "civil_affairs" not in select


def test_authority_the_region_does_not_list_is_refused(app, client, act_as, owner, township_id):
    set_region(app, township_id, registration_authorities="civil_affairs")
    with app.app_context():
        # A second region offers market regulation: the form of this one still does not.
        db.session.add(
            Region(code="other", name="他市", registration_authorities="market_regulation")
        )
        db.session.commit()
    act_as(owner)

    page = text(client.get("/institutions/new?region=jinjiang"))
    errors = refused(
        client, profile_form(township_id, authority="market_regulation", uscc=make_uscc("9"))
    )

    assert (
        'value="market_regulation"' not in page.split('name="authority"')[1].split("</select>")[0]
    )
    assert ("authority", "Not a valid choice.") in errors
    assert count_institutions(app) == 0


@pytest.mark.parametrize(
    ("authority", "digit", "accepted"),
    [
        pytest.param("administrative_approval", "5", True, id="approval-non-profit-5"),
        pytest.param("administrative_approval", "9", True, id="approval-for-profit-9"),
        pytest.param("administrative_approval", "1", False, id="approval-not-1"),
        pytest.param("staffing_office", "5", False, id="staffing-not-5"),
        pytest.param("civil_affairs", "9", False, id="civil-affairs-not-9"),
        pytest.param("market_regulation", "1", False, id="market-not-1"),
    ],
)
def test_credit_code_first_character_is_checked_per_authority(
    app, client, act_as, owner, township_id, authority, digit, accepted
):
    set_region(
        app,
        township_id,
        registration_authorities="staffing_office,civil_affairs,market_regulation,"
        "administrative_approval",
    )
    act_as(owner)
    data = profile_form(township_id, authority=authority, uscc=make_uscc(digit))

    response = client.post("/institutions/new", data=data)

    if accepted:
        assert response.status_code == 302, field_errors(response)
    else:
        assert (
            "uscc",
            "This code does not belong to the registration authority you chose.",
        ) in field_errors(response)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_kindergarten_class_page_shows_the_education_bureau_as_supervisor_not_registrar(
    app, client, institution, language
):
    kindergarten = institution(
        nature=Nature.KINDERGARTEN_CLASS,
        authority=Authority.STAFFING_OFFICE,
        uscc=make_uscc("1"),
        classes=((ClassKind.OLDER_TODDLER, 20, 3),),
        offers={"full_day": (24, 36, 1500)},
    )

    page = text(client.get(f"/institutions/{kindergarten}?lang={language}"))
    registration = page.split('id="registration-heading"')[1]

    if language == "en":
        assert "Supervising department" in registration
        assert "Education bureau (supervises kindergarten toddler classes" in registration
        assert "Staffing office (public institution)" in registration
    else:
        assert "监管部门" in registration
        assert "教育部门（负责幼儿园托班的综合监管，不是登记机关）" in registration
        assert "机构编制部门" in registration


def test_other_natures_show_no_supervising_department(client, institution):
    centre = institution(nature=Nature.PRIVATE)

    assert "Supervising department" not in text(client.get(f"/institutions/{centre}?lang=en"))


# --- 2. kindergarten toddler classes take 2–3-year-olds only -------------------------------


@pytest.mark.parametrize("row", [TODDLER_CLASS, INFANT_CLASS, MIXED_CLASS, HOME_GROUP])
def test_kindergarten_class_form_refuses_every_class_but_older_toddlers(
    app, client, act_as, owner, township_id, row
):
    act_as(owner)
    before = count_institutions(app)

    errors = refused(client, kindergarten_form(township_id, classes=(OLDER_TODDLER_CLASS, row)))

    assert (
        "classes-1-kind",
        "A kindergarten toddler class takes children aged 2 to 3 only (24–36 months).",
    ) in errors
    assert count_institutions(app) == before


@pytest.mark.parametrize(("youngest", "limit"), [("6", "36"), ("12", "36"), ("23", "36")])
def test_kindergarten_class_form_refuses_offers_for_children_under_two(
    client, act_as, owner, township_id, youngest, limit
):
    act_as(owner)
    offer = {**KINDERGARTEN_OFFER, "min_age_months": youngest, "max_age_months": limit}

    errors = refused(client, kindergarten_form(township_id, offers={"hourly": offer}))

    assert (
        "offers-hourly-min_age_months",
        "A kindergarten toddler class accepts children from 24 months up to 36 months only.",
    ) in errors


def test_kindergarten_class_of_older_toddlers_aged_24_to_36_is_accepted(
    app, client, act_as, owner, township_id
):
    act_as(owner)

    institution_id = apply(client, kindergarten_form(township_id))

    with app.app_context():
        found = db.session.get(Institution, institution_id)
        assert [c.kind for c in found.classes] == [ClassKind.OLDER_TODDLER]
        assert found.price_regime == PriceRegime.GOVERNMENT_GUIDED


def _profile(nature, classes, offers, township, **facts):
    return filing.Profile(
        {
            "nature": nature,
            "township_id": township,
            "authority": Authority.CIVIL_AFFAIRS,
            "name": "幼儿园托班",
            "address": "世纪大道 1 号",
            "phone": "0595-85661234",
            "uscc": make_uscc("5"),
            **facts,
        },
        classes,
        offers,
    )


def _class(kind, capacity=10, carers=2):
    return {"kind": kind, "name": str(kind), "capacity": capacity, "carers": carers}


def _offer(youngest, limit):
    from datetime import time

    return {
        "care_type": "full_day",
        "opens_at": time(8),
        "closes_at": time(17),
        "price_yuan": 1000,
        "min_age_months": youngest,
        "max_age_months": limit,
    }


@pytest.mark.parametrize(
    ("classes", "offers"),
    [
        pytest.param([_class(ClassKind.TODDLER)], [_offer(24, 36)], id="toddler-class"),
        pytest.param([_class(ClassKind.MIXED)], [_offer(24, 36)], id="mixed-class"),
        pytest.param([_class(ClassKind.OLDER_TODDLER)], [_offer(18, 36)], id="offer-from-18"),
    ],
)
def test_service_refuses_a_kindergarten_class_outside_2_to_3_on_every_path(
    app, user, township_id, classes, offers
):
    owner_id = user(role="institution")
    with app.app_context():
        from careapp.models import User

        account = db.session.get(User, owner_id)
        profile = _profile(Nature.KINDERGARTEN_CLASS, classes, offers, township_id)
        with pytest.raises(filing.FilingError):
            filing.create_application(account, profile)
        db.session.rollback()

        good = _profile(
            Nature.KINDERGARTEN_CLASS,
            [_class(ClassKind.OLDER_TODDLER)],
            [_offer(24, 36)],
            township_id,
        )
        draft = filing.create_application(account, good)
        with pytest.raises(filing.FilingError):
            filing.update_application(draft, profile)
        db.session.rollback()


def test_change_request_giving_a_kindergarten_class_a_toddler_class_is_refused(
    app, institution, user
):
    kindergarten = institution(
        nature=Nature.KINDERGARTEN_CLASS,
        classes=((ClassKind.OLDER_TODDLER, 20, 3),),
        offers={"full_day": (24, 36, 1500)},
    )
    actor = user(role="institution")
    with app.app_context():
        from careapp.models import User

        found = db.session.get(Institution, kindergarten)
        account = db.session.get(User, actor)
        profile = filing.Profile(
            {**policy_rules.facts_of(found), "name": found.name},
            [_class(ClassKind.OLDER_TODDLER, 20, 3), _class(ClassKind.TODDLER)],
            [_offer(24, 36)],
        )
        with pytest.raises(filing.FilingError) as refusal:
            filing.update_filed_profile(found, account, profile, clock.today())
        assert "24" in str(refusal.value.message), refusal.value.message
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(ChangeRequest.id))) == 0


def test_approving_a_change_to_kindergarten_nature_with_infant_classes_is_refused(
    app, institution, user
):
    centre = institution(
        nature=Nature.PRIVATE,
        classes=((ClassKind.INFANT, 9, 3),),
        offers={"full_day": (6, 36, 3000)},
    )
    actor = user(role="regulator")
    with app.app_context():
        from careapp.models import User

        found = db.session.get(Institution, centre)
        # A change stored before the rule, or typed past the form: the approval checks again.
        change = ChangeRequest(
            institution=found,
            proposed={"nature": "kindergarten_class", "price_regime": "market_regulated"},
            submitted_by_id=actor,
        )
        db.session.add(change)
        db.session.flush()
        with pytest.raises(filing.FilingError):
            filing.approve_change(change, db.session.get(User, actor), clock.today())
        assert change.is_pending
        assert found.nature == Nature.PRIVATE
        db.session.rollback()


# --- 3. the home-based group and the mixed-age class's local ratio -------------------------


@pytest.mark.parametrize("nature", [n.value for n in Nature if n != Nature.HOME_BASED])
def test_home_based_group_belongs_to_home_based_points_only(
    client, act_as, owner, township_id, nature
):
    act_as(owner)
    regime = NATURE_PRICE_REGIMES[Nature(nature)][0].value
    data = profile_form(township_id, nature=nature, price_regime=regime, classes=(HOME_GROUP,))
    if nature == "kindergarten_class":
        data = kindergarten_form(township_id, classes=(HOME_GROUP,))

    errors = refused(client, data)

    assert any(field == "classes-0-kind" for field, _message in errors), errors


def test_home_based_point_may_run_a_home_based_group(app, client, act_as, owner, township_id):
    act_as(owner)

    institution_id = apply(
        client,
        profile_form(
            township_id,
            nature="home_based",
            authority="market_regulation",
            uscc=make_uscc("9"),
            classes=(HOME_GROUP,),
            offers={"full_day": {**FULL_DAY, "min_age_months": "6"}},
        ),
    )

    with app.app_context():
        found = db.session.get(Institution, institution_id)
        assert [c.kind for c in found.classes] == [ClassKind.HOME_GROUP]


@pytest.mark.parametrize(
    ("ratio", "capacity", "carers", "accepted"),
    [
        pytest.param(5, "10", "2", True, id="default-1-to-5-at-ratio"),
        pytest.param(5, "11", "2", False, id="default-1-to-5-above"),
        pytest.param(6, "12", "2", True, id="region-1-to-6-at-ratio"),
        pytest.param(4, "9", "2", False, id="region-1-to-4-above"),
    ],
)
def test_mixed_class_ratio_is_the_regions_local_rule(
    app, client, act_as, owner, township_id, ratio, capacity, carers, accepted
):
    set_region(app, township_id, mixed_class_children_per_carer=ratio)
    act_as(owner)
    row = {**MIXED_CLASS, "capacity": capacity, "carers": carers}

    response = client.post("/institutions/new", data=profile_form(township_id, classes=(row,)))

    if accepted:
        assert response.status_code == 302, field_errors(response)
    else:
        assert (
            "classes-0-capacity",
            f"With {carers} carers this class may have at most {int(carers) * ratio} children"
            f" (one carer for every {ratio} children, a local rule of the region).",
        ) in field_errors(response)


def test_mixed_classes_start_at_18_months():
    from careapp.models import CLASS_STANDARDS

    assert CLASS_STANDARDS[ClassKind.MIXED].min_age_months == 18
    assert CLASS_STANDARDS[ClassKind.MIXED].ratio_is_local


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_form_says_the_mixed_class_ratio_is_a_local_rule(
    app, client, act_as, owner, township_id, language
):
    set_region(app, township_id, mixed_class_children_per_carer=6)
    act_as(owner)

    page = text(client.get(f"/institutions/new?lang={language}"))

    if language == "en":
        assert "by a local rule of the region, 1 per 6" in page
    else:
        assert "按本地区的地方规定每 6 名配 1 名" in page


def test_regulator_edits_the_regions_authorities_and_local_ratio(
    app, client, act_as, regulator, township_id
):
    act_as(regulator)

    page = client.get("/regulator/regions/jinjiang/rules?lang=zh_CN")
    assert page.status_code == 200
    assert "地方规定" in text(page)
    form = client.get("/regulator/regions/jinjiang/rules")
    assert 'value="education"' not in text(form)

    response = client.post(
        "/regulator/regions/jinjiang/rules",
        data=MultiDict(
            [
                ("registration_authorities", "civil_affairs"),
                ("registration_authorities", "administrative_approval"),
                ("mixed_class_children_per_carer", "6"),
            ]
        ),
    )

    assert response.status_code == 302
    with app.app_context():
        region = db.session.get(Township, township_id).region
        assert region.authority_codes == ["civil_affairs", "administrative_approval"]
        assert region.mixed_class_children_per_carer == 6


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"mixed_class_children_per_carer": "5"}, id="no-authority"),
        pytest.param(
            {"registration_authorities": "civil_affairs", "mixed_class_children_per_carer": "8"},
            id="ratio-above-7",
        ),
        pytest.param(
            {"registration_authorities": "education", "mixed_class_children_per_carer": "5"},
            id="education-bureau",
        ),
        pytest.param(
            {"registration_authorities": "civil_affairs", "mixed_class_children_per_carer": "x"},
            id="not-a-number",
        ),
    ],
)
def test_region_rules_refuse_bad_values_in_chinese(
    app, client, act_as, regulator, township_id, data
):
    act_as(regulator)
    client.set_cookie("lang", "zh_CN")

    response = client.post("/regulator/regions/jinjiang/rules", data=data)

    assert response.status_code == 400
    errors = field_errors(response)
    assert errors
    assert all(CHINESE.search(message) for _field, message in errors), errors
    with app.app_context():
        region = db.session.get(Township, township_id).region
        assert region.mixed_class_children_per_carer == 5


def test_region_ratio_below_what_current_mixed_classes_use_is_refused(
    app, client, act_as, regulator, institution, township_id
):
    institution(classes=((ClassKind.MIXED, 10, 2),))
    act_as(regulator)

    response = client.post(
        "/regulator/regions/jinjiang/rules",
        data={"registration_authorities": "civil_affairs", "mixed_class_children_per_carer": "4"},
    )

    assert response.status_code == 400
    assert "1 mixed-age classes of this region" in text(response)


# --- 7. 普惠 is not 政府指导价 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nature", "regime"),
    [(nature, regime) for nature in Nature for regime in PriceRegime],
    ids=lambda value: str(value),
)
def test_price_regime_must_fit_the_nature(client, act_as, owner, township_id, nature, regime):
    act_as(owner)
    data = profile_form(township_id, nature=nature.value, price_regime=regime.value)
    if nature == Nature.KINDERGARTEN_CLASS:
        data = kindergarten_form(township_id, price_regime=regime.value)
    if nature == Nature.HOME_BASED:
        data = profile_form(
            township_id,
            nature="home_based",
            price_regime=regime.value,
            classes=(HOME_GROUP,),
        )

    response = client.post("/institutions/new", data=data)

    fits = regime in NATURE_PRICE_REGIMES[nature]
    message = ("price_regime", "This way of setting prices does not fit the institution's nature.")
    if fits:
        assert response.status_code == 302, field_errors(response)
    else:
        assert message in field_errors(response)


def test_inclusive_institution_is_never_labelled_government_guided(client, institution):
    centre = institution(nature=Nature.INCLUSIVE)

    for path in (f"/institutions/{centre}", "/", f"/compare?ids={centre}"):
        page = text(client.get(path + ("&" if "?" in path else "?") + "lang=zh_CN"))
        assert "普惠（政府指导价）" not in page
    detail = text(client.get(f"/institutions/{centre}?lang=zh_CN"))
    assert "普惠性" in detail
    assert "普惠价格（通过市场形成）" in detail


@pytest.mark.parametrize(
    ("nature", "shown"),
    [
        (Nature.PUBLIC, "政府指导价"),
        (Nature.INCLUSIVE, "普惠价格（通过市场形成）"),
        (Nature.PRIVATE, "市场调节价"),
    ],
)
def test_search_card_and_detail_show_the_price_regime_beside_the_nature(
    client, institution, nature, shown
):
    centre = institution(nature=nature)

    card = text(client.get("/?lang=zh_CN")).split('class="cards"')[1]
    detail = text(client.get(f"/institutions/{centre}?lang=zh_CN"))

    assert shown in card
    assert shown in detail


def test_api_lists_the_price_regime_beside_the_unchanged_nature(client, institution):
    centre = institution(nature=Nature.INCLUSIVE)

    listed = client.get("/api/v1/institutions").get_json()["items"][0]
    detail = client.get(f"/api/v1/institutions/{centre}").get_json()
    schema = client.get("/api/v1/openapi.json").get_json()

    assert (listed["nature"], listed["price_regime"]) == ("inclusive", "inclusive_market")
    assert detail["price_regime"] == "inclusive_market"
    summary = schema["components"]["schemas"]["InstitutionSummary"]["properties"]
    assert summary["price_regime"]["enum"] == PriceRegime.values()


def test_open_data_spreadsheet_has_the_price_regime(client, institution):
    institution(nature=Nature.PUBLIC)

    response = client.get("/open-data/institutions.csv?lang=en")
    if response.status_code == 404:
        pytest.skip("the spreadsheet lives at another path")
    lines = response.get_data(as_text=True).splitlines()

    assert lines[0].endswith("How prices are set")
    assert lines[1].endswith("Government-guided price")


def test_regulator_review_shows_the_price_regime(app, client, act_as, regulator, institution):
    applied = institution(status=Status.UNDER_REVIEW, nature=Nature.INCLUSIVE)
    act_as(regulator)

    page = text(client.get(f"/regulator/institutions/{applied}"))

    assert "How prices are set" in page
    assert "Inclusive price formed in the market" in page


def test_new_institutions_get_their_natures_usual_price_regime(app, institution):
    made = {nature: institution(nature=nature) for nature in Nature}

    with app.app_context():
        for nature, institution_id in made.items():
            regime = db.session.get(Institution, institution_id).price_regime
            assert regime == NATURE_PRICE_REGIMES[nature][0]


# --- WTForms' own messages in the page's language, on every form -------------------------


def _all_form_classes() -> list[type]:
    """Every form class of the app: the site's forms and the forms nested in them."""
    import careapp.auth.forms  # noqa: F401
    import careapp.institutions.forms  # noqa: F401
    import careapp.institutions.places_forms  # noqa: F401
    import careapp.parents.forms  # noqa: F401
    import careapp.providers.forms  # noqa: F401
    import careapp.regulator.forms  # noqa: F401

    found, queue = [], [site_forms.SiteForm, site_forms.SubForm]
    while queue:
        cls = queue.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("careapp") and sub not in found:
                found.append(sub)
                queue.append(sub)
    return found


FORM_CLASSES = _all_form_classes()
#: What a careless or hostile browser posts: nothing, text where numbers go, far too long text.
JUNK = {
    "empty": "",
    "words": "abc",
    "long": "x" * 5000,
    "negative": "-5",
    "huge": "99999999",
}


def _leaf_names(form) -> list[str]:
    return [field.name for field in site_forms._leaf_fields(form)]


def _errors(form) -> list[str]:
    messages = []
    for value in form.errors.values():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                stack.extend(item)
            else:
                messages.append(str(item))
    return messages


def test_every_form_of_the_app_is_found():
    names = {cls.__name__ for cls in FORM_CLASSES}

    assert {"InstitutionForm", "ClassRowForm", "OfferRowForm", "RegionRulesForm"} <= names
    assert len(FORM_CLASSES) > 20


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("junk", list(JUNK))
def test_no_form_shows_english_validator_text_on_a_chinese_page(app, form_class, junk):
    """Every form, posted junk on a Chinese page, says what is wrong in Chinese only."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context("/?lang=zh_CN", method="POST"):
        try:
            probe = form_class(meta={"csrf": False}) if _is_site(form_class) else form_class()
        except TypeError:
            pytest.skip(f"{form_class.__name__} needs arguments to be built")
        names = _leaf_names(probe)
    data = MultiDict((name, JUNK[junk]) for name in names)
    with app.test_request_context("/?lang=zh_CN", method="POST", data=data):
        form = (
            form_class(meta={"csrf": False}) if _is_site(form_class) else form_class(formdata=data)
        )
        _give_choices(form)
        try:
            form.validate()
        except TypeError as problem:
            pytest.skip(f"{form_class.__name__} is validated by its view only: {problem}")
        messages = _errors(form)

    english = [message for message in messages if not CHINESE.search(message)]
    assert not english, english


def _is_site(form_class) -> bool:
    return issubclass(form_class, site_forms.SiteForm)


def _give_choices(form) -> None:
    """Views give some selects their choices; give every choiceless one a single choice."""
    for field in site_forms._leaf_fields(form):
        if hasattr(field, "choices") and field.choices is None:
            field.choices = [("1", "一")]


WTFORMS_POT = next(
    (PROJECT_ROOT / ".venv").glob("lib/python3*/site-packages/wtforms/locale/wtforms.pot"), None
)


@pytest.mark.skipif(WTFORMS_POT is None, reason="WTForms' template catalog is not installed")
def test_every_wtforms_message_is_translated_in_both_catalogs():
    with WTFORMS_POT.open("rb") as pot:
        wtforms_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    for language in ("zh_CN", "en"):
        path = PROJECT_ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as po:
            catalog = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(po) if m.id}
        missing = [i for i in wtforms_ids if i not in catalog or not catalog[i].string]
        assert not missing, (language, missing)
        if language == "zh_CN":
            untranslated = [i for i in wtforms_ids if not CHINESE.search(str(catalog[i].string))]
            assert not untranslated


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh_CN", "数值须在 6 至 35 之间。"), ("en", "Number must be between 6 and 35.")],
)
def test_offer_age_range_error_follows_the_page_language(
    client, act_as, owner, township_id, language, expected
):
    act_as(owner)
    client.set_cookie("lang", language)
    offer = {**HOURLY, "min_age_months": "40"}

    errors = refused(client, profile_form(township_id, offers={"hourly": offer}))

    assert ("offers-hourly-min_age_months", expected) in errors


# --- the migration: price regimes and authorities from the data there is -------------------


def test_migration_0018_sets_price_regimes_and_moves_education_registrations(empty_app):
    """Public → 政府指导价, 普惠 → formed in the market, a public body's kindergarten class →
    政府指导价, others → 市场调节; education-bureau rows get the authority their code names."""
    from flask_migrate import downgrade, upgrade

    from tests.test_migrations import _insert

    rows = {
        "public": ("public", "civil_affairs", "12350582MA0000011X"),
        "inclusive": ("inclusive", "civil_affairs", "52350582MA0000021X"),
        "private": ("private", "market_regulation", "91350582MA0000031X"),
        "kg-public": ("kindergarten_class", "education", "12350582MA0000041X"),
        "kg-private": ("kindergarten_class", "education", "52350582MA0000051X"),
        "kg-company": ("kindergarten_class", "education", "91350582MA0000061X"),
    }
    with empty_app.app_context():
        upgrade(revision="0017")
        with db.engine.begin() as connection:
            region = _insert(connection, "regions", code="jinjiang", name="晋江市")
            township = _insert(
                connection, "townships", region_id=region, code="qingyang", kind="subdistrict"
            )
            ids = {
                key: _insert(
                    connection,
                    "institutions",
                    township_id=township,
                    status="filed",
                    filing_number=f"JJ-TY-2024-{index:04d}",
                    filed_on=clock.today(),
                    nature=nature,
                    authority=authority,
                    uscc=code,
                )
                for index, (key, (nature, authority, code)) in enumerate(rows.items())
            }
        upgrade(revision="0018")
        with db.engine.connect() as connection:
            stored = {
                key: tuple(
                    connection.execute(
                        sa.text("SELECT price_regime, authority FROM institutions WHERE id = :id"),
                        {"id": row_id},
                    ).one()
                )
                for key, row_id in ids.items()
            }
            region_row = connection.execute(
                sa.text(
                    "SELECT registration_authorities, mixed_class_children_per_carer FROM regions"
                )
            ).one()
        downgrade(revision="0017")

    assert stored == {
        "public": ("government_guided", "civil_affairs"),
        "inclusive": ("inclusive_market", "civil_affairs"),
        "private": ("market_regulated", "market_regulation"),
        "kg-public": ("government_guided", "staffing_office"),
        "kg-private": ("market_regulated", "civil_affairs"),
        "kg-company": ("market_regulated", "market_regulation"),
    }
    assert tuple(region_row) == ("staffing_office,civil_affairs,market_regulation", 5)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("region", ["jinjiang", "yongan"])
def test_demo_institutions_keep_every_policy_rule(app, region):
    from careapp.demo import seed_demo

    with app.app_context(), app.test_request_context("/?lang=en"):
        seed_demo(region, clock.today())
        db.session.commit()
        broken = {}
        for found in db.session.scalars(sa.select(Institution)):
            problems = policy_rules.profile_problems(
                policy_rules.facts_of(found),
                filing._class_rows(found),
                [filing._offer_row(offer) for offer in found.offers],
            )
            if problems:
                broken[found.name] = problems
        authorities = set(db.session.scalars(sa.select(Institution.authority)))

    assert broken == {}
    assert "education" not in authorities


def test_price_regime_change_is_a_registered_fact_shown_with_its_labels(
    app, client, act_as, regulator, institution, user
):
    nursery = institution(nature=Nature.EMPLOYER)
    actor = user(role="institution")
    with app.app_context():
        from careapp.models import User

        found = db.session.get(Institution, nursery)
        profile = filing.Profile(
            {**policy_rules.facts_of(found), "price_regime": PriceRegime.GOVERNMENT_GUIDED},
            filing._class_rows(found),
            [
                {
                    name: getattr(offer, name)
                    for name in (
                        "care_type",
                        "opens_at",
                        "closes_at",
                        "price_yuan",
                        "min_age_months",
                        "max_age_months",
                    )
                }
                for offer in found.offers
            ],
        )
        change = filing.update_filed_profile(
            found, db.session.get(User, actor), profile, clock.today()
        )
        db.session.commit()
        change_id = change.id
        assert change.proposed == {"price_regime": "government_guided"}
    act_as(regulator)

    page = text(client.get(f"/regulator/changes/{change_id}"))

    assert "Market-regulated price" in page
    assert "Government-guided price" in page
