"""Forms of the institution pages for places: slots, schedules, closed days and decisions."""

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from careapp.forms import DateField, SiteForm, choices
from careapp.institutions.forms import NUMERIC
from careapp.labels import CARE_TYPE_LABELS
from careapp.models import CareType

#: Shortest and longest block of hourly care a schedule may cut a day into (the model's check).
BLOCK_MINUTES = (30, 600)


class MultiCheckboxField(SelectMultipleField):
    """Several choices, shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _at_least_one_place(form: SiteForm, field: IntegerField) -> None:
    """At least one place (a number that could not be read is reported already)."""
    if field.data is not None and field.data < 1:
        raise ValidationError(_l("At least one place."))


def _block_length(form: SiteForm, field: IntegerField) -> None:
    """A block of hourly care within the model's bounds."""
    if field.data is not None and not BLOCK_MINUTES[0] <= field.data <= BLOCK_MINUTES[1]:
        raise ValidationError(
            _l(
                "A block lasts from %(min)d to %(max)d minutes.",
                min=BLOCK_MINUTES[0],
                max=BLOCK_MINUTES[1],
            )
        )


def _places_field() -> IntegerField:
    """A number of places, one or more."""
    return IntegerField(
        _l("Places"), validators=[InputRequired(), _at_least_one_place], render_kw=NUMERIC
    )


def _offer(form: SiteForm, classes: list, care_types: list[CareType]) -> None:
    """Fill the class and care type selects of ``form``."""
    form.care_class_id.choices = choices((c.id, c.name) for c in classes)
    form.care_type.choices = choices((t.value, CARE_TYPE_LABELS[t]) for t in care_types)


def _check_times(form: SiteForm, field: TimeField) -> None:
    """The end of a slot comes after its start."""
    starts_at = form.starts_at.data
    if starts_at is not None and field.data is not None and field.data <= starts_at:
        raise ValidationError(_l("The end must be after the start."))


class SlotForm(SiteForm):
    """One dated slot of a class, or the first day of standing places."""

    care_class_id = SelectField(_l("Class"), coerce=int, validators=[InputRequired()])
    care_type = SelectField(_l("Care type"), validators=[InputRequired()])
    on_date = DateField(_l("Date"), validators=[InputRequired()])
    starts_at = TimeField(_l("Start"), validators=[InputRequired()])
    ends_at = TimeField(_l("End"), validators=[InputRequired()])
    places = _places_field()

    def set_choices(self, classes: list, care_types: list[CareType]) -> None:
        """Offer the institution's classes and the care types it offers."""
        _offer(self, classes, care_types)

    def validate_ends_at(self, field: TimeField) -> None:
        """The end comes after the start."""
        _check_times(self, field)


class ScheduleForm(SiteForm):
    """A weekly pattern of hourly or temporary care for a class."""

    care_class_id = SelectField(_l("Class"), coerce=int, validators=[InputRequired()])
    care_type = SelectField(_l("Care type"), validators=[InputRequired()])
    weekdays = MultiCheckboxField(_l("Days of the week"))
    starts_at = TimeField(_l("Start"), validators=[InputRequired()])
    ends_at = TimeField(_l("End"), validators=[InputRequired()])
    block_minutes = IntegerField(
        _l("Length of each hourly block in minutes"),
        validators=[Optional(), _block_length],
        render_kw=NUMERIC,
    )
    places = _places_field()
    valid_from = DateField(_l("From"), validators=[InputRequired()])
    valid_until = DateField(_l("Until (optional)"), validators=[Optional()])

    def set_choices(self, classes: list, care_types: list[CareType]) -> None:
        """Offer the institution's classes, the care types and the days Monday to Sunday."""
        _offer(self, classes, care_types)
        # Babel numbers the days from Monday = 0; the model keeps ISO days, Monday = 1.
        names = get_day_names("wide", locale=get_locale())
        self.weekdays.choices = choices((str(day + 1), names[day]) for day in range(7))

    def validate_weekdays(self, field: MultiCheckboxField) -> None:
        """At least one day of the week."""
        if not field.data:
            raise ValidationError(_l("Choose at least one day of the week."))

    def validate_ends_at(self, field: TimeField) -> None:
        """The end comes after the start."""
        _check_times(self, field)

    def validate_valid_until(self, field: DateField) -> None:
        """The schedule ends on or after the day it starts."""
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The last day must not be before the first day."))

    def check_together(self, fields_valid: bool) -> bool:
        """The block length that hourly care needs."""
        valid = fields_valid
        # Here, not in a field validator: Optional() stops an empty field's own validators.
        block = self.block_minutes
        if self.care_type.data == CareType.HOURLY and block.data is None and not block.errors:
            block.errors.append(_l("Enter the length of each block of hourly care."))
            valid = False
        return valid

    def schedule_fields(self) -> dict:
        """The schedule as model values (blocks only for hourly care)."""
        care_type = CareType(self.care_type.data)
        return {
            "care_type": care_type,
            "weekdays": "".join(sorted(set(self.weekdays.data))),
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "block_minutes": self.block_minutes.data if care_type == CareType.HOURLY else None,
            "capacity": self.places.data,
            "valid_from": self.valid_from.data,
            "valid_until": self.valid_until.data,
        }


