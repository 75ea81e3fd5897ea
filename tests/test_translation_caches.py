"""Translations are looked up once per language and kept: a request in the other language,
or a message forced into another language, still gets its own language."""

from datetime import date

import pytest
from flask_babel import force_locale

from careapp.i18n import day_label, template_gettext
from careapp.labels import label
from careapp.models import CareType

#: A Monday far from any "today" or "tomorrow".
MONDAY = date(2030, 3, 11)


@pytest.mark.parametrize("first", ["en", "zh_CN"])
def test_a_page_in_one_language_leaves_the_other_language_untouched(client, first):
    second = "zh_CN" if first == "en" else "en"
    pages = {
        language: client.get("/", query_string={"lang": language}).get_data(as_text=True)
        for language in (first, second)
    }

    assert "Hourly care" in pages["en"]
    assert "计时托" in pages["zh_CN"]
    assert "Hourly care" not in pages["zh_CN"]
    assert "<title>Find childcare" in pages["en"]
    assert "<title>找托育" in pages["zh_CN"]


def test_labels_messages_and_days_follow_a_forced_language(app):
    def texts():
        return (
            label("care_type", CareType.HOURLY),
            template_gettext("Find childcare"),
            day_label(MONDAY, MONDAY.replace(day=1)),
        )

    with app.test_request_context("/?lang=en"):
        before = texts()
        with force_locale("zh_CN"):
            forced = texts()
        after = texts()

    assert before == after
    assert before[:2] == ("Hourly care", "Find childcare")
    assert forced[:2] == ("计时托", "找托育")
    assert before[2] != forced[2]


@pytest.mark.parametrize("placeholder", ["message", "context", "variables", "text"])
def test_a_template_message_may_name_its_placeholder_anything(app, placeholder):
    """``_()`` in a template takes its placeholders as keywords: none of their names may
    collide with the function's own parameters."""
    template = app.jinja_env.from_string(
        '{{ _("Line %(line)d: %(' + placeholder + ')s", line=3, ' + placeholder + '="<b>") }}'
    )

    with app.test_request_context("/?lang=en"):
        rendered = template.render()

    assert rendered == "Line 3: &lt;b&gt;"


def test_a_template_message_with_no_placeholder_is_still_a_format_string(app):
    """As with Jinja's own new-style gettext: "%%" is one percent sign, with or without
    keywords, so a message reads the same wherever it is used."""
    template = app.jinja_env.from_string('{{ _("100%% sure") }}')

    with app.test_request_context("/?lang=en"):
        assert template.render() == "100% sure"
