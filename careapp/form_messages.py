"""WTForms' own messages in the site's catalogs, so that a Chinese page never shows them in
English ("Number must be between 6 and 35."): every form's fields and validators look their
default messages up here, in the request's language."""

from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from wtforms.fields import SelectFieldBase

from careapp.services.mail import N_

#: What every choice field (select, radio buttons, check boxes) answers for a value none of
#: its options has, whether it cannot be read ("", "abc" for a number) or is not offered.
INVALID_CHOICE = _l("Not a valid choice.")
#: The arguments of WTForms' choice fields that name those messages.
CHOICE_MESSAGES = ("invalid_value_message", "invalid_choice_message")

#: The default messages of WTForms 3 validators and fields, marked for extraction (the
#: validators format them with their own values, so they are never formatted here).
MESSAGES = (
    N_("Invalid field name '%s'."),
    N_("Field must be equal to %(other_name)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Date must be at least %(min)s."),
    N_("Date must be at most %(max)s."),
    N_("Date must be between %(min)s and %(max)s."),
    N_("This field is required."),
    N_("Invalid input."),
    N_("Invalid email address."),
    N_("Invalid IP address."),
    N_("Invalid Mac address."),
    N_("Invalid URL."),
    N_("Invalid UUID."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid value, can't be any of: %(values)s."),
    N_("This field cannot be edited."),
    N_("This field is disabled and cannot have a value."),
    N_("Invalid CSRF Token."),
    N_("CSRF token missing."),
    N_("CSRF failed."),
    N_("CSRF token expired."),
    N_("Invalid Choice: could not coerce."),
    N_("Choices cannot be None."),
    N_("Not a valid choice."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    N_("Not a valid datetime value."),
    N_("Not a valid date value."),
    N_("Not a valid time value."),
    N_("Not a valid week value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
)
#: Their plural messages; ``lazy_ngettext`` only marks them (never evaluated).
PLURAL_MESSAGES = (
    lazy_ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    ),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    ),
    lazy_ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    ),
    lazy_ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    ),
)


class SiteTranslations:
    """WTForms' translations interface over the site's catalogs; the language is the one of
    the moment a message is looked up. Messages come back unformatted: WTForms formats them."""

    def gettext(self, string: str) -> str:
        """``string`` translated."""
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of ``singular``/``plural`` for ``n``, translated."""
        return get_translations().ngettext(singular, plural, n)


TRANSLATIONS = SiteTranslations()


class TranslatedMeta:
    """A form Meta mixin: WTForms' messages from the site's catalogs, and one message for
    every bad value of a choice field."""

    def get_translations(self, form) -> SiteTranslations:
        """The site's translations, whatever locales WTForms was given."""
        return TRANSLATIONS

    def bind_field(self, form, unbound_field, options):
        """Bind a field; a choice field that names no message of its own for a bad value
        answers ``INVALID_CHOICE`` (WTForms has three, one quoting the value sent)."""
        if issubclass(unbound_field.field_class, SelectFieldBase):
            unnamed = [name for name in CHOICE_MESSAGES if name not in unbound_field.kwargs]
            options = dict.fromkeys(unnamed, INVALID_CHOICE) | options
        return super().bind_field(form, unbound_field, options)
