"""Helpers shared by the forms of every blueprint."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField as WTFormsDateField
from wtforms import Field, FieldList, FormField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

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
    any other check, because PostgreSQL cannot store it and no one types it."""

    def validate(self, extra_validators=None) -> bool:
        """Refuse NUL characters in any field, then run the form's own checks."""
        refused = [field for field in _leaf_fields(self) if _holds_nul(field)]
        for field in refused:
            field.errors = [CONTROL_CHARACTER_MESSAGE]
        if refused:
            return False
        return super().validate(extra_validators)


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