class SessionForm(SiteForm):
    """A named session of the day (上午 08:00–12:00) of a class's hourly or temporary care."""

    care_class_id = SelectField(_l("Class"), coerce=int, validators=[InputRequired()])
    care_type = SelectField(_l("Care type"), validators=[InputRequired()])
    name = StringField(_l("Name of the session"), validators=[DataRequired(), Length(max=40)])
    starts_at = TimeField(_l("Start"), validators=[InputRequired()])
    ends_at = TimeField(_l("End"), validators=[InputRequired()])

    def set_choices(self, classes: list, care_types: list[CareType]) -> None:
        """Offer the institution's classes and its hourly and temporary care."""
        _offer(self, classes, care_types)

    def validate_ends_at(self, field: TimeField) -> None:
        """The end comes after the start."""
        _check_times(self, field)


class SessionSlotsForm(SiteForm):
    """Slots of one session on each day of a range."""

    session_id = SelectField(_l("Session"), coerce=int, validators=[InputRequired()])
    first_day = DateField(_l("From"), validators=[InputRequired()])
    last_day = DateField(_l("Until"), validators=[InputRequired()])
    places = _places_field()

    def set_choices(self, sessions: list, class_names: dict[int, str]) -> None:
        """Offer the institution's sessions, named with their class and hours."""
        self.session_id.choices = choices(
            (
                s.id,
                " · ".join(
                    (
                        class_names.get(s.care_class_id, ""),
                        str(CARE_TYPE_LABELS[CareType(s.care_type)]),
                        f"{s.name} {s.starts_at:%H:%M}–{s.ends_at:%H:%M}",
                    )
                ),
            )
            for s in sessions
        )

    def validate_last_day(self, field: DateField) -> None:
        """The range ends on or after its first day."""
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("The last day must not be before the first day."))


class SlotPlacesForm(SiteForm):
    """A new number of places for one slot."""

    places = _places_field()


class CancelSlotForm(SiteForm):
    """Cancel one slot; the booked parents read the reason."""

    reason = StringField(_l("Reason for cancelling"), validators=[DataRequired(), Length(max=300)])


class CloseDayForm(SiteForm):
    """Mark a day closed (a holiday); its slots are cancelled."""

    on_date = DateField(_l("Closed on"), validators=[InputRequired()])
    reason = StringField(_l("Reason for closing"), validators=[DataRequired(), Length(max=120)])


class AttendanceForm(SiteForm):
    """Check a child in, or record that the child did not come."""

    present = SelectField(choices=choices([("1", "1"), ("0", "0")]), validators=[InputRequired()])


class DecisionForm(SiteForm):
    """Accept an application, or decline it with a reason the parent reads."""

    decision = SelectField(
        choices=choices([("accept", "accept"), ("decline", "decline")]),
        validators=[InputRequired()],
    )
    reason = StringField(_l("Reason for declining"), validators=[Length(max=300)])

    @property
    def accepts(self) -> bool:
        """Whether the application is accepted."""
        return self.decision.data == "accept"

    def validate_reason(self, field: StringField) -> None:
        """Declining needs a reason."""
        if self.decision.data == "decline" and not (field.data or "").strip():
            raise ValidationError(_l("Please give the reason; the parent will read it."))
