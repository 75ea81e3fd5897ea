"""Helpers shared by the forms of every blueprint."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField as WTFormsDateField
from wtforms import Field, FieldList, Form, FormField, RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from careapp.form_messages import TranslatedMeta
from careapp.services.params import CONTROL_CHARACTER_MESSAGE, EARLIEST_DATE, LATEST_DATE


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
    """The base of every form on the site: text holding a NUL character is refused before
    any other check, because PostgreSQL cannot store it and no one types it. WTForms' own
    messages come from the site's catalogs (careapp.form_messages)."""

    class Meta(TranslatedMeta):
        """WTForms' messages in the request's language."""

    def validate(self, extra_validators=None) -> bool:
        """Refuse NUL characters in any field, then run the fields' own checks, then the
        form's checks across fields (``check_together``)."""
        refused = [field for field in _leaf_fields(self) if _holds_nul(field)]
        for field in refused:
            field.errors = [CONTROL_CHARACTER_MESSAGE]
        if refused:
            return False
        return self.check_together(super().validate(extra_validators))

    def check_together(self, fields_valid: bool) -> bool:
        """A form's checks across its fields, run only after every field's own checks (so
        never on a value those did not see); ``fields_valid``: whether those passed. Returns
        whether the form is valid. Forms override this, never ``validate``."""
        return fields_valid


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


def _holds_nul(field: Field) -> bool:
    """Whether any submitted value of ``field`` contains a NUL character."""
    return any(isinstance(value, str) and "\x00" in value for value in field.raw_data or ())


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
