"""Search cards' register-only parts: rendered once per register version, never out of date."""

import re
from datetime import time

import pytest
import sqlalchemy as sa

from careapp import fragments
from careapp.extensions import db
from careapp.models import CareOffer, CareType, Institution, Nature, QualityGrade, Role, Township
from careapp.services import search


@pytest.fixture
def renders(monkeypatch):
    """The institutions whose card facts were rendered (not taken from the store), in order."""
    rendered: list[int] = []
    render = fragments.render_facts

    def counting(institution, language):
        rendered.append(institution.id)
        return render(institution, language)

    monkeypatch.setattr(fragments, "render_facts", counting)
    return rendered


@pytest.fixture
def uncached(app):
    """No page cache: every search page is rendered, as for a signed-in visitor."""
    app.config["PAGE_CACHE"] = False


def card_of(response, name: str) -> str:
    """The markup of the card whose heading links ``name``."""
    page = response.get_data(as_text=True)
    cards = re.findall(r'<li class="card">.*?</li>\s*(?=<li class="card">|</ol>)', page, re.S)
    found = [card for card in cards if f">{name}</a></h3>" in card]
    assert len(found) == 1, f"no single card of {name}"
    return found[0]


def test_a_register_unchanged_renders_each_cards_facts_once(client, institution, renders, uncached):
    first = institution("晋江市小橡树托育中心")
    second = institution("晋江市小海豚托育中心")

    pages = [client.get("/").get_data(as_text=True) for _ in range(3)]

    assert sorted(renders) == sorted([first, second])
    assert pages[0] == pages[1] == pages[2]


def test_each_language_has_its_own_facts(client, institution, renders, uncached):
    institution_id = institution("晋江市小橡树托育中心", name_en="Little Oak")
    client.get("/")
    client.set_cookie("lang", "en")

    english = client.get("/")

    assert renders == [institution_id, institution_id]
    assert "Filing number" in card_of(english, "Little Oak")


def _price(app, institution_id: int) -> None:
    with app.app_context():
        offer = db.session.scalar(
            sa.select(CareOffer).where(CareOffer.institution_id == institution_id)
        )
        offer.price_yuan = 4321
        db.session.commit()


def _township(app, institution_id: int) -> None:
    with app.app_context():
        township = db.session.get(Institution, institution_id).township
        township.name = "新改名街道"
        db.session.commit()


def _institution(**values):
    """A change of the institution's own columns, through the ORM."""

    def change(app, institution_id: int) -> None:
        with app.app_context():
            record = db.session.get(Institution, institution_id)
            for column, value in values.items():
                setattr(record, column, value)
            db.session.commit()

    return change


_address = _institution(address="新华路 88 号")


def _ages(app, institution_id: int) -> None:
    with app.app_context():
        db.session.add(
            CareOffer(
                institution_id=institution_id,
                care_type=CareType.TEMPORARY,
                min_age_months=6,
                max_age_months=30,
                price_yuan=50,
                opens_at=time(8),
                closes_at=time(17),
            )
        )
        db.session.commit()


def _filing_number(app, institution_id: int) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Institution)
            .where(Institution.id == institution_id)
            .values(filing_number="JJ-TY-2099-7777")
        )
        db.session.commit()


CHANGES = {
    "an offer's price": (_price, "4,321"),
    "the township's name": (_township, "新改名街道"),
    "the address": (_address, "新华路 88 号"),
    "the quality grade": (_institution(quality_grade=QualityGrade.GOOD), "质量："),
    "a demonstration designation": (_institution(is_demonstration=True), "示范性托育机构"),
    "the nature": (_institution(nature=Nature.EMPLOYER), "用人单位办"),
    "a new offer": (_ages, "6–36 个月"),
    "the filing number, in bulk": (_filing_number, "JJ-TY-2099-7777"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
@pytest.mark.parametrize("visitor", ["anonymous, page cache on", "signed in"])
def test_a_change_to_the_register_shows_on_the_next_search_page(
    app, client, institution, auth, user, change, visitor
):
    institution_id = institution("晋江市小橡树托育中心")
    if visitor == "signed in":
        auth.login(user(Role.PARENT))
    mutate, shown = CHANGES[change]
    before = card_of(client.get("/"), "晋江市小橡树托育中心")
    assert shown not in before

    mutate(app, institution_id)
    after = card_of(client.get("/"), "晋江市小橡树托育中心")

    assert shown in after


def test_facts_of_rows_read_before_a_change_are_never_served_after_it(
    app, client, institution, renders, uncached, monkeypatch
):
    """A change commits after a search page read the institution and before it rendered the
    card: the facts it renders, already out of date, are kept under the version read before
    the search (``pin_register_version``), so the next request renders them afresh."""
    institution_id = institution("晋江市小橡树托育中心")
    search_institutions = search.search_institutions

    def search_then_change(*args, **kwargs):
        found = search_institutions(*args, **kwargs)
        monkeypatch.setattr(search, "search_institutions", search_institutions)
        _address(app, institution_id)
        return found

    monkeypatch.setattr(search, "search_institutions", search_then_change)
    client.get("/")
    after = card_of(client.get("/"), "晋江市小橡树托育中心")

    assert "新华路 88 号" in after
    assert renders == [institution_id, institution_id]


def test_the_store_keeps_at_most_its_entries(app):
    store = fragments.FactsStore(max_entries=2)
    facts = fragments.CardFacts(meta="m", place="p", ages="a", offers="o")
    for number in range(5):
        store.put((1, "zh_CN", number), facts)

    assert store.get((1, "zh_CN", 0)) is None
    assert store.get((1, "zh_CN", 4)) is facts
    assert len(store.facts) == 2


def test_a_township_renamed_in_english_shows_in_english_only(app, client, institution, uncached):
    institution("晋江市小橡树托育中心", name_en="Little Oak")
    client.set_cookie("lang", "en")
    client.get("/")
    with app.app_context():
        township = db.session.scalar(sa.select(Township).where(Township.code == "qingyang"))
        township.name_en = "Renamed Street"
        db.session.commit()

    english = card_of(client.get("/"), "Little Oak")
    client.set_cookie("lang", "zh_CN")
    chinese = client.get("/").get_data(as_text=True)

    assert "Renamed Street" in english
    assert "Renamed Street" not in chinese
