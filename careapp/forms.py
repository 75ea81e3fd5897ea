"""Helpers shared by the forms of every blueprint."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import DateField as WTFormsDateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from careapp.services.params import EARLIEST_DATE, LATEST_DATE


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
