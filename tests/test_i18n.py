"""Language choice (?lang=, cookie, Accept-Language, Chinese), the switch, names and catalogs."""

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from careapp.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATE_CATALOG = TRANSLATIONS / "messages.pot"
CHINESE = '<html lang="zh-CN">'
ENGLISH = '<html lang="en">'
#: The keywords `flask translate extract` passes to pybabel.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_ngettext": (1, 2)}


def text(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def cookie_set(response, name: str) -> str | None:
    """The value ``response`` sets for the cookie ``name``, if it sets one."""
    for header in response.headers.getlist("Set-Cookie"):
        key, _, rest = header.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    return None


def switch_link(response, language: str) -> str:
    """The href of the language switch link to ``language`` (``zh-CN`` or ``en``)."""
    nav = re.search(r'<nav[^>]*class="lang"[^>]*>(.*?)</nav>', text(response), re.S)
    assert nav, "the page has no language switch"
    link = re.search(rf'<a href="([^"]*)"[^>]*\shreflang="{language}"', nav.group(1))
    assert link, f"the language switch has no link to {language}"
    return unescape(link.group(1))


def load_catalog(path, locale=None):
    """A catalog read from a .po or .pot file."""
    with path.open("rb") as po_file:
        return read_po(po_file, locale=locale)


def message_ids(catalog) -> set[str]:
    """The (singular) message ids of ``catalog``, without the header."""
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog
        if message.id
    }


def untranslated(catalog) -> list[str]:
    """Ids of messages with an empty translation (any plural form)."""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        if not all(strings):
            missing.append(message.id)
    return missing


# Choosing the language -------------------------------------------------------------------------


def test_pages_are_in_chinese_by_default(client):
    response = client.get("/")

    assert response.status_code == 200
    assert CHINESE in text(response)
    assert "找托育" in text(response)
    assert cookie_set(response, "lang") is None


def test_lang_parameter_switches_to_english_and_sets_a_cookie(client):
    response = client.get("/?lang=en")

    assert response.status_code == 200
    assert ENGLISH in text(response)
    assert "Find childcare" in text(response)
    assert cookie_set(response, "lang") == "en"


def test_chosen_language_is_remembered_on_the_next_request(client):
    client.get("/?lang=en")

    response = client.get("/registry")

    assert response.status_code == 200
    assert ENGLISH in text(response)


def test_lang_parameter_switches_back_to_chinese_and_updates_the_cookie(client):
    client.set_cookie("lang", "en")

    response = client.get("/?lang=zh_CN")

    assert CHINESE in text(response)
    assert cookie_set(response, "lang") == "zh_CN"
    assert CHINESE in text(client.get("/"))


@pytest.mark.parametrize(
    ("cookie", "accept_language", "expected"),
    [
        pytest.param("zh_CN", "en-US,en;q=0.9", CHINESE, id="chinese-cookie-english-browser"),
        pytest.param("en", "zh-CN,zh;q=0.9", ENGLISH, id="english-cookie-chinese-browser"),
    ],
)
def test_cookie_beats_accept_language(client, cookie, accept_language, expected):
    client.set_cookie("lang", cookie)

    response = client.get("/", headers={"Accept-Language": accept_language})

    assert expected in text(response)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        pytest.param("en-US,en;q=0.9", ENGLISH, id="english"),
        pytest.param("en", ENGLISH, id="plain-english"),
        pytest.param("fr-FR,fr;q=0.9,en;q=0.5", ENGLISH, id="english-as-second-choice"),
        pytest.param("zh-CN,zh;q=0.9,en;q=0.8", CHINESE, id="chinese-first"),
        pytest.param("zh-TW", CHINESE, id="other-chinese"),
        pytest.param("fr-FR,de;q=0.5", CHINESE, id="nothing-supported"),
    ],
)
def test_accept_language_chooses_without_cookie(client, accept_language, expected):
    response = client.get("/", headers={"Accept-Language": accept_language})

    assert response.status_code == 200
    assert expected in text(response)


def test_lang_parameter_beats_cookie_and_accept_language(client):
    client.set_cookie("lang", "zh_CN")

    response = client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})

    assert ENGLISH in text(response)


def test_unsupported_lang_parameter_is_ignored(client):
    response = client.get("/?lang=fr")

    assert response.status_code == 200
    assert CHINESE in text(response)
    assert cookie_set(response, "lang") is None


def test_unsupported_lang_parameter_keeps_the_remembered_language(client):
    client.set_cookie("lang", "en")

    response = client.get("/?lang=fr")

    assert ENGLISH in text(response)
    assert cookie_set(response, "lang") is None


def test_unsupported_lang_cookie_is_ignored(client):
    client.set_cookie("lang", "fr")

    response = client.get("/", headers={"Accept-Language": "en"})

    assert ENGLISH in text(response)


def test_api_follows_the_language_too(client, township):
    township("qingyang", name="青阳街道", name_en="Qingyang")

    english = client.get("/api/v1/townships?lang=en")
    remembered = client.get("/api/v1/townships")

    assert english.json["items"][0]["name"] == "Qingyang"
    assert remembered.json["items"][0]["name"] == "Qingyang"


