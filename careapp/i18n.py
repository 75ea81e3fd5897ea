"""Language choice: ``?lang=``, then the cookie, then Accept-Language, then Chinese."""

from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode

from babel import Locale, support
from babel.dates import format_skeleton, get_day_names, get_month_names
from flask import Flask, current_app, has_request_context, request
from flask_babel import Domain, get_locale
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup

from careapp import clock
from careapp.access import home_for
from careapp.extensions import babel
from careapp.labels import current_locale, label, status_kind

LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
#: How each language names itself in the switch.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def _from_accept_language(accept_languages) -> str | None:
    """The first supported language the browser asks for, by preference."""
    for value, _quality in accept_languages:
        tag = value.lower().replace("_", "-")
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return None


def language_of(incoming, languages: tuple[str, ...], default: str) -> str:
    """The language of request ``incoming`` (Flask's or a bare werkzeug one), as the contract
    orders the sources."""
    for candidate in (incoming.args.get("lang"), incoming.cookies.get(LANGUAGE_COOKIE)):
        if candidate in languages:
            return candidate
    return _from_accept_language(incoming.accept_languages) or default


def select_language() -> str:
    """The language of this request."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    return language_of(request, current_app.config["LANGUAGES"], default)


def language_code(locale: Locale | None) -> str:
    """careapp's code for a Babel locale: ``en`` or ``zh_CN`` (Babel spells it zh_Hans_CN)."""
    return "en" if locale is not None and locale.language == "en" else "zh_CN"


def current_language() -> str:
    """The language code of this request (or of ``force_locale``), ``zh_CN`` or ``en``."""
    return language_code(current_locale())


class CatalogDomain(Domain):
    """Finds catalogs under careapp's language codes (``translations/zh_CN``).

    Babel parses ``zh_CN`` into ``zh_Hans_CN`` and would look for that folder instead.
    """

    def get_translations(self):
        """The compiled catalog of the current language, loaded once per process (kept in
        Flask-Babel's cache under the language's code: a string key, where a Locale would
        hash and compare in Python on every label)."""
        locale = current_locale()
        if locale is None:
            return super().get_translations()
        key = (language_code(locale), self.domain[0])
        translations = self.cache.get(key)
        if translations is None:
            translations = self.cache[key] = support.Translations.load(
                self.translation_directories[0], [key[0]], key[1]
            )
        return translations


def _translations() -> support.NullTranslations:
    """The current language's catalog (Flask-Babel's ``get_translations()`` without its
    lookups of the application and the domain, which careapp sets once)."""
    return babel.domain_instance.get_translations()


#: Translated template messages by (language code, message): pages repeat the same texts.
_messages: dict[tuple[str, str], str] = {}


def template_gettext(message: str) -> str:
    """A template's message in the current language, looked up in the catalog once a process."""
    locale = current_locale()
    if locale is None:
        return _translations().ugettext(message)
    key = (language_code(locale), message)
    text = _messages.get(key)
    if text is None:
        text = _messages[key] = _translations().ugettext(message)
    return text


@pass_context
def template_underscore(context, message: str, /, **variables) -> str:
    """A template's ``_()``: what Jinja's new-style gettext does (the message is always a
    format string, escaped in an escaping template), in one call instead of Jinja's three.
    Positional-only, as Jinja's is: a placeholder may be called ``message``."""
    text = template_gettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def url_with(**changes) -> str:
    """The current path and query with ``changes`` applied; a None value drops the parameter."""
    args = request.args.to_dict()
    for name, value in changes.items():
        if value is None or value == "":
            args.pop(name, None)
        else:
            args[name] = value
    query = urlencode(args)
    return f"{request.path}?{query}" if query else request.path


def remember_language(response):
    """Keep a language chosen with ``?lang=`` in a cookie, and say the page varies by it."""
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"] and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


def day_label(day: date, today: date) -> str:
    """A day as people say it: today, tomorrow, or the date with its weekday (12月3日周四)."""
    if day == today:
        return _("today")
    if day == today + timedelta(days=1):
        return _("tomorrow")
    return _day_name(day, get_locale())


