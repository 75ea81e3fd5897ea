"""Helpers shared by the forms of every blueprint."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField as WTFormsDateField
from wtforms import Field, FieldList, Form, FormField, RadioField, SelectMultipleField
from wtforms.fields import SelectFieldBase
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from careapp.form_messages import TranslatedMeta
from careapp.services.params import EARLIEST_DATE, LATEST_DATE

#: Characters no form keeps: the C0 control characters but tab, line feed and carriage
#: return, and DEL. Nobody types them, PostgreSQL cannot store NUL, and the others are errors
#: in an HTML page and in iCalendar text (the calendar feeds).
UNKEPT_CHARACTERS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
UNKEPT_CHARACTERS_MESSAGE = _l(
    "Invisible control characters have been removed from this field."
    " Please check it and send the form again."
)


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Select or radio options from ``(value, label)`` pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class DateField(WTFormsDateField):
    """A date field that refuses dates outside the years a person could mean (1900–2100),
    so that no date far off reaches date arithmetic or the database."""

    def pre_validate(self, form) -> None:
        """Refuse a date outside ``EARLIEST_DATE``–``LATEST_DATE``."""
        if self.data is not None and not EARLIEST_DATE <= self.data <= LATEST_DATE:
            raise ValidationError(
                _l(
                    "Please enter a date from %(first)d to %(last)d.",
                    first=EARLIEST_DATE.year,
                    last=LATEST_DATE.year,
                )
            )


class SiteForm(FlaskForm):
    """The base of every form on the site. Characters no form keeps (``UNKEPT_CHARACTERS``)
    are taken out of what was sent before any field reads it, and a field that held some is
    refused before any other check: the form shown again holds what was typed minus those
    characters, and says so. A choice field sent a value none of its options has answers one
    message. WTForms' own messages come from the site's catalogs (careapp.form_messages)."""

    class Meta(TranslatedMeta):
        """WTForms' messages in the request's language."""

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs) -> None:
        """Fill the fields from ``formdata`` without the characters no form keeps, noting in
        ``unkept`` the names of the values that held some."""
        formdata, self.unkept = _without_unkept(self.meta.wrap_formdata(self, formdata))
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)

    def validate(self, extra_validators=None) -> bool:
        """Refuse the fields that held characters no form keeps, else run the fields' own
        checks (a choice sent that no option has gets that one message), then the form's
        checks across fields (``check_together``)."""
        refused = [field for field in _leaf_fields(self) if field.name in self.unkept]
        for field in refused:
            field.errors = [UNKEPT_CHARACTERS_MESSAGE]
        if refused:
            return False
        fields_valid = super().validate(extra_validators)
        for field in _leaf_fields(self):
            if field.errors and (message := _choice_error(field, self)) is not None:
                # In place: a list of fields holds its rows' error lists.
                field.errors[:] = [message]
        return self.check_together(fields_valid)

    def check_together(self, fields_valid: bool) -> bool:
        """A form's checks across its fields, run only after every field's own checks (so
        never on a value those did not see); ``fields_valid``: whether those passed. Returns
        whether the form is valid. Forms override this, never ``validate``."""
        return fields_valid


def _without_unkept(formdata) -> tuple[MultiDict | None, frozenset[str]]:
    """``formdata`` with the characters no form keeps taken out of its text values, and the
    names of the values that held some."""
    if formdata is None:
        return None, frozenset()
    kept, held = MultiDict(), set()
    for name in formdata:
        for value in formdata.getlist(name):
            if isinstance(value, str) and (cleaned := value.translate(UNKEPT_CHARACTERS)) != value:
                held.add(name)
                value = cleaned
            kept.add(name, value)
    return kept, frozenset(held)


def _leaf_fields(form) -> Iterable[Field]:
    """Every field of ``form``, looking inside nested forms and lists."""
    for field in form:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _leaf_fields(entry.form) if isinstance(entry, FormField) else [entry]
        else:
            yield field


def _choice_error(field: Field, form) -> str | None:
    """The message of a choice field sent a value none of its options has (one that cannot
    be read, or one not offered), or None: whatever else its checks said about that value,
    such as "required" for a number that is no option, would only confuse."""
    if not isinstance(field, SelectFieldBase) or not field.raw_data:
        return None
    if field.process_errors:
        return field.process_errors[0]
    try:
        field.pre_validate(form)
    except ValidationError as error:
        return error.args[0]
    return None


class SubForm(Form):
    """The base of every form nested in another (a row of a table, a group of fields): plain
    WTForms, its messages in the request's language like the site's forms."""

    class Meta(TranslatedMeta):
        """WTForms' messages in the request's language."""


# --- the error summary at the top of a form ---------------------------------------------------


def _is_hidden(field: Field) -> bool:
    """Whether the page sends the field without showing it (the form's token, its one-time
    key): nobody can correct it, so the banner says so in a sentence of its own instead."""
    return getattr(field.widget, "input_type", None) == "hidden"


@dataclass(frozen=True)
class ErrorLink:
    """One line of a form's error summary: the element to jump to, the field's name, the error."""

    target: str
    label: str
    message: str


def error_summary(form) -> list[ErrorLink]:
    """Every error of ``form``, in the order of its fields, each naming its field and the id of
    the element that shows it (a control, or the fieldset of a group of them)."""
    return list(_error_links(form, None))


def _error_links(form, group: str | None) -> Iterator[ErrorLink]:
    """The error links of ``form``'s fields; ``group`` names the nearest row or part they
    belong to (the nearest says enough: "全日托 · 价格", not "服务 · 全日托 · 价格")."""
    for field in form:
        if not field.errors or _is_hidden(field):
            continue
        if isinstance(field, FormField):
            yield from _error_links(field.form, field.label.text)
        elif isinstance(field, FieldList):
            yield from _list_links(field, group)
        else:
            yield from _field_links(field, group)


def _list_links(field: FieldList, group: str | None) -> Iterator[ErrorLink]:
    """A list's own errors (on its fieldset, whose id is the list's), then its rows' errors."""
    label = _named(group, field.label.text)
    for message in field.errors:
        # A list's errors hold its rows' errors (dicts) beside its own (lazy strings).
        if not isinstance(message, dict | list):
            yield ErrorLink(field.id, label, str(message))
    for number, entry in enumerate(field.entries, start=1):
        row = _("%(group)s, row %(number)d", group=field.label.text, number=number)
        if isinstance(entry, FormField):
            yield from _error_links(entry.form, row)
        else:
            yield from _field_links(entry, row)


def _field_links(field: Field, group: str | None) -> Iterator[ErrorLink]:
    """A single field's errors; a group of radio buttons or boxes links to its first one."""
    has_options = isinstance(field, RadioField | SelectMultipleField) and _renders_options(field)
    target = f"{field.id}-0" if has_options else field.id
    for message in field.errors:
        yield ErrorLink(target, _named(group, field.label.text), str(message))


def _renders_options(field: Field) -> bool:
    """Whether the field is shown as one control per choice (radio buttons, check boxes)."""
    return isinstance(field, RadioField) or getattr(field.option_widget, "input_type", "") in (
        "checkbox",
        "radio",
    )


def _named(group: str | None, label: str) -> str:
    """A field's name within its part of the form ("全日托 · 价格"), or the name alone."""
    return _("%(group)s · %(field)s", group=group, field=label) if group else str(label)