# The language switch ---------------------------------------------------------------------------


@pytest.fixture
def pages(institution):
    """Path and query of each kind of page: search, register, institution, not found."""
    institution_id = institution("小橡树托育")
    return {
        "search": ("/", {"township": "qingyang", "q": "橡树"}),
        "registry": ("/registry", {"type": "filed", "since": "2024-01-01"}),
        "institution": (f"/institutions/{institution_id}", {"care_type": "full_day"}),
        "not-found": ("/no-such-page", {"x": "1"}),
    }


@pytest.mark.parametrize("page", ["search", "registry", "institution", "not-found"])
def test_language_switch_is_on_every_page_and_keeps_the_query(client, pages, page):
    path, query = pages[page]

    response = client.get(path, query_string=query)

    assert response.status_code == (404 if page == "not-found" else 200)
    assert CHINESE in text(response)
    href = switch_link(response, "en")
    assert urlsplit(href).path == path
    assert dict(parse_qsl(urlsplit(href).query)) == query | {"lang": "en"}
    switched = client.get(href)
    assert ENGLISH in text(switched)


@pytest.mark.parametrize("page", ["search", "registry", "institution", "not-found"])
def test_language_switch_back_to_chinese_keeps_the_query(client, pages, page):
    path, query = pages[page]

    response = client.get(path, query_string=query | {"lang": "en"})

    assert ENGLISH in text(response)
    href = switch_link(response, "zh-CN")
    assert urlsplit(href).path == path
    assert dict(parse_qsl(urlsplit(href).query)) == query | {"lang": "zh_CN"}


def test_not_found_page_title_is_translated(client):
    chinese = client.get("/no-such-page")
    english = client.get("/no-such-page?lang=en")

    assert chinese.status_code == english.status_code == 404
    assert "页面不存在" in text(chinese)
    assert "Page not found" in text(english)


# Names in the request language -----------------------------------------------------------------


@pytest.fixture
def named(institution, township):
    """Ids of an institution with English names and one without, in townships likewise."""
    township("qingyang", name="青阳街道", name_en="Qingyang Sub-district")
    township("chendai", name="陈埭镇", name_en=None)
    with_english = institution(
        "晋江市小橡树托育中心", name_en="Little Oak Nursery", township_code="qingyang"
    )
    chinese_only = institution("陈埭阳光托育园", township_code="chendai")
    return with_english, chinese_only


def test_search_page_names_follow_the_language_with_chinese_fallback(client, named):
    english = text(client.get("/?lang=en"))
    chinese = text(client.get("/?lang=zh_CN"))

    assert "Little Oak Nursery" in english
    assert "晋江市小橡树托育中心" not in english
    assert "Qingyang Sub-district" in english
    assert "陈埭阳光托育园" in english
    assert "陈埭镇" in english
    assert "晋江市小橡树托育中心" in chinese
    assert "Little Oak Nursery" not in chinese
    assert "Qingyang Sub-district" not in chinese


def test_institution_page_names_follow_the_language_with_chinese_fallback(client, named):
    with_english, chinese_only = named

    english = text(client.get(f"/institutions/{with_english}?lang=en"))
    fallback = text(client.get(f"/institutions/{chinese_only}?lang=en"))

    assert "<h1>Little Oak Nursery</h1>" in english
    assert "Qingyang Sub-district" in english
    assert "<h1>陈埭阳光托育园</h1>" in fallback
    assert "陈埭镇" in fallback


def test_registry_page_names_follow_the_language_with_chinese_fallback(client, named):
    english = text(client.get("/registry?lang=en"))

    assert "Little Oak Nursery" in english
    assert "陈埭阳光托育园" in english
    assert "Qingyang Sub-district" in english


# Catalogs --------------------------------------------------------------------------------------


def test_chinese_catalog_has_no_untranslated_message():
    catalog = load_catalog(TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "messages.po", "zh_CN")

    assert untranslated(catalog) == []


def test_chinese_catalog_has_no_fuzzy_message():
    catalog = load_catalog(TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "messages.po", "zh_CN")

    assert [message.id for message in catalog if message.id and message.fuzzy] == []


def test_english_catalog_is_complete():
    catalog = load_catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", "en")

    assert untranslated(catalog) == []
    assert [message.id for message in catalog if message.id and message.fuzzy] == []


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_catalog_has_every_message_of_the_template(language):
    catalog = load_catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language)
    template = load_catalog(TEMPLATE_CATALOG)

    assert message_ids(template) - message_ids(catalog) == set()


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_translations_keep_the_placeholders(language):
    catalog = load_catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language)

    problems = [
        (message.id, [str(error) for error in errors]) for message, errors in catalog.check()
    ]

    assert problems == []


def test_catalog_template_has_every_message_used_in_code_and_templates():
    used = set()
    for directory, pattern, method in (
        (PROJECT_ROOT / "careapp", "**.py", "python"),
        (PROJECT_ROOT / "templates", "**.html", "jinja2"),
    ):
        for _filename, _line, message, _comments, _context in extract_from_dir(
            directory, method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            used.add(message if isinstance(message, str) else message[0])

    assert used - message_ids(load_catalog(TEMPLATE_CATALOG)) == set()