@lru_cache(maxsize=1024)
def _day_name(day: date, locale: Locale | None) -> str:
    """A date with its weekday in ``locale`` (Babel's formatting is slow, and lists repeat days)."""
    return format_skeleton("MMMEd", day, locale=locale)


def relative_word(day: date, today: date) -> str | None:
    """今天, 明天 or 后天 (today, tomorrow, the day after tomorrow) for ``day``, else None."""
    words = {0: _("today"), 1: _("tomorrow"), 2: _("the day after tomorrow")}
    return words.get((day - today).days)


def calendar_day(day: date) -> str:
    """A date with its weekday: "12月1日（周二）" or "Tue 1 Dec"."""
    return _calendar_day(day, get_locale())


@lru_cache(maxsize=1024)
def _calendar_day(day: date, locale: Locale | None) -> str:
    weekday = get_day_names("abbreviated", locale=locale)[day.weekday()]
    if locale is not None and locale.language == "zh":
        return f"{day.month}月{day.day}日（{weekday}）"
    month = get_month_names("abbreviated", locale=locale or "en")[day.month]
    return f"{weekday} {day.day} {month}"


def full_day(day: date | None) -> str:
    """A day of care as people say it, relative to today and with its date and weekday:
    "明天 12月1日（周二）", "Tomorrow, Tue 1 Dec", "12月8日（周二）"."""
    if day is None:
        return ""
    word = relative_word(day, clock.today())
    dated = calendar_day(day)
    if word is None:
        return dated
    if current_language() == "en":
        return f"{word[:1].upper()}{word[1:]}, {dated}"
    return f"{word} {dated}"


def local_time(moment: datetime | None) -> str:
    """A recorded (UTC) time as people read it here: the local day and hour, e.g.
    "明天 14:00" or "12月3日周四 09:30"."""
    return when(clock.to_local(moment)) if moment is not None else ""


def day_of(day: date) -> str:
    """A day of care as people say it: today, tomorrow, or the date with its weekday."""
    return day_label(day, clock.today())


def with_weekday(moment: datetime | None) -> str:
    """A recorded (UTC) time as a local time that always names its day and weekday, for a
    deadline: "明天 12月1日周二 18:00" (today and tomorrow say so first)."""
    if moment is None:
        return ""
    local = clock.to_local(moment)
    day, today = local.date(), clock.today()
    named = _day_name(day, get_locale())
    if day == today:
        named = _("today, %(day)s", day=named)
    elif day == today + timedelta(days=1):
        named = _("tomorrow, %(day)s", day=named)
    return _("%(day)s at %(time)s", day=named, time=local.strftime("%H:%M"))


def when(local: datetime | None) -> str:
    """A local time of care (naive, the site's zone) as people read it: "明天 14:00"."""
    if local is None:
        return ""
    return f"{day_label(local.date(), clock.today())} {local:%H:%M}"


def local_day(moment: datetime | None) -> str:
    """The local day of a recorded (UTC) time, e.g. "12月3日周四"."""
    if moment is None:
        return ""
    return day_label(clock.to_local(moment).date(), clock.today())


def init_app(app: Flask) -> None:
    """Expose the language helpers to templates and remember the choice."""
    babel.domain_instance = CatalogDomain()
    app.after_request(remember_language)
    app.jinja_env.globals.update(
        current_language=current_language,
        html_lang=lambda: HTML_LANG[current_language()],
        language_names=LANGUAGE_NAMES,
        url_with=url_with,
        label=label,
        home_for=home_for,
        day_label=day_label,
    )
    app.jinja_env.filters.update(
        local_time=local_time, local_day=local_day, when=when, full_day=full_day
    )
    app.jinja_env.filters.update(with_weekday=with_weekday, day_of=day_of)
    app.jinja_env.globals["status_kind"] = status_kind
    app.jinja_env.install_gettext_callables(
        gettext=template_gettext,
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, message: _translations().upgettext(context, message),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = template_underscore
